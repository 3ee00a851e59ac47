"""Author-year citations in the page's language (bookbuild/citations.py): the
configured sphinxcontrib-bibtex style with each language's "and" and "et al." from its
book.yml, in the notebooks' plain Markdown and as the plugin the Sphinx build uses."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from pybtex.plugin import find_plugin as pybtex_plugin
from sphinxcontrib.bibtex.plugin import find_plugin
from sphinxcontrib.bibtex.style.referencing import format_references
from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

from bookbuild import citations
from bookbuild.book_markdown import book, unlinked
from bookbuild.plain_markdown import plain_cells
from sphinxext.citations import _localize

ROOT = Path(__file__).resolve().parent.parent
CELL = ("{cite:t}`Loshchilov.Hutter.2016`; {cite:t}`Izmailov.Podoprikhin.Garipov.ea.2018`; "
        "{cite:p}`Gotmare.Keskar.Xiong.ea.2018`")


@pytest.mark.parametrize(("code", "expected"), [
    ("en", r"Loshchilov and Hutter \[2016\]; Izmailov *et al\.* \[2018\]; "
           r"\[Gotmare *et al\.*, 2018\]"),
    ("ko", r"Loshchilov 및 Hutter \[2016\]; Izmailov 외 \[2018\]; \[Gotmare 외, 2018\]"),
    ("id", r"Loshchilov dan Hutter \[2016\]; Izmailov dkk\. \[2018\]; \[Gotmare dkk\., 2018\]"),
    ("tr", r"Loshchilov ve Hutter \[2016\]; Izmailov vd\. \[2018\]; \[Gotmare vd\., 2018\]"),
    ("pt", r"Loshchilov e Hutter \[2016\]; Izmailov *et al\.* \[2018\]; "
           r"\[Gotmare *et al\.*, 2018\]"),
    ("zh", r"Loshchilov 和 Hutter \[2016\]; Izmailov 等 \[2018\]; \[Gotmare 等, 2018\]"),
])
def test_a_notebook_cites_in_its_language(code: str, expected: str) -> None:
    source = ROOT / "chapters" / code / "scheduler.md"
    [markdown] = plain_cells([CELL], source=source, framework="pytorch", language=code)
    assert markdown == expected


def cite(style_name: str, keys: list[str], role: str = "t") -> str:
    the_book = book(ROOT)
    style = find_plugin(citations.GROUP, style_name)()
    info = SphinxReferenceInfo(builder=None, fromdocname="", todocname="", citation_id="",
                               title=None, pre_text="", post_text="")
    refs = [(the_book.bibliography.entries[k], the_book.formatted[k], info) for k in keys]
    text = unlinked(format_references(style, role, refs))
    return text.render(pybtex_plugin("pybtex.backends", "text")())


def test_the_sphinx_build_registers_the_pages_style() -> None:
    config = SimpleNamespace(d2l_cite_and="ve", d2l_cite_et_al="vd.", book_language="tr",
                             bibtex_reference_style="author_year")
    _localize(None, config)
    assert config.bibtex_reference_style == "author_year_tr"
    assert cite("author_year_tr", ["Loshchilov.Hutter.2016"]) == "Loshchilov ve Hutter [2016]"
    # three or more authors in full: the same word before the last, no serial comma
    assert cite("author_year_tr", ["Gotmare.Keskar.Xiong.ea.2018"], "ts") == \
        "Gotmare, Keskar, Xiong ve Socher [2018]"
    # English stays sphinxcontrib-bibtex's own
    assert cite("author_year", ["Izmailov.Podoprikhin.Garipov.ea.2018"]) == \
        "Izmailov et al. [2018]"


def test_without_words_the_style_stays() -> None:
    config = SimpleNamespace(d2l_cite_and="", d2l_cite_et_al="", book_language="ko",
                             bibtex_reference_style="author_year")
    _localize(None, config)
    assert config.bibtex_reference_style == "author_year"
