"""The page's kernel-free results explorer (sphinxext/results_explorer.py and
static/results-explorer.js), without a browser: the data contract's checks, what the page
draws from the data (the train-test gap, the epochs where the learning rate drops, the
range over seeds), the markup, the directive's errors (a missing label, the config value
unset, the file missing or broken), the chapter sources (every language labels the
explorer in its own words, right after the results widget cell; notebooks leave it out),
and every language's built page embedding the same data. In headless Chromium:
tests/browser/test_results_explorer_page.py.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from myst_parser.parsers.directives import parse_directive_text
from sphinx.testing.util import SphinxTestApp

from bookbuild import vocabulary
from bookbuild.notebooks import chapter_sources, notebook_path
from bookbuild.vocabulary import FRAMEWORK_TAGS, FRAMEWORKS, LANGUAGES, RUNS
from sphinxext import results_explorer as rx

ROOT = Path(__file__).resolve().parent.parent
EXPLORER = "[data-d2l-results-explorer]"
METRICS = [metric for metric, _ in rx.METRICS]
LABELS = dict(FRAMEWORKS)


# --- data made up for the unit tests --------------------------------------------------

def history(n: int = 4, shift: float = 0.0, lr: list[float] | None = None) -> dict:
    return {"lr": lr or [0.2] * n,
            "train_loss": [1.0 - 0.1 * t + shift for t in range(n)],
            "train_acc": [0.5 + 0.1 * t + shift for t in range(n)],
            "test_acc": [0.45 + 0.1 * t - shift for t in range(n)]}


def contract(spread: bool = True) -> dict:
    """A results file as the build writes it (with the extra keys it adds)."""
    runs = list(RUNS)
    data = {"runs": runs, "frameworks": list(FRAMEWORK_TAGS),
            "histories": {fw: {run: history() for run in runs} for fw in FRAMEWORK_TAGS},
            "spread": None}
    if spread:
        data["spread"] = {"seeds": [0, 1, 2], "date": "2026-01-01", "stale": False,
                          "histories": {fw: {str(s): {run: history(shift=0.01 * s)
                                                      for run in runs}
                                             for s in (0, 1, 2)}
                                        for fw in FRAMEWORK_TAGS}}
    return data


def english_labels() -> dict[str, str]:
    [(options, _)] = chapter_explorers("en")
    return options


# --- the data contract -----------------------------------------------------------------

def test_history_keys_are_what_train_returns() -> None:
    from d2l_compat.results import HISTORY_KEYS

    assert vocabulary.HISTORY_KEYS == rx.HISTORY_KEYS == HISTORY_KEYS


def test_every_run_has_a_colour_in_both_themes_and_a_dash_pattern() -> None:
    # the explorer gives the k-th run the class d2l-results-c<k>; a run without its rule
    # would be drawn in no colour
    css = (Path(rx.__file__).parent / "static" / "results-explorer.css").read_text(
        encoding="utf-8")
    for k in range(len(RUNS)):
        assert len(re.findall(rf"--d2l-results-run-{k}: #[0-9a-f]{{6}};", css)) == 2, k
        assert re.search(rf"\.d2l-results-c{k} {{ --d2l-run: var\(--d2l-results-run-{k}\); "
                         r"--d2l-dash: [^;]+; }", css), k


def test_the_builds_data_pass_and_non_finite_numbers_become_none() -> None:
    data = contract()
    data["histories"]["pytorch"]["cosine"]["train_loss"][2] = math.nan
    data["histories"]["pytorch"]["cosine"]["test_acc"][3] = math.inf
    checked = rx.check_results(json.loads(json.dumps(data)))
    cosine = checked["histories"]["pytorch"]["cosine"]
    assert cosine["train_loss"][2] is None and cosine["test_acc"][3] is None
    assert cosine["lr"] == [0.2] * 4
    assert checked["spread"]["seeds"] == [0, 1, 2]
    assert rx.check_results(contract(spread=False))["spread"] is None


def _break(change: Callable[[dict], object]) -> dict:
    data = contract()
    change(data)
    return data


@pytest.mark.parametrize(("data", "message"), [
    (_break(lambda d: d.update(runs=["constant", "linear"])), "runs"),
    (_break(lambda d: d.update(runs=[])), "runs"),
    (_break(lambda d: d.update(frameworks=["jax"])), "frameworks"),
    (_break(lambda d: d["histories"].pop("mxnet")), "histories.mxnet"),
    (_break(lambda d: d["histories"]["mxnet"].pop("cosine")), "histories.mxnet.cosine"),
    (_break(lambda d: d["histories"]["mxnet"]["cosine"].pop("lr")), "lacks lr"),
    (_break(lambda d: d["histories"]["mxnet"]["cosine"]["lr"].pop()), "one value per epoch"),
    (_break(lambda d: d["histories"]["tensorflow"]["warmup"]["test_acc"].__setitem__(1, "0.5")),
     "histories.tensorflow.warmup.test_acc[1]"),
    (_break(lambda d: d["histories"]["tensorflow"]["warmup"].update(lr=[])), "non-empty"),
    (_break(lambda d: d["spread"].update(seeds="0-4")), "spread.seeds"),
    (_break(lambda d: d["spread"]["histories"]["pytorch"].update({"7": {}})), "seeds ['7']"),
    (_break(lambda d: d["spread"]["histories"].update(jax={})), "frameworks ['jax']"),
    (_break(lambda d: d["spread"]["histories"]["pytorch"]["1"].update(cosine=history(n=5))),
     "spread.histories.pytorch.1.cosine: 5 epochs"),
    ([], "the results"),
])
def test_data_that_break_the_contract_are_named(data: object, message: str) -> None:
    with pytest.raises(rx.ResultsDataError, match=re.escape(message)):
        rx.check_results(data)


def test_a_partial_spread_draws_what_is_there() -> None:
    """A seed-spread measurement still under way: one framework, a run on one seed only."""
    data = contract()
    data["spread"]["histories"] = {"mxnet": data["spread"]["histories"]["mxnet"]}
    for seed in ("1", "2"):
        del data["spread"]["histories"]["mxnet"][seed]["warmup"]
    page = rx.page_data(rx.check_results(data))
    assert list(page["bands"]) == ["mxnet"]
    assert set(page["bands"]["mxnet"]) == set(RUNS) - {"warmup"}  # a range needs two seeds


# --- what the page draws ---------------------------------------------------------------

def test_page_data_derives_gap_drops_and_bands() -> None:
    data = contract()
    sqrt_lr = [0.2 * (t + 1) ** -0.5 for t in range(4)]
    data["histories"]["mxnet"]["square root"]["lr"] = sqrt_lr
    data["histories"]["mxnet"]["warmup"]["lr"] = [0.0, 0.1, 0.2, 0.1]
    data["histories"]["mxnet"]["cosine"]["train_acc"][1] = None
    page = rx.page_data(rx.check_results(data))
    assert page["metrics"] == METRICS and page["runs"] == list(RUNS)
    mx = page["series"]["mxnet"]
    h = data["histories"]["mxnet"]["constant"]
    assert mx["constant"]["gap"] == [a - b for a, b in zip(h["train_acc"], h["test_acc"],
                                                          strict=True)]
    assert mx["cosine"]["gap"][1] is None  # no train accuracy, no gap
    assert mx["square root"]["lr"] == sqrt_lr
    assert page["drops"]["mxnet"] == {"constant": [], "square root": [2, 3, 4],
                                      "multi factor": [], "cosine": [], "warmup": [4]}
    low, high = page["bands"]["pytorch"]["constant"]["test_acc"]
    assert low == [0.45 + 0.1 * t - 0.02 for t in range(4)]
    assert high == [0.45 + 0.1 * t for t in range(4)]
    gap_low, gap_high = page["bands"]["pytorch"]["constant"]["gap"]
    assert gap_low == [history()["train_acc"][t] - history()["test_acc"][t] for t in range(4)]
    assert gap_high[0] == pytest.approx(0.05 + 0.04)
    assert page["seeds"] == [0, 1, 2]
    without = rx.page_data(rx.check_results(contract(spread=False)))
    assert without["bands"] is None and without["seeds"] == []


def test_lr_drops_are_strict_decreases_between_known_rates() -> None:
    assert rx.lr_drops([0.2, 0.2, 0.1, 0.1, 0.05]) == [3, 5]
    assert rx.lr_drops([0.0, 0.04, 0.2, 0.19]) == [4]
    assert rx.lr_drops([0.2, None, 0.1, 0.05]) == [4]
    assert rx.lr_drops([0.2]) == []


# --- the markup ------------------------------------------------------------------------

def test_markup_labels_every_control_and_embeds_the_data() -> None:
    labels = english_labels()
    data = rx.page_data(rx.check_results(contract()))
    soup = BeautifulSoup(rx.explorer_html("x-1", labels, data), "html.parser")
    root = soup.select_one(EXPLORER)
    assert json.loads(root.select_one("script.d2l-results-data").string) == data
    # every form control has a label: a <label for>, or its own <label> around it
    for control in root.select("select, input"):
        named = root.select_one(f"label[for='{control.get('id')}']") if control.get("id") \
            else control.find_parent("label")
        assert named is not None and named.get_text(strip=True), control
    metric = root.select_one("select[name=metric]")
    assert [o["value"] for o in metric.select("option")] == METRICS
    assert [o.get_text() for o in metric.select("option")] == [
        labels[option] for _, option in rx.METRICS]
    assert [o.get_text() for o in root.select("select[name=framework] option")] == [
        label for _, label in FRAMEWORKS]
    boxes = root.select("input[name=run]")
    assert [b["value"] for b in boxes] == list(RUNS)
    assert all(b.has_attr("checked") for b in boxes)
    assert [b.find_parent("label").get_text(strip=True) for b in boxes] == [
        labels[rx.run_option(run)] for run in RUNS]
    group = root.select_one("[role=group]")
    assert root.select_one(f"#{group['aria-labelledby']}").get_text() == labels["runs"]
    band = root.select_one("input[name=band]")
    assert band.has_attr("checked") and not band.has_attr("disabled")
    assert root.select_one(f"#{band['aria-describedby']}").has_attr("hidden")
    chart = root.select_one("svg.d2l-results-chart")
    assert chart["role"] == "img"
    assert labels["chart"] in root.select_one(f"#{chart['aria-labelledby']}").get_text()
    epoch = root.select_one("input[name=epoch]")
    assert (epoch["min"], epoch["max"], epoch["value"]) == ("1", "4", "4")
    # not live: each slider step would announce every run's value (twice, with the
    # <output>'s implicit status role)
    assert not root.select_one(".d2l-results-readout").has_attr("aria-live")
    assert root.select_one("output")["aria-live"] == "off"


def test_markup_without_spread_disables_the_band_and_says_why() -> None:
    labels = english_labels()
    data = rx.page_data(rx.check_results(contract(spread=False)))
    soup = BeautifulSoup(rx.explorer_html("x-2", labels, data), "html.parser")
    band = soup.select_one("input[name=band]")
    assert band.has_attr("disabled") and not band.has_attr("checked")
    note = soup.select_one(f"#{band['aria-describedby']}")
    assert not note.has_attr("hidden") and note.get_text() == labels["no-spread"]


def test_labels_are_escaped_and_the_data_cannot_end_their_script() -> None:
    labels = {**english_labels(), "runs": "<b>runs</b> & more", "chart": 'say "hi"'}
    html = rx.explorer_html("x-3", labels, rx.page_data(rx.check_results(contract())))
    assert "<b>runs</b>" not in html and "&lt;b&gt;runs&lt;/b&gt; &amp; more" in html
    text = rx._script_json({"label": "</script><script>alert(1)</script>"})
    assert "<" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script>"}


# --- the directive in a Sphinx build ----------------------------------------------------

def directive_block(code: str) -> str:
    """The chapter source's explorer directive, as written there."""
    text = (ROOT / "chapters" / code / "scheduler.md").read_text(encoding="utf-8")
    start = text.index(f":::{{{rx.NAME}}}")
    return text[start:text.index("\n:::\n", start) + 5]


def sphinx_build(tmp: Path, body: str, results: str | None, extensions: list[str],
                 extra_conf: str = "") -> tuple[str, str]:
    """Build `body` (MyST) as the index page of a project in `tmp` with
    `d2l_results_file` set to `results` (unset if None); returns (the page's HTML, the
    warnings)."""
    src = tmp / "src"
    src.mkdir(parents=True, exist_ok=True)
    conf = [f"extensions = {extensions!r}", "myst_enable_extensions = ['colon_fence']",
            extra_conf]
    if results is not None:
        conf.append(f"d2l_results_file = {results!r}")
    (src / "conf.py").write_text("\n".join(conf) + "\n", encoding="utf-8")
    (src / "index.md").write_text(body, encoding="utf-8")
    warnings = io.StringIO()
    # SphinxTestApp undoes the global registrations of every build (directives, nodes),
    # so that builds in one process do not warn about each other's
    app = SphinxTestApp("html", srcdir=src, builddir=tmp / "build", freshenv=True,
                        status=io.StringIO(), warning=warnings)
    try:
        app.build()
    finally:
        app.cleanup()
    return (app.outdir / "index.html").read_text(encoding="utf-8"), warnings.getvalue()


UNIT_EXTENSIONS = ["myst_parser", "sphinxext.results_explorer"]


def test_directive_renders_the_chapters_block(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(contract()), encoding="utf-8")
    page, warnings = sphinx_build(tmp_path, "# Page\n\n" + directive_block("en"),
                                  "../results.json", UNIT_EXTENSIONS)
    assert not warnings
    root = BeautifulSoup(page, "html.parser").select_one(EXPLORER)
    assert json.loads(root.select_one("script").string) == rx.page_data(
        rx.check_results(contract()))
    assert "the runs this book" in root.find_parent(class_="d2l-results-explorer").get_text()


@pytest.mark.parametrize(("results", "expected"), [
    (None, "config value d2l_results_file is not set"),
    ("missing.json", "cannot read the results file"),
    ("broken.json", "not JSON"),
    ("bad.json", "histories.mxnet: expected an object"),
])
def test_directive_without_usable_data_names_the_config_value(
        tmp_path: Path, results: str | None, expected: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "src" / "bad.json").write_text(
        json.dumps({**contract(), "histories": {"mxnet": 1}}), encoding="utf-8")
    _, warnings = sphinx_build(tmp_path, directive_block("en"), results, UNIT_EXTENSIONS)
    assert expected in warnings and rx.NAME in warnings
    assert rx.CONFIG in warnings


def test_directive_names_a_missing_label(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(contract()), encoding="utf-8")
    block = "\n".join(line for line in directive_block("en").split("\n")
                      if not line.startswith((":lr-drops:", ":run-cosine:")))
    _, warnings = sphinx_build(tmp_path, block, "../results.json", UNIT_EXTENSIONS)
    assert "missing label option(s) run-cosine, lr-drops" in warnings


# --- the chapter sources ---------------------------------------------------------------

_parser = MarkdownIt("commonmark").use(colon_fence_plugin)


def chapter_explorers(code: str) -> list[tuple[dict[str, str], str]]:
    """(options, body) of every results explorer in the chapter source of `code`, read
    with MyST's own directive parser (which rejects unknown options)."""
    text = (ROOT / "chapters" / code / "scheduler.md").read_text(encoding="utf-8")
    found = []
    for token in _parser.parse(text):
        if token.type == "colon_fence" and token.info.strip() == f"{{{rx.NAME}}}":
            result = parse_directive_text(rx.ResultsExplorer, "", token.content)
            assert not result.warnings, f"{code}: {rx.NAME}: {result.warnings}"
            found.append((result.options, "\n".join(result.body).strip()))
    return found


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_chapter_labels_every_option_in_its_language(code: str) -> None:
    """Every label, in the order of OPTIONS; the help text and most labels in the page's
    language (a word may stay as in English, e.g. "epoch" in Indonesian)."""
    [(options, body)] = chapter_explorers(code)
    assert list(options) == list(rx.OPTIONS)
    assert all(value.strip() for value in options.values()) and body
    if code != "en":
        [(en_options, en_body)] = chapter_explorers("en")
        assert body != en_body, f"{code}: the help text is not translated"
        same = [key for key, value in options.items() if value == en_options[key]]
        assert len(same) <= len(options) // 4, f"{code}: labels left in English: {same}"


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_chapter_places_it_after_the_results_widget_cell(code: str) -> None:
    text = (ROOT / "chapters" / code / "scheduler.md").read_text(encoding="utf-8")
    results = text.index("d2l.show_results(histories)")
    widget = text.index("    show_runs,", results)
    fence_end = text.index("\n```\n", widget) + len("\n```\n")
    assert text[fence_end:].lstrip("\n").startswith(f":::{{{rx.NAME}}}")


def test_generated_notebooks_leave_it_out() -> None:
    for source in chapter_sources(ROOT):
        for fw in FRAMEWORK_TAGS:
            text = notebook_path(source, fw).read_text(encoding="utf-8")
            assert rx.NAME not in text and ":lr-drops:" not in text, (source, fw)


# --- on the built book -----------------------------------------------------------------

def test_every_language_shows_its_labels_and_the_same_data(build) -> None:
    html_dir, _ = build
    data = rx.page_data(rx.read_results(html_dir.parent / "pages" / "results.json"))
    for lang in LANGUAGES:
        soup = BeautifulSoup((html_dir / lang.code / "chapters" / lang.code / "scheduler.html")
                             .read_text(encoding="utf-8"), "html.parser")
        [root] = soup.select(EXPLORER)
        [(labels, body)] = chapter_explorers(lang.code)
        assert json.loads(root.select_one("script.d2l-results-data").string) == data
        assert [o.get_text() for o in root.select("select[name=metric] option")] == [
            labels[option] for _, option in rx.METRICS], lang.code
        assert root.find_parent(class_="d2l-results-explorer").select_one("p").get_text() \
            .startswith(body[:20]), lang.code
