"""Two upstream bugs that put an error in the browser console of every page.

- Sphinx 7.4 writes an inline script twice when an extension adds it with
  `app.add_js_file(None, body=...)` while reading (the builder keeps it with filename
  None, `prepare_writing` adds it again with filename ""): sphinx-thebe's
  `const THEBE_JS_URL = ...` then throws "Identifier 'THEBE_JS_URL' has already been
  declared". Each page keeps one copy of each script.
- pydata-sphinx-theme renders an unset `default_mode` (a template variable) as "" and
  logs "Got invalid theme mode: . Resetting to auto." for a reader with no stored
  choice; "auto" (follow the reader's system) is what it falls back to, so the book
  says so.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def fix_page(app: Sphinx, pagename: str, templatename: str, context: dict,
             doctree: object) -> None:
    """Give the theme a valid `default_mode` and keep one copy of each of the page's
    scripts (equal but for filename None vs "")."""
    if not context.get("default_mode"):
        context["default_mode"] = "auto"
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", script) or "", getattr(script, "priority", 0),
               tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: the list is the builder's, which Sphinx restores after each page.
    scripts[:] = unique


def setup(app: Sphinx) -> None:
    # After the handlers that add a page's scripts (MathJax's among them, priority 500).
    app.connect("html-page-context", fix_page, priority=900)
