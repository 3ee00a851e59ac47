"""Colab: the buttons on every page and the notebooks' install cells.

The install cells run here in a real kernel with a stand-in ``google.colab`` and a
recording ``%pip`` (the real installs on Colab-like Pythons are
``benchmarks/colab_like.py``'s job); the buttons are checked on the quick build's pages.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from packaging.requirements import Requirement

from bookbuild.landing import read_book_text
from bookbuild.languages import FRAMEWORKS, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("colab_like", ROOT / "benchmarks" / "colab_like.py")
assert _spec is not None and _spec.loader is not None
colab_like = importlib.util.module_from_spec(_spec)
sys.modules["colab_like"] = colab_like
_spec.loader.exec_module(colab_like)


def configured_repository() -> tuple[str, str]:
    """(owner/name, branch) as `_config.yml` states them, read here independently."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return repo["url"].rstrip("/").removeprefix("https://github.com/"), repo["branch"]


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_colab_buttons_agree_with_config(build, lang) -> None:
    html_dir, _ = build
    soup = BeautifulSoup((html_dir / lang.code / "chapters" / lang.code / "scheduler.html")
                         .read_text(encoding="utf-8"), "html.parser")
    name, branch = configured_repository()
    buttons = soup.select("div.d2l-colab-buttons a.d2l-colab")
    notebooks = soup.select("div.d2l-colab-buttons a.d2l-notebook")
    assert len(buttons) == len(notebooks) == len(FRAMEWORKS)
    for colab, github, (tag, _) in zip(buttons, notebooks, FRAMEWORKS, strict=True):
        path = f"chapters/{lang.code}/notebooks/scheduler_{tag}.ipynb"
        assert colab["href"] == f"https://colab.research.google.com/github/{name}/blob/{branch}/{path}"
        assert github["href"] == f"https://github.com/{name}/blob/{branch}/{path}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_mxnet_note_next_to_the_buttons(build, lang) -> None:
    html_dir, _ = build
    soup = BeautifulSoup((html_dir / lang.code / "chapters" / lang.code / "scheduler.html")
                         .read_text(encoding="utf-8"), "html.parser")
    buttons = soup.select_one("div.d2l-colab-buttons")
    note = buttons.find_next_sibling()
    assert note is not None and "d2l-colab-note" in note.get("class", [])
    text = note.get_text(" ", strip=True)
    assert text == read_book_text(lang.code, ROOT).colab_mxnet_note
    for fact in ("MXNet 1.9.1", "numpy < 2", "1.26.4", "3.13", "26.07", "3.12",
                 "Change runtime version"):
        assert fact in text, f"{lang.code}: the note does not say {fact!r}"


def test_every_language_has_the_mxnet_note() -> None:
    notes = {read_book_text(lang.code, ROOT).colab_mxnet_note for lang in LANGUAGES}
    assert len(notes) == len(LANGUAGES)  # translated, not copied


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


@pytest.mark.parametrize("extra", ["torch", "tensorflow"])
def test_extras_keep_what_colab_ships(extra) -> None:
    """d2l_compat's torch and tensorflow extras admit the versions Colab ships (as the
    Colab-like benchmark installs them), so the install cell downgrades nothing and adds
    ipywidgets only where it is missing."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in
                    project["dependencies"] + project["optional-dependencies"][extra]]
    shipped = dict(p.split("==") for p in colab_like.COLAB_PACKAGES)
    assert "ipywidgets" in {r.name for r in requirements}
    for req in requirements:
        if req.name in shipped:
            assert req.specifier.contains(shipped[req.name]), \
                f"[{extra}] {req} would replace Colab's {req.name} {shipped[req.name]}"


def test_local_install_cell_points_at_the_checkout() -> None:
    nb = nbformat.read(ROOT / "chapters" / "en" / "notebooks" / "scheduler_mxnet.ipynb",
                       as_version=4)
    source = colab_like.local_install_cell(nb.cells[0].source, Path("/x/repo"), "abc123")
    assert '"d2l_compat[mxnet] @ git+file:///x/repo@abc123"' in source
    with pytest.raises(ValueError, match="does not name"):
        colab_like.local_install_cell("print(1)", Path("/x/repo"), "abc123")
