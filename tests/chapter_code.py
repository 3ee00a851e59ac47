"""Run the chapter's own code in a kernel, as test_schedules.py does, for tests that
need its schedulers and widget cells but no training run: the English generated
notebook of a framework up to its "Explore the Schedules" cell, with `train` replaced
by a stub that returns made-up histories of the real shape (so the results cell's
widgets have runs to show) and the results table left out, followed by a probe cell
of the test's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from bookbuild.headless import headless_client

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "chapters" / "en" / "notebooks"
EXPLORER_CELL = "def show_schedule("
# The ipywidgets Colab ships (the widget cells must run on it too)
COLAB_IPYWIDGETS = "7.7.1"
# Every call returns other numbers (one seeded generator): per-epoch lists under the
# keys the chapter's `train` returns, as many as the run's epochs
TRAIN_STUB = """\
import random as _random
_stub_rng = _random.Random(0)
def train(net_fn, train_iter, test_iter, num_epochs, lr, scheduler=None, **kwargs):
    # no training run: made-up histories for the widget cells
    return {key: [_stub_rng.random() for _ in range(num_epochs)]
            for key in ('lr', 'train_loss', 'train_acc', 'test_acc')}"""


def chapter_notebook(framework: str, probe: str) -> nbformat.NotebookNode:
    """The framework's generated notebook cut after the explorer cell, without the
    Colab install cell and the results table, `train` stubbed, then `probe`.

    Raises AssertionError when the notebook has no single explorer cell or no training
    cell (the cut would then not be the chapter's code)."""
    nb = nbformat.read(NOTEBOOKS / f"scheduler_{framework}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"][1:]
    explorer = [i for i, c in enumerate(code) if EXPLORER_CELL in c.source]
    assert len(explorer) == 1, f"{framework}: expected one explorer cell, found {explorer}"
    cells = []
    for cell in code[:explorer[0] + 1]:
        if "d2l.show_results(" in cell.source:
            continue
        cells.append(nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata))
        if "def train(" in cell.source:
            cells.append(nbformat.v4.new_code_cell(TRAIN_STUB))
    assert any(" = train(" in c.source for c in cells), f"{framework}: no training cell"
    cells.append(nbformat.v4.new_code_cell(probe))
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = nb.metadata
    return out


def run_probe(framework: str, probe: str, pythonpath_first: Path | None = None
              ) -> tuple[dict, nbformat.NotebookNode]:
    """Execute `chapter_notebook(framework, probe)`; `probe` prints one line
    `PROBE <json>`. Returns (that JSON, the executed notebook). With `pythonpath_first`,
    that folder goes first on the kernel's PYTHONPATH (e.g. another ipywidgets)."""
    nb = chapter_notebook(framework, probe)
    env = dict(os.environ)
    if pythonpath_first is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath_first), env.get("PYTHONPATH")) if p)
    headless_client(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute(env=env)
    lines = [line for output in nb.cells[-1].outputs
             for line in output.get("text", "").splitlines() if line.startswith("PROBE ")]
    assert len(lines) == 1, f"{framework}: no probe report:\n{nb.cells[-1].outputs}"
    return json.loads(lines[0].removeprefix("PROBE ")), nb


def scheduler_call(p: dict) -> tuple[str, dict]:
    """The chapter's scheduler (class name, keyword arguments) that the explorer's setting
    `p` stands for; `p["schedule"]` is one of the widget cell's choices ("square root",
    "factor", "multi factor", "cosine", "cosine with warmup")."""
    if p["schedule"] == "square root":
        return "SquareRootScheduler", {"lr": p["base_lr"]}
    if p["schedule"] == "factor":
        return "FactorScheduler", {k: p[k] for k in ("factor", "stop_factor_lr", "base_lr")}
    if p["schedule"] == "multi factor":
        return "MultiFactorScheduler", {"step": list(p["steps"]), "factor": p["factor"],
                                        "base_lr": p["base_lr"]}
    warmup = p["warmup_steps"] if p["schedule"] == "cosine with warmup" else 0
    return "CosineScheduler", {"max_update": p["max_update"], "base_lr": p["base_lr"],
                               "final_lr": p["final_lr"], "warmup_steps": warmup}
