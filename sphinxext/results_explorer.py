"""`{results-explorer}`: the chapter's executed training runs to compare on the page, no
kernel needed.

The results cell (`d2l.show_results(histories)`) shows one table and one figure; this
directive puts next to it the same runs to explore in the reader's browser: choose the
metric, tick the runs to overlay, show the range over seeds, and read every shown run's
value at an epoch (pointer or keyboard). The data are what the build trained: the build
writes them to a JSON file and names it in the Sphinx config value `d2l_results_file`;
this module checks the file, derives what the page draws (the train-test gap, the epochs
where the learning rate drops, the range over seeds) and embeds it in the page, so that
the page works from file:// with no request. `static/results-explorer.js` draws.

Every label is an option and the help text is the body, so each chapter source carries
its own translation::

    :::{results-explorer}
    :metric: metric
    :metric-test-acc: test accuracy
    ...
    Choose a metric and the runs to compare.
    :::

Generated notebooks leave the directive out (`bookbuild.notebooks`), since only a page
can render it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from bookbuild.vocabulary import FRAMEWORKS, HISTORY_KEYS, RESULTS_EXPLORER, RUNS

from . import explorers

NAME = RESULTS_EXPLORER
# Prefix of the explorer's element ids and classes
PREFIX = "d2l-results"
CONFIG = "d2l_results_file"

# (metric the page draws, option labelling it), in the order of the menu; the first is
# shown at first, like the left panel of the chapter's results figure. "gap" is
# train_acc - test_acc per epoch, the table's last column for every epoch.
METRICS: tuple[tuple[str, str], ...] = (
    ("test_acc", "metric-test-acc"),
    ("train_acc", "metric-train-acc"),
    ("train_loss", "metric-train-loss"),
    ("gap", "metric-gap"),
    ("lr", "metric-lr"),
)
# Rates are read with more digits than the metrics: 0.2 / sqrt(t + 1) needs them.
LR_METRICS = ("lr",)


def run_option(run: str) -> str:
    """The option labelling the chapter's run `run`, e.g. "run-square-root"."""
    return "run-" + run.replace(" ", "-")


RUN_OPTIONS: tuple[tuple[str, str], ...] = tuple((run, run_option(run)) for run in RUNS)
OPTIONS: tuple[str, ...] = (
    ("metric",) + tuple(option for _, option in METRICS)
    + ("runs",) + tuple(option for _, option in RUN_OPTIONS)
    # the framework menu, the band checkbox and the note when the build has no seeds'
    # spread, the epoch slider and x axis, the marker of a drop in the learning rate,
    # and the chart's caption (its accessible name)
    + ("framework", "band", "no-spread", "epoch", "lr-drops", "chart")
)
FRAMEWORK_LABELS = dict(FRAMEWORKS)


class ResultsDataError(ValueError):
    """The results file breaks the data contract (see `check_results`)."""


Series = list[float | None]


def _series(value: Any, where: str) -> Series:
    if not isinstance(value, list) or not value:
        raise ResultsDataError(f"{where}: expected a non-empty list of numbers or null")
    out: Series = []
    for i, v in enumerate(value):
        if v is None:
            out.append(None)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            # json reads NaN and Infinity as floats: a non-finite value is no value
            out.append(float(v) if math.isfinite(v) else None)
        else:
            raise ResultsDataError(f"{where}[{i}]: {v!r} is not a number or null")
    return out


def _history(value: Any, where: str) -> dict[str, Series]:
    if not isinstance(value, dict):
        raise ResultsDataError(f"{where}: expected an object with {', '.join(HISTORY_KEYS)}")
    missing = [key for key in HISTORY_KEYS if key not in value]
    if missing:
        raise ResultsDataError(f"{where}: lacks {', '.join(missing)}")
    history = {key: _series(value[key], f"{where}.{key}") for key in HISTORY_KEYS}
    lengths = {key: len(s) for key, s in history.items()}
    if len(set(lengths.values())) != 1:
        raise ResultsDataError(f"{where}: one value per epoch in every list, got {lengths}")
    return history


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ResultsDataError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def check_results(raw: Any) -> dict:
    """The results data, checked and cleaned (non-finite numbers become None).

    The contract: ``{"runs": [...], "frameworks": [...], "histories": {framework: {run:
    history}}, "spread": null or {"seeds": [...], "histories": {framework: {seed as
    string: {run: history}}}}}``, a history holding the lists ``lr``, ``train_loss``,
    ``train_acc`` and ``test_acc`` with one number (or null) per epoch. Every run is one
    the chapter trains (`bookbuild.vocabulary.RUNS`), every framework one of the tabs. The
    spread may lack frameworks, seeds or runs (a seed-spread measurement still under
    way): the range is drawn from the seeds that are there.

    Raises ResultsDataError naming the first part that breaks the contract.
    """
    raw = _object(raw, "the results")
    runs, frameworks = raw.get("runs"), raw.get("frameworks")
    if not isinstance(runs, list) or not runs or not set(runs) <= set(RUNS) \
            or len(set(runs)) != len(runs):
        raise ResultsDataError(f"runs: expected distinct names among {list(RUNS)}, got {runs!r}")
    if not isinstance(frameworks, list) or not frameworks \
            or not set(frameworks) <= set(FRAMEWORK_LABELS) \
            or len(set(frameworks)) != len(frameworks):
        raise ResultsDataError(
            f"frameworks: expected distinct names among {list(FRAMEWORK_LABELS)}, "
            f"got {frameworks!r}")
    given = _object(raw.get("histories"), "histories")
    histories: dict[str, dict[str, dict[str, Series]]] = {}
    for fw in frameworks:
        runs_of = _object(given.get(fw), f"histories.{fw}")
        histories[fw] = {run: _history(runs_of.get(run), f"histories.{fw}.{run}")
                         for run in runs}
    spread = None
    if raw.get("spread") is not None:
        spread_raw = _object(raw["spread"], "spread")
        seeds = spread_raw.get("seeds")
        if not isinstance(seeds, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ResultsDataError(f"spread.seeds: expected a list of integers, got {seeds!r}")
        by_fw = _object(spread_raw.get("histories"), "spread.histories")
        unknown = sorted(set(by_fw) - set(frameworks))
        if unknown:
            raise ResultsDataError(f"spread.histories: frameworks {unknown} are not in "
                                   f"frameworks {frameworks}")
        spread_histories: dict[str, dict[str, dict[str, dict[str, Series]]]] = {}
        for fw, by_seed in by_fw.items():
            by_seed = _object(by_seed, f"spread.histories.{fw}")
            stray = sorted(set(by_seed) - {str(s) for s in seeds})
            if stray:
                raise ResultsDataError(f"spread.histories.{fw}: seeds {stray} are not in "
                                       f"spread.seeds {seeds}")
            spread_histories[fw] = {}
            for seed, runs_of in by_seed.items():
                where = f"spread.histories.{fw}.{seed}"
                runs_of = _object(runs_of, where)
                spread_histories[fw][seed] = {
                    run: _history(h, f"{where}.{run}") for run, h in runs_of.items()
                    if run in runs
                }
                for run, history in spread_histories[fw][seed].items():
                    n, want = len(history["lr"]), len(histories[fw][run]["lr"])
                    if n != want:
                        raise ResultsDataError(
                            f"{where}.{run}: {n} epochs, but histories.{fw}.{run} has {want}")
        spread = {"seeds": seeds, "histories": spread_histories}
    return {"runs": runs, "frameworks": frameworks, "histories": histories, "spread": spread}


def read_results(path: Path) -> dict:
    """The results file at `path`, checked by `check_results`.

    Raises ResultsDataError when the file is not JSON or breaks the contract, OSError
    when it cannot be read.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ResultsDataError(f"not JSON: {error}") from None
    return check_results(raw)


def _metrics(history: dict[str, Series]) -> dict[str, Series]:
    gap = [a - b if a is not None and b is not None else None
           for a, b in zip(history["train_acc"], history["test_acc"], strict=True)]
    return {"test_acc": history["test_acc"], "train_acc": history["train_acc"],
            "train_loss": history["train_loss"], "gap": gap, "lr": history["lr"]}


def lr_drops(lr: Series) -> list[int]:
    """The 1-based epochs whose applied learning rate is below the previous epoch's."""
    return [e + 1 for e in range(1, len(lr))
            if lr[e] is not None and lr[e - 1] is not None and lr[e] < lr[e - 1]]


def _band(histories: list[dict[str, Series]]) -> dict[str, list[Series]]:
    """{metric: [low, high]}, the range per epoch over `histories` (one per seed)."""
    band = {}
    per_seed = [_metrics(h) for h in histories]
    for metric, _ in METRICS:
        low: Series = []
        high: Series = []
        for values in zip(*(m[metric] for m in per_seed), strict=True):
            present = [v for v in values if v is not None]
            low.append(min(present) if present else None)
            high.append(max(present) if present else None)
        band[metric] = [low, high]
    return band


def page_data(results: dict) -> dict:
    """What the page's script draws, from checked results: per framework and run, each
    metric per epoch (`series`), the epochs where the learning rate drops (`drops`), and
    the range over seeds (`bands`: per framework that has at least two seeds of a run;
    None without spread); `seeds` lists the seeds measured."""
    runs, frameworks = results["runs"], results["frameworks"]
    series = {fw: {run: _metrics(results["histories"][fw][run]) for run in runs}
              for fw in frameworks}
    drops = {fw: {run: lr_drops(results["histories"][fw][run]["lr"]) for run in runs}
             for fw in frameworks}
    spread = results["spread"]
    bands = None
    if spread is not None:
        bands = {}
        for fw, by_seed in spread["histories"].items():
            of_fw = {}
            for run in runs:
                seeds = [h[run] for h in by_seed.values() if run in h]
                if len(seeds) >= 2:
                    of_fw[run] = _band(seeds)
            if of_fw:
                bands[fw] = of_fw
    return {
        "runs": runs,
        "frameworks": frameworks,
        "metrics": [metric for metric, _ in METRICS],
        "lrMetrics": list(LR_METRICS),
        "series": series,
        "drops": drops,
        "bands": bands,
        "seeds": spread["seeds"] if spread is not None else [],
    }


def _script_json(data: dict) -> str:
    # Inside <script> only "</script" or "<!--" could end or derail the element;
    # escaping every "<" rules both out and JSON.parse reads it back unchanged.
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


def _swatch(index: int) -> str:
    return (f'<svg class="d2l-results-swatch d2l-results-c{index}" viewBox="0 0 28 10" '
            'aria-hidden="true" focusable="false">'
            '<line x1="1" y1="5" x2="27" y2="5"></line></svg>')


def explorer_html(uid: str, labels: dict[str, str], data: dict) -> str:
    """The explorer's markup with `data` (from `page_data`) embedded; `uid` prefixes its
    element ids, `labels` maps every name of `OPTIONS` to its text in the page's
    language."""
    esc = explorers.escape_labels(labels)
    framework_options = "".join(
        f'<option value="{fw}">{html.escape(FRAMEWORK_LABELS[fw])}</option>'
        for fw in data["frameworks"])
    # Colour and dash pattern follow the run's place in the chapter, not in the file
    run_boxes = "".join(
        f'<label class="d2l-results-run"><input type="checkbox" name="run" '
        f'value="{html.escape(run)}" data-index="{RUNS.index(run)}" checked>'
        f'{_swatch(RUNS.index(run))}<span>{esc[run_option(run)]}</span></label>'
        for run in data["runs"])
    no_spread = not data["bands"]
    epochs = max(len(h["lr"]) for fw in data["series"].values() for h in fw.values())
    # The chart's key: the marker of a drop in the learning rate
    key = (f'<p class="d2l-results-key" aria-hidden="true">'
           f'<svg viewBox="0 0 10 8" focusable="false"><path d="M1 0 L9 0 L5 7 Z"></path></svg> '
           f'{esc["lr-drops"]}</p>')
    menus = (explorers.menu_row(PREFIX, uid, "metric", esc["metric"],
                                explorers.choices(METRICS, esc))
             + explorers.menu_row(PREFIX, uid, "framework", esc["framework"], framework_options))
    figure = explorers.chart_figure(
        PREFIX, uid, 380, f'{esc["chart"]} <span class="d2l-results-state"></span>', after=key)
    epoch = explorers.range_row(PREFIX, uid, "epoch", esc["epoch"], minimum=1, maximum=epochs,
                                step=1, value=epochs, output='aria-live="off"', shown=epochs)
    return (
        f'<div class="d2l-results" data-d2l-results-explorer '
        f'data-label-epoch="{esc["epoch"]}" data-label-lr-drops="{esc["lr-drops"]}">'
        f'<script type="application/json" class="d2l-results-data">{_script_json(data)}'
        f"</script>"
        f'<div class="{PREFIX}-controls">{menus}'
        # A labelled group rather than a fieldset, whose legend a grid cannot place
        f'<div class="d2l-results-row d2l-results-runs" role="group" '
        f'aria-labelledby="{uid}-runs"><span id="{uid}-runs">{esc["runs"]}</span>'
        f'<div class="d2l-results-boxes">{run_boxes}</div></div>'
        f'<div class="d2l-results-row d2l-results-band"><span></span><div>'
        f'<label><input type="checkbox" name="band" aria-describedby="{uid}-no-spread"'
        f'{" disabled" if no_spread else " checked"}> {esc["band"]}</label>'
        f'<p class="d2l-results-note" id="{uid}-no-spread"{"" if no_spread else " hidden"}>'
        f'{esc["no-spread"]}</p></div></div>'
        f"</div>"
        f'{figure}{epoch}<div class="{PREFIX}-readout"></div>'
        f"</div>"
    )


def results_path(value: str, srcdir: str | Path) -> Path | None:
    """The results file the config value `value` names (relative to the source folder
    `srcdir`), or None when it is not set."""
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(srcdir) / path


class ResultsExplorer(explorers.LabelledExplorer):
    """The explorer; every option (a label) is required, the body is the help text, and
    the data are the results file's (config value `d2l_results_file`)."""

    # the module's names: tests and the chapter checks read them there
    NAME, LABELS, PREFIX = NAME, OPTIONS, PREFIX

    def markup(self) -> Callable[[str], str]:
        path = results_path(self.config[CONFIG], self.env.srcdir)
        if path is None:
            raise self.error(
                f"{NAME}: the Sphinx config value {CONFIG} is not set; it names the JSON "
                "file of the executed runs that the book's build writes")
        try:
            results = read_results(path)
        except OSError as error:
            raise self.error(
                f"{NAME}: cannot read the results file {path} (config value {CONFIG}): "
                f"{error.strerror or error}") from None
        except ResultsDataError as error:
            raise self.error(
                f"{NAME}: the results file {path} (config value {CONFIG}): {error}") from None
        # A new results file must rebuild the page
        self.env.note_dependency(str(path))
        data = page_data(results)
        return lambda uid: explorer_html(uid, self.options, data)


def setup(app: Sphinx) -> None:
    # Set by bookbuild: the JSON file of the executed runs (see `check_results`)
    app.add_config_value(CONFIG, "", "html")
    explorers.add_explorer(app, ResultsExplorer)
