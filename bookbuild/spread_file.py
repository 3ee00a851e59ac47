"""The seed-spread data file, ``chapters/results/seed_spread.json``: its format, the
hashes that say what it was measured with, reading and writing it, and its statistics.

:mod:`bookbuild.spread` measures and writes it; the build reads it
(:mod:`bookbuild.spread_view`) and compares its hashes with what it builds
(:mod:`bookbuild.pipeline`).
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from . import results
from .config import ROOT
from .files import write_text_atomic
from .vocabulary import FRAMEWORK_TAGS, RUNS, is_results_cell

DEFAULT_OUT = ROOT / "chapters" / "results" / "seed_spread.json"
FORMAT = 1


class SpreadError(RuntimeError):
    """The notebooks or the data file do not allow a spread run (the message says why
    and what to do)."""


# ------------------------------------------------------------ hashes


def code_hash(nb: nbformat.NotebookNode) -> str:
    """A short hash of the code that computes the notebook's histories: its code cells
    up to and including the results cell (``d2l.show_results(histories)``).

    Cells after it (the explorers) do not change the runs, so editing them does not make
    a measured spread stale.
    """
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        digest.update(cell.source.encode() + b"\0")
        if is_results_cell(cell.source):
            break
    return digest.hexdigest()[:16]


def compat_hash(root: Path = ROOT) -> str:
    """A short hash of the helper package's source (``d2l_compat/*.py``)."""
    digest = hashlib.sha256()
    for path in sorted((root / "d2l_compat").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# ------------------------------------------------------------ the file


def read_spread(path: Path) -> dict[str, Any] | None:
    """The spread file at `path`, or None when there is none.

    Raises SpreadError when it exists but is not a spread file of this format.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise SpreadError(f"{path} cannot be read as a seed-spread file ({error}); move "
                          "it away or give another --out") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SpreadError(f"{path} is not a seed-spread file of format {FORMAT}; move it "
                          "away or give another --out")
    return data


def write_spread(path: Path, data: Mapping[str, Any]) -> None:
    """Write `data` to `path` whole or not at all."""
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=False) + "\n")


def seed_histories(data: Mapping[str, Any], framework: str) -> dict[int, results.Histories]:
    """{seed: {run: history}} of `framework` in a spread file's `data`."""
    seeds = data.get("frameworks", {}).get(framework, {}).get("seeds", {})
    return {int(s): record["histories"] for s, record in sorted(seeds.items(),
                                                                 key=lambda kv: int(kv[0]))}


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _final(history: Mapping[str, Sequence[float | None]], key: str) -> float:
    value = history[key][-1]
    return math.nan if value is None else float(value)


def final_stats(by_seed: Mapping[int, results.Histories]
                ) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    """Per run (in the chapter's order) of one framework's `by_seed` histories: (run,
    (mean, sd) of the final test accuracy, (mean, sd) of the final train-test gap)."""
    rows = []
    for run in RUNS:
        histories = [h[run] for h in by_seed.values() if run in h]
        if histories:
            rows.append((run, mean_sd([_final(h, "test_acc") for h in histories]),
                         mean_sd([_final(h, "train_acc") - _final(h, "test_acc")
                                  for h in histories])))
    return rows


def summary(data: Mapping[str, Any]) -> str:
    """Per framework and run: seeds, final test accuracy and train-test gap as
    mean ± sd."""
    lines = [f"{'framework':<11} {'run':<13} {'seeds':<10} {'test acc':<16} {'gap':<16}"]
    for fw in FRAMEWORK_TAGS:
        by_seed = seed_histories(data, fw)
        seeds = ",".join(str(s) for s in by_seed)
        for run, acc, gap in final_stats(by_seed):
            lines.append(f"{fw:<11} {run:<13} {seeds:<10} {acc[0]:.3f} ± {acc[1]:.3f}    "
                         f"{gap[0]:.3f} ± {gap[1]:.3f}")
    return "\n".join(lines)
