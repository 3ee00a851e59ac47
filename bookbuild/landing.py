"""Each language's book title, author line and landing page.

They are translated like the chapter, in `chapters/<lang>/book.yml` next to the
chapter source: `title` (the sidebar, the page header and the browser tab),
`author` (the author line in every page's footer, shown as written: see
sphinxext/templates/author.html) and `landing` (MyST markdown of the landing
page, below the title). The build makes each book's `index.md` from it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from babel.lists import format_list
from babel.numbers import format_decimal, get_decimal_symbol

from .config import ROOT
from .vocabulary import language

FILE_NAME = "book.yml"
# One-line texts the build puts on the pages, besides the title, author line and landing
# page: the quick-build notice, the line on MXNet next to the Colab buttons, the code
# toggle of the widget cells (MyST-NB's), the seed spread under the results table, the
# figures' text alternatives, the link to a PDF of the section (--pdf), what a printed
# explorer says in place of its help text, the results table's column names that the
# explorers' labels do not give (bookbuild/figure_text.py), the words of an author-year
# citation (bookbuild/citations.py), and the notice on a page whose translation lags
# behind the English (bookbuild/freshness.py).
LINES = ("subset_notice", "colab_mxnet_note", "code_prompt_show", "code_prompt_hide",
         "spread_table", "spread_columns", "spread_band", "spread_differ", "spread_stale",
         "spread_quick", "stale_translation", "figure_training", "figure_schedule",
         "figure_results", "figure_value", "pdf_link",
         "explorer_print", "table_schedule", "table_best_test_acc", "table_best_epoch",
         "cite_and", "cite_et_al")
KEYS = ("title", "author", "landing", *LINES)
# `subset_notice` names the example count with this placeholder
COUNT = "{n}"
# What the build fills into each text (each must appear exactly once)
PLACEHOLDERS = {
    "subset_notice": (COUNT,),
    "spread_table": ("{seeds}", "{date}"),
    "spread_band": ("{seeds}",),
    "spread_differ": ("{framework}", "{sd}"),
    "spread_stale": ("{date}",),
    # the translated headings of the parts whose English changed since they were
    # translated, as one list (BookText.listing)
    "stale_translation": ("{sections}",),
    # the figures' text alternatives (bookbuild/figures.py)
    "figure_training": ("{framework}", "{run}", "{epochs}", "{values}"),
    "figure_schedule": ("{framework}", "{schedule}", "{start}", "{end}", "{first}", "{last}",
                        "{max}", "{max_epoch}", "{min}", "{min_epoch}"),
    "figure_results": ("{framework}", "{panels}", "{runs}", "{best}", "{value}"),
    "figure_value": ("{metric}", "{value}"),
    "pdf_link": ("{framework}",),
}


class BookTextError(ValueError):
    """A language's `book.yml` is missing or malformed; the message names the file."""


# Stand-ins for the items while CLDR's pattern joins them (private-use characters)
_ITEM_OPEN, _ITEM_CLOSE = "\ue000", "\ue001"
_ITEM = re.compile(f"{_ITEM_OPEN}(\\d+){_ITEM_CLOSE}")


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK UNIFIED IDEOGRAPH")


@dataclass(frozen=True)
class BookText:
    title: str  # one line, e.g. "Dive into Deep Learning: Learning Rate Scheduling"
    author: str  # one line, every page's footer as written, e.g. "By the d2l.ai authors ..."
    landing: str  # MyST markdown of the landing page below its title
    # one line on every page of a quick build (--max-examples N), "{n}" standing for N
    subset_notice: str = ""
    # one line next to the Colab buttons: what the MXNet notebook's install cell does
    colab_mxnet_note: str = ""
    # the other LINES, by key
    lines: dict[str, str] = field(default_factory=dict)
    # the CLDR locale of the numbers and lists the build writes into these texts
    locale: str = "en"

    def line(self, key: str, **values: object) -> str:
        """The one-line text `key` with its placeholders filled from `values`
        (``seeds=5`` fills ``{seeds}``)."""
        text = self.lines[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def number(self, value: float, pattern: str) -> str:
        """`value` with this language's decimal mark, by a CLDR number `pattern`:
        ``"0.00"`` two decimals, ``"@##"`` one to three significant digits (0.2, 0.0183).
        NaN or infinity is written ``NaN``/``inf`` as Python writes it."""
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            pattern = pattern if "@" not in pattern else "0"  # CLDR's "@##" writes 0 as 0.0
        return format_decimal(value, format=pattern, locale=self.locale)

    @property
    def decimal_mark(self) -> str:
        """This language's decimal mark ("," in id, tr and pt)."""
        return get_decimal_symbol(self.locale)

    def listing(self, items: list[str]) -> str:
        """`items` as one list in this language, by CLDR's list patterns ("a, b and c";
        zh "甲、乙和丙"); empty for no items. A Han word of the pattern next to a Latin
        letter or digit of an item gets a space, as the Chinese text writes them
        ("0.20 和 0.30", "学习率 0.2 调用"); CLDR's zh pattern has none."""
        if not items:
            return ""
        marks = [f"{_ITEM_OPEN}{i}{_ITEM_CLOSE}" for i in range(len(items))]
        parts = _ITEM.split(format_list(marks, locale=self.locale))
        # parts: joiner, item index, joiner, ..., joiner (the first and last often "")
        out = []
        for k in range(0, len(parts), 2):
            joiner = parts[k]
            before = items[int(parts[k - 1])] if k else ""
            after = items[int(parts[k + 1])] if k + 1 < len(parts) else ""
            if joiner and _is_han(joiner[0]) and before[-1:].isascii() \
                    and before[-1:].isalnum():
                joiner = " " + joiner
            if joiner and _is_han(joiner[-1]) and after[:1].isascii() and after[:1].isalnum():
                joiner += " "
            out += [joiner, after]
        return "".join(out)

    def notice(self, n: int) -> str:
        """The quick-build notice for an `n`-example subset."""
        return self.subset_notice.replace(COUNT, str(n))

    def index_md(self) -> str:
        """The landing page's source: the title as its heading, then `landing`."""
        return f"# {self.title}\n\n{self.landing.strip()}\n"


def book_text_path(code: str, root: Path = ROOT) -> Path:
    """Where the book text of language `code` lives: next to its chapter source."""
    return root / "chapters" / code / FILE_NAME


def read_book_text(code: str, root: Path = ROOT) -> BookText:
    """The title, author line and landing page of language `code`.

    Raises BookTextError, naming the file and what to fix, when the file is
    missing, is not YAML, or does not hold exactly the keys `title`, `author`,
    :data:`LINES` (one-line strings, each with its :data:`PLACEHOLDERS`) and
    `landing` (non-empty markdown).
    """
    path = book_text_path(code, root)
    fix = f"copy chapters/en/{FILE_NAME} and translate its text"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BookTextError(f"{path}: missing; every language needs its book text ({fix})") \
            from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or error
        raise BookTextError(f"{path}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict) or sorted(data) != sorted(KEYS):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise BookTextError(
            f"{path}: needs exactly the keys {', '.join(KEYS)}; found {found} ({fix})")
    for key in KEYS:
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise BookTextError(f"{path}: `{key}` must be non-empty text; got {value!r}")
        if key != "landing" and "\n" in value.strip():
            raise BookTextError(f"{path}: `{key}` must be one line; got {value!r}")
    for key, names in PLACEHOLDERS.items():
        for name in names:
            if data[key].count(name) != 1:
                raise BookTextError(
                    f"{path}: `{key}` must contain {name} once, where the build puts "
                    f"{'the number of examples' if name == COUNT else 'its value'}; "
                    f"got {data[key]!r}")
    if data["spread_columns"].count("|") != 2:
        raise BookTextError(f"{path}: `spread_columns` must name three columns separated "
                            f"by |; got {data['spread_columns']!r}")
    return BookText(data["title"].strip(), data["author"].strip(), data["landing"],
                    data["subset_notice"].strip(), data["colab_mxnet_note"].strip(),
                    {key: data[key].strip() for key in LINES}, _cldr_locale(code))


def _cldr_locale(code: str) -> str:
    """The CLDR locale of language `code`: the book's setting for its languages, the code
    itself for any other (a new language's book text read before it is registered)."""
    try:
        return language(code).cldr
    except ValueError:
        return code
