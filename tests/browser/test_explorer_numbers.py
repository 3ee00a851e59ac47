"""The explorers write the numbers a reader sees with the decimal mark of the page's
language (sphinxext/static/explorer-numbers.js), as the page's prose and tables do:
"0,25" on the Indonesian, Turkish and Portuguese pages, "0.25" on the others. Checked in
Chromium on every page, after the reader moves a slider: the schedule explorer's
slider values, readout and tick labels, the results explorer's readout and tick labels."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from babel.numbers import get_decimal_symbol

from bookbuild.vocabulary import LANGUAGES

if TYPE_CHECKING:
    from playwright.sync_api import Page

SHOWN = """() => {
  const texts = (selector) => [...document.querySelectorAll(selector)]
    .map((el) => el.value !== undefined && el.tagName === "OUTPUT" ? el.value : el.textContent);
  return {
    sliders: texts(".d2l-schedule-explorer output[data-decimals]"),
    readout: texts(".d2l-schedule-explorer .d2l-explorer-lr-value"),
    scheduleTicks: texts(".d2l-schedule-explorer .d2l-explorer-tick"),
    results: texts(".d2l-results-explorer .d2l-results-value"),
    resultsTicks: texts(".d2l-results-explorer .d2l-results-tick"),
  };
}"""
FRACTION = re.compile(r"-?\d+[.,]\d+")


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_explorers_write_numbers_with_the_pages_decimal_mark(
        new_page: Callable[..., Page], site: str, lang) -> None:
    page = new_page()
    page.goto(f"{site}/{lang.code}/chapters/{lang.code}/scheduler.html")
    # a reader's change: the explorer redraws and writes its numbers again
    page.locator(".d2l-schedule-explorer input[name=base_lr]").fill("0.25")
    page.locator(".d2l-schedule-explorer input[name=base_lr]").dispatch_event("input")
    shown = page.evaluate(SHOWN)
    mark = get_decimal_symbol(lang.cldr)
    other = "," if mark == "." else "."
    for what, texts in shown.items():
        fractions = [t.strip() for t in texts if FRACTION.fullmatch(t.strip())]
        assert fractions, f"{lang.code}: no fraction among the {what}: {texts}"
        assert all(mark in t and other not in t for t in fractions), (lang.code, what, texts)
    assert "0" + mark + "25" in shown["sliders"], shown["sliders"]
