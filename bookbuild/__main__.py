"""Build the book: split each chapter source into per-framework notebooks, execute them
(or fetch their outputs from the cache), check the runs, merge the outputs into one
tabbed page per language, and render one Jupyter Book per language.

Everything the build writes goes under --build-dir. The full build trains every run on
all of Fashion-MNIST: about 30 minutes on 2 CPU cores; a quick build with
--max-examples 100 takes a few minutes; either takes seconds when nothing changed.

Environment:
  D2L_DATA_DIR      the folder with the four Fashion-MNIST .gz files (~ is expanded;
                    unset: d2l_compat looks in its cache and may download them)
  D2L_MAX_EXAMPLES  N, like --max-examples N: train on a fixed N-example subset (a
                    quick build, marked as such on every page)

Every option is checked before a kernel starts. Ctrl-C (exit status 130) or SIGTERM
(143) stops the build: the running kernels are interrupted and shut down, what finished
executing stays cached, and the same command resumes from it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import nbformat
from rich.console import Console

from . import (
    execute,
    landing,
    notebooks,
    options,
    pages,
    render,
    results,
    spread,
    spread_view,
    translations,
)
from .claims import ClaimError
from .config import ROOT
from .kernel_env import kernel_env
from .lock import BuildFolderBusy, build_folder_lock
from .progress import Display
from .sources import SourceError
from .vocabulary import FRAMEWORK_TAGS, LANGUAGES, RUNS, language


class _Parser(argparse.ArgumentParser):
    """argparse, with each error as one paragraph (no usage block above it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the "
                     "options.)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m bookbuild", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--lang", action="append", metavar="CODE",
        help="build only this language (repeatable; one of "
             f"{', '.join(lang.code for lang in LANGUAGES)}); default: all",
    )
    parser.add_argument(
        "--max-examples", metavar="N",
        help="train on a fixed, class-balanced N-example subset for a quick build (a "
             "positive multiple of 10; overrides D2L_MAX_EXAMPLES); default: all data",
    )
    parser.add_argument(
        "--notebooks-only", action="store_true",
        help="only regenerate the committed per-framework notebooks (writes chapters/)",
    )
    parser.add_argument(
        "--no-cache", action="store_true",
        help="execute every notebook even when its outputs are cached",
    )
    parser.add_argument(
        "--jobs", metavar="N",
        help="how many framework notebooks execute at once, each kernel's frameworks "
             "then using N-th of the CPU cores, at least one thread (default: all 3)",
    )
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build",
                        help="where everything the build writes goes (default: _build)")
    return parser


def _max_examples(args: argparse.Namespace) -> int | None:
    if args.max_examples is not None:
        return options.max_examples(args.max_examples, "--max-examples")
    value = os.environ.get("D2L_MAX_EXAMPLES", "")
    return options.max_examples(value, "D2L_MAX_EXAMPLES") if value.strip() else None


def _report(timings: dict[str, tuple[bool, float]],
            by_framework: dict[str, results.Histories]) -> None:
    print("\nper framework:")
    for fw in FRAMEWORK_TAGS:
        if fw not in timings:
            continue
        ran, seconds = timings[fw]
        print(f"  {fw}: " + (f"executed in {seconds:.0f} s" if ran else "cache hit"))
    print("\nresults (the table at the end of the chapter):")
    print(results.format_table(by_framework))


def _report_spread(spread_: spread_view.Spread | None,
                   by_framework: dict[str, results.Histories], claims: list,
                   capped: bool) -> None:
    """The seed spread's part of the summary: staleness, seed 0 against this build's runs,
    and every claim checked on every seed."""
    if spread_ is None:
        print(f"seed spread: none ({spread.DEFAULT_OUT.relative_to(ROOT)} is missing); "
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


@dataclass
class _Stop:
    """What stopped the build: its name in messages, and the exit status."""

    name: str
    status: int


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (a CI job cancelled, `timeout`, `kill`) stops the build as Ctrl-C does,
    # instead of killing it with its kernels left running and nothing said
    stopped_by = _Stop("Ctrl-C", 130)

    def terminate(signum: int, frame: object) -> NoReturn:
        stopped_by.name, stopped_by.status = "SIGTERM", 143
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return _main(argv, stopped_by)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None, stopped_by: _Stop) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    err = Console(stderr=True, highlight=False)

    try:
        langs = [language(code) for code in args.lang] if args.lang else list(LANGUAGES)
        cap = _max_examples(args)
        jobs = options.jobs(args.jobs, len(FRAMEWORK_TAGS))
        if not args.notebooks_only:
            build_dir = options.build_dir(args.build_dir, ROOT)
            data_dir = options.data_dir(os.environ.get("D2L_DATA_DIR"))
    except ValueError as error:  # OptionError, or language()'s unknown code
        parser.error(str(error))

    if args.notebooks_only:
        try:
            written = notebooks.write_notebooks(ROOT)
        except SourceError as error:
            print(f"bookbuild: {error} No notebook was written.", file=sys.stderr)
            return 1
        print(f"per-framework notebooks up to date: {len(written)}")
        return 0

    try:
        try:
            # no network and no cache is one clear error here, not three kernels'
            # tracebacks
            options.use_data(data_dir)
        except options.OptionError as error:
            parser.error(str(error))
        try:
            with build_folder_lock(build_dir):
                return _build(args, langs, cap, jobs, build_dir, err)
        except BuildFolderBusy as error:
            print(f"bookbuild: {error}", file=sys.stderr)
            return 1
    except execute.Interrupted as stop:
        running = ", ".join(str(path) for path in stop.paths)
        print(f"\nbookbuild: interrupted ({stopped_by.name}) while executing {running}; "
              f"nothing of {'that notebook' if len(stop.paths) == 1 else 'those notebooks'} "
              "was cached. "
              f"Notebooks that finished stay cached in "
              f"{stop.cache_path}: run the same command again to resume from them.",
              file=sys.stderr)
        return stopped_by.status
    except KeyboardInterrupt:
        print(f"\nbookbuild: interrupted ({stopped_by.name}). Notebooks that finished "
              f"executing stay cached under {build_dir / 'jupyter_cache'}: run the same "
              "command again to resume from them.", file=sys.stderr)
        return stopped_by.status


def _build(args: argparse.Namespace, langs: list, cap: int | None, jobs: int,
           build_dir: Path, err: Console) -> int:
    if cap is not None:
        os.environ["D2L_MAX_EXAMPLES"] = str(cap)
        err.print(f"[bold yellow]Quick build: every run trains on a {cap}-example subset; "
                  "each page says so.[/]")
    else:
        os.environ.pop("D2L_MAX_EXAMPLES", None)
        err.print("Full build: every run trains on all of Fashion-MNIST.")

    try:
        expected = notebooks.expected_notebooks(ROOT)
        for lang in langs:  # each book's title and landing page, before any kernel
            landing.read_book_text(lang.code, ROOT)
    except (SourceError, landing.BookTextError) as error:
        print(f"bookbuild: {error}", file=sys.stderr)
        return 1
    english = ROOT / "chapters" / "en" / "scheduler.md"
    for lang in langs:  # the runs of every language are the English source's runs
        source = ROOT / "chapters" / lang.code / "scheduler.md"
        problems = [] if lang.code == "en" else translations.mirror_problems(source, english)
        if problems:
            print(f"bookbuild: {source} does not mirror {english}: " + "; ".join(problems)
                  + ". Fix the translation; nothing was executed.", file=sys.stderr)
            return 1
    stale = [p for p, text in expected.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if stale:
        err.print(f"[yellow]note: {len(stale)} committed notebooks are stale; this build uses "
                  "fresh ones. Run `python -m bookbuild --notebooks-only` and commit.[/]")
    try:
        claims = results.english_claims(ROOT, list(RUNS))
    except ClaimError as error:
        print(f"bookbuild: {error}", file=sys.stderr)
        return 1

    cache_path = execute.cache_dir(build_dir, ROOT)
    sources = [s for s in notebooks.chapter_sources(ROOT)
               if s.parent.name in {lang.code for lang in langs}]
    display = Display(err)
    timings: dict[str, tuple[bool, float]] = {}
    by_framework: dict[str, results.Histories] = {}
    merged: dict[Path, object] = {}
    labels: dict[Path, tuple[str, str, Path]] = {}  # by job.path: label, fw, committed

    def on_outcome(job: execute.Job, outcome: execute.Outcome) -> None:
        label, fw, committed = labels[job.path]
        merged[committed] = outcome.notebook
        # the first language's outcome: the others are served from the cache
        timings.setdefault(fw, (outcome.executed, outcome.seconds))
        if fw not in by_framework:
            stored = results.histories_of(outcome.notebook, label)
            # Notebook JSON sorts keys: list the runs in the chapter's order
            by_framework[fw] = {r: stored[r] for r in RUNS if r in stored} | stored
        display.finish(label, outcome)
        if not display.live:
            state = (f"executed in {outcome.seconds:.0f} s" if outcome.executed
                     else "cache hit")
            err.print(f"{label}: {state}")

    start = time.perf_counter()
    try:
        with display.progress:
            for first, group in ((True, sources[:1]), (False, sources[1:])):
                # The first language's notebooks execute (several at once); jupyter-cache
                # then serves the others, whose code is the same.
                batch = []
                for source in group:
                    for fw in FRAMEWORK_TAGS:
                        committed = notebooks.notebook_path(source, fw)
                        run_path = (build_dir / "notebooks"
                                    / committed.relative_to(ROOT / "chapters"))
                        run_path.parent.mkdir(parents=True, exist_ok=True)
                        # whole or not at all, even when Ctrl-C lands here
                        tmp = run_path.with_suffix(".ipynb.tmp")
                        tmp.write_text(expected[committed], encoding="utf-8")
                        tmp.replace(run_path)
                        label = f"{fw} ({source.parent.name})"
                        job = execute.Job(run_path, nbformat.reads(expected[committed],
                                                                   as_version=4),
                                          display.for_notebook(label))
                        labels[run_path] = (label, fw, committed)
                        batch.append(job)
                if not batch:
                    continue

                execute.execute_all(batch, cache_path,
                                    use_cache=not (args.no_cache and first),
                                    parallel=jobs, on_outcome=on_outcome)
        # in the chapter's tab order, whichever notebook finished first
        by_framework = {fw: by_framework[fw] for fw in FRAMEWORK_TAGS if fw in by_framework}
        problems = results.check_runs(by_framework, claims, capped=cap is not None)
        spread_ = spread_view.load(
            spread.DEFAULT_OUT,
            {fw: nbformat.reads(expected[notebooks.notebook_path(english, fw)], as_version=4)
             for fw in FRAMEWORK_TAGS},
            spread.compat_hash(ROOT))
        if spread_ is not None and not spread_.stale:
            # the committed full-data spread, whatever data this build trained on
            problems += spread_view.claim_problems(claims, spread_)
        if problems:
            _report(timings, by_framework)
            print("\nbookbuild: the executed runs do not support the page (their outputs "
                  f"stay cached in {cache_path}):\n  " + "\n  ".join(problems),
                  file=sys.stderr)
            return 1
        page_files = {}
        figures: dict[str, str] = {}  # the banded results figure per framework
        for source in sources:
            by_fw = {fw: merged[notebooks.notebook_path(source, fw)] for fw in FRAMEWORK_TAGS}
            page = pages.page_notebook(source, notebooks.read_source(source), by_fw)
            spread_view.decorate(page, landing.read_book_text(source.parent.name, ROOT),
                                 spread_, by_framework, capped=cap is not None,
                                 figures=figures)
            page_files[source.parent.name] = pages.write_page(
                pages.page_path(source, build_dir / "pages", ROOT), page)
        results_file = spread_view.write_explorer_data(
            build_dir / "pages" / "results.json",
            spread_view.explorer_data(by_framework, spread_, capped=cap is not None))
    except (execute.ExecutionError, execute.CacheError, pages.PageError,
            results.ResultsError, spread.SpreadError, ClaimError) as error:
        print(f"bookbuild: {error}", file=sys.stderr)
        return 1
    executed_at = time.perf_counter()
    for lang in langs:
        try:
            render.render(lang, page_files[lang.code], build_dir, ROOT, cap,
                          results_file=results_file)
        except subprocess.CalledProcessError:
            source = ROOT / "chapters" / lang.code / "scheduler.md"
            print(f"\nbookbuild: Jupyter Book could not render the {lang.code} book without "
                  f"warnings (shown above). Its page notebook {page_files[lang.code]} is made "
                  f"from {source}: a warning at scheduler.ipynb:CCLLLL points at line LLLL "
                  f"of that notebook's cell CC; fix the text in {source}.", file=sys.stderr)
            return 1
    render.write_root_redirect(build_dir, langs[0])
    end = time.perf_counter()

    _report(timings, by_framework)
    executed = sum(1 for ran, _ in timings.values() if ran)
    threads = kernel_env(jobs).get("OMP_NUM_THREADS")
    print(f"notebooks executed: {executed} of {len(sources) * len(FRAMEWORK_TAGS)}, "
          f"up to {jobs} at once"
          + (f" with {threads} compute thread(s) each" if executed and threads else ""))
    print(f"execution: {executed_at - start:.0f} s, rendering: {end - executed_at:.0f} s, "
          f"total: {end - start:.0f} s")
    if cap is None:
        print(f"checked: no diverged run; {len(claims)} claims of the text hold on every "
              "framework")
    else:
        print(f"checked: no diverged run. QUICK BUILD on a {cap}-example subset: the "
              "claims of the text were not checked and every page says so.")
    _report_spread(spread_, by_framework, claims, cap is not None)
    print(f"book: {build_dir / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
