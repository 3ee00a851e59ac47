"""Math served by the book itself: MathJax 3 vendored under `static/mathjax/`.

Sphinx loads MathJax from a CDN by default, so a page read offline (a classroom, a train,
a saved copy, `file://`) shows raw TeX. The book ships MathJax 3.2.2's
`es5/tex-chtml-full.js` (every TeX extension built in, so no formula makes MathJax fetch
an extension) and the CHTML woff-v2 fonts it loads from `output/chtml/fonts/woff-v2/`
relative to its own URL, with MathJax's Apache-2.0 `LICENSE`; copied unchanged from
`npm pack mathjax@3.2.2`. MyST's `mathjax3_config` (which HTML classes MathJax
processes) is left as MyST sets it.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.ext.mathjax import MATHJAX_URL

# Relative to the build's _static folder, where `static/` is copied.
VENDORED = "mathjax/tex-chtml-full.js"


def use_vendored_mathjax(app: Sphinx, config: Config) -> None:
    """Point `mathjax_path` at the vendored copy unless the book's config chose one."""
    if config.mathjax_path == MATHJAX_URL:
        config.mathjax_path = VENDORED


def setup(app: Sphinx) -> None:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", use_vendored_mathjax)
