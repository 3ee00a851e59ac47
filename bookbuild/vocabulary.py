"""The book's vocabulary, declared once: its languages, the frameworks of its tabs, the
chapter's training runs, and the names the build, the Sphinx extension, the benchmarks
and the tests share.

Adding a language is a new `chapters/<code>/` folder plus one entry in :data:`LANGUAGES`;
adding a training run is a new training cell in the chapter sources plus one entry in
:data:`RUNS` (docs/architecture.md walks through both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# ------------------------------------------------------------------ the chapter

CHAPTER = "scheduler"
"""The chapter's file stem: `chapters/<lang>/scheduler.md`, and its notebooks'."""

SOURCE_LANGUAGE = "en"
"""The language the others translate: its source carries the claims, and its
notebooks are the ones executed (the translations' code is byte-identical)."""


def chapter_source(root: Path, code: str = SOURCE_LANGUAGE) -> Path:
    """The chapter source of language `code` in the source tree `root`:
    `chapters/<code>/<chapter>.md`."""
    return root / "chapters" / code / f"{CHAPTER}.md"

RUNS: tuple[str, ...] = ("constant", "square root", "multi factor", "cosine", "warmup")
"""The chapter's training runs, by the names its code gives them
(``histories['<name>'] = train(...)``), in the order the chapter trains them."""


HISTORY_KEYS: tuple[str, ...] = ("lr", "train_loss", "train_acc", "test_acc")
"""What the chapter's ``train`` returns, one list per key with a value per epoch: the
learning rate applied during the epoch, then the train loss, train accuracy and test
accuracy at its end (``d2l_compat``'s results module names the same keys; a test holds
them equal, so the book's tools need not import it)."""


def is_results_cell(source: str) -> bool:
    """Whether the code cell `source` is the chapter's results cell, the one that shows
    every run's history (``d2l.show_results(histories)``): its output carries the
    histories the build checks, its figure gets the seed spread's bands."""
    return "show_results(" in source


SCHEDULE_EXPLORER = "schedule-explorer"
RESULTS_EXPLORER = "results-explorer"
EXPLORERS: tuple[str, ...] = (SCHEDULE_EXPLORER, RESULTS_EXPLORER)
"""The page-only directives of the chapter (the kernel-free explorers of
`sphinxext.schedule_explorer` and `sphinxext.results_explorer`): named here so that the
translators' check (`python -m bookbuild translations`) finds them without Sphinx."""

CHANCE_LEVEL = 0.2
"""A run whose final test accuracy is at most this learned nothing (ten classes:
chance is 0.1): the build calls it diverged."""

# ------------------------------------------------------------------ languages


@dataclass(frozen=True)
class Language:
    code: str  # folder under chapters/ and output folder under _build/html/
    name: str  # native name, as the language switcher shows it
    sphinx: str  # Sphinx `language`: picks theme translations, search and <html lang>
    # Sphinx `html_search_options`, paths relative to the repository root
    search_options: tuple[tuple[str, str], ...] = ()
    # CLDR locale (Babel) of the numbers and lists the build writes into the page's
    # sentences; by default `sphinx`
    cldr_locale: str = ""

    @property
    def cldr(self) -> str:
        return self.cldr_locale or self.sphinx


LANGUAGES: tuple[Language, ...] = (
    # The English text is British ("licence", no serial comma): en_GB's list pattern
    Language("en", "English", "en", cldr_locale="en_GB"),
    Language("ko", "한국어", "ko"),
    Language("id", "Bahasa Indonesia", "id"),
    Language("tr", "Türkçe", "tr"),
    Language("pt", "Português", "pt_BR"),
    # jieba splits 学习率 into 学习 + 率 and the search page does not split queries:
    # a user dictionary keeps the section's terms whole in the index.
    Language("zh", "中文", "zh_CN", (("dict", "sphinxext/search/zh_dict.txt"),)),
)


def language(code: str) -> Language:
    """The language with folder name `code`; ValueError names the known ones."""
    for lang in LANGUAGES:
        if lang.code == code:
            return lang
    known = ", ".join(lang.code for lang in LANGUAGES)
    raise ValueError(f"unknown language {code!r}; the book has: {known}")


# ------------------------------------------------------------------ frameworks

# (notebook tag, tab label) in tab order
FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("mxnet", "MXNet"),
    ("pytorch", "PyTorch"),
    ("tensorflow", "TensorFlow"),
)
FRAMEWORK_TAGS: tuple[str, ...] = tuple(tag for tag, _ in FRAMEWORKS)

# The d2l_compat module each framework's notebook imports (`from d2l_compat import
# torch as d2l`), which is also the pip extra its Colab install cell asks for.
D2L_MODULE = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
COLAB_EXTRA = D2L_MODULE

# The distributions whose versions each framework's numbers depend on.
FRAMEWORK_DISTS = {
    "mxnet": ("mxnet", "numpy"),
    "pytorch": ("torch", "numpy"),
    "tensorflow": ("tensorflow_cpu", "tensorflow", "keras", "numpy"),
}

# ------------------------------------------------------------------ environment

DATA_DIR_ENV = "D2L_DATA_DIR"  # the folder with the four Fashion-MNIST files
MAX_EXAMPLES_ENV = "D2L_MAX_EXAMPLES"  # a quick build's class-balanced subset size
PROGRESS_FILE_ENV = "D2L_PROGRESS_FILE"  # where d2l.Animator appends each epoch

# ------------------------------------------------------------------ PDFs

PDF_FOLDER = "pdf"
PDF_FILE = PDF_FOLDER + "/{chapter}-{framework}.pdf"
"""Where `python -m bookbuild --pdf` writes a chapter's PDF for one framework, relative
to its language's book folder (`html/<lang>/`); the chapter page links to it."""
