"""The results explorer in headless Chromium, on the quick build of the book (the
tests without a browser are in tests/test_results_explorer.py): the readout is the
executed notebooks' histories for every metric, run and framework; the data follow the
framework tab, `?framework=` and the explorer's own menu (which switches the page's tabs);
the seed band is disabled with its note when the build has no spread; keyboard-only use
changes the readout with the focus visible; the pointer reads an epoch; the markers are
the epochs where the rate drops; nothing is requested from outside the book, also from
file://; the text and lines are readable in light and dark mode. The band itself is
toggled on a page built here from the quick build's data plus a made-up spread (a quick
build never has one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import nbformat
import pytest

from bookbuild.results import histories_of
from bookbuild.vocabulary import FRAMEWORK_TAGS, FRAMEWORKS, RUNS
from tests.browser.test_offline import load_offline
from tests.colours import contrast
from tests.test_results_explorer import (
    EXPLORER,
    LABELS,
    METRICS,
    directive_block,
    english_labels,
    sphinx_build,
)

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Page


# --- on the built book -----------------------------------------------------------------

def page_url(site: str, lang: str = "en", query: str = "") -> str:
    return f"{site}/{lang}/chapters/{lang}/scheduler.html{query}"


@pytest.fixture(scope="module")
def executed(build) -> dict[str, dict[str, dict[str, list]]]:
    """{framework: {run: history}} as the English page's executed results cells stored
    them (`d2l_histories`), one cell per framework tab; checked to be the build's
    results file too."""
    html_dir, _ = build
    page = nbformat.read(html_dir.parent / "pages" / "chapters" / "en" / "scheduler.ipynb",
                         as_version=4)
    found = {}
    for cell in page.cells:
        tab = cell.get("metadata", {}).get("d2l_tabs")
        if tab and "show_results(" in cell.get("source", ""):
            found[tab["framework"]] = histories_of(nbformat.v4.new_notebook(cells=[cell]),
                                                   tab["framework"])
    assert sorted(found) == sorted(FRAMEWORK_TAGS)
    results = json.loads((html_dir.parent / "pages" / "results.json").read_text())
    assert results["histories"] == found
    assert results["spread"] is None  # a quick build shows no spread
    return found


def expected_series(history: dict[str, list], metric: str) -> list[float | None]:
    if metric == "gap":
        return [a - b if a is not None and b is not None else None
                for a, b in zip(history["train_acc"], history["test_acc"], strict=True)]
    return history[metric]


def js_fixed(x: float) -> str:
    """`x.toFixed(4)`: the exact binary value rounded half away from zero."""
    return str(Decimal(x).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def js_rate(x: float) -> float:
    """`Number(x.toPrecision(6))`: six significant digits, half away from zero."""
    d = Decimal(x)
    if d == 0:
        return 0.0
    return float(d.quantize(Decimal(1).scaleb(d.adjusted() - 5), rounding=ROUND_HALF_UP))


def shown_text(value: float | None, metric: str) -> str | float:
    if value is None:
        return "\u2014"
    return js_rate(value) if metric == "lr" else js_fixed(value)


def readout(page: Page, root: str = EXPLORER) -> dict:
    """What the explorer shows: the readout's head and per-run entries, the controls'
    state, the drawn lines' values, the drop markers and the band areas."""
    # The script starts right after sphinx-design has set the tabs (DOMContentLoaded)
    page.locator(f"{root} .d2l-results-readout-head").wait_for()
    return page.evaluate("""root => ({
      head: root.querySelector(".d2l-results-readout-head").textContent,
      runs: [...root.querySelectorAll(".d2l-results-readout li")].map(li => ({
        run: li.dataset.run, value: li.dataset.value,
        text: li.querySelector(".d2l-results-value").textContent,
        range: (li.querySelector(".d2l-results-range") || {}).textContent || null})),
      drops_line: (root.querySelector(".d2l-results-readout-drops") || {}).textContent || null,
      metric: root.querySelector("select[name=metric]").value,
      framework: root.querySelector("select[name=framework]").value,
      epoch: root.querySelector("input[name=epoch]").value,
      band: {checked: root.querySelector("input[name=band]").checked,
             disabled: root.querySelector("input[name=band]").disabled,
             note_hidden: root.querySelector(".d2l-results-note").hidden},
      lines: Object.fromEntries([...root.querySelectorAll("path.d2l-results-line")].map(
        p => [p.dataset.run, JSON.parse(p.dataset.values)])),
      drops: [...root.querySelectorAll("path.d2l-results-drop")].map(
        p => [p.dataset.run, Number(p.dataset.epoch)]),
      bands: [...root.querySelectorAll("path.d2l-results-band-area")].map(p => p.dataset.run),
      caption: root.querySelector("figcaption").textContent,
    })""", page.locator(root).element_handle())


def check_readout(state: dict, history_of: dict[str, dict[str, list]], where: str) -> int:
    """The readout and the lines are `history_of[run]`'s values; returns how many values
    were compared."""
    metric, epoch = state["metric"], int(state["epoch"])
    compared = 0
    for entry in state["runs"]:
        series = expected_series(history_of[entry["run"]], metric)
        value = series[epoch - 1]
        assert state["lines"][entry["run"]] == series, f"{where}: {entry['run']} line"
        got = None if entry["value"] == "null" else float(entry["value"])
        assert got == value, f"{where}: {entry['run']} read {entry['value']}, ran {value}"
        text = float(entry["text"]) if metric == "lr" and value is not None else entry["text"]
        assert text == shown_text(value, metric), f"{where}: {entry['run']} shows {text}"
        compared += 1
    return compared


def choose_tab(page: Page, framework: str) -> None:
    page.locator(f"label[data-sync-id='{framework}']").first.click()


def test_readout_is_what_the_notebooks_executed(page: Page, site: str, executed) -> None:
    page.goto(page_url(site))
    assert page.locator(EXPLORER).count() == 1
    compared = 0
    seen = set()
    for fw in ("tensorflow", "mxnet", "pytorch"):
        choose_tab(page, fw)
        for metric in METRICS:
            page.locator(f"{EXPLORER} select[name=metric]").select_option(metric)
            for epoch in (1, 16, 30):
                page.locator(f"{EXPLORER} input[name=epoch]").fill(str(epoch))
                state = readout(page)
                where = f"{fw} {metric} epoch {epoch}"
                assert state["framework"] == fw and state["epoch"] == str(epoch), where
                assert LABELS[fw] in state["head"] and f": {epoch} " in state["head"], where
                assert [e["run"] for e in state["runs"]] == list(RUNS), where
                compared += check_readout(state, executed[fw], where)
                seen.add((fw, metric))
    assert len(seen) == 15 and compared == 3 * 5 * 3 * 5


def test_url_parameter_selects_the_framework(new_page: Callable[..., Page], site: str,
                                             executed) -> None:
    page = new_page()  # no stored choice
    page.goto(page_url(site, query="?framework=tensorflow"))
    state = readout(page)
    assert state["framework"] == "tensorflow" and "TensorFlow" in state["head"]
    assert "TensorFlow" in state["caption"]
    check_readout(state, executed["tensorflow"], "?framework=tensorflow")


def tab_selection(page: Page) -> set[str]:
    return set(page.evaluate("""() => [...document.querySelectorAll(
      ".sd-tab-set > input:checked + label[data-sync-group='framework']")]
      .map(l => l.dataset.syncId)"""))


def test_tabs_and_explorer_menu_follow_each_other(new_page: Callable[..., Page], site: str,
                                                  executed) -> None:
    page = new_page()
    page.goto(page_url(site))
    assert readout(page)["framework"] == "mxnet" == tab_selection(page).pop()
    choose_tab(page, "pytorch")
    state = readout(page)
    assert state["framework"] == "pytorch"
    check_readout(state, executed["pytorch"], "PyTorch tab")
    # the explorer's menu chooses the page's tabs (all of them, and for the next page)
    page.locator(f"{EXPLORER} select[name=framework]").select_option("tensorflow")
    assert tab_selection(page) == {"tensorflow"}
    check_readout(readout(page), executed["tensorflow"], "menu: TensorFlow")
    page.reload()
    assert readout(page)["framework"] == "tensorflow"


def test_band_is_disabled_with_its_note_without_spread(page: Page, site: str) -> None:
    page.goto(page_url(site))
    state = readout(page)
    assert state["band"] == {"checked": False, "disabled": True, "note_hidden": False}
    assert state["bands"] == [] and all(e["range"] is None for e in state["runs"])
    note = page.locator(f"{EXPLORER} .d2l-results-note")
    assert note.is_visible()
    assert page.locator(f"{EXPLORER} input[name=band]").get_attribute(
        "aria-describedby") == note.get_attribute("id")
    assert note.text_content() == english_labels()["no-spread"]


def test_runs_can_be_ticked_off_and_back(page: Page, site: str, executed) -> None:
    page.goto(page_url(site))
    box = page.locator(f"{EXPLORER} input[name=run][value='multi factor']")
    box.uncheck()
    state = readout(page)
    assert [e["run"] for e in state["runs"]] == [r for r in RUNS if r != "multi factor"]
    assert "multi factor" not in state["lines"]
    assert all(run != "multi factor" for run, _ in state["drops"])
    box.check()
    assert "multi factor" in readout(page)["lines"]


def executed_drops(lr: list) -> list[int]:
    return [e + 1 for e in range(1, len(lr))
            if lr[e] is not None and lr[e - 1] is not None and lr[e] < lr[e - 1]]


def test_markers_at_every_drop_of_the_applied_rate(page: Page, site: str, executed) -> None:
    page.goto(page_url(site))
    for fw in FRAMEWORK_TAGS:
        choose_tab(page, fw)
        state = readout(page)
        expected = sorted((run, e) for run in RUNS for e in executed_drops(executed[fw][run]["lr"]))
        assert sorted(tuple(d) for d in state["drops"]) == expected, fw
        # the chapter's multi-factor run halves its rate at epoch 16 (step 15, 0-based)
        assert ("multi factor", 16) in expected and not executed_drops(
            executed[fw]["constant"]["lr"]), fw
    page.locator(f"{EXPLORER} input[name=epoch]").fill("16")
    drops_line = readout(page)["drops_line"]
    dropped = [run for run in RUNS if 16 in executed_drops(executed["tensorflow"][run]["lr"])]
    assert drops_line == "learning rate drops: " + ", ".join(dropped)


def focus_state(page: Page) -> dict:
    return page.evaluate("""() => {
      const el = document.activeElement, style = getComputedStyle(el);
      const root = el.closest(".d2l-results-explorer");
      return {name: el.name || null, type: el.type || null, value: el.value,
              focusVisible: el.matches(":focus-visible"), outlineStyle: style.outlineStyle,
              outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor,
              background: root ? getComputedStyle(root).backgroundColor : null};
    }""")


def test_keyboard_alone_changes_the_readout_with_visible_focus(
        new_page: Callable[..., Page], site: str, executed) -> None:
    page = new_page()
    page.goto(page_url(site))
    # Reach the explorer by keyboard: Tab from the control before it
    page.locator(f"{EXPLORER} select[name=metric]").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    before = readout(page)
    visited = []

    def check_focus(name: str) -> dict:
        state = focus_state(page)
        assert state["name"] == name, state
        assert state["focusVisible"] and state["outlineStyle"] != "none", state
        assert state["outlineWidth"] >= 2, state
        assert contrast(state["outlineColor"], state["background"]) >= 3, state
        visited.append(name)
        return state

    check_focus("metric")
    page.keyboard.press("ArrowDown")
    state = readout(page)
    assert state["metric"] == "train_acc" and state["runs"] != before["runs"]
    check_readout(state, executed["mxnet"], "keyboard: train accuracy")
    page.keyboard.press("Tab")
    check_focus("framework")
    page.keyboard.press("ArrowDown")
    state = readout(page)
    assert state["framework"] == "pytorch" and tab_selection(page) == {"pytorch"}
    check_readout(state, executed["pytorch"], "keyboard: PyTorch")
    page.keyboard.press("Tab")
    check_focus("run")
    page.keyboard.press("Space")  # the first run, "constant", off
    assert [e["run"] for e in readout(page)["runs"]] == list(RUNS[1:])
    # the other runs' boxes, then (the band's is disabled) on to the epoch slider
    for _ in RUNS[1:]:
        page.keyboard.press("Tab")
        check_focus("run")
    page.keyboard.press("Tab")
    check_focus("epoch")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    state = readout(page)
    assert state["epoch"] == "28" and "28" in state["head"]
    check_readout(state, executed["pytorch"], "keyboard: epoch 28")
    page.keyboard.press("Home")
    state = readout(page)
    assert state["epoch"] == "1"
    check_readout(state, executed["pytorch"], "keyboard: epoch 1")
    assert visited == ["metric", "framework"] + ["run"] * len(RUNS) + ["epoch"]


def test_pointer_reads_the_epoch_under_it(page: Page, site: str, executed) -> None:
    page.goto(page_url(site, query="?framework=mxnet"))
    chart = page.locator(f"{EXPLORER} svg.d2l-results-chart")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    for epoch in (10, 25):
        tick = page.locator(f"{EXPLORER} text.d2l-results-tick", has_text=re.compile(
            rf"^{epoch}$")).last.bounding_box()
        x = tick["x"] + tick["width"] / 2
        page.mouse.move(x, box["y"] + box["height"] * 0.4)
        state = readout(page)
        assert state["epoch"] == str(epoch), state["head"]
        check_readout(state, executed["mxnet"], f"pointer at epoch {epoch}")
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] * 0.4)  # left of the plot
    assert readout(page)["epoch"] == "1"


def test_chart_has_an_accessible_name(page: Page, site: str) -> None:
    """The chart's name is its caption, which also says the metric and framework shown."""
    page.goto(page_url(site, query="?framework=pytorch"))
    labels = english_labels()
    name = re.compile(re.escape(labels["chart"]))
    assert page.get_by_role("img", name=name).count() == 1
    page.locator(f"{EXPLORER} select[name=metric]").select_option("lr")
    chart = page.get_by_role("img", name=re.compile(
        re.escape(f"({labels['metric-lr']}, PyTorch)")))
    assert chart.count() == 1 and chart.evaluate("el => el.matches('svg.d2l-results-chart')")


def test_nothing_leaves_the_book_served_or_from_disk(new_page: Callable[..., Page], site: str,
                                                     build) -> None:
    html_dir, _ = build
    for url in (page_url(site, query="?framework=pytorch"),
                (html_dir / "en" / "chapters" / "en" / "scheduler.html").as_uri()):
        page, problems = load_offline(new_page, url)
        page.locator(f"{EXPLORER} select[name=metric]").select_option("train_loss")
        page.locator(f"{EXPLORER} input[name=epoch]").fill("5")
        state = readout(page)
        assert state["epoch"] == "5" and len(state["runs"]) == len(RUNS), url
        assert not problems, f"{url}: {problems}"


# --- the band, on a page built here with a spread ---------------------------------------

@pytest.fixture(scope="module")
def spread_page(build, tmp_path_factory) -> tuple[str, dict]:
    """A page with the English chapter's explorer (and framework tabs) built with the full
    `sphinxext` from the quick build's runs plus a made-up spread: seeds 0-2 for MXNet and
    PyTorch, seed s shifting every metric (not the rate) by s / 100. Returns (its file://
    URL, the results data)."""
    html_dir, _ = build
    results = json.loads((html_dir.parent / "pages" / "results.json").read_text())

    def shifted(h: dict, s: int) -> dict:
        return {key: [v if v is None or key == "lr" else v + s / 100 for v in values]
                for key, values in h.items()}

    results["spread"] = {"seeds": [0, 1, 2], "histories": {
        fw: {str(s): {run: shifted(results["histories"][fw][run], s) for run in RUNS}
             for s in (0, 1, 2)}
        for fw in ("mxnet", "pytorch")}}
    tmp = tmp_path_factory.mktemp("spread-page")
    (tmp / "results.json").write_text(json.dumps(results), encoding="utf-8")
    tabs = "::::{tab-set}\n:sync-group: framework\n\n" + "".join(
        f":::{{tab-item}} {label}\n:sync: {fw}\n{label} code\n:::\n\n" for fw, label in FRAMEWORKS
    ) + "::::\n\n"
    _, warnings = sphinx_build(tmp, "# Page\n\n" + tabs + directive_block("en"),
                               str(tmp / "results.json"),
                               ["myst_parser", "sphinx_design", "sphinxext"],
                               "html_theme = 'sphinx_book_theme'")
    assert not warnings, warnings
    return (tmp / "build" / "html" / "index.html").as_uri(), results


def test_band_toggles_with_the_range_over_seeds(new_page: Callable[..., Page],
                                                spread_page) -> None:
    url, results = spread_page
    page, problems = load_offline(new_page, url)
    page.locator(f"{EXPLORER} input[name=epoch]").fill("12")
    state = readout(page)
    assert state["band"] == {"checked": True, "disabled": False, "note_hidden": True}
    assert state["bands"] == list(RUNS)
    seeds = results["spread"]["histories"]["mxnet"]
    for entry in state["runs"]:
        values = [expected_series(seeds[s][entry["run"]], "test_acc")[11] for s in seeds]
        assert entry["range"] == f" ({js_fixed(min(values))}\u2013{js_fixed(max(values))})"
    page.locator(f"{EXPLORER} input[name=band]").uncheck()
    state = readout(page)
    assert state["bands"] == [] and all(e["range"] is None for e in state["runs"])
    page.locator(f"{EXPLORER} input[name=band]").check()
    page.locator(f"{EXPLORER} select[name=metric]").select_option("gap")
    state = readout(page)
    assert state["bands"] == list(RUNS)
    for entry in state["runs"]:
        values = [expected_series(seeds[s][entry["run"]], "gap")[11] for s in seeds]
        assert entry["range"] == f" ({js_fixed(min(values))}\u2013{js_fixed(max(values))})"
    # TensorFlow has no spread here: the band is off, with its note
    choose_tab(page, "tensorflow")
    state = readout(page)
    assert state["band"]["disabled"] and not state["band"]["note_hidden"]
    assert state["bands"] == []
    assert not problems, problems


# --- light and dark ----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_readable_in_both_themes(new_page: Callable[..., Page], site: str,
                                 scheme: str) -> None:
    page = new_page(color_scheme=scheme)
    page.goto(page_url(site))
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    colours = page.evaluate("""() => {
      const root = document.querySelector(".d2l-results-explorer");
      const style = el => getComputedStyle(el);
      return {
        background: style(root).backgroundColor,
        text: [...root.querySelectorAll("label, .d2l-results-readout li, figcaption, "
               + ".d2l-results-note, .d2l-results-key, .d2l-results-readout-head")]
               .map(el => style(el).color),
        ticks: [...root.querySelectorAll(".d2l-results-tick, .d2l-results-axis-label")]
               .map(el => style(el).fill),
        lines: [...root.querySelectorAll(".d2l-results-line, .d2l-results-drop, "
                + ".d2l-results-swatch line")]
               .map(el => el.matches(".d2l-results-drop") ? style(el).fill : style(el).stroke),
      };
    }""")
    bg = colours["background"]
    assert len(colours["lines"]) > 3 * len(RUNS)
    for colour in colours["text"] + colours["ticks"]:
        assert contrast(colour, bg) >= 4.5, (colour, bg)
    # graphics: WCAG's 3:1 for what is needed to read the chart
    for colour in colours["lines"]:
        assert contrast(colour, bg) >= 3, (colour, bg)
