"""Read a chapter source (a MyST markdown notebook) and refuse one whose structure
jupytext would silently misread.

jupytext reads an unclosed code fence without complaint: the cell swallows the text and
cells after it, and the generated notebooks come out broken. So before jupytext reads a
source, this module parses it with jupytext's own markdown-it parser and checks what
the book relies on, each problem reported as ``<source>:<line>: ...`` (a line of the
source, never of a generated notebook):

- every code fence is closed, and no code cell runs into the next cell's opening line;
- the cell options parse, and a code cell's tags are known (a misspelt framework tag
  would otherwise put the cell on all three tabs);
- every ``{ref}``, ``{numref}`` and ``{eq}`` target is a label of the same source;
- the page-only directives (``{schedule-explorer}``, ``{results-explorer}``) have every
  option they need and no unknown one.

The notebook returned carries ``metadata["source_map"]``: for every cell, the source
line it starts at, in the convention MyST-NB uses to report Sphinx warnings at source
lines (0-based first line of a markdown cell, 1-based fence line of a code cell).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat
from jupytext.myst import MystMetadataParsingError, get_parser, myst_to_notebook

from .mirror import MARKDOWN, Explorer, Explorers
from .vocabulary import FRAMEWORK_TAGS

CODE_DIRECTIVE = "{code-cell}"
# Cell tags the book's tools understand besides the frameworks: nbval's (the tests run
# the English notebooks) and MyST-NB's display tags.
KNOWN_TAGS = frozenset(FRAMEWORK_TAGS) | {
    "nbval-check-output", "nbval-ignore-output", "nbval-skip", "nbval-raises-exception",
    "raises-exception", "skip-execution", "hide-input", "hide-output", "hide-cell",
    "remove-input", "remove-output", "remove-cell",
    # papermill's: the cell whose values a run may override (`python -m bookbuild.spread`)
    "parameters",
}
# Roles whose target must be a label of the same page (there is one page per language).
LABEL_ROLES = ("ref", "numref", "eq")
# A line opening a MyST directive fence: inside a code cell it can only mean that the
# cell's closing fence is missing.
DIRECTIVE_OPENING = re.compile(r"^\s*(`{3,}|~{3,})\s*\{[\w-]+\}")
LABEL_LINE = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")
ROLE_TARGET = re.compile(r"<([^<>]+)>\s*$")


class SourceError(ValueError):
    """A chapter source cannot be turned into notebooks; the message names the file and
    line of every problem found and says what to do."""


def _closes(line: str, markup: str) -> bool:
    """Whether `line` is a closing fence for an opening fence of `markup` (CommonMark:
    the same character, at least as many, nothing else but spaces)."""
    stripped = line.strip()
    return (len(stripped) >= len(markup) and set(stripped) == {markup[0]}
            and len(line) - len(line.lstrip(" ")) <= 3)


def _closed(token, lines: list[str]) -> bool:
    """Whether the fence `token` ends on a closing line (markdown-it runs an unclosed
    fence to the end of the document without saying so)."""
    first, end = token.map
    return first < end - 1 < len(lines) and _closes(lines[end - 1], token.markup)


def fence_problems(tokens: list, lines: list[str]) -> list[tuple[int, str]]:
    """(1-based line, message) for each top-level code fence among `tokens` (of
    :data:`bookbuild.mirror.MARKDOWN`, parsed from `lines`) that jupytext would
    not read as the cell it looks like: unclosed, or closed by a different fence."""
    problems = []
    for token in tokens:
        # jupytext reads only top-level fences as cells; nested ones (in a list or a
        # quote) carry their container's prefix on every line
        if token.type != "fence" or token.map is None or token.level != 0:
            continue
        first, end = token.map
        what = f"code cell ({token.markup}{token.info})" \
            if token.info.startswith(CODE_DIRECTIVE) else "code fence"
        if token.info.startswith(CODE_DIRECTIVE):
            for offset, line in enumerate(token.content.splitlines()):
                if DIRECTIVE_OPENING.match(line):
                    # the content starts on the line after the fence
                    problems.append((first + 1, (
                        f"the {what} opened here runs into line {first + 2 + offset}, "
                        f"which opens another cell: add its closing {token.markup} line "
                        "after the cell's code")))
                    break
            else:
                if not _closed(token, lines):
                    problems.append((first + 1, (
                        f"the {what} opened here is never closed: add a {token.markup} "
                        "line after the cell's code")))
        elif not _closed(token, lines):
            problems.append((first + 1, (
                f"the {what} opened here is never closed: add a {token.markup} line "
                "after its last line")))
    return problems


def _role_problems(tokens: list, lines: list[str]) -> list[tuple[int, str]]:
    labels = {m.group(1) for line in lines if (m := LABEL_LINE.match(line))}
    labels |= {m.group(1) for line in lines
               if (m := re.match(r"^\s*:(?:label|name):\s*(\S+)\s*$", line))}
    problems = []
    for token in tokens:
        if token.type != "inline" or token.map is None:
            continue
        for child in token.children or []:
            if child.type != "myst_role" or child.meta.get("name") not in LABEL_ROLES:
                continue
            match = ROLE_TARGET.search(child.content)
            target = (match.group(1) if match else child.content).strip()
            if target in labels:
                continue
            text = f"{{{child.meta['name']}}}`{child.content}`"
            first, end = token.map
            line = next((i for i in range(first, end) if text in lines[i]), first)
            problems.append((line + 1, (
                f"{text} points at the label {target!r}, which this source does not "
                f"define: define it with a line ({target})= above its heading, or fix "
                "the name")))
    return problems


def _tag_problems(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    problems = []
    for cell, line in zip(nb.cells, nb.metadata["source_map"], strict=True):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append((line, (
                f"the code cell's tags must be a list of words, e.g. :tags: [pytorch]; "
                f"got {tags!r}")))
            continue
        unknown = [t for t in tags if t not in KNOWN_TAGS]
        if unknown:
            problems.append((line, (
                f"the code cell has unknown tag(s) {', '.join(unknown)}: a code cell is "
                f"tagged with the frameworks it belongs to ({', '.join(FRAMEWORK_TAGS)}; "
                "untagged = all three); fix the spelling, or add a new tag to KNOWN_TAGS "
                "in bookbuild/sources.py")))
    return problems


def sphinx_explorers() -> Explorers:
    """The page-only directives as the book's Sphinx extension defines them, read with
    MyST's own directive parser (imports Sphinx)."""
    # Imported here: sphinxext imports bookbuild's vocabulary itself, and the
    # translators' check (which reads the English source's explorers) runs without
    # Sphinx, which both need
    from myst_parser.parsers.directives import parse_directive_text

    from sphinxext import results_explorer, schedule_explorer

    def reader(directive: type) -> Callable[[str], Explorer]:
        def read(content: str) -> Explorer:
            result = parse_directive_text(directive, "", content)
            return Explorer(dict(result.options), list(result.body),
                            [warning.msg for warning in result.warnings])
        return read

    return {
        schedule_explorer.NAME: (reader(schedule_explorer.ScheduleExplorer),
                                 schedule_explorer.OPTIONS),
        results_explorer.NAME: (reader(results_explorer.ResultsExplorer),
                                results_explorer.OPTIONS),
    }


def _directive_problems(text: str, directives: Explorers) -> list[tuple[int, str]]:
    """The page-only directives (the kernel-free explorers) with an unknown or missing
    option: found here, at the source's line, rather than by Sphinx after every
    notebook has run, at a line of the page notebook."""
    problems = []
    for token in MARKDOWN.parse(text):
        name = token.info.strip().strip("{}") if token.type == "colon_fence" else ""
        if name not in directives:
            continue
        read, required = directives[name]
        line = token.map[0] + 1
        result = read(token.content)
        problems += [(line, f"{{{name}}}: {warning}") for warning in result.warnings]
        missing = [option for option in required if not result.options.get(option)]
        if missing:
            problems.append((line, f"{{{name}}} lacks the option(s) "
                             f"{', '.join(':' + m + ':' for m in missing)}: every label of "
                             "the explorer is an option, in the page's language"))
    return problems


def _markdown_starts(nb: nbformat.NotebookNode, lines: list[str]) -> None:
    """Point markdown cells' source_map entries at their first non-blank line (jupytext
    strips leading blank lines from a markdown cell but maps it where the text before
    it ended)."""
    source_map = nb.metadata["source_map"]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            start = source_map[i]
            while start < len(lines) and not lines[start].strip():
                start += 1
            source_map[i] = start


def read_source(path: Path, explorers: Explorers | None = None) -> nbformat.NotebookNode:
    """The chapter source at `path` as a notebook (jupytext's MyST reader), with
    ``metadata["source_map"]`` (see the module docstring). Its explorers are checked
    against `explorers` (default: the Sphinx extension's, :func:`sphinx_explorers`).

    Raises:
        SourceError: the source is not well-formed MyST (every problem, each with its
            line), or cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"{path}: cannot be read ({error}).") from None
    lines = text.splitlines()
    tokens = get_parser().enable("inline").parse(text + "\n")
    fences = fence_problems(tokens, lines)
    problems = fences + _role_problems(tokens, lines) + _directive_problems(
        text, sphinx_explorers() if explorers is None else explorers)
    if not fences:  # with a broken fence, the cells jupytext sees are not the source's
        try:
            mapped = myst_to_notebook(text, add_source_map=True)
        except MystMetadataParsingError as error:
            # jupytext names the cell's line but not the file, and appends YAML's
            # multi-line diagram; keep the line and YAML's one-line reason.
            line = re.search(r"at line (\d+)", str(error))
            yaml_error = error.__context__
            reason = getattr(yaml_error, "problem", None) or str(error).splitlines()[0]
            raise SourceError(
                f"{path}:{line.group(1) if line else '?'}: the cell's options are not "
                f"valid YAML ({reason}): write them as ':key: value' lines right after "
                "the fence, e.g. ':tags: [pytorch]'.") from None
        problems += _tag_problems(mapped)
    if problems:
        problems.sort()
        listed = "; ".join(f"{path}:{line}: {what}" for line, what in problems[:3])
        more = f" (and {len(problems) - 3} more problems)" if len(problems) > 3 else ""
        raise SourceError(f"{listed}{more}.")
    nb = jupytext.read(path, fmt="md:myst")
    nb.metadata["source_map"] = list(mapped.metadata["source_map"])
    _markdown_starts(nb, lines)
    return nb
