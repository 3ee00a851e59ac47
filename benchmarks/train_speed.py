"""How much slower per epoch is the chapter's own ``train`` than the bare computation?

For each framework, in its own subprocess, on the full Fashion-MNIST training set:

(a) the chapter's ``train``: the code cells of the generated notebook
    ``chapters/en/notebooks/scheduler_<framework>.ipynb`` up to its setup cell (the one
    defining ``train``) are executed as they stand (IPython magics such as
    ``%matplotlib inline`` dropped), then its ``train(net_fn, train_iter,
    test_iter, num_epochs, lr, scheduler=...)`` is called, so every epoch includes what
    the chapter does per epoch: its data loader, the per-batch metrics, the Animator and
    the test-set evaluation;
(b) compute only: the arithmetic of one chapter epoch and nothing else. A fresh network
    from the same ``net_fn`` and the same SGD (lr 0.2) trains on the batches of one epoch
    of the chapter's ``train_iter``, made once and held in memory: per batch only forward,
    backward and the update. Then it runs the forward pass (inference) over the batches of
    ``test_iter``, also held in memory, and discards the outputs (see ``_common.py``).

Why the test-set forward pass belongs to (b): the chapter evaluates on the test set after
every epoch, as d2l's ``train_ch6`` does, and that forward pass over 10,000 images is by
itself 4-8% of a training epoch here (one run, one thread each: MXNet 0.30 s next to
7.05 s, PyTorch 0.45 s next to 5.70 s, TensorFlow 0.30 s next to 4.48 s; a forward pass
costs a quarter to a half of a training step of this LeNet on CPU). It is computation the
chapter asks for, not overhead of its loop. The table shows both parts of (b), and the
ratio against the training part alone too, so the evaluation's share stays visible.

Epochs of (a) and (b) are interleaved: the ``scheduler`` passed to the chapter's ``train``
returns the constant lr 0.2 and, each time the chapter asks it for an epoch's rate, first
runs one epoch of (b) (its training part and its test-set part timed apart); an epoch of
(a) is the time from there to the next epoch's request (or to ``train``'s return), without
(b)'s time. One more epoch of (b) runs after ``train`` returns, so every epoch of (a) lies
between two epochs of (b). The first epoch of each is a warm-up.

The ratio (a)/(b) is the chapter loop's overhead (its loader, per-batch metrics, Animator
and Python); the target is <= 1.15. It is taken per epoch of (a), against the mean of the
two epochs of (b) around it, and the table reports the median of these paired ratios (and
their range). Why paired and not best-of-N: this
machine's speed drifts by up to about 20% over minutes with no other process running
(compute-only epochs of one process ranged 5.3-6.9 s within five minutes), and a best-of-N
ratio then compares (a)'s fastest minute with (b)'s. Neighbouring epochs share the
machine's speed, so their ratio keeps only the loop's overhead. The seconds shown are the
medians of each.

The table also shows the threads each framework is set to use and what the timed epochs
measured: "cores" is the CPU time of all the process's threads over the wall time (so 2.0
means both cores of a 2-core machine were kept busy), "others" the cores that all *other*
processes kept busy meanwhile (Linux only). A large "others" means the timings are not to
be trusted.

``--jobs N`` gives each worker the thread caps the book's build gives each kernel when
N notebooks execute at once (``python -m bookbuild --jobs N``; the build's default runs
all three at once, which on 2 cores is one thread each). Every worker gets the build's
other kernel settings too, ``GLIBC_TUNABLES`` for malloc among them (see
``bookbuild.kernel_env.MALLOC_KERNEL_ENV``). The workers themselves run one after the other,
so each has the machine to itself.

Limits: the workers are plain processes, not Jupyter kernels, so the Animator computes its
plots but never renders them (in a kernel it renders at most twice a second, and so that
rendering takes at most 2% of the time). The
chapter's ``train`` is called with ``(net_fn, train_iter, test_iter, num_epochs, lr)`` by
position and ``scheduler`` by name, so other parameters (e.g. ``seed``) keep their
defaults.

Usage::

    D2L_DATA_DIR=/path/to/fashion-mnist python benchmarks/train_speed.py [--epochs 8]
        [--frameworks mxnet pytorch tensorflow] [--jobs 3] [--save FILE]

``D2L_MAX_EXAMPLES`` is ignored (removed) here: the benchmark uses the full data unless
``--max-examples N`` is given (a smoke run; its timings mean little).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import (
    BATCH_SIZE,
    LR,
    CpuMeter,
    Interval,
    code_cells,
    every_epoch_line,
    format_table,
    intervals_to_json,
    keras_compile,
    keras_epoch,
    keras_forward,
    mxnet_epoch,
    mxnet_forward,
    notebook_path,
    quiet_tf_env,
    run_workers,
    strip_magics,
    tf_in_memory,
    torch_epoch,
    torch_forward,
)

# on sys.path through _common
from bookbuild.vocabulary import FRAMEWORK_TAGS, MAX_EXAMPLES_ENV

TARGET = 1.15


SETUP_NAMES = ("train", "net_fn", "train_iter", "test_iter", "device")


def load_setup_cell(framework: str) -> dict[str, Any]:
    """Execute the chapter notebook's code cells from the first (after the Colab install
    cell, magics dropped) through its setup cell, the first after which the namespace
    holds every name of ``SETUP_NAMES``, and return the namespace. The cells before the
    setup cell (the ``parameters`` cell, ``seed = 0``) run too, as the setup cell's
    defaults may read them.

    Raises:
        KeyError: no cell completes ``SETUP_NAMES``; names the missing ones.
    """
    path = notebook_path(framework)
    namespace: dict[str, Any] = {"__name__": "__chapter__"}
    missing = list(SETUP_NAMES)
    for index, source in enumerate(code_cells(json.loads(path.read_text(encoding="utf-8")))):
        exec(compile(strip_magics(source), f"<{path.name} code cell {index}>", "exec"),
             namespace)  # fmt: skip
        missing = [name for name in SETUP_NAMES if name not in namespace]
        if not missing:
            return namespace
    raise KeyError(f"{path.name}'s code cells define no {', '.join(missing)}")


Run = Callable[[], None]


def compute_only(framework: str, ns: dict[str, Any]) -> tuple[Run, Run]:
    """Closures running (b) with one fresh ``ns['net_fn']()`` network: a compute-only
    training epoch, and a compute-only forward pass over the test set."""
    batches, test_batches = list(ns["train_iter"]), list(ns["test_iter"])
    device = ns["device"]
    if framework == "mxnet":
        from mxnet import gluon, init

        net = ns["net_fn"]()
        net.initialize(init=init.Xavier(), ctx=device)
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR})
        return (mxnet_epoch(net, trainer, ns["loss"], batches, device),
                mxnet_forward(net, test_batches, device))  # fmt: skip
    if framework == "pytorch":
        import torch

        net = ns["net_fn"]().to(device)
        return (torch_epoch(net, torch.optim.SGD(net.parameters(), lr=LR), ns["loss"], batches,
                            device),
                torch_forward(net, test_batches, device))  # fmt: skip
    net = keras_compile(ns["net_fn"](), LR)
    return (keras_epoch(net, tf_in_memory(batches, BATCH_SIZE), device),
            keras_forward(net, tf_in_memory(test_batches, BATCH_SIZE), device))  # fmt: skip


def threads_setting(framework: str, ns: dict[str, Any]) -> str:
    """What the framework is set to use, as far as it tells."""
    # only the variables this framework reads
    names = {"mxnet": ("MXNET_OMP_MAX_THREADS", "OMP_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS"),
             "pytorch": ("OMP_NUM_THREADS",),
             "tensorflow": ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}[framework]
    env = [f"{name}={os.environ[name]}" for name in names if name in os.environ]
    if framework == "pytorch":
        torch = sys.modules["torch"]
        env.insert(0, f"torch intra-op {torch.get_num_threads()}, "
                      f"inter-op {torch.get_num_interop_threads()}")  # fmt: skip
    elif framework == "tensorflow":
        threading = sys.modules["tensorflow"].config.threading
        intra = threading.get_intra_op_parallelism_threads()
        inter = threading.get_inter_op_parallelism_threads()
        # 0 means TensorFlow's default: one thread per logical CPU
        env.insert(0, f"tf intra-op {intra or 'default'}, inter-op {inter or 'default'}")
    elif not env:
        env = ["MXNet's default"]
    return "; ".join(env)


class InterleavingScheduler:
    """Constant-rate scheduler for the chapter's ``train`` that interleaves compute-only
    epochs with the chapter's epochs and times both (see the module docstring).

    Args:
        lr: the rate returned for every epoch.
        compute_epoch: runs one compute-only training epoch.
        compute_forward: runs one compute-only forward pass over the test set.
        meter: clock for all three.

    Attributes:
        chapter, compute, forward: the timed intervals of (a), of (b)'s training epochs
            and of (b)'s test-set passes, in order.
    """

    def __init__(
        self,
        lr: float,
        compute_epoch: Run,
        compute_forward: Run,
        meter: CpuMeter,
    ) -> None:
        self.lr = lr
        self.compute_epoch = compute_epoch
        self.compute_forward = compute_forward
        self.meter = meter
        self.chapter: list[Interval] = []
        self.compute: list[Interval] = []
        self.forward: list[Interval] = []
        self._epoch: int | None = None
        self._start: Any = None

    def __call__(self, epoch: int, *_: Any) -> float:
        # Keras passes (epoch, lr); PyTorch's loop asks once per parameter group: act on
        # the first request of each epoch only
        if epoch != self._epoch:
            self._epoch = epoch
            self._close_chapter_epoch()
            self._run_compute_only()
            self._start = self.meter.mark()
        return float(self.lr)

    def _run_compute_only(self) -> None:
        self.compute.append(self.meter.time(self.compute_epoch))
        self.forward.append(self.meter.time(self.compute_forward))

    def _close_chapter_epoch(self) -> None:
        if self._start is not None:
            self.chapter.append(self.meter.since(self._start))
            self._start = None

    def finish(self) -> None:
        """Call when ``train`` returns: closes the chapter's last epoch and runs the
        compute-only epoch that follows it."""
        self._close_chapter_epoch()
        self._run_compute_only()


def paired_ratios(chapter: Sequence[float], compute: Sequence[float]) -> list[float]:
    """Each chapter epoch's seconds over the mean of the compute-only epochs just before
    and just after it: ``chapter[k] / ((compute[k] + compute[k + 1]) / 2)``.

    Raises:
        ValueError: ``compute`` does not have exactly one more epoch than ``chapter``,
            or an epoch took no time.
    """
    if len(compute) != len(chapter) + 1:
        raise ValueError(
            f"need one more compute-only epoch than chapter epochs, got {len(compute)} "
            f"and {len(chapter)}"
        )
    if min([*chapter, *compute], default=1.0) <= 0:
        raise ValueError("an epoch took no time: cannot form a ratio")
    return [a / ((before + after) / 2)
            for a, before, after in zip(chapter, compute, compute[1:], strict=False)]  # fmt: skip


def _worker(framework: str, epochs: int) -> None:
    ns = load_setup_cell(framework)
    clock = InterleavingScheduler(LR, *compute_only(framework, ns), CpuMeter())
    ns["train"](ns["net_fn"], ns["train_iter"], ns["test_iter"], epochs + 1, LR,
                scheduler=clock)  # fmt: skip
    clock.finish()
    if len(clock.chapter) != epochs + 1 or len(clock.compute) != epochs + 2:
        raise RuntimeError(
            f"the chapter's train asked the scheduler for {len(clock.compute) - 1} epochs, "
            f"not {epochs + 1}: cannot tell its epochs apart"
        )
    result = {
        "framework": framework,
        "threads": threads_setting(framework, ns),
        "chapter": intervals_to_json(clock.chapter[1:]),  # [0] is the warm-up
        "compute": intervals_to_json(clock.compute[1:]),
        "forward": intervals_to_json(clock.forward[1:]),
    }
    print(json.dumps(result))


def epoch_seconds(row: dict[str, Any]) -> tuple[list[float], ...]:
    """A worker's seconds per timed epoch: (a), (b)'s training part, (b)'s test-set part,
    and (b) whole (the two parts summed)."""
    chapter, train, forward = ([i["seconds"] for i in row[key]]
                               for key in ("chapter", "compute", "forward"))  # fmt: skip
    return chapter, train, forward, [t + f for t, f in zip(train, forward, strict=True)]


def table(rows: list[dict[str, Any]]) -> tuple[str, bool]:
    """The printed table and whether every median paired ratio meets the target."""
    lines, ok = [], True
    for row in rows:
        chapter, train, forward, compute = epoch_seconds(row)
        ratios = paired_ratios(chapter, compute)
        ratio = statistics.median(ratios)
        ok = ok and ratio <= TARGET
        train_only = statistics.median(paired_ratios(chapter, train))
        cores = [statistics.median(i["cores"] for i in row[key]) for key in ("chapter", "compute")]
        intervals = row["chapter"] + row["compute"] + row["forward"]
        others = [i["others"] for i in intervals if i["others"] is not None]
        lines.append([
            row["framework"], row["threads"],
            f"{statistics.median(chapter):.2f}",
            f"{statistics.median(train):.2f} + {statistics.median(forward):.2f}",
            f"{ratio:.3f}", f"{min(ratios):.3f}-{max(ratios):.3f}", f"{train_only:.3f}",
            f"{cores[0]:.2f} / {cores[1]:.2f}",
            f"{max(others):.2f}" if others else "-",
        ])  # fmt: skip
    headers = ["framework", "threads set", "(a) chapter s/epoch",
               "(b) train + test-set forward s", "(a)/(b)", "range", "(a)/(b train only)",
               "cores (a) / (b)", "others max"]  # fmt: skip
    return format_table(headers, lines, text_columns=2), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8,
                        help="timed epochs of the chapter's train (default 8)")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORK_TAGS,
                        default=list(FRAMEWORK_TAGS))
    parser.add_argument(
        "--max-examples", type=int, help="train on a capped subset: for a quick smoke run only"
    )
    parser.add_argument(
        "--jobs", type=int, default=1,
        help="cap each framework's threads as the book's build does when it executes N "
             "notebooks at once (python -m bookbuild --jobs N; its default, all three at once, "
             "means one thread each on 2 cores). Default 1: the frameworks' own thread "
             "settings",
    )
    parser.add_argument(
        "--save", type=Path, metavar="FILE",
        help="also write every timed interval (seconds, cores, others) of every worker to "
             "FILE as JSON",
    )
    parser.add_argument("--worker", choices=FRAMEWORK_TAGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.max_examples is not None and args.max_examples < 2 * BATCH_SIZE:
        parser.error(f"--max-examples must be at least {2 * BATCH_SIZE}")
    if args.save is not None and not args.save.parent.is_dir():
        parser.error(f"--save: folder {args.save.parent} does not exist")
    if args.worker:
        _worker(args.worker, args.epochs)
        return 0

    env = quiet_tf_env()
    from bookbuild.kernel_env import kernel_env

    env.update(kernel_env(args.jobs))  # the thread caps of a build with --jobs N
    if args.max_examples is not None:
        env[MAX_EXAMPLES_ENV] = str(args.max_examples)
    try:
        rows = run_workers(__file__, args.frameworks, ["--epochs", str(args.epochs)], env)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.save is not None:
        args.save.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    text, ok = table(rows)
    data = "full" if args.max_examples is None else f"{args.max_examples}-example subset of"
    print(
        f"LeNet, batch {BATCH_SIZE}, lr {LR}, {data} Fashion-MNIST train set: {args.epochs} "
        f"timed epochs of (a) after 1 warm-up, each between two of (b); medians"
    )
    print(text)
    for row in rows:
        chapter, _, _, compute = epoch_seconds(row)
        print(every_epoch_line(row["framework"], chapter, compute))
    print(f"target (a)/(b) <= {TARGET}: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
