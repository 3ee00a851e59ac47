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
            client.execute()
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
    outputs replace the cached ones). Raises ExecutionError naming the notebook and
    showing the traceback when a cell raises.
    """
    cache = get_cache(str(cache_path))
    if use_cache:
        try:
            _, merged = cache.merge_match_into_notebook(nb)
            return Outcome(merged, False, 0.0)
        except KeyError:
            pass
    work = nbformat.from_dict(json.loads(json.dumps(nb)))
    env = dict(QUIET_KERNEL_ENV)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    start = time.perf_counter()
    try:
        _run(work, path.parent, progress, timeout)
    except CellExecutionError as err:
        raise ExecutionError(f"{path} failed to execute:\n{err}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
    seconds = time.perf_counter() - start
    cache.cache_notebook_bundle(
        CacheBundleIn(work, str(path), data={"execution_seconds": seconds}),
        check_validity=False, overwrite=True,
    )
    return Outcome(work, True, seconds)
