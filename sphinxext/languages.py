"""Languages of the book: the switcher on every page and the landing page list.

Each language is its own build in `_build/html/<code>/` (see bookbuild.render);
a page's twin in another language is the same docname with `chapters/<code>/`
switched. The switcher carries the chosen framework tab along as
`?framework=...` (static/language-switch.js).
"""

from __future__ import annotations

import html
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from bookbuild.vocabulary import CHAPTER, LANGUAGES, SOURCE_LANGUAGE, language

# Templates overriding the theme's: the footer shows each book's author line as written
TEMPLATES = Path(__file__).parent / "templates"


def twin_uri(docname: str, current: str, target: str) -> str:
    """Relative URL from `docname` in build `current` to its twin in build `target`."""
    twin = docname.replace(f"chapters/{current}/", f"chapters/{target}/", 1)
    up = "../" * (docname.count("/") + 1)
    return f"{up}{target}/{twin}.html"


def _links(docname: str, current: str) -> str:
    items = []
    for lang in LANGUAGES:
        href = html.escape(twin_uri(docname, current, lang.code))
        attrs = f'lang="{lang.sphinx.replace("_", "-")}" hreflang="{lang.code}"'
        if lang.code == current:
            items.append(f'<span class="d2l-lang-current" {attrs}>{html.escape(lang.name)}</span>')
        else:
            name = html.escape(lang.name)
            items.append(f'<a class="d2l-lang-link" href="{href}" {attrs}>{name}</a>')
    return " · ".join(items)


class LanguageList(SphinxDirective):
    """`{language-list}`: the languages with their native names, for the landing page."""

    def run(self) -> list[nodes.Node]:
        current = self.config.book_language
        rows = []
        for lang in LANGUAGES:
            chapter = twin_uri(f"chapters/{SOURCE_LANGUAGE}/{CHAPTER}", SOURCE_LANGUAGE,
                               lang.code)
            # The landing page sits at the build root, one level above chapters/.
            href = html.escape(chapter.removeprefix("../../"))
            tag = lang.sphinx.replace("_", "-")
            rows.append(
                f'<li><a class="d2l-lang-link" href="{href}" lang="{tag}" '
                f'hreflang="{lang.code}">{html.escape(lang.name)}</a></li>'
            )
        language(current)  # fails loudly on a misconfigured build
        return [nodes.raw("", f'<ul class="d2l-language-list">{"".join(rows)}</ul>', format="html")]


def add_switcher(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    current = app.config.book_language
    links = _links(docname, current)
    html_text = f'<nav class="d2l-language-switcher" aria-label="Language">{links}</nav>'
    raw = nodes.raw("", html_text, format="html")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None:
        section.insert(0, raw)


def _add_templates(app: Sphinx, config: object) -> None:
    # Before the builder starts, which makes its template loader from templates_path
    app.config.templates_path.insert(0, str(TEMPLATES))


def setup(app: Sphinx) -> None:
    app.add_config_value("book_language", SOURCE_LANGUAGE, "env", types=[str])
    app.connect("config-inited", _add_templates)
    app.add_directive("language-list", LanguageList)
    app.connect("doctree-resolved", add_switcher)
