"""What the build prints when it ends: each framework's execution, the results table,
the checks, and the seed spread's part."""

from __future__ import annotations

from collections.abc import Sequence

from . import pdf, results, spread_file, spread_view
from .config import ROOT
from .settings import Settings
from .vocabulary import CHAPTER, FRAMEWORK_TAGS, PDF_FILE


def executions(timings: dict[str, tuple[bool, float]],
               by_framework: dict[str, results.Histories]) -> None:
    """Each framework's execution time (or cache hit), then the results table."""
    print("\nper framework:")
    for fw in FRAMEWORK_TAGS:
        if fw not in timings:
            continue
        ran, seconds = timings[fw]
        print(f"  {fw}: " + (f"executed in {seconds:.0f} s" if ran else "cache hit"))
    print("\nresults (the table at the end of the chapter):")
    print(results.format_table(by_framework))


def spread_part(spread_: spread_view.Spread | None,
                by_framework: dict[str, results.Histories], claims: Sequence,
                capped: bool) -> None:
    """Staleness, seed 0 against this build's runs, and every claim on every seed."""
    if spread_ is None:
        print(f"seed spread: none ({spread_file.DEFAULT_OUT.relative_to(ROOT)} is missing); "
              "the pages show no spread. Measure it with `python -m bookbuild.spread`.")
        return
    if capped:
        print("seed spread: not shown on this quick build's pages (it is of full-data runs)")
    for reason in spread_.stale:
        print(f"WARNING: the seed spread is stale: {reason}. Every page says so; measure it "
              "again with `python -m bookbuild.spread`.")
    if not capped and not spread_.stale:
        differences = spread_view.seed_zero_differences(spread_, by_framework)
        for problem in differences:
            print(f"WARNING: {problem} (the spread was measured on another machine or "
                  "with other thread settings?)")
        if not differences:
            print("seed spread: seed 0 of every framework equals this build's runs exactly")
    print("claims of the text on every seed of the spread (holds on k of n seeds):")
    print(spread_view.format_claims_table(spread_view.claims_by_seed(claims, spread_)))


def report(settings: Settings, timings: dict[str, tuple[bool, float]],
           by_framework: dict[str, results.Histories], claims: Sequence,
           spread_: spread_view.Spread | None, notebooks: int,
           seconds: tuple[float, float],
           pdfs: tuple[list[pdf.Printed], float] | None = None) -> None:
    """The summary of a build that succeeded; `seconds`: (execution, rendering);
    `pdfs`: the PDFs of --pdf and the seconds they took."""
    executions(timings, by_framework)
    executed = sum(1 for ran, _ in timings.values() if ran)
    threads = settings.kernel_env().get("OMP_NUM_THREADS")
    print(f"notebooks executed: {executed} of {notebooks}, up to {settings.jobs} at once"
          + (f" with {threads} compute thread(s) each" if executed and threads else ""))
    pdf_seconds = pdfs[1] if pdfs is not None else 0.0
    print(f"execution: {seconds[0]:.0f} s, rendering: {seconds[1]:.0f} s, "
          + (f"PDFs: {pdf_seconds:.0f} s, " if pdfs is not None else "")
          + f"total: {sum(seconds) + pdf_seconds:.0f} s")
    if settings.capped:
        print(f"checked: no diverged run. QUICK BUILD on a {settings.max_examples}-example "
              "subset: the claims of the text were not checked and every page says so.")
    else:
        print(f"checked: no diverged run; {len(claims)} claims of the text hold on every "
              "framework")
    spread_part(spread_, by_framework, claims, settings.capped)
    if pdfs is not None:
        print(f"PDFs (--pdf added {pdf_seconds:.0f} s), pages each:")
        for done in pdfs[0]:
            published = settings.build_dir / "html" / done.lang / PDF_FILE.format(
                chapter=CHAPTER, framework=done.framework)
            print(f"  {published}: {done.pages}")
    print(f"book: {settings.build_dir / 'html' / 'index.html'}")
