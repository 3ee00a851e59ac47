"""Local Sphinx extension of the book: framework tabs around executed cells,
per-framework Colab buttons, and the language switcher.

Loaded by Jupyter Book through `sphinx: local_extensions: {sphinxext: ./}`.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from . import colab, framework_tabs, languages

STATIC = Path(__file__).parent / "static"


def _add_static_path(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    framework_tabs.setup(app)
    colab.setup(app)
    languages.setup(app)
    app.connect("builder-inited", _add_static_path)
    app.add_css_file("book.css")
    app.add_js_file("language-switch.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
