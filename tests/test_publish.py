"""Publishing a rendered language book into html/<lang> (bookbuild.render.publish):
all or nothing, so a stopped or failing copy never leaves a half-copied book."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild import render


def book(folder: Path, text: str) -> Path:
    (folder / "_static").mkdir(parents=True)
    (folder / "index.html").write_text(text)
    (folder / "_static" / "book.css").write_text(text)
    return folder


def test_publish_replaces_the_previous_book(tmp_path: Path) -> None:
    target = tmp_path / "html" / "en"
    render.publish(book(tmp_path / "one", "one"), target)
    render.publish(book(tmp_path / "two", "two"), target)
    assert (target / "index.html").read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["en"]


def test_a_failing_copy_leaves_the_previous_book_whole(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "html" / "en"
    render.publish(book(tmp_path / "one", "one"), target)

    def copy_half(src: Path, dst: Path) -> None:
        (Path(dst) / "_static").mkdir(parents=True)
        shutil.copy2(Path(src) / "index.html", Path(dst) / "index.html")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render.shutil, "copytree", copy_half)
    with pytest.raises(OSError, match="No space left"):
        render.publish(book(tmp_path / "two", "two"), target)
    assert (target / "index.html").read_text() == "one"
    assert (target / "_static" / "book.css").read_text() == "one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["en"]
