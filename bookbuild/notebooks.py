"""Split a chapter source (a MyST markdown notebook) into one plain notebook per
framework.

Code cells in the source are tagged with the frameworks they belong to
(`mxnet`, `pytorch`, `tensorflow`); an untagged code cell belongs to all three.
Each framework's notebook keeps every markdown cell, in plain Markdown (see
:mod:`bookbuild.plain_markdown`), and that framework's code cells, and starts with a
cell that installs `d2l_compat` when run on Colab.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from . import sources
from .config import ROOT, repository
from .files import write_text_atomic
from .plain_markdown import plain_cells
from .vocabulary import COLAB_EXTRA, FRAMEWORK_TAGS, language

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
# Directives that only a page of the book renders (sphinxext): a notebook would show
# their markup as text, so generated notebooks leave them out.
PAGE_ONLY_DIRECTIVES = ("schedule-explorer", "results-explorer")


def chapter_sources(root: Path = ROOT) -> list[Path]:
    """Every chapter source `chapters/<lang>/<chapter>.md`, sorted."""
    return sorted((root / "chapters").glob("*/*.md"))


def read_source(path: Path) -> nbformat.NotebookNode:
    """The chapter source at `path` as a notebook (jupytext's MyST reader), after
    :func:`bookbuild.sources.read_source`'s checks; raises its SourceError."""
    return sources.read_source(path)


def cell_frameworks(cell: nbformat.NotebookNode) -> tuple[str, ...]:
    """Frameworks a code cell belongs to, in tab order (all when untagged)."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    tagged = tuple(fw for fw in FRAMEWORK_TAGS if fw in tags)
    return tagged or FRAMEWORK_TAGS


def notebook_path(source: Path, framework: str) -> Path:
    """Where the generated notebook of `framework` for `source` lives."""
    return source.parent / "notebooks" / f"{source.stem}_{framework}.ipynb"


def colab_cell_source(framework: str, repo_url: str, branch: str) -> str:
    """The first cell of `framework`'s notebook: on Colab, install `d2l_compat` with
    the framework's extra from `repo_url` at `branch`; elsewhere do nothing.

    PyTorch and TensorFlow install quietly: Colab's own torch, TensorFlow, numpy and
    ipywidgets satisfy the extras, so pip adds only what is missing. MXNet 1.9.1 needs
    numpy < 2, so its cell replaces Colab's numpy (compiled from source on Python 3.13),
    shows pip's progress, and stops "Run all" with a one-line request to restart the
    session when the numpy the kernel already loaded was replaced.
    """
    extra = COLAB_EXTRA[framework]
    spec = f'"d2l_compat[{extra}] @ git+{repo_url}@{branch}"'
    header = [
        "# On Colab, install the helper package this notebook imports",
        "# (elsewhere, install the repository's requirements.txt instead).",
    ]
    if framework != "mxnet":
        return "\n".join([*header, "import sys", "if 'google.colab' in sys.modules:",
                          f"    %pip install -q {spec}"])
    return "\n".join([
        *header,
        "# MXNet 1.9.1 needs numpy < 2, so pip replaces Colab's numpy 2 by numpy 1.26.4.",
        "# On Colab's default runtime (Python 3.13) pip compiles numpy 1.26.4 from source,",
        "# which takes a few minutes; on runtime version 26.07 (Python 3.12, chosen with",
        "# \"Change runtime version\" in the command palette) it installs in seconds.",
        "# pip may then list preinstalled packages that need numpy 2: this notebook uses",
        "# none of them. The session keeps the numpy it loaded at start, so when numpy was",
        "# replaced this cell stops and asks you to restart the session and run it again.",
        "import sys",
        "if 'google.colab' in sys.modules:",
        "    from importlib.metadata import version",
        f"    %pip install {spec}",
        "    loaded = sys.modules.get('numpy')",
        "    if loaded is not None and loaded.__version__ != version('numpy'):",
        "        class RestartSession(Exception):",
        "            def _render_traceback_(self):  # IPython shows this line, no traceback",
        "                return [str(self)]",
        "        raise RestartSession(",
        "            f'numpy {version(\"numpy\")} is installed but this session still runs numpy '",
        "            f'{loaded.__version__}: restart the session (Runtime > Restart session), '",
        "            'then run the notebook again (Runtime > Run all).')",
    ])


def framework_notebook(
    source_nb: nbformat.NotebookNode, framework: str, repo_url: str, branch: str,
    *, source: Path, root: Path = ROOT,
) -> nbformat.NotebookNode:
    """The plain notebook of `framework`: plain-Markdown cells plus its code cells, no
    outputs. `source` is the chapter source `source_nb` was read from (its folder names
    the language); `root` the book whose configuration and bibliography apply.

    Cell ids are positional so that regenerating an unchanged source gives
    byte-identical files. Raises plain_markdown.PlainMarkdownError (a SourceError) for
    MyST that a notebook cannot show.
    """
    if framework not in FRAMEWORK_TAGS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORK_TAGS}")
    markdown = [(i, c) for i, c in enumerate(source_nb.cells) if c.cell_type == "markdown"]
    # read_source's source_map holds each markdown cell's 0-based first line
    source_map = source_nb.metadata.get("source_map")
    plain = iter(plain_cells(
        [c.source for _, c in markdown], source=source, framework=framework,
        language=language(source.parent.name).sphinx, drop=PAGE_ONLY_DIRECTIVES, root=root,
        first_lines=[source_map[i] + 1 for i, _ in markdown] if source_map else None,
    ))
    cells = [nbformat.v4.new_code_cell(colab_cell_source(framework, repo_url, branch))]
    for cell in source_nb.cells:
        if cell.cell_type == "markdown":
            text = next(plain)
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif cell.cell_type == "code" and framework in cell_frameworks(cell):
            new = nbformat.v4.new_code_cell(cell.source)
            tags = [t for t in cell.metadata.get("tags", []) if t not in FRAMEWORK_TAGS]
            if tags:
                new.metadata["tags"] = tags
            cells.append(new)
    for i, cell in enumerate(cells):
        cell.id = f"{framework}-{i}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """The exact text a generated notebook is stored as."""
    return nbformat.writes(nb) + "\n"


def expected_notebooks(root: Path = ROOT) -> dict[Path, str]:
    """Every generated notebook path mapped to the text it must hold."""
    repo_url, branch = repository(root)
    # every source's own checks first: a broken source is reported before any conversion
    source_nbs = {source: read_source(source) for source in chapter_sources(root)}
    expected = {}
    for source, source_nb in source_nbs.items():
        for fw in FRAMEWORK_TAGS:
            nb = framework_notebook(source_nb, fw, repo_url, branch, source=source, root=root)
            expected[notebook_path(source, fw)] = render(nb)
    return expected


def write_notebooks(root: Path = ROOT) -> list[Path]:
    """(Re)generate every per-framework notebook; returns the paths written."""
    written = []
    for path, text in expected_notebooks(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_text_atomic(path, text)
        written.append(path)
    return written
