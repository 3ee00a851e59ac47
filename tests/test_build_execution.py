"""The build's notebook execution, in real kernels: the cache is hit, bypassed by
--no-cache, and survives corrupt or unreadable entries; notebooks run in parallel, each
kernel with its own environment; a failing or dead kernel is named. What the cache is
keyed on, and the kernels' settings, are tests/test_execution_settings.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from bookbuild import execute, kernel_env

ROOT = Path(__file__).resolve().parent.parent


def test_cache_hit_and_no_cache(tmp_path: Path) -> None:
    # A notebook whose output differs on every execution shows which happened.
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time; print(time.time_ns())")])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    cache = tmp_path / "cache"
    first = execute.execute(path, nb, cache)
    assert first.executed
    hit = execute.execute(path, nb, cache)
    assert not hit.executed
    assert hit.notebook.cells[0].outputs == first.notebook.cells[0].outputs
    forced = execute.execute(path, nb, cache, use_cache=False)
    assert forced.executed
    assert forced.notebook.cells[0].outputs != first.notebook.cells[0].outputs
    # ... and the forced outputs replace the cached ones
    assert execute.execute(path, nb, cache).notebook.cells[0].outputs == \
        forced.notebook.cells[0].outputs


def _tiny(tmp_path: Path) -> tuple[Path, nbformat.NotebookNode]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    return path, nb


def _entry(cache: Path) -> Path:
    (entry,) = (cache / "executed").glob("*/base.ipynb")
    return entry


def _fail_reading(monkeypatch: pytest.MonkeyPatch, path: Path, error: OSError) -> None:
    """Make `Path.read_text` raise `error` for `path` (and only for it)."""
    real = Path.read_text

    def read_text(self: Path, *args, **kwargs) -> str:
        if self == path:
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)


def test_a_corrupt_cache_entry_is_deleted_and_executed_again(tmp_path: Path) -> None:
    path, nb = _tiny(tmp_path)
    cache = tmp_path / "cache"
    assert execute.execute(path, nb, cache).executed
    entry = _entry(cache)
    entry.write_text('{"cells": [', encoding="utf-8")  # as an interrupted write leaves it
    again = execute.execute(path, nb, cache)
    assert again.executed and again.notebook.cells[0].outputs[0]["text"] == "42\n"
    assert nbformat.read(str(_entry(cache)), as_version=4).cells[0].outputs  # stored anew
    assert not execute.execute(path, nb, cache).executed


def test_an_unreadable_cache_entry_is_reported_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, nb = _tiny(tmp_path)
    cache = tmp_path / "cache"
    execute.execute(path, nb, cache)
    entry = _entry(cache)
    content = entry.read_bytes()
    entry.chmod(0)
    if os.geteuid() == 0:
        # root reads a mode-000 file anyway (CAP_DAC_OVERRIDE): simulate the
        # PermissionError the read raises for everyone else.
        _fail_reading(monkeypatch, entry, PermissionError(13, "Permission denied", str(entry)))
    try:
        with pytest.raises(execute.CacheError) as raised:
            execute.execute(path, nb, cache)
        message = str(raised.value)
        assert f"{entry}: Permission denied" in message
        assert "Nothing was deleted" in message and "--no-cache" in message
        assert "corrupt" not in message
        assert entry.exists()
    finally:
        entry.chmod(0o644)
    assert entry.read_bytes() == content


def test_an_io_error_in_the_cache_is_reported_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, nb = _tiny(tmp_path)
    cache = tmp_path / "cache"
    execute.execute(path, nb, cache)
    entry = _entry(cache)
    # a failing disk: no way to make one here
    _fail_reading(monkeypatch, entry, OSError(5, "Input/output error", str(entry)))
    with pytest.raises(execute.CacheError, match=f"{entry}: Input/output error"):
        execute.execute(path, nb, cache)
    assert entry.exists()


def _notebook(tmp_path: Path, name: str, source: str) -> execute.Job:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return execute.Job(path, nb)


def test_parallel_notebooks_overlap_and_each_kernel_gets_its_env(tmp_path: Path,
                                                                  monkeypatch) -> None:
    for name in (*kernel_env.THREAD_VARIABLES, *kernel_env.MALLOC_KERNEL_ENV):
        monkeypatch.delenv(name, raising=False)
    probe = ("import os, time, json\nstart = time.time(); time.sleep(3)\n"
             "print(json.dumps([start, time.time(), os.environ.get('OMP_NUM_THREADS'), "
             "os.environ['D2L_PROGRESS_FILE'], os.environ.get('GLIBC_TUNABLES')]))")
    jobs = [_notebook(tmp_path, name, probe) for name in ("a", "b")]
    started = time.monotonic()
    outcomes = execute.execute_all(jobs, tmp_path / "cache", parallel=2)
    wall = time.monotonic() - started
    (a0, a1, a_threads, a_file, a_malloc), (b0, b1, b_threads, b_file, b_malloc) = (
        json.loads(o.notebook.cells[0].outputs[0]["text"]) for o in outcomes)
    assert a_malloc == b_malloc == kernel_env.MALLOC_KERNEL_ENV["GLIBC_TUNABLES"]
    assert max(a0, b0) < min(a1, b1), "the two notebooks did not run at the same time"
    expected = str(max(1, len(os.sched_getaffinity(0)) // 2))
    assert a_threads == b_threads == expected
    assert a_file != b_file  # each kernel reports its progress to its own file
    assert all(o.executed for o in outcomes)
    assert wall < sum(o.seconds for o in outcomes)
    # sequential: no thread caps, one after the other
    outcomes = execute.execute_all(jobs, tmp_path / "cache2", parallel=1)
    (a0, a1, a_threads, _, a_malloc), (b0, b1, _, _, _) = (
        json.loads(o.notebook.cells[0].outputs[0]["text"]) for o in outcomes)
    assert a1 <= b0 and a_threads is None
    assert a_malloc == kernel_env.MALLOC_KERNEL_ENV["GLIBC_TUNABLES"]  # with any --jobs


def test_a_failing_notebook_does_not_lose_the_others(tmp_path: Path) -> None:
    good = _notebook(tmp_path, "good", "import time; time.sleep(2); print(6 * 7)")
    bad = _notebook(tmp_path, "bad", "raise ValueError('broken on purpose')")
    cache = tmp_path / "cache"
    with pytest.raises(execute.ExecutionError, match="bad.ipynb failed to execute"):
        execute.execute_all([bad, good], cache, parallel=2)
    hit, = execute.execute_all([good], cache)
    assert not hit.executed and hit.notebook.cells[0].outputs[0]["text"] == "42\n"


def test_a_dead_kernel_is_named_with_its_run(tmp_path: Path) -> None:
    """A kernel killed mid-run (kill -9, out of memory) ended the build in nbclient's
    raw DeadKernelError traceback naming neither notebook nor run (issue 22, item 2)."""
    cells = ["import os, signal\n"
             "def train():\n    os.kill(os.getpid(), signal.SIGKILL)",
             "histories = {}",
             "histories['constant'] = train()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "scheduler_pytorch.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(execute.ExecutionError) as error:
        execute.execute_all([execute.Job(path, nb, runs=1)], tmp_path / "cache", timeout=120)
    log = tmp_path / "scheduler_pytorch.ipynb.kernel.log"
    assert str(error.value) == (
        f"{path}: its kernel died during training run 1 of 1 (killed, or out of memory?); "
        f"the kernel's own output is in {log}. The notebooks that finished are cached: "
        "run the same command again to resume.")
    assert log.is_file()


def test_a_kernels_own_output_goes_to_its_log(tmp_path: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    """What a kernel process writes outside any cell (ZeroMQ's "Socket operation on
    non-socket" at shutdown, in about one execution in ten) reached the build's terminal
    (issue 22, item 12); it goes to the notebook's kernel log instead."""
    noise = "ZMQError: Socket operation on non-socket"
    job = _notebook(tmp_path, "noisy", "import atexit, os\n"
                    f"atexit.register(lambda: os.write(2, b'{noise}\\n'))\n"
                    "print('in the cell')")
    outcome = execute.execute_all([job], tmp_path / "cache")[0]
    out, err = capfd.readouterr()
    assert noise not in out + err
    assert noise in job.kernel_log.read_text(encoding="utf-8")
    assert outcome.notebook.cells[0].outputs[0]["text"] == "in the cell\n"


def test_training_runs_are_the_cells_that_report_epochs(tmp_path: Path) -> None:
    """The runner counts a cell as a training run when d2l.Animator reported epochs
    during it (a line per epoch in $D2L_PROGRESS_FILE), whatever its code looks like."""
    report = ("import json, os\n"
              "def epochs(n):\n"
              "    with open(os.environ['D2L_PROGRESS_FILE'], 'a') as f:\n"
              "        for x in range(1, n + 1):\n"
              "            f.write(json.dumps({'x': x, 'xmax': n}) + '\\n')\n")
    cells = [report, "epochs(3)", "print('no training here')", "results = epochs(2)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    path = tmp_path / "runs.ipynb"
    nbformat.write(nb, str(path))
    done: list[tuple[int, int]] = []
    progress = execute.Progress(lambda *args: None,
                                lambda run, runs, seconds: done.append((run, runs)))
    execute.execute_all([execute.Job(path, nb, progress, runs=2)], tmp_path / "cache")
    assert done == [(0, 2), (1, 2)]
