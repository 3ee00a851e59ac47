"""Shared fixtures (where the real Fashion-MNIST files are, the quick builds of the book,
Colab's ipywidgets) and the test lanes.

Lanes. Every test gets the markers of the slow things it needs, and `unit` when it needs
none of them, so `pytest -m unit` is the fast lane (no data, no kernel, no framework, no
build, no browser; README). A test's markers come from
  - the fixtures it uses, directly or through other fixtures (FIXTURE_KINDS);
  - its module (MODULE_KINDS), for modules whose tests start kernels, import a framework
    or run a command without a fixture saying so;
  - its own `@pytest.mark.kernel` (or another lane's marker), for a lone such test in a
    module of unit tests;
  - the root conftest.py, for the chapter notebooks' cells (nbval).
A unit test that imports a framework or Playwright fails, naming the module: mark it.
The browser fixtures (and Playwright) live in tests/browser/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# The slow lanes (registered, with what each needs, in pyproject.toml); `unit` is the rest.
SLOW = ("data", "kernel", "build", "browser", "cli", "nbval")
FIXTURE_KINDS = {
    "fashion_mnist_dir": ("data",),
    "builds": ("build",),  # and so `build`, and `site` (tests/browser)
    "browser": ("browser",),  # and so `new_page` and `page` (tests/browser)
    "colab_ipywidgets": ("kernel",),  # pip-installs Colab's ipywidgets for a kernel
}
# Paths relative to tests/.
MODULE_KINDS = {
    "test_build_execution.py": ("kernel",),  # executes small notebooks in kernels
    "test_build_interrupt.py": ("build",),  # starts a real build and interrupts it
    "test_build_options.py": ("cli",),  # `python -m bookbuild` with bad options
    "test_colab_install_cell.py": ("kernel",),  # runs the install cells in a kernel
    "test_disk_full.py": ("build",),  # builds on a full tmpfs
    "test_compat_animator.py": ("kernel",),  # d2l_compat.torch in a kernel
    "test_compat_api.py": ("kernel",),  # imports all three frameworks
    "test_compat_data.py": ("kernel",),  # the frameworks' data loaders
    "test_compat_training.py": ("kernel",),  # trains LeNet in each framework
    "test_explorer_cell.py": ("kernel",),  # runs the chapter's widget cell
    "test_results_cell.py": ("kernel",),  # runs the chapter's results cell
    "test_scheduler_args.py": ("kernel",),  # each tab's schedulers, in its framework
    "test_schedules.py": ("kernel",),  # executes the chapter notebooks
    "test_spread_command.py": ("kernel",),  # runs the seed spread's notebooks
    "browser/test_explorer_browser.py": ("kernel",),  # compares with a kernel's values
    "browser/test_jupyterlab.py": ("kernel",),  # JupyterLab running the notebooks
}
# What a unit test must not import (each takes seconds, and the unit lane's environment
# has none of them).
HEAVY = ("torch", "tensorflow", "keras", "mxnet", "playwright", "jupyterlab")


# After the root conftest.py's (tryfirst) has marked the notebooks, and before pytest's
# own deselects by `-m`.
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kinds: set[str] = set()
        for fixture in getattr(item, "fixturenames", ()):
            kinds.update(FIXTURE_KINDS.get(fixture, ()))
        if item.path.is_relative_to(TESTS):
            kinds.update(MODULE_KINDS.get(item.path.relative_to(TESTS).as_posix(), ()))
        for kind in sorted(kinds):
            item.add_marker(kind)
        if not any(item.get_closest_marker(kind) for kind in SLOW):
            item.add_marker("unit")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if item.get_closest_marker("unit") is None:
        return (yield)
    before = {name for name in HEAVY if name in sys.modules}
    result = yield
    imported = sorted(name for name in HEAVY if name in sys.modules and name not in before)
    if imported:
        pytest.fail(f"a unit test imported {', '.join(imported)}: mark it (e.g. "
                    "@pytest.mark.kernel) or list its module in tests/conftest.py's "
                    "MODULE_KINDS", pytrace=False)
    return result


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """Directory with the four official Fashion-MNIST .gz files, from ``$D2L_DATA_DIR``."""
    value = os.environ.get("D2L_DATA_DIR")
    if not value:
        pytest.fail("D2L_DATA_DIR is not set: point it at the Fashion-MNIST directory.")
    path = Path(value).resolve()
    if not path.is_dir():
        pytest.fail(f"D2L_DATA_DIR={value!r} is not a directory.")
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        pytest.fail(f"D2L_DATA_DIR={value!r} lacks {', '.join(missing)}.")
    return path


def _build_command(build_dir: Path, max_examples: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bookbuild", "--max-examples", max_examples,
            "--build-dir", str(build_dir), *extra]


@pytest.fixture(scope="session")
def builds(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Two quick builds run at the same time in their own build folders: "book", the
    whole book (every language, the suite's subset) with its PDFs (--pdf, tested in
    tests/browser/test_pdf.py), and "other", English alone on a different subset. Each
    maps to (its build folder, its finished process)."""
    runs = {
        "book": (tmp_path_factory.mktemp("book"), os.environ["D2L_MAX_EXAMPLES"],
                 ("--pdf",)),
        "other": (tmp_path_factory.mktemp("other"), "200", ("--lang", "en")),
    }
    procs = {
        name: subprocess.Popen(_build_command(d, n, *extra), cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, (d, n, extra) in runs.items()
    }
    done = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=1500)
        done[name] = (runs[name][0], subprocess.CompletedProcess(
            proc.args, proc.returncode, stdout, stderr))
    return done


@pytest.fixture(scope="session")
def build(builds) -> tuple[Path, str]:
    """The quick build of the whole book: (the HTML folder, the build's standard output)."""
    build_dir, result = builds["book"]
    log = f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    assert result.returncode == 0, f"build failed:\n{log}"
    return build_dir / "html", result.stdout


@pytest.fixture(scope="session")
def colab_ipywidgets(tmp_path_factory) -> Path:
    """ipywidgets 7.7.1, the version Colab ships (and ipython_genutils, which it
    imports), installed into a folder, to go first on a kernel's PYTHONPATH."""
    from tests.chapter_code import COLAB_IPYWIDGETS

    target = tmp_path_factory.mktemp(f"ipywidgets-{COLAB_IPYWIDGETS}")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         f"ipywidgets=={COLAB_IPYWIDGETS}", "ipython_genutils==0.2.0"],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target
