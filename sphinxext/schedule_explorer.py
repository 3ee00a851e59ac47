"""`{schedule-explorer}`: the chapter's schedules to play with on the page, no kernel needed.

The chapter's "Explore the Schedules" cell drives its schedulers with ipywidgets, which
need a running kernel: on a page the cell's output is hidden (`remove-output`) and this
directive shows in its place the same controls and curve, computed in the reader's
browser by `static/schedule-explorer.js` with the formulas of the chapter's schedulers.
Every label is an option and the help text is the body, so each chapter source carries
its own translation, next to the cell::

    :::{schedule-explorer}
    :schedule: Schedule
    :schedule-square-root: square root
    ...
    Pick a schedule and move the sliders.
    :::

This module writes the markup (native labelled range inputs whose limits admit only
settings the schedulers accept; the script narrows the limits that depend on another
value, e.g. `final_lr <= base_lr`); the script computes and draws. Generated notebooks
leave the directive out (`bookbuild.notebooks`), since only a page can render it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import get_decimal_symbol
from sphinx.application import Sphinx

from bookbuild.vocabulary import SCHEDULE_EXPLORER

from . import explorers

NAME = SCHEDULE_EXPLORER
# Prefix of the explorer's element ids and classes
PREFIX = "d2l-explorer"

# (value of the <select> option, option naming it); the first is selected at first,
# like the first choice of the notebook's dropdown.
SCHEDULES: tuple[tuple[str, str], ...] = (
    ("square-root", "schedule-square-root"),
    ("factor", "schedule-factor"),
    ("multi-factor", "schedule-multi-factor"),
    ("cosine", "schedule-cosine"),
    ("warmup", "schedule-warmup"),
)


@dataclass(frozen=True)
class Slider:
    """One range input: `name` is what the script reads, `code` the scheduler argument it
    sets (shown next to the translated label), `schedules` where it matters."""

    name: str
    code: str
    option: str
    minimum: float
    maximum: float
    step: float
    value: float
    schedules: tuple[str, ...]


ALL = tuple(value for value, _ in SCHEDULES)
# Limits admit exactly the valid settings of the chapter's schedulers on this grid:
# base_lr > 0; 0 < factor <= 1; steps integers >= 1, strictly increasing;
# max_update >= 1. The script narrows final_lr and stop_factor_lr to [0, base_lr],
# warmup_steps to [0, max_update - 1], step[0] below step[1] and the epoch to the run.
SLIDERS: tuple[Slider, ...] = (
    Slider("base_lr", "base_lr", "base-lr", 0.01, 1, 0.01, 0.2, ALL),
    Slider("final_lr", "final_lr", "final-lr", 0, 0.2, 0.01, 0.01, ("cosine", "warmup")),
    Slider("factor", "factor", "factor", 0.01, 1, 0.01, 0.5, ("factor", "multi-factor")),
    Slider("stop_factor_lr", "stop_factor_lr", "stop-factor-lr", 0, 0.2, 0.01, 0.01,
           ("factor",)),
    Slider("step_1", "step[0]", "first-step", 1, 29, 1, 15, ("multi-factor",)),
    Slider("step_2", "step[1]", "second-step", 16, 100, 1, 30, ("multi-factor",)),
    Slider("max_update", "max_update", "max-update", 1, 100, 1, 20, ("cosine", "warmup")),
    Slider("warmup_steps", "warmup_steps", "warmup-steps", 0, 19, 1, 5, ("warmup",)),
    Slider("num_epochs", "num_epochs", "num-epochs", 1, 100, 1, 30, ALL),
)
# Labels of the rest: the schedule menu, the epoch slider and x axis, the learning-rate
# readout and y axis, and the chart's caption.
OTHER_OPTIONS = ("schedule", "epoch", "learning-rate", "chart")
OPTIONS: tuple[str, ...] = (
    ("schedule",) + tuple(option for _, option in SCHEDULES)
    + tuple(s.option for s in SLIDERS) + OTHER_OPTIONS[1:]
)


def _number(x: float) -> str:
    return f"{x:g}"


def _slider_row(uid: str, slider: Slider, label: str, decimal: str) -> str:
    decimals = 2 if slider.step < 1 else 0
    return explorers.range_row(
        PREFIX, uid, slider.name, f"{html.escape(label)} <code>{slider.code}</code>",
        minimum=_number(slider.minimum), maximum=_number(slider.maximum),
        step=_number(slider.step), value=_number(slider.value),
        output=f'data-decimals="{decimals}"',
        shown=f"{slider.value:.{decimals}f}".replace(".", decimal),
        row_attrs=f' data-schedules="{" ".join(slider.schedules)}"',
    )


def explorer_html(uid: str, labels: dict[str, str], decimal: str = ".") -> str:
    """The explorer's markup; `uid` prefixes its element ids, `labels` maps every name of
    `OPTIONS` to its text in the page's language, `decimal` is its decimal mark (the
    sliders' values as shown before the script runs; the script writes them the same)."""
    esc = explorers.escape_labels(labels)
    rows = "".join(_slider_row(uid, s, labels[s.option], decimal) for s in SLIDERS)
    menu = explorers.menu_row(PREFIX, uid, "schedule", esc["schedule"],
                              explorers.choices(SCHEDULES, esc))
    figure = explorers.chart_figure(PREFIX, uid, 320, esc["chart"])
    epoch = explorers.range_row(PREFIX, uid, "epoch", esc["epoch"], minimum=0, maximum=29,
                                step=1, value=0, output='data-decimals="0"', shown=0)
    return (
        f'<div class="{PREFIX}" data-d2l-schedule-explorer '
        f'data-label-epoch="{esc["epoch"]}" data-label-lr="{esc["learning-rate"]}">'
        f'<div class="{PREFIX}-controls">'
        f"{menu}{rows}</div>{figure}"
        f'<div class="{PREFIX}-readout">{epoch}'
        f'<p class="d2l-explorer-lr"><span id="{uid}-lr-label">{esc["learning-rate"]}</span>: '
        f'<output class="d2l-explorer-lr-value" for="{uid}-epoch" '
        f'aria-labelledby="{uid}-lr-label"></output></p>'
        f"</div></div>"
    )


class ScheduleExplorer(explorers.LabelledExplorer):
    """The explorer; every option (a label) is required, the body is the help text."""

    # the module's names: tests and the chapter checks read them there
    NAME, LABELS, PREFIX = NAME, OPTIONS, PREFIX

    def markup(self) -> Callable[[str], str]:
        decimal = get_decimal_symbol(self.config.language or "en")
        return lambda uid: explorer_html(uid, self.options, decimal)


def setup(app: Sphinx) -> None:
    explorers.add_explorer(app, ScheduleExplorer)
