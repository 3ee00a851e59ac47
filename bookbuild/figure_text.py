"""The words of the page's figures and results table in the page's language.

The notebooks (Colab, Jupyter) keep what the code writes: English axis labels, legends,
column and run names. The page shows one execution per framework to every language, so
the build translates those words when it writes each language's page, at the last step:

- the words come from the page's own labels (:func:`labels_of`: the names the
  chapter's explorers give the runs, metrics, schedules and the epoch axis in that
  language's source) and, for the results table's other columns, from its ``book.yml``
  (``table_*``); a figure or table word with no translation stops the build, naming it
  (:func:`page_words`: the English page maps each word to itself, so a new word stops
  the English build too);
- a figure (a matplotlib SVG, its text drawn as glyph outlines) keeps every glyph
  outline it has (a later text may reuse a glyph defined in an earlier one); its tick
  labels stay as drawn but for the decimal point, which on a page whose language writes
  a comma (id, tr, pt) uses the font's comma outline instead, of the same width; and it
  gets, for each axis label or legend entry whose words
  change, a ``<text>`` in that language at the same anchor: the centre of an axis label
  (rotated on the y axis), the start of a legend entry. The browser draws it in the
  reader's fonts, so the SVG needs no font for Hangul or Han. matplotlib's comment
  naming each text stays English: :func:`bookbuild.figures.read_svg` reads the figure by
  it;
- a legend whose translated entries are wider than the English ones grows by the
  difference, measured with matplotlib's metrics of the figure's font (DejaVu Sans) and
  one em for each character that font lacks (Hangul and Han are full-width), away from
  the axes' edge it sits against (tests/browser/test_figures_localized.py measures it
  in Chromium);
- a table (the results cell's DataFrame) gets its header cells and run names replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from xml.dom import minidom

import nbformat
from bs4 import BeautifulSoup

from .landing import BookText
from .pages import PageError

# The font matplotlib drew the figures' text in (its default), as its glyph ids name it
FONT = "DejaVu Sans"
GLYPH_PREFIX = "DejaVuSans-"
# The <text>'s fonts: the figure's own where the reader has it, else a sans-serif
FONT_FAMILY = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"
# matplotlib's glyph outlines are in units of 1/100 of the font size (textpath.FONT_SCALE)
FONT_SCALE = 100.0
# The results table's columns the explorers' labels do not name: their book.yml keys
TABLE_KEYS = {"schedule": "table_schedule", "best test acc": "table_best_test_acc",
              "best epoch": "table_best_epoch"}
# The history key each metric word of the code names (figure labels, table columns)
METRIC_WORDS = {"train loss": "train_loss", "train acc": "train_acc",
                "test acc": "test_acc", "learning rate": "lr", "train-test gap": "gap"}

_TRANSFORM = re.compile(r"translate\((?P<x>[-\d.e]+) (?P<y>[-\d.e]+)\)\s*"
                        r"(?P<rotate>rotate\(-90\)\s*)?scale\((?P<s>[\d.e]+) -[\d.e]+\)")
_PAIR = re.compile(r"(-?\d+(?:\.\d+)?(?:e-?\d+)?) (-?\d+(?:\.\d+)?(?:e-?\d+)?)")


class FigureError(PageError):
    """A figure or table the build cannot describe or translate; the message names it
    and what to do."""


# ------------------------------------------------------------------ the labels


@dataclass(frozen=True)
class Labels:
    """The page's own names of the runs (by run), metrics (by history key), schedules
    (by the explorer's schedule name) and the epoch axis, from its explorers' label
    options."""

    runs: dict[str, str]
    metrics: dict[str, str]
    schedules: dict[str, str]
    epoch: str = "epoch"


def labels_of(page: nbformat.NotebookNode) -> Labels:
    """The labels the explorers of the page notebook `page` give (in its language).

    Raises FigureError when the page lacks an explorer.
    """
    # Imported here: sphinxext imports bookbuild's vocabulary itself
    from myst_parser.parsers.directives import parse_directive_text

    from sphinxext import results_explorer, schedule_explorer

    from .mirror import MARKDOWN

    text = "\n\n".join(c.source for c in page.cells if c.cell_type == "markdown")
    found: dict[str, dict[str, str]] = {}
    for directive in (results_explorer.ResultsExplorer, schedule_explorer.ScheduleExplorer):
        for token in MARKDOWN.parse(text):
            if token.type == "colon_fence" and token.info.strip() == f"{{{directive.NAME}}}":
                found[directive.NAME] = {
                    k: str(v) for k, v in
                    parse_directive_text(directive, "", token.content).options.items()}
    missing = [name for name in (results_explorer.NAME, schedule_explorer.NAME)
               if name not in found]
    if missing:
        raise FigureError(f"the page has no {{{missing[0]}}}: the figures' text "
                          "alternatives take the names of runs, metrics and schedules "
                          "from its labels")
    results, schedules = found[results_explorer.NAME], found[schedule_explorer.NAME]
    return Labels(
        runs={run: results[option] for run, option in results_explorer.RUN_OPTIONS},
        metrics={key: results[option] for key, option in results_explorer.METRICS},
        schedules={name: schedules[option] for name, option in schedule_explorer.SCHEDULES},
        epoch=results["epoch"],
    )


def page_words(text: BookText, labels: Labels, *, source: bool) -> dict[str, str]:
    """{word the code writes in a figure or the results table: the page's word}: the
    runs, the metrics and "epoch" as the explorers name them, the table's other columns
    from `text` (``table_*``). The `source` language's page keeps the code's words."""
    words = {"epoch": labels.epoch, **labels.runs}
    words |= {word: labels.metrics[key] for word, key in METRIC_WORDS.items()}
    words |= {word: text.line(key) for word, key in TABLE_KEYS.items()}
    return {word: word for word in words} if source else words


def _translated(words: Mapping[str, str], word: str, where: str) -> str:
    if word not in words:
        raise FigureError(
            f"{where} shows {word!r}, which has no translation for the page: name it in "
            "bookbuild/figure_text.py (page_words), from an explorer label or a book.yml "
            "key of every language")
    return words[word]


# ------------------------------------------------------------------ measuring text


@lru_cache
def _font():
    from matplotlib.font_manager import FontProperties, findfont, get_font

    return get_font(findfont(FontProperties(family=FONT), fallback_to_default=False))


def text_width(text: str, size: float) -> float:
    """The advance width of `text` at font size `size` as matplotlib lays it out in the
    figures' font; a character that font lacks counts one em (Hangul, Han: full-width)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    charmap = _font().get_charmap()
    prop = FontProperties(family=FONT, size=size)
    width = 0.0
    for run in _runs(text, charmap):
        if ord(run[0]) in charmap:
            width += text_to_path.get_text_width_height_descent(run, prop, ismath=False)[0]
        else:
            width += size * len(run)
    return width


def _runs(text: str, charmap: Mapping[int, int]) -> list[str]:
    """`text` cut into runs of characters the font has and runs of those it lacks."""
    runs: list[str] = []
    for char in text:
        if runs and (ord(runs[-1][0]) in charmap) == (ord(char) in charmap):
            runs[-1] += char
        else:
            runs.append(char)
    return runs


# ------------------------------------------------------------------ a figure


def _id(node: minidom.Element) -> str:
    return node.getAttribute("id")


def _children(node: minidom.Node, prefix: str = "") -> list[minidom.Element]:
    return [c for c in node.childNodes
            if c.nodeType == c.ELEMENT_NODE and _id(c).startswith(prefix)]


def _xs(path: minidom.Element) -> list[float]:
    return [float(x) for x, _ in _PAIR.findall(path.getAttribute("d"))]


@dataclass
class _Text:
    """One text of the figure: its group, English words, anchor and font size."""

    group: minidom.Element
    english: str
    x: float
    y: float
    size: float
    rotated: bool


def _text(group: minidom.Element) -> _Text:
    comment = next((c for c in group.childNodes if c.nodeType == c.COMMENT_NODE), None)
    glyphs = next(iter(_children(group)), None)
    match = _TRANSFORM.fullmatch((glyphs.getAttribute("transform") if glyphs else "").strip())
    if comment is None or match is None:
        raise FigureError(f"the figure's {_id(group)} is not a text as matplotlib draws it "
                          "(a comment, then glyphs under translate/rotate/scale)")
    uses = glyphs.getElementsByTagName("use")
    if any(not u.getAttribute("xlink:href").startswith("#" + GLYPH_PREFIX) for u in uses):
        raise FigureError(f"the figure's text {comment.data.strip()!r} is not drawn in "
                          f"{FONT}, whose widths the build measures")
    return _Text(group, comment.data.strip(), float(match["x"]), float(match["y"]),
                 float(match["s"]) * FONT_SCALE, bool(match["rotate"]))


def _replace(doc: minidom.Document, text: _Text, word: str, lang: str,
             centred: bool) -> None:
    """Draw `word` in place of `text`'s glyphs (their definitions stay: a later text
    may use them), at its anchor: the middle of a centred label, else its start."""
    glyphs = _children(text.group)[0]
    for use in list(glyphs.getElementsByTagName("use")):
        use.parentNode.removeChild(use)
    half = text_width(text.english, text.size) / 2 if centred else 0.0
    x, y = (text.x, text.y - half) if text.rotated else (text.x + half, text.y)
    node = doc.createElement("text")
    node.setAttribute("x", f"{x:.6g}")
    node.setAttribute("y", f"{y:.6g}")
    if text.rotated:
        node.setAttribute("transform", f"rotate(-90 {x:.6g} {y:.6g})")
    node.setAttribute("xml:lang", lang)
    node.setAttribute("style", f"font-size: {text.size:.6g}px; font-family: {FONT_FAMILY}; "
                               f"text-anchor: {'middle' if centred else 'start'}")
    node.appendChild(doc.createTextNode(word))
    text.group.appendChild(node)


def _check_fits(text: _Text, word: str, box: tuple[float, float]) -> None:
    """A centred label no longer than the figure: (width, height) `box`."""
    half = text_width(word, text.size) / 2
    centre, room = ((text.y - text_width(text.english, text.size) / 2, box[1])
                    if text.rotated else
                    (text.x + text_width(text.english, text.size) / 2, box[0]))
    if centre - half < 0 or centre + half > room:
        raise FigureError(f"the label {word!r} (for {text.english!r}) is longer than the "
                          "figure has room for: shorten it")


def _widen(legend: minidom.Element, axes: minidom.Element, extra: float) -> None:
    """Make the legend's frame `extra` wider, growing away from the axes' edge it is
    nearer to (its entries move along when it grows to the left)."""
    frame = next((p for g in _children(legend, "patch_")
                  for p in g.getElementsByTagName("path")), None)
    background = next((p for g in _children(axes, "patch_")[:1]
                       for p in g.getElementsByTagName("path")), None)
    if frame is None or background is None:
        raise FigureError("the figure's legend has no frame to widen for its longer words")
    left, right = min(_xs(frame)), max(_xs(frame))
    middle = (left + right) / 2
    leftward = middle > (min(_xs(background)) + max(_xs(background))) / 2
    shift = -extra if leftward else extra

    def moved(match: re.Match) -> str:
        x = float(match[1])
        return f"{x + shift:.6g} {match[2]}" if (x < middle) == leftward else match[0]

    frame.setAttribute("d", _PAIR.sub(moved, frame.getAttribute("d")))
    if leftward:
        for entry in _children(legend, "line2d_") + _children(legend, "text_"):
            entry.setAttribute("transform", f"translate({shift:.6g} 0)")


def localize_svg(svg: str, words: Mapping[str, str], lang: str, *,
                 decimal: str = ".") -> str:
    """The matplotlib SVG `svg` with its axis labels and legend entries in the page's
    words (`words`, from :func:`page_words`; `lang` its language tag) and its tick
    labels' decimal point drawn as the page's `decimal` mark; everything else as it
    was. Unchanged when every word and the mark stay the same.

    Raises FigureError when a text has no translation, is none of those kinds, or
    cannot be read, and when a translated label does not fit the figure.
    """
    doc = minidom.parseString(svg)
    root = doc.documentElement
    box = tuple(float(v) for v in root.getAttribute("viewBox").split()[2:])
    changed = _tick_decimal_marks(doc, decimal)
    legends: dict[str, tuple[minidom.Element, list[_Text]]] = {}
    for group in root.getElementsByTagName("g"):
        parent = group.parentNode
        if not _id(group).startswith("text_") or _id(parent).startswith(("xtick_", "ytick_")):
            continue
        text = _text(group)
        if _id(parent).startswith("legend_"):
            legends.setdefault(_id(parent), (parent, []))[1].append(text)
        elif _id(parent).startswith("matplotlib.axis_"):
            word = _translated(words, text.english, "the figure's axis label")
            if word != text.english:
                _check_fits(text, word, box)
                _replace(doc, text, word, lang, centred=True)
                changed = True
        else:
            raise FigureError(f"the figure has the text {text.english!r}, neither an axis "
                              "label, a tick label nor a legend entry: teach "
                              "bookbuild/figure_text.py to place it")
    for legend, entries in legends.values():
        new = [_translated(words, t.english, "the figure's legend") for t in entries]
        if new == [t.english for t in entries]:
            continue
        for text, word in zip(entries, new, strict=True):
            _replace(doc, text, word, lang, centred=False)
        extra = (max(text_width(w, t.size) for t, w in zip(entries, new, strict=True))
                 - max(text_width(t.english, t.size) for t in entries))
        if extra > 0:
            _widen(legend, legend.parentNode, extra)
        changed = True
    return doc.toxml() if changed else svg


@lru_cache
def _glyph(char: str) -> tuple[str, str, str]:
    """(id, path data, transform) of `char`'s outline in the figures' font, as
    matplotlib's SVG writer defines it (the same writer drew the figures)."""
    import io

    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    figure.text(0, 0, char, family=FONT)
    out = io.StringIO()
    with rc_context({"svg.fonttype": "path"}):
        FigureCanvasSVG(figure).print_svg(out)
    path = next(p for p in minidom.parseString(out.getvalue()).getElementsByTagName("path")
                if _id(p).startswith(GLYPH_PREFIX))
    return _id(path), path.getAttribute("d"), path.getAttribute("transform")


def _tick_decimal_marks(doc: minidom.Document, decimal: str) -> bool:
    """Draw the decimal point of every tick label of `doc` as `decimal` (a glyph of the
    same font and advance width: DejaVu Sans' comma and period are both 0.318 em, so
    the label keeps its place); whether anything changed."""
    if decimal == ".":
        return False
    root = doc.documentElement
    glyph_id, d, transform = _glyph(decimal)
    changed = False
    for group in root.getElementsByTagName("g"):
        if not (_id(group).startswith("text_")
                and _id(group.parentNode).startswith(("xtick_", "ytick_"))):
            continue
        label = _text(group)  # its comment, matplotlib's, is the label as written
        uses = group.getElementsByTagName("use")
        chars = [c for c in label.english if not c.isspace()]
        if len(chars) != len(uses):
            raise FigureError(f"the tick label {label.english!r} has {len(uses)} glyphs for "
                              f"{len(chars)} characters")
        for char, use in zip(chars, uses, strict=True):
            if char == ".":
                use.setAttribute("xlink:href", f"#{glyph_id}")
                changed = True
    if not changed:
        return False
    if not any(_id(p) == glyph_id for p in root.getElementsByTagName("path")):
        defs = doc.createElement("defs")
        path = doc.createElement("path")
        for name, value in (("id", glyph_id), ("d", d), ("transform", transform)):
            path.setAttribute(name, value)
        defs.appendChild(path)
        root.insertBefore(defs, root.firstChild)
    return True


# A value of the results table as pandas writes it: the number, its decimals kept
_TABLE_NUMBER = re.compile(r"-?\d+(\.(\d+))?")
_TABLE_NON_FINITE = ("NaN", "inf", "-inf")


def localize_table(html: str, words: Mapping[str, str], text: BookText) -> str:
    """The results table `html` (a DataFrame's HTML) with its column names, index name
    and run names in the page's `words`, and its numbers with the decimal mark of the
    page's language (`text`), as many decimals as pandas wrote; ``NaN`` stays.

    Raises FigureError when a word has no translation or a value is not a number as
    pandas writes one."""
    soup = BeautifulSoup(html, "html.parser")
    for cell in soup.select("table.dataframe th"):
        english = cell.get_text(strip=True)
        if english:
            cell.string = _translated(words, english, "the results table")
    for cell in soup.select("table.dataframe td"):
        value = cell.get_text(strip=True)
        shown = _TABLE_NUMBER.fullmatch(value)
        if shown is not None:
            decimals = len(shown[2] or "")
            pattern = "0." + "0" * decimals if decimals else "0"
            cell.string = text.number(float(shown[0]), pattern)
        elif value not in _TABLE_NON_FINITE:
            # a value written another way would keep the code's decimal point unseen
            raise FigureError(f"the results table has the value {value!r}, not a number "
                              "as pandas writes one: teach bookbuild/figure_text.py "
                              "(localize_table) to write it in the page's language")
    return str(soup)
