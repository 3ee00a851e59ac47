"""What the executed notebooks trained: their runs' histories, the checks the build
applies to them (no diverged run; the chapter's claims), and the results table the
build prints at its end.

The histories come from the chapter's results cell: ``d2l.show_results(histories)``
stores them in its table output's metadata (``d2l_histories``), so the build reads the
very numbers the page shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import nbformat

from d2l_compat.results import METADATA_KEY, summary_rows

from . import claims as claims_mod
from .vocabulary import CHANCE_LEVEL, chapter_source

Histories = dict[str, dict[str, list[float | None]]]


class ResultsError(RuntimeError):
    """The executed runs are missing, diverged, or contradict the chapter's text."""


def histories_of(nb: nbformat.NotebookNode, where: str) -> Histories:
    """The histories stored by the notebook's results cell.

    Raises ResultsError when no output carries them.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found = output.get("metadata", {}).get(METADATA_KEY)
            if found:
                return {run: dict(history) for run, history in found.items()}
    raise ResultsError(
        f"{where}: no output carries {METADATA_KEY!r}; the chapter must end its "
        "experiments with d2l.show_results(histories)"
    )


def diverged_runs(histories: Histories, capped: bool) -> list[str]:
    """A message for every run that ended with a non-finite loss, or (on full data)
    at chance-level test accuracy."""
    problems = []
    for run, history in histories.items():
        loss, acc = history["train_loss"][-1], history["test_acc"][-1]
        if loss is None or not math.isfinite(loss):
            problems.append(f"run {run!r} ended with train loss {loss} (diverged)")
        elif not capped and (acc is None or acc <= CHANCE_LEVEL):
            problems.append(
                f"run {run!r} ended at test accuracy {acc} (chance level is 0.1; "
                f"train loss {loss:.3f})"
            )
    return problems


def check_runs(
    by_framework: Mapping[str, Histories], claims: list[claims_mod.Claim], capped: bool
) -> list[str]:
    """Every problem with the executed runs, as messages naming the framework, the run
    or the claim's sentence, and the numbers. Claims are about full-data runs and are
    not checked on a capped build."""
    problems = []
    for fw, histories in by_framework.items():
        problems += [f"{fw}: {p}" for p in diverged_runs(histories, capped)]
    if capped:
        return problems
    for claim in claims:
        if claim.seeds is not None:
            continue  # says how often it held: checked on the spread's seeds instead
        for fw, histories in by_framework.items():
            holds, numbers = claims_mod.check(claim, histories)
            if not holds:
                problems.append(
                    f"{fw}: claim {claim.id!r} (line {claim.line}) does not hold: {numbers}\n"
                    f"    sentence: {claim.sentence}"
                )
    return problems


def format_table(by_framework: Mapping[str, Histories]) -> str:
    """The chapter's results table for every framework, as plain text."""
    header = ("framework", "schedule", "train loss", "train acc", "test acc",
              "best test acc", "best epoch", "train-test gap")
    lines = ["  ".join(f"{h:>13}" if i > 1 else f"{h:<12}" for i, h in enumerate(header))]
    for fw, histories in by_framework.items():
        clean = {
            run: {k: [math.nan if v is None else v for v in vals] for k, vals in h.items()}
            for run, h in histories.items()
        }
        for row in summary_rows(clean):
            cells = [fw, row["schedule"]] + [
                f"{row[key]:.3f}" if key != "best epoch" else str(row[key])
                for key in header[2:]
            ]
            lines.append("  ".join(
                f"{c:>13}" if i > 1 else f"{c:<12}" for i, c in enumerate(cells)
            ))
    return "\n".join(lines)


def english_claims(root: Path, runs: list[str]) -> list[claims_mod.Claim]:
    """The claims of the English chapter source."""
    return claims_mod.parse_claims(chapter_source(root), runs)
