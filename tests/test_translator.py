"""`python -m bookbuild translations`: which parts of a translation lag behind the
English (sections, book.yml texts), recording a part as done, copying the English code
cells into the translations, the page's notice, and that the command needs no framework,
Sphinx, Jupyter Book, MyST-NB or matplotlib. Everything but the last test works on a
copy of the chapters in a temporary folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from bookbuild import freshness, mirror, pages, translator
from bookbuild.landing import read_book_text
from bookbuild.vocabulary import LANGUAGES, SOURCE_LANGUAGE, chapter_source

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = [lang.code for lang in LANGUAGES if lang.code != SOURCE_LANGUAGE]
FILES = ("scheduler.md", "book.yml", "glossary.yml", freshness.RECORD)
WARMUP = "A rather simple fix for this dilemma is to use a warmup period"
SEED_LINE = "# how much the results vary from one seed to the next\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of every language's chapter, book text, glossary and record, each
    translation first brought up to date with the English (so that the tests do not
    depend on the state of the working tree)."""
    for lang in LANGUAGES:
        for name in FILES:
            source = ROOT / "chapters" / lang.code / name
            if source.exists():
                target = tmp_path / "chapters" / lang.code / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    for code in TRANSLATIONS:
        freshness.write_record(tmp_path, code, freshness.recorded(
            tmp_path, code, freshness.blocks(tmp_path, code)))
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def stale(root: Path, code: str) -> list[str]:
    return [b.name for b in freshness.blocks(root, code) if b.stale]


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((root / "chapters").rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ blocks


def test_sections_are_the_headings_with_code_cells_left_out() -> None:
    text = chapter_source(ROOT).read_text(encoding="utf-8")
    sections = freshness.sections(text)
    assert [s.heading for s in sections][:3] == ["Learning Rate Scheduling", "Toy Problem",
                                                 "Schedulers"]
    assert all("{code-cell}" not in s.text and "histories['warmup'] = train(" not in s.text
               for s in sections)
    assert sections[0].text.startswith("(sec_scheduler)=\n# Learning Rate Scheduling")
    # trailing spaces and blank lines change nothing
    assert freshness.sections(text.replace("\n\n", "\n  \n\n")) == sections


def test_every_translation_has_a_record_of_every_part() -> None:
    for code in TRANSLATIONS:
        record = freshness.read_record(ROOT, code)
        english = freshness.sections(chapter_source(ROOT).read_text(encoding="utf-8"))
        assert [h for h, _ in record.sections] == [s.heading for s in english], code
        assert set(record.book) == set(read_book_text(code, ROOT).lines) | {
            "title", "author", "landing"}, code


def test_a_changed_english_section_is_reported_until_marked_done(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert translator.main(["ko", "--no-diff"], root=tree) == 0
    assert "ko: up to date with the English" in capsys.readouterr().out
    edit(chapter_source(tree), WARMUP, WARMUP.replace("rather simple", "simple"))
    for code in TRANSLATIONS:
        assert stale(tree, code) == ["Warmup"]
    assert translator.main(["ko", "--no-diff"], root=tree) == 1
    out = capsys.readouterr().out
    assert "- Warmup (워밍업): the English changed" in out
    assert 'python -m bookbuild translations ko --done "Warmup"' in out
    # by the English heading or the translated one
    assert translator.main(["ko", "--done", "워밍업"], root=tree) == 0
    assert "recorded Warmup (워밍업)" in capsys.readouterr().out
    assert translator.main(["ko", "--no-diff"], root=tree) == 0
    assert stale(tree, "zh") == ["Warmup"]  # the others still lag


def test_a_code_change_alone_leaves_every_section_current(tree: Path) -> None:
    edit(chapter_source(tree), SEED_LINE, SEED_LINE.replace("vary", "differ"))
    assert all(stale(tree, code) == [] for code in TRANSLATIONS)


def test_a_changed_book_text_is_reported(tree: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    edit(tree / "chapters" / "en" / "book.yml", "does not show the seed spread",
         "leaves out the seed spread")
    assert stale(tree, "pt") == ["book.yml `spread_quick`"]
    assert translator.main(["pt", "--no-diff"], root=tree) == 1
    assert "- book.yml `spread_quick`: the English changed" in capsys.readouterr().out
    assert translator.main(["pt", "--done", "spread_quick"], root=tree) == 0
    assert stale(tree, "pt") == []


def test_a_missing_record_lists_every_part(tree: Path) -> None:
    freshness.record_path(tree, "tr").unlink()
    assert len(stale(tree, "tr")) == len(freshness.blocks(tree, "tr"))
    assert translator.main(["tr", "--done-all"], root=tree) == 0
    assert stale(tree, "tr") == []


def test_what_changed_is_the_english_diff_since_the_record(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tree), "-c", "user.name=t", "-c",
                        "user.email=t@example.org", *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "translations current")
    edit(chapter_source(tree), WARMUP, WARMUP.replace("rather simple", "simple"))
    assert translator.main(["id"], root=tree) == 1
    out = capsys.readouterr().out
    assert "--- English at " in out and "+++ English now" in out
    assert "      -A rather simple fix" in out and "      +A simple fix" in out


# ------------------------------------------------------------------ --done, refused


@pytest.mark.parametrize(("argv", "says"), [
    (["ko", "--done", "Warmup"], "is up to date with the English already"),
    (["ko", "--done", "Warmpu"], "is neither a heading"),
])
def test_done_is_refused_for_a_part_that_is_not_behind(
        tree: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    before = snapshot(tree)
    assert translator.main(argv, root=tree) == 1
    assert says in capsys.readouterr().err
    assert snapshot(tree) == before


def test_done_is_refused_when_the_chapter_does_not_mirror_english(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(chapter_source(tree), WARMUP, WARMUP.replace("rather simple", "simple"))
    edit(chapter_source(tree, "ko"), "### 워밍업", "## 워밍업")
    before = snapshot(tree)
    assert translator.main(["ko", "--done", "Warmup"], root=tree) == 1
    assert "does not mirror the English source" in capsys.readouterr().err
    assert snapshot(tree) == before


@pytest.mark.parametrize(("argv", "says"), [
    (["--done", "Warmup"], "name exactly one LANG"),
    (["ko", "id", "--done-all"], "name exactly one LANG"),
    (["ko", "--done", "Warmup", "--sync-code"], "give one of them"),
    (["en"], "en is the English source"),
    (["xx"], "unknown translation xx"),
])
def test_a_wrong_command_line_is_one_paragraph(
        tree: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    before = snapshot(tree)
    with pytest.raises(SystemExit) as stop:
        translator.main(argv, root=tree)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert snapshot(tree) == before


# ------------------------------------------------------------------ --sync-code


def test_sync_code_changes_nothing_today() -> None:
    english = chapter_source(ROOT).read_text(encoding="utf-8")
    for code in TRANSLATIONS:
        text = chapter_source(ROOT, code).read_text(encoding="utf-8")
        assert freshness.sync_code(english, text) == text, code


def code_free(text: str) -> list[str]:
    """The lines of `text` outside its code cells."""
    lines = text.split("\n")
    code = {i for t in freshness.code_cells(mirror.MARKDOWN.parse(text))
            for i in range(*t.map)}
    return [line for i, line in enumerate(lines) if i not in code]


def test_sync_code_copies_a_changed_code_cell_and_keeps_the_prose(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {code: chapter_source(tree, code).read_text(encoding="utf-8")
              for code in TRANSLATIONS}
    edit(chapter_source(tree), ":tags: [parameters]\n" + "# The seed",
         ":tags: [parameters, hide-input]\n" + "# The seed")
    edit(chapter_source(tree), SEED_LINE, SEED_LINE.replace("vary", "differ"))
    assert translator.main(["--sync-code"], root=tree) == 0
    out = capsys.readouterr().out
    english = chapter_source(tree).read_text(encoding="utf-8")
    for code in TRANSLATIONS:
        after = chapter_source(tree, code).read_text(encoding="utf-8")
        assert "results differ from one seed" in after
        assert ":tags: [parameters, hide-input]" in after
        assert code_free(after) == code_free(before[code])  # the prose, byte for byte
        assert freshness.sync_code(english, after) == after
        assert f"chapters/{code}/scheduler.md: 1 code cells copied" in out
    assert translator.main(["--sync-code"], root=tree) == 0
    assert "already are the English ones" in capsys.readouterr().out


def test_sync_code_refuses_a_different_number_of_code_cells(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(chapter_source(tree), SEED_LINE, SEED_LINE.replace("vary", "differ"))
    text = chapter_source(tree, "zh").read_text(encoding="utf-8")
    cells = freshness.code_cells(mirror.MARKDOWN.parse(text))
    lines = text.split("\n")
    cell = cells[0]
    del lines[slice(*cell.map)]
    chapter_source(tree, "zh").write_text("\n".join(lines), encoding="utf-8")
    before = snapshot(tree)
    assert translator.main(["--sync-code"], root=tree) == 1
    err = capsys.readouterr().err
    assert (f"chapters/zh/scheduler.md has {len(cells) - 1} code cells, the English source "
            f"{len(cells)}") in err
    assert "Nothing was written" in err
    assert snapshot(tree) == before  # not even the languages before zh


# ------------------------------------------------------------------ the page


def test_a_stale_page_names_its_sections_in_its_language(tree: Path) -> None:
    edit(chapter_source(tree), WARMUP, WARMUP.replace("rather simple", "simple"))
    edit(chapter_source(tree), "we would expect significant divergence",
         "we expect significant divergence")  # the same section
    edit(chapter_source(tree), "## Summary\n", "## Summary\n\nIn short:\n")
    headings = freshness.stale_headings(tree, "ko")
    assert headings == ["워밍업", "요약"]
    assert freshness.stale_headings(tree, "en") == []
    text = read_book_text("ko", ROOT)
    page = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("(sec_scheduler)=\n# 학습률 스케줄링\n\n서론."),
        nbformat.v4.new_code_cell("x = 1"),
    ])
    pages.add_stale_notice(page, text.line("stale_translation",
                                           sections=text.listing(headings)))
    assert page.cells[0].source == textwrap.dedent(f"""\
        (sec_scheduler)=
        # 학습률 스케줄링

        :::{{warning}}
        :class: {pages.STALE_CLASS}
        {text.lines["stale_translation"].replace("{sections}", "워밍업 및 요약")}
        :::


        서론.""")


def test_the_notice_is_a_warning_on_the_page() -> None:
    """MyST reads the notice as an admonition with the class, and nothing else."""
    from docutils.core import publish_string
    from myst_parser.parsers.docutils_ import Parser

    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T\n\nText.")])
    pages.add_stale_notice(page, "Behind: *Warmup* and Summary.")
    html = publish_string(page.cells[0].source, parser=Parser(), writer_name="html5",
                          settings_overrides={"myst_enable_extensions": ["colon_fence"],
                                              "output_encoding": "unicode",
                                              "halt_level": 2})
    assert f'<aside class="admonition {pages.STALE_CLASS} warning">' in html
    assert "<p>Behind: <em>Warmup</em> and Summary.</p>" in html


# ------------------------------------------------------------------ no framework

BLOCKER = """
import runpy, sys
BLOCKED = {"sphinx", "jupyter_book", "myst_nb", "matplotlib", "torch", "mxnet",
           "tensorflow", "playwright"}
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked import of {name}")
sys.meta_path.insert(0, Blocker())
sys.argv = ["python -m bookbuild", *sys.argv[1:]]
runpy.run_module("bookbuild", run_name="__main__")
"""


def blocked_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER, *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.cli
def test_the_check_needs_no_framework_sphinx_or_matplotlib() -> None:
    done = blocked_run("translations", "--no-diff")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr  # 1: a translation needs work today
    assert all(f"{code}: " in done.stdout for code in TRANSLATIONS)
    # the blocker works: the build itself cannot start without those imports
    build = blocked_run("--lang", "en", "--build-dir", "/nonexistent")
    assert build.returncode != 0 and "blocked import of" in build.stderr
