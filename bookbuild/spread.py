"""Measure the seed spread: the chapter's five training runs for several seeds on every
framework, on all of Fashion-MNIST, written to ``chapters/results/seed_spread.json``.

Each (framework, seed) is one execution of the framework's generated English notebook
(``chapters/en/notebooks/scheduler_<framework>.ipynb``) by the build's own executor, with
the build's kernel environment and thread settings. Seed 0 is the notebook exactly as
the book's build runs it; another seed gets, after the notebook's ``parameters`` cell
(which sets ``seed = 0``), one more cell ``seed = <s>``, as papermill injects
parameters. The run's histories come from the notebook's results cell, as in the build.

Executions are cached in the build folder's jupyter-cache (the full build's own, so seed
0 is shared with the book's build), and the data file is rewritten after every finished
notebook: after Ctrl-C or a crash, the same command resumes where it stopped, losing at
most the notebooks that were running. The file records, per framework, a hash of the
notebook's code and the framework versions, and once a hash of ``d2l_compat``, the
thread settings, the CPU and the date of every execution: the build compares the hashes
with the notebooks it builds and says on every page when the spread is stale.

Environment: ``D2L_DATA_DIR`` as for the build (the data are checked before anything
runs).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import nbformat
from rich.console import Console

from . import execute, notebooks, options, results
from .config import ROOT
from .kernel_env import THREAD_VARIABLES, kernel_env
from .lock import BuildFolderBusy, build_folder_lock
from .progress import Display
from .settings import kernel_environment
from .spread_file import (
    DEFAULT_OUT,
    FORMAT,
    SpreadError,
    code_hash,
    compat_hash,
    read_spread,
    summary,
    write_spread,
)
from .vocabulary import (
    CHAPTER,
    DATA_DIR_ENV,
    FRAMEWORK_DISTS,
    FRAMEWORK_TAGS,
    RUNS,
    chapter_source,
)

DEFAULT_SEEDS = (0, 1, 2, 3, 4)


# ------------------------------------------------------------ provenance


def versions(framework: str) -> dict[str, str]:
    found = {}
    for dist in FRAMEWORK_DISTS[framework]:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_threads() -> dict[str, str]:
    """The thread variables the full build's kernels get on this machine (it runs its
    three notebooks at once), so the spread computes with the same settings."""
    env = kernel_env(len(FRAMEWORK_TAGS))
    return {name: os.environ.get(name, env.get(name, "")) for name in THREAD_VARIABLES}


# ------------------------------------------------------------ notebooks per seed


def english_notebook(framework: str, root: Path = ROOT) -> nbformat.NotebookNode:
    """The generated English notebook of `framework`, as the build executes it."""
    text = notebooks.expected_notebooks(root)[notebooks.notebook_path(chapter_source(root),
                                                                      framework)]
    return nbformat.reads(text, as_version=4)


def with_seed(nb: nbformat.NotebookNode, seed: int) -> nbformat.NotebookNode:
    """`nb` for `seed`: unchanged for seed 0 (the book's run); otherwise with a cell
    ``seed = <seed>`` right after the cell tagged ``parameters``.

    Raises SpreadError when no cell is tagged ``parameters``.
    """
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    where = [i for i, c in enumerate(copy.cells)
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not where:
        raise SpreadError("the chapter's notebooks have no code cell tagged `parameters` "
                          "(the one that sets `seed = 0`); add it to the chapter source")
    if seed != 0:
        cell = nbformat.v4.new_code_cell(f"seed = {seed}")
        cell.metadata["tags"] = ["injected-parameters"]
        copy.cells.insert(where[0] + 1, cell)
    return copy


# ------------------------------------------------------------ the command


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the "
                     "options.)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m bookbuild.spread", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", action="append", metavar="NAME",
                        choices=FRAMEWORK_TAGS,
                        help="measure only this framework (repeatable; one of "
                             f"{', '.join(FRAMEWORK_TAGS)}); default: all")
    parser.add_argument("--seed", action="append", metavar="S", type=int,
                        help="measure only this seed (repeatable); default: "
                             f"{' '.join(map(str, DEFAULT_SEEDS))}")
    parser.add_argument("--jobs", metavar="N",
                        help="how many notebooks execute at once (default: 2). Each kernel "
                             "gets the full build's thread settings whatever this is.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="the data file (default: chapters/results/seed_spread.json)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build",
                        help="whose execution cache to use (default: _build, the full "
                             "build's, which then serves seed 0 to the build)")
    parser.add_argument("--max-examples", metavar="N",
                        help="a smoke run on an N-example subset; needs an --out other "
                             "than the book's file")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    err = Console(stderr=True, highlight=False)
    frameworks = [fw for fw in FRAMEWORK_TAGS if fw in (args.framework or FRAMEWORK_TAGS)]
    seeds = sorted(set(args.seed if args.seed is not None else DEFAULT_SEEDS))
    out = args.out.expanduser().absolute()
    try:
        if any(s < 0 for s in seeds):
            raise ValueError(f"--seed must be >= 0; got {min(seeds)}")
        jobs = options.jobs(args.jobs if args.jobs is not None else "2", 10**6)
        cap = (options.max_examples(args.max_examples, "--max-examples")
               if args.max_examples is not None else None)
        if cap is not None and out == DEFAULT_OUT:
            raise ValueError("--max-examples needs --out: the book's spread file holds "
                             "full-data runs only")
        build_dir = options.build_dir(args.build_dir, ROOT)
        data_dir = options.data_dir(os.environ.get(DATA_DIR_ENV))
        probe = options.write_probe(options.nearest_existing(out.parent))
        if probe is not None:
            raise ValueError(f"--out {out}: its folder cannot be written ({probe})")
        options.use_data(data_dir)
    except ValueError as error:  # OptionError included
        parser.error(str(error))
    threads = build_threads()
    # the full build's kernel settings whatever --jobs is, then the data and subset
    env = kernel_environment(len(FRAMEWORK_TAGS), data_dir, cap)
    try:
        with build_folder_lock(build_dir):
            return _measure(frameworks, seeds, jobs, cap, out, build_dir, threads, env, err)
    except (SpreadError, BuildFolderBusy) as error:
        print(f"bookbuild.spread: {error}", file=sys.stderr)
        return 1
    except execute.Interrupted as stop:
        print(f"\nbookbuild.spread: interrupted while executing "
              f"{', '.join(p.name for p in stop.paths)}. Every finished notebook is in "
              f"{out}: run the same command again to resume.", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"\nbookbuild.spread: interrupted. Every finished notebook is in {out}: run "
              "the same command again to resume.", file=sys.stderr)
        return 130


def _measure(frameworks: list[str], seeds: list[int], jobs: int, cap: int | None, out: Path,
             build_dir: Path, threads: dict[str, str], env: dict[str, str],
             err: Console) -> int:
    data = read_spread(out) or {}
    compat = compat_hash()
    here = {"max_examples": cap, "d2l_compat": compat, "threads": threads}
    if data and {k: data.get(k) for k in here} != here:
        old = {k: data.get(k) for k in here}
        err.print(f"[yellow]{out} was measured with {old}; this run has {here}: its "
                  "records are replaced as the new runs finish.[/]")
        data = {}
    data = {"format": FORMAT,
            "about": "Seed spread of the chapter's five training runs, written by "
                     "`python -m bookbuild.spread`; do not edit by hand.",
            "runs": list(RUNS), **here, "cpu": cpu_model(), "cores": os.cpu_count(),
            "python": platform.python_version(),
            "frameworks": data.get("frameworks", {})}
    jobs_list: list[execute.Job] = []
    todo: dict[Path, tuple[str, int]] = {}
    display = Display(err)
    work = build_dir / "spread"
    for fw in frameworks:
        nb = english_notebook(fw)
        entry = data["frameworks"].get(fw)
        current = {"notebook": code_hash(nb), "versions": versions(fw)}
        if entry and {k: entry.get(k) for k in current} != current:
            err.print(f"[yellow]{fw}: the recorded spread is of other code or versions "
                      f"({ {k: entry.get(k) for k in current} }); measuring again.[/]")
            entry = None
        entry = data["frameworks"][fw] = (entry or current | {"seeds": {}})
        for seed in seeds:
            if str(seed) in entry["seeds"]:
                continue
            path = work / f"{CHAPTER}_{fw}_seed{seed}.ipynb"
            todo[path] = (fw, seed)
    # seed-major: an interruption leaves whole seeds on every framework
    order = sorted(todo.items(), key=lambda kv: (kv[1][1], frameworks.index(kv[1][0])))
    for path, (fw, seed) in order:
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = with_seed(english_notebook(fw), seed)
        nbformat.write(nb, str(path))
        jobs_list.append(execute.Job(path, nb, display.for_notebook(f"{fw} seed {seed}")))
    total = len(jobs_list)
    skipped = len(frameworks) * len(seeds) - total
    err.print(f"seed spread: {total} notebooks to execute ({skipped} already in {out.name}), "
              f"{'all data' if cap is None else f'{cap}-example subset'}, up to {jobs} at "
              f"once, threads {threads}")
    finished = 0
    start = time.perf_counter()

    def on_outcome(job: execute.Job, outcome: execute.Outcome) -> None:
        nonlocal finished
        fw, seed = todo[job.path]
        histories = results.histories_of(outcome.notebook, job.path.name)
        data["frameworks"][fw]["seeds"][str(seed)] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(outcome.seconds, 1),
            "cached": not outcome.executed,
            "histories": {run: histories[run] for run in RUNS if run in histories},
        }
        finished += 1
        write_spread(out, data)
        display.progress.update(overall, completed=finished,
                                description=f"seed spread: {finished} of {total} notebooks")
        display.finish(f"{fw} seed {seed}", outcome)
        err.print(f"{finished}/{total} done: {fw} seed {seed} "
                  f"({'executed' if outcome.executed else 'from the cache'} in "
                  f"{outcome.seconds:.0f} s; {time.perf_counter() - start:.0f} s so far)")

    cache_path = execute.cache_dir(build_dir, ROOT, cap)
    overall = display.progress.add_task(f"seed spread: 0 of {total} notebooks", total=total)
    if jobs_list:
        with display.progress:
            try:
                execute.execute_all(jobs_list, cache_path, parallel=jobs, env=env,
                                    on_outcome=on_outcome)
            except execute.ExecutionError as error:
                raise SpreadError(str(error)) from None
    write_spread(out, data)
    print(summary(data))
    print(f"\nseed spread: {finished} notebooks executed or served from the cache in "
          f"{time.perf_counter() - start:.0f} s; {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
