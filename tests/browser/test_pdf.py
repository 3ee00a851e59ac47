"""The PDFs of `python -m bookbuild --pdf` (bookbuild/pdf.py), from the suite's quick
build of the whole book (tests/conftest.py `builds` passes --pdf), and the chapter
page's link to the PDF of its chosen framework.

The PDFs are read as text (pypdf): what a reader copies out of them. Reading one takes
about a second, so the English PDFs of every framework and one Korean and one Chinese
PDF are read; every other one is checked to be there and counted in the summary, and
every one is read for CJK radicals in place of ideographs (bookbuild/pdf_unicode.py).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bookbuild.landing import read_book_text
from bookbuild.vocabulary import CHAPTER, FRAMEWORK_TAGS, LANGUAGES, PDF_FILE
from sphinxext.schedule_explorer import SLIDERS

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
# Code that appears in one framework's cells of the chapter and in no other's
OWN_CODE = {
    "mxnet": "gluon.Trainer",
    "pytorch": "torch.optim.SGD",
    "tensorflow": "tf.keras.optimizers.SGD",
}
READ = [("en", fw) for fw in FRAMEWORK_TAGS] + [("ko", "pytorch"), ("zh", "tensorflow")]


def pdf_path(html: Path, lang: str, framework: str) -> Path:
    return html / lang / PDF_FILE.format(chapter=CHAPTER, framework=framework)


@functools.cache
def _pages(path: Path) -> tuple[str, ...]:
    from pypdf import PdfReader

    return tuple(page.extract_text() for page in PdfReader(path).pages)


def pages(build, lang: str, framework: str) -> tuple[str, ...]:
    """The text of each page of the PDF of `lang` and `framework`."""
    html, _ = build
    return _pages(pdf_path(html, lang, framework))


# The Latin ligatures of the PDF's text (Chromium names the glyph "ﬁ" by its ligature)
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl"})
# Kangxi Radicals and CJK Radicals Supplement: Noto CJK draws many with the glyph of an
# ideograph, and Chromium's PDF names that glyph by the radical; bookbuild/pdf_unicode.py
# names it by the ideograph again. No text of the book has a radical.
RADICALS = re.compile("[\u2e80-\u2fdf]")


def flat(text: str) -> str:
    """`text` as it compares with the words of a source: without white space (a PDF
    wraps lines, also inside CJK words) and with the Latin ligatures spelt out. CJK text
    compares as it is: no NFKC, which would hide radicals in place of ideographs."""
    return re.sub(r"\s+", "", text.translate(LIGATURES))


def chapter_title(lang: str) -> str:
    source = (ROOT / "chapters" / lang / f"{CHAPTER}.md").read_text(encoding="utf-8")
    return next(line[2:].strip() for line in source.splitlines() if line.startswith("# "))


def test_every_language_and_framework_has_its_pdf(build) -> None:
    html, stdout = build
    for lang in LANGUAGES:
        for fw in FRAMEWORK_TAGS:
            path = pdf_path(html, lang.code, fw)
            assert path.is_file() and path.read_bytes().startswith(b"%PDF-"), path
            # the summary lists it with its page count
            assert re.search(rf"{re.escape(str(path))}: \d+\n", stdout), path
    assert re.search(r"PDFs \(--pdf added \d+ s\)", stdout)


@pytest.mark.parametrize(("lang", "framework"), READ)
def test_pdf_has_only_its_frameworks_code(build, lang: str, framework: str) -> None:
    text = "\n".join(pages(build, lang, framework))
    assert OWN_CODE[framework] in text
    for other, code in OWN_CODE.items():
        if other != framework:
            assert code not in text, f"{other}'s code in the {framework} PDF"
    # no tab labels: the three names never stand together as a row of tabs
    assert not re.search(r"MXNet\s*PyTorch\s*TensorFlow", text)


@pytest.mark.parametrize("lang", ["ko", "zh"])
def test_cjk_pdf_has_its_title_as_text(build, lang: str) -> None:
    framework = dict(READ[3:])[lang]
    texts = pages(build, lang, framework)
    # the chapter's title as the reader copies it, verbatim: ideographs, not radicals
    assert chapter_title(lang) in "\n".join(texts)
    # the book's title in every page's header
    title = read_book_text(lang).title
    assert all(title in page for page in texts)
    if lang == "zh":
        # the heading of the chapter's contents on the first page: 目 is one of the
        # ideographs Noto CJK draws with a radical's glyph (⽬ U+2F6C), as is 页 (⻚
        # U+2EDA) of the explorers' sentence (test_explorers_are_a_sentence_and_a_chart)
        assert "目录" in texts[0]


@pytest.mark.parametrize("lang", [lang.code for lang in LANGUAGES])
@pytest.mark.parametrize("framework", FRAMEWORK_TAGS)
def test_pdf_text_has_no_cjk_radicals(build, lang: str, framework: str) -> None:
    for number, text in enumerate(pages(build, lang, framework), start=1):
        found = sorted(set(RADICALS.findall(text)))
        assert not found, (f"page {number}: radicals {' '.join(found)} (U+"
                           f"{', U+'.join(f'{ord(c):04X}' for c in found)}) for ideographs")


def test_code_keeps_its_indentation(build) -> None:
    text = "\n".join(pages(build, "en", "pytorch"))
    assert re.search(r"^class SquareRootScheduler:\n    def __init__\(self, lr=0\.1\):\n"
                     r"        if not lr > 0:$", text, re.M), "the class lost its indentation"


@pytest.mark.parametrize(("lang", "framework"), READ)
def test_pages_are_numbered_and_licensed(build, lang: str, framework: str) -> None:
    texts = pages(build, lang, framework)
    assert len(texts) > 5
    author = read_book_text(lang).author
    assert "CC BY-SA 4.0" in author
    for number, text in enumerate(texts, start=1):
        assert re.search(rf"(^|\s){number} / {len(texts)}($|\s)", text), f"page {number}"
        assert flat(author) in flat(text), f"page {number} lacks the author line"


@pytest.mark.parametrize(("lang", "framework"), [("en", "mxnet"), ("zh", "tensorflow")])
def test_explorers_are_a_sentence_and_a_chart(build, lang: str, framework: str) -> None:
    text = flat("\n".join(pages(build, lang, framework)))
    sentence = flat(read_book_text(lang).line("explorer_print"))
    assert text.count(sentence) == 2, "each of the two explorers says it is on the web page"
    source = (ROOT / "chapters" / lang / f"{CHAPTER}.md").read_text(encoding="utf-8")
    labels = dict(re.findall(r"^:([a-z0-9-]+): (.+)$", source, re.M))
    # the charts, with their captions
    assert flat(labels["chart"]) in text
    # none of the controls: the schedule explorer's slider labels, the results
    # explorer's band checkbox and note
    for slider in SLIDERS:
        assert f"{labels[slider.option]} {slider.code}" not in text, slider.option
    assert flat(labels["band"]) not in text
    assert flat(labels["no-spread"]) not in text


def test_page_links_to_the_pdf_of_its_framework(page: Page, build) -> None:
    html, _ = build
    chapter = html / "en" / "chapters" / "en" / f"{CHAPTER}.html"
    # from file:// (a saved or unpacked book), with a framework chosen by the URL
    page.goto(f"{chapter.as_uri()}?framework=tensorflow")
    links = page.locator("a.d2l-pdf")
    assert links.count() == len(FRAMEWORK_TAGS)
    shown = page.locator("a.d2l-pdf:visible")
    assert shown.count() == 1
    assert shown.get_attribute("data-framework") == "tensorflow"
    label = read_book_text("en").line("pdf_link", framework="TensorFlow")
    assert shown.inner_text().strip() == label
    target = (chapter.parent / shown.get_attribute("href")).resolve()
    assert target == pdf_path(html, "en", "tensorflow").resolve() and target.is_file()
    # choosing another tab shows its link
    page.locator("label.sd-tab-label[data-sync-id='pytorch']").first.click()
    assert page.locator("a.d2l-pdf:visible").get_attribute("data-framework") == "pytorch"


def test_pdf_option_is_checked_before_the_build(monkeypatch) -> None:
    """No Chromium: `--pdf` is refused with the command line, before anything runs."""
    from bookbuild import options, pdf

    monkeypatch.setattr(pdf, "chromium", lambda: None)
    with pytest.raises(options.OptionError, match=r"--pdf .* lacks Chromium"):
        options.pdf_printer()
