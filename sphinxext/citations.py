"""Author-year citations in the page's language (bookbuild/citations.py): the
configured referencing style, registered with the words bookbuild sets from the
language's book.yml (`d2l_cite_and`, `d2l_cite_et_al`), becomes the book's style
before sphinxcontrib-bibtex looks it up (at builder-inited)."""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config

from bookbuild import citations


def _localize(app: Sphinx, config: Config) -> None:
    if config.d2l_cite_and and config.d2l_cite_et_al:
        config.bibtex_reference_style = citations.register(
            config.bibtex_reference_style, config.book_language,
            config.d2l_cite_and, config.d2l_cite_et_al)


def setup(app: Sphinx) -> None:
    # Set by bookbuild (render.language_config); unset, the style keeps its English.
    app.add_config_value("d2l_cite_and", "", "env", types=[str])
    app.add_config_value("d2l_cite_et_al", "", "env", types=[str])
    app.connect("config-inited", _localize)
