"""The toggle in front of a `hide-input` cell's code (the widget cells' code on the page)
is named in the page's language.

MyST-NB writes the toggle as `<summary aria-label="Toggle hidden content">` holding the
prompts `nb_code_prompt_show` / `nb_code_prompt_hide` (bookbuild passes each language's
words from chapters/<lang>/book.yml). The fixed English aria-label would replace those
words for a screen reader on every page; without it the toggle is named by the prompt
shown (the other one is `display: none`), and its state is the element's own
(expanded or collapsed).
"""

from __future__ import annotations

from sphinx.application import Sphinx

MYST_NB_SUMMARY = '<summary aria-label="Toggle hidden content">'


def name_toggles_by_their_prompt(app: Sphinx, pagename: str, templatename: str,
                                 context: dict, doctree: object) -> None:
    body = context.get("body")
    if body and MYST_NB_SUMMARY in body:
        context["body"] = body.replace(MYST_NB_SUMMARY, "<summary>")


def setup(app: Sphinx) -> None:
    app.connect("html-page-context", name_toggles_by_their_prompt)
