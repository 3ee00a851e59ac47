"""Execute the per-framework notebooks, with jupyter-cache as the store of results.

jupyter-cache keys a notebook by its code cells (and kernel), not its prose, so the
translations of one framework's notebook share a single execution. What the code cells
cannot show -- the helper package they import and the framework versions installed --
picks the cache folder instead (:func:`cache_key`), so changing either re-executes.

Notebooks run through nbclient, several at once when asked (each kernel then gets its
share of the cores, :func:`bookbuild.kernel_env.kernel_env`), with a progress display fed
by each kernel: the chapter's training runs report each epoch through ``d2l.Animator``, which
appends a line to ``$D2L_PROGRESS_FILE`` when that is set (see
:mod:`d2l_compat._plotting`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import queue
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbclient.exceptions import CellExecutionError, DeadKernelError
from sqlalchemy.exc import SQLAlchemyError

from bookbuild.headless import headless_client
from bookbuild.kernel_env import kernel_env

LOGGER = logging.getLogger("bookbuild.execute")

# Distributions whose versions change what the notebooks compute or print.
VERSIONED = ("mxnet", "torch", "tensorflow_cpu", "tensorflow", "keras", "numpy", "matplotlib",
             "pandas", "ipykernel")
# A training cell of the chapter: `histories[...] = train(...)`.
TRAINING_CELL = re.compile(r"^\w+(\[[^\]]*\])? = train\(", re.MULTILINE)
class ExecutionError(RuntimeError):
    """A notebook raised while executing; the message holds its traceback."""


class CacheError(RuntimeError):
    """A cache entry exists but cannot be read or removed (permissions, I/O); the
    message names the file, the error and what to do. Nothing was deleted."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the execution of the notebooks at `paths`; their kernels were
    shut down and nothing of them was cached (`cache_path` keeps what finished)."""

    def __init__(self, paths: list[Path], cache_path: Path) -> None:
        super().__init__(f"interrupted while executing {', '.join(map(str, paths))}")
        self.paths = paths
        self.cache_path = cache_path


def cache_key(root: Path) -> str:
    """A short hash of `d2l_compat`'s source and the installed framework versions."""
    digest = hashlib.sha256()
    for path in sorted((root / "d2l_compat").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for dist in VERSIONED:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:12]


def cache_dir(build_dir: Path, root: Path) -> Path:
    """The cache for this run's data size and environment: capped runs never serve a
    full build, and a changed helper package or framework never serves old outputs."""
    cap = os.environ.get("D2L_MAX_EXAMPLES", "").strip()
    size = f"max-{cap}" if cap else "full"
    return build_dir / "jupyter_cache" / f"{size}-{cache_key(root)}"


@dataclass
class Outcome:
    notebook: nbformat.NotebookNode  # with outputs
    executed: bool  # False: served from the cache
    seconds: float  # execution time (0 for a cache hit)


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


def _watch(path: Path, stop: threading.Event, report: Callable[[float, float], None]) -> None:
    offset = 0
    while not stop.wait(1.0):
        try:
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


@dataclass
class Job:
    """One notebook to execute: `nb`, stored at `path` (its folder is the kernel's
    working folder), reporting to `progress`."""

    path: Path
    nb: nbformat.NotebookNode
    progress: Progress | None = None


class _StopRequested(Exception):
    """Raised before a cell runs once the build is being stopped: nbclient then shuts
    the notebook's kernel down as after any failing cell."""


class _Running:
    """One notebook's execution inside the event loop: its client, progress file and
    watcher thread. Once `stopping` is set, no further cell starts."""

    def __init__(self, job: Job, tmp: Path, index: int, timeout: int | None,
                 stopping: threading.Event) -> None:
        self.job = job
        self.stopping = stopping
        self.work = nbformat.from_dict(json.loads(json.dumps(job.nb)))
        self.training = [i for i, c in enumerate(self.work.cells)
                         if c.cell_type == "code" and TRAINING_CELL.search(c.source)]
        self.progress_file = tmp / f"progress-{index}.jsonl"
        self.run = 0
        self.run_started = time.perf_counter()
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
        if self.job.progress and self.run < len(self.training):
            self.job.progress.on_run(self.run, len(self.training), x, xmax)

    def _cell_start(self, cell, cell_index: int) -> None:
        if self.stopping.is_set():
            raise _StopRequested(f"stopped before cell {cell_index}")
        if cell_index in self.training:
            self.progress_file.write_text("")
            self.run_started = time.perf_counter()

    def _cell_done(self, cell, cell_index: int, execute_reply) -> None:
        if cell_index in self.training:
            if self.job.progress:
                self.job.progress.on_run_done(self.run, len(self.training),
                                              time.perf_counter() - self.run_started)
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
        try:
            await self.client.async_execute(
                env=os.environ | env | {"D2L_PROGRESS_FILE": str(self.progress_file)})
        finally:
            stop.set()
            watcher.join()
        return time.perf_counter() - self.started


def _execute_concurrently(
    jobs: list[Job], parallel: int, timeout: int | None,
    finished: Callable[[int, _Running, float | BaseException], None], cache_path: Path,
) -> None:
    """Execute `jobs`, at most `parallel` at once, in one event loop in a worker thread.

    ``finished(index, running, seconds_or_error)`` is called *in this (the calling)
    thread* as each notebook ends, so the cache is only ever written from here. The
    worker thread lets Ctrl-C reach this thread as KeyboardInterrupt (in the main thread
    nbclient installs its own SIGINT handler, which kills the kernel under the running
    cell and ends in a DeadKernelError: an interruption would look like a failed
    notebook). On Ctrl-C every running cell is interrupted like Jupyter's stop button,
    queued notebooks never start, each kernel is shut down, and :class:`Interrupted`
    names the notebooks that were running.
    """
    env = kernel_env(parallel)
    done: queue.Queue[tuple[int, _Running, float | BaseException]] = queue.Queue()
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
        runs = [_Running(job, Path(tmp), i, timeout, stopping) for i, job in enumerate(jobs)]

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

        def run_loop() -> None:
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

        def work() -> None:
            try:
                run_loop()
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
        except KeyboardInterrupt:
            ready.wait()

            async def interrupt() -> None:
                # Interrupt the running cells like Jupyter's stop button: each ends
                # with KeyboardInterrupt, and nbclient then shuts its kernel down.
                # A kernel still starting has no cell to interrupt: `stopping` stops
                # it before its first cell; queued notebooks never start.
                stopping.set()
                for r in runs:
                    if r.started is not None:
                        with contextlib.suppress(Exception):  # no kernel yet, or gone
                            await r.client.km.interrupt_kernel()

            def cancel() -> None:
                state["task"].cancel()

            # RuntimeError: the loop has already finished; KeyError: it never started
            with contextlib.suppress(RuntimeError, KeyError):
                asyncio.run_coroutine_threadsafe(interrupt(), state["loop"])
            # each kernel's shutdown request, then kill
            if not worker_done.wait(60):  # a cell that ignores the interrupt
                with contextlib.suppress(RuntimeError, KeyError):
                    state["loop"].call_soon_threadsafe(cancel)
                worker_done.wait(30)
            # A notebook that finished just before Ctrl-C is still cached; the
            # interrupted ones end in errors that are no failures of theirs.
            drain(only_successes=True)
            raise Interrupted([r.job.path for r in runs
                               if r.started is not None and not r.succeeded],
                              cache_path) from None
        if "error" in state:
            raise state["error"]


async def _kill_leftover_kernels(runs: list[_Running]) -> None:
    for r in runs:
        km = r.client.km
        with contextlib.suppress(Exception):  # already gone
            if km is not None and km.has_kernel:
                await km.shutdown_kernel(now=True)


def execute_all(
    jobs: list[Job],
    cache_path: Path,
    *,
    use_cache: bool = True,
    parallel: int = 1,
    timeout: int | None = None,
    on_outcome: Callable[[Job, Outcome], None] | None = None,
) -> list[Outcome]:
    """Fetch the outputs of each job's notebook from the cache at `cache_path`, or
    execute it in its folder, at most `parallel` notebooks at once, and cache the
    result as soon as it finishes (so Ctrl-C or a failure keeps what finished).

    With ``use_cache=False`` the notebooks are executed even when cached (and the new
    outputs replace the cached ones). A cache entry known to be corrupt is deleted and
    the notebook executed again. ``on_outcome(job, outcome)`` is called as each
    notebook's outputs are known. Returns the outcomes in the order of `jobs`.

    Raises:
        ExecutionError: a cell raised (the message names the notebook and shows the
            traceback); the other notebooks still ran to the end and are cached.
        CacheError: the cache cannot be read or written (permissions, I/O errors).
        Interrupted: Ctrl-C during the execution (the running kernels are shut down,
            nothing of their notebooks is cached).
    """
    cache = get_cache(str(cache_path))
    outcomes: list[Outcome | None] = [None] * len(jobs)
    to_run: list[int] = []
    for i, job in enumerate(jobs):
        cached = _cached(cache, job.nb, job.path, cache_path) if use_cache else None
        if cached is None:
            to_run.append(i)
        else:
            outcomes[i] = Outcome(cached, False, 0.0)
            if on_outcome:
                on_outcome(job, outcomes[i])
    errors: list[Exception] = []

    def finished(index: int, running: _Running, result: float | BaseException) -> None:
        job = jobs[to_run[index]]
        if isinstance(result, CellExecutionError):
            errors.append(ExecutionError(f"{job.path} failed to execute:\n{result}"))
            if len(to_run) > 1:
                LOGGER.warning("%s failed to execute; the other notebooks run to the end "
                               "(and are cached) before its error is shown", job.path.name)
            return
        if isinstance(result, DeadKernelError):
            training = len(running.training)
            where = (f"during training run {running.run + 1} of {training}"
                     if running.run < training else "after its training runs")
            errors.append(ExecutionError(
                f"{job.path}: its kernel died {where} (killed, or out of memory?). The "
                "notebooks that finished are cached: run the same command again to resume."))
            return
        if isinstance(result, BaseException):
            errors.append(result)  # type: ignore[arg-type]
            return
        try:
            cache.cache_notebook_bundle(
                CacheBundleIn(running.work, str(job.path), data={"execution_seconds": result}),
                check_validity=False, overwrite=True,
            )
        except (OSError, SQLAlchemyError) as error:
            errors.append(CacheError(
                f"{job.path} executed, but its outputs could not be stored in the cache "
                f"{cache_path}: {_describe(error)}. Make the cache folder writable (or "
                "delete it), then build again."))
            return
        outcome = outcomes[to_run[index]] = Outcome(running.work, True, result)
        if on_outcome:
            try:
                on_outcome(job, outcome)
            except Exception as error:  # noqa: BLE001  (raised once every kernel ended)
                errors.append(error)

    if to_run:
        _execute_concurrently([jobs[i] for i in to_run], parallel, timeout, finished,
                              cache_path)
    if errors:
        raise errors[0]
    return outcomes  # type: ignore[return-value]


def execute(
    path: Path,
    nb: nbformat.NotebookNode,
    cache_path: Path,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    timeout: int | None = None,
) -> Outcome:
    """:func:`execute_all` for one notebook `nb` stored at `path`."""
    return execute_all([Job(path, nb, progress)], cache_path, use_cache=use_cache,
                       timeout=timeout)[0]


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}"
    if isinstance(error, SQLAlchemyError):  # the cache's index, global.db
        return " ".join(str(getattr(error, "orig", None) or error).split())
    return str(error)


def _cached(cache, nb: nbformat.NotebookNode, path: Path,
            cache_path: Path) -> nbformat.NotebookNode | None:
    """The cached outputs merged into `nb`, or None when there are none.

    An entry known to be corrupt (not a notebook: bad JSON or structure, as left by an
    interrupted write) is deleted, and None returned so the notebook runs again. An
    entry that cannot be read (permissions, I/O errors) is left as it is: CacheError.
    """
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        return None
    except SQLAlchemyError as error:
        raise CacheError(
            f"cannot read the index of the execution cache {cache_path}: "
            f"{_describe(error)}. Nothing was deleted. Fix its permissions (or the disk), "
            "or delete that folder to execute every notebook again.") from None
    try:
        return cache.merge_match_into_notebook(nb)[1]
    except KeyError:  # a record whose notebook file is gone: a miss
        return None
    except (OSError, SQLAlchemyError) as error:
        raise CacheError(
            f"cannot read the cached outputs of {path.name} (cache entry "
            f"{record.hashkey} in {cache_path}): {_describe(error)}. Nothing was deleted. "
            "Fix the file's permissions (or the disk) and build again, or build with "
            "--no-cache to execute the notebooks again and replace the entry.") from None
    except (ValueError, IndexError, nbformat.ValidationError) as error:
        # NotJSONError, JSONDecodeError, UnicodeDecodeError are ValueErrors; IndexError:
        # fewer code cells than the notebook's. The entry cannot be a finished run.
        reason = " ".join(str(error).split())[:200]
        try:
            cache.remove_cache(record.pk)
        except (OSError, KeyError, SQLAlchemyError) as removal:
            raise CacheError(
                f"the cached outputs of {path.name} (cache entry {record.hashkey} in "
                f"{cache_path}) are corrupt ({reason}) and could not be deleted: "
                f"{_describe(removal)}. Delete that entry's folder, then build again."
            ) from None
        LOGGER.warning("%s: its cached outputs (entry %s) were corrupt (%s) and were "
                       "deleted; executing it again", path.name, record.hashkey, reason)
        return None
