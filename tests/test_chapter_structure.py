"""Every translation mirrors the English chapter: same headings (levels and
order), byte-identical code cells, the same math, labels, citations and number
of exercises, and no leftover d2l markup. Each language's book text (title,
author line, landing page in `chapters/<lang>/book.yml`) has the English one's
links, blocks and references, its own words, and the CC BY-SA 4.0 attribution."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
from myst_parser.parsers.directives import parse_directive_text

from bookbuild.claims import CLAIM
from bookbuild.landing import read_book_text
from bookbuild.mirror import MARKDOWN, mirror_problems, outline
from bookbuild.vocabulary import LANGUAGES
from sphinxext.schedule_explorer import NAME as EXPLORER
from sphinxext.schedule_explorer import OPTIONS as EXPLORER_OPTIONS
from sphinxext.schedule_explorer import ScheduleExplorer

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
TRANSLATIONS = [lang.code for lang in LANGUAGES if lang.code != "en"]
D2L_MARKUP = re.compile(
    r":label:|:numref:|:cite:`|:citet:|:begin_tab:|:end_tab:|#@tab|\{\.python \.input\}|TODO|<!--"
)

@pytest.fixture(scope="module")
def english() -> dict:
    return outline(CHAPTERS / "en" / "scheduler.md")


def test_english_outline_is_what_the_section_needs(english: dict) -> None:
    assert english["headings"][:1] == ["h1"]
    assert english["labels"] == ["sec_scheduler"]
    assert len(english["math_blocks"]) == 1  # the cosine schedule
    assert {key for _, key in english["citations"]} == {
        "Izmailov.Podoprikhin.Garipov.ea.2018", "Loshchilov.Hutter.2016",
        "Gotmare.Keskar.Xiong.ea.2018", "Welling.Teh.2011",
    }
    assert english["exercises"] == 5


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_translation_mirrors_english(code: str, english: dict) -> None:
    source = CHAPTERS / code / "scheduler.md"
    assert source.exists(), f"missing chapter source {source}"
    translated = outline(source)
    for key, value in english.items():
        assert translated[key] == value, f"{code}: {key} differs from English"
    assert mirror_problems(source, CHAPTERS / "en" / "scheduler.md") == []


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_translation_code_cells_are_identical(code: str) -> None:
    en = jupytext.read(CHAPTERS / "en" / "scheduler.md", fmt="md:myst")
    tr = jupytext.read(CHAPTERS / code / "scheduler.md", fmt="md:myst")
    assert [c.cell_type for c in tr.cells] == [c.cell_type for c in en.cells]
    for en_cell, tr_cell in zip(en.cells, tr.cells, strict=True):
        if en_cell.cell_type == "code":
            assert tr_cell.source == en_cell.source
            assert tr_cell.metadata == en_cell.metadata
        else:
            assert tr_cell.source.strip(), "empty markdown cell"


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_no_leftover_d2l_markup(code: str) -> None:
    text = (CHAPTERS / code / "scheduler.md").read_text(encoding="utf-8")
    if code == "en":
        # The English source states its claims in HTML comments (bookbuild/claims.py)
        text = CLAIM.sub("", text)
    leftovers = [m.group(0) for m in D2L_MARKUP.finditer(text)]
    assert not leftovers, f"{code}: leftover d2l markup or TODO: {leftovers}"


def test_translations_differ_from_english() -> None:
    """A copy of the English prose is not a translation."""
    en = jupytext.read(CHAPTERS / "en" / "scheduler.md", fmt="md:myst")
    en_prose = {c.source for c in en.cells if c.cell_type == "markdown"}
    for code in TRANSLATIONS:
        tr = jupytext.read(CHAPTERS / code / "scheduler.md", fmt="md:myst")
        same = [c.source[:60] for c in tr.cells if c.cell_type == "markdown"
                and c.source in en_prose and len(c.source) > 200]
        assert not same, f"{code}: untranslated paragraphs: {same}"


LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
LICENCE = "CC BY-SA 4.0"


def chapter_title(code: str) -> str:
    """The text of the chapter's first heading, e.g. "Learning Rate Scheduling"."""
    tokens = MARKDOWN.parse((CHAPTERS / code / "scheduler.md").read_text(encoding="utf-8"))
    first = next(i for i, t in enumerate(tokens) if t.type == "heading_open")
    return tokens[first + 1].content


def landing_outline(markdown: str) -> dict:
    """What must agree across the languages' landing pages."""
    tokens = MARKDOWN.parse(markdown)
    inline = [child for t in tokens if t.type == "inline" for child in t.children or []]
    link_texts = [
        inline[i + 1].content for i, c in enumerate(inline)
        if c.type == "link_open" and c.attrGet("href") == LICENCE_URL
    ]
    return {
        "headings": [t.tag for t in tokens if t.type == "heading_open"],
        "links": [c.attrGet("href") for c in inline if c.type == "link_open"],
        "licence_link_texts": link_texts,
        "fences": [t.info for t in tokens if t.type in ("fence", "colon_fence")],
        "roles": [(c.meta["name"], c.content) for c in inline if c.type == "myst_role"],
    }


def test_english_landing_is_what_the_book_needs() -> None:
    text = read_book_text("en", ROOT)
    assert landing_outline(text.landing) == {
        "headings": [],  # the book's title is the landing page's heading
        "links": ["https://d2l.ai", LICENCE_URL],
        "licence_link_texts": [LICENCE],
        "fences": ["{language-list}"],
        "roles": [("ref", "sec_scheduler")],
    }
    assert text.index_md().startswith(f"# {text.title}\n")


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_book_text_mirrors_english(code: str) -> None:
    text = read_book_text(code, ROOT)
    english = landing_outline(read_book_text("en", ROOT).landing)
    assert landing_outline(text.landing) == english, f"{code}: landing differs from English"
    assert LICENCE in text.author, f"{code}: the author line lost the licence"
    section = chapter_title(code)
    assert text.title.endswith(section), f"{code}: title {text.title!r} is not the section's"
    assert section in text.landing, f"{code}: the landing page does not name the section"


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_book_text_is_translated(code: str) -> None:
    english, text = read_book_text("en", ROOT), read_book_text(code, ROOT)
    for key in ("title", "author", "landing"):
        assert getattr(text, key) != getattr(english, key), f"{code}: {key} is the English one"
    for key, line in english.lines.items():
        if not re.sub(r"\{\w+\}|\W", "", line):
            continue  # no words, only placeholders and punctuation: "{first}, {second}"
        if key == "cite_et_al":
            continue  # Latin, written "et al." in more languages than English (pt)
        assert text.lines[key] != line, f"{code}: {key} is the English one"


def explorers(code: str) -> list[tuple[dict[str, str], str]]:
    """(options, body) of every schedule explorer in the chapter source of `code`, read
    with MyST's own directive parser (which rejects unknown options)."""
    text = (CHAPTERS / code / "scheduler.md").read_text(encoding="utf-8")
    found = []
    for token in MARKDOWN.parse(text):
        if token.type == "colon_fence" and token.info.strip() == f"{{{EXPLORER}}}":
            result = parse_directive_text(ScheduleExplorer, "", token.content)
            assert not result.warnings, f"{code}: {EXPLORER}: {result.warnings}"
            found.append((result.options, "\n".join(result.body).strip()))
    return found


def test_english_explorer_has_every_label() -> None:
    [(options, body)] = explorers("en")
    assert list(options) == list(EXPLORER_OPTIONS)
    assert all(value.strip() for value in options.values())
    assert body


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_translation_explorer_is_translated(code: str) -> None:
    """Same labels in the same order, each given; the help text and the labels in the
    page's language (a word may stay as in English, e.g. "epoch" in Indonesian, but not
    most of them)."""
    [(en_options, en_body)] = explorers("en")
    [(options, body)] = explorers(code)
    assert list(options) == list(en_options)
    assert all(value.strip() for value in options.values())
    assert body and body != en_body, f"{code}: the explorer's help text is not translated"
    same = [key for key, value in options.items() if value == en_options[key]]
    assert len(same) <= len(options) // 4, f"{code}: explorer labels left in English: {same}"
