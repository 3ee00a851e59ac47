"""What the build does with the measured seed spread (``chapters/results/seed_spread.json``,
written by :mod:`bookbuild.spread`): under each tab's results table the runs' mean ± sd
over the seeds and how much a reader's own numbers may differ, the seed bands in the
results figure, the claims checked on every seed, and the data of the page's results
explorer.

A quick build (a subset of the data) never shows the full-data spread next to its runs:
its pages say that the spread is not shown. When the file was measured for other code
than the notebooks being built (the hashes differ), every page says so with the date of
the measurement, and the build's summary warns.
"""

from __future__ import annotations

import html
import io
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from d2l_compat.results import plot_histories

from . import claims as claims_mod
from . import spread_file
from .files import write_text_atomic
from .landing import BookText
from .vocabulary import FRAMEWORK_TAGS, FRAMEWORKS, RUNS, is_results_cell

Histories = Mapping[str, Mapping[str, Sequence[float | None]]]
# The results cell's output that carries the figure
FIGURE_MIME = "image/svg+xml"


@dataclass
class Spread:
    """The spread as this build uses it: per framework, {seed: histories}; `stale` lists
    why the file does not describe the notebooks being built (empty: it does); `date` is
    the day of its last measurement."""

    by_framework: dict[str, dict[int, dict[str, Any]]]
    stale: list[str] = field(default_factory=list)
    date: str = ""

    def seeds(self, framework: str) -> list[int]:
        return sorted(self.by_framework.get(framework, {}))


def load(path: Path, notebooks_by_fw: Mapping[str, nbformat.NotebookNode],
         compat: str) -> Spread | None:
    """The spread file at `path` compared with the notebooks being built
    (`notebooks_by_fw`, the English one per framework) and ``d2l_compat``'s hash
    `compat`; None when there is no file or it holds no full-data runs.

    Raises spread_file.SpreadError when the file exists but cannot be read.
    """
    data = spread_file.read_spread(path)
    if data is None or data.get("max_examples") is not None:
        return None
    by_fw = {fw: spread_file.seed_histories(data, fw) for fw in FRAMEWORK_TAGS}
    by_fw = {fw: seeds for fw, seeds in by_fw.items() if seeds}
    if not by_fw:
        return None
    stale = []
    if data.get("d2l_compat") != compat:
        stale.append(f"d2l_compat changed since the spread was measured "
                     f"({data.get('d2l_compat')} -> {compat})")
    for fw, nb in notebooks_by_fw.items():
        recorded = data["frameworks"].get(fw, {}).get("notebook")
        if fw in by_fw and recorded != spread_file.code_hash(nb):
            stale.append(f"{fw}: the notebook's code changed since the spread was measured "
                         f"({recorded} -> {spread_file.code_hash(nb)})")
    dates = [record["date"][:10] for entry in data["frameworks"].values()
             for record in entry.get("seeds", {}).values()]
    return Spread(by_fw, stale, max(dates) if dates else "")


# ------------------------------------------------------------ numbers


def run_stats(spread_: Spread, framework: str) -> list[tuple[str, tuple[float, float],
                                                             tuple[float, float]]]:
    """Per run of `framework`: (run, (mean, sd) of the final test accuracy, (mean, sd)
    of the final train-test gap) over its seeds."""
    return spread_file.final_stats(spread_.by_framework.get(framework, {}))


def typical_sd(spread_: Spread, framework: str) -> float:
    """The seed-to-seed sd of a run's final test accuracy on `framework`, pooled over
    the runs (the root of the mean variance)."""
    sds = [acc[1] for _, acc, _ in run_stats(spread_, framework)]
    return math.sqrt(statistics.fmean(sd * sd for sd in sds)) if sds else math.nan


def bands(spread_: Spread, framework: str) -> dict[str, dict[str, tuple[list[float],
                                                                          list[float]]]]:
    """{run: {'test_acc' | 'train_loss': (low, high)}}: the range over the seeds at each
    epoch, as :func:`d2l_compat.results.plot_histories` shades it."""
    seeds = spread_.by_framework.get(framework, {})
    found: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for run in RUNS:
        histories = [h[run] for h in seeds.values() if run in h]
        if len(histories) < 2:
            continue
        found[run] = {}
        for key in ("test_acc", "train_loss"):
            columns = list(zip(*(h[key] for h in histories), strict=True))
            values = [[math.nan if v is None else float(v) for v in c] for c in columns]
            found[run][key] = ([min(v) for v in values], [max(v) for v in values])
    return found


def seed_zero_differences(spread_: Spread, built: Mapping[str, Histories]) -> list[str]:
    """Where seed 0 of the spread is not exactly the run this build executed."""
    problems = []
    for fw, histories in built.items():
        recorded = spread_.by_framework.get(fw, {}).get(0)
        if recorded is None:
            continue
        for run, history in histories.items():
            if recorded.get(run) != {k: list(v) for k, v in history.items()}:
                problems.append(f"{fw}: seed 0 of run {run!r} differs from this build's run")
    return problems


def claims_by_seed(claims: Sequence[claims_mod.Claim], spread_: Spread
                   ) -> dict[str, dict[str, tuple[int, int]]]:
    """{claim id: {framework: (seeds where it holds, seeds)}}."""
    table: dict[str, dict[str, tuple[int, int]]] = {}
    for claim in claims:
        row = table.setdefault(claim.id, {})
        for fw, seeds in spread_.by_framework.items():
            held = sum(1 for histories in seeds.values()
                       if claims_mod.check(claim, histories)[0])
            row[fw] = (held, len(seeds))
    return table


def claim_problems(claims: Sequence[claims_mod.Claim], spread_: Spread) -> list[str]:
    """Every claim the spread's seeds contradict: a plain one that fails on any seed, or
    one that says it held on N seeds and holds on fewer on some framework."""
    problems = []
    for claim in claims:
        for fw, (held, seeds) in claims_by_seed([claim], spread_)[claim.id].items():
            needed = seeds if claim.seeds is None else claim.seeds
            if held < needed:
                said = "as a fact" if claim.seeds is None else f"on {claim.seeds} seeds"
                problems.append(
                    f"{fw}: claim {claim.id!r} (line {claim.line}) holds on {held} of "
                    f"{seeds} seeds of the spread; its sentence says it holds {said}\n"
                    f"    sentence: {claim.sentence}")
    return problems


def format_claims_table(table: Mapping[str, Mapping[str, tuple[int, int]]]) -> str:
    frameworks = [fw for fw in FRAMEWORK_TAGS if any(fw in row for row in table.values())]
    width = max([len("claim"), *map(len, table)])
    lines = [f"{'claim':<{width}}  " + "  ".join(f"{fw:>10}" for fw in frameworks)]
    for claim_id, row in table.items():
        cells = [f"{row[fw][0]}/{row[fw][1]} seeds" if fw in row else "-" for fw in frameworks]
        lines.append(f"{claim_id:<{width}}  " + "  ".join(f"{c:>10}" for c in cells))
    return "\n".join(lines)


# ------------------------------------------------------------ the page


def _pm(text: BookText, mean_sd: tuple[float, float]) -> str:
    return f"{text.number(mean_sd[0], '0.000')} ± {text.number(mean_sd[1], '0.000')}"


def spread_html(text: BookText, spread_: Spread, framework: str,
                runs: Mapping[str, str] | None = None) -> str:
    """The block under `framework`'s results table, in the language of `text`: the
    band sentence (about the figure just above), the mean ± sd table with its caption
    and each run by its name in `runs` (by default the code's), and how much a reader's
    own run may differ."""
    runs = {run: run for run in RUNS} if runs is None else runs
    seeds = len(spread_.seeds(framework))
    columns = [html.escape(c.strip()) for c in text.line("spread_columns").split("|")]
    parts = []
    if spread_.stale:
        parts.append(f"<blockquote><p>{_inline(text.line('spread_stale', date=spread_.date))}"
                     "</p></blockquote>")
    parts.append(f"<p>{_inline(text.line('spread_band', seeds=seeds))}</p>")
    rows = "".join(f'<tr><th scope="row">{html.escape(runs[run])}</th><td>{_pm(text, acc)}</td>'
                   f"<td>{_pm(text, gap)}</td></tr>"
                   for run, acc, gap in run_stats(spread_, framework))
    parts.append(
        f"<table><caption>{_inline(text.line('spread_table', seeds=seeds, date=spread_.date))}"
        "</caption><thead><tr>" + "".join(f'<th scope="col">{c}</th>' for c in columns)
        + f"</tr></thead><tbody>{rows}</tbody></table>")
    differ = text.line("spread_differ", framework=dict(FRAMEWORKS)[framework],
                       sd=text.number(typical_sd(spread_, framework), "0.000"))
    parts.append(f"<p>{_inline(differ)}</p>")
    return "\n".join(parts) + "\n"


def _inline(markdown: str) -> str:
    """One line of book.yml text as HTML (its *emphasis* rendered)."""
    return MarkdownIt("commonmark").renderInline(markdown)


def figure_svg(histories: Histories, spread_: Spread, framework: str) -> str:
    """The results figure of `framework`'s executed runs, each with its seed band."""
    clean = {run: {k: [math.nan if v is None else v for v in vals] for k, vals in h.items()}
             for run, h in histories.items()}
    fig = plot_histories(clean, bands=bands(spread_, framework))
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()


def _html_output(body: str, css_class: str) -> nbformat.NotebookNode:
    """An output showing the HTML `body` in a block of class `css_class` (raw HTML is
    what MyST-NB passes through unchanged, so the page and its tests can find it)."""
    plain = BeautifulSoup(body, "html.parser").get_text(" ", strip=True)
    return nbformat.v4.new_output("display_data", data={
        "text/html": f'<div class="{css_class}">\n{body}</div>\n', "text/plain": plain})


def decorate(page: nbformat.NotebookNode, text: BookText, spread_: Spread | None,
             built: Mapping[str, Histories], capped: bool,
             figures: dict[str, str] | None = None,
             runs: Mapping[str, str] | None = None) -> nbformat.NotebookNode:
    """Add the spread under each tab's results table of the page notebook `page` (in
    place; returned): on a quick build only the note that it is not shown; otherwise,
    when there is a spread, the figure with seed bands and the table and sentences of
    :func:`spread_markdown`. `figures` keeps each framework's figure once drawn, so the
    languages share them (every language shows the same runs); `runs` names the runs in
    the page's language (bookbuild.figure_text.page_words)."""
    figures = {} if figures is None else figures
    for cell in page.cells:
        tab = cell.get("metadata", {}).get("d2l_tabs")
        if cell.cell_type != "code" or not tab or not is_results_cell(cell.source):
            continue
        fw = tab["framework"]
        if capped:
            cell.outputs.append(_html_output(f"<p>{_inline(text.line('spread_quick'))}</p>",
                                             "d2l-spread-quick"))
            continue
        if spread_ is None or len(spread_.seeds(fw)) < 2:
            continue  # one seed has no spread to show
        for output in cell.outputs:
            if FIGURE_MIME in output.get("data", {}):
                if fw not in figures:
                    figures[fw] = figure_svg(built[fw], spread_, fw)
                output["data"][FIGURE_MIME] = figures[fw]
        cell.outputs.append(_html_output(spread_html(text, spread_, fw, runs), "d2l-spread"))
    return page


def explorer_data(built: Mapping[str, Histories], spread_: Spread | None,
                  capped: bool) -> dict[str, Any]:
    """The results explorer's data (see sphinxext/results_explorer.py): the executed
    runs, and the per-seed runs unless this is a quick build or there is no spread."""
    shown = None
    if spread_ is not None and not capped:
        seeds = sorted({s for by_seed in spread_.by_framework.values() for s in by_seed})
        shown = {"seeds": seeds, "date": spread_.date, "stale": bool(spread_.stale),
                 "histories": {fw: {str(s): h for s, h in by_seed.items()}
                               for fw, by_seed in spread_.by_framework.items()}}
    return {"runs": list(RUNS), "frameworks": [fw for fw in FRAMEWORK_TAGS if fw in built],
            "histories": {fw: dict(h) for fw, h in built.items()}, "spread": shown}


def write_explorer_data(path: Path, data: Mapping[str, Any]) -> Path:
    """Write the explorer's data to `path` (inside the build folder) whole or not at all."""
    return write_text_atomic(path, json.dumps(data))
