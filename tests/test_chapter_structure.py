"""Every translation mirrors the English chapter: same headings (levels and
order), byte-identical code cells, the same math, labels, citations and number
of exercises, and no leftover d2l markup."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

from bookbuild.claims import CLAIM
from bookbuild.languages import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
TRANSLATIONS = [lang.code for lang in LANGUAGES if lang.code != "en"]
D2L_MARKUP = re.compile(
    r":label:|:numref:|:cite:`|:citet:|:begin_tab:|:end_tab:|#@tab|\{\.python \.input\}|TODO|<!--"
)

_parser = (
    MarkdownIt("commonmark")
    .use(front_matter_plugin)
    .use(dollarmath_plugin)
    .use(myst_role_plugin)
    .use(myst_block_plugin)
    .use(colon_fence_plugin)
)


def outline(path: Path) -> dict:
    """What must agree across languages, read with markdown-it's MyST plugins."""
    tokens = _parser.parse(path.read_text(encoding="utf-8"))
    inline = [child for t in tokens if t.type == "inline" for child in t.children or []]
    in_ordered, exercises = False, 0
    for t in tokens:
        if t.type == "ordered_list_open":
            in_ordered = True
        elif t.type == "ordered_list_close":
            in_ordered = False
        elif t.type == "list_item_open" and in_ordered and t.level == 1:
            exercises += 1
    return {
        "headings": [t.tag for t in tokens if t.type == "heading_open"],
        "labels": [t.content for t in tokens if t.type == "myst_target"],
        "math_blocks": [t.content.strip() for t in tokens if t.type == "math_block"],
        "inline_math": sorted(c.content for c in inline if c.type == "math_inline"),
        "citations": [
            (c.meta["name"], c.content) for c in inline if c.type == "myst_role"
            and c.meta["name"].startswith("cite")
        ],
        "fences": [t.info for t in tokens if t.type in ("fence", "colon_fence")],
        "exercises": exercises,
    }


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
