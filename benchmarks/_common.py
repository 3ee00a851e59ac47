"""Pieces the benchmarks share (``loader_overhead.py``, ``divergence_screen.py``,
``train_speed.py``).

* the repository on ``sys.path``, so the benchmarks import the book's vocabulary
  (``bookbuild.vocabulary``: frameworks, runs, environment names) and ``d2l_compat``;
* the chapter's generated notebooks: where each framework's is, and its code cells as
  plain Python (the Colab install cell and IPython magics left out);
* the setting every benchmark trains with: the chapter's LeNet, SGD, batch 256, lr 0.2;
* compute-only epochs: forward + backward + SGD step over batches already in memory,
  one closure per framework, so that every benchmark measures "compute only" the same way;
  and compute-only forward passes (inference, outputs discarded) over such batches;
* a CPU meter, because on a 2-core machine another process's load changes every timing:
  each timed interval also records how many cores this process and all other processes
  kept busy;
* running one worker subprocess per framework (MXNet and TensorFlow/PyTorch never share a
  process) and reading its result, the last line of its stdout, as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bookbuild.vocabulary import CHAPTER, MAX_EXAMPLES_ENV, SOURCE_LANGUAGE  # noqa: E402

BATCH_SIZE, LR = 256, 0.2


# ------------------------------------------------------------ the chapter's notebooks


def notebook_path(framework: str, lang: str = SOURCE_LANGUAGE) -> Path:
    """The generated notebook of `framework` in language `lang` (where
    ``bookbuild.notebooks.notebook_path`` puts it; not imported, since that module pulls
    jupytext and Sphinx into every worker)."""
    return REPO / "chapters" / lang / "notebooks" / f"{CHAPTER}_{framework}.ipynb"


def code_cells(notebook: dict[str, Any]) -> list[str]:
    """Sources of the notebook's code cells, without the leading Colab install cell."""
    sources = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        sources.append("".join(source) if isinstance(source, list) else source)
    # The generated notebooks open with a cell that pip-installs d2l_compat on Colab only;
    # it is no part of the chapter's computation.
    if sources and "google.colab" in sources[0]:
        sources = sources[1:]
    return sources


def strip_magics(source: str) -> str:
    """Replace IPython magic / shell lines (``%...``, ``!...``) by ``pass`` at the same
    indentation, so the rest is plain Python (and an ``if`` body stays non-empty)."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def interleave(
    run_a: Callable[[], Any], run_b: Callable[[], Any], epochs: int
) -> tuple[list[float], list[float]]:
    """Warm up both, then time ``epochs`` alternating epochs of each.

    Returns:
        the seconds of every timed epoch of ``run_a`` and of ``run_b``.
    """
    run_a()
    run_b()
    times_a, times_b = [], []
    for _ in range(epochs):
        for run, times in ((run_a, times_a), (run_b, times_b)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return times_a, times_b


# ------------------------------------------------------------ compute-only epochs


def torch_epoch(net: Any, optimizer: Any, loss: Any, data: Iterable, device: Any) -> Callable:
    """One PyTorch training epoch over ``data`` (a loader or a list of ``(X, y)``):
    forward, backward and ``optimizer.step()`` per batch, nothing else."""
    import torch

    def run() -> None:
        net.train()
        for X, y in data:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss(net(X), y).backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return run


def mxnet_epoch(net: Any, trainer: Any, loss: Any, data: Iterable, device: Any) -> Callable:
    """One MXNet training epoch over ``data``: forward under ``autograd.record``,
    backward and ``trainer.step`` per batch; waits for MXNet's asynchronous engine to
    finish, so the time is the computation's."""
    from mxnet import autograd, npx

    def run() -> None:
        for X, y in data:
            X, y = X.as_in_ctx(device), y.as_in_ctx(device)
            with autograd.record():
                batch_loss = loss(net(X), y)
            batch_loss.backward()
            trainer.step(X.shape[0])
        npx.waitall()

    return run


def torch_forward(net: Any, data: Iterable, device: Any) -> Callable:
    """One PyTorch inference pass over ``data``: ``net.eval()``, ``torch.no_grad()``,
    the forward pass of every batch and nothing else; the mode is restored after."""
    import torch

    def run() -> None:
        was_training = net.training
        net.eval()
        with torch.no_grad():
            for X, _ in data:
                net(X.to(device))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        net.train(was_training)

    return run


def mxnet_forward(net: Any, data: Iterable, device: Any) -> Callable:
    """One MXNet inference pass over ``data`` (outside ``autograd.record``); waits for
    the engine to finish."""
    from mxnet import npx

    def run() -> None:
        for X, _ in data:
            net(X.as_in_ctx(device))
        npx.waitall()

    return run


def keras_forward(net: Any, data: Any, device: str) -> Callable:
    """One ``net.predict`` pass over the ``tf.data`` dataset ``data`` on ``device``."""
    import tensorflow as tf

    def run() -> None:
        with tf.device(device):
            net.predict(data, verbose=0)

    return run


def keras_compile(net: Any, lr: float = LR) -> Any:
    """Compile ``net`` as the chapter does, but with no metrics: SGD(lr), sparse
    categorical cross-entropy on logits. Returns ``net``."""
    import keras

    net.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return net


def keras_epoch(net: Any, data: Any, device: str) -> Callable:
    """One ``net.fit`` epoch over the ``tf.data`` dataset ``data`` on ``device`` (quiet,
    no shuffling: the batches are fixed)."""
    import tensorflow as tf

    def run() -> None:
        with tf.device(device):
            net.fit(data, epochs=1, verbose=0, shuffle=False)

    return run


def tf_in_memory(batches: Sequence[tuple[Any, Any]], batch_size: int = BATCH_SIZE) -> Any:
    """The same batches as a ``tf.data`` dataset held in memory: the full batches
    stacked into one tensor (sliced back out by ``from_tensor_slices``), then the last,
    partial batch(es); prefetched.

    Raises:
        ValueError: no batch has ``batch_size`` examples.
    """
    import tensorflow as tf

    full = [batch for batch in batches if batch[0].shape[0] == batch_size]
    rest = [batch for batch in batches if batch[0].shape[0] != batch_size]
    if not full:
        raise ValueError(f"no batch of {batch_size} examples among {len(batches)} batches")
    data = tf.data.Dataset.from_tensor_slices(
        (tf.stack([X for X, _ in full]), tf.stack([y for _, y in full]))
    )
    for batch in rest:
        data = data.concatenate(tf.data.Dataset.from_tensors(batch))
    return data.prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------ CPU meter


def _machine_busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (Linux ``/proc/stat``)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy
    ticks = [int(v) for v in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass
class Interval:
    """One timed interval: wall seconds; cores this process kept busy on average (CPU
    seconds of all its threads / wall seconds); cores all *other* processes kept busy
    (``None`` where the machine's total is unknown)."""

    seconds: float
    cores: float
    others: float | None


class CpuMeter:
    """Times intervals and the CPU use in them: ``meter.time(run)``, or
    ``start = meter.mark()`` ... ``meter.since(start)``."""

    def mark(self) -> tuple[float, float, float | None]:
        """The current (wall, this process's CPU, machine's busy CPU) seconds."""
        return time.perf_counter(), time.process_time(), _machine_busy_seconds()

    def since(self, start: tuple[float, float, float | None]) -> Interval:
        """The interval from ``start`` (a :meth:`mark`) to now."""
        wall0, cpu0, busy0 = start
        wall1, cpu1, busy1 = self.mark()
        seconds = max(wall1 - wall0, 1e-9)
        own = cpu1 - cpu0
        others = None
        if busy0 is not None and busy1 is not None:
            # /proc/stat counts in clock ticks, so a short interval can come out a tick
            # below this process's own CPU time; never report a negative load
            others = max((busy1 - busy0) - own, 0.0) / seconds
        return Interval(seconds, own / seconds, others)

    def time(self, run: Callable[[], Any]) -> Interval:
        """Run ``run()`` and return its interval."""
        start = self.mark()
        run()
        return self.since(start)


def intervals_to_json(intervals: Sequence[Interval]) -> list[dict[str, Any]]:
    return [asdict(i) for i in intervals]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int) -> str:
    """A plain-text table: the first ``text_columns`` columns left-aligned, the rest
    (numbers) right-aligned."""
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < text_columns else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def every_epoch_line(framework: str, seconds_a: Sequence[float], seconds_b: Sequence[float]) -> str:
    """The line listing every timed epoch of (a) and (b), after the best-of table."""
    every_a = ", ".join(f"{t:.2f}" for t in seconds_a)
    every_b = ", ".join(f"{t:.2f}" for t in seconds_b)
    return f"  {framework}: every epoch (a) [{every_a}]  (b) [{every_b}]"


def best(intervals: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The fastest interval (minimum seconds), as timeit reports: load from other
    processes only ever adds time."""
    return min(intervals, key=lambda i: i["seconds"])


# ------------------------------------------------------------------ workers


def run_workers(
    script: str | Path,
    frameworks: Sequence[str],
    worker_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Run ``script --worker <framework> *worker_args`` in a subprocess per framework,
    one after the other, and collect each one's result: the last line of its stdout,
    parsed as JSON.

    Raises:
        RuntimeError: a worker exited non-zero (its stderr's tail is in the message) or
            printed no JSON last line.
    """
    results = []
    for framework in frameworks:
        cmd = [sys.executable, str(script), "--worker", framework, *worker_args]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines:
            tail = "\n".join(result.stderr.strip().splitlines()[-30:])
            raise RuntimeError(f"{framework} worker failed (exit {result.returncode}):\n{tail}")
        try:
            results.append(json.loads(lines[-1]))
        except json.JSONDecodeError as exc:
            raise RuntimeError(f"{framework} worker printed no JSON result: {lines[-1]!r}") from exc
        print(f"{framework}: done", file=sys.stderr, flush=True)
    return results


def quiet_tf_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's environment) for a worker: TensorFlow's C++
    INFO/WARNING lines off unless the caller chose a level, and no ``D2L_MAX_EXAMPLES``
    (benchmarks use the full data unless asked otherwise)."""
    env = dict(os.environ if env is None else env)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop(MAX_EXAMPLES_ENV, None)
    return env
