"""The chapter's figures in dark mode.

The build gives every figure of a page (the matplotlib SVGs of the executed cells) the
class `d2l-figure`, with pydata-sphinx-theme's `dark-light` (which turns off the theme's
white box and dimming behind images in dark mode), and a transparent background
(bookbuild/figures.py). `static/figures.css` inverts their lightness in dark mode and
turns the hues back, so black axes, labels and legend text become white and each line
keeps its colour family, on the page's own dark background. In light mode nothing
changes: the transparent figure on the white page looks as before.
"""

from __future__ import annotations

from sphinx.application import Sphinx

STYLESHEET = "figures.css"


def setup(app: Sphinx) -> None:
    app.add_css_file(STYLESHEET)
