"""The notebook's results cell (right after `d2l.show_results(histories)`): on every
framework, each setting of its widgets (a metric, a choice of runs) shows exactly one
figure at once, from the callback itself, holding one line per chosen run whose values
are that run's values of the metric in `histories` (per epoch, from epoch 1), labelled
with the metric and the run's name, in the run's colour of the results figure; it leaves
no figure open for another cell to show; no run chosen prints one line instead of a
plot. The same holds for a reader's other histories (runs of different lengths, more
runs than colours, a diverged run). The cell runs with the pinned ipywidgets 8 and with
ipywidgets 7.7.1, the version Colab ships.

Each run executes the English generated notebook's code up to the "Explore the
Schedules" cell (tests/chapter_code.py: `train` returns made-up histories of the real
shape), then a probe cell that drives the cell's widgets, calls `show_runs`, and prints
what was shown as JSON.
"""

from __future__ import annotations

import json
import math
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest

from bookbuild.vocabulary import FRAMEWORK_TAGS
from bookbuild.vocabulary import RUNS as CHAPTER_RUNS
from tests.chapter_code import COLAB_IPYWIDGETS, run_probe

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RESULTS_CELL = "def show_runs("
METRICS = ["test accuracy", "train accuracy", "train loss", "train-test gap",
           "learning rate"]
# The chapter's runs, in the order it trains them (as the widgets' JSON lists them)
RUNS = list(CHAPTER_RUNS)
# Changes a reader makes, one control at a time: ("metric", name) or ("runs", indices
# into RUNS); each shows one figure, or the message when no run is chosen
CHANGES = [
    *[("metric", m) for m in METRICS[1:]],
    ("runs", [0]),
    ("metric", "train-test gap"),
    ("runs", [1, 4]),
    ("runs", []),
    ("metric", "train loss"),  # still no run chosen
    ("runs", [0, 1, 2, 3, 4]),
    ("metric", "test accuracy"),
]
# A reader's own histories: runs of different lengths, more runs than the colour cycle
# has colours, a diverged run (NaN)
OTHER_HISTORIES = {
    **{f"run {i}": {key: [(i + 1) * 0.01 * (e + 1) + k for e in range(3 + i)]
                    for k, key in enumerate(("lr", "train_loss", "train_acc", "test_acc"))}
       for i in range(12)},
    "diverged": {"lr": [0.5, 0.5], "train_loss": [2.3, float("nan")],
                 "train_acc": [0.1, 0.1], "test_acc": [0.1, 0.1]},
}
# Direct calls with those histories: (metric, runs), runs in any order
OTHER_CALLS = [
    ("train-test gap", ["run 11", "run 0", "diverged"]),
    ("train loss", ["diverged", "run 10"]),
    ("learning rate", [f"run {i}" for i in range(12)]),
    ("test accuracy", []),
]


PROBE = '''
import contextlib as _contextlib, io as _io, json as _json
import matplotlib.pyplot as _plt
from matplotlib.colors import to_hex as _to_hex
import ipywidgets as _ipywidgets
_report = {"ipywidgets": _ipywidgets.__version__}
# What each call of pyplot's show shows (lines, colours, labels and legend of every open
# figure); the real show then displays and closes them as in a notebook.
_shown = []
_real_show = _plt.show
def _show(*args, **kwargs):
    for _num in _plt.get_fignums():
        _axes = _plt.figure(_num).axes[0]
        _legend = _axes.get_legend()
        _shown.append({
            "lines": [[[float(v) for v in _l.get_xdata()], [float(v) for v in _l.get_ydata()],
                       _to_hex(_l.get_color())] for _l in _axes.lines],
            "labels": [_axes.get_xlabel(), _axes.get_ylabel()],
            "legend": [_t.get_text() for _t in _legend.get_texts()] if _legend else None})
    return _real_show(*args, **kwargs)
_plt.show = _show

def _results_colours(_histories):
    """Each run's colour in the results figure (d2l.show_results's)."""
    _fig = d2l.plot_histories(_histories)
    return {_name: _to_hex(_l.get_color())
            for _name, _l in zip(_histories, _fig.axes[0].lines)}

def _step(_action):
    """Run `_action`; what it printed, showed and left open."""
    _plt.close("all")
    _shown.clear()
    _printed = _io.StringIO()
    with _contextlib.redirect_stdout(_printed):
        _action()
    _entry = {"printed": _printed.getvalue(), "shown": list(_shown),
              "left_open": len(_plt.get_fignums())}
    _plt.close("all")
    return _entry

_report["histories"] = histories
_report["colours"] = _results_colours(histories)
_w = show_runs.widget
_controls = _w.children[:-1]
_report["controls"] = [_c.description for _c in _controls]
_report["widgets"] = [type(_c).__name__ for _c in _controls]
_report["options"] = [list(_c.options) for _c in _controls]
_report["start"] = {"metric": _w.kwargs["metric"], "runs": list(_w.kwargs["runs"])}
_names = list(histories)
_report["changes"] = []
for _control, _value in _json.loads(%r):
    if _control == "metric":
        _entry = _step(lambda: setattr(_controls[0], "value", _value))
    else:
        _entry = _step(lambda: setattr(_controls[1], "value",
                                       tuple(_names[_i] for _i in _value)))
    _entry["setting"] = {"metric": _w.kwargs["metric"], "runs": list(_w.kwargs["runs"])}
    _report["changes"].append(_entry)

# A reader's own histories, through the function behind the widgets
histories = _json.loads(%r)
_report["other_histories"] = histories
_report["other_colours"] = _results_colours(histories)
_report["other_calls"] = []
for _metric, _runs in _json.loads(%r):
    _entry = _step(lambda: show_runs(_metric, tuple(_runs)))
    _entry["setting"] = {"metric": _metric, "runs": _runs}
    _report["other_calls"].append(_entry)
print("PROBE " + _json.dumps(_report))
'''


def metric_values(history: dict, metric: str) -> list[float]:
    """A run's values of `metric` per epoch, as the text describes them."""
    if metric == "train-test gap":
        return [a - b for a, b in zip(history["train_acc"], history["test_acc"], strict=True)]
    key = {"test accuracy": "test_acc", "train accuracy": "train_acc",
           "train loss": "train_loss", "learning rate": "lr"}[metric]
    return history[key]


def same(a: list[float], b: list[float]) -> bool:
    """Equal lists of floats, NaN equal to NaN (a diverged run's values)."""
    return len(a) == len(b) and all(
        x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


def check_entry(entry: dict, histories: dict, colours: dict) -> None:
    """One setting: one figure of exactly the chosen runs' values, or the message."""
    setting = entry["setting"]
    metric, runs = setting["metric"], setting["runs"]
    assert entry["left_open"] == 0, f"{setting}: a figure is left for the next cell"
    if not runs:
        printed = entry["printed"]
        assert printed.count("\n") == 1 and "No run chosen" in printed, (
            f"{setting}: expected a one-line message, got {printed!r}")
        assert not entry["shown"], f"{setting}: plotted although no run is chosen"
        return
    assert entry["printed"] == "", f"{setting}: printed {entry['printed']!r}"
    assert len(entry["shown"]) == 1, (
        f"{setting}: showed {len(entry['shown'])} figures, not one at once")
    [figure] = entry["shown"]
    assert figure["labels"] == ["epoch", metric]
    assert figure["legend"] == runs, f"{setting}: legend {figure['legend']}"
    assert len(figure["lines"]) == len(runs), f"{setting}: {len(figure['lines'])} lines"
    for run, (xs, ys, colour) in zip(runs, figure["lines"], strict=True):
        expected = metric_values(histories[run], metric)
        assert xs == list(range(1, len(expected) + 1)), f"{setting}: {run}'s epochs {xs}"
        assert same(ys, expected), (
            f"{setting}: {run}'s plotted values are not its {metric} in histories")
        assert colour == colours[run], (
            f"{setting}: {run} drawn in {colour}, in the results figure {colours[run]}")


def check_report(report: dict, nb: nbformat.NotebookNode, ipywidgets_version: str) -> None:
    assert report["ipywidgets"] == ipywidgets_version
    [cell] = [c for c in nb.cells if RESULTS_CELL in c.source]
    kinds = [k for o in cell.outputs for k in o.get("data", {})]
    assert WIDGET_VIEW in kinds, f"interact showed no widget: {cell.outputs}"
    assert not [o for o in cell.outputs if o.get("output_type") == "error"], cell.outputs
    histories = report["histories"]
    assert list(histories) == RUNS
    assert report["controls"] == ["metric", "runs"]
    assert report["widgets"] == ["Dropdown", "SelectMultiple"]
    assert report["options"] == [METRICS, RUNS]
    assert report["start"] == {"metric": "test accuracy", "runs": RUNS}, (
        "the cell should start with every run chosen")
    assert len(report["changes"]) == len(CHANGES)
    for (control, value), entry in zip(CHANGES, report["changes"], strict=True):
        # each change reached the function's arguments ...
        if control == "metric":
            assert entry["setting"]["metric"] == value
        else:
            assert entry["setting"]["runs"] == [RUNS[i] for i in value]
        # ... and showed what that setting asks for
        check_entry(entry, histories, report["colours"])
    other = report["other_histories"]
    assert list(report["other_colours"]) == list(other)
    for entry in report["other_calls"]:
        check_entry(entry, other, report["other_colours"])


def run_results_probe(framework: str, pythonpath_first: Path | None = None
                      ) -> tuple[dict, nbformat.NotebookNode]:
    probe = PROBE % (json.dumps(CHANGES), json.dumps(OTHER_HISTORIES),
                     json.dumps(OTHER_CALLS))
    return run_probe(framework, probe, pythonpath_first)


@pytest.mark.parametrize("framework", FRAMEWORK_TAGS)
def test_results_cell_plots_the_histories(framework: str, fashion_mnist_dir: Path) -> None:
    report, nb = run_results_probe(framework)
    check_report(report, nb, version("ipywidgets"))


def test_results_cell_runs_on_colabs_ipywidgets(colab_ipywidgets: Path,
                                                fashion_mnist_dir: Path) -> None:
    report, nb = run_results_probe("pytorch", pythonpath_first=colab_ipywidgets)
    check_report(report, nb, COLAB_IPYWIDGETS)
