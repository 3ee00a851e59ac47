"""The built book in a real browser (headless Chromium driven by Playwright,
pages served on loopback): framework tabs sync, persist and follow
`?framework=`, and the language switcher keeps the chosen framework. The fixtures
(`site`, `page`) are in conftest.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Page

SELECTED = """() => [...document.querySelectorAll(
  ".sd-tab-set > input:checked + label[data-sync-group='framework']")]
  .map(label => label.dataset.syncId)"""


def selected(page: Page) -> set[str]:
    return set(page.evaluate(SELECTED))


def test_query_selects_the_framework_everywhere(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html?framework=pytorch")
    assert page.locator("div.cell").count() > 20
    assert selected(page) == {"pytorch"}


def test_one_click_switches_every_tab_set_and_persists(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    page.locator("label[data-sync-id='tensorflow']").first.click()
    assert selected(page) == {"tensorflow"}
    page.reload()
    assert selected(page) == {"tensorflow"}
    page.goto(f"{site}/tr/chapters/tr/scheduler.html")
    assert selected(page) == {"tensorflow"}


def test_language_switch_keeps_the_framework(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    page.locator("label[data-sync-id='mxnet']").first.click()
    page.locator("nav.d2l-language-switcher a[hreflang='ko']").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{site}/ko/chapters/ko/scheduler.html")
    assert "framework=mxnet" in page.url
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert selected(page) == {"mxnet"}
    # In a fresh browser (no stored choice) the link alone carries the framework
    page.evaluate("window.localStorage.clear()")
    page.goto(f"{site}/zh/chapters/zh/scheduler.html?framework=pytorch")
    page.evaluate("window.localStorage.clear()")
    page.locator("nav.d2l-language-switcher a[hreflang='pt']").click()
    page.wait_for_load_state()
    assert "framework=pytorch" in page.url
    assert selected(page) == {"pytorch"}
