"""The build, step by step: sources → notebooks → execute → check → pages → render →
PDFs (--pdf) → publish.

:func:`build` reads as those steps; each is a function below that hands its work to
the module with that one job and returns what the next step needs. Every step gets the
checked :class:`bookbuild.settings.Settings`. A step that finds a problem raises
:class:`Failed` with one paragraph for the user; nothing is published then.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from rich.console import Console

from . import (
    execute,
    freshness,
    landing,
    mirror,
    notebooks,
    pages,
    pdf,
    render,
    results,
    spread_file,
    spread_view,
    summary,
)
from . import figures as page_figures
from .cache import describe, disk_full
from .claims import Claim, ClaimError
from .files import write_text_atomic
from .progress import Display
from .settings import Settings
from .sources import SourceError
from .vocabulary import CHAPTER, FRAMEWORK_TAGS, RUNS, SOURCE_LANGUAGE, chapter_source


class Failed(Exception):
    """A step found a problem; the message says what and what to do."""


# The errors each module raises with a message for the user, as they are.
TOLD = (SourceError, landing.BookTextError, ClaimError, execute.ExecutionError,
        execute.CacheError, pages.PageError, results.ResultsError, spread_file.SpreadError,
        pdf.PdfError)


def build(settings: Settings, err: Console) -> int:
    """Build the book as `settings` say; the exit status (0: published)."""
    announce(settings, err)
    start = time.perf_counter()
    try:
        sources = check_sources(settings, err)
        executed = execute_notebooks(settings, sources, err)
        spread_ = check_runs(settings, sources, executed)
        page_files, results_file = write_pages(settings, sources, executed, spread_)
        executed_at = time.perf_counter()
        rendered = render_books(settings, page_files, results_file)
        pdfs_at = time.perf_counter()
        printed = make_pdfs(settings, rendered, err)
        pdf_seconds = time.perf_counter() - pdfs_at
        publish_books(settings, rendered)
    except TOLD as error:
        print(f"bookbuild: {error}", file=sys.stderr)
        return 1
    except Failed as error:
        print(f"\nbookbuild: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # writing into the build folder
        todo = ("Free space on that disk (or give --build-dir on another one)"
                if disk_full(error) else "Check the build folder's permissions")
        print(f"\nbookbuild: could not write the build's files: {describe(error)}. {todo}, "
              "then run the same command again: executed notebooks stay cached, and the "
              "book published before stays whole until a new one is complete.",
              file=sys.stderr)
        return 1
    summary.report(settings, executed.timings, executed.by_framework, sources.claims,
                   spread_, len(sources.chapters) * len(FRAMEWORK_TAGS),
                   (executed_at - start, time.perf_counter() - executed_at - pdf_seconds),
                   (printed, pdf_seconds) if settings.pdf else None)
    return 0


def announce(settings: Settings, err: Console) -> None:
    if settings.capped:
        err.print(f"[bold yellow]Quick build: every run trains on a "
                  f"{settings.max_examples}-example subset; each page says so.[/]")
    else:
        err.print("Full build: every run trains on all of Fashion-MNIST.")


# ------------------------------------------------------------------ sources


@dataclass
class Sources:
    """The checked sources: each language's chapter, the notebooks generated from them
    (by committed path), the English text's claims, and each language's sections whose
    English changed since they were translated (translated headings; none for English)."""

    chapters: list[Path]
    english: Path
    expected: dict[Path, str]
    claims: list[Claim]
    behind: dict[str, list[str]]


def check_sources(settings: Settings, err: Console) -> Sources:
    """Every language's source, book text and mirror of English, and the claims,
    before any kernel starts."""
    root = settings.root
    expected = notebooks.expected_notebooks(root)
    for lang in settings.langs:  # each book's title and landing page
        landing.read_book_text(lang.code, root)
    english = chapter_source(root)
    for lang in settings.langs:  # the runs of every language are the English source's
        source = chapter_source(root, lang.code)
        problems = ([] if lang.code == SOURCE_LANGUAGE
                    else mirror.mirror_problems(source, english))
        if problems:
            raise Failed(f"{source} does not mirror {english}: " + "; ".join(problems)
                         + ". Fix the translation; nothing was executed.")
    stale = [p for p, text in expected.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if stale:
        err.print(f"[yellow]note: {len(stale)} committed notebooks are stale; this build uses "
                  "fresh ones. Run `python -m bookbuild --notebooks-only` and commit.[/]")
    behind = {lang.code: freshness.stale_headings(root, lang.code) for lang in settings.langs}
    for code, headings in behind.items():
        if headings:
            err.print(f"[yellow]note: the {code} translation lags behind the English "
                      f"in {', '.join(headings)}; its page says so. `python -m bookbuild "
                      f"translations {code}` shows what changed.[/]")
    codes = {lang.code for lang in settings.langs}
    chapters = [s for s in notebooks.chapter_sources(root) if s.parent.name in codes]
    return Sources(chapters, english, expected, results.english_claims(root, list(RUNS)),
                   behind)


# ------------------------------------------------------------------ notebooks, execute


@dataclass
class Executed:
    """Each committed notebook's executed copy, each framework's histories (in tab
    order) and (executed?, seconds) of its first language."""

    notebooks: dict[Path, nbformat.NotebookNode] = field(default_factory=dict)
    by_framework: dict[str, results.Histories] = field(default_factory=dict)
    timings: dict[str, tuple[bool, float]] = field(default_factory=dict)


def execute_notebooks(settings: Settings, sources: Sources, err: Console) -> Executed:
    """Write each language's framework notebooks into the build folder and execute
    them: the first language's several at once; jupyter-cache then serves the others,
    whose code is the same."""
    display = Display(err)
    done = Executed()
    where: dict[Path, tuple[str, str, Path]] = {}  # by run path: label, fw, committed

    def on_outcome(job: execute.Job, outcome: execute.Outcome) -> None:
        label, fw, committed = where[job.path]
        done.notebooks[committed] = outcome.notebook
        done.timings.setdefault(fw, (outcome.executed, outcome.seconds))
        if fw not in done.by_framework:
            stored = results.histories_of(outcome.notebook, label)
            # Notebook JSON sorts keys: list the runs in the chapter's order
            done.by_framework[fw] = {r: stored[r] for r in RUNS if r in stored} | stored
        display.finish(label, outcome)
        if not display.live:
            err.print(f"{label}: " + (f"executed in {outcome.seconds:.0f} s"
                                      if outcome.executed else "cache hit"))

    with display.progress:
        for first, group in ((True, sources.chapters[:1]), (False, sources.chapters[1:])):
            batch = []
            for source in group:
                for fw in FRAMEWORK_TAGS:
                    committed = notebooks.notebook_path(source, fw)
                    run_path = (settings.build_dir / "notebooks"
                                / committed.relative_to(settings.root / "chapters"))
                    # whole or not at all, even when Ctrl-C lands here
                    write_text_atomic(run_path, sources.expected[committed])
                    label = f"{fw} ({source.parent.name})"
                    where[run_path] = (label, fw, committed)
                    nb = nbformat.reads(sources.expected[committed], as_version=4)
                    batch.append(execute.Job(run_path, nb, display.for_notebook(label)))
            if batch:
                execute.execute_all(batch, settings.cache_path,
                                    use_cache=settings.use_cache or not first,
                                    parallel=settings.jobs, env=settings.kernel_env(),
                                    on_outcome=on_outcome)
    # in the chapter's tab order, whichever notebook finished first
    done.by_framework = {fw: done.by_framework[fw] for fw in FRAMEWORK_TAGS
                         if fw in done.by_framework}
    return done


# ------------------------------------------------------------------ check


def check_runs(settings: Settings, sources: Sources,
               executed: Executed) -> spread_view.Spread | None:
    """No run diverged, and the text's claims hold on this build's runs (a full build)
    and on every seed of the committed spread (while it is up to date); the spread."""
    problems = results.check_runs(executed.by_framework, sources.claims,
                                  capped=settings.capped)
    english = sources.english
    spread_ = spread_view.load(
        spread_file.DEFAULT_OUT,
        {fw: nbformat.reads(sources.expected[notebooks.notebook_path(english, fw)],
                            as_version=4) for fw in FRAMEWORK_TAGS},
        spread_file.compat_hash(settings.root))
    if spread_ is not None and not spread_.stale:
        # the committed full-data spread, whatever data this build trained on
        problems += spread_view.claim_problems(sources.claims, spread_)
    if problems:
        summary.executions(executed.timings, executed.by_framework)
        raise Failed("the executed runs do not support the page (their outputs stay "
                     f"cached in {settings.cache_path}):\n  " + "\n  ".join(problems))
    return spread_


# ------------------------------------------------------------------ pages


def write_pages(settings: Settings, sources: Sources, executed: Executed,
                spread_: spread_view.Spread | None) -> tuple[dict[str, Path], Path]:
    """Each language's tabbed page notebook, with the spread's table and figure, and
    the results explorer's data: (page by language code, the data file)."""
    page_files = {}
    figures: dict[str, str] = {}  # the banded results figure per framework
    for source in sources.chapters:
        by_fw = {fw: executed.notebooks[notebooks.notebook_path(source, fw)]
                 for fw in FRAMEWORK_TAGS}
        page = pages.page_notebook(source, notebooks.read_source(source), by_fw)
        text = landing.read_book_text(source.parent.name, settings.root)
        lang = source.parent.name
        words = page_figures.page_words(text, page_figures.labels_of(page),
                                        source=lang == SOURCE_LANGUAGE)
        spread_view.decorate(page, text, spread_, executed.by_framework,
                             capped=settings.capped, figures=figures, runs=words)
        # every figure's text alternative, from the runs this language's notebooks
        # trained, and its words (and the results table's) in the page's language
        page_figures.describe(page, text, {fw: results.histories_of(nb, f"{fw} ({source})")
                                           for fw, nb in by_fw.items()}, lang=lang)
        # a translation whose English changed since it was translated says so, naming
        # those sections (docs/translating.md)
        if sources.behind[lang]:
            pages.add_stale_notice(page, text.line(
                "stale_translation", sections=text.listing(sources.behind[lang])))
        page_files[source.parent.name] = pages.write_page(
            pages.page_path(source, settings.build_dir / "pages", settings.root), page)
    results_file = spread_view.write_explorer_data(
        settings.build_dir / "pages" / "results.json",
        spread_view.explorer_data(executed.by_framework, spread_, capped=settings.capped))
    return page_files, results_file


# ------------------------------------------------------------------ render


def render_books(settings: Settings, page_files: dict[str, Path],
                 results_file: Path) -> dict[str, Path]:
    """One Jupyter Book per language, each rendered into its own folder of the build
    (published by :func:`publish_books`): the folder by language code."""
    rendered = {}
    for lang in settings.langs:
        try:
            rendered[lang.code] = render.render(
                lang, page_files[lang.code], settings.build_dir, settings.root,
                settings.max_examples, results_file=results_file, pdf=settings.pdf)
        except subprocess.CalledProcessError as error:
            source = chapter_source(settings.root, lang.code)
            if render.ran_out_of_space(error, settings.build_dir):
                raise OSError(28, "No space left on device", str(settings.build_dir)) \
                    from None
            raise Failed(
                f"Jupyter Book could not render the {lang.code} book without warnings "
                f"(shown above). Its page notebook {page_files[lang.code]} is made from "
                f"{source}: a warning at {CHAPTER}.ipynb:CCLLLL points at line LLLL of "
                f"that notebook's cell CC; fix the text in {source}.") from None
    return rendered


def make_pdfs(settings: Settings, rendered: dict[str, Path], err: Console
              ) -> list[pdf.Printed]:
    """With --pdf, each rendered book's chapter as a PDF per framework, in its folder."""
    if not settings.pdf:
        return []
    err.print(f"printing {len(rendered) * len(FRAMEWORK_TAGS)} PDFs with Chromium")
    return pdf.make_pdfs(rendered, settings.root, lambda done, seconds: err.print(
        f"PDF {done.lang} {done.framework}: {done.pages} pages ({seconds:.1f} s)"))


def publish_books(settings: Settings, rendered: dict[str, Path]) -> None:
    """Each rendered book (with its PDFs) published whole, then the root page."""
    for code, html in rendered.items():
        render.publish(html, settings.build_dir / "html" / code)
    render.write_root_redirect(settings.build_dir, settings.langs[0], settings.root)
