"""Wrap executed code cells in sphinx-design tab-sets, one tab per framework.

MyST-NB cannot execute code cells nested in a `tab-item` (MyST-NB issue #723),
so the tabs are made after execution: `bookbuild.pages` tags every code cell of a
page notebook with `d2l_tabs` metadata (framework, group), and this module
replaces each group of consecutive tagged cells by the node structure that
sphinx-design's `tab-set` directive builds, in the `framework` sync group. The
selection then syncs across tab-sets, persists across pages and reloads, and
follows `?framework=pytorch` in the URL (all sphinx-design's own script).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx_design.shared import create_component

from bookbuild.vocabulary import FRAMEWORKS

SYNC_GROUP = "framework"
LOGGER = logging.getLogger(__name__)


def _tab_info(node: nodes.Node) -> dict | None:
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    return (node.get("cell_metadata") or {}).get("d2l_tabs")


def _tab_set(cells: list[nodes.container]) -> nodes.container:
    tab_set = create_component("tab-set", classes=["sd-tab-set", "d2l-framework-tabs"])
    for framework, label in FRAMEWORKS:
        members = [c for c in cells if _tab_info(c)["framework"] == framework]
        if not members:
            LOGGER.warning(
                "code group without a %s cell: every group needs all frameworks",
                framework, location=cells[0],
            )
            continue
        rubric = nodes.rubric(label, label, classes=["sd-tab-label"])
        rubric["sync_id"] = framework
        rubric["sync_group"] = SYNC_GROUP
        content = create_component("tab-content", classes=["sd-tab-content"], children=members)
        item = create_component(
            "tab-item", classes=["sd-tab-item"], children=[rubric, content], selected=False
        )
        tab_set += item
    return tab_set


def wrap_cells(app: Sphinx, doctree: nodes.document) -> None:
    """Replace every run of cells sharing a `d2l_tabs` group by one tab-set."""
    parents = {id(n.parent): n.parent for n in doctree.findall(nodes.container) if _tab_info(n)}
    for parent in parents.values():
        children: list[nodes.Node] = []
        run: list[nodes.container] = []
        for child in list(parent.children):
            info = _tab_info(child)
            if info is not None and run and _tab_info(run[0])["group"] == info["group"]:
                run.append(child)
                continue
            if run:
                children.append(_tab_set(run))
                run = []
            if info is not None:
                run.append(child)
            else:
                children.append(child)
        if run:
            children.append(_tab_set(run))
        parent.children = []
        parent.extend(children)


def setup(app: Sphinx) -> None:
    app.connect("doctree-read", wrap_cells)
