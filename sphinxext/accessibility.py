"""Accessibility fixes of upstream markup, and the script that keeps scrollable blocks
reachable by keyboard (static/scroll-focus.js).

The bibliography. docutils' HTML5 writer (0.21.2, `_html_base.visit_citation`, used by
Sphinx for sphinxcontrib-bibtex's entries) wraps the citations in
`<div role="list" class="citation-list">` and gives each `role="doc-biblioentry"`.
DPUB-ARIA 1.1 deprecated that role because it is not a valid child of a list
(w3c/dpub-aria#22, after w3c/dpub-aria#15): a list holding only such entries has no
list items, and axe-core reports `aria-required-children` (critical, the list's entries
are not read as items) and `aria-deprecated-role` on each entry. The entries here are
plain list items (`role="listitem"`), as DPUB-ARIA 1.1 advises. No upstream issue about
docutils' markup was found (docutils tracks its bugs on SourceForge; pandoc fixed the
same markup in jgm/pandoc#8354).
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

# A citation's opening tag as docutils writes it: <div class="citation" id="..." role=...>
BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def fix_bibliography(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree: object) -> None:
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = BIBLIOENTRY.sub(r'\1 role="listitem"', body)


def setup(app: Sphinx) -> None:
    app.connect("html-page-context", fix_bibliography)
    app.add_js_file("scroll-focus.js", loading_method="defer")
