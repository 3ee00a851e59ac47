"""Author-year citations in the page's language: the words between the authors' names.

sphinxcontrib-bibtex's author-year style writes "Loshchilov and Hutter [2016]" and
"Izmailov *et al.* [2018]" in every language. Its referencing styles are plugins
(``sphinxcontrib.bibtex.style.referencing``) and their names go through a
:class:`~sphinxcontrib.bibtex.style.referencing.PersonStyle` ("and" between two
authors, "et al." after the first of three or more), so each language's book registers
the configured style with its own words from its ``book.yml`` (``cite_and``,
``cite_et_al``; ``*...*`` for the italic of a Latin "et al.") under its own name:
the Sphinx build through :mod:`sphinxext.citations`, the notebooks' plain Markdown
through :mod:`bookbuild.book_markdown`. Between the last two of a longer list of names
the same word stands, without a serial comma.

The bibliography's entries keep the entry style's English words ("In", "pages").
"""

from __future__ import annotations

import dataclasses
import re

from pybtex.richtext import Tag, Text
from sphinxcontrib.bibtex.plugin import find_plugin, register_plugin
from sphinxcontrib.bibtex.style.referencing import BaseReferenceStyle, PersonStyle

GROUP = "sphinxcontrib.bibtex.style.referencing"


def person_style(and_: str, et_al: str) -> PersonStyle:
    """Names joined by `and_` ("A and B", "A, B and C"), a longer list cut to "A et al."
    with `et_al` (in italics when written ``*et al.*``)."""
    italic = re.fullmatch(r"\*(.+)\*", et_al)
    other = Text(" ", Tag("em", italic[1])) if italic else Text(" " + et_al)
    return PersonStyle(sep2=f" {and_} ", last_sep=f" {and_} ", other=other)


def localized(base: str, and_: str, et_al: str) -> type[BaseReferenceStyle]:
    """The referencing style plugin `base` (e.g. ``author_year``) with the words `and_`
    and `et_al` between authors' names; `base` itself when it names no authors."""
    style = find_plugin(GROUP, base)
    if "person" not in {f.name for f in dataclasses.fields(style)}:
        return style
    return dataclasses.make_dataclass(
        f"{style.__name__}Localized",
        [("person", PersonStyle,
          dataclasses.field(default_factory=lambda: person_style(and_, et_al)))],
        bases=(style,))


def register(base: str, code: str, and_: str, et_al: str) -> str:
    """Register `base` with language `code`'s words as the plugin ``<base>_<code>``;
    its name."""
    name = f"{base}_{code}"
    register_plugin(GROUP, name, localized(base, and_, et_al), force=True)
    return name
