"""The progress display of the build and of the seed spread: a rich bar per notebook
on a terminal (run k of n, epoch, elapsed time, ETA), a line per finished training run
otherwise (a log file, CI)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from . import execute


class Display:
    """Rich progress on a terminal; a line per training run otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not self.live, transient=False,
        )
        self._states: dict[str, dict[str, object]] = {}  # by notebook label

    def for_notebook(self, label: str) -> execute.Progress:
        """The progress of notebook `label`: a bar from the moment its kernel starts
        (cache hits and queued notebooks get none)."""
        state: dict[str, object] = self._states.setdefault(label, {})

        def on_start() -> None:
            state["start"] = time.perf_counter()
            state["task"] = self.progress.add_task(f"{label}: starting the kernel",
                                                   total=100.0)

        def on_run(run: int, runs: int, x: float, xmax: float) -> None:
            done = min(x / xmax, 1.0) if xmax else 0.0
            self.progress.update(
                state["task"], completed=100.0 * (run + done) / runs,
                description=f"{label}: run {run + 1}/{runs}, epoch {int(x)}/{int(xmax)}",
            )

        def on_run_done(run: int, runs: int, seconds: float) -> None:
            self.progress.update(state["task"], completed=100.0 * (run + 1) / runs)
            if not self.live:
                self.console.print(
                    f"{label}: training run {run + 1}/{runs} done in {seconds:.0f} s "
                    f"({time.perf_counter() - state['start']:.0f} s so far)"
                )

        return execute.Progress(on_run, on_run_done, on_start)

    def finish(self, label: str, outcome: execute.Outcome) -> None:
        """Mark notebook `label`'s bar (if it has one) as done, with the execution time."""
        state = self._states.get(label, {})
        if "task" in state:
            self.progress.update(state["task"], completed=100.0,
                                 description=f"{label}: executed in {outcome.seconds:.0f} s")
