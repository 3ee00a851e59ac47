"""The figures' and the results table's words in the page's language
(bookbuild/figure_text.py), on figures drawn here by d2l_compat's own `plot`, `Animator`
and `plot_histories` (the SVG a notebook's output holds): each axis label and legend
entry becomes a <text> in the page's words at matplotlib's anchor, the tick labels and
every glyph a later text uses stay, a legend grows by its words' measured width, the
figure still reads back as before, and a word without a translation stops the build."""

from __future__ import annotations

import re
from xml.dom import minidom

import matplotlib
import pytest

matplotlib.use("Agg")

from bookbuild import figure_text, figures  # noqa: E402
from bookbuild.landing import read_book_text  # noqa: E402
from d2l_compat.results import plot_histories, results_table  # noqa: E402
from tests.test_figures import (  # noqa: E402
    EPOCHS,
    HISTORIES,
    ROOT,
    page_labels,
    schedule_svg,
    svg_of,
    training_svg,
    warmup,
)


def words(code: str) -> dict[str, str]:
    return figure_text.page_words(read_book_text(code, ROOT), page_labels(code),
                                  source=code == "en")


def groups(svg: str) -> dict[str, minidom.Element]:
    """Every <g> of `svg` with an id, by id."""
    return {g.getAttribute("id"): g
            for g in minidom.parseString(svg).getElementsByTagName("g")
            if g.getAttribute("id")}


def texts(svg: str) -> dict[str, minidom.Element]:
    """The <text> the build drew, by what it says."""
    return {t.firstChild.data: t for t in minidom.parseString(svg).getElementsByTagName("text")}


def xs(path_d: str) -> list[float]:
    return [float(x) for x, _ in figure_text._PAIR.findall(path_d)]


def box(svg: str, group_id: str) -> tuple[float, float]:
    """(left, right) of the first path under the group `group_id`."""
    path = groups(svg)[group_id].getElementsByTagName("path")[0]
    return min(xs(path.getAttribute("d"))), max(xs(path.getAttribute("d")))


def test_a_training_figure_speaks_the_pages_language() -> None:
    english = training_svg(HISTORIES["cosine"])
    svg = figure_text.localize_svg(english, words("ko"), "ko")
    shown = texts(svg)
    assert set(shown) == {"에포크", "훈련 손실", "훈련 정확도", "테스트 정확도"}
    assert all(t.getAttribute("xml:lang") == "ko" for t in shown.values())
    # the replaced texts draw no glyphs of their own; the tick labels keep theirs
    before, after = groups(english), groups(svg)
    for name, group in after.items():
        uses = len(group.getElementsByTagName("use"))
        if name.startswith("text_") and group.getElementsByTagName("text"):
            assert uses == 0, name
        elif name.startswith(("xtick_", "ytick_")):
            assert uses == len(before[name].getElementsByTagName("use")), name
    # every glyph still used is still defined (a replaced text may have defined it)
    defined = set(re.findall(r'<path id="([^"]+)"', svg))
    assert set(re.findall(r'xlink:href="#(DejaVuSans-[^"]+)"', svg)) <= defined
    # and the figure reads back as before: its text alternative does not change
    assert figures.read_svg(svg) == figures.read_svg(english)


def test_a_kept_text_keeps_the_glyphs_a_replaced_one_defined() -> None:
    english = schedule_svg([warmup(t) for t in range(EPOCHS)])
    # matplotlib defines the glyphs of "epoch" in the x label, and the y label
    # ("learning rate") uses its "e"
    labels = [g for g in groups(english).values()
              if g.getAttribute("id").startswith("text_")
              and g.parentNode.getAttribute("id").startswith("matplotlib.axis_")]
    xlabel, ylabel = (g.toxml() for g in labels)
    assert "<!-- epoch -->" in xlabel and "<!-- learning rate -->" in ylabel
    shared = (set(re.findall(r'<path id="([^"]+)"', xlabel))
              & set(re.findall(r'xlink:href="#([^"]+)"', ylabel)))
    assert shared
    kept = {word: word for word in words("en")} | {"epoch": "Epoche"}
    svg = figure_text.localize_svg(english, kept, "de")
    assert set(texts(svg)) == {"Epoche"}
    used = set(re.findall(r'xlink:href="#(DejaVuSans-[^"]+)"', svg))
    assert used and used <= set(re.findall(r'<path id="([^"]+)"', svg))


def tick_glyphs(svg: str) -> list[tuple[str, list[str]]]:
    """(label as matplotlib wrote it, glyph ids drawn) of every tick label of `svg`."""
    found = []
    for group in minidom.parseString(svg).getElementsByTagName("g"):
        if group.getAttribute("id").startswith("text_") and \
                group.parentNode.getAttribute("id").startswith(("xtick_", "ytick_")):
            comment = next(c for c in group.childNodes if c.nodeType == c.COMMENT_NODE)
            found.append((comment.data.strip(), [u.getAttribute("xlink:href")[1:] for u in
                                                 group.getElementsByTagName("use")]))
    return found


def test_tick_labels_take_the_pages_decimal_mark() -> None:
    english = training_svg(HISTORIES["cosine"])
    period, comma = figure_text._glyph(".")[0], figure_text._glyph(",")[0]
    before = tick_glyphs(english)
    assert any("." in label for label, _ in before)
    svg = figure_text.localize_svg(english, words("tr"), "tr", decimal=",")
    after = tick_glyphs(svg)
    assert [label for label, _ in after] == [label for label, _ in before]
    for (label, old), (_, new) in zip(before, after, strict=True):
        # the same glyphs in the same places, the comma's where the period was
        assert new == [comma if g == period else g for g in old], label
        assert period not in new
    assert len(re.findall(f'<path id="{comma}"', svg)) == 1  # defined once
    # the English page's figure keeps its bytes
    assert figure_text.localize_svg(english, words("en"), "en", decimal=".") == english


def test_labels_keep_their_anchor() -> None:
    english = schedule_svg([warmup(t) for t in range(EPOCHS)])
    svg = figure_text.localize_svg(english, words("pt"), "pt-BR")
    shown = texts(svg)
    axes = groups(english)["patch_2"].getElementsByTagName("path")[0].getAttribute("d")
    left, right = min(xs(axes)), max(xs(axes))
    heights = [float(y) for _, y in figure_text._PAIR.findall(axes)]
    xlabel, ylabel = shown["época"], shown["taxa de aprendizado"]
    # the x label centred under the axes, the y label rotated and centred beside them
    assert "text-anchor: middle" in xlabel.getAttribute("style")
    assert float(xlabel.getAttribute("x")) == pytest.approx((left + right) / 2, abs=0.01)
    assert "text-anchor: middle" in ylabel.getAttribute("style")
    x, y = float(ylabel.getAttribute("x")), float(ylabel.getAttribute("y"))
    assert ylabel.getAttribute("transform") == f"rotate(-90 {x:.6g} {y:.6g})"
    assert y == pytest.approx((min(heights) + max(heights)) / 2, abs=0.01)
    assert x < left  # left of the axes, where matplotlib put it
    assert float(xlabel.getAttribute("y")) > max(heights)  # under the axes


def test_a_legend_with_wider_words_grows_by_their_measured_width() -> None:
    english = training_svg(HISTORIES["cosine"])
    svg = figure_text.localize_svg(english, words("tr"), "tr")
    legend = [t for t in texts(svg).values() if "text-anchor: start" in t.getAttribute("style")]
    size = float(re.search(r"font-size: ([\d.]+)px", legend[0].getAttribute("style"))[1])
    wider = (max(figure_text.text_width(t.firstChild.data, size) for t in legend)
             - max(figure_text.text_width(w, size)
                   for w in ("train loss", "train acc", "test acc")))
    assert wider > 20  # "eğitim doğruluğu" is much wider than "train acc"
    (old_left, old_right), (new_left, new_right) = (box(english, "patch_7"),
                                                      box(svg, "patch_7"))
    # it sits against the axes' right edge: it keeps that edge and grows to the left,
    # its entries moving along
    assert new_right == pytest.approx(old_right)
    assert old_left - new_left == pytest.approx(wider, abs=1e-3)
    entries = [g for name, g in groups(svg).items()
               if name.startswith(("text_", "line2d_"))
               and g.parentNode.getAttribute("id") == "legend_1"]
    assert len(entries) == 6
    assert {g.getAttribute("transform") for g in entries} == {f"translate({-wider:.6g} 0)"}


def test_a_legend_with_narrower_words_keeps_its_frame() -> None:
    english = svg_of(plot_histories(HISTORIES))
    svg = figure_text.localize_svg(english, words("zh"), "zh-CN")
    assert {"固定", "余弦", "预热", "测试准确率", "训练损失", "轮"} <= set(texts(svg))
    legend = next(name for name in groups(svg) if name.startswith("legend_"))
    frame = next(name for name, g in groups(svg).items()
                 if name.startswith("patch_") and g.parentNode.getAttribute("id") == legend)
    assert box(svg, frame) == box(english, frame)


def test_the_english_page_keeps_the_figure_as_drawn() -> None:
    english = training_svg(HISTORIES["cosine"])
    assert figure_text.localize_svg(english, words("en"), "en") == english


def test_a_word_without_a_translation_stops_the_build() -> None:
    english = schedule_svg([warmup(t) for t in range(EPOCHS)])
    without = {k: v for k, v in words("ko").items() if k != "learning rate"}
    with pytest.raises(figure_text.FigureError, match="'learning rate'.*no translation"):
        figure_text.localize_svg(english, without, "ko")
    with pytest.raises(figure_text.FigureError, match="'learning rate'.*no translation"):
        figure_text.localize_svg(english, {k: k for k in without}, "en")


def test_text_width_measures_the_figures_font_and_full_width_characters() -> None:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    epoch = text_to_path.get_text_width_height_descent(
        "epoch", FontProperties(family="DejaVu Sans", size=10), ismath=False)[0]
    assert figure_text.text_width("epoch", 10) == pytest.approx(epoch)
    assert figure_text.text_width("학습률", 10) == pytest.approx(30)
    assert figure_text.text_width("轮 epoch", 10) > figure_text.text_width(" epoch", 10) + 9.9


def test_the_results_table_names_its_columns_and_runs_in_the_pages_language() -> None:
    html = results_table(HISTORIES).to_html(classes="dataframe")
    tr = read_book_text("tr", ROOT)
    table = figure_text.localize_table(html, words("tr"), tr)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert [h for h in headers if h] == [
        "eğitim kaybı", "eğitim doğruluğu", "test doğruluğu", "en iyi test doğruluğu",
        "en iyi dönem", "eğitim-test doğruluk boşluğu", "çizelge", "sabit", "kosinüs",
        "ısınma"]
    english = figure_text.localize_table(html, words("en"), read_book_text("en", ROOT))
    assert english == str(figure_text.BeautifulSoup(html, "html.parser"))
    with pytest.raises(figure_text.FigureError, match="'best epoch'"):
        figure_text.localize_table(html, {k: v for k, v in words("tr").items()
                                          if k != "best epoch"}, tr)


def test_the_results_tables_numbers_take_the_pages_decimal_mark() -> None:
    html = results_table(HISTORIES).to_html(classes="dataframe")
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert any("." in c for c in cells)
    for code, mark in [("en", "."), ("tr", ","), ("pt", ","), ("id", ","), ("zh", "."),
                       ("ko", ".")]:
        table = figure_text.localize_table(html, words(code), read_book_text(code, ROOT))
        shown = re.findall(r"<td>([^<]*)</td>", table)
        # the same numbers with the same decimals, only the mark differs
        assert shown == [c.replace(".", mark) for c in cells], code
    # a value written another way stops the build rather than keep its point unseen
    odd = html.replace(f"<td>{cells[0]}</td>", "<td>85.2%</td>", 1)
    with pytest.raises(figure_text.FigureError, match="'85.2%'"):
        figure_text.localize_table(odd, words("tr"), read_book_text("tr", ROOT))


@pytest.mark.parametrize("code", ["ko", "id", "tr", "pt", "zh"])
def test_the_glossary_check_reads_every_word_the_figures_and_table_show(code: str) -> None:
    # The figures' and table's words are explorer labels and book.yml lines, both of
    # which tests/test_glossary.py (bookbuild.glossary.page_text) holds to the glossary.
    from bookbuild import glossary
    from bookbuild.sources import sphinx_explorers

    checked = [text for _, text in glossary.page_text(code, ROOT, sphinx_explorers())]
    missing = [word for word in words(code).values() if word not in checked]
    assert not missing, f"{code}: words the glossary check never reads: {missing}"
