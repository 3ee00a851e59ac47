"""Zero axe-core violations of WCAG 2.0 and 2.1, levels A and AA, on every built page of
every language: the root page, each language's landing page, chapter, search page and
index, in the theme's light and dark mode, loaded 1300 and 420 px wide, and on the
chapter with each framework's tab chosen.

axe-core is the copy bundled in the pinned `axe-playwright-python` (requirements.txt;
axe-core 4.12.1, MPL-2.0, in an MIT-licensed wrapper): nothing is fetched at test time.
One page in one browser context serves the module; a page is loaded once per mode and
width and checked whole; on the chapter the other tabs are then chosen on the page and
what a tab changes is checked again (the English chapter only: a translation's code
cells, most of what a tab shows and most of axe's time, are byte-identical to the
English page's). 108 runs of axe, about 1.5 minutes on the project machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from bookbuild.vocabulary import CHAPTER, FRAMEWORKS, LANGUAGES, SOURCE_LANGUAGE

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MODES = ("light", "dark")
WIDTHS = (1300, 420)
TABS = tuple(framework for framework, _ in FRAMEWORKS)
# The code blocks, left out of a translation's checks: its code cells are byte-identical
# to the English page's (tests/test_chapter_structure.py), checked with every tab there
CODE = {"exclude": [[".highlight"]]}
# (label, path under the site, the framework tabs to choose or (None,), what to leave out)
PAGES = [("root", "index.html", (None,), None)] + [
    entry for lang in LANGUAGES for entry in (
        (f"{lang.code}/landing", f"{lang.code}/index.html", (None,), None),
        (f"{lang.code}/chapter", f"{lang.code}/chapters/{lang.code}/{CHAPTER}.html",
         TABS if lang.code == SOURCE_LANGUAGE else TABS[:1],
         None if lang.code == SOURCE_LANGUAGE else CODE),
        (f"{lang.code}/search", f"{lang.code}/search.html", (None,), None),
        (f"{lang.code}/genindex", f"{lang.code}/genindex.html", (None,), None),
    )
]
RUN_AXE = """([context, tags]) => axe.run(context || document,
    {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                     targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
                                     summary: v.nodes[0].failureSummary})))"""
# What a framework tab changes on the chapter: the tab-sets' shown panels (code, outputs,
# the spread blocks) and the results explorer, which follows the tab
TAB_PARTS = {"include": [[".sd-tab-set"], [".d2l-results-explorer"]]}
# Choose a framework's tab as a reader does (sphinx-design syncs the other tab-sets on
# the input's change), then wait a frame for the handlers that follow a tab change
CHOOSE_TAB = """framework => new Promise(done => {
  document.querySelector(`label[data-sync-group='framework'][data-sync-id='${framework}']`)
    .click();
  requestAnimationFrame(() => requestAnimationFrame(done));
})"""
SELECTED = """() => [...new Set([...document.querySelectorAll(
  ".sd-tab-set > input:checked + label[data-sync-group='framework']")]
  .map(label => label.dataset.syncId))]"""


def axe_script() -> str:
    from axe_playwright_python.base import AXE_SCRIPT  # pinned; bundles axe-core

    return AXE_SCRIPT


def check_page(page: Page, site: str, path: str, tabs: tuple, leave_out: dict | None,
               script: str) -> dict:
    """Axe's violations on `path` per (mode, width, tab): {(mode, width, tab): [...]}.

    The page is loaded in each mode at each width (the theme and the explorers measure
    the page as it loads) with the first tab chosen by `?framework=`, and checked whole;
    each other tab is then chosen on the page, as a reader does, and what it changes is
    checked again."""
    found = {}
    if path == "index.html":
        # The root page redirects (meta refresh) to a landing page: answer that request
        # with 204 No Content, so the browser stays on the root page to be checked.
        page.route(f"{site}/*/index.html", lambda route: route.fulfill(status=204))
    try:
        for mode in MODES:
            # The theme's switch stores the choice (pydata-sphinx-theme's layout.html
            # reads `mode` and `theme` before the page is drawn)
            page.evaluate("m => { localStorage.setItem('mode', m); "
                          "localStorage.setItem('theme', m); }", mode)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                query = f"?framework={tabs[0]}" if tabs[0] else ""
                page.goto(f"{site}/{path}{query}", wait_until="load")
                if path != "index.html":
                    assert page.evaluate("document.documentElement.dataset.theme") == mode
                page.evaluate(script)
                for i, tab in enumerate(tabs):
                    if i:
                        page.evaluate(CHOOSE_TAB, tab)
                    if tab:
                        assert page.evaluate(SELECTED) == [tab]
                    # the whole page with the first tab, then what a tab changes
                    context = TAB_PARTS if i else leave_out
                    found[mode, width, tab] = page.evaluate(RUN_AXE, [context, TAGS])
    finally:
        if path == "index.html":
            page.unroute(f"{site}/*/index.html")
    return found


def summary(label: str, found: dict) -> str:
    lines = []
    for (mode, width, tab), violations in found.items():
        if violations:
            rules = ", ".join(f"{v['id']} ({v['impact']}) x{v['nodes']}" for v in violations)
            lines.append(f"{label} {mode} {width}px {tab or '-'}: {rules}")
            lines += [f"    {v['id']}: {v['targets']} {v['summary']!r}" for v in violations]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def axe_page(new_page: Callable[..., Page], site: str) -> Page:
    """One page in one context (reaching nothing but the book) for the module's checks,
    on the site's origin, so that its storage can hold the theme's mode."""
    page = new_page(viewport={"width": WIDTHS[0], "height": 900})
    page.goto(f"{site}/en/index.html")
    return page


@pytest.mark.parametrize(("label", "path", "tabs", "leave_out"), PAGES,
                         ids=[p[0] for p in PAGES])
def test_no_axe_violations(axe_page: Page, site: str, label: str, path: str, tabs: tuple,
                           leave_out: dict | None) -> None:
    found = check_page(axe_page, site, path, tabs, leave_out, axe_script())
    assert len(found) == len(MODES) * len(WIDTHS) * len(tabs)
    assert not any(found.values()), "axe-core violations:\n" + summary(label, found)
