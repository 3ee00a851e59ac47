"""Every figure on every language's chapter page (the quick build) has a text
alternative in that page's language, made from what it plots: not its file's path,
naming the framework of its tab and the run or schedule it shows in the labels of that
language's explorers, different from every other figure's; and the class that dark
mode styles (bookbuild/figures.py, sphinxext/static/figures.css). Its axis labels and
legends, the results table's columns and runs, and the author-year citations are in
the page's language too (bookbuild/figure_text.py, bookbuild/citations.py)."""

from __future__ import annotations

import re
from xml.dom import minidom

import pytest
from babel.numbers import get_decimal_symbol

from bookbuild import figure_text
from bookbuild.figure_text import page_words
from bookbuild.landing import read_book_text
from bookbuild.vocabulary import FRAMEWORKS, LANGUAGES, RUNS, SOURCE_LANGUAGE
from tests.test_book_build import page, tab_of
from tests.test_figures import ROOT, page_labels


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


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_figures_and_the_results_table_speak_the_pages_language(build, lang) -> None:
    html_dir, _ = build
    path, soup = page(html_dir, lang.code)
    labels = page_labels(lang.code)
    words = page_words(read_book_text(lang.code, ROOT), labels,
                       source=lang.code == SOURCE_LANGUAGE)
    translated = 0
    for img in soup.select("img.d2l-figure"):
        svg = minidom.parse(str((path.parent / img["src"]).resolve()))
        drawn = [t.firstChild.data for t in svg.getElementsByTagName("text")]
        # tick labels drawn with the page's decimal mark (glyph outlines, by glyph id)
        marks = {figure_text._glyph(m)[0] for m in ".,"} - {
            figure_text._glyph(get_decimal_symbol(lang.cldr))[0]}
        assert not [u for g in svg.getElementsByTagName("g")
                    if g.getAttribute("id").startswith("text_")
                    and g.parentNode.getAttribute("id").startswith(("xtick_", "ytick_"))
                    for u in g.getElementsByTagName("use")
                    if u.getAttribute("xlink:href")[1:] in marks], img["src"]
        shown = [c.data.strip() for c in _comments(svg) if not _number(c.data.strip())]
        if lang.code == SOURCE_LANGUAGE:  # as the code drew it
            assert not drawn, f"{img['src']}: {drawn}"
            continue
        # every label and legend entry in the page's words (id keeps "epoch" and
        # "learning rate": those stay as drawn, but a legend is redrawn whole)
        changed = [words[english] for english in shown if words[english] != english]
        assert set(changed) <= set(drawn) <= set(words.values()), img["src"]
        assert all(t.getAttribute("xml:lang").startswith(lang.code)
                   for t in svg.getElementsByTagName("text"))
        translated += bool(drawn)
    assert lang.code == SOURCE_LANGUAGE or translated > len(RUNS) * len(FRAMEWORKS)
    tables = soup.select("table.dataframe")
    assert len(tables) == len(FRAMEWORKS)
    for table in tables:
        headers = [th.get_text(strip=True) for th in table.select("th")]
        assert [h for h in headers if h] == [
            words[w] for w in ("train loss", "train acc", "test acc", "best test acc",
                               "best epoch", "train-test gap", "schedule", *RUNS)]
        # its numbers with the page language's decimal mark, as the spread's table below
        fractions = [td.get_text(strip=True) for td in table.select("td")
                     if re.fullmatch(r"-?\d+[.,]\d+", td.get_text(strip=True))]
        assert fractions and all(get_decimal_symbol(lang.cldr) in f for f in fractions)


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_citations_use_the_pages_and_and_et_al(build, lang) -> None:
    html_dir, _ = build
    _, soup = page(html_dir, lang.code)
    text = read_book_text(lang.code, ROOT)
    et_al = text.line("cite_et_al").strip("*")
    prose = " ".join(p.get_text(" ", strip=True) for p in soup.select("section p"))
    prose = re.sub(r"(?<=\[) | (?=[,\]])", "", prose)  # "[ 2016 ]" → "[2016]"
    assert f"Loshchilov {text.line('cite_and')} Hutter [2016]" in prose
    assert f"Izmailov {et_al} [2018]" in prose
    assert f"[Gotmare {et_al}, 2018]" in prose


def _comments(node: minidom.Node) -> list[minidom.Comment]:
    """matplotlib's comment naming each text, in document order."""
    found = []
    for child in node.childNodes:
        if child.nodeType == child.COMMENT_NODE:
            found.append(child)
        found += _comments(child)
    return found


def _number(label: str) -> bool:
    return re.fullmatch(r"[\u2212\-]?[\d.]+(?:e[\u2212\-+]?\d+)?", label) is not None
