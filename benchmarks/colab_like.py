"""Run each framework's notebook the way Colab would, in a Colab-like environment.

What it builds, per runtime (``3.13``: Colab's default runtime; ``3.12``: runtime
version 26.07, chosen with Colab's "Change runtime version"):

* a *base* venv of that Python with the packages Colab preinstalls (``COLAB_PACKAGES``:
  numpy 2, torch 2.x, TensorFlow 2.20, ipywidgets 7.7.1, IPython's kernel, matplotlib,
  pandas) and a stand-in ``google.colab`` module;
* per run, a fresh *overlay* venv: an empty venv of the same Python whose
  ``site-packages`` is searched before the base's (a ``.pth`` file), so whatever the
  notebook's install cell installs or replaces lands in the overlay and the base stays as
  Colab ships it for the next run. (pip reports the base's copies as "outside
  environment" and installs the replacement in the overlay, which shadows them.)

The kernel runs the overlay's Python with an IPython startup file that does
``import google.colab``, and the stand-in imports numpy, so numpy is loaded before the
first cell runs, as on Colab. The notebook (``chapters/<lang>/notebooks/
scheduler_<framework>.ipynb`` of this checkout) is executed with nbclient unchanged but
for the install cell's repository URL: ``git+<_config.yml's repository.url>@<branch>``
becomes ``git+file://<this checkout>@<its HEAD commit>``, so pip installs d2l_compat from
this checkout's *committed* state (uncommitted changes to d2l_compat or pyproject.toml are
not seen; the script says so). The kernel gets ``D2L_DATA_DIR`` and
``D2L_MAX_EXAMPLES`` (default 100). When a cell stops with the install cell's
``RestartSession`` error, the kernel is replaced by a new one (Colab's "Restart
session") and the notebook runs again from the top, once.

Each run reports: passed or failed (the failing cell and error), whether the session was
restarted, the seconds of the install cell(s) and of the whole run, and which packages the
install cell put into the overlay, with the base's version each one shadows (PyTorch and
TensorFlow must shadow none of torch, tensorflow, numpy, ipywidgets). The executed
notebooks (with pip's output) are kept under ``<work-dir>/runs/``.

torch: PyPI has only CUDA builds of torch for Linux x86_64 on Python 3.12 and 3.13 (the
CPU builds live on PyTorch's own index, not reachable from the project machines), so the
base venvs get ``torch==2.14.1``, the CUDA build, which runs on the CPU here; on the
project machines its NVIDIA libraries come from the local wheel folder, and only torch
itself (about 530 MB) and triton are downloaded. Each base venv takes about 8 GB; they
are kept in ``--work-dir`` and reused while ``COLAB_PACKAGES`` is unchanged
(``--rebuild`` makes them again; ``--clean`` deletes the work dir at the end).

Usage (from the repository root, with the project's venv)::

    D2L_DATA_DIR=/path/to/fashion-mnist .venv/bin/python benchmarks/colab_like.py \\
        [--run pytorch@3.13 --run tensorflow@3.13 --run mxnet@3.12 --run mxnet@3.13] \\
        [--python 3.13=/usr/bin/python3.13] [--work-dir DIR] [--max-examples 100]

Default runs: the four above. Measured on a shared 2-core machine: base venvs 18 min
(3.12) and 11 min (3.13), made once; then PyTorch 15 s to 2.4 min and TensorFlow 23 to 40 s
(by the machine's load), MXNet on 3.12 under a minute, MXNet on 3.13 4 min (17 min at a
load of 12), nearly all of it pip compiling numpy 1.26.4 (``--pip-cache`` reuses the wheel
pip built, then it takes seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bookbuild.config import repository  # noqa: E402
from bookbuild.notebooks import notebook_path  # noqa: E402
from bookbuild.vocabulary import (  # noqa: E402
    DATA_DIR_ENV,
    FRAMEWORK_TAGS,
    LANGUAGES,
    MAX_EXAMPLES_ENV,
    SOURCE_LANGUAGE,
    chapter_source,
)

RUNTIMES = ("3.12", "3.13")
DEFAULT_RUNS = ("pytorch@3.13", "tensorflow@3.13", "mxnet@3.12", "mxnet@3.13")
DEFAULT_PYTHONS = {v: f"/root/.pyenv/versions/{v}" for v in ("3.12.1", "3.13.0")}
# What Colab's runtimes ship that matters to the notebooks (Colab ships many more).
COLAB_PACKAGES = (
    # pip older than 23.3 rejects the install cell's local git+file:/// URL
    "pip==24.2", "numpy==2.2.6", "torch==2.14.1", "tensorflow==2.20.0", "ipywidgets==7.7.1",
    "ipykernel==6.31.0", "matplotlib==3.10.7", "pandas==2.2.3",
)
# Packages a PyTorch or TensorFlow install cell must leave as Colab ships them.
KEEP = ("torch", "tensorflow", "numpy", "ipywidgets", "keras", "matplotlib", "pandas")
STAND_IN = '''"""Stand-in for Colab's google.colab: its presence tells notebooks they run on Colab.

Colab's kernel has numpy loaded before the first cell runs; importing it here (from an
IPython startup file) reproduces that.
"""
import numpy  # noqa: F401
'''
RESTART_ERROR = "RestartSession"


class UsageError(Exception):
    """Bad command-line input: the message says what was wrong and what to do."""


@dataclass
class Result:
    """The outcome of one notebook run."""

    framework: str
    runtime: str
    passed: bool = False
    restarted: bool = False
    install_seconds: list[float] = field(default_factory=list)
    total_seconds: float = 0.0
    error: str = ""
    installed: list[str] = field(default_factory=list)
    shadowed_kept: list[str] = field(default_factory=list)
    notebook: Path | None = None


def _python_version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def _find_python(runtime: str, given: dict[str, str]) -> Path:
    """The interpreter for `runtime` ("3.13"): --python, else pyenv's, else PATH's."""
    candidates = [given[runtime]] if runtime in given else [
        *(f"{d}/bin/python" for k, d in DEFAULT_PYTHONS.items() if k.startswith(runtime + ".")),
        shutil.which(f"python{runtime}") or "",
    ]
    for cand in candidates:
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            if _python_version(Path(cand)) != runtime:
                raise UsageError(f"--python {runtime}={cand}: that interpreter is not Python "
                                 f"{runtime}; give one that is.")
            return Path(cand)
    looked = ", ".join(c for c in candidates if c)
    raise UsageError(f"no Python {runtime} found (looked at: {looked}); "
                     f"pass one with --python {runtime}=/path/to/python{runtime}.")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options, validated; UsageError says what was wrong."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Needs D2L_DATA_DIR (or --data-dir): the Fashion-MNIST files. First run: up to "
               "an hour on 2 cores and about 16 GB in --work-dir.")
    parser.add_argument("--run", action="append", metavar="FRAMEWORK@RUNTIME",
                        help=f"a notebook and runtime to run (repeatable; default: "
                             f"{' '.join(DEFAULT_RUNS)})")
    parser.add_argument("--python", action="append", default=[], metavar="RUNTIME=PATH",
                        help="interpreter of a runtime, e.g. 3.13=/usr/bin/python3.13")
    parser.add_argument("--lang", default=SOURCE_LANGUAGE,
                        choices=[lang.code for lang in LANGUAGES],
                        help=f"chapter language folder (default {SOURCE_LANGUAGE})")
    parser.add_argument("--data-dir", default=os.environ.get(DATA_DIR_ENV),
                        help=f"Fashion-MNIST folder (default ${DATA_DIR_ENV})")
    parser.add_argument("--max-examples", type=int, default=100,
                        help=f"{MAX_EXAMPLES_ENV} for the kernels (default 100)")
    parser.add_argument("--work-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "d2l-colab-like",
                        help="base venvs and runs (default: %(default)s)")
    parser.add_argument("--cell-timeout", type=int, default=1800,
                        help="seconds one cell may take (default 1800)")
    parser.add_argument("--pip-cache", action="store_true",
                        help="let the install cells use pip's cache (default: none, as on a "
                             "new Colab session; MXNet on 3.13 then compiles numpy each time)")
    parser.add_argument("--rebuild", action="store_true", help="make the base venvs again")
    parser.add_argument("--clean", action="store_true",
                        help="delete the work dir (base venvs included) at the end")
    args = parser.parse_args(argv)
    try:
        args.runs = _parse_runs(args.run or list(DEFAULT_RUNS))
        given = {}
        for item in args.python:
            runtime, sep, path = item.partition("=")
            if not sep or runtime not in RUNTIMES:
                raise UsageError(f"--python {item!r}: expected RUNTIME=PATH with RUNTIME one of "
                                 f"{', '.join(RUNTIMES)}.")
            given[runtime] = path
        args.pythons = {rt: _find_python(rt, given) for rt in sorted({rt for _, rt in args.runs})}
        if not args.data_dir:
            raise UsageError(f"no data: set {DATA_DIR_ENV} (or --data-dir) to the folder "
                             "holding the four Fashion-MNIST .gz files.")
        args.data_dir = Path(args.data_dir).expanduser().resolve()
        if not any(args.data_dir.glob("*-images-idx3-ubyte.gz")):
            raise UsageError(f"--data-dir {args.data_dir}: no Fashion-MNIST files there "
                             f"(train-images-idx3-ubyte.gz, ...); point it at the folder "
                             f"that holds them.")
        if args.max_examples < 10 or args.max_examples % 10:
            raise UsageError(f"--max-examples {args.max_examples}: give a multiple of 10 "
                             f"(one class-balanced share per class), at least 10.")
        if args.cell_timeout <= 0:
            raise UsageError("--cell-timeout must be a positive number of seconds.")
        for framework, _ in args.runs:
            path = _notebook(args.lang, framework)
            if not path.exists():
                raise UsageError(f"--lang {args.lang}: {path} does not exist; use a language "
                                 f"folder under chapters/.")
        if args.work_dir.exists() and not args.work_dir.is_dir():
            raise UsageError(f"--work-dir {args.work_dir} is a file; name a folder.")
    except UsageError as err:
        parser.error(str(err))
    return args


def _parse_runs(items: Sequence[str]) -> list[tuple[str, str]]:
    runs = []
    for item in items:
        framework, sep, runtime = item.partition("@")
        if not sep or framework not in FRAMEWORK_TAGS or runtime not in RUNTIMES:
            raise UsageError(f"--run {item!r}: expected FRAMEWORK@RUNTIME with FRAMEWORK one of "
                             f"{', '.join(FRAMEWORK_TAGS)} and RUNTIME one of "
                             f"{', '.join(RUNTIMES)}, e.g. mxnet@3.12.")
        runs.append((framework, runtime))
    return runs


def _notebook(lang: str, framework: str) -> Path:
    return notebook_path(chapter_source(REPO, lang), framework)


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3.*/site-packages"))
    if len(found) != 1:
        raise RuntimeError(f"{venv}: expected one lib/python3.*/site-packages, found {found}")
    return found[0]


def _run_logged(cmd: Sequence[str], log: Path, **kwargs) -> None:
    """Run `cmd` at low priority with its output appended to `log`; raise naming the log."""
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))}\n")
        out.flush()
        proc = subprocess.run(["nice", "-n", "10", *map(str, cmd)], stdout=out,
                              stderr=subprocess.STDOUT, **kwargs)
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} {' '.join(map(str, cmd[1:4]))} ... failed "
                           f"(exit {proc.returncode}); see {log}")


def base_venv(runtime: str, python: Path, work_dir: Path, rebuild: bool, console: Console) -> Path:
    """The base venv of `runtime` with Colab's packages, made once and reused while
    COLAB_PACKAGES is the same. Raises RuntimeError naming the log when pip fails."""
    venv = work_dir / f"base-{runtime}"
    stamp = venv / "colab-like.json"
    wanted = {"python": str(python), "packages": list(COLAB_PACKAGES), "stand_in": STAND_IN}
    made = json.loads(stamp.read_text()) if stamp.exists() else None
    if not rebuild and made == wanted:
        console.print(f"base venv {runtime}: reused {venv}")
        return venv
    log = work_dir / f"base-{runtime}.log"
    start = time.monotonic()
    # A complete venv of the same Python is brought up to date in place (pip changes
    # only what differs); --rebuild, another Python or an unfinished one start afresh.
    if rebuild or made is None or made["python"] != str(python):
        shutil.rmtree(venv, ignore_errors=True)
        log.unlink(missing_ok=True)
        _run_logged([python, "-m", "venv", venv], log)
    stamp.unlink(missing_ok=True)
    with console.status(f"base venv {runtime}: installing {len(COLAB_PACKAGES)} packages "
                        f"(log: {log})"):
        _run_logged([venv / "bin/python", "-m", "pip", "install", *COLAB_PACKAGES], log)
    colab = _site_packages(venv) / "google" / "colab"
    colab.mkdir(parents=True, exist_ok=True)
    (colab / "__init__.py").write_text(STAND_IN, encoding="utf-8")
    stamp.write_text(json.dumps(wanted), encoding="utf-8")  # last: marks the venv complete
    console.print(f"base venv {runtime}: made in {time.monotonic() - start:.0f} s ({venv})")
    return venv


def overlay_venv(base: Path, python: Path, path: Path) -> Path:
    """A fresh venv at `path` that sees `base`'s packages behind its own."""
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(path)], check=True)
    # addsitedir, not a bare path line: the base's own .pth files must run too, e.g.
    # setuptools' distutils shim, which MXNet's `import distutils` needs on 3.12+.
    (_site_packages(path) / "colab_like_base.pth").write_text(
        f"import site; site.addsitedir({str(_site_packages(base))!r})\n", encoding="utf-8")
    return path


def kernel_manager(overlay: Path, run_dir: Path, env: dict[str, str]) -> KernelManager:
    """A kernel of the overlay's Python that imports google.colab at start."""
    startup = run_dir / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401\n", encoding="utf-8")
    spec_dir = run_dir / "kernels" / "colab"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(overlay / "bin" / "python"), "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python",
        "env": {**env, "IPYTHONDIR": str(run_dir / "ipython")},
    }), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(run_dir / "kernels")])
    return KernelManager(kernel_name="colab", kernel_spec_manager=specs)


def local_install_cell(source: str, checkout: Path, commit: str) -> str:
    """The install cell `source` with _config.yml's repository URL and branch replaced by
    the local `checkout` at `commit`. ValueError when the cell does not name them."""
    url, branch = repository()
    theirs, ours = f"git+{url}@{branch}", f"git+file://{checkout}@{commit}"
    if source.count(theirs) != 1:
        raise ValueError(f"the install cell does not name {theirs} exactly once:\n{source}")
    return source.replace(theirs, ours)


def _overlay_packages(overlay: Path, base: Path) -> tuple[list[str], list[str]]:
    """What the install cell put in the overlay ("name version", with "(shadows base x)"),
    and which of KEEP it shadowed."""
    def dists(site: Path) -> dict[str, str]:
        out = {}
        for info in site.glob("*.dist-info"):
            name, _, version = info.name[: -len(".dist-info")].partition("-")
            out[name.lower().replace("_", "-")] = version
        return out
    mine, theirs = dists(_site_packages(overlay)), dists(_site_packages(base))
    installed = [f"{n} {v}" + (f" (shadows {theirs[n]})" if n in theirs else "")
                 for n, v in sorted(mine.items())]
    return installed, [n for n in KEEP if n in mine and n in theirs]


def run_notebook(framework: str, runtime: str, base: Path, python: Path,
                 args: argparse.Namespace, commit: str, progress: Progress) -> Result:
    """Run one notebook in a fresh overlay of `base`; restart once when the notebook asks."""
    result = Result(framework, runtime)
    run_dir = args.work_dir / "runs" / f"{framework}-{runtime}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    overlay = overlay_venv(base, python, run_dir / "venv")
    nb = nbformat.read(_notebook(args.lang, framework), as_version=4)
    nb.cells[0].source = local_install_cell(nb.cells[0].source, REPO, commit)
    env = {DATA_DIR_ENV: str(args.data_dir), MAX_EXAMPLES_ENV: str(args.max_examples),
           "PATH": f"{overlay / 'bin'}:{os.environ.get('PATH', '')}"}
    if not args.pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    label = f"{framework}@{runtime}"
    task = progress.add_task(label, total=len(nb.cells))
    cell_start: dict[int, float] = {}

    def on_start(cell, cell_index, **_):
        cell_start[cell_index] = time.monotonic()

    def on_executed(cell, cell_index, **_):
        if cell_index == 0:
            result.install_seconds.append(time.monotonic() - cell_start[0])
        progress.update(task, completed=cell_index + 1)

    start = time.monotonic()
    for attempt in (1, 2):
        progress.update(task, completed=0, description=f"{label} (session {attempt})")
        km = kernel_manager(overlay, run_dir, env)
        client = NotebookClient(
            nb, km=km, timeout=args.cell_timeout,
            resources={"metadata": {"path": str(_notebook(args.lang, framework).parent)}},
            on_cell_start=on_start, on_cell_executed=on_executed)
        try:
            with open(run_dir / "kernel-stderr.log", "a", encoding="utf-8") as stderr:
                # Colab keeps the kernel's own stderr (TensorFlow's C++ log) out of the
                # notebook; here it goes to a file rather than this script's terminal.
                client.execute(stderr=stderr)
            result.passed = True
            break
        except CellExecutionError as err:
            if err.ename == RESTART_ERROR and attempt == 1:
                result.restarted = True  # Colab's "Restart session": a new kernel process
                continue
            result.error = f"{err.ename}: {err.evalue}"[:300]
            break
        except (CellTimeoutError, DeadKernelError) as err:
            result.error = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
            break
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    result.total_seconds = time.monotonic() - start
    if result.error:
        failing = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        result.error = f"cell {failing}: {result.error}"
    result.installed, result.shadowed_kept = _overlay_packages(overlay, base)
    result.notebook = run_dir / f"{framework}-{runtime}.ipynb"
    nbformat.write(nb, result.notebook)
    shutil.rmtree(overlay, ignore_errors=True)  # a few hundred MB for MXNet
    return result


def _head_commit() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def _report(results: Sequence[Result], console: Console) -> Table:
    table = Table(title="Colab-like runs")
    for column in ("notebook", "result", "restarted", "install cell s", "total s",
                   "installed into the session"):
        table.add_column(column, overflow="fold")
    for r in results:
        ok = r.passed and (r.framework == "mxnet" or not r.shadowed_kept)
        verdict = "passed" if ok else "FAILED"
        if r.passed and not ok:
            verdict += f" (replaced {', '.join(r.shadowed_kept)})"
        elif r.error:
            verdict += f" ({r.error})"
        table.add_row(f"{r.framework}@{r.runtime}", verdict, "yes" if r.restarted else "no",
                      " + ".join(f"{s:.0f}" for s in r.install_seconds), f"{r.total_seconds:.0f}",
                      ", ".join(r.installed))
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    commit = _head_commit()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                            "d2l_compat", "pyproject.toml"], capture_output=True, text=True)
    console.print(f"installing d2l_compat from {REPO} at {commit[:10]} (HEAD)"
                  + (": uncommitted changes to d2l_compat/pyproject.toml are NOT installed"
                     if dirty.stdout.strip() else ""))
    results = []
    try:
        bases = {rt: base_venv(rt, py, args.work_dir, args.rebuild, console)
                 for rt, py in args.pythons.items()}
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("cell {task.completed}/{task.total}"), TimeElapsedColumn(),
                      console=console) as progress:
            for framework, runtime in args.runs:
                result = run_notebook(framework, runtime, bases[runtime],
                                      args.pythons[runtime], args, commit, progress)
                results.append(result)
                progress.console.print(
                    f"{framework}@{runtime}: {'passed' if result.passed else 'FAILED'} in "
                    f"{result.total_seconds:.0f} s (install cell "
                    f"{' + '.join(f'{s:.0f}' for s in result.install_seconds)} s"
                    f"{', session restarted once' if result.restarted else ''})"
                    f"{'; ' + result.error if result.error else ''}; notebook: {result.notebook}")
    except RuntimeError as err:
        console.print(f"[red]error:[/red] {err}")
        return 1
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    finally:
        if results:
            console.print(_report(results, console))
        if args.clean:
            shutil.rmtree(args.work_dir, ignore_errors=True)
    bad = [r for r in results if not r.passed or (r.framework != "mxnet" and r.shadowed_kept)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
