"""The markup fixes behind tests/browser/test_axe.py, without a build: the bibliography's
entries are list items (sphinxext.accessibility) and the root page has a language and a
title (bookbuild.render.write_root_redirect)."""

from __future__ import annotations

from pathlib import Path

from bookbuild.landing import read_book_text
from bookbuild.render import write_root_redirect
from bookbuild.vocabulary import LANGUAGES
from sphinxext.accessibility import fix_bibliography

# docutils 0.21's HTML5 writer, as Sphinx writes sphinxcontrib-bibtex's entries
DOCUTILS_CITATIONS = """<div role="list" class="citation-list">
<div class="citation" id="id8" role="doc-biblioentry">
<span class="label"><span class="fn-bracket">[</span><a role="doc-backlink" href="#id3">GKXS18</a>\
<span class="fn-bracket">]</span></span>
<p>Akhilesh Gotmare ...</p>
</div>
<div class="citation" id="id7" role="doc-biblioentry">
<span class="label"><a role="doc-backlink" href="#id1">IPG+18</a></span>
</div>
</div>"""


def test_bibliography_entries_are_list_items() -> None:
    context = {"body": f"<p>text</p>\n{DOCUTILS_CITATIONS}"}
    fix_bibliography(None, "page", "page.html", context, None)
    body = context["body"]
    assert "doc-biblioentry" not in body
    assert body.count('<div class="citation" id="id8" role="listitem">') == 1
    assert body.count('role="listitem"') == 2
    assert body.count('role="doc-backlink"') == 2 and '<div role="list"' in body


def test_page_without_citations_is_left_alone() -> None:
    context = {"body": '<p role="doc-biblioentry">prose about roles</p>'}
    fix_bibliography(None, "page", "page.html", context, None)
    assert context["body"] == '<p role="doc-biblioentry">prose about roles</p>'


def test_root_page_has_a_language_and_a_title(tmp_path: Path) -> None:
    (tmp_path / "html").mkdir()
    default = LANGUAGES[0]
    text = write_root_redirect(tmp_path, default).read_text(encoding="utf-8")
    assert f'<html lang="{default.sphinx.replace("_", "-")}">' in text
    title = read_book_text(default.code).title
    assert f"<title>{title}</title>" in text
    assert 'content="0; url=en/index.html"' in text
