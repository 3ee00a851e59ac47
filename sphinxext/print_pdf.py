"""The chapter printed for one framework, and the links to the build's PDFs of it.

Printing a chapter page (the reader's own "Print", or `python -m bookbuild --pdf`, which
prints it with headless Chromium: bookbuild.pdf) gives the framework tab chosen on the
page and nothing of the others: `static/print.css` hides the tab labels (sphinx-design
already shows only the checked tab's code and outputs), the Colab and PDF links and the
explorers' controls, and shows each explorer's chart at its setting with the sentence
`d2l_explorer_print_note` (set by bookbuild from the language's book.yml) in place of
its help text (:func:`print_note`; `hidden` on screen).

When the build makes PDFs it sets `d2l_pdf_label` (the link's text, `{framework}`
standing for the framework's name), and every page with framework tabs gets one link
per framework to its PDF (:data:`bookbuild.vocabulary.PDF_FILE`, relative, so it works
from file:// too); `static/pdf-link.js` shows the one of the chosen tab, as the page's
code does.
"""

from __future__ import annotations

import html
import posixpath

from docutils import nodes
from sphinx.application import Sphinx

from bookbuild.vocabulary import FRAMEWORKS, PDF_FILE

PRINT_NOTE_CLASS = "d2l-print-note"
HELP_CLASS = "d2l-explorer-help"


def pdf_href(docname: str, framework: str) -> str:
    """The link from page `docname` to its PDF for `framework` (a tag, e.g. "pytorch")."""
    folder, stem = posixpath.split(docname)
    target = PDF_FILE.format(chapter=stem, framework=framework)
    return posixpath.relpath(target, folder or ".")


def print_note(text: str) -> list[nodes.Node]:
    """The sentence a printed explorer shows in place of its help text (none when the
    build gave no text)."""
    if not text:
        return []
    return [nodes.raw("", f'<p class="{PRINT_NOTE_CLASS}" hidden>{html.escape(text)}</p>',
                      format="html")]


def add_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    label = app.config.d2l_pdf_label
    if app.builder.format != "html" or not label:
        return
    if not any("d2l-framework-tabs" in n.get("classes", [])
               for n in doctree.findall(nodes.container)):
        return
    links = " ".join(
        f'<a class="d2l-pdf" data-framework="{tag}" href="{html.escape(pdf_href(docname, tag))}"'
        f' type="application/pdf">{html.escape(label.replace("{framework}", name))}</a>'
        for tag, name in FRAMEWORKS
    )
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    raw = nodes.raw("", f'<p class="d2l-pdf-links">{links}</p>', format="html")
    # after the Colab buttons (and their note) when there are, else after the title
    after = [i for i, child in enumerate(section.children)
             if isinstance(child, nodes.raw) and "d2l-colab-buttons" in child.astext()]
    titles = [i for i, child in enumerate(section.children) if isinstance(child, nodes.title)]
    section.insert((after or titles or [-1])[0] + 1, raw)


def setup(app: Sphinx) -> None:
    # Set by bookbuild from the language's book.yml (`pdf_link`, only with --pdf); the
    # explorers' printed note (`explorer_print`) is registered with them (explorers.py)
    app.add_config_value("d2l_pdf_label", "", "html")
    # after colab's handler, whose buttons the links follow
    app.connect("doctree-resolved", add_links, priority=600)
    app.add_css_file("print.css", media="print")
    app.add_js_file("pdf-link.js", loading_method="defer")
