"""The committed per-framework notebooks are exactly what the chapter sources
generate (regenerate with `python -m bookbuild --notebooks-only`)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import yaml

from bookbuild import notebooks
from bookbuild.vocabulary import FRAMEWORK_TAGS, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent


def test_generated_notebooks_are_up_to_date() -> None:
    expected = notebooks.expected_notebooks(ROOT)
    assert len(expected) == len(LANGUAGES) * len(FRAMEWORK_TAGS)
    stale = [
        str(path.relative_to(ROOT)) for path, text in expected.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale, run `python -m bookbuild --notebooks-only`: {stale}"


def test_no_orphan_notebooks() -> None:
    expected = set(notebooks.expected_notebooks(ROOT))
    committed = set((ROOT / "chapters").glob("*/notebooks/*.ipynb"))
    assert committed == expected


def test_framework_notebook_holds_only_its_cells() -> None:
    for framework in FRAMEWORK_TAGS:
        path = ROOT / "chapters" / "en" / "notebooks" / f"scheduler_{framework}.ipynb"
        nb = nbformat.read(path, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert "google.colab" in code[0], "first cell installs d2l_compat on Colab"
        module = "torch" if framework == "pytorch" else framework
        assert code[1].endswith("seed = 0"), "then the parameters cell, seed 0"
        assert f"from d2l_compat import {module} as d2l" in code[2]
        others = [m for m in ("mxnet", "torch", "tensorflow") if m != module]
        assert not any(f"import {m} as d2l" in src for m in others for src in code)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_install_cells_name_the_configured_repository() -> None:
    """Every notebook's install cell installs from `_config.yml`'s repository.url and
    branch, the same place the pages' Colab buttons point into (test_book_build.py)."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    wanted = f"git+{repo['url'].rstrip('/')}@{repo['branch']}"
    committed = sorted((ROOT / "chapters").glob("*/notebooks/*.ipynb"))
    assert len(committed) == len(LANGUAGES) * len(FRAMEWORK_TAGS)
    for path in committed:
        first = nbformat.read(path, as_version=4).cells[0].source
        urls = re.findall(r"git\+\S+?@[^\s\"]+", first)
        assert urls == [wanted], f"{path.relative_to(ROOT)}: installs from {urls}, not {wanted}"
