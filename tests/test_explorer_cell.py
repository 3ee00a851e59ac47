"""The notebook's "Explore the Schedules" cell: on every framework, the function behind
its widgets (`show_schedule`) plots exactly the values of the chapter's schedulers (and
of the text's formulas) and shows that figure at once, from the callback itself (a
widget callback has no end of cell to show it), leaving no figure open that another
cell would show; a setting a scheduler rejects prints the scheduler's ValueError
message as one line instead of a plot; every label has room for its whole name. The
cell runs with the pinned ipywidgets 8 and with ipywidgets 7.7.1, the version Colab ships.

Each run executes the English generated notebook's code up to that cell
(tests/chapter_code.py), then a probe cell that calls `show_schedule` and prints what
was plotted as JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest

from bookbuild.vocabulary import FRAMEWORK_TAGS
from tests.chapter_code import COLAB_IPYWIDGETS, run_probe, scheduler_call

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
REL_TOL = 1e-12

DEFAULTS = dict(schedule="square root", base_lr=0.2, final_lr=0.01, factor=0.5,
                stop_factor_lr=0.01, steps=(15, 30), max_update=20, warmup_steps=5,
                num_epochs=30)
# Settings of the widgets, each differing from the defaults where given
VALID = [
    dict(schedule="square root", base_lr=0.37, num_epochs=45),
    dict(schedule="factor", factor=0.83, stop_factor_lr=0.05, base_lr=0.6, num_epochs=50),
    dict(schedule="factor", factor=1.0, stop_factor_lr=0.0, base_lr=0.01, num_epochs=5),
    dict(schedule="multi factor", steps=(3, 10), factor=0.5, num_epochs=20),
    dict(schedule="multi factor", steps=(1, 100), factor=0.01, base_lr=1.0, num_epochs=100),
    dict(schedule="cosine"),
    dict(schedule="cosine", max_update=1, base_lr=1.0, final_lr=0.0, num_epochs=3),
    dict(schedule="cosine with warmup"),
    dict(schedule="cosine with warmup", max_update=50, warmup_steps=49, base_lr=0.3,
         final_lr=0.3, num_epochs=60),
    dict(schedule="cosine with warmup", max_update=7, warmup_steps=0, num_epochs=1),
]
# Settings a scheduler rejects, with the argument its message must name
INVALID = [
    (dict(schedule="cosine with warmup", max_update=20, warmup_steps=20), "warmup_steps"),
    (dict(schedule="cosine", final_lr=0.5, base_lr=0.2), "final_lr"),
    (dict(schedule="multi factor", steps=(15, 15)), "step"),
    (dict(schedule="factor", stop_factor_lr=0.3, base_lr=0.2), "stop_factor_lr"),
]
CONTROLS = ["schedule", "base_lr", "final_lr", "factor", "stop_factor_lr", "steps",
            "max_update", "warmup_steps", "num_epochs"]


def formula(p: dict, t: int) -> float:
    """The learning rate of epoch t as the text's formulas define it."""
    cls, a = scheduler_call(p)
    if cls == "SquareRootScheduler":
        return a["lr"] * (t + 1) ** -0.5
    if cls == "FactorScheduler":
        return max(a["stop_factor_lr"], a["base_lr"] * a["factor"] ** t)
    if cls == "MultiFactorScheduler":
        return a["base_lr"] * a["factor"] ** sum(s <= t for s in a["step"])
    w, T = a["warmup_steps"], a["max_update"]
    if t < w:
        return a["base_lr"] * t / w
    u = min(t, T)
    return a["final_lr"] + (a["base_lr"] - a["final_lr"]) * (
        1 + math.cos(math.pi * (u - w) / (T - w))) / 2


PROBE = '''
import contextlib as _contextlib, io as _io, json as _json
import matplotlib.pyplot as _plt
import ipywidgets as _ipywidgets
_report = {"ipywidgets": _ipywidgets.__version__, "cases": []}
# What each call of pyplot's show shows (the lines and labels of every open figure);
# the real show then displays and closes them as in a notebook.
_shown = []
_real_show = _plt.show
def _show(*args, **kwargs):
    for _num in _plt.get_fignums():
        _axes = _plt.figure(_num).axes[0]
        _shown.append({"lines": [[[float(v) for v in _l.get_xdata()],
                                  [float(v) for v in _l.get_ydata()]] for _l in _axes.lines],
                       "labels": [_axes.get_xlabel(), _axes.get_ylabel()]})
    return _real_show(*args, **kwargs)
_plt.show = _show
for _case in _json.loads(%r):
    _plt.close("all")
    _shown.clear()
    _printed = _io.StringIO()
    with _contextlib.redirect_stdout(_printed):
        show_schedule(**_case["setting"])
    _entry = {"printed": _printed.getvalue(), "shown": list(_shown),
              "left_open": len(_plt.get_fignums())}
    _cls, _kwargs = _case["scheduler"]
    try:
        _scheduler = globals()[_cls](**_kwargs)
        _entry["scheduler"] = [float(_scheduler(_t))
                               for _t in range(_case["setting"]["num_epochs"])]
    except ValueError as _error:
        _entry["ValueError"] = str(_error)
    _plt.close("all")
    _report["cases"].append(_entry)
# The widgets drive the same function: their names, then a change reaching its arguments,
# each change showing one figure and leaving none open for the next cell to show
_w = show_schedule.widget
_report["controls"] = [_c.description for _c in _w.children[:-1]]
_report["label_widths"] = sorted({_c.style.description_width for _c in _w.children[:-1]})
_report["shown_per_change"] = []
for _i, _value in ((0, "cosine"), (7, 3)):
    _shown.clear()
    _w.children[_i].value = _value
    _report["shown_per_change"].append([len(_shown), len(_plt.get_fignums())])
_report["after_change"] = {k: _w.kwargs[k] for k in ("schedule", "warmup_steps")}
# Limits that follow other sliders: lowering base_lr and max_update pulls final_lr,
# stop_factor_lr and warmup_steps into the valid range
_w.children[2].value = _w.children[4].value = 0.15
_w.children[1].value = 0.1
_w.children[6].value = 3
_report["followed"] = {k: _w.kwargs[k] for k in ("final_lr", "stop_factor_lr", "warmup_steps")}
_report["limits"] = [_w.children[2].max, _w.children[4].max, _w.children[7].max]
_plt.close("all")
print("PROBE " + _json.dumps(_report))
'''


def run_explorer_probe(framework: str, pythonpath_first: Path | None = None
                       ) -> tuple[dict, list[dict], nbformat.NotebookNode]:
    """(the probe's report, the cases it ran, the executed notebook)."""
    settings = [{**DEFAULTS, **s} for s in VALID] + [{**DEFAULTS, **s} for s, _ in INVALID]
    cases = [{"setting": s, "scheduler": scheduler_call(s)} for s in settings]
    report, nb = run_probe(framework, PROBE % json.dumps(cases), pythonpath_first)
    return report, cases, nb


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def check_report(report: dict, cases: list[dict], nb: nbformat.NotebookNode,
                 ipywidgets_version: str) -> None:
    assert report["ipywidgets"] == ipywidgets_version
    explorer_cell = nb.cells[-2]
    kinds = [k for o in explorer_cell.outputs for k in o.get("data", {})]
    assert WIDGET_VIEW in kinds, f"interact showed no widget: {explorer_cell.outputs}"
    assert report["controls"] == CONTROLS
    assert report["label_widths"] == ["9em"], "labels narrower than the names"
    assert report["shown_per_change"] == [[1, 0], [1, 0]], (
        "a change of a control must show one figure at once and leave none open")
    assert report["after_change"] == {"schedule": "cosine", "warmup_steps": 3}
    assert report["limits"] == [0.1, 0.1, 2]
    assert report["followed"] == {"final_lr": 0.1, "stop_factor_lr": 0.1, "warmup_steps": 2}
    for case, got in zip(cases, report["cases"], strict=True):
        setting, n = case["setting"], case["setting"]["num_epochs"]
        assert got["left_open"] == 0, f"{setting}: a figure is left for the next cell"
        if "ValueError" in got:  # a rejected setting: its message, one line, no plot
            assert got["printed"] == f"Not a valid setting: {got['ValueError']}\n", setting
            assert not got["shown"], f"{setting}: plotted although rejected"
            continue
        assert got["printed"] == "", f"{setting}: printed {got['printed']!r}"
        [figure] = got["shown"]  # shown at once, by the callback itself
        [(xs, ys)] = figure["lines"]
        assert figure["labels"] == ["epoch", "learning rate"]
        assert xs == list(range(n))
        assert ys == got["scheduler"], f"{setting}: plotted values are not the scheduler's"
        expected = [formula(setting, t) for t in range(n)]
        bad = [(t, y, e) for t, (y, e) in enumerate(zip(ys, expected, strict=True))
               if not close(y, e)]
        assert not bad, f"{setting}: plotted values differ from the formula: {bad[:3]}"
    rejected = {json.dumps(c["setting"], sort_keys=True): r for c, r in
                zip(cases, report["cases"], strict=True) if "ValueError" in r}
    for setting, argument in INVALID:
        got = rejected.get(json.dumps({**DEFAULTS, **setting}, sort_keys=True))
        assert got is not None, f"{setting} was not rejected"
        assert argument in got["ValueError"], f"{setting}: {got['ValueError']!r}"


def installed_ipywidgets() -> str:
    from importlib.metadata import version
    return version("ipywidgets")


@pytest.mark.parametrize("framework", FRAMEWORK_TAGS)
def test_explorer_plots_the_schedulers(framework: str, fashion_mnist_dir: Path) -> None:
    report, cases, nb = run_explorer_probe(framework)
    check_report(report, cases, nb, installed_ipywidgets())


def test_explorer_runs_on_colabs_ipywidgets(colab_ipywidgets: Path,
                                            fashion_mnist_dir: Path) -> None:
    report, cases, nb = run_explorer_probe("pytorch", pythonpath_first=colab_ipywidgets)
    check_report(report, cases, nb, COLAB_IPYWIDGETS)
