"""Execute the per-framework notebooks with jupyter-cache.

jupyter-cache keys a notebook by its code cells (and kernel), not its prose, so
the translations of one framework's notebook share a single execution. Notebooks
are run one at a time: once the first language's notebook is cached, the others
match it and are not run again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

LOGGER = logging.getLogger("bookbuild.execute")


class ExecutionError(RuntimeError):
    """A notebook raised while executing; the message holds its traceback."""


def cache_dir(build_dir: Path) -> Path:
    """The cache for this run's data size: capped runs never serve a full build."""
    cap = os.environ.get("D2L_MAX_EXAMPLES", "").strip()
    return build_dir / "jupyter_cache" / (f"max-{cap}" if cap else "full")


def execute(
    notebooks: list[Path], build_dir: Path, timeout: int | None = None
) -> tuple[dict[Path, nbformat.NotebookNode], list[Path]]:
    """Execute (or fetch from the cache) every notebook.

    Returns the notebooks with their outputs, by path, and the paths that were
    actually executed in this call (the rest were cache hits). Raises
    ExecutionError naming the notebook and showing the traceback when a cell
    raises.
    """
    cache = get_cache(str(cache_dir(build_dir)))
    for path in notebooks:
        cache.add_nb_to_project(str(path))
    executor = load_executor("local-serial", cache=cache, logger=LOGGER)
    executed = []
    for path in notebooks:
        result = executor.run_and_cache(filter_uris=[str(path)], timeout=timeout)
        if result.excepted or result.errored:
            record = cache.get_project_record(str(path))
            raise ExecutionError(
                f"{path} failed to execute:\n{record.traceback or '(no traceback recorded)'}"
            )
        executed += [Path(uri) for uri in result.succeeded]
    merged = {}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        _, merged[path] = cache.merge_match_into_notebook(nb)
    return merged, executed
