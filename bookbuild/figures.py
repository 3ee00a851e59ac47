"""The page's figures for every reader: a text alternative in the page's language,
generated from what each figure plots, and a background that lets dark mode show it.

Every image output of the page notebook is one of the chapter's three kinds of figure,
recognised by its cell's code:

- a training run's figure, the final output of ``d2l.Animator`` in a cell
  ``histories['<run>'] = train(...)``: the metrics its legend names, with their final
  values read from that run's history (the numbers the results cell stores in its
  ``d2l_histories`` metadata, :func:`bookbuild.results.histories_of`);
- a schedule's figure (``d2l.plot`` of a scheduler's learning rates): the schedule, as
  the cell's ``scheduler = <Scheduler>(...)`` names it, and its first, last, highest
  and lowest value, read from the SVG itself. The plotted numbers are in no other
  output: matplotlib writes each line as a path in display coordinates and each tick
  as a mark at its position with its label in a comment, so two ticks of an axis map
  display back to data (checked against every other tick: a log or offset axis stops
  the build rather than being misread);
- the results figure (``d2l.show_results``): the panels it draws (its y-axis labels),
  the runs it compares and the run that ends highest in test accuracy, from the same
  histories.

The text is set where MyST-NB takes an image's options, the cell's metadata
(``mystnb: image: {alt, classes}``): the notebooks keep their outputs as they are. The
wording comes from the language's ``book.yml`` (``figure_*``, :mod:`bookbuild.landing`)
and the names of runs, metrics and schedules from the labels of the chapter's explorers
in that language's source. The class ``d2l-figure`` (with the theme's ``dark-light``,
which turns off its white box behind images in dark mode) is what
``sphinxext/static/figures.css`` inverts in dark mode; so that the page's background
shows through, the figure's and each axes' white background become transparent, which
on the light page's white looks exactly as before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

import nbformat

from .figure_text import (  # noqa: F401  (Labels, labels_of: this module's API too)
    FigureError,
    Labels,
    labels_of,
    localize_svg,
    localize_table,
    page_words,
)
from .landing import BookText
from .vocabulary import FRAMEWORKS, SOURCE_LANGUAGE, is_results_cell, language

SVG = "image/svg+xml"
SVG_NS = "{http://www.w3.org/2000/svg}"
# The classes of every figure's <img>: ours (styled in dark mode by
# sphinxext/static/figures.css) and pydata-sphinx-theme's "works in both modes"
CLASSES = "d2l-figure dark-light"
# The history key each legend or axis label of the chapter's figures names
METRIC_LABELS = {"train loss": "train_loss", "train acc": "train_acc",
                 "test acc": "test_acc", "learning rate": "lr"}
# Which schedule a plotted scheduler is (the explorer's schedule names)
SCHEDULERS = {"SquareRootScheduler": "square-root", "FactorScheduler": "factor",
              "MultiFactorScheduler": "multi-factor", "CosineScheduler": "cosine"}

_TRAIN = re.compile(r"histories\[(['\"])(?P<run>.+?)\1\]\s*=\s*train\(")
_SCHEDULER = re.compile(r"^scheduler\s*=\s*(?P<cls>\w+)\((?P<args>.*)\)\s*$", re.M)
# matplotlib's figure and axes backgrounds: the first patch of the figure and of each axes
_BACKGROUND = re.compile(r'(<g id="(?:figure|axes)_\d+">\s*<g id="patch_\d+">\s*'
                         r'<path d="[^"]*" style=")fill: #ffffff(")')


# ------------------------------------------------------------------ reading an SVG


@dataclass
class Axes:
    """One axes of a matplotlib SVG: its labels, its legend's texts and its lines in
    data coordinates (in drawing order, legend samples left out)."""

    xlabel: str = ""
    ylabel: str = ""
    legend: list[str] = field(default_factory=list)
    lines: list[list[tuple[float, float]]] = field(default_factory=list)


def _comment(element: ElementTree.Element) -> str:
    """The text of the comment matplotlib puts first in a text's group."""
    for child in element:
        if child.tag is ElementTree.Comment:
            return (child.text or "").strip()
    return ""


def _number(label: str) -> float:
    return float(label.replace("\u2212", "-"))


def _points(d: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def _id(element: ElementTree.Element) -> str:
    return element.get("id", "")


def _scale(axis: ElementTree.Element, coordinate: str, name: str):
    """The display → data map of `axis` (a ``matplotlib.axis_N`` group), from its ticks;
    and the axis label."""
    ticks = []
    texts = []
    for child in axis:
        if _id(child).startswith(("xtick_", "ytick_")):
            mark = next((u for u in child.iter(f"{SVG_NS}use") if u.get(coordinate)), None)
            label = next((_comment(t) for t in child if _id(t).startswith("text_")), "")
            if mark is None or not label:
                continue
            try:
                ticks.append((float(mark.get(coordinate)), _number(label)))
            except ValueError:
                raise FigureError(f"the {name} axis has the tick label {label!r}, not a "
                                  "plain number") from None
        elif _id(child).startswith("text_"):
            texts.append(_comment(child))
    if len(texts) > 1:
        raise FigureError(f"the {name} axis has an offset or scale text besides its label "
                          f"({texts}): its ticks do not give the plotted values")
    if len(ticks) < 2:
        raise FigureError(f"the {name} axis has fewer than two labelled ticks")
    (p0, v0), (p1, v1) = ticks[0], ticks[-1]
    if p0 == p1:
        raise FigureError(f"the {name} axis's ticks are all at one place")

    def to_data(p: float) -> float:
        return v0 + (p - p0) * (v1 - v0) / (p1 - p0)

    span = abs(v1 - v0)
    for p, v in ticks:
        if abs(to_data(p) - v) > 1e-6 * span:
            raise FigureError(f"the {name} axis is not linear (its tick {v} is not where a "
                              "linear axis puts it)")
    return to_data, (texts[0] if texts else "")


def read_svg(svg: str) -> list[Axes]:
    """Every axes of the matplotlib SVG `svg`, in order.

    Raises FigureError when it is not such an SVG or an axis cannot be read.
    """
    parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(insert_comments=True))
    try:
        root = ElementTree.fromstring(svg, parser=parser)
    except ElementTree.ParseError as error:
        raise FigureError(f"the figure is not well-formed SVG: {error}") from None
    found = []
    for group in root.iter(f"{SVG_NS}g"):
        if not re.fullmatch(r"axes_\d+", _id(group)):
            continue
        axes = Axes()
        # matplotlib numbers the axis groups across the figure: x, then y, of each axes
        scales = [c for c in group if _id(c).startswith("matplotlib.axis_")]
        if len(scales) != 2:
            raise FigureError(f"{_id(group)} of the figure has {len(scales)} axes groups, "
                              "not an x and a y axis")
        x_of, axes.xlabel = _scale(scales[0], "x", "x")
        y_of, axes.ylabel = _scale(scales[1], "y", "y")
        for child in group:
            name = _id(child)
            if name.startswith("legend_"):
                axes.legend = [_comment(t) for t in child if _id(t).startswith("text_")]
        for child in group:
            if _id(child).startswith("line2d_"):
                path = child.find(f"{SVG_NS}path")
                if path is not None:
                    axes.lines.append([(x_of(x), y_of(y)) for x, y in _points(path.get("d"))])
        found.append(axes)
    if not found:
        raise FigureError("the figure is not a matplotlib SVG with axes")
    return found


def transparent(svg: str) -> str:
    """`svg` with the white background of the figure and of each axes left out, so
    that the page's background shows through."""
    return _BACKGROUND.sub(r"\1fill: none\2", svg)


# ------------------------------------------------------------------ the words


def _metric(label: str) -> str:
    """The history key a figure's label names ('train acc' → 'train_acc')."""
    if label not in METRIC_LABELS:
        raise FigureError(f"the figure names {label!r}, not one of the runs' metrics "
                          f"({', '.join(METRIC_LABELS)}): add it to METRIC_LABELS in "
                          "bookbuild/figures.py")
    return METRIC_LABELS[label]


def _value(text: BookText, value: float | None) -> str:
    """A metric to two decimals, with the page language's decimal mark."""
    return "NaN" if value is None or not math.isfinite(value) else text.number(value, "0.00")


def _rate(text: BookText, value: float) -> str:
    """A learning rate to at most three significant digits (0.2, 0.0183, 2)."""
    return text.number(round(value, 12), "@##")


def _epoch(text: BookText, x: float) -> str:
    return str(round(x)) if abs(x - round(x)) < 1e-6 else text.number(x, "@##")


def training_alt(text: BookText, labels: Labels, framework: str, run: str,
                 history: Mapping[str, Sequence[float | None]], axes: Axes) -> str:
    """The text of run `run`'s training figure `axes`: the metrics its legend names with
    their final values in `history`."""
    keys = [_metric(label) for label in axes.legend]
    if not keys or len(keys) != len(axes.lines):
        raise FigureError(f"the figure of run {run!r} has {len(axes.lines)} lines and a "
                          f"legend of {len(keys)}; each line is a metric its legend names")
    for key, line in zip(keys, axes.lines, strict=True):  # the figure shows that history
        final = history[key][-1]
        if final is not None and math.isfinite(final) and line and \
                not math.isclose(line[-1][1], final, rel_tol=1e-4, abs_tol=1e-6):
            raise FigureError(f"the figure of run {run!r} ends its {key} line at "
                              f"{line[-1][1]:.4g}, its history at {final:.4g}")
    values = [text.line("figure_value", metric=labels.metrics[k],
                        value=_value(text, history[k][-1])) for k in keys]
    return text.line("figure_training", framework=framework, run=labels.runs.get(run, run),
                     epochs=len(history[keys[0]]), values=text.listing(values))


def schedule_alt(text: BookText, labels: Labels, framework: str, schedule: str,
                 axes: Axes) -> str:
    """The text of a schedule's figure `axes` (its one line: epoch → learning rate)."""
    if len(axes.lines) != 1 or not axes.lines[0]:
        raise FigureError(f"the figure of the {schedule} schedule has {len(axes.lines)} "
                          "lines; a schedule's figure has one")
    points = axes.lines[0]
    rates = [y for _, y in points]
    top = max(range(len(points)), key=lambda i: (rates[i], -i))
    bottom = min(range(len(points)), key=lambda i: (rates[i], i))
    return text.line(
        "figure_schedule", framework=framework,
        schedule=labels.schedules.get(schedule, schedule),
        start=_epoch(text, points[0][0]), end=_epoch(text, points[-1][0]),
        first=_rate(text, rates[0]), last=_rate(text, rates[-1]),
        max=_rate(text, rates[top]), max_epoch=_epoch(text, points[top][0]),
        min=_rate(text, rates[bottom]), min_epoch=_epoch(text, points[bottom][0]))


def results_alt(text: BookText, labels: Labels, framework: str,
                histories: Mapping[str, Mapping[str, Sequence[float | None]]],
                axes: Sequence[Axes]) -> str:
    """The text of the results figure (one panel per axes, one line per run: the runs
    its legend names, whose `histories` it draws)."""
    panels = [labels.metrics[_metric(a.ylabel)] for a in axes]
    runs = [run for a in axes for run in a.legend]
    unknown = [run for run in runs if run not in histories]
    if not runs or unknown:
        raise FigureError(f"the results figure's legend names the runs {runs}, not those "
                          f"of the results cell ({', '.join(histories)})")
    finals = {run: histories[run]["test_acc"][-1] for run in runs}
    finite = {run: v for run, v in finals.items() if v is not None and math.isfinite(v)}
    if not finite:
        raise FigureError("no run of the results figure ends with a test accuracy")
    best = max(finite.values())
    return text.line(
        "figure_results", framework=framework, panels=text.listing(panels),
        runs=text.listing([labels.runs.get(run, run) for run in runs]),
        best=text.listing([labels.runs.get(run, run) for run, v in finite.items()
                           if v == best]),
        value=_value(text, best))


def schedule_of(code: str) -> str:
    """Which schedule the cell `code` plots: the explorer's name of its scheduler."""
    match = _SCHEDULER.search(code)
    if match is None or match["cls"] not in SCHEDULERS:
        raise FigureError("a figure's cell plots no scheduler the build knows (a line "
                          "`scheduler = <Scheduler>(...)` with one of "
                          f"{', '.join(SCHEDULERS)}): add it to bookbuild/figures.py")
    name = SCHEDULERS[match["cls"]]
    return "warmup" if name == "cosine" and "warmup_steps" in match["args"] else name


def alt_text(text: BookText, labels: Labels, framework: str, code: str, svg: str,
             histories: Mapping[str, Mapping[str, Sequence[float | None]]]) -> str:
    """The text alternative of the figure `svg` that the cell `code` drew on
    `framework` (its tab label), whose runs trained `histories`."""
    axes = read_svg(svg)
    if is_results_cell(code):
        return results_alt(text, labels, framework, histories, axes)
    trained = _TRAIN.search(code)
    if trained is not None:
        run = trained["run"]
        if run not in histories:
            raise FigureError(f"run {run!r} is not among the runs the results cell shows")
        return training_alt(text, labels, framework, run, histories[run], axes[0])
    if len(axes) == 1 and _metric(axes[0].ylabel) == "lr":
        return schedule_alt(text, labels, framework, schedule_of(code), axes[0])
    raise FigureError("a figure is none of the chapter's kinds (a training run's, a "
                      "schedule's, the results'): describe it in bookbuild/figures.py")


# ------------------------------------------------------------------ the page


def describe(page: nbformat.NotebookNode, text: BookText,
             histories: Mapping[str, Mapping[str, Mapping[str, Sequence[float | None]]]],
             *, lang: str) -> nbformat.NotebookNode:
    """Give every figure of the page notebook `page` (in place; returned) its text
    alternative in the language of `text` and its classes, make its background
    transparent, and put its words and the results table's in that language (`lang`,
    the language's code; bookbuild/figure_text.py). `histories` are each framework's
    runs, by notebook tag.

    Raises FigureError, naming the cell, when a figure cannot be described or a word
    has no translation.
    """
    labels = labels_of(page)
    words = page_words(text, labels, source=lang == SOURCE_LANGUAGE)
    tag = language(lang).sphinx.replace("_", "-")
    names = dict(FRAMEWORKS)
    for cell in page.cells:
        for output in cell.get("outputs", []) if is_results_cell(cell.source) else []:
            html = output.get("data", {}).get("text/html", "")
            if 'class="dataframe"' in html:
                output["data"]["text/html"] = localize_table(html, words, text)
        figures = [o for o in cell.get("outputs", []) if SVG in o.get("data", {})]
        if cell.cell_type != "code" or not figures:
            continue
        first = (cell.source.splitlines() or [""])[0]
        fw = cell.metadata.get("d2l_tabs", {}).get("framework")
        if len(figures) > 1 or fw not in names:
            raise FigureError(f"the cell starting {first!r} has {len(figures)} figures "
                              f"(framework {fw!r}); one per framework's cell can be named")
        try:
            alt = alt_text(text, labels, names[fw], cell.source,
                           figures[0]["data"][SVG], histories.get(fw, {}))
            figures[0]["data"][SVG] = localize_svg(transparent(figures[0]["data"][SVG]),
                                                   words, tag, decimal=text.decimal_mark)
        except FigureError as error:
            raise FigureError(f"the {fw} cell starting {first!r}: {error}") from None
        cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt, "classes": CLASSES}
    return page
