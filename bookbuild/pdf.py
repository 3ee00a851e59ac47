"""The chapter as PDFs, one per language and framework (`python -m bookbuild --pdf`).

Headless Chromium, driven by Playwright, prints each rendered chapter page with its
framework chosen (`?framework=<tag>`, sphinx-design's) once MathJax has typeset the
formulas; the book's own print stylesheet (sphinxext/print_pdf.py) leaves the chosen
tab's code and outputs and nothing of the others, and each explorer as its chart at
its default setting, with a sentence that the web page has it to play with. Every
page's header names the book and the framework; its footer has the author line with
the licence, and the page number. No LaTeX: fonts are the system's (fonts-noto-cjk
for Korean and Chinese). Chromium names some CJK ideographs by the radical that shares
their glyph; bookbuild/pdf_unicode.py gives each PDF its ideographs back, so that its
text copies and searches as the page wrote it.

The PDFs go into the rendered book's folder (:data:`bookbuild.vocabulary.PDF_FILE`)
before it is published, so they are published with its HTML, whole.
"""

from __future__ import annotations

import html
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import ROOT
from .landing import BookText, read_book_text
from .pdf_unicode import fix_radicals
from .vocabulary import CHAPTER, FRAMEWORKS, PDF_FILE

# Debian's Chromium, as the browser tests drive it (Playwright downloads no browser here)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
# MathJax has typeset the page (the book serves it: sphinxext/mathjax.py) and the fonts
# of its formulas and text are loaded; a page without formulas has no MathJax.
READY = """async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  await document.fonts.ready;
  const checked = document.querySelector(
    ".sd-tab-set > input:checked + label[data-sync-group='framework']");
  return {framework: checked && checked.getAttribute("data-sync-id"),
          errors: document.querySelectorAll("mjx-merror").length};
}"""
TIMEOUT_MS = 60_000
# The margins leave room for the header and footer that Chromium draws in them.
MARGIN = {"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}
TEMPLATE_STYLE = ("font-size: 8px; width: 100%; margin: 0 16mm; color: #555; "
                  "font-family: 'Noto Sans', 'Noto Sans CJK SC', 'Noto Sans CJK KR', "
                  "sans-serif; display: flex; justify-content: space-between; gap: 4mm;")


class PdfError(Exception):
    """Chromium could not print a page; the message says which and what to do."""


@dataclass(frozen=True)
class Printed:
    """One PDF: its language, framework (tag), file and number of pages."""

    lang: str
    framework: str
    path: Path
    pages: int


def chromium() -> Path | None:
    """The Chromium that prints the PDFs (Debian's `chromium`), None when there is none."""
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return Path(found) if Path(found).exists() else None


def page_file(book: Path, lang: str) -> Path:
    """The chapter page of the rendered book of `lang` in folder `book`."""
    return book / "chapters" / lang / f"{CHAPTER}.html"


def pdf_file(book: Path, framework: str) -> Path:
    """Where the chapter's PDF for `framework` goes in the book folder `book`."""
    return book / PDF_FILE.format(chapter=CHAPTER, framework=framework)


def header_footer(text: BookText, framework: str) -> tuple[str, str]:
    """Chromium's header and footer templates: the book's title and the framework; the
    author line with the licence, and "page / pages"."""
    header = (f'<div style="{TEMPLATE_STYLE}"><span>{html.escape(text.title)}</span>'
              f"<span>{html.escape(framework)}</span></div>")
    footer = (f'<div style="{TEMPLATE_STYLE}"><span>{html.escape(text.author)} · '
              f"{LICENCE_URL}</span><span style=\"white-space: nowrap\">"
              '<span class="pageNumber"></span> / <span class="totalPages"></span>'
              "</span></div>")
    return header, footer


def count_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def make_pdfs(books: dict[str, Path], root: Path = ROOT,
              on_pdf: Callable[[Printed, float], None] | None = None) -> list[Printed]:
    """Print the chapter of each rendered book (folder by language code) once per
    framework into that folder; `on_pdf(printed, seconds)` hears of each PDF.

    Raises PdfError when Chromium cannot start or print a page.
    """
    from playwright.sync_api import Error, sync_playwright

    browser_path = chromium()
    if browser_path is None:
        raise PdfError("--pdf prints with Chromium, and there is none: install it "
                       "(apt-get install chromium fonts-noto-cjk) or leave --pdf out.")
    printed = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(browser_path),
                                                 args=CHROMIUM_ARGS)
            try:
                for lang, book in books.items():
                    text = read_book_text(lang, root)
                    for framework, label in FRAMEWORKS:
                        start = time.perf_counter()
                        path = pdf_file(book, framework)
                        _print(browser, page_file(book, lang), framework, path,
                               *header_footer(text, label))
                        fix_radicals(path)
                        done = Printed(lang, framework, path, count_pages(path))
                        printed.append(done)
                        if on_pdf is not None:
                            on_pdf(done, time.perf_counter() - start)
            finally:
                browser.close()
    except Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise PdfError(f"Chromium could not print the chapter as PDF: {first}. The HTML "
                       "was not published; run the same command again, or leave --pdf "
                       "out.") from None
    return printed


def _print(browser, page: Path, framework: str, out: Path, header: str, footer: str) -> None:
    """Print `page` with `framework` chosen to `out`."""
    context = browser.new_context()
    try:
        # the book needs nothing but its own files: a request elsewhere fails at once
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(("file:", "data:", "blob:"))
                      else route.abort())
        tab = context.new_page()
        tab.goto(f"{page.as_uri()}?framework={framework}", wait_until="load",
                 timeout=TIMEOUT_MS)
        state = tab.evaluate(READY)
        if state["framework"] != framework:
            raise PdfError(f"{page}: asked for the {framework} tab, the page chose "
                           f"{state['framework']}; nothing was published.")
        if state["errors"]:
            raise PdfError(f"{page}: MathJax could not typeset {state['errors']} "
                           "formula(s); nothing was published.")
        out.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(path=str(out), format="A4", margin=MARGIN, print_background=True,
                display_header_footer=True, header_template=header,
                footer_template=footer)
    finally:
        context.close()
