"""Framework-free summary of several training runs: the chapter's results table and
figure (:func:`summary_rows`, :func:`results_table`, :func:`plot_histories`,
:func:`show_results`). Public: the book's build reads the published runs with it too.

A *history* is what the chapter's ``train`` returns on every framework: a dict with the
keys ``'lr'``, ``'train_loss'``, ``'train_acc'`` and ``'test_acc'``, each a list with one
Python float per epoch (``lr`` is the rate applied during that epoch; the metrics are
measured at the epoch's end).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt

from d2l_compat._plotting import _kernel_shell, use_svg_display

__all__ = ["HISTORY_KEYS", "METADATA_KEY", "plot_histories", "results_table", "show_results",
           "summary_rows"]

HISTORY_KEYS = ("lr", "train_loss", "train_acc", "test_acc")
# Output metadata under which show_results() stores the raw histories, so that tools
# (the book's build) can check the published runs without parsing the table.
METADATA_KEY = "d2l_histories"

History = Mapping[str, Sequence[float]]


def _check(histories: Mapping[str, History]) -> None:
    if not histories:
        raise ValueError("histories is empty: pass {run name: history returned by train}")
    for name, history in histories.items():
        missing = [key for key in HISTORY_KEYS if key not in history]
        if missing:
            raise ValueError(
                f"history {name!r} lacks {', '.join(missing)}: pass what train() returns "
                f"(per-epoch lists under {', '.join(HISTORY_KEYS)})"
            )
        lengths = {key: len(history[key]) for key in HISTORY_KEYS}
        if len(set(lengths.values())) != 1 or not lengths["test_acc"]:
            raise ValueError(
                f"history {name!r}: every key needs one value per epoch, got lengths {lengths}"
            )


def summary_rows(histories: Mapping[str, History]) -> list[dict[str, Any]]:
    """One row per run, in the order given: its final train loss, train and test
    accuracy, best test accuracy and the epoch (1-based) it was reached, and the
    final train-test accuracy gap (accuracies are fractions in [0, 1]).

    Raises:
        ValueError: ``histories`` is empty or a history lacks a key or an epoch.
    """
    _check(histories)
    rows = []
    for name, history in histories.items():
        test_acc = [float(v) for v in history["test_acc"]]
        best = max(range(len(test_acc)), key=lambda i: (test_acc[i], -i))
        train_acc = float(history["train_acc"][-1])
        rows.append({
            "schedule": name,
            "train loss": float(history["train_loss"][-1]),
            "train acc": train_acc,
            "test acc": test_acc[-1],
            "best test acc": test_acc[best],
            "best epoch": best + 1,
            "train-test gap": train_acc - test_acc[-1],
        })
    return rows


def results_table(histories: Mapping[str, History]) -> Any:
    """The runs side by side as a ``pandas.DataFrame`` indexed by schedule, columns as
    in :func:`summary_rows`, floats rounded to 3 decimals.

    Raises:
        ValueError: see :func:`summary_rows`.
    """
    import pandas as pd

    return pd.DataFrame(summary_rows(histories)).set_index("schedule").round(3)


def plot_histories(
    histories: Mapping[str, History],
    figsize: tuple[float, float] = (7.0, 2.8),
    bands: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]] | None = None,
) -> Any:
    """Overlay every run's test accuracy (left) and train loss (right) per epoch.

    ``bands`` optionally shades, behind each run's line and in its colour, a range per
    epoch: ``{run: {'test_acc' or 'train_loss': (low, high)}}``, each a sequence with
    one value per epoch (the book draws the range of each run over several seeds).

    Returns the matplotlib figure (not registered with pyplot, so ``%matplotlib
    inline`` shows it only when displayed).

    Raises:
        ValueError: see :func:`summary_rows`; or a band whose length is not the run's
            number of epochs.
    """
    _check(histories)
    use_svg_display()
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=figsize)
    plt.close(fig)
    for name, history in histories.items():
        epochs = range(1, len(history["test_acc"]) + 1)
        for ax, key in ((acc_ax, "test_acc"), (loss_ax, "train_loss")):
            (line,) = ax.plot(epochs, history[key], label=name)
            band = (bands or {}).get(name, {}).get(key)
            if band is not None:
                low, high = band
                if not len(low) == len(high) == len(epochs):
                    raise ValueError(f"the {key} band of run {name!r} has {len(low)} and "
                                     f"{len(high)} values; the run has {len(epochs)} epochs")
                ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.2,
                                linewidth=0)
    for ax, ylabel in ((acc_ax, "test acc"), (loss_ax, "train loss")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid()
    loss_ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _json_safe(histories: Mapping[str, History]) -> dict[str, dict[str, list[float | None]]]:
    # JSON has no NaN or infinity: a diverged run's values are stored as null.
    return {
        name: {
            key: [float(v) if math.isfinite(float(v)) else None for v in history[key]]
            for key in HISTORY_KEYS
        }
        for name, history in histories.items()
    }


def show_results(histories: Mapping[str, History]) -> None:
    """Display :func:`results_table` and :func:`plot_histories` of ``histories``
    ({run name: history returned by ``train``}).

    In a kernel the table's output also carries the histories as output metadata
    (key ``'d2l_histories'``, non-finite values as null), invisible to readers; outside
    a kernel the table is printed and the figure is not shown.

    Raises:
        ValueError: see :func:`summary_rows`.
    """
    table = results_table(histories)
    fig = plot_histories(histories)
    if _kernel_shell() is None:
        print(table.to_string())
        return
    from IPython.display import display

    display(table, metadata={METADATA_KEY: _json_safe(histories)})
    display(fig)
