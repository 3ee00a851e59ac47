"""Process-wide set-up for every test path (tests/ and the nbval notebooks): the
suite's data subset, the triton import below, and the notebook cells' test lanes (the
other tests' are tests/conftest.py's).

PyPI's torch for Linux is the CUDA build (on Python 3.12, and on 3.11 away from the
project machines' CPU wheel) and brings triton, whose compiler library crashes the process
(segmentation fault) when it is loaded after TensorFlow's libraries; torch loads it
lazily, e.g. when the first optimizer is made. Tests run several frameworks in one
process, so triton, when installed, is loaded before any of them.
"""

import importlib.util
import os
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


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py gives `unit` to the unmarked
def pytest_collection_modifyitems(items) -> None:
    # The chapter notebooks' cells, run by nbval: each executes framework code in a
    # kernel on the data (test lanes: tests/conftest.py, pyproject.toml).
    for item in items:
        if item.path.suffix == ".ipynb":
            for kind in ("nbval", "kernel", "data"):
                item.add_marker(kind)
