"""Command line of the build: ``python -m bookbuild [--lang ko --lang zh] [--max-examples N]``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from . import execute, notebooks, pages, render
from .config import ROOT
from .languages import FRAMEWORK_TAGS, LANGUAGES, language


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bookbuild", description=__doc__)
    parser.add_argument(
        "--lang", action="append", metavar="CODE",
        help="build only this language (repeatable); default: all",
    )
    parser.add_argument(
        "--max-examples", type=int, metavar="N",
        help="cap train and test sets at N examples each (sets D2L_MAX_EXAMPLES) for a quick build",
    )
    parser.add_argument(
        "--notebooks-only", action="store_true",
        help="only regenerate the committed per-framework notebooks",
    )
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    log = logging.getLogger("bookbuild")

    try:
        langs = [language(code) for code in args.lang] if args.lang else list(LANGUAGES)
    except ValueError as err:
        parser.error(str(err))
    data_dir = os.environ.get("D2L_DATA_DIR")
    if data_dir:
        # Kernels run in each notebook's folder: a relative path must not change meaning.
        os.environ["D2L_DATA_DIR"] = str(Path(data_dir).resolve())
    if args.max_examples is not None:
        os.environ["D2L_MAX_EXAMPLES"] = str(args.max_examples)

    written = notebooks.write_notebooks(ROOT)
    log.info("per-framework notebooks up to date: %d", len(written))
    if args.notebooks_only:
        return 0

    sources = [ROOT / "chapters" / lang.code for lang in langs]
    chapter_sources = [s for s in notebooks.chapter_sources(ROOT) if s.parent in sources]
    to_run = [notebooks.notebook_path(s, fw) for s in chapter_sources for fw in FRAMEWORK_TAGS]
    timings: dict[str, float] = {}
    start = time.perf_counter()
    try:
        merged, executed = {}, []
        for path in to_run:
            t0 = time.perf_counter()
            done, ran = execute.execute([path], args.build_dir)
            merged.update(done)
            executed += ran
            if ran:
                timings[str(path.relative_to(ROOT))] = time.perf_counter() - t0
        for source in chapter_sources:
            by_fw = {fw: merged[notebooks.notebook_path(source, fw)] for fw in FRAMEWORK_TAGS}
            page = pages.page_notebook(source, notebooks.read_source(source), by_fw)
            pages.write_page(source, page)
    except (execute.ExecutionError, pages.PageError) as err:
        print(f"bookbuild: {err}", file=sys.stderr)
        return 1
    executed_at = time.perf_counter()
    for lang in langs:
        render.render(lang, args.build_dir, ROOT)
    render.write_root_redirect(args.build_dir, langs[0])
    end = time.perf_counter()

    print("\nexecuted (the rest were cache hits):")
    for path, seconds in timings.items():
        print(f"  {path}: {seconds:.0f} s")
    print(f"notebooks executed: {len(executed)} of {len(to_run)}")
    print(f"execution: {executed_at - start:.0f} s, rendering: {end - executed_at:.0f} s, "
          f"total: {end - start:.0f} s")
    print(f"book: {args.build_dir / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
