"""Every translation mirrors the English chapter source: the same headings (levels and
order), labels, math, citations, fences and number of exercises, and byte-identical
code cells with the same tags. The build checks this before any kernel starts, so a
code cell changed in one language, or a section missing from one, stops it with the
file and what differs (tests/test_chapter_structure.py checks the same)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.field_list import fieldlist_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

from .vocabulary import EXPLORERS

MARKDOWN = (
    MarkdownIt("commonmark")
    .use(front_matter_plugin)
    .use(dollarmath_plugin)
    .use(myst_role_plugin)
    .use(myst_block_plugin)
    .use(colon_fence_plugin)
)
"""The markdown-it parser the build reads the chapter sources with (CommonMark with
MyST's front matter, math, roles, block breaks and ``:::`` fences): light enough for
the translators' check, which has no Sphinx. Its tokens carry source line maps."""


def outline(path: Path) -> dict:
    """What must agree across languages, read with markdown-it's MyST plugins."""
    tokens = MARKDOWN.parse(path.read_text(encoding="utf-8"))
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


@dataclass
class Explorer:
    """One explorer block as read: its options (labels) by name, in order, its body
    (the help text) and what the reader found wrong, e.g. an unknown option."""

    options: dict[str, str]
    body: list[str]
    warnings: list[str] = field(default_factory=list)


Explorers = Mapping[str, tuple[Callable[[str], Explorer], Sequence[str]]]
"""The page-only directives by name: (a reader of a block's content, the options every
block of it must give). The build's is :func:`bookbuild.sources.sphinx_explorers` (MyST's
own directive parser and the Sphinx extension's directives); the translators' check, run
without Sphinx, uses :func:`english_explorers`."""

# The option lines of a directive (`:name: value`) are a field list, as in
# reStructuredText; markdown-it's field list plugin reads them.
_fields = MarkdownIt("commonmark").use(fieldlist_plugin)


def read_fields(content: str) -> Explorer:
    """The options of a directive block's `content` (its leading `:name: value` lines,
    each value as written) and the body after them."""
    tokens = _fields.parse(content)
    lines = content.split("\n")
    if not tokens or tokens[0].type != "field_list_open":
        return Explorer({}, lines)
    options, name = {}, None
    for token in tokens:
        if token.type == "field_list_close":
            break
        if token.type == "inline":
            if name is None:
                name = token.content
            else:
                options[name], name = token.content, None
        elif token.type == "fieldlist_body_close" and name is not None:
            options[name], name = "", None  # an option given without a value
    body = lines[tokens[0].map[1]:]
    while body and not body[0].strip():
        body = body[1:]
    return Explorer(options, body)


def english_explorers(english: Path) -> Explorers:
    """The page-only directives (:data:`bookbuild.vocabulary.EXPLORERS`) as the English
    source `english` uses them: each with a reader that takes exactly the options of the
    English block (and says which others it met), and those options.

    A translation's explorers are checked against these without importing Sphinx or
    MyST's Sphinx parser: `python -m bookbuild translations` runs where only
    requirements-translate.txt is installed. The English source itself is checked
    against the extension's own directives by the build and tests/test_sources.py, and
    tests/test_glossary.py checks that both read every language's explorers alike.
    """
    found: dict[str, tuple[Callable[[str], Explorer], Sequence[str]]] = {}
    for token in MARKDOWN.parse(english.read_text(encoding="utf-8")):
        name = token.info.strip().strip("{}") if token.type == "colon_fence" else ""
        if name in EXPLORERS and name not in found:
            options = tuple(read_fields(token.content).options)
            found[name] = (_reader(options), options)
    return found


def _reader(allowed: Sequence[str]) -> Callable[[str], Explorer]:
    def read(content: str) -> Explorer:
        block = read_fields(content)
        unknown = sorted(set(block.options) - set(allowed))
        if unknown:
            block.warnings.append(f"Unknown option keys: {unknown} (allowed: "
                                  f"{sorted(allowed)})")
            block.options = {k: v for k, v in block.options.items() if k in allowed}
        return block
    return read
