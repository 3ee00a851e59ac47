"""Run notebooks through nbclient, several at once, in one event loop in a worker
thread, reporting each training run's progress and stopping cleanly on Ctrl-C.

A notebook's training runs are the cells during which ``d2l.Animator`` reports epochs:
it appends a JSON line ``{"x": epoch, "xmax": num_epochs, ...}`` to the file named by
``$D2L_PROGRESS_FILE`` when that is set (see ``d2l_compat``'s ``Animator``), so the
runner finds them by what they do, not by what their code looks like.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nbformat

from .headless import headless_client
from .vocabulary import PROGRESS_FILE_ENV, RUNS


class Progress:
    """What the kernel reports while a notebook runs, for a display to show.

    ``on_run(run_index, num_runs, epoch, num_epochs)`` is called from a watcher thread
    whenever the epoch advances; ``on_run_done(run_index, num_runs, seconds)`` when a
    training cell finishes; ``on_start()`` when the notebook's kernel is being started
    (a notebook may wait for others first).
    """

    def __init__(
        self,
        on_run: Callable[[int, int, float, float], None],
        on_run_done: Callable[[int, int, float], None],
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.on_run = on_run
        self.on_run_done = on_run_done
        self.on_start = on_start


@dataclass
class Job:
    """One notebook to execute: `nb`, stored at `path` (its folder is the kernel's
    working folder, and the kernel's own output goes to ``<path>.kernel.log`` beside
    it), reporting to `progress`; `runs` is how many training runs it has."""

    path: Path
    nb: nbformat.NotebookNode
    progress: Progress | None = None
    runs: int = len(RUNS)

    @property
    def kernel_log(self) -> Path:
        return self.path.with_name(self.path.name + ".kernel.log")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the execution of the notebooks at `paths`; their kernels were
    shut down and nothing of them was cached (`cache_path` keeps what finished)."""

    def __init__(self, paths: list[Path], cache_path: Path) -> None:
        super().__init__(f"interrupted while executing {', '.join(map(str, paths))}")
        self.paths = paths
        self.cache_path = cache_path


def _watch(path: Path, stop: threading.Event, report: Callable[[float, float], None]) -> None:
    offset = 0
    while not stop.wait(1.0):
        try:
            if path.stat().st_size < offset:  # emptied for the next cell
                offset = 0
            with open(path, encoding="utf-8") as f:
                f.seek(offset)
                lines = f.readlines()
                offset = f.tell()
        except FileNotFoundError:
            continue
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            report(float(record["x"]), float(record["xmax"]))
            break


class _StopRequested(Exception):
    """Raised before a cell runs once the build is being stopped: nbclient then shuts
    the notebook's kernel down as after any failing cell."""


class Running:
    """One notebook's execution inside the event loop: its client, progress file and
    watcher thread. Once `stopping` is set, no further cell starts. `run` counts the
    training runs that finished."""

    def __init__(self, job: Job, tmp: Path, index: int, timeout: int | None,
                 stopping: threading.Event) -> None:
        self.job = job
        self.stopping = stopping
        self.work = nbformat.from_dict(json.loads(json.dumps(job.nb)))
        self.progress_file = tmp / f"progress-{index}.jsonl"
        self.run = 0
        self.cell_started = time.perf_counter()
        self.started: float | None = None
        self.succeeded = False
        self.client = headless_client(
            self.work, timeout=timeout, kernel_name="python3",
            resources={"metadata": {"path": str(job.path.parent)}},
            on_cell_start=self._cell_start, on_cell_executed=self._cell_done,
            # Timing metadata on the cells would change the cache key of the
            # stored notebook, so it would never match again.
            record_timing=False,
            # ipykernel warns on every start that its loopback TCP is unencrypted;
            # the build's log is for the build's own progress.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )

    def _report(self, x: float, xmax: float) -> None:
        if self.job.progress and self.run < self.job.runs:
            self.job.progress.on_run(self.run, self.job.runs, x, xmax)

    def _cell_start(self, cell, cell_index: int) -> None:
        if self.stopping.is_set():
            raise _StopRequested(f"stopped before cell {cell_index}")
        self.progress_file.write_text("")
        self.cell_started = time.perf_counter()

    def _cell_done(self, cell, cell_index: int, execute_reply) -> None:
        trained = self.progress_file.exists() and self.progress_file.stat().st_size > 0
        if trained:
            if self.job.progress:
                self.job.progress.on_run_done(self.run, self.job.runs,
                                              time.perf_counter() - self.cell_started)
            self.run += 1

    async def execute(self, env: dict[str, str]) -> float:
        """Execute the notebook; its seconds."""
        self.started = time.perf_counter()
        if self.job.progress and self.job.progress.on_start:
            self.job.progress.on_start()
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(self.progress_file, stop, self._report),
                                   daemon=True)
        watcher.start()
        log: IO[bytes] | int
        try:
            log = open(self.job.kernel_log, "wb")  # noqa: SIM115  (closed below)
        except OSError:
            log = subprocess.DEVNULL
        try:
            # The kernel's own stdout and stderr (ZeroMQ's complaints at shutdown, a
            # crashing library's last words) go to its log, not the build's terminal;
            # what its cells print is in the notebook.
            await self.client.async_execute(
                env=os.environ | env | {PROGRESS_FILE_ENV: str(self.progress_file)},
                stdout=log, stderr=log)
        finally:
            stop.set()
            watcher.join()
            if not isinstance(log, int):
                log.close()
        return time.perf_counter() - self.started


Finished = Callable[[int, Running, "float | BaseException"], None]


def run_concurrently(jobs: list[Job], parallel: int, timeout: int | None,
                     env: dict[str, str], finished: Finished, cache_path: Path) -> None:
    """Execute `jobs`, at most `parallel` at once, with `env` added to each kernel's
    environment, in one event loop in a worker thread.

    ``finished(index, running, seconds_or_error)`` is called *in this (the calling)
    thread* as each notebook ends, so the cache is only ever written from here. The
    worker thread lets Ctrl-C reach this thread as KeyboardInterrupt (in the main thread
    nbclient installs its own SIGINT handler, which kills the kernel under the running
    cell and ends in a DeadKernelError: an interruption would look like a failed
    notebook). On Ctrl-C, or when `finished` raises, every running cell is interrupted
    like Jupyter's stop button, queued notebooks never start and each kernel is shut
    down; then :class:`Interrupted` names the notebooks that were running (Ctrl-C), or
    the error of `finished` is raised again.
    """
    done: queue.Queue[tuple[int, Running, float | BaseException]] = queue.Queue()
    state: dict[str, object] = {}
    ready = threading.Event()
    stopping = threading.Event()
    # Set when the worker thread is done, kernels shut down. The calling thread waits
    # on this, never on Thread.join: when Ctrl-C lands inside join(), CPython 3.11
    # marks the thread as stopped while it still runs (the bpo-45274 branch of
    # Thread._wait_for_tstate_lock), and the build went on to exit under a live event
    # loop with its kernels running.
    worker_done = threading.Event()

    with tempfile.TemporaryDirectory(prefix="bookbuild-progress-") as tmp:
        runs = [Running(job, Path(tmp), i, timeout, stopping) for i, job in enumerate(jobs)]

        async def one(index: int, semaphore: asyncio.Semaphore) -> None:
            async with semaphore:
                if stopping.is_set():
                    return  # queued when the build was stopped: never started
                try:
                    result: float | BaseException = await runs[index].execute(env)
                except Exception as error:  # noqa: BLE001  (reported per notebook)
                    result = error
                done.put((index, runs[index], result))

        async def main() -> None:
            semaphore = asyncio.Semaphore(max(1, parallel))
            await asyncio.gather(*(one(i, semaphore) for i in range(len(runs))))

        def work() -> None:
            try:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                state["loop"] = loop
                state["task"] = loop.create_task(main())
                ready.set()
                try:
                    loop.run_until_complete(state["task"])
                finally:
                    # A kernel whose start or shutdown was cut short (a cancelled task)
                    # would outlive the build: kill what is left before the loop goes.
                    loop.run_until_complete(_kill_leftover_kernels(runs))
                    loop.close()
            except BaseException as error:  # re-raised in the calling thread
                state["error"] = error
            finally:
                # whatever happened, the calling thread must not wait forever
                ready.set()
                worker_done.set()

        def drain(only_successes: bool = False) -> None:
            while True:
                try:
                    index, running, result = done.get_nowait()
                except queue.Empty:
                    return
                running.succeeded = not isinstance(result, BaseException)
                if running.succeeded or not only_successes:
                    finished(index, running, result)

        worker = threading.Thread(target=work, name="bookbuild-notebooks", daemon=True)
        worker.start()
        try:
            while not worker_done.wait(0.2):
                drain()
            drain()
        except BaseException as error:
            _stop(runs, state, ready, stopping, worker_done)
            if not isinstance(error, KeyboardInterrupt):
                raise  # from `finished`: the kernels are down, the error is told
            # A notebook that finished just before Ctrl-C is still cached; the
            # interrupted ones end in errors that are no failures of theirs.
            with contextlib.suppress(Exception):
                drain(only_successes=True)
            raise Interrupted([r.job.path for r in runs
                               if r.started is not None and not r.succeeded],
                              cache_path) from None
        if "error" in state:
            raise state["error"]  # type: ignore[misc]


def _stop(runs: list[Running], state: dict[str, object], ready: threading.Event,
          stopping: threading.Event, worker_done: threading.Event) -> None:
    """Interrupt the running cells, keep queued notebooks from starting, and wait for
    every kernel to shut down (killing what ignores the interrupt)."""
    ready.wait()

    async def interrupt() -> None:
        # Interrupt the running cells like Jupyter's stop button: each ends with
        # KeyboardInterrupt, and nbclient then shuts its kernel down. A kernel still
        # starting has no cell to interrupt: `stopping` stops it before its first
        # cell; queued notebooks never start.
        stopping.set()
        for r in runs:
            if r.started is not None:
                with contextlib.suppress(Exception):  # no kernel yet, or gone
                    await r.client.km.interrupt_kernel()

    def cancel() -> None:
        state["task"].cancel()  # type: ignore[attr-defined]

    # RuntimeError: the loop has already finished; KeyError: it never started
    with contextlib.suppress(RuntimeError, KeyError):
        asyncio.run_coroutine_threadsafe(interrupt(), state["loop"])  # type: ignore[arg-type]
    # each kernel's shutdown request, then kill
    if not worker_done.wait(60):  # a cell that ignores the interrupt
        with contextlib.suppress(RuntimeError, KeyError):
            state["loop"].call_soon_threadsafe(cancel)  # type: ignore[attr-defined]
        worker_done.wait(30)


async def _kill_leftover_kernels(runs: list[Running]) -> None:
    for r in runs:
        km = r.client.km
        with contextlib.suppress(Exception):  # already gone
            if km is not None and km.has_kernel:
                await km.shutdown_kernel(now=True)
