"""Turn a chapter's MyST markdown cells into plain Markdown for its per-framework
notebooks, which Jupyter and Colab render without MyST.

The book's pages keep the MyST (bookbuild/pages.py); a notebook gets what the page shows,
in Markdown:

- ``(label)=`` targets and ``%`` comments are dropped;
- an admonition (``note``, ``warning``, ...) becomes a blockquote headed by its title in
  the page's language, from Sphinx's own translations;
- ``{cite:t}`` / ``{cite:p}`` (and the other roles of the configured reference style)
  read as sphinxcontrib-bibtex words them on the page (with the language's "and" and
  "et al."), and a ``{bibliography}`` becomes a list of the entries the notebook
  cites, formatted by the configured pybtex style;
- a ``tab-set`` synced on the framework keeps the body of the notebook's own tab-item;
- ``{ref}`` / ``{numref}`` become links to the heading below the label, anchored the
  way JupyterLab anchors headings;
- directives named in ``drop`` (the page-only ones) are left out.

Anything else MyST (another role or directive, a definition list, a footnote, a
labelled equation) raises :class:`PlainMarkdownError`, naming it and its source line,
rather than reaching a notebook as raw text. Constructs are located with the book's own
MyST parser (myst-parser's parser factory with `_config.yml`'s extensions).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import partial
from pathlib import Path

from docutils.parsers.rst import Directive
from docutils.parsers.rst.directives.admonitions import Admonition, Note
from markdown_it import MarkdownIt
from markdown_it.token import Token
from myst_parser.parsers.directives import (
    DirectiveParsingResult,
    MarkupError,
    parse_directive_text,
)
from sphinx_design.tabs import TabItemDirective, TabSetDirective
from sphinxcontrib.bibtex.citation_target import parse_citation_targets
from sphinxcontrib.bibtex.directives import BibliographyDirective
from sphinxcontrib.bibtex.style.referencing import format_references
from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

from .book_markdown import (
    ADMONITIONS,
    Book,
    PlainMarkdownError,
    admonition_title,
    book,
    parse,
    plugin,
    reference_style,
    unlinked,
)
from .config import ROOT

TAB_SYNC_GROUP = "framework"
# Bibliography filters that mean "what this page cites": one page per language
BIBLIOGRAPHY_FILTERS = {None, "cited", "docname in docnames", "cited and docname in docnames"}
LINK_ROLES = ("ref", "numref")

# Token types that render the same in Jupyter as on the page (CommonMark, tables, math)
_PLAIN_BLOCKS = {
    "paragraph_open", "paragraph_close", "heading_open", "heading_close", "inline",
    "bullet_list_open", "bullet_list_close", "ordered_list_open", "ordered_list_close",
    "list_item_open", "list_item_close", "blockquote_open", "blockquote_close",
    "code_block", "hr", "html_block", "math_block", "amsmath",
    "table_open", "table_close", "thead_open", "thead_close", "tbody_open", "tbody_close",
    "tr_open", "tr_close", "th_open", "th_close", "td_open", "td_close",
}
_PLAIN_INLINE = {
    "text", "text_special", "softbreak", "hardbreak", "code_inline", "em_open", "em_close",
    "strong_open", "strong_close", "link_open", "link_close", "image", "html_inline",
    "math_inline", "s_open", "s_close",
}
_DIRECTIVE_INFO = re.compile(r"^\{([^{}\s]+)\}\s*(.*)$")


def jupyter_anchor(heading: str) -> str:
    """The id JupyterLab gives a heading with text `heading` (its textContent with
    spaces replaced by ``-``)."""
    return heading.replace(" ", "-")


def _inline_text(token: Token) -> str:
    """What a heading's inline token shows as text."""
    shown = {"text": "{}", "text_special": "{}", "code_inline": "{}", "math_inline": "${}$",
             "softbreak": " "}
    return "".join(shown[c.type].format(c.content) for c in token.children or []
                   if c.type in shown)


def _offset(line: int | None, n: int) -> int | None:
    """The source line `n` lines below `line` (None when `line` is unknown)."""
    return None if line is None else line + n


def _splice(lines: list[str], start: int, end: int, new: list[str]) -> None:
    """Replace lines[start:end] by `new`; a removal leaves one blank line, not two."""
    lines[start:end] = new
    if not new:
        while (start < len(lines) and not lines[start].strip()
               and (start == 0 or not lines[start - 1].strip())):
            del lines[start]


class _Converter:
    """Converts the markdown cells of one notebook; `cited` are the keys the whole
    notebook cites (for its bibliography), and the keys each conversion cites are
    collected in `self.cites`."""

    def __init__(self, book: Book, *, source: Path, framework: str, language: str,
                 drop: Collection[str], headings: dict[str, str | None],
                 cited: Sequence[str]) -> None:
        self.book, self.source, self.framework, self.language = book, source, framework, language
        self.drop, self.headings, self.cited = set(drop), headings, cited
        self.cites: list[str] = []

    def error(self, line: int | None, what: str) -> PlainMarkdownError:
        where = f"{self.source}:{line}" if line is not None else str(self.source)
        return PlainMarkdownError(f"{where}: {what}")

    def convert(self, markdown: str, first_line: int | None) -> str:
        """`markdown` as plain Markdown; `first_line` is its 1-based line in the source
        (None when unknown), for error messages."""
        tokens = parse(self.book.parser, markdown)
        lines = markdown.split("\n")
        blocks: list[tuple[int, int, list[str]]] = []
        for token in tokens:
            line = _offset(first_line, token.map[0] if token.map else 0)
            if token.type == "inline":
                self._roles(token, lines, first_line)
            elif token.type in ("myst_target", "myst_line_comment"):
                blocks.append((*token.map, []))
            elif token.type == "colon_fence" or (
                    token.type == "fence" and token.info.startswith("{")):
                if token.level != 0:
                    raise self.error(line, (
                        f"the directive {token.info.split()[0]} sits inside a list or quote; "
                        "a notebook can only show a top-level one"))
                blocks.append((*token.map, self._directive(token, line)))
            elif token.type not in _PLAIN_BLOCKS and token.type != "fence":
                raise self.error(line, (
                    f"{token.type} ({token.markup or token.content[:40]!r}) is MyST that "
                    "bookbuild/plain_markdown.py cannot write as plain Markdown"))
        for start, end, new in sorted(blocks, reverse=True):
            _splice(lines, start, end, new)
        return "\n".join(lines).strip("\n")

    def _roles(self, token: Token, lines: list[str], first_line: int | None) -> None:
        start, end = token.map
        text = "\n".join(lines[start:end])
        for child in token.children or []:
            if child.type == "myst_role":
                name = child.meta["name"]
                # the role as written: its name, then its content between equal backtick runs
                written = re.compile(rf"\{{{re.escape(name)}\}}(`+)(.*?)\1", re.DOTALL)
                match = next((m for m in written.finditer(text)
                              if m.group(2).replace("\n", " ") == child.content), None)
                if match is None:  # e.g. a role broken across lines of a quote
                    raise self.error(_offset(first_line, start), (
                        f"the role {{{name}}}`{child.content}` could not be found in the "
                        "text: write it on one line"))
                line = _offset(first_line, start + text.count("\n", 0, match.start()))
                new = self._role(name, child.content, line)
                text = text[:match.start()] + new + text[match.end():]
            elif child.type not in _PLAIN_INLINE:
                raise self.error(_offset(first_line, start), (
                    f"{child.type} ({child.markup or child.content[:40]!r}) is MyST that "
                    "bookbuild/plain_markdown.py cannot write as plain Markdown"))
        lines[start:end] = text.split("\n")

    def _role(self, name: str, content: str, line: int | None) -> str:
        if name == "cite" or name.startswith("cite:"):
            return self._citation(name.partition(":")[2] or "p", content, line)
        if name in LINK_ROLES:
            return self._link(name, content, line)
        raise self.error(line, (
            f"the role {{{name}}}`{content}` has no plain-Markdown form in a notebook "
            f"(bookbuild/plain_markdown.py handles {{cite:...}}, {{ref}} and {{numref}})"))

    def _citation(self, kind: str, content: str, line: int | None) -> str:
        # in the words of the source's language (chapters/<code>/scheduler.md)
        style = reference_style(self.book, self.source.parent.name)
        if kind not in style.role_names():
            raise self.error(line, f"{{cite:{kind}}} is not a role of the reference style")
        try:
            targets = list(parse_citation_targets(content))
        except ValueError as error:
            raise self.error(line, str(error)) from None
        references = []
        for target in targets:
            if target.key not in self.book.bibliography.entries:
                raise self.error(line, (
                    f"the citation key {target.key!r} is not in {self.book.bibfile.name}"))
            self.cites.append(target.key)
            info = SphinxReferenceInfo(builder=None, fromdocname="", todocname="",
                                       citation_id="", title=None,
                                       pre_text=target.pre, post_text=target.post)
            references.append((self.book.bibliography.entries[target.key],
                               self.book.formatted[target.key], info))
        return unlinked(format_references(style, kind, references)).render(self.book.markdown)

    def _link(self, name: str, content: str, line: int | None) -> str:
        match = re.fullmatch(r"(?s)(.*?)\s*<([^<>]+)>", content)
        text, label = (match.group(1), match.group(2).strip()) if match else ("", content.strip())
        if label not in self.headings:
            raise self.error(line, (
                f"{{{name}}}`{content}` points at the label {label!r}, which this source "
                "does not define"))
        heading = self.headings[label]
        if heading is None:
            raise self.error(line, (
                f"{{{name}}}`{content}`: the label {label!r} is not right above a heading, "
                "so a notebook has nothing to link to"))
        if re.search(r"%s|\{number\}", text):
            raise self.error(line, f"{{{name}}}`{content}`: a notebook numbers no sections")
        return f"[{(text or heading).replace('{name}', heading)}](#{jupyter_anchor(heading)})"

    def _directive_text(self, directive: type[Directive], name: str, first: str, body: str,
                        line: int | None) -> DirectiveParsingResult:
        try:
            parsed = parse_directive_text(directive, first, body)
        except MarkupError as error:
            raise self.error(line, f"the {{{name}}} directive: {error}") from None
        if parsed.warnings:
            raise self.error(line, f"the {{{name}}} directive: {parsed.warnings[0].msg}")
        return parsed

    def _directive(self, token: Token, line: int | None) -> list[str]:
        match = _DIRECTIVE_INFO.match(token.info.strip())
        if not match:
            raise self.error(line, (
                f"a {token.markup} fence without a {{directive}} name has no plain-Markdown "
                "form in a notebook"))
        name, first = match.groups()
        if name in self.drop:
            return []
        if name in ADMONITIONS or name == "admonition":
            directive = Admonition if name == "admonition" else Note
            parsed = self._directive_text(directive, name, first, token.content, line)
            title = parsed.arguments[0] if parsed.arguments else admonition_title(
                name, self.language)
            body = self.convert("\n".join(parsed.body), _offset(line, 1 + parsed.body_offset))
            return [f"> **{title}**", ">", *(f"> {s}" if s else ">" for s in body.split("\n"))]
        if name == "tab-set":
            return self._tab_set(token, line)
        if name == "bibliography":
            parsed = self._directive_text(BibliographyDirective, name, first, token.content, line)
            extra = set(parsed.options) - {"filter", "style"}
            if extra or parsed.options.get("filter") not in BIBLIOGRAPHY_FILTERS:
                raise self.error(line, (
                    "a notebook's {bibliography} lists what the notebook cites: options "
                    f"{sorted(parsed.options)} are not handled"))
            return self._bibliography(parsed.options.get("style", self.book.entry_style_name))
        raise self.error(line, (
            f"the directive {{{name}}} has no plain-Markdown form in a notebook: handle it in "
            "bookbuild/plain_markdown.py, or list it in PAGE_ONLY_DIRECTIVES "
            "(bookbuild/notebooks.py) if only the page should show it"))

    def _tab_set(self, token: Token, line: int | None) -> list[str]:
        parsed = self._directive_text(TabSetDirective, "tab-set", "", token.content, line)
        if parsed.options.get("sync-group") != TAB_SYNC_GROUP:
            raise self.error(line, (
                f"a tab-set without :sync-group: {TAB_SYNC_GROUP} has no plain-Markdown form "
                "in a notebook"))
        body_line = _offset(line, 1 + parsed.body_offset)
        body = "\n".join(parsed.body)
        kept = []
        for item in parse(self.book.parser, body):
            if item.type == "colon_fence" and item.info.split()[:1] == ["{tab-item}"]:
                item_line = _offset(body_line, item.map[0])
                first = item.info.strip()[len("{tab-item}"):].strip()
                tab = self._directive_text(TabItemDirective, "tab-item", first, item.content,
                                           item_line)
                if tab.options.get("sync") == self.framework:
                    kept.append((tab, item_line))
        if len(kept) != 1:
            raise self.error(line, (
                f"the tab-set has {len(kept)} tab-items with :sync: {self.framework}; "
                "a notebook keeps exactly one"))
        tab, item_line = kept[0]
        text = self.convert("\n".join(tab.body), _offset(item_line, 1 + tab.body_offset))
        return text.split("\n") if text else []

    def _bibliography(self, style_name: str) -> list[str]:
        style = plugin("pybtex.style.formatting", style_name)
        entries = [self.book.bibliography.entries[key] for key in dict.fromkeys(self.cited)]
        # pybtex's "newblock" breaks an entry into lines: keep them inside the list item
        return [f"- {entry.text.render(self.book.markdown)}".replace("\n", "\n  ")
                for entry in style.format_entries(entries)]


def _headings(parser: MarkdownIt, cells: Sequence[str]) -> dict[str, str | None]:
    """Every `(label)=` target of `cells`, mapped to the text of the heading right below
    it (None when none is)."""
    headings: dict[str, str | None] = {}
    for markdown in cells:
        tokens = parse(parser, markdown)
        for i, token in enumerate(tokens):
            if token.type == "myst_target":
                below = tokens[i + 1:i + 3]
                headings[token.content] = (
                    _inline_text(below[1]) if len(below) == 2
                    and below[0].type == "heading_open" else None)
    return headings


def plain_cells(cells: Sequence[str], *, source: Path, framework: str, language: str,
                first_lines: Sequence[int | None] | None = None,
                drop: Collection[str] = (), root: Path = ROOT) -> list[str]:
    """The markdown cells `cells` of the chapter source `source` as plain Markdown for
    `framework`'s notebook ("" for a cell with nothing left).

    Args:
        language: the page's Sphinx language code (admonition titles).
        first_lines: each cell's 1-based first line in `source`, for error messages.
        drop: directives that only a page shows, left out.
        root: the book whose `_config.yml` and bibliography apply.

    Raises:
        PlainMarkdownError: a construct without a plain-Markdown form (named, with its
            file and line), a citation key missing from the bibliography, or a
            `{ref}`/`{numref}` to a label that is not above a heading of `source`.
    """
    the_book = book(root.resolve())
    lines = list(first_lines) if first_lines is not None else [None] * len(cells)
    make = partial(_Converter, the_book, source=source, framework=framework,
                   language=language, drop=drop, headings=_headings(the_book.parser, cells))
    # A first pass finds what the notebook cites, which its bibliography lists.
    first = make(cited=())
    for markdown, line in zip(cells, lines, strict=True):
        first.convert(markdown, line)
    second = make(cited=first.cites)
    return [second.convert(markdown, line) for markdown, line in zip(cells, lines, strict=True)]
