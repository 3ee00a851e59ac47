"""The chapter page by keyboard alone (Tab, Shift+Tab, arrow keys, Home/End, Enter; no
clicks, nothing focused by script): the language switcher, the framework tabs, the
results explorer and the schedule explorer are each reached from the top of the page,
show a focus ring (an outline of at least 2 px with 3:1 contrast against what is behind
it, WCAG 2.4.7 and 1.4.11), and their keys change what is shown. In light and dark mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.colours import contrast

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Page

CHAPTER = "en/chapters/en/scheduler.html"
# More Tab presses than the page has stops before its last explorer (about 120)
MAX_PRESSES = 250
# The focused control's ring: on the label of a tab's (invisible) radio input; the
# background is what the outline is drawn on (the element's own for an inset outline)
FOCUS_RING = """() => {
  const focused = document.activeElement;
  const shown = focused.matches(".sd-tab-set > input") ? focused.nextElementSibling : focused;
  const style = getComputedStyle(shown);
  const opaque = c => c && c !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(c);
  let node = parseFloat(style.outlineOffset) < 0 ? shown : shown.parentElement;
  let background = null;
  for (; node && !background; node = node.parentElement) {
    const c = getComputedStyle(node).backgroundColor;
    if (opaque(c)) background = c;
  }
  return {focusVisible: focused.matches(":focus-visible"), outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor,
          background: background || "rgb(255, 255, 255)"};
}"""
SELECTED = """() => [...new Set([...document.querySelectorAll(
  ".sd-tab-set > input:checked + label[data-sync-group='framework']")]
  .map(label => label.dataset.syncId))]"""
# The framework of every tab panel on show, and whether the others are hidden
PANELS = """() => {
  const shown = [], hidden = [];
  document.querySelectorAll(".d2l-framework-tabs > .sd-tab-content").forEach(panel => {
    const framework = panel.previousElementSibling.dataset.syncId;
    (getComputedStyle(panel).display === "none" ? hidden : shown).push(framework);
  });
  return {shown: [...new Set(shown)], hidden: [...new Set(hidden)]};
}"""
RESULTS = """() => {
  const root = document.querySelector(".d2l-results-explorer");
  return {head: root.querySelector(".d2l-results-readout-head").textContent,
          lines: [...root.querySelectorAll(".d2l-results-line")]
            .map(l => l.getAttribute("d")).join(" | ")};
}"""
SCHEDULE = """() => {
  const root = document.querySelector(".d2l-schedule-explorer");
  return {schedule: root.querySelector("select[name=schedule]").value,
          base_lr: root.querySelector("output[for]").value,
          lrs: root.querySelector(".d2l-explorer-curve").getAttribute("data-lrs"),
          readout: root.querySelector(".d2l-explorer-lr-value").value};
}"""


def press_until(page: Page, selector: str, key: str = "Tab") -> int:
    """Press `key` until the focused element matches `selector`; the number of presses."""
    for presses in range(1, MAX_PRESSES + 1):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    pytest.fail(f"{MAX_PRESSES} presses of {key} never reached {selector}")


def assert_focus_visible(page: Page, what: str) -> None:
    ring = page.evaluate(FOCUS_RING)
    assert ring["focusVisible"], (what, ring)
    assert ring["outlineStyle"] not in ("none", "auto"), (what, ring)
    assert ring["outlineWidth"] >= 2, (what, ring)
    assert contrast(ring["outlineColor"], ring["background"]) >= 3, (what, ring)


@pytest.fixture(params=["light", "dark"])
def chapter(request, new_page: Callable[..., Page], site: str) -> Page:
    """The English chapter in a fresh context (no stored tab) in light or dark mode,
    nothing focused yet."""
    page = new_page(color_scheme=request.param, viewport={"width": 1300, "height": 900})
    page.goto(f"{site}/{CHAPTER}")
    assert page.evaluate("document.documentElement.dataset.theme") == request.param
    return page


def test_framework_tabs_by_keyboard(chapter: Page) -> None:
    page = chapter
    press_until(page, ".d2l-framework-tabs > input")
    # Tab enters a radio group at its checked tab: the first framework's
    assert page.evaluate("document.activeElement.checked")
    assert page.evaluate(SELECTED) == ["mxnet"]
    assert_focus_visible(page, "framework tab")
    for key, framework in (("ArrowRight", "pytorch"), ("ArrowRight", "tensorflow"),
                           ("ArrowLeft", "pytorch")):
        page.keyboard.press(key)
        assert page.evaluate(SELECTED) == [framework], key
        panels = page.evaluate(PANELS)
        assert panels["shown"] == [framework], (key, panels)
        assert_focus_visible(page, f"framework tab after {key}")
    # On to the next stop and back: Shift+Tab returns to the chosen tab
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.matches('.d2l-framework-tabs > input')")
    press_until(page, ".d2l-framework-tabs > input:checked", key="Shift+Tab")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(SELECTED) == ["tensorflow"]


def test_results_explorer_by_keyboard(chapter: Page) -> None:
    page = chapter
    press_until(page, ".d2l-results-explorer select[name=metric]")
    assert_focus_visible(page, "results metric menu")
    before = page.evaluate(RESULTS)
    page.keyboard.press("ArrowDown")
    after = page.evaluate(RESULTS)
    assert after["head"] != before["head"] and after["lines"] != before["lines"]
    press_until(page, ".d2l-results-explorer input[name=epoch]")
    assert_focus_visible(page, "results epoch slider")
    page.keyboard.press("Home")
    at_first = page.evaluate(RESULTS)
    assert at_first["head"] != after["head"]
    page.keyboard.press("ArrowRight")
    assert page.evaluate(RESULTS)["head"] != at_first["head"]
    # Shift+Tab walks back through the run boxes to the menus
    press_until(page, ".d2l-results-explorer select[name=metric]", key="Shift+Tab")
    assert_focus_visible(page, "results metric menu, by Shift+Tab")


def test_schedule_explorer_by_keyboard(chapter: Page) -> None:
    page = chapter
    press_until(page, ".d2l-schedule-explorer select[name=schedule]")
    assert_focus_visible(page, "schedule menu")
    before = page.evaluate(SCHEDULE)
    page.keyboard.press("ArrowDown")
    state = page.evaluate(SCHEDULE)
    assert state["schedule"] != before["schedule"] and state["lrs"] != before["lrs"]
    page.keyboard.press("Tab")  # the first slider: the base learning rate
    assert page.evaluate("document.activeElement.name") == "base_lr"
    assert_focus_visible(page, "base_lr slider")
    page.keyboard.press("ArrowRight")
    moved = page.evaluate(SCHEDULE)
    assert moved["base_lr"] != state["base_lr"]
    assert moved["lrs"] != state["lrs"] and moved["readout"] != state["readout"]
    press_until(page, ".d2l-schedule-explorer input[name=epoch]")
    assert_focus_visible(page, "schedule epoch slider")
    page.keyboard.press("End")
    last = page.evaluate(SCHEDULE)
    assert last["readout"] != moved["readout"] and last["lrs"] == moved["lrs"]


def test_language_switcher_by_keyboard(chapter: Page, site: str) -> None:
    page = chapter
    press_until(page, ".d2l-framework-tabs > input")
    page.keyboard.press("ArrowRight")  # PyTorch, carried to the other language
    press_until(page, "nav.d2l-language-switcher a.d2l-lang-link", key="Shift+Tab")
    assert_focus_visible(page, "language link")
    press_until(page, "nav.d2l-language-switcher a[hreflang='zh']")
    assert_focus_visible(page, "language link zh")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(f"{site}/zh/chapters/zh/scheduler.html")
    assert "framework=pytorch" in page.url
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.evaluate(SELECTED) == ["pytorch"]
