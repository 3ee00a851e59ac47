"""Colab: the buttons on every page (checked on the quick build's pages), the note on
MXNet next to them, and what the install cells install (d2l_compat's extras keep what
Colab ships; the local variant points at the checkout). The install cells themselves run
in a kernel in tests/test_colab_install_cell.py; the real installs on Colab-like Pythons
are ``benchmarks/colab_like.py``'s job.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from packaging.requirements import Requirement

from bookbuild.landing import read_book_text
from bookbuild.vocabulary import FRAMEWORKS, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("colab_like", ROOT / "benchmarks" / "colab_like.py")
assert _spec is not None and _spec.loader is not None
colab_like = importlib.util.module_from_spec(_spec)
sys.modules["colab_like"] = colab_like
_spec.loader.exec_module(colab_like)


def configured_repository() -> tuple[str, str]:
    """(owner/name, branch) as `_config.yml` states them, read here independently."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return repo["url"].rstrip("/").removeprefix("https://github.com/"), repo["branch"]


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_colab_buttons_agree_with_config(build, lang) -> None:
    html_dir, _ = build
    soup = BeautifulSoup((html_dir / lang.code / "chapters" / lang.code / "scheduler.html")
                         .read_text(encoding="utf-8"), "html.parser")
    name, branch = configured_repository()
    buttons = soup.select("div.d2l-colab-buttons a.d2l-colab")
    notebooks = soup.select("div.d2l-colab-buttons a.d2l-notebook")
    assert len(buttons) == len(notebooks) == len(FRAMEWORKS)
    for colab, github, (tag, _) in zip(buttons, notebooks, FRAMEWORKS, strict=True):
        path = f"chapters/{lang.code}/notebooks/scheduler_{tag}.ipynb"
        assert colab["href"] == f"https://colab.research.google.com/github/{name}/blob/{branch}/{path}"
        assert github["href"] == f"https://github.com/{name}/blob/{branch}/{path}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_mxnet_note_next_to_the_buttons(build, lang) -> None:
    html_dir, _ = build
    soup = BeautifulSoup((html_dir / lang.code / "chapters" / lang.code / "scheduler.html")
                         .read_text(encoding="utf-8"), "html.parser")
    buttons = soup.select_one("div.d2l-colab-buttons")
    note = buttons.find_next_sibling()
    assert note is not None and "d2l-colab-note" in note.get("class", [])
    text = note.get_text(" ", strip=True)
    assert text == read_book_text(lang.code, ROOT).colab_mxnet_note
    for fact in ("MXNet 1.9.1", "numpy < 2", "1.26.4", "3.13", "26.07", "3.12",
                 "Change runtime version"):
        assert fact in text, f"{lang.code}: the note does not say {fact!r}"


def test_every_language_has_the_mxnet_note() -> None:
    notes = {read_book_text(lang.code, ROOT).colab_mxnet_note for lang in LANGUAGES}
    assert len(notes) == len(LANGUAGES)  # translated, not copied


@pytest.mark.parametrize("extra", ["torch", "tensorflow"])
def test_extras_keep_what_colab_ships(extra) -> None:
    """d2l_compat's torch and tensorflow extras admit the versions Colab ships (as the
    Colab-like benchmark installs them), so the install cell downgrades nothing and adds
    ipywidgets only where it is missing."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in
                    project["dependencies"] + project["optional-dependencies"][extra]]
    shipped = dict(p.split("==") for p in colab_like.COLAB_PACKAGES)
    assert "ipywidgets" in {r.name for r in requirements}
    for req in requirements:
        if req.name in shipped:
            assert req.specifier.contains(shipped[req.name]), \
                f"[{extra}] {req} would replace Colab's {req.name} {shipped[req.name]}"


def test_local_install_cell_points_at_the_checkout() -> None:
    nb = nbformat.read(ROOT / "chapters" / "en" / "notebooks" / "scheduler_mxnet.ipynb",
                       as_version=4)
    source = colab_like.local_install_cell(nb.cells[0].source, Path("/x/repo"), "abc123")
    assert '"d2l_compat[mxnet] @ git+file:///x/repo@abc123"' in source
    with pytest.raises(ValueError, match="does not name"):
        colab_like.local_install_cell("print(1)", Path("/x/repo"), "abc123")
