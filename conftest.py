"""Process-wide set-up for every test path (tests/ and the nbval notebooks): the
suite's data subset, the triton import below, the notebook cells' test lanes (the
other tests' are tests/conftest.py's) and how pytest-xdist's workers share the tests.

PyPI's torch for Linux is the CUDA build (on Python 3.12, and on 3.11 away from the
project machines' CPU wheel) and brings triton, whose compiler library crashes the process
(segmentation fault) when it is loaded after TensorFlow's libraries; torch loads it
lazily, e.g. when the first optimizer is made. Tests run several frameworks in one
process, so triton, when installed, is loaded before any of them.
"""

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

if importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401


def pytest_configure(config) -> None:
    # Notebook runs in the suite (nbval, the schedule probes, the quick book build)
    # train on a fixed, class-balanced 100-example subset so they finish in seconds;
    # tests that need the full data unset it themselves. Here rather than in
    # tests/conftest.py so that `pytest chapters/en/notebooks/x.ipynb` alone (nbval)
    # does not train on all the data for half an hour.
    os.environ.setdefault("D2L_MAX_EXAMPLES", "100")
    # Notebook kernels run in the notebook's folder: make a relative data path absolute.
    if os.environ.get("D2L_DATA_DIR"):
        os.environ["D2L_DATA_DIR"] = str(Path(os.environ["D2L_DATA_DIR"]).resolve())
    # pytest-xdist's controller (`-n N`, pyproject.toml): a folder where the workers,
    # started after this, write the groups of the tests they collected.
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        os.environ[GROUPS_DIR] = tempfile.mkdtemp(prefix="pytest-groups-")


def pytest_unconfigure(config) -> None:
    if not hasattr(config, "workerinput") and GROUPS_DIR in os.environ:
        shutil.rmtree(os.environ.pop(GROUPS_DIR), ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py gives `unit` to the unmarked
def pytest_collection_modifyitems(config, items) -> None:
    # The chapter notebooks' cells, run by nbval: each executes framework code in a
    # kernel on the data (test lanes: tests/conftest.py, pyproject.toml).
    for item in items:
        if item.path.suffix == ".ipynb":
            for kind in ("nbval", "kernel", "data"):
                item.add_marker(kind)
    if hasattr(config, "workerinput") and GROUPS_DIR in os.environ:
        groups = {item.nodeid: worker_group(item) for item in items}
        path = Path(os.environ[GROUPS_DIR]) / f"{config.workerinput['workerid']}.json"
        path.with_suffix(".tmp").write_text(json.dumps(groups))
        path.with_suffix(".tmp").replace(path)


# Parallel runs. pytest-xdist gives whole groups of tests to its workers, each group's
# tests in their order, and a worker makes its own session fixtures. Its own grouping by
# marker (`--dist loadgroup`) no longer reaches the scheduler under pytest 9, and the
# controller cannot see which fixtures a test uses; so each worker writes the groups of
# what it collected to GROUPS_DIR and the scheduler below reads them.
GROUPS_DIR = "D2L_PYTEST_GROUPS"


def worker_group(item: pytest.Item) -> str:
    """The group a test runs in. The tests that use the session's quick builds
    (tests/conftest.py's `builds`) are one group, so the builds are made once, not once
    per worker; any other test goes with its module or notebook, so a module-scoped
    fixture (JupyterLab, the schedule probes' notebook runs) is made once and a
    notebook's nbval cells run in order in one kernel."""
    if "builds" in getattr(item, "fixturenames", ()):
        return "builds"
    return item.nodeid.split("::", 1)[0]


# The longest groups start first, so that none of them is left to run alone at the end
# (else the scopes with the most tests go first). Seconds of one run without xdist on a
# busy 2-core machine: the builds' group 780 of 1710, test_schedules.py 190,
# test_disk_full.py 150, test_jupyterlab.py 145, test_build_interrupt.py 32; a group
# missing here only starts later.
FIRST = ("builds", "tests/test_schedules.py", "tests/test_disk_full.py",
         "tests/browser/test_jupyterlab.py", "chapters/en/notebooks/scheduler_mxnet.ipynb",
         "tests/test_results_cell.py", "tests/test_build_options.py",
         "tests/test_build_interrupt.py")


# A pytest-xdist hook (pytest alone does not know it). It replaces `--dist load`, what
# `-n` does by default; another `--dist` given is pytest-xdist's own.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """pytest-xdist's scheduling by scope (a scope's tests go whole to one worker,
        the scopes with the most tests first), with the groups above as scopes."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                self.groups = {}
                for path in Path(os.environ[GROUPS_DIR]).glob("*.json"):
                    self.groups.update(json.loads(path.read_text()))
            # a test no worker wrote (none should be): its module, as `--dist loadfile`
            return self.groups.get(nodeid) or nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node) -> None:
            first = next((group for group in FIRST if group in self.workqueue), None)
            if first is not None:
                self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return GroupScheduling(config, log)
