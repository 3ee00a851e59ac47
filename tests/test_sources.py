"""A chapter source that jupytext would misread (unclosed code fence, bad cell options,
unknown tags, references to missing labels) is refused with its file and line, and
neither --notebooks-only nor the build writes a notebook from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild.sources import SourceError, read_source

ROOT = Path(__file__).resolve().parent.parent
EN = ROOT / "chapters" / "en" / "scheduler.md"


def edited(tmp_path: Path, edit) -> tuple[Path, list[str]]:
    lines = EN.read_text(encoding="utf-8").splitlines()
    lines = edit(lines)
    path = tmp_path / "scheduler.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def fence_lines(lines: list[str]) -> list[int]:
    """1-based numbers of the lines opening a code cell."""
    return [i + 1 for i, line in enumerate(lines) if line.startswith("```{code-cell}")]


def closing_after(lines: list[str], opening: int) -> int:
    """1-based number of the closing fence of the code cell opened at `opening`."""
    return next(i + 1 for i in range(opening, len(lines)) if lines[i] == "```")


def test_every_chapter_source_reads_with_a_source_map() -> None:
    for path in sorted((ROOT / "chapters").glob("*/scheduler.md")):
        nb = read_source(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        starts = nb.metadata["source_map"]
        assert len(starts) == len(nb.cells)
        for cell, start in zip(nb.cells, starts, strict=True):
            if cell.cell_type == "markdown":  # 0-based first line of the cell's text
                assert lines[start] == cell.source.splitlines()[0]
            else:  # 1-based line of the opening fence
                assert lines[start - 1].startswith("```{code-cell}")


def test_a_code_cell_without_its_closing_fence(tmp_path: Path) -> None:
    original = EN.read_text(encoding="utf-8").splitlines()
    second = fence_lines(original)[1]
    end = closing_after(original, second)
    path, _ = edited(tmp_path, lambda lines: lines[:end - 1] + lines[end:])
    with pytest.raises(SourceError) as raised:
        read_source(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{second}: the code cell")
    assert "add its closing ``` line" in message
    assert "\n" not in message


def test_the_last_fence_left_open(tmp_path: Path) -> None:
    original = EN.read_text(encoding="utf-8").splitlines()
    last_close = max(i + 1 for i, line in enumerate(original) if line == "```")
    opening = max(i + 1 for i, line in enumerate(original[:last_close - 1])
                  if line.startswith("```"))
    path, _ = edited(tmp_path, lambda lines: lines[:last_close - 1])
    with pytest.raises(SourceError, match=rf"^{path}:{opening}: the code .* never closed"):
        read_source(path)


def test_an_unknown_tag(tmp_path: Path) -> None:
    original = EN.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(original) if line == ":tags: [pytorch]")
    path, _ = edited(tmp_path, lambda lines: [
        ":tags: [pytroch]" if i == target else line for i, line in enumerate(lines)])
    with pytest.raises(SourceError, match=rf"^{path}:{target}: the code cell has unknown "
                                          r"tag\(s\) pytroch"):
        read_source(path)


def test_bad_cell_options(tmp_path: Path) -> None:
    original = EN.read_text(encoding="utf-8").splitlines()
    first = fence_lines(original)[0]
    path, _ = edited(tmp_path, lambda lines: [
        ":tags: [mxnet" if i == first else line for i, line in enumerate(lines)])
    with pytest.raises(SourceError) as raised:
        read_source(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{first}: the cell's options are not valid YAML")
    assert "\n" not in message


def test_a_reference_to_a_missing_label(tmp_path: Path) -> None:
    original = EN.read_text(encoding="utf-8").splitlines()
    para = next(i for i, line in enumerate(original) if line.startswith("Given the fact"))

    def edit(lines: list[str]) -> list[str]:
        lines = list(lines)
        lines[para] += " See {numref}`Section <sec_nowhere>` and {ref}`sec_scheduler`."
        return lines

    path, _ = edited(tmp_path, edit)
    with pytest.raises(SourceError) as raised:
        read_source(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{para + 1}: {{numref}}`Section <sec_nowhere>` points "
                              "at the label 'sec_nowhere'")
    assert "sec_scheduler'" not in message  # a defined label is fine


def repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    # what the build reads before it executes anything (the rest is not needed to fail)
    for name in ("bookbuild", "chapters", "sphinxext"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(ROOT / name, root / name)
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", ["--notebooks-only", "build"])
def test_a_broken_source_stops_before_any_notebook_is_written(
        tmp_path: Path, command: str, fashion_mnist_dir: Path) -> None:
    root = repo_copy(tmp_path)
    source = root / "chapters" / "tr" / "scheduler.md"
    lines = source.read_text(encoding="utf-8").splitlines()
    opening = fence_lines(lines)[2]
    end = closing_after(lines, opening)
    source.write_text("\n".join(lines[:end - 1] + lines[end:]) + "\n", encoding="utf-8")
    # regenerate nothing but make the committed notebooks stale on purpose
    notebook = root / "chapters" / "en" / "notebooks" / "scheduler_pytorch.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    before = snapshot(root / "chapters")
    build = tmp_path / "build"
    args = ["--notebooks-only"] if command == "--notebooks-only" else \
        ["--max-examples", "100", "--build-dir", str(build)]
    env = {k: v for k, v in os.environ.items() if k != "D2L_MAX_EXAMPLES"}
    result = subprocess.run([sys.executable, "-m", "bookbuild", *args], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"bookbuild: {source}:{opening}: the code cell"), result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root / "chapters") == before  # nothing written, nothing fixed up
    assert not (build / "notebooks").exists() and not (build / "jupyter_cache").exists()


@pytest.mark.parametrize("edit", ["code", "section"])
def test_a_translation_that_does_not_mirror_english_stops_the_build(
        tmp_path: Path, edit: str, fashion_mnist_dir: Path) -> None:
    """A code cell changed in one language only (its page would show other runs than its
    text), or a section left out, stops the build before any kernel starts."""
    root = repo_copy(tmp_path)
    source = root / "chapters" / "ko" / "scheduler.md"
    text = source.read_text(encoding="utf-8")
    if edit == "code":
        changed = text.replace("lr, num_epochs = 0.2, 30", "lr, num_epochs = 0.5, 30", 1)
    else:
        start = text.index("\n### ")
        changed = text[:start] + text[text.index("\n", start + 1):]
    assert changed != text
    source.write_text(changed, encoding="utf-8")
    build = tmp_path / "build"
    env = {k: v for k, v in os.environ.items() if k != "D2L_MAX_EXAMPLES"}
    result = subprocess.run(
        [sys.executable, "-m", "bookbuild", "--max-examples", "100", "--build-dir",
         str(build), "--lang", "ko"], cwd=root, env=env, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"bookbuild: {source} does not mirror "), last
    said = ("code cell 5 (the English one starts 'lr, num_epochs = 0.2, 30') differs"
            if edit == "code" else "its headings differ from the English source's")
    assert said in last and last.endswith("nothing was executed.")
    assert "Traceback" not in result.stderr
    assert not (build / "notebooks").exists() and not (build / "jupyter_cache").exists()


@pytest.mark.parametrize("name", ["schedule-explorer", "results-explorer"])
def test_an_explorer_missing_an_option_is_named_at_its_source_line(tmp_path: Path,
                                                                    name: str) -> None:
    """Not after every notebook ran, at a line of the page notebook (issue 22, item 7)."""
    def edit(lines):
        lines = list(lines)
        start = lines.index(f":::{{{name}}}")
        del lines[start + 2]  # its second option
        lines.insert(start + 1, ":bogus: x")
        return lines

    path, _ = edited(tmp_path, edit)
    with pytest.raises(SourceError) as raised:
        read_source(path)
    message = str(raised.value)
    line = path.read_text(encoding="utf-8").splitlines().index(f":::{{{name}}}") + 1
    assert f"{path}:{line}: {{{name}}}: Unknown option keys: ['bogus']" in message
    assert f"{path}:{line}: {{{name}}} lacks the option(s) :" in message
