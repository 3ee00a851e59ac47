"""The nbclient client that runs a chapter notebook with no front-end (the build, and
the tests that run the chapter's code)."""

from __future__ import annotations

from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.output_widget import OutputWidget


class _OutputWidgetKeptHere(OutputWidget):
    """nbclient's stand-in for a front-end's Output widget, minus the echo of each new
    state to the kernel.

    The echo is sent on the shell channel while the client awaits the cell's execute
    reply on that channel, and the cell can then wait forever (jupyter/nbclient#312,
    open): here about one run in ten of the explorer cell, whose `interact` shows each
    figure inside an Output widget. No chapter code reads an Output widget's state back,
    so the state stays on this side (in the executed notebook's widget state).
    """

    def send(self, data: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None,
             buffers: list[Any] | None = None) -> None:
        return None


def headless_client(nb: nbformat.NotebookNode, **options: Any) -> NotebookClient:
    """An nbclient ``NotebookClient(nb, **options)`` whose Output widgets do not echo
    their state to the kernel (see :class:`_OutputWidgetKeptHere`)."""
    client = NotebookClient(nb, **options)
    client.widget_registry = {"@jupyter-widgets/output": {"OutputModel": _OutputWidgetKeptHere}}
    return client
