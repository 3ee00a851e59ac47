"""The command line of `python -m bookbuild`: its options, checked into
:class:`bookbuild.settings.Settings` before anything slow starts."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn

from . import options
from .config import ROOT
from .settings import Settings
from .vocabulary import (
    DATA_DIR_ENV,
    FRAMEWORK_TAGS,
    LANGUAGES,
    MAX_EXAMPLES_ENV,
    language,
)

DESCRIPTION = f"""\
Build the book: split each chapter source into per-framework notebooks, execute them
(or fetch their outputs from the cache), check the runs, merge the outputs into one
tabbed page per language, and render one Jupyter Book per language.

Everything the build writes goes under --build-dir. The full build trains every run on
all of Fashion-MNIST: about 30 minutes on 2 CPU cores; a quick build with
--max-examples 100 takes a few minutes; either takes seconds when nothing changed.

Environment:
  {DATA_DIR_ENV}      the folder with the four Fashion-MNIST .gz files (~ is expanded;
                    unset: d2l_compat looks in its cache and may download them)
  {MAX_EXAMPLES_ENV}  N, like --max-examples N: train on a fixed N-example subset (a
                    quick build, marked as such on every page)

`python -m bookbuild translations --help`: the translators' check (no framework needed).

Every option is checked before a kernel starts. Ctrl-C (exit status 130) or SIGTERM
(143) stops the build: the running kernels are interrupted and shut down, what finished
executing stays cached, and the same command resumes from it.
"""


class Parser(argparse.ArgumentParser):
    """argparse, with each error as one paragraph (no usage block above it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the "
                     "options.)\n")


def parser() -> Parser:
    p = Parser(prog="python -m bookbuild", description=DESCRIPTION,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--lang", action="append", metavar="CODE",
        help="build only this language (repeatable; one of "
             f"{', '.join(lang.code for lang in LANGUAGES)}); default: all",
    )
    p.add_argument(
        "--max-examples", metavar="N",
        help="train on a fixed, class-balanced N-example subset for a quick build (a "
             f"positive multiple of 10; overrides {MAX_EXAMPLES_ENV}); default: all data",
    )
    p.add_argument(
        "--notebooks-only", action="store_true",
        help="only regenerate the committed per-framework notebooks (writes chapters/)",
    )
    p.add_argument(
        "--no-cache", action="store_true",
        help="execute every notebook even when its outputs are cached",
    )
    p.add_argument(
        "--jobs", metavar="N",
        help="how many framework notebooks execute at once, each kernel's frameworks "
             "then using N-th of the CPU cores, at least one thread (default: all 3)",
    )
    p.add_argument(
        "--pdf", action="store_true",
        help="also print each language's chapter as one PDF per framework, with headless "
             "Chromium, into html/<lang>/pdf/ (and link them from the pages)",
    )
    p.add_argument("--build-dir", type=Path, default=ROOT / "_build",
                   help="where everything the build writes goes (default: _build)")
    return p


def settings(args: argparse.Namespace, environ: os._Environ[str] | dict[str, str]
             ) -> Settings:
    """The checked settings of a build with the command line `args` in `environ`.

    Raises ValueError (an :class:`bookbuild.options.OptionError`, or an unknown
    language) whose message is one paragraph: what was wrong and what to do. Verifying
    the data (:func:`bookbuild.options.use_data`) is left to the caller: it may load
    the data for a second.
    """
    langs = tuple(language(code) for code in args.lang) if args.lang else LANGUAGES
    if args.max_examples is not None:
        cap = options.max_examples(args.max_examples, "--max-examples")
    else:
        value = environ.get(MAX_EXAMPLES_ENV, "")
        cap = options.max_examples(value, MAX_EXAMPLES_ENV) if value.strip() else None
    if args.pdf:
        options.pdf_printer()
    return Settings(
        langs=langs,
        max_examples=cap,
        jobs=options.jobs(args.jobs, len(FRAMEWORK_TAGS)),
        build_dir=options.build_dir(args.build_dir, ROOT),
        data_dir=options.data_dir(environ.get(DATA_DIR_ENV)),
        use_cache=not args.no_cache,
        pdf=args.pdf,
    )
