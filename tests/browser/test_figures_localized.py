"""The figures' words in the page's language as Chromium draws them
(bookbuild/figure_text.py): on every translated page, in every figure, each legend entry
lies inside its legend's frame (the build widens a frame by the width it measures with
matplotlib's metrics; Chromium draws the words in the fonts it has, Hangul and Han
included), and each axis label lies inside the figure."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from bs4 import BeautifulSoup

from bookbuild.vocabulary import LANGUAGES, SOURCE_LANGUAGE

if TYPE_CHECKING:
    from playwright.sync_api import Page

TRANSLATED = [lang.code for lang in LANGUAGES if lang.code != SOURCE_LANGUAGE]
# Each <text> the build drew, measured as Chromium lays it out: its box, and the box of
# its legend's frame or, for an axis label, the figure's.
MEASURE = """() => {
  const figure = document.documentElement.getBoundingClientRect();
  return [...document.querySelectorAll("text")].map((text) => {
    const legend = text.closest("g[id^=legend_]");
    const frame = legend && legend.querySelector(":scope > g[id^=patch_] path");
    const box = (b) => ({left: b.left, right: b.right, top: b.top, bottom: b.bottom});
    return {word: text.textContent, text: box(text.getBoundingClientRect()),
            room: box(frame ? frame.getBoundingClientRect() : figure), legend: !!legend};
  });
}"""


def overflows(page: Page, url: str) -> list[str]:
    """Each text of the SVG at `url` that reaches outside its legend's frame (left or
    right: the build widens a frame, its height is matplotlib's) or the figure."""
    page.goto(url)
    found = []
    for m in page.evaluate(MEASURE):
        text, room = m["text"], m["room"]
        sides = ("left", "right") if m["legend"] else ("left", "right", "top", "bottom")
        if any((text[s] < room[s]) if s in ("left", "top") else (text[s] > room[s])
               for s in sides):
            where = "its legend's frame" if m["legend"] else "the figure"
            found.append(f"{url}: {m['word']!r} {text} outside {where} {room}")
    return found


def figure_urls(site: str, html: str, code: str) -> list[str]:
    base = f"{site}/{code}/chapters/{code}/"
    return [base + img["src"] for img in
            BeautifulSoup(html, "html.parser").select("img.d2l-figure")]


@pytest.mark.parametrize("code", TRANSLATED)
def test_translated_words_stay_inside_legends_and_figures(
        new_page: Callable[..., Page], site: str, code: str) -> None:
    page = new_page()
    page.goto(f"{site}/{code}/chapters/{code}/scheduler.html")
    urls = figure_urls(site, page.content(), code)
    assert urls
    problems = [p for url in dict.fromkeys(urls) for p in overflows(page, url)]
    assert not problems, "\n".join(problems)
