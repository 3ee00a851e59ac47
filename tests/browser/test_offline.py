"""The book works offline: every page needs nothing but the book's own files.

The root redirect and each language's chapter page, index, search page and general
index open in headless Chromium
with every request outside the book aborted (`new_page(blocked=...)` in conftest.py),
served on loopback and opened straight from disk (`file://`, a saved copy). Nothing may
try to leave the machine or fail to load, and MathJax (vendored by sphinxext.mathjax)
must typeset every formula the HTML holds, so no raw TeX is left on the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bs4 import BeautifulSoup

from bookbuild.vocabulary import LANGUAGES

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import ConsoleMessage, Page, Request, Response

# Search and the general index are pages a reader reaches from every book's sidebar.
PAGES = [
    path for lang in LANGUAGES
    for path in (f"{lang.code}/index.html", f"{lang.code}/chapters/{lang.code}/scheduler.html",
                 f"{lang.code}/search.html", f"{lang.code}/genindex.html")
]
# Resolves once MathJax has typeset the page; `false` when MathJax never started.
MATHJAX_DONE = """() => window.MathJax && MathJax.startup && MathJax.startup.promise
  ? MathJax.startup.promise.then(() => true) : false"""
# Per `.math` element of the page: how many typeset formulas it holds, whether MathJax
# reported a TeX error in it, and the text left outside them (equation numbers aside).
MATH_STATE = """() => [...document.querySelectorAll('.math')].map(el => {
  const rest = el.cloneNode(true);
  rest.querySelectorAll('mjx-container, .eqno').forEach(n => n.remove());
  return {containers: el.querySelectorAll('mjx-container').length,
          errors: el.querySelectorAll('mjx-merror').length,
          rest: rest.textContent.trim()};
})"""
# Visible text outside code and formulas, where TeX delimiters or commands would be raw.
PROSE = """() => { const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container').forEach(n => n.remove());
  return body.textContent; }"""
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "\\frac", "\\eta", "\\mathcal", "\\begin{")


def math_in_html(path: Path) -> int:
    """Number of formulas (`.math` elements) Sphinx wrote into the page file."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return len(soup.select(".math"))


def load_offline(new_page: Callable[..., Page], url: str,
                 redirect_to: str | None = None) -> tuple[Page, list[str]]:
    """Open `url` with the network cut off (and, given `redirect_to`, a URL pattern, wait
    until the page has redirected there); returns the page (MathJax done) and every
    problem seen: requests leaving the machine, failed requests, HTTP errors, console
    errors and uncaught exceptions."""
    blocked: list[str] = []
    problems: list[str] = []
    page = new_page(blocked=blocked)

    def failed(request: Request) -> None:
        if request.url not in blocked:
            problems.append(f"failed to load {request.url}: {request.failure}")

    def bad_status(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {response.url}")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    page.on("requestfailed", failed)
    page.on("response", bad_status)
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.goto(url, wait_until="load")
    if redirect_to is not None:
        page.wait_for_url(redirect_to, timeout=10_000)
    page.evaluate(MATHJAX_DONE)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    problems[:0] = [f"tried to leave the machine: {u}" for u in blocked]
    return page, problems


@pytest.mark.parametrize("origin", ["http", "file"])
@pytest.mark.parametrize("path", PAGES)
def test_page_needs_only_the_books_files(new_page, site, build, path, origin) -> None:
    html_dir, _ = build
    file = html_dir / path
    url = f"{site}/{path}" if origin == "http" else file.as_uri()
    page, problems = load_offline(new_page, url)
    try:
        assert not problems, f"{url}:\n" + "\n".join(problems)
        expected = math_in_html(file)
        if path.endswith("scheduler.html"):
            assert expected >= 10, f"{path}: only {expected} formulas in the HTML"
        if expected:
            assert page.evaluate(MATHJAX_DONE), f"{url}: MathJax did not start"
        state = page.evaluate(MATH_STATE)
        assert len(state) == expected
        untypeset = [s for s in state if s["containers"] != 1 or s["errors"] or s["rest"]]
        assert not untypeset, f"{url}: formulas not typeset: {untypeset[:5]}"
        prose = page.evaluate(PROSE)
        raw = [tex for tex in RAW_TEX if tex in prose]
        assert not raw, f"{url}: raw TeX in the text: {raw}"
    finally:
        page.context.close()


@pytest.mark.parametrize("origin", ["http", "file"])
def test_root_redirects_to_the_english_book_offline(new_page, site, build, origin) -> None:
    html_dir, _ = build
    url = f"{site}/index.html" if origin == "http" else (html_dir / "index.html").as_uri()
    page, problems = load_offline(new_page, url, redirect_to="**/en/index.html")
    try:
        assert not problems, f"{url}:\n" + "\n".join(problems)
    finally:
        page.context.close()
