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

The runs use the chapter's *own* code: for each framework a worker subprocess
(``screen_worker.py``; MXNet and TensorFlow/PyTorch never share a process) executes the
code cells of the generated notebook ``chapters/en/notebooks/scheduler_<framework>.ipynb``
in order, in one namespace, except that

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

The records and the table are ``screen_records.py``. The table, per framework x run:
seeds, how many diverged (and which), min and median test accuracy at the last screened
epoch, and the largest learning rate applied. ``--report`` prints it from the ``--out``
file alone, training nothing.

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
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from _common import REPO, code_cells, notebook_path, quiet_tf_env
from screen_records import (
    SCREEN,
    code_digest,
    data_label,
    decode_history,
    diverged,
    find_runs,
    fmt_value,
    latest_by_key,
    read_records,
    record_key,
    report,
    unknown_names,
)

# on sys.path through _common
from bookbuild.vocabulary import (
    DATA_DIR_ENV,
    FRAMEWORK_TAGS,
    MAX_EXAMPLES_ENV,
    PROGRESS_FILE_ENV,
    RUNS,
)

# The process that trains one framework's jobs
WORKER = Path(__file__).with_name("screen_worker.py")


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
                        help="subset and order of the runs (default: all)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs screened from the start of each run (default 3)")
    parser.add_argument("--seed-list", type=int, nargs="+",
                        help="explicit seeds, in this order (instead of --seeds)")
    parser.add_argument("--max-examples", type=int,
                        help="train/test on a fixed N-example subset (smoke runs only)")
    # The seed spread this script once measured too is the book's own command now.
    parser.add_argument("--spread", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
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
            [sys.executable, str(WORKER)], cwd=REPO, env=env, text=True,
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
                    f"{message['epochs']} epochs, "
                    f"train loss {fmt_value(history['train_loss'][-1])}, "
                    f"train acc {fmt_value(history['train_acc'][-1])}, "
                    f"test acc {fmt_value(history['test_acc'][-1])}, {message['seconds']:.0f} s "
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
    data_dir = os.environ.get(DATA_DIR_ENV, "(unset)")
    print(f"{total} runs to train ({skipped} already in {args.out}); data: "
          f"{data_label(args.max_examples)}; {DATA_DIR_ENV}={data_dir}",
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
