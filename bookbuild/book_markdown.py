"""What a notebook's Markdown takes from the book: its MyST parser, its bibliography and
reference styles as `_config.yml` sets them (the reference style with each language's
words between authors' names, :mod:`bookbuild.citations`), and Sphinx's translated
admonition titles (for :mod:`bookbuild.plain_markdown`)."""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pybtex.plugin
import sphinx
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from pybtex.backends import BaseBackend
from pybtex.database import BibliographyData, parse_file
from pybtex.exceptions import PybtexError
from pybtex.richtext import BaseMultipartText, BaseText, Text
from pybtex.style import FormattedEntry
from sphinxcontrib.bibtex.plugin import find_plugin
from sphinxcontrib.bibtex.richtext import BaseReferenceText
from sphinxcontrib.bibtex.style.referencing import BaseReferenceStyle

from . import citations
from .config import book_config
from .landing import read_book_text
from .sources import SourceError

# Sphinx's admonition titles (sphinx.locale.admonitionlabels), as msgids of its catalog
ADMONITIONS = {
    "attention": "Attention", "caution": "Caution", "danger": "Danger", "error": "Error",
    "hint": "Hint", "important": "Important", "note": "Note", "seealso": "See also",
    "tip": "Tip", "warning": "Warning",
}


class PlainMarkdownError(SourceError):
    """A chapter source holds MyST that has no plain-Markdown form here; the message
    names the construct, the source file and line."""


@dataclass(frozen=True)
class Book:
    """What the conversion takes from the book's `_config.yml`."""

    parser: MarkdownIt
    bibfile: Path
    bibliography: BibliographyData
    reference_style: BaseReferenceStyle  # as configured, in English
    entry_style_name: str
    formatted: dict[str, FormattedEntry]
    root: Path
    reference_style_name: str
    # pybtex looks plugins up among all entry points each time: once is enough here
    markdown: BaseBackend = field(default_factory=lambda: plugin("pybtex.backends", "markdown"))


@lru_cache
def plugin(group: str, name: str):
    """One shared instance of pybtex's plugin `name` of `group` (they keep no state)."""
    return pybtex.plugin.find_plugin(group, name)()


@lru_cache(maxsize=4096)
def parse(parser: MarkdownIt, markdown: str) -> list[Token]:
    """`parser`'s tokens of `markdown`: every framework's notebook converts the same cells,
    and the caller only reads them."""
    return parser.parse(markdown)


@lru_cache
def book(root: Path) -> Book:
    """The parser, bibliography and styles of the book at `root`, as its pages use them."""
    config = book_config(root)
    extensions = set(config.get("parse", {}).get("myst_enable_extensions", []))
    parser = create_md_parser(MdParserConfig(enable_extensions=extensions), RendererHTML)
    sphinx_config = config.get("sphinx", {}).get("config", {})
    # sphinxcontrib-bibtex's defaults where _config.yml says nothing
    reference_style_name = sphinx_config.get("bibtex_reference_style", "label")
    reference_style = find_plugin("sphinxcontrib.bibtex.style.referencing",
                                  reference_style_name)()
    entry_style_name = sphinx_config.get("bibtex_default_style", "alpha")
    bibfiles = config.get("bibtex_bibfiles", [])
    if len(bibfiles) != 1:
        raise ValueError(f"_config.yml: expected one bibtex_bibfiles entry, got {bibfiles}")
    bibfile = root / bibfiles[0]
    try:
        bibliography = parse_file(str(bibfile))
    except PybtexError as error:
        raise PlainMarkdownError(f"{bibfile}: the bibliography cannot be read ({error}).") \
            from None
    style = plugin("pybtex.style.formatting", entry_style_name)
    # Only label reference styles read the entry's label; the page labels its own list.
    formatted = {e.key: e for e in style.format_entries(bibliography.entries.values())}
    return Book(parser, bibfile, bibliography, reference_style, entry_style_name, formatted,
                root, reference_style_name)


def reference_style(the_book: Book, code: str) -> BaseReferenceStyle:
    """`the_book`'s reference style with the words of language `code` (its book.yml's
    ``cite_and``, ``cite_et_al``), as that language's page cites."""
    return _reference_style(the_book.root, the_book.reference_style_name, code)


@lru_cache
def _reference_style(root: Path, name: str, code: str) -> BaseReferenceStyle:
    text = read_book_text(code, root)
    return citations.localized(name, text.line("cite_and"), text.line("cite_et_al"))()


def admonition_title(name: str, language: str) -> str:
    """The title Sphinx gives the admonition `name` on a page in `language` (a Sphinx
    language code such as ``ko`` or ``zh_CN``)."""
    catalog = gettext.translation("sphinx", localedir=Path(sphinx.__file__).parent / "locale",
                                  languages=[language], fallback=True)
    return catalog.gettext(ADMONITIONS[name])


def unlinked(text: BaseText) -> BaseText:
    """`text` with sphinxcontrib-bibtex's reference parts (which render only to docutils
    links) as plain text."""
    if isinstance(text, BaseReferenceText):
        return Text(*(unlinked(part) for part in text.parts))
    if isinstance(text, BaseMultipartText):
        return text._create_similar(unlinked(part) for part in text.parts)
    return text
