"""The divergence screen's records and report: one JSON line per finished (framework,
run, seed) in ``--out``, and the table made from them. Pure functions, no framework, so
tests/test_divergence_screen.py checks them without training. The screen itself is
``benchmarks/divergence_screen.py``; the process that trains is ``screen_worker.py``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from _common import REPO, format_table, strip_magics

# on sys.path through _common
from bookbuild.vocabulary import (
    CHANCE_LEVEL,
    FRAMEWORK_TAGS,
    HISTORY_KEYS,
    RUNS,
)

# Every record says which measurement it is: files written before the seed spread moved
# to `python -m bookbuild.spread` also hold "spread" records, which are left out.
SCREEN = "screen"


def code_digest(sources: Iterable[str]) -> str:
    """Short hash of the code cells, so results can be matched to the code that ran."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.encode() + b"\0")
    return digest.hexdigest()[:12]


def training_run(stmt: ast.stmt) -> str | None:
    """The run name if ``stmt`` is a chapter training statement
    ``histories['<run>'] = train(...)``, else ``None``."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target, value = stmt.targets[0], stmt.value
    if not (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == "histories"
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str)
    ):
        return None
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return None
    return target.slice.value if value.func.id == "train" else None


def is_show_results(stmt: ast.stmt) -> bool:
    """Whether ``stmt`` is a bare call of ``show_results`` (e.g. ``d2l.show_results(...)``)."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    func = stmt.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "show_results"


def find_runs(sources: Iterable[str]) -> list[str]:
    """Run names of the training statements in the cells, in order."""
    runs = []
    for source in sources:
        for stmt in ast.parse(strip_magics(source)).body:
            name = training_run(stmt)
            if name is not None:
                runs.append(name)
    return runs


def unknown_names(given: Sequence[str], valid: Sequence[str], what: str) -> str | None:
    """A one-line error for names not in ``valid`` (None when all are valid)."""
    bad = [name for name in given if name not in valid]
    if not bad:
        return None
    listed = ", ".join(repr(name) for name in valid)
    plural = "s" if len(bad) > 1 else ""
    return f"unknown {what}{plural} {', '.join(repr(b) for b in bad)}; valid: {listed}"


def encode_float(value: float) -> float | str:
    """JSON has no NaN/inf: store non-finite values as the strings 'nan', 'inf', '-inf'."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


def decode_float(value: float | str | None) -> float:
    return math.nan if value is None else float(value)


def encode_history(history: dict[str, Sequence[float]]) -> dict[str, list[float | str]]:
    return {key: [encode_float(v) for v in history[key]] for key in HISTORY_KEYS}


def decode_history(history: dict[str, Sequence[float | str]]) -> dict[str, list[float]]:
    return {key: [decode_float(v) for v in history.get(key, [])] for key in HISTORY_KEYS}


def record_key(record: dict[str, Any]) -> tuple:
    """What makes two records the same measurement (a rerun skips pairs already done).

    The notebook's code version is part of it: when the chapter changes (say its learning
    rate), a rerun measures the new code instead of counting the old results as done.
    """
    return (
        record.get("code_sha256"),
        record["framework"],
        record["mode"],
        record["run"],
        int(record["seed"]),
        int(record["epochs"]),
        record.get("max_examples"),
    )


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records of a JSON-lines file; a line cut short by an interruption is skipped."""
    if not path.exists():
        return []
    records = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                print(f"{path}:{number}: skipping an unreadable line", file=sys.stderr)
    return records


def latest_by_key(records: Iterable[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """One record per measurement: the last one written wins."""
    return {record_key(record): record for record in records}


def diverged(history: dict[str, Sequence[float]]) -> bool:
    """Non-finite training loss or test accuracy <= CHANCE_LEVEL at the last epoch."""
    loss, test_acc = history["train_loss"][-1], history["test_acc"][-1]
    return not math.isfinite(loss) or not math.isfinite(test_acc) or test_acc <= CHANCE_LEVEL


def _order(framework: str, run: str) -> tuple[int, int, str]:
    f = FRAMEWORK_TAGS.index(framework) if framework in FRAMEWORK_TAGS else len(FRAMEWORK_TAGS)
    r = RUNS.index(run) if run in RUNS else len(RUNS)
    return f, r, run


def _groups(records: Iterable[dict[str, Any]]) -> list[tuple[tuple, list[dict]]]:
    """Screen records grouped by (framework, run, notebook code version, epochs,
    max_examples), seeds sorted: results of different chapter code never share a row."""
    groups: dict[tuple, list[dict]] = {}
    first_seen: dict[tuple[str, str], str] = {}
    for record in latest_by_key(records).values():
        if record["mode"] != SCREEN:
            continue
        code = record.get("code_sha256") or "?"
        key = (
            record["framework"], record["run"], code, int(record["epochs"]),
            record.get("max_examples"),
        )  # fmt: skip
        groups.setdefault(key, []).append(record)
        version = (record["framework"], code)
        first_seen[version] = min(first_seen.get(version, "~"), record.get("finished", ""))

    def order(item: tuple[tuple, list]) -> tuple:
        framework, run, code, epochs, max_examples = item[0]
        # Per framework, older code versions first; full data (None) after subsets.
        f, r, name = _order(framework, run)
        return (f, first_seen[(framework, code)], code, r, name, epochs, max_examples is None,
                max_examples or 0)

    ordered = sorted(groups.items(), key=order)
    return [(key, sorted(group, key=lambda r: int(r["seed"]))) for key, group in ordered]


def data_label(max_examples: int | None) -> str:
    return "full" if max_examples is None else str(max_examples)


def fmt_value(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if math.isfinite(value) else str(value)


def _min(values: Sequence[float]) -> float:
    # NaN never compares smaller, so min() could hide it: a NaN is reported as the minimum.
    return math.nan if any(math.isnan(v) for v in values) else min(values)


def _median(values: Sequence[float]) -> float:
    return math.nan if any(math.isnan(v) for v in values) else statistics.median(values)


def _max_lr(histories: Sequence[dict[str, list[float]]]) -> str:
    """Largest learning rate applied in the epochs run (what a divergence screen tests)."""
    rates = [lr for h in histories for lr in h["lr"]]
    # float32 rates (TensorFlow) print as 0.30000001...; 4 significant digits suffice.
    return f"{max(rates):.4g}" if rates else "-"


def _seed_list(seeds: Sequence[int]) -> str:
    return " ".join(str(s) for s in seeds) if seeds else "-"


def screen_rows(records: Iterable[dict[str, Any]]) -> list[list[str]]:
    """Rows of the divergence-screen table."""
    rows = []
    for (framework, run, code, epochs, max_examples), group in _groups(records):
        histories = [decode_history(r["history"]) for r in group]
        finals = [h["test_acc"][-1] for h in histories]
        bad = [int(r["seed"]) for r, h in zip(group, histories, strict=True) if diverged(h)]
        rows.append([
            framework, run, code, _max_lr(histories), str(epochs), data_label(max_examples),
            str(len(group)), str(len(bad)),
            _seed_list(bad), fmt_value(_min(finals)), fmt_value(_median(finals)),
        ])  # fmt: skip
    return rows


SCREEN_HEADERS = [
    "framework", "run", "code", "max lr", "epochs", "data", "seeds", "diverged", "diverged seeds",
    "min test acc", "median test acc",
]  # fmt: skip


def compat_digest() -> str:
    """Short hash of d2l_compat's source, which the notebook code runs on (its loader,
    metrics and thread settings can change the numbers as much as the notebook can)."""
    return code_digest(
        path.name + "\0" + path.read_text(encoding="utf-8")
        for path in sorted((REPO / "d2l_compat").glob("*.py"))
    )


def code_hash_note(records: Iterable[dict[str, Any]]) -> str | None:
    """A warning when one framework's records come from different code (notebook code
    hash / d2l_compat hash; '?' = not recorded)."""
    hashes: dict[str, set[str]] = {}
    for record in records:
        pair = f"{record.get('code_sha256', '?')}/{record.get('compat_sha256', '?')}"
        hashes.setdefault(record["framework"], set()).add(pair)
    mixed = {fw: sorted(h) for fw, h in hashes.items() if len(h) > 1}
    if not mixed:
        return None
    parts = "; ".join(f"{fw}: {', '.join(h)}" for fw, h in sorted(mixed.items()))
    return f"note: records were made from different code, notebook/d2l_compat ({parts})"


def report(records: list[dict[str, Any]]) -> str:
    rows = screen_rows(records)
    out = [
        f"Divergence screen (diverged: non-finite train loss or test acc <= {CHANCE_LEVEL} "
        f"at the last screened epoch; test acc at that epoch)",
        # framework, run and code are text, the rest numbers
        format_table(SCREEN_HEADERS, rows, text_columns=3) if rows else "(no screen records)",
    ]
    note = code_hash_note(records)
    if note:
        out.append(note)
    return "\n\n".join(out)
