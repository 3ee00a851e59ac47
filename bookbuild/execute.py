"""Execute the per-framework notebooks, with jupyter-cache as the store of results.

jupyter-cache keys a notebook by its code cells (and kernel), not its prose, so the
translations of one framework's notebook share a single execution. What the code cells
cannot show -- the helper package they import and the framework versions installed --
picks the cache folder instead (:func:`cache_key`), so changing either re-executes.

Notebooks run one at a time through nbclient, with a progress display fed by the
kernel: the chapter's training runs report each epoch through ``d2l.Animator``, which
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
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from sqlalchemy.exc import SQLAlchemyError

LOGGER = logging.getLogger("bookbuild.execute")

# Distributions whose versions change what the notebooks compute or print.
VERSIONED = ("mxnet", "torch", "tensorflow_cpu", "tensorflow", "keras", "numpy", "matplotlib",
             "pandas", "ipykernel")
# A training cell of the chapter: `histories[...] = train(...)`.
TRAINING_CELL = re.compile(r"^\w+(\[[^\]]*\])? = train\(", re.MULTILINE)
# Kernel environment of the build. TensorFlow's C++ logging goes to the kernel's stderr,
# which ipykernel forwards into the cell outputs; TF_CPP_MIN_LOG_LEVEL=2 keeps only errors
# (it silences cpu_feature_guard). The oneDNN notice at import ignores it and is dropped
# by d2l_compat.tensorflow instead (TF_ENABLE_ONEDNN_OPTS=0 would also silence it, but
# makes training several times slower). README documents the same for readers; a
# variable the user set is left as it is.
QUIET_KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2"}


class ExecutionError(RuntimeError):
    """A notebook raised while executing; the message holds its traceback."""


class CacheError(RuntimeError):
    """A cache entry exists but cannot be read or removed (permissions, I/O); the
    message names the file, the error and what to do. Nothing was deleted."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the execution of the notebook at `path`; its kernel was shut
    down and nothing of it was cached (`cache_path` keeps what finished before)."""

    def __init__(self, path: Path, cache_path: Path) -> None:
        super().__init__(f"interrupted while executing {path}")
        self.path = path
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
    training cell finishes.
    """

    def __init__(
        self,
        on_run: Callable[[int, int, float, float], None],
        on_run_done: Callable[[int, int, float], None],
    ) -> None:
        self.on_run = on_run
        self.on_run_done = on_run_done


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


def _execute_in_worker(client: NotebookClient) -> None:
    """``client.execute()`` in a worker thread, so that Ctrl-C reaches this (main)
    thread as KeyboardInterrupt: the worker's execution is then cancelled, nbclient
    shuts the kernel down, and the KeyboardInterrupt propagates.

    (In the main thread nbclient installs its own SIGINT handler, which kills the
    kernel under the running cell and ends in a DeadKernelError: an interruption would
    look like a failed notebook.)
    """
    state: dict[str, object] = {}
    started = threading.Event()

    def work() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        state["loop"] = loop
        state["task"] = loop.create_task(client.async_execute())
        started.set()
        try:
            loop.run_until_complete(state["task"])
        except BaseException as error:  # re-raised in the main thread
            state["error"] = error
        finally:
            loop.close()

    worker = threading.Thread(target=work, name="bookbuild-notebook", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        started.wait()

        async def interrupt() -> None:
            # Interrupt the running cell like Jupyter's stop button: the cell ends with
            # KeyboardInterrupt and nbclient then shuts the idle kernel down. Before
            # the kernel runs a cell there is nothing to interrupt: cancel instead.
            try:
                await client.km.interrupt_kernel()
            except Exception:  # no kernel yet, or already gone
                state["task"].cancel()

        with contextlib.suppress(RuntimeError):  # the loop has already finished
            asyncio.run_coroutine_threadsafe(interrupt(), state["loop"])
        worker.join(30)
        if worker.is_alive():  # the cell ignores interrupts (e.g. stuck in C code)
            with contextlib.suppress(RuntimeError):
                state["loop"].call_soon_threadsafe(state["task"].cancel)
            worker.join(30)  # nbclient's cleanup: shutdown request, then kill
        raise
    if "error" in state:
        raise state["error"]


def _run(nb: nbformat.NotebookNode, cwd: Path, progress: Progress | None,
         timeout: int | None) -> None:
    training = [i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and TRAINING_CELL.search(c.source)]
    state = {"run": 0, "started": time.perf_counter()}
    with tempfile.TemporaryDirectory(prefix="bookbuild-progress-") as tmp:
        progress_file = Path(tmp) / "progress.jsonl"
        stop = threading.Event()

        def report(x: float, xmax: float) -> None:
            if progress and state["run"] < len(training):
                progress.on_run(state["run"], len(training), x, xmax)

        def cell_start(cell, cell_index: int) -> None:
            if cell_index in training:
                progress_file.write_text("")
                state["started"] = time.perf_counter()

        def cell_done(cell, cell_index: int, execute_reply) -> None:
            if cell_index in training:
                if progress:
                    progress.on_run_done(state["run"], len(training),
                                         time.perf_counter() - state["started"])
                state["run"] += 1

        watcher = threading.Thread(target=_watch, args=(progress_file, stop, report),
                                   daemon=True)
        watcher.start()
        saved = os.environ.get("D2L_PROGRESS_FILE")
        os.environ["D2L_PROGRESS_FILE"] = str(progress_file)
        try:
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3",
                resources={"metadata": {"path": str(cwd)}},
                on_cell_start=cell_start, on_cell_executed=cell_done,
                # Timing metadata on the cells would change the cache key of the
                # stored notebook, so it would never match again.
                record_timing=False,
                # ipykernel warns on every start that its loopback TCP is unencrypted;
                # the build's log is for the build's own progress.
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
            _execute_in_worker(client)
        finally:
            stop.set()
            watcher.join()
            if saved is None:
                os.environ.pop("D2L_PROGRESS_FILE", None)
            else:
                os.environ["D2L_PROGRESS_FILE"] = saved


def execute(
    path: Path,
    nb: nbformat.NotebookNode,
    cache_path: Path,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    timeout: int | None = None,
) -> Outcome:
    """Fetch the outputs of notebook `nb` (stored at `path`) from the cache at
    `cache_path`, or execute it in `path`'s folder and cache the result.

    With ``use_cache=False`` the notebook is executed even when cached (and the new
    outputs replace the cached ones). A cache entry known to be corrupt is deleted and
    the notebook executed again.

    Raises:
        ExecutionError: a cell raised (the message names the notebook and shows the
            traceback).
        CacheError: the cache cannot be read or written (permissions, I/O errors).
        Interrupted: Ctrl-C during the execution (the kernel is shut down, nothing of
            this notebook is cached).
    """
    cache = get_cache(str(cache_path))
    if use_cache:
        cached = _cached(cache, nb, path, cache_path)
        if cached is not None:
            return Outcome(cached, False, 0.0)
    work = nbformat.from_dict(json.loads(json.dumps(nb)))
    env = dict(QUIET_KERNEL_ENV)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    start = time.perf_counter()
    try:
        _run(work, path.parent, progress, timeout)
    except CellExecutionError as err:
        raise ExecutionError(f"{path} failed to execute:\n{err}") from None
    except KeyboardInterrupt:
        raise Interrupted(path, cache_path) from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
    seconds = time.perf_counter() - start
    try:
        cache.cache_notebook_bundle(
            CacheBundleIn(work, str(path), data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True,
        )
    except (OSError, SQLAlchemyError) as error:
        raise CacheError(
            f"{path} executed, but its outputs could not be stored in the cache "
            f"{cache_path}: {_describe(error)}. Make the cache folder writable (or "
            "delete it), then build again.") from None
    return Outcome(work, True, seconds)


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
