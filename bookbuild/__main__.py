"""`python -m bookbuild`: check the command line, take the build folder's lock, and run
the build's steps (:mod:`bookbuild.pipeline`); `--notebooks-only` regenerates the
committed notebooks instead. `python -m bookbuild --help` lists the options.

`python -m bookbuild translations ...` is the translators' check
(:mod:`bookbuild.translator`), which must run without the build's frameworks: so this
module imports the build's modules only once it knows it builds."""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import NoReturn


@dataclass
class _Stop:
    """What stopped the build: its name in messages, and the exit status."""

    name: str
    status: int


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["translations"]:
        from . import translator

        return translator.main(args[1:])
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
    from rich.console import Console

    from . import cli, execute, options, pipeline
    from .lock import BuildFolderBusy, build_folder_lock

    parser = cli.parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    if args.notebooks_only:
        return _notebooks_only()
    try:
        settings = cli.settings(args, os.environ)
        # no network and no data is one clear error here, not three kernels' tracebacks
        options.use_data(settings.data_dir)
    except ValueError as error:  # OptionError, or an unknown language
        parser.error(str(error))

    try:
        with build_folder_lock(settings.build_dir):
            return pipeline.build(settings, Console(stderr=True, highlight=False))
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
              f"executing stay cached under {settings.build_dir / 'jupyter_cache'}: run the "
              "same command again to resume from them.", file=sys.stderr)
        return stopped_by.status


def _notebooks_only() -> int:
    from . import notebooks
    from .config import ROOT
    from .sources import SourceError

    try:
        written = notebooks.write_notebooks(ROOT)
    except SourceError as error:
        print(f"bookbuild: {error} No notebook was written.", file=sys.stderr)
        return 1
    print(f"per-framework notebooks up to date: {len(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
