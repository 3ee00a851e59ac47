"""Every figure on every language's chapter page (the quick build) has a text
alternative in that page's language, made from what it plots: not its file's path,
naming the framework of its tab and the run or schedule it shows in the labels of that
language's explorers, different from every other figure's; and the class that dark
mode styles (bookbuild/figures.py, sphinxext/static/figures.css)."""

from __future__ import annotations

import pytest

from bookbuild.vocabulary import FRAMEWORKS, LANGUAGES, RUNS
from tests.test_book_build import page, tab_of
from tests.test_figures import page_labels


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_every_figure_has_a_text_alternative_in_its_language(build, lang) -> None:
    html_dir, _ = build
    _, soup = page(html_dir, lang.code)
    _, english = page(html_dir, "en")
    images, english_images = soup.select("img"), english.select("img")
    assert len(images) == len(english_images) > len(RUNS) * len(FRAMEWORKS)
    labels = page_labels(lang.code)
    names = list(labels.runs.values()) + list(labels.schedules.values())
    alts = []
    for img, theirs in zip(images, english_images, strict=True):
        alt = img.get("alt", "")
        alts.append(alt)
        assert alt and not alt.endswith(".svg") and "_images" not in alt, img
        assert "d2l-figure" in img.get("class", []), img
        assert dict(FRAMEWORKS)[tab_of(img)] in alt, f"{lang.code}: {alt}"
        assert any(name in alt for name in names), f"{lang.code}: {alt} names no run"
        if lang.code != "en":
            assert alt != theirs["alt"], f"{lang.code}: {alt} is the English text"
    assert len(set(alts)) == len(alts), f"{lang.code}: two figures have the same text"
