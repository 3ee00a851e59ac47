"""Local Sphinx extension of the book: framework tabs around executed cells,
per-framework Colab buttons, the language switcher, the notice on every page of a
build that trained on a subset of the data, MathJax served from the book itself,
author-year citations in the page's language,
the kernel-free schedule and results explorers, the widget cells' code toggle named
in the page's language, the figures in dark mode, and the page printed for one
framework (with links to the build's PDFs).

Loaded by Jupyter Book through `sphinx: local_extensions: {sphinxext: ./}`.
"""

from __future__ import annotations

import html
from pathlib import Path

from sphinx.application import Sphinx

from . import (
    accessibility,
    citations,
    code_toggle,
    colab,
    console_fixes,
    figures,
    framework_tabs,
    languages,
    mathjax,
    print_pdf,
    results_explorer,
    schedule_explorer,
)

STATIC = Path(__file__).parent / "static"


def _add_static_path(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def _subset_notice(app: Sphinx, pagename: str, templatename: str, context: dict,
                   doctree: object) -> None:
    # A capped build (bookbuild --max-examples) must never pass for the book.
    n = app.config.d2l_max_examples
    if n and "body" in context:
        # The language's own words (chapters/<lang>/book.yml, `subset_notice`)
        notice = app.config.d2l_subset_notice or (
            f"Quick build: the outputs on this page are from a {int(n)}-example subset of "
            "Fashion-MNIST, not from the book's full-data runs.")
        context["body"] = (
            '<div class="admonition warning d2l-subset-notice" role="note">'
            f"<p>{html.escape(notice)}</p></div>\n" + context["body"]
        )


def setup(app: Sphinx) -> dict:
    # Set by bookbuild for a build on a subset of the data (--max-examples).
    app.add_config_value("d2l_max_examples", None, "html")
    app.add_config_value("d2l_subset_notice", "", "html")
    app.connect("html-page-context", _subset_notice)
    framework_tabs.setup(app)
    colab.setup(app)
    languages.setup(app)
    mathjax.setup(app)
    console_fixes.setup(app)
    schedule_explorer.setup(app)
    results_explorer.setup(app)
    code_toggle.setup(app)
    accessibility.setup(app)
    citations.setup(app)
    figures.setup(app)
    print_pdf.setup(app)
    app.connect("builder-inited", _add_static_path)
    app.add_css_file("book.css")
    app.add_js_file("language-switch.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
