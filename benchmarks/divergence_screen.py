"""Divergence screen of the chapter's five training runs: which runs, at the chapter's
learning rate, stay at chance for some seeds.

Trains each of the "Learning Rate Scheduling" chapter's five runs (constant, square root,
multi factor, cosine, warmup) over the first ``--epochs`` epochs (default 3) for
``--seeds`` seeds (default 10: seeds 0..N-1) per framework, on the full Fashion-MNIST
data, and reports per framework x run how many seeds diverged: a non-finite train loss,
or a test accuracy at or below chance level (``bookbuild.vocabulary.CHANCE_LEVEL``, 0.2;
chance is 0.1) at the last screened epoch. This is the evidence behind the chapter's
learning rate: a rate at which a run can stay at chance for some seeds is too large for
the book. The seed-to-seed spread of the full 30-epoch runs that the book shows is
measured by ``python -m bookbuild.spread``, not here.

The runs use the chapter's *own* code: for each framework a worker subprocess (MXNet and
TensorFlow/PyTorch never share a process) executes the code cells of the generated
notebook ``chapters/en/notebooks/scheduler_<framework>.ipynb`` in order, in one namespace,
except that

* the first code cell (the Colab install cell) and IPython magics are skipped;
* each training statement ``histories[<run>] = train(...)`` is not executed: its
  arguments are evaluated at that point (so the run gets the ``scheduler`` and ``lr``
  current there) and kept under the run's name;
* ``d2l.show_results(histories)`` is skipped (nothing was trained).

The worker then calls the notebook's ``train(...)`` itself with the epochs and seed of each
(run, seed) pair. PyTorch's and MXNet's ``train(seed=...)`` seeds initialization and
shuffling itself; TensorFlow's fixes train_iter's shuffle order when the dataset is
created, so for TensorFlow every pair first calls ``tf.keras.utils.set_random_seed(seed)``
and re-creates ``train_iter``/``test_iter`` with ``d2l.load_data_fashion_mnist``: a
(run, seed) pair fully determines a run on every framework.

The table, per framework x run: seeds, how many diverged (and which), min and median test
accuracy at the last screened epoch, and the largest learning rate applied. ``--report``
prints it from the ``--out`` file alone, training nothing.

``--seed-list 1 2 0`` replaces the seed range (seed 0 is the one the book's build runs).
Every finished (framework, run, seed) is appended to ``--out`` as one JSON line with its
per-epoch history, so an interrupted run keeps what finished and a rerun skips pairs
already there (same notebook code, epochs and data size). Each worker's own output (the
chapter's prints, framework logging) is appended to ``<out>.<framework>.log``.

Threads: each worker runs with the thread variables of the environment it is started
in (``OMP_NUM_THREADS=1 MXNET_OMP_MAX_THREADS=1 TF_NUM_INTRAOP_THREADS=1
TF_NUM_INTEROP_THREADS=1`` reproduces the book build's one thread per kernel on 2 cores).
Floating-point results can depend on the thread count, so every record stores them
(``"threads"``, empty: the frameworks' defaults).

The data are full unless ``--max-examples N`` is given (``D2L_MAX_EXAMPLES`` is removed
from the workers' environment otherwise): use it only for a quick smoke run.

Usage::

    D2L_DATA_DIR=/path/to/fashion-mnist .venv/bin/python benchmarks/divergence_screen.py \\
        --seeds 10 --epochs 2 --out /tmp/divergence_screen.jsonl
    ... benchmarks/divergence_screen.py --seed-list 1 2 0 --frameworks pytorch tensorflow \\
        --out /tmp/divergence_screen.jsonl
    ... benchmarks/divergence_screen.py --report --out /tmp/divergence_screen.jsonl
    # smoke run: 100 examples, every framework
    ... benchmarks/divergence_screen.py --max-examples 100 --seeds 2 --epochs 1 \\
        --out /tmp/divergence_screen_smoke.jsonl
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import json
import math
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from _common import REPO, code_cells, format_table, notebook_path, quiet_tf_env, strip_magics

# on sys.path through _common
from bookbuild.vocabulary import (
    CHANCE_LEVEL,
    DATA_DIR_ENV,
    FRAMEWORK_TAGS,
    MAX_EXAMPLES_ENV,
    PROGRESS_FILE_ENV,
    RUNS,
)

# Every record says which measurement it is: files written before the seed spread moved
# to `python -m bookbuild.spread` also hold "spread" records, which are left out.
SCREEN = "screen"
HISTORY_KEYS = ("lr", "train_loss", "train_acc", "test_acc")


# ------------------------------------------------------------------ pure helpers


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


def _data(max_examples: int | None) -> str:
    return "full" if max_examples is None else str(max_examples)


def _fmt(value: float | None, digits: int = 3) -> str:
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
            framework, run, code, _max_lr(histories), str(epochs), _data(max_examples),
            str(len(group)), str(len(bad)),
            _seed_list(bad), _fmt(_min(finals)), _fmt(_median(finals)),
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


# ------------------------------------------------------------------ worker (one framework)


def _load_chapter(framework: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str]:
    """Execute the notebook's code cells; return the namespace, the captured training
    calls ({run: {"args", "kwargs"}}) and the code digest."""
    notebook = json.loads(notebook_path(framework).read_text(encoding="utf-8"))
    sources = code_cells(notebook)
    namespace: dict[str, Any] = {"__name__": "__chapter__"}
    calls: dict[str, dict[str, Any]] = {}
    for index, source in enumerate(sources):
        tree = ast.parse(strip_magics(source), filename=f"<{framework} cell {index}>")
        for stmt in tree.body:
            run = training_run(stmt)
            if run is not None:
                call = stmt.value
                assert isinstance(call, ast.Call)
                # Evaluate the arguments where the book would train, so the run keeps the
                # scheduler (and lr) current at that point of the notebook.
                args = [_evaluate(arg, namespace) for arg in call.args]
                kwargs = {kw.arg: _evaluate(kw.value, namespace) for kw in call.keywords}
                calls[run] = {"args": args, "kwargs": kwargs}
                namespace.setdefault("histories", {})[run] = None
            elif not is_show_results(stmt):
                module = ast.Module(body=[stmt], type_ignores=[])
                exec(compile(module, f"<{framework} cell {index}>", "exec"), namespace)
    return namespace, calls, code_digest(sources)


def _evaluate(node: ast.expr, namespace: dict[str, Any]) -> Any:
    return eval(compile(ast.Expression(body=node), "<train argument>", "eval"), namespace)


def _describe(scheduler: Any) -> str:
    """The scheduler's function or class name (a repr would carry a memory address)."""
    if scheduler is None:
        return "None"
    if inspect.isfunction(scheduler):
        return f"function {scheduler.__qualname__}"
    attributes = getattr(scheduler, "__dict__", {})
    return f"{type(scheduler).__qualname__} {attributes}"


def _batches_per_epoch(train_iter: Any) -> int:
    if hasattr(train_iter, "cardinality"):  # tf.data.Dataset
        return int(train_iter.cardinality())
    return len(train_iter)


def _train_one(
    framework: str, namespace: dict[str, Any], call: dict[str, Any], epochs: int, seed: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    train = namespace["train"]
    bound = inspect.signature(train).bind(*call["args"], **call["kwargs"])
    bound.arguments["num_epochs"] = epochs
    bound.arguments["seed"] = seed
    if framework == "tensorflow":
        # train_iter's shuffle order is fixed when the dataset is made (under the global
        # seed then); remake it under this seed so (run, seed) determines the whole run.
        namespace["tf"].keras.utils.set_random_seed(seed)
        train_iter, test_iter = namespace["d2l"].load_data_fashion_mnist(namespace["batch_size"])
        bound.arguments["train_iter"], bound.arguments["test_iter"] = train_iter, test_iter
    history = train(*bound.args, **bound.kwargs)
    info = {
        "lr": float(bound.arguments["lr"]),
        "scheduler": _describe(bound.arguments.get("scheduler")),
        "batches_per_epoch": _batches_per_epoch(bound.arguments["train_iter"]),
    }
    return {key: [float(v) for v in history[key]] for key in HISTORY_KEYS}, info


def _versions(namespace: dict[str, Any]) -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in ("mx", "torch", "tf", "onp"):
        module = namespace.get(name)
        if module is not None and hasattr(module, "__version__"):
            versions[module.__name__] = module.__version__
    return versions


def _threads() -> dict[str, str]:
    """The thread caps this worker runs with: those of the variables the book's build
    sets per kernel that are set here (none: each framework's default)."""
    from bookbuild.kernel_env import THREAD_VARIABLES

    return {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ}


def worker() -> NoReturn:
    """Run the jobs read as JSON from stdin; report JSON lines on the original stdout."""
    spec = json.load(sys.stdin)
    # The protocol keeps the original stdout; everything else the chapter code, MXNet or
    # TensorFlow print (including from C) goes to stderr, which the parent logs to a file.
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def send(message: dict[str, Any]) -> None:
        proto.write(json.dumps(message) + "\n")

    sys.path.insert(0, str(REPO))
    import matplotlib

    matplotlib.use("Agg")
    framework = spec["framework"]
    started = time.perf_counter()
    compat = compat_digest()  # before the notebook imports d2l_compat
    namespace, calls, digest = _load_chapter(framework)
    missing = [job["run"] for job in spec["jobs"] if job["run"] not in calls]
    if missing:
        raise SystemExit(f"{framework}: no training cell for {sorted(set(missing))}")
    send({
        "event": "ready", "code_sha256": digest, "compat_sha256": compat,
        "versions": _versions(namespace), "threads": _threads(),
        "seconds": time.perf_counter() - started,
        "max_examples": os.environ.get(MAX_EXAMPLES_ENV) or None,
    })  # fmt: skip
    progress_file = os.environ.get(PROGRESS_FILE_ENV)
    for job in spec["jobs"]:
        offset = os.path.getsize(progress_file) if progress_file and os.path.exists(
            progress_file) else 0
        send({"event": "start", **job, "progress_offset": offset})
        started = time.perf_counter()
        history, info = _train_one(framework, namespace, calls[job["run"]], job["epochs"],
                                   job["seed"])
        send({
            "event": "result", **job, **info, "history": encode_history(history),
            "seconds": time.perf_counter() - started,
        })  # fmt: skip
    proto.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is reported; skip interpreter teardown, where MXNet and TensorFlow can
    # take long (or crash) destroying their thread pools.
    os._exit(0)


# ------------------------------------------------------------------ parent


def _error(message: str) -> None:
    print(f"divergence_screen.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the module docstring for details.",
    )
    parser.add_argument("--out", type=Path,
                        help="JSON-lines results file (appended; finished pairs are skipped)")
    parser.add_argument("--report", action="store_true", help="only print the table from --out")
    parser.add_argument("--frameworks", nargs="+", default=list(FRAMEWORK_TAGS),
                        help=f"subset and order of {', '.join(FRAMEWORK_TAGS)} (default: all)")
    parser.add_argument("--runs", nargs="+", default=list(RUNS),
                        help="subset and order of the runs (default: all five)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs screened from the start of each run (default 3)")
    parser.add_argument("--seed-list", type=int, nargs="+",
                        help="explicit seeds, in this order (instead of --seeds)")
    parser.add_argument("--max-examples", type=int,
                        help="train/test on a fixed N-example subset (smoke runs only)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    # The seed spread this script once measured too is the book's own command now.
    parser.add_argument("--spread", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    if args.spread:
        _error("the seed spread is measured by `python -m bookbuild.spread`; this script "
               "is the divergence screen (see --help)")
    if args.out is None:
        _error("--out is required (the JSON-lines results file)")
    for message in (unknown_names(args.frameworks, FRAMEWORK_TAGS, "framework"),
                    unknown_names(args.runs, RUNS, "run")):
        if message:
            _error(message)
    for name in ("seeds", "epochs"):
        if getattr(args, name) < 1:
            _error(f"--{name} must be at least 1")
    if args.seed_list is not None and any(s < 0 for s in args.seed_list):
        _error("--seed-list seeds must be >= 0")
    if args.max_examples is not None and (args.max_examples <= 0 or args.max_examples % 10):
        _error("--max-examples must be a positive multiple of 10 (N // 10 per class)")
    return args


def _jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """All (seed, run) jobs of one framework, seed-major so an interrupted run has whole
    seeds (every run) rather than whole runs (every seed)."""
    seeds = args.seed_list if args.seed_list is not None else list(range(args.seeds))
    return [{"mode": SCREEN, "run": run, "seed": seed, "epochs": args.epochs}
            for seed in seeds for run in args.runs]


def _check_notebooks(frameworks: Sequence[str], runs: Sequence[str]) -> None:
    """Fail fast (before any worker starts) if a notebook lacks a requested run."""
    for framework in frameworks:
        path = notebook_path(framework)
        if not path.exists():
            _error(f"{path} does not exist")
        found = find_runs(code_cells(json.loads(path.read_text(encoding="utf-8"))))
        missing = [run for run in runs if run not in found]
        if missing:
            _error(f"{path.name} has no training cell for {missing}; it has {found}")


class _Display:
    """A rich progress bar per framework on a terminal; one line per finished run else."""

    def __init__(self, totals: dict[str, int]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, disable=not self.live, refresh_per_second=2,
        )  # fmt: skip
        self.tasks = {fw: self.progress.add_task(f"{fw:<10} waiting", total=total)
                      for fw, total in totals.items()}

    def __enter__(self) -> _Display:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, framework: str, description: str, completed: float) -> None:
        self.progress.update(self.tasks[framework], description=f"{framework:<10} {description}",
                             completed=completed)

    def line(self, text: str) -> None:
        if self.live:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)


def _read_progress(path: Path, offset: int) -> float | None:
    """Latest x (epochs done) that the chapter's Animator wrote since ``offset``."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return float(json.loads(line)["x"])
        except (ValueError, KeyError, TypeError):
            continue  # a line still being written
    return None


def _run_framework(
    framework: str, jobs: list[dict[str, Any]], args: argparse.Namespace, out: TextIO,
    display: _Display, done_epochs: float,
) -> bool:
    """Run one framework's jobs in a worker subprocess; append each result to ``out``."""
    log_path = Path(f"{args.out}.{framework}.log")
    progress_path = Path(f"{args.out}.{framework}.progress")
    progress_path.write_text("")
    env = quiet_tf_env()  # full data unless asked otherwise
    if args.max_examples is not None:
        env[MAX_EXAMPLES_ENV] = str(args.max_examples)
    env["MPLBACKEND"] = "Agg"
    env[PROGRESS_FILE_ENV] = str(progress_path)
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n===== {datetime.now(UTC).isoformat()} {framework}: {len(jobs)} jobs\n")
        log.flush()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker"], cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
        )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"framework": framework, "jobs": jobs}))
    proc.stdin.close()
    messages: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            messages.put(line)
        messages.put(None)

    threading.Thread(target=pump, daemon=True).start()
    display.line(f"{framework}: worker pid {proc.pid}, log {log_path}")
    display.update(framework, "loading the notebook", done_epochs)
    ready: dict[str, Any] = {}
    current: dict[str, Any] | None = None
    finished = 0
    try:
        while True:
            try:
                line = messages.get(timeout=0.5)
            except queue.Empty:
                if current is not None:
                    x = _read_progress(progress_path, current["progress_offset"]) or 0.0
                    display.update(
                        framework,
                        f"{current['mode']} {current['run']} seed {current['seed']} "
                        f"epoch {min(math.floor(x) + 1, current['epochs'])}/{current['epochs']}",
                        done_epochs + min(x, current["epochs"]),
                    )
                continue
            if line is None:
                break
            message = json.loads(line)
            if message["event"] == "ready":
                ready = message
                expected = None if args.max_examples is None else str(args.max_examples)
                if message["max_examples"] != expected:
                    raise RuntimeError(
                        f"worker saw {MAX_EXAMPLES_ENV}={message['max_examples']}")
                display.line(f"{framework}: notebook code {message['code_sha256']} "
                             f"(d2l_compat {message['compat_sha256']}) loaded in "
                             f"{message['seconds']:.0f} s; {message['versions']}; threads "
                             f"{message['threads'] or 'framework defaults'}")
            elif message["event"] == "start":
                current = message
            elif message["event"] == "result":
                record = {
                    "framework": framework, "mode": message["mode"], "run": message["run"],
                    "seed": message["seed"], "epochs": message["epochs"],
                    "max_examples": args.max_examples, "lr": message["lr"],
                    "scheduler": message["scheduler"],
                    "batches_per_epoch": message["batches_per_epoch"],
                    "seconds": round(message["seconds"], 2),
                    "code_sha256": ready.get("code_sha256"),
                    "compat_sha256": ready.get("compat_sha256"), "versions": ready.get("versions"),
                    "threads": ready.get("threads"),
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                    "history": message["history"],
                }  # fmt: skip
                out.write(json.dumps(record) + "\n")
                out.flush()
                os.fsync(out.fileno())
                finished += 1
                done_epochs += message["epochs"]
                current = None
                history = decode_history(message["history"])
                flag = "  DIVERGED" if diverged(history) else ""
                display.line(
                    f"{framework} {message['mode']} {message['run']!r} seed {message['seed']}: "
                    f"{message['epochs']} epochs, train loss {_fmt(history['train_loss'][-1])}, "
                    f"train acc {_fmt(history['train_acc'][-1])}, "
                    f"test acc {_fmt(history['test_acc'][-1])}, {message['seconds']:.0f} s "
                    f"({finished}/{len(jobs)}){flag}"
                )
                display.update(framework, f"{finished}/{len(jobs)} runs done", done_epochs)
        # The worker closed its output: give it time to exit on its own.
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            pass  # terminated below; what it reported is already written
    finally:
        if proc.poll() is None:  # interrupted, or a stuck exit
            proc.terminate()
        proc.wait()
        progress_path.unlink(missing_ok=True)
    if finished < len(jobs):
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        display.line(f"{framework}: worker failed (exit {proc.returncode}); end of {log_path}:")
        display.line("\n".join(tail))
        return False
    display.update(framework, "done", done_epochs)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.worker:
        worker()
    if args.report:
        print(report(read_records(args.out)))
        return 0
    _check_notebooks(args.frameworks, args.runs)
    if args.max_examples is None and os.environ.get(MAX_EXAMPLES_ENV):
        print(f"note: ignoring {MAX_EXAMPLES_ENV}={os.environ[MAX_EXAMPLES_ENV]} (full data; "
              "use --max-examples for a subset)", file=sys.stderr)

    # A rerun continues: drop the jobs whose record (of the notebook code as it is now) is
    # already in --out.
    done = set(latest_by_key(read_records(args.out)))
    todo: dict[str, list[dict[str, Any]]] = {}
    skipped = 0
    for framework in args.frameworks:
        notebook = json.loads(notebook_path(framework).read_text(encoding="utf-8"))
        code = code_digest(code_cells(notebook))
        for job in _jobs(args):
            key = record_key({"framework": framework, "max_examples": args.max_examples,
                              "code_sha256": code, **job})
            if key in done:
                skipped += 1
            else:
                todo.setdefault(framework, []).append(job)
    total = sum(len(jobs) for jobs in todo.values())
    print(f"{total} runs to train ({skipped} already in {args.out}); data: "
          f"{_data(args.max_examples)}; {DATA_DIR_ENV}={os.environ.get(DATA_DIR_ENV, '(unset)')}",
          file=sys.stderr, flush=True)

    # SIGTERM (e.g. `kill PID`) ends the parent through the same cleanup as Ctrl-C, so the
    # worker is stopped rather than left training for a pipe nobody reads.
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    ok, interrupted = True, False
    args.out.parent.mkdir(parents=True, exist_ok=True)
    totals = {fw: sum(job["epochs"] for job in jobs) for fw, jobs in todo.items()}
    try:
        with args.out.open("a", encoding="utf-8") as out, _Display(totals) as display:
            for framework, jobs in todo.items():
                ok = _run_framework(framework, jobs, args, out, display, 0.0) and ok
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: the tables below hold what finished", file=sys.stderr)

    records = [
        r for r in read_records(args.out)
        if r["mode"] == SCREEN and r["framework"] in args.frameworks and r["run"] in args.runs
        and r.get("max_examples") == args.max_examples and r["epochs"] == args.epochs
    ]  # fmt: skip
    print(report(records))
    if interrupted:
        return 130
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
