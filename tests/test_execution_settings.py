"""What the build's notebook execution is keyed and set up by, without running a kernel:
the cache folder changes with d2l_compat's code, a framework's version and the data
subset; the kernels' thread settings share the cores (the executions themselves:
tests/test_build_execution.py)."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import pytest

from bookbuild import execute, kernel_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def root_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "d2l_compat", root / "d2l_compat",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_changing_d2l_compat_changes_the_cache(root_copy: Path, tmp_path: Path) -> None:
    before = execute.cache_dir(tmp_path / "build", root_copy)
    module = root_copy / "d2l_compat" / "_utils.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    after = execute.cache_dir(tmp_path / "build", root_copy)
    assert before != after and before.parent == after.parent


def test_changing_a_framework_version_changes_the_cache(
    root_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = execute.cache_dir(tmp_path / "build", root_copy)
    real = importlib.metadata.version

    def fake(dist: str) -> str:
        return "9.9.9" if dist == "torch" else real(dist)

    monkeypatch.setattr(importlib.metadata, "version", fake)
    assert execute.cache_dir(tmp_path / "build", root_copy) != before


def test_capped_and_full_runs_never_share_a_cache(root_copy: Path, tmp_path: Path) -> None:
    capped = execute.cache_dir(tmp_path / "build", root_copy, 100)
    assert execute.cache_dir(tmp_path / "build", root_copy) != capped
    assert execute.cache_dir(tmp_path / "build", root_copy, 200) != capped
    assert capped.name.startswith("max-100-")


def test_kernel_env_shares_the_cores_among_parallel_kernels(monkeypatch) -> None:
    for name in (*kernel_env.THREAD_VARIABLES, *kernel_env.QUIET_KERNEL_ENV,
                 *kernel_env.MALLOC_KERNEL_ENV):
        monkeypatch.delenv(name, raising=False)
    # all cores each
    assert kernel_env.kernel_env(1, cpus=2) == (
        kernel_env.QUIET_KERNEL_ENV | kernel_env.MALLOC_KERNEL_ENV
    )
    two = kernel_env.kernel_env(2, cpus=2)
    assert {two[name] for name in kernel_env.THREAD_VARIABLES} == {"1"}
    assert {kernel_env.kernel_env(3, cpus=8)[name] for name in kernel_env.THREAD_VARIABLES} == {"2"}
    assert kernel_env.kernel_env(4, cpus=2)["OMP_NUM_THREADS"] == "1"  # never 0
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting stays
    assert "OMP_NUM_THREADS" not in kernel_env.kernel_env(2, cpus=2)
