"""Ctrl-C during a build: reported as an interruption (exit 130), what finished stays
cached, and the same command resumes from the cache. Runs a real quick build (English
only, 100 examples, notebooks executing two at once) and sends SIGINT to its process
group, as a terminal does. The resumed build is then stopped with SIGTERM, as a
cancelled CI job or `timeout` does: the same clean stop, exit 143."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(build: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "D2L_MAX_EXAMPLES"}
    return subprocess.Popen(
        [sys.executable, "-m", "bookbuild", "--max-examples", "100", "--lang", "en",
         "--jobs", "2", "--build-dir", str(build)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
        start_new_session=True,  # its own process group, like a terminal's job
        # A job started from a non-interactive shell in the background (as CI may run
        # the suite) inherits SIGINT ignored; a terminal's foreground job never does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(condition, proc: subprocess.Popen, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the build ended before it could be interrupted"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.5)


def ctrl_c(proc: subprocess.Popen) -> int:
    os.killpg(proc.pid, signal.SIGINT)
    return proc.wait(timeout=120)


def cached(build: Path) -> list[Path]:
    return sorted(build.glob("jupyter_cache/*/executed/*/base.ipynb"))


def executed(log: Path) -> set[str]:
    """The frameworks whose English notebook the log says finished executing."""
    return set(re.findall(r"^(\w+) \(en\): executed", log.read_text(), re.MULTILINE))


def running(log: Path) -> set[str]:
    """Frameworks that finished a training run but not their notebook."""
    started = set(re.findall(r"^(\w+) \(en\): training run \d/5 done", log.read_text(),
                             re.MULTILINE))
    return started - executed(log)


def early(log: Path) -> set[str]:
    """Running frameworks with three or more of their five (one-second) runs still to go,
    so that Ctrl-C surely lands while they run."""
    done = dict(re.findall(r"^(\w+) \(en\): training run (\d)/5 done", log.read_text(),
                           re.MULTILINE))
    return {fw for fw in running(log) if int(done[fw]) <= 2}


def kernels_in(build: Path) -> list[str]:
    """Kernel processes working in a folder under `build` (Linux: /proc)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:  # gone, or not ours
            continue
        if "ipykernel" in cmdline and cwd.is_relative_to(build):
            found.append(f"{proc.name}: {cmdline}")
    return found


def test_ctrl_c_keeps_the_cache_and_a_rerun_resumes(tmp_path: Path, fashion_mnist_dir) -> None:
    build, log = tmp_path / "build", tmp_path / "first.log"
    proc = start(build, log)
    try:
        # A notebook finished and is cached; another is early in its runs.
        # (Two execute at once, so which ones depends on their speed.)
        wait_for(lambda: len(cached(build)) >= 1 and executed(log) and early(log),
                 proc, 900)
        started = time.monotonic()
        assert ctrl_c(proc) == 130
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = log.read_text()
    done = executed(log)
    last = stderr.strip().splitlines()
    summary = next(line for line in last if line.startswith("bookbuild: interrupted"))
    assert "interrupted (Ctrl-C) while executing" in summary
    for fw in running(log):
        assert f"scheduler_{fw}.ipynb" in summary
    for fw in done:
        assert f"scheduler_{fw}.ipynb" not in summary
    assert "run the same command again to resume" in summary
    assert "failed to execute" not in stderr
    assert f'File "{ROOT / "bookbuild"}' not in stderr  # no traceback of the build itself
    assert stopped_in < 60, stopped_in
    assert len(cached(build)) == len(done)  # what finished is kept, nothing of the rest
    assert kernels_in(build) == []  # the build shut its kernels down before it ended

    # The same command again: what finished comes from the cache, the rest executes
    log = tmp_path / "second.log"
    proc = start(build, log)
    try:
        wait_for(lambda: early(log), proc, 600)
        assert kernels_in(build), "the kernel check below would see no running kernel"
        os.kill(proc.pid, signal.SIGTERM)  # the build only: it must stop its kernels
        assert proc.wait(timeout=120) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = log.read_text()
    for fw in done:
        assert f"{fw} (en): cache hit" in stderr
        assert f"{fw} (en): executed" not in stderr
    summary = next(line for line in stderr.splitlines()
                   if line.startswith("bookbuild: interrupted"))
    assert "interrupted (SIGTERM) while executing" in summary
    assert "failed to execute" not in stderr
    assert kernels_in(build) == []  # none of the stopped build's kernels is left running
