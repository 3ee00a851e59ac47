"""Bad input to `python -m bookbuild`: each ends in a one-paragraph error naming what
was wrong and what to do, a non-zero exit, and nothing left on disk; all are refused
before any kernel starts (each run here must finish in seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild import options
from bookbuild.lock import build_folder_lock

ROOT = Path(__file__).resolve().parent.parent
# Well under what starting a kernel and executing a notebook takes
FAST = 60


def run(args: list[str], env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
        ) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "D2L_MAX_EXAMPLES"}
    environ.update(env or {})
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bookbuild", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=FAST, env=environ,
    )


def one_paragraph_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """The error message, checked: exit 2, nothing on stdout, one paragraph (no
    traceback, no usage block), containing every one of `words`."""
    message = result.stderr.strip()
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "\n" not in message, message
    assert "Traceback" not in message
    assert message.startswith("python -m bookbuild: error: ")
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.mark.parametrize("args, env", [
    (["--max-examples", "0"], None), (["--max-examples=-1"], None),
    (["--max-examples", "15"], None), (["--max-examples", "5"], None),
    (["--max-examples", "1e3"], None), (["--max-examples", "ten"], None),
    ([], "abc"), ([], "15"), ([], "0"),
])
def test_bad_max_examples(tmp_path: Path, args: list[str], env: str | None) -> None:
    build = tmp_path / "b"
    result = run(["--build-dir", str(build), *args],
                 {"D2L_MAX_EXAMPLES": env} if env is not None else None)
    origin = "--max-examples" if args else "D2L_MAX_EXAMPLES"
    one_paragraph_error(result, origin, "positive multiple of 10", "at least 10",
                        "one example per class", "--max-examples 100")
    assert not build.exists()


def test_unknown_language(tmp_path: Path) -> None:
    result = run(["--lang", "xx", "--build-dir", str(tmp_path / "b")])
    one_paragraph_error(result, "'xx'", "en, ko, id, tr, pt, zh")
    assert not (tmp_path / "b").exists()


def test_build_dir_naming_a_file(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("keep me\n")
    for build in (file, file / "inside"):
        result = run(["--build-dir", str(build)])
        one_paragraph_error(result, f"--build-dir {build}", "not a folder", "Name a folder")
    assert file.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_build_dir_that_cannot_be_written(tmp_path: Path) -> None:
    # root ignores permission bits (CAP_DAC_OVERRIDE): as root, run the build without
    # the capabilities that bypass them, so the 0500 folder is really unwritable.
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root needs setpriv (util-linux) to drop privileges"
        prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for build in (locked, locked / "sub" / "dir"):
            result = run(["--build-dir", str(build)], prefix=prefix)
            one_paragraph_error(result, f"--build-dir {build}", "cannot write",
                                "Permission denied", "fix the folder's permissions")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("case", ["nowhere", "empty", "some-files"])
def test_data_dir_without_the_data(tmp_path: Path, case: str) -> None:
    data = tmp_path / "data"
    if case != "nowhere":
        data.mkdir()
    if case == "some-files":
        (data / "train-images-idx3-ubyte.gz").write_bytes(b"")
        (data / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    before = sorted(tmp_path.rglob("*"))
    result = run(["--build-dir", str(tmp_path / "b"), "--max-examples", "100"],
                 {"D2L_DATA_DIR": str(data)})
    message = one_paragraph_error(result, f"D2L_DATA_DIR={str(data)!r}",
                                  "t10k-images-idx3-ubyte.gz", "point D2L_DATA_DIR at the folder")
    if case == "some-files":
        assert "train-images" not in message.split("lacks", 1)[1].split(":")[0]
    assert sorted(tmp_path.rglob("*")) == before


def test_data_dir_with_a_bad_file(tmp_path: Path, fashion_mnist_dir: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(fashion_mnist_dir, data)
    (data / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    result = run(["--build-dir", str(tmp_path / "b"), "--max-examples", "100"],
                 {"D2L_DATA_DIR": str(data)})
    one_paragraph_error(result, "t10k-labels-idx1-ubyte.gz", "not a valid gzip file")
    assert (data / "t10k-labels-idx1-ubyte.gz").read_bytes() == b"not gzip"  # untouched
    assert not (tmp_path / "b").exists()


def test_data_dir_tilde_is_expanded(tmp_path: Path, fashion_mnist_dir: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(fashion_mnist_dir, home / "fashion-mnist")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert options.data_dir("~/fashion-mnist") == home / "fashion-mnist"
    # and the build refuses a '~' path that does not exist under HOME, showing where
    # it looked: in HOME, not in a folder literally named '~'
    result = run(["--build-dir", str(tmp_path / "b")],
                 {"D2L_DATA_DIR": "~/elsewhere", "HOME": str(home)})
    one_paragraph_error(result, f"({home / 'elsewhere'})")


def test_help_names_the_environment_and_the_run_time() -> None:
    result = run(["--help"])
    assert result.returncode == 0
    for words in ("D2L_DATA_DIR", "D2L_MAX_EXAMPLES", "about 30 minutes",
                  "--max-examples 100 takes a few minutes", "130"):
        assert words in result.stdout, words


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_bad_jobs(tmp_path: Path, value: str) -> None:
    build = tmp_path / "b"
    result = run(["--build-dir", str(build), f"--jobs={value}"])
    one_paragraph_error(result, "--jobs", "positive integer", "--jobs 1")
    assert not build.exists()


def test_no_data_anywhere_is_one_error_before_any_kernel(tmp_path: Path) -> None:
    """D2L_DATA_DIR unset, an empty cache and no way to download: the loader's own
    message (what to do) before anything starts, not three kernels' tracebacks."""
    if Path("/usr/share/datasets/fashion-mnist").exists():
        pytest.skip("the Debian dataset package provides the data on this machine")
    environ = {k: v for k, v in os.environ.items()
               if k not in ("D2L_MAX_EXAMPLES", "D2L_DATA_DIR", "XDG_CACHE_HOME")}
    environ["HOME"] = str(tmp_path / "home")
    build = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, "-m", "bookbuild", "--max-examples", "100", "--lang", "en",
         "--build-dir", str(build)], cwd=ROOT, capture_output=True, text=True,
        timeout=FAST, env=environ)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("python -m bookbuild: error: ")
    assert "D2L_DATA_DIR" in result.stderr and "Traceback" not in result.stderr
    assert not build.exists()


@pytest.mark.parametrize("where", [".", "chapters/en", "..", "sphinxext/static"])
def test_build_dir_among_the_sources_is_refused(tmp_path: Path, where: str) -> None:
    """--build-dir . wrote ~31 MB of folders into the source root and replaced
    whatever was in html/<lang> without a word (issue 22, item 10)."""
    before = sorted(p.name for p in ROOT.iterdir())
    result = run(["--build-dir", where])
    what = "source tree" if where == "." else "sources"
    one_paragraph_error(result, f"--build-dir {where}: that is ", what, str(ROOT),
                        "--build-dir _build")
    assert sorted(p.name for p in ROOT.iterdir()) == before


def test_a_second_build_in_a_busy_build_folder_stops_at_once(
        tmp_path: Path, fashion_mnist_dir: Path) -> None:
    """Two builds in one folder executed every notebook twice, or one deleted the
    other's working folder under it (issue 22, item 1)."""
    build = tmp_path / "b"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from bookbuild.lock import build_folder_lock\n"
         f"with build_folder_lock(Path({str(build)!r})):\n"
         "    print('locked', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run(["--build-dir", str(build), "--max-examples", "100"],
                     {"D2L_DATA_DIR": str(fashion_mnist_dir)})
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip() == (
            f"bookbuild: the build folder {build} is in use by process {holder.pid}: wait "
            "for it to end (or stop it), or give another --build-dir.")
        assert sorted(p.name for p in build.iterdir()) == [".bookbuild.lock"]
    finally:
        holder.kill()
        holder.wait()
    # the lock ends with its holder, however it ended
    with build_folder_lock(build):
        pass
