"""On the built page (English and Korean), the two widget cells' code (the results cell
after the results table and the "Explore the Schedules" cell) is collapsed behind
MyST-NB's toggle (cell tag `hide-input`) in every framework tab, and the toggle speaks
the page's language: it shows, and is named for assistive technology by, the
language's `code_prompt_show` / `code_prompt_hide` (chapters/<lang>/book.yml). A click,
Enter or Space on the toggle opens and closes the code. The chapter's other code
stays in view. (The notebooks keep the code visible: tests/browser/test_jupyterlab.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from bookbuild.landing import read_book_text

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Locator, Page

WIDGET_CELLS = ["def show_runs(", "def show_schedule("]
# A code cell of the chapter that is not a widget cell
PLAIN_CELL = "d2l.show_results(histories)"


def accessible_name(page: Page, element: Locator) -> str | None:
    """The name Chromium's accessibility tree gives `element` (what a screen reader
    announces), read through the DevTools protocol."""
    element.evaluate("e => e.setAttribute('data-name-probe', '')")
    try:
        cdp = page.context.new_cdp_session(page)
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root,
                                              "selector": "[data-name-probe]"})["nodeId"]
        tree = cdp.send("Accessibility.getPartialAXTree",
                        {"nodeId": node, "fetchRelatives": False})
        cdp.detach()
    finally:
        element.evaluate("e => e.removeAttribute('data-name-probe')")
    return tree["nodes"][0].get("name", {}).get("value")


def is_open(details: Locator) -> bool:
    return details.evaluate("d => d.open")


def check_state(page: Page, cell: Locator, opened: bool, show: str, hide: str,
                what: str) -> None:
    details, toggle = cell.locator("details.hide"), cell.locator("details.hide > summary")
    code = cell.locator(".cell_input")
    assert is_open(details) is opened, f"{what}: the code is {'not ' * opened}open"
    assert code.is_visible() is opened, f"{what}: the code is {'not ' * opened}shown"
    prompt = hide if opened else show
    shown = toggle.inner_text().strip()
    assert shown == prompt, f"{what}: the toggle reads {shown!r}, not {prompt!r}"
    assert accessible_name(page, toggle) == prompt, (
        f"{what}: the toggle is named {accessible_name(page, toggle)!r}, not {prompt!r}")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_widget_code_is_behind_the_translated_toggle(new_page: Callable[..., Page],
                                                     site: str, lang: str) -> None:
    text = read_book_text(lang)
    show, hide = text.line("code_prompt_show"), text.line("code_prompt_hide")
    if lang != "en":
        english = read_book_text("en")
        assert (show, hide) != (english.line("code_prompt_show"),
                                english.line("code_prompt_hide"))
    page = new_page()
    page.goto(f"{site}/{lang}/chapters/{lang}/scheduler.html")
    for marker in WIDGET_CELLS:
        cells = page.locator("div.cell", has_text=marker)
        assert cells.count() == 3, f"{marker}: expected one cell per framework tab"
        # every tab's copy collapsed, behind the language's prompts
        assert cells.locator("details.hide.above-input").count() == 3, marker
        assert cells.locator("details.hide .cell_input").count() == 3, marker
        assert cells.locator("details.hide").evaluate_all(
            "ds => ds.filter(d => d.open).length") == 0, marker
        prompts = cells.locator("summary p.admonition-title").all_text_contents()
        assert prompts == [show, hide] * 3, f"{marker}: prompts {prompts}"
        cell = cells.locator("visible=true")
        assert cell.count() == 1, f"{marker}: one copy in the selected tab"
        toggle = cell.locator("details.hide > summary")
        check_state(page, cell, False, show, hide, f"{marker} as loaded")
        toggle.click()
        check_state(page, cell, True, show, hide, f"{marker} after a click")
        toggle.click()
        check_state(page, cell, False, show, hide, f"{marker} after a second click")
        toggle.focus()
        page.keyboard.press("Enter")
        check_state(page, cell, True, show, hide, f"{marker} after Enter")
        page.keyboard.press("Space")
        check_state(page, cell, False, show, hide, f"{marker} after Space")
        # the toggle is reached with Tab from a button put just before its cell's code
        page.evaluate("d => { const b = document.createElement('button');"
                      " b.id = 'before-toggle'; d.parentElement.insertBefore(b, d); }",
                      cell.locator("details.hide").element_handle())
        page.locator("#before-toggle").focus()
        page.keyboard.press("Tab")
        assert toggle.evaluate("t => document.activeElement === t"), (
            f"{marker}: Tab does not reach the toggle")
        page.evaluate("document.getElementById('before-toggle').remove()")
    # the chapter's other code is shown as it is
    plain = page.locator("div.cell", has_text=PLAIN_CELL).locator("visible=true")
    assert plain.count() == 1
    assert plain.locator("details").count() == 0
    assert plain.locator(".cell_input").is_visible()
