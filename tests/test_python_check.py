"""The README's two commands stop within seconds, in one line, on a Python whose pins
do not resolve (check_python.py), and go on on Python 3.11 and 3.12."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_python", ROOT / "check_python.py")
assert _spec is not None and _spec.loader is not None
check_python = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_python)


def readme_commands() -> list[str]:
    """The README's shell commands (the fenced ``bash`` blocks of "The two commands")."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_commands_start_with_the_check() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    for command in commands:
        assert command.startswith("python3 check_python.py && python3 -m venv .venv && ")


@pytest.mark.parametrize("version", [(3, 11, 7), (3, 12, 1)])
def test_supported(version) -> None:
    assert check_python.problem(version) is None


@pytest.mark.parametrize("version,why", [
    ((3, 13, 0), "MXNet 1.9.1 needs numpy < 2"), ((3, 14, 2), "MXNet 1.9.1 needs numpy < 2"),
    ((3, 10, 13), "need Python 3.11 or newer"), ((2, 7, 18), "need Python 3.11 or newer"),
])
def test_unsupported_named_in_one_line(version, why) -> None:
    message = check_python.problem(version, "/usr/bin/python3")
    assert "\n" not in message
    assert "Python 3.11 or 3.12" in message and why in message
    assert ".".join(map(str, version)) in message and "/usr/bin/python3" in message


def _other_pythons() -> list[str]:
    """Interpreters on this machine the README's commands must refuse: pyenv's versions
    and the system's (not pyenv's shims, which pick a version by their own rules)."""
    found = glob.glob("/root/.pyenv/versions/3.1[03].*/bin/python3")
    found += glob.glob("/usr/bin/python3.1[03]") + glob.glob("/usr/local/bin/python3.1[03]")
    return sorted({os.path.realpath(p) for p in found})


OTHERS = _other_pythons()


@pytest.mark.skipif(not OTHERS, reason="no Python 3.10 or 3.13 on this machine to try")
@pytest.mark.parametrize("python", OTHERS)
@pytest.mark.parametrize("which", [0, 1], ids=["build command", "test command"])
def test_readme_command_stops_within_seconds(tmp_path, python, which) -> None:
    """The README's command, with `python3` being another Python, run in a copy of the
    files it reads: it stops with the one line, creating no .venv."""
    for name in ("check_python.py", "requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    start = time.monotonic()
    proc = subprocess.run(["bash", "-c", readme_commands()[which]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert time.monotonic() - start < 10
    assert proc.returncode == 1
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("This book's environment needs Python 3.11 or 3.12")
    assert not (tmp_path / ".venv").exists()


def test_check_passes_on_this_python() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "check_python.py")],
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
