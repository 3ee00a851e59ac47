"""Shared fixtures: where the real Fashion-MNIST files are (``$D2L_DATA_DIR``)."""

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


def pytest_configure(config: pytest.Config) -> None:
    # Notebook runs in the suite (nbval, the schedule probes, the quick book build)
    # train on a fixed, class-balanced 100-example subset so they finish in seconds;
    # tests that need the full data unset it themselves.
    os.environ.setdefault("D2L_MAX_EXAMPLES", "100")
    # Notebook kernels run in the notebook's folder: make a relative data path absolute.
    if os.environ.get("D2L_DATA_DIR"):
        os.environ["D2L_DATA_DIR"] = str(Path(os.environ["D2L_DATA_DIR"]).resolve())


ROOT = Path(__file__).resolve().parent.parent


def _build_command(build_dir: Path, max_examples: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bookbuild", "--max-examples", max_examples,
            "--build-dir", str(build_dir), *extra]


@pytest.fixture(scope="session")
def builds(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Two quick builds run at the same time in their own build folders: "book", the
    whole book (every language, the suite's subset), and "other", English alone on a
    different subset. Each maps to (its build folder, its finished process)."""
    runs = {
        "book": (tmp_path_factory.mktemp("book"), os.environ["D2L_MAX_EXAMPLES"], ()),
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
