"""The chapter notebooks' first cell, the Colab install cell, run in a kernel where
google.colab exists and %pip only records its line: MXNet's stops with one line when pip
replaced the loaded numpy, and each framework's installs d2l_compat with its extra from
the configured repository (the rest of the Colab checks: tests/test_colab.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.test_colab import configured_repository

ROOT = Path(__file__).resolve().parent.parent


def _run_install_cell(
    framework: str, numpy_at_start: str | None
) -> tuple[nbformat.NotebookNode, CellExecutionError | None]:
    """Run `framework`'s English install cell, then a cell printing "next", in a kernel
    where google.colab exists and %pip records its line; when `numpy_at_start` is set, the
    kernel's loaded numpy claims that version (as after pip replaced it on disk)."""
    nb = nbformat.read(ROOT / "chapters" / "en" / "notebooks" / f"scheduler_{framework}.ipynb",
                       as_version=4)
    fake = (f"    numpy.__version__ = {numpy_at_start!r}\n" if numpy_at_start else "")
    setup = ("import sys, types\nimport numpy\n"
             "from IPython.core.magic import register_line_magic\n"
             "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
             "pip_lines = []\n"
             "@register_line_magic\n"
             "def pip(line):\n"
             "    pip_lines.append(line)\n" + fake)
    cells = [nbformat.v4.new_code_cell(setup), nb.cells[0],
             nbformat.v4.new_code_cell("print('next')\nprint(pip_lines)")]
    run = nbformat.v4.new_notebook(cells=cells)
    try:
        NotebookClient(run, kernel_name="python3", timeout=120).execute()
    except CellExecutionError as err:
        return run, err
    return run, None


def test_mxnet_install_cell_stops_with_one_line_when_numpy_was_replaced() -> None:
    run, err = _run_install_cell("mxnet", numpy_at_start="2.2.6")
    assert err is not None and err.ename == "RestartSession"
    (output,) = run.cells[1].outputs
    assert output.output_type == "error"
    (line,) = output.traceback  # one line, no traceback
    assert "numpy 2.2.6" in line and "restart the session" in line and "Run all" in line
    assert not run.cells[2].outputs, "the next cell must not run"


def test_mxnet_install_cell_passes_when_numpy_is_unchanged() -> None:
    run, err = _run_install_cell("mxnet", numpy_at_start=None)
    assert err is None
    assert not [o for o in run.cells[1].outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in run.cells[2].outputs)
    name, branch = configured_repository()
    # shows pip's progress: no -q
    assert f"['install \"d2l_compat[mxnet] @ git+https://github.com/{name}@{branch}\"']" in text


@pytest.mark.parametrize("framework,extra", [("pytorch", "torch"), ("tensorflow", "tensorflow")])
def test_pytorch_and_tensorflow_cells_install_quietly(framework, extra) -> None:
    run, err = _run_install_cell(framework, numpy_at_start=None)
    assert err is None
    text = "".join(o.get("text", "") for o in run.cells[2].outputs)
    name, branch = configured_repository()
    assert f"['install -q \"d2l_compat[{extra}] @ git+https://github.com/{name}@{branch}\"']" \
        in text
