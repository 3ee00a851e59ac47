"""Every translation mirrors the English chapter source: the same headings (levels and
order), labels, math, citations, fences and number of exercises, and byte-identical
code cells with the same tags. The build checks this before any kernel starts, so a
code cell changed in one language, or a section missing from one, stops it with the
file and what differs (tests/test_chapter_structure.py checks the same)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import jupytext
from docutils.parsers.rst import Directive, directives
from docutils.parsers.rst.directives.misc import TestDirective
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin
from myst_parser.parsers.directives import parse_directive_text

from .vocabulary import EXPLORERS

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


def mirror_problems(source: Path, english: Path) -> list[str]:
    """How the chapter source `source` fails to mirror `english` (empty: it mirrors it)."""
    problems = []
    mine, theirs = outline(source), outline(english)
    for key, value in theirs.items():
        if mine[key] != value:
            problems.append(f"its {key.replace('_', ' ')} differ from the English source's")
    en = [c for c in jupytext.read(english, fmt="md:myst").cells if c.cell_type == "code"]
    tr = [c for c in jupytext.read(source, fmt="md:myst").cells if c.cell_type == "code"]
    if len(tr) != len(en):
        problems.append(f"it has {len(tr)} code cells, the English source {len(en)}")
    for i, (a, b) in enumerate(zip(tr, en, strict=False), start=1):
        if a.source != b.source or a.metadata.get("tags") != b.metadata.get("tags"):
            first = (b.source.splitlines() or [""])[0]
            problems.append(f"code cell {i} (the English one starts {first!r}) differs from "
                            "the English source's: the code and its tags are the same in "
                            "every language")
    return problems


Explorers = Mapping[str, tuple[type[Directive], Sequence[str]]]
"""The page-only directives by name: (the directive class MyST parses a block with, the
options every block of it must give)."""


def english_explorers(english: Path) -> Explorers:
    """The page-only directives (:data:`bookbuild.vocabulary.EXPLORERS`) as the English
    source `english` uses them: for each, a docutils directive that takes exactly the
    options of the English block (each a required label) and a body, and those options.

    A translation's explorers are checked against these without importing the Sphinx
    extension (which needs Sphinx): `python -m bookbuild translations` runs where only
    requirements-translate.txt is installed. The English source itself is checked
    against the extension's own directives by the build and tests/test_sources.py.
    """
    found: dict[str, tuple[type[Directive], Sequence[str]]] = {}
    for token in _parser.parse(english.read_text(encoding="utf-8")):
        name = token.info.strip().strip("{}") if token.type == "colon_fence" else ""
        if name not in EXPLORERS or name in found:
            continue
        # MyST reads every option of docutils' TestDirective as given: the option names
        options = tuple(parse_directive_text(TestDirective, "", token.content).options)
        spec = {option: directives.unchanged_required for option in options}
        found[name] = (type(f"English{name.title().replace('-', '')}", (Directive,),
                            {"has_content": True, "option_spec": spec}), options)
    return found
