"""The figures' text alternatives (bookbuild/figures.py), on figures drawn here by
d2l_compat's own `plot`, `Animator` and `plot_histories` (the SVG a notebook's output
holds is the same matplotlib SVG) and histories as the results cell records them: the
numbers read back from a schedule's SVG, each kind of figure's sentence in two
languages with the chapter's own labels, the transparent background, and the figures
the build refuses to guess about."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

from bookbuild import figures  # noqa: E402
from bookbuild.landing import read_book_text  # noqa: E402
from d2l_compat._plotting import Animator, plot, plt  # noqa: E402
from d2l_compat.results import plot_histories  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 30


def warmup(t: int) -> float:
    """The chapter's CosineScheduler(20, warmup_steps=5, base_lr=0.2, final_lr=0.01)."""
    if t < 5:
        return 0.2 * t / 5
    if t < 20:
        return 0.01 + 0.19 * (1 + math.cos(math.pi * (t - 5) / 15)) / 2
    return 0.01


def history(final_loss: float, final_train: float, final_test: float) -> dict[str, list]:
    """A run's history as the results cell records it (the values end at the finals)."""
    ramp = [i / (EPOCHS - 1) for i in range(EPOCHS)]
    return {"lr": [warmup(t) for t in range(EPOCHS)],
            "train_loss": [2.3 + (final_loss - 2.3) * r for r in ramp],
            "train_acc": [0.1 + (final_train - 0.1) * r for r in ramp],
            "test_acc": [0.1 + (final_test - 0.1) * r for r in ramp]}


HISTORIES = {"constant": history(0.41, 0.85, 0.83), "cosine": history(0.30, 0.89, 0.88),
             "warmup": history(0.32, 0.88, 0.87)}


def svg_of(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")  # as the inline backend does
    plt.close(fig)
    return buffer.getvalue()


def schedule_svg(rates: list[float]) -> str:
    plot(list(range(len(rates))), rates, xlabel="epoch", ylabel="learning rate")
    return svg_of(plt.gcf())


def training_svg(h: dict[str, list]) -> str:
    """The Animator's final figure of a run, as the chapter's `train` draws it."""
    animator = Animator(xlabel="epoch", xlim=[0, EPOCHS],
                        legend=["train loss", "train acc", "test acc"])
    for epoch in range(EPOCHS):
        animator.add(epoch + 0.5, (h["train_loss"][epoch], h["train_acc"][epoch], None))
        animator.add(epoch + 1, (h["train_loss"][epoch], h["train_acc"][epoch],
                                 h["test_acc"][epoch]))
    return svg_of(animator.fig)


def page_labels(code: str) -> figures.Labels:
    source = (ROOT / "chapters" / code / "scheduler.md").read_text(encoding="utf-8")
    return figures.labels_of(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(source)]))


def test_a_schedule_is_read_back_from_its_svg() -> None:
    rates = [warmup(t) for t in range(EPOCHS)]
    [axes] = figures.read_svg(schedule_svg(rates))
    assert (axes.xlabel, axes.ylabel) == ("epoch", "learning rate")
    [line] = axes.lines
    assert [round(x, 6) for x, _ in line] == list(range(EPOCHS))
    assert all(math.isclose(y, r, abs_tol=1e-7) for (_, y), r in zip(line, rates, strict=True))


@pytest.mark.parametrize(("code", "expected"), ids=["en", "zh"], argvalues=[
    ("en", "TensorFlow, cosine with warmup schedule: the learning rate over epochs 0 to 29 "
           "starts at 0 and ends at 0.01; highest 0.2 (epoch 5), lowest 0 (epoch 0)."),
    ("zh", "TensorFlow，带预热的余弦调度：轮次 0 至 29 的学习率从 0 开始，到 0.01 结束；"
           "最高 0.2（轮次 5），最低 0（轮次 0）。"),
])
def test_a_schedules_text(code: str, expected: str) -> None:
    svg = schedule_svg([warmup(t) for t in range(EPOCHS)])
    code_cell = ("scheduler = CosineScheduler(20, warmup_steps=5, base_lr=0.2, final_lr=0.01)\n"
                 "lrs = [scheduler(t) for t in range(num_epochs)]\n"
                 "d2l.plot(d2l.arange(num_epochs), lrs, xlabel='epoch', ylabel='learning rate')")
    assert figures.alt_text(read_book_text(code, ROOT), page_labels(code), "TensorFlow",
                            code_cell, svg, HISTORIES) == expected


@pytest.mark.parametrize(("code", "expected"), ids=["en", "ko"], argvalues=[
    ("en", "PyTorch, run “cosine”: after 30 epochs, train loss 0.30, train accuracy 0.89 "
           "and test accuracy 0.88."),
    ("ko", "PyTorch, 실행 ‘코사인’: 30 에포크 후 훈련 손실 0.30, 훈련 정확도 0.89 및 "
           "테스트 정확도 0.88."),
])
def test_a_training_runs_text(code: str, expected: str) -> None:
    code_cell = ("histories['cosine'] = train(net_fn, train_iter, test_iter, num_epochs, lr,\n"
                 "                              scheduler)")
    assert figures.alt_text(read_book_text(code, ROOT), page_labels(code), "PyTorch",
                            code_cell, training_svg(HISTORIES["cosine"]), HISTORIES) == expected


@pytest.mark.parametrize(("code", "expected"), ids=["en", "pt"], argvalues=[
    ("en", "MXNet, test accuracy and train loss per epoch of the runs constant, cosine and "
           "warmup. Highest final test accuracy: cosine (0.88)."),
    ("pt", "MXNet, acurácia de teste e perda de treinamento por época; execuções: "
           "constante, cosseno e aquecimento. Maior acurácia de teste final: cosseno (0,88)."),
])
def test_the_results_text(code: str, expected: str) -> None:
    svg = svg_of(plot_histories(HISTORIES))
    assert figures.alt_text(read_book_text(code, ROOT), page_labels(code), "MXNet",
                            "d2l.show_results(histories)", svg, HISTORIES) == expected


def test_a_tie_names_every_best_run() -> None:
    tied = dict(HISTORIES, constant=history(0.41, 0.85, 0.88))
    alt = figures.alt_text(read_book_text("en", ROOT), page_labels("en"), "MXNet",
                           "d2l.show_results(histories)", svg_of(plot_histories(tied)), tied)
    assert alt.endswith("Highest final test accuracy: constant and cosine (0.88).")


def test_the_page_gets_alt_classes_and_a_transparent_background() -> None:
    svg = training_svg(HISTORIES["warmup"])
    assert len(re.findall(r'style="fill: #ffffff"', svg)) == 2  # figure and axes
    cell = nbformat.v4.new_code_cell(
        "histories['warmup'] = train(net_fn, train_iter, test_iter, num_epochs, lr)",
        outputs=[nbformat.v4.new_output("display_data", data={
            figures.SVG: svg, "text/plain": "<Figure>"})])
    cell.metadata["d2l_tabs"] = {"framework": "pytorch", "group": 3}
    source = (ROOT / "chapters" / "tr" / "scheduler.md").read_text(encoding="utf-8")
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source), cell])
    figures.describe(page, read_book_text("tr", ROOT), {"pytorch": HISTORIES}, lang="tr")
    image = page.cells[1].metadata["mystnb"]["image"]
    assert image == {"alt": "PyTorch, “ısınma” çalıştırması: 30 dönemden sonra eğitim kaybı "
                            "0,32, eğitim doğruluğu 0,88 ve test doğruluğu 0,87.",
                     "classes": "d2l-figure dark-light"}
    drawn = page.cells[1].outputs[0]["data"][figures.SVG]
    assert 'style="fill: #ffffff"' not in drawn
    assert drawn.count('style="fill: none"') == svg.count('style="fill: none"') + 2
    assert "fill: #ffffff; opacity: 0.8" in drawn  # the legend's box stays


def test_lists_and_numbers_follow_the_pages_language() -> None:
    """CLDR's list patterns and decimal marks (Babel), not one rule for every language."""
    en, zh, id_, pt = (read_book_text(code, ROOT) for code in ("en", "zh", "id", "pt"))
    assert en.listing(["a"]) == "a"
    assert en.listing(["a", "b"]) == "a and b"
    assert en.listing(["a", "b", "c", "d"]) == "a, b, c and d"  # British: no serial comma
    assert zh.listing(["甲", "乙", "丙"]) == "甲、乙和丙"
    # a Han joiner next to a digit or Latin letter is spaced, as the zh prose writes it
    assert zh.listing(["0.20", "0.30"]) == "0.20 和 0.30"
    assert zh.listing(["PyTorch", "余弦", "0.5"]) == "PyTorch、余弦和 0.5"
    assert id_.listing(["a", "b", "c"]) == "a, b, dan c"
    assert (en.number(0.25, "0.00"), pt.number(0.25, "0.00")) == ("0.25", "0,25")
    assert [pt.number(v, "@##") for v in (0.2, 0.0183, 2, 0)] == ["0,2", "0,0183", "2", "0"]
    assert en.number(float("nan"), "0.00") == "nan"


def test_what_it_cannot_read_stops_the_build() -> None:
    en, labels = read_book_text("en", ROOT), page_labels("en")
    plot(list(range(10)), [10.0 ** -t for t in range(10)], xlabel="epoch",
         ylabel="learning rate", yscale="log")
    with pytest.raises(figures.FigureError, match="tick label"):
        figures.alt_text(en, labels, "MXNet", "scheduler = FactorScheduler()\nd2l.plot(...)",
                         svg_of(plt.gcf()), HISTORIES)
    plot(list(range(5)), [1, 2, 3, 4, 5], xlabel="epoch", ylabel="weight")
    with pytest.raises(figures.FigureError, match="'weight'"):
        figures.alt_text(en, labels, "MXNet", "d2l.plot(x, y)", svg_of(plt.gcf()), HISTORIES)
    with pytest.raises(figures.FigureError, match="no scheduler the build knows"):
        figures.alt_text(en, labels, "MXNet", "scheduler = MyScheduler()\nd2l.plot(...)",
                         schedule_svg([0.1] * 5), HISTORIES)
    other = dict(HISTORIES, cosine=history(0.5, 0.8, 0.7))  # not the run drawn
    with pytest.raises(figures.FigureError, match="ends its train_loss line at 0.3"):
        figures.alt_text(en, labels, "MXNet", "histories['cosine'] = train(net_fn)",
                         training_svg(HISTORIES["cosine"]), other)
