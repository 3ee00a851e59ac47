"""Execute the per-framework notebooks: serve each from the execution cache
(:mod:`bookbuild.cache`) or run it (:mod:`bookbuild.runner`) and store it as soon as it
finishes, so Ctrl-C or a failure keeps what finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError, DeadKernelError

from .cache import CacheError, Store, cache_dir  # noqa: F401  (the module's API)
from .kernel_env import kernel_env
from .runner import Interrupted, Job, Progress, Running, run_concurrently  # noqa: F401

LOGGER = logging.getLogger("bookbuild.execute")


class ExecutionError(RuntimeError):
    """A notebook raised while executing, or its kernel died; the message names the
    notebook and the training run, shows the traceback and says what to do."""


@dataclass
class Outcome:
    notebook: nbformat.NotebookNode  # with outputs
    executed: bool  # False: served from the cache
    seconds: float  # execution time (0 for a cache hit)


def _failure(job: Job, running: Running, error: BaseException) -> Exception:
    if isinstance(error, CellExecutionError):
        return ExecutionError(f"{job.path} failed to execute:\n{error}")
    if isinstance(error, DeadKernelError):
        where = (f"during training run {running.run + 1} of {job.runs}"
                 if running.run < job.runs else "after its training runs")
        return ExecutionError(
            f"{job.path}: its kernel died {where} (killed, or out of memory?); the "
            f"kernel's own output is in {job.kernel_log}. The notebooks that finished "
            "are cached: run the same command again to resume.")
    return error if isinstance(error, Exception) else RuntimeError(str(error))


def execute_all(
    jobs: list[Job],
    cache_path: Path,
    *,
    use_cache: bool = True,
    parallel: int = 1,
    timeout: int | None = None,
    env: dict[str, str] | None = None,
    on_outcome: Callable[[Job, Outcome], None] | None = None,
) -> list[Outcome]:
    """Fetch the outputs of each job's notebook from the cache at `cache_path`, or
    execute it in its folder with `env` added to its kernel's environment (default:
    :func:`bookbuild.kernel_env.kernel_env` for `parallel` notebooks), at most
    `parallel` notebooks at once, and cache the result as soon as it finishes.

    With ``use_cache=False`` the notebooks are executed even when cached (and the new
    outputs replace the cached ones). A cache entry known to be corrupt is deleted and
    the notebook executed again. ``on_outcome(job, outcome)`` is called as each
    notebook's outputs are known. Returns the outcomes in the order of `jobs`.

    Raises:
        ExecutionError: a cell raised or a kernel died (the message names the notebook
            and the run); the other notebooks still ran to the end and are cached.
        CacheError: the cache cannot be read or written (permissions, I/O errors, a
            full disk); the running kernels are shut down first.
        Interrupted: Ctrl-C during the execution (the running kernels are shut down,
            nothing of their notebooks is cached).
    """
    store = Store(cache_path)
    outcomes: list[Outcome | None] = [None] * len(jobs)
    to_run: list[int] = []
    for i, job in enumerate(jobs):
        cached = store.lookup(job.nb, job.path.name) if use_cache else None
        if cached is None:
            to_run.append(i)
        else:
            outcomes[i] = Outcome(cached, False, 0.0)
            if on_outcome:
                on_outcome(job, outcomes[i])
    errors: list[Exception] = []

    def finished(index: int, running: Running, result: float | BaseException) -> None:
        job = jobs[to_run[index]]
        if isinstance(result, BaseException):
            errors.append(_failure(job, running, result))
            if len(to_run) > 1:
                LOGGER.warning("%s failed to execute; the other notebooks run to the end "
                               "(and are cached) before its error is shown", job.path.name)
            return
        # CacheError (a full disk, say) stops the other kernels: nothing more could
        # be stored
        store.store(running.work, job.path, result)
        outcome = outcomes[to_run[index]] = Outcome(running.work, True, result)
        if on_outcome:
            try:
                on_outcome(job, outcome)
            except Exception as error:  # noqa: BLE001  (raised once every kernel ended)
                errors.append(error)

    if to_run:
        run_concurrently([jobs[i] for i in to_run], parallel, timeout,
                         kernel_env(parallel) if env is None else env, finished,
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
    env: dict[str, str] | None = None,
) -> Outcome:
    """:func:`execute_all` for one notebook `nb` stored at `path`."""
    return execute_all([Job(path, nb, progress)], cache_path, use_cache=use_cache,
                       timeout=timeout, env=env)[0]
