"""Merge the executed per-framework notebooks of a chapter into its page notebook.

Each run of consecutive code cells in the source becomes one tab group: for every
framework, the cells of the group that belong to it, with the outputs of its
executed notebook. The cells carry `d2l_tabs` metadata (framework and group)
that the Sphinx extension `sphinxext.framework_tabs` turns into a tab-set.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .mirror import MARKDOWN
from .notebooks import KERNELSPEC, cell_frameworks
from .vocabulary import FRAMEWORK_TAGS


class PageError(RuntimeError):
    """The source and the executed notebooks do not fit together."""


def page_path(source: Path, pages_dir: Path, root: Path) -> Path:
    """Where the page notebook of `source` is written: under `pages_dir` (inside the
    build folder), at the source's path relative to `root`, as `.ipynb`."""
    return pages_dir / source.relative_to(root).with_suffix(".ipynb")


def _check_outputs(cell: nbformat.NotebookNode, framework: str, source: Path) -> None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            raise PageError(
                f"{source}: a {framework} cell raised {output.get('ename')}: "
                f"{output.get('evalue')}\n{cell.source}"
            )


def page_notebook(
    source: Path,
    source_nb: nbformat.NotebookNode,
    executed: dict[str, nbformat.NotebookNode],
) -> nbformat.NotebookNode:
    """The page notebook of `source`, given each framework's executed notebook.

    Raises PageError when a code group lacks a framework, when the executed
    notebooks do not match the source, or when a cell's output is an error.
    """
    # The first code cell of every executed notebook is the Colab install cell.
    queues = {
        fw: [c for c in executed[fw].cells if c.cell_type == "code"][1:] for fw in FRAMEWORK_TAGS
    }
    cells: list[nbformat.NotebookNode] = []
    group: list[nbformat.NotebookNode] = []
    group_index = 0

    def flush() -> None:
        nonlocal group, group_index
        if not group:
            return
        for fw in FRAMEWORK_TAGS:
            members = [c for c in group if fw in cell_frameworks(c)]
            if not members:
                raise PageError(
                    f"{source}: code group {group_index} (starting {group[0].source[:60]!r}) "
                    f"has no {fw} cell; every group needs all frameworks"
                )
            for member in members:
                if not queues[fw]:
                    raise PageError(f"{source}: the executed {fw} notebook has too few cells")
                ran = queues[fw].pop(0)
                if ran.source != member.source:
                    raise PageError(
                        f"{source}: the executed {fw} notebook is stale; regenerate it"
                    )
                _check_outputs(ran, fw, source)
                new = nbformat.v4.new_code_cell(
                    ran.source, outputs=ran.get("outputs", []),
                    execution_count=ran.get("execution_count"),
                )
                new.metadata["tags"] = list(member.metadata.get("tags", []))
                new.metadata["d2l_tabs"] = {"framework": fw, "group": group_index}
                cells.append(new)
        group = []
        group_index += 1

    for cell in source_nb.cells:
        if cell.cell_type == "code":
            group.append(cell)
        else:
            flush()
            cells.append(nbformat.v4.new_markdown_cell(cell.source))
    flush()
    for fw, rest in queues.items():
        if rest:
            raise PageError(f"{source}: the executed {fw} notebook has extra cells")
    for i, cell in enumerate(cells):
        cell.id = f"page-{i}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    return nb


STALE_CLASS = "d2l-stale-translation"


def add_stale_notice(page: nbformat.NotebookNode, notice: str) -> None:
    """Put `notice` (a translation's words saying which of its sections lag behind the
    English, book.yml's `stale_translation`) in a warning right below the page's title
    heading, so a reader sees it before any of the text it is about."""
    for cell in page.cells:
        if cell.cell_type != "markdown":
            continue
        heading = next((t for t in MARKDOWN.parse(cell.source) if t.type == "heading_open"),
                       None)
        if heading is None:
            continue
        lines = cell.source.split("\n")
        end = heading.map[1]
        lines[end:end] = ["", ":::{warning}", f":class: {STALE_CLASS}", notice, ":::", ""]
        cell.source = "\n".join(lines)
        return
    raise PageError("the page has no heading to put the stale-translation notice under")


def write_page(path: Path, nb: nbformat.NotebookNode) -> Path:
    """Write the page notebook to `path` atomically (a build artefact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)
    return path
