"""d2l_compat's results table and figure of several runs (the chapter's last cell)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from d2l_compat import results

HISTORIES = {
    "constant": {"lr": [0.3] * 3, "train_loss": [0.9, 0.5, 0.4],
                 "train_acc": [0.70, 0.85, 0.90], "test_acc": [0.72, 0.84, 0.83]},
    "cosine": {"lr": [0.3, 0.2, 0.1], "train_loss": [0.8, 0.45, 0.3],
               "train_acc": [0.72, 0.86, 0.91], "test_acc": [0.74, 0.86, 0.87]},
}


def test_summary_rows() -> None:
    constant, cosine = results.summary_rows(HISTORIES)
    assert constant == {
        "schedule": "constant", "train loss": 0.4, "train acc": 0.90, "test acc": 0.83,
        "best test acc": 0.84, "best epoch": 2, "train-test gap": pytest.approx(0.07),
    }
    assert cosine["best epoch"] == 3 and cosine["train-test gap"] == pytest.approx(0.04)


def test_results_table_is_indexed_by_schedule() -> None:
    table = results.results_table(HISTORIES)
    assert list(table.index) == ["constant", "cosine"]
    assert list(table.columns) == ["train loss", "train acc", "test acc", "best test acc",
                                   "best epoch", "train-test gap"]
    assert table.loc["cosine", "test acc"] == 0.87


def test_figure_overlays_every_run() -> None:
    fig = results.plot_histories(HISTORIES)
    acc_ax, loss_ax = fig.axes
    assert [line.get_label() for line in acc_ax.lines] == ["constant", "cosine"]
    assert list(loss_ax.lines[1].get_ydata()) == [0.8, 0.45, 0.3]
    assert list(acc_ax.lines[0].get_xdata()) == [1, 2, 3]


@pytest.mark.parametrize("bad, message", [
    ({}, "empty"),
    ({"r": {"lr": [1], "train_loss": [1], "train_acc": [1]}}, "lacks test_acc"),
    ({"r": {"lr": [1], "train_loss": [1, 2], "train_acc": [1], "test_acc": [1]}},
     "one value per epoch"),
])
def test_bad_histories_are_named(bad, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        results.results_table(bad)


@pytest.mark.kernel
def test_show_results_in_a_kernel_carries_the_histories() -> None:
    diverged = {**HISTORIES["constant"], "train_loss": [0.9, "NAN", "NAN"]}
    source = repr({**HISTORIES, "diverged": diverged}).replace("'NAN'", "math.nan")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import math\nfrom d2l_compat import results\nresults.show_results({source})")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    table = [o for o in outputs if "text/html" in o.get("data", {})]
    assert table and "<table" in table[0]["data"]["text/html"]
    stored = table[0]["metadata"][results.METADATA_KEY]
    assert stored["cosine"] == HISTORIES["cosine"]
    # JSON has no NaN: a diverged run's values are stored as null
    assert stored["diverged"]["train_loss"] == [0.9, None, None]
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)
