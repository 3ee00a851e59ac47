"""Which parts of a translation lag behind the English text, and copying the English
code cells into the translations.

A translation is made of blocks: the chapter's sections (every heading starts one; the
mirror check of :mod:`bookbuild.mirror` keeps the same headings in the same order
in every language) and the strings of `book.yml`, by key. A block's English version is a
short hash of the English text: a section's prose and markup without its code cells
(code is copied, not translated: :func:`sync_code`), each line's trailing spaces and
runs of blank lines normalized away; a `book.yml` string's value.

Each translation records, in `chapters/<lang>/translated_from.yml`, the English version
every block of it translates. Only `python -m bookbuild translations <lang> --done ...`
writes that file (the chapters are edited by people; a record kept beside them never
conflicts with their edits). A block whose English hash differs from the recorded one,
or that has no record, is stale: the command lists it, and the built page of that
language names the stale sections in a notice (:func:`stale_headings`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .files import write_text_atomic
from .mirror import MARKDOWN
from .sources import fence_problems
from .vocabulary import SOURCE_LANGUAGE, chapter_source

RECORD = "translated_from.yml"
HASH_CHARS = 12
CODE_CELL = "{code-cell}"
# How far back `git log` is searched for the English a record was made against.
HISTORY_LIMIT = 200
RECORD_HEADER = """\
# Which version of the English text each part of this translation translates: for
# every section of chapters/{lang}/scheduler.md (by its English heading) and every
# string of chapters/{lang}/book.yml (by key), a hash of the English text it was last
# brought up to date with. Written only by `python -m bookbuild translations`; do not
# edit it by hand. After updating the translation of a part whose English changed:
#   python -m bookbuild translations {lang} --done "<English heading or book.yml key>"
# (docs/translating.md).
"""


class FreshnessError(ValueError):
    """A record cannot be read or written, or the code cells cannot be copied; the
    message names the file and what to do."""


# ------------------------------------------------------------------ blocks


def english_hash(text: str) -> str:
    """The short hash of an English block's text (already normalized)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def normalize(lines: Iterable[str]) -> str:
    """`lines` without trailing spaces, with runs of blank lines as one, and without
    blank lines at either end: what a change to must change the hash."""
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def code_cells(tokens: list) -> list:
    """The top-level `{code-cell}` fences (what jupytext reads as code cells)."""
    return [t for t in tokens if t.type == "fence" and t.level == 0 and t.map is not None
            and t.info.startswith(CODE_CELL)]


@dataclass(frozen=True)
class Section:
    heading: str  # the heading's text as written (markdown)
    text: str  # the section's prose and markup, code cells left out, normalized

    @property
    def hash(self) -> str:
        return english_hash(self.text)


def sections(markdown: str) -> list[Section]:
    """The sections of a chapter source, each from its heading to the next heading,
    the first from the start (after the front matter)."""
    tokens = MARKDOWN.parse(markdown)
    lines = markdown.split("\n")
    code = {i for t in code_cells(tokens) for i in range(*t.map)}
    start = next((t.map[1] for t in tokens if t.type == "front_matter"), 0)
    heads = [(tokens[i].map[0], tokens[i + 1].content) for i, t in enumerate(tokens)
             if t.type == "heading_open"]
    found = []
    for k, (first, heading) in enumerate(heads):
        begin = start if k == 0 else first
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        found.append(Section(heading, normalize(
            lines[i] for i in range(begin, end) if i not in code)))
    return found


def book_strings(text: str) -> dict[str, str]:
    """The strings of a `book.yml`, by key, normalized."""
    data = yaml.safe_load(text)
    return {str(key): normalize(str(value).split("\n")) for key, value in data.items()}


def _keyed(headings: Sequence[str]) -> list[tuple[str, int]]:
    """(heading, its occurrence among equal headings): how records name sections."""
    seen: dict[str, int] = {}
    keys = []
    for heading in headings:
        seen[heading] = seen.get(heading, -1) + 1
        keys.append((heading, seen[heading]))
    return keys


# ------------------------------------------------------------------ records


@dataclass
class Record:
    """What a translation's blocks translate: English section heading → hash (in the
    chapter's order; a heading met twice is listed twice), `book.yml` key → hash."""

    sections: list[tuple[str, str]]
    book: dict[str, str]

    def section_hashes(self) -> dict[tuple[str, int], str]:
        keys = _keyed([heading for heading, _ in self.sections])
        return {key: h for key, (_, h) in zip(keys, self.sections, strict=True)}


def record_path(root: Path, code: str) -> Path:
    return root / "chapters" / code / RECORD


def read_record(root: Path, code: str) -> Record:
    """The record of language `code` (empty when it has none yet)."""
    path = record_path(root, code)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Record([], {})
    except yaml.YAMLError as error:
        raise FreshnessError(f"{path}: not valid YAML ({error}); it is written by `python "
                             "-m bookbuild translations`: restore it with git") from None
    try:
        sections_ = [(str(s["heading"]), str(s["english"])) for s in data["sections"]]
        book = {str(k): str(v) for k, v in data["book"].items()}
    except (TypeError, KeyError, AttributeError):
        raise FreshnessError(f"{path}: not a record of `sections` and `book`; it is "
                             "written by `python -m bookbuild translations`: restore it "
                             "with git") from None
    return Record(sections_, book)


def write_record(root: Path, code: str, record: Record) -> Path:
    """Write the record of language `code`, whole or not at all."""
    path = record_path(root, code)
    body = yaml.safe_dump(
        {"sections": [{"heading": h, "english": e} for h, e in record.sections],
         "book": dict(record.book)},
        allow_unicode=True, sort_keys=False, width=1000)
    write_text_atomic(path, RECORD_HEADER.format(lang=code) + body)
    return path


# ------------------------------------------------------------------ staleness


@dataclass(frozen=True)
class Block:
    """One block of a translation: a section (`key` its English heading, `shown` the
    translation's) or a `book.yml` string (`key` and `shown` its key)."""

    kind: str  # "section" or "book"
    key: str
    shown: str
    english: str  # the English text now (normalized)
    recorded: str | None  # the hash the translation records, None: no record

    @property
    def hash(self) -> str:
        return english_hash(self.english)

    @property
    def stale(self) -> bool:
        return self.recorded != self.hash

    @property
    def name(self) -> str:
        return self.key if self.kind == "section" else f"book.yml `{self.key}`"


def blocks(root: Path, code: str) -> list[Block]:
    """Every block of the translation `code`, in order: its sections, then its
    `book.yml` strings."""
    english = sections(chapter_source(root).read_text(encoding="utf-8"))
    mine = sections(chapter_source(root, code).read_text(encoding="utf-8"))
    record = read_record(root, code)
    recorded = record.section_hashes()
    found = []
    for i, (key, section) in enumerate(zip(_keyed([s.heading for s in english]), english,
                                           strict=True)):
        shown = mine[i].heading if i < len(mine) else section.heading
        found.append(Block("section", section.heading, shown, section.text,
                           recorded.get(key)))
    book = book_strings((root / "chapters" / SOURCE_LANGUAGE / "book.yml")
                        .read_text(encoding="utf-8"))
    found += [Block("book", key, key, value, record.book.get(key))
              for key, value in book.items()]
    return found


def stale_headings(root: Path, code: str) -> list[str]:
    """The translated headings of the sections of `code` whose English changed since
    they were translated (for the page's notice); none for English."""
    if code == SOURCE_LANGUAGE:
        return []
    return [b.shown for b in blocks(root, code) if b.kind == "section" and b.stale]


def recorded(root: Path, code: str, done: Iterable[Block]) -> Record:
    """The record of `code` with the blocks `done` brought up to the English now, every
    other block as recorded before (a block the English no longer has is dropped)."""
    done_keys = {(b.kind, b.key) for b in done}
    record = read_record(root, code)
    old = record.section_hashes()
    english = sections(chapter_source(root).read_text(encoding="utf-8"))
    new_sections = []
    for key, section in zip(_keyed([s.heading for s in english]), english, strict=True):
        h = section.hash if ("section", section.heading) in done_keys else old.get(key)
        if h is not None:
            new_sections.append((section.heading, h))
    book = book_strings((root / "chapters" / SOURCE_LANGUAGE / "book.yml")
                        .read_text(encoding="utf-8"))
    new_book = {}
    for key, value in book.items():
        h = english_hash(value) if ("book", key) in done_keys else record.book.get(key)
        if h is not None:
            new_book[key] = h
    return Record(new_sections, new_book)


# ------------------------------------------------------------------ what changed


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _english_versions(root: Path, rel: str) -> Iterator[tuple[str, str]]:
    """(commit and date, the file's text there) of the commits that changed the English
    file `rel`, newest first."""
    log = _git(root, "log", f"-n{HISTORY_LIMIT}", "--format=%h %cs", "--", rel)
    for line in (log or "").splitlines():
        commit = line.split()[0]
        text = _git(root, "show", f"{commit}:{rel}")
        if text is not None:
            yield line, text


def what_changed(root: Path, stale: Sequence[Block]) -> dict[tuple[str, str], str]:
    """For each stale block with a record, a unified diff of its English from the
    version the record names (found in git history) to now, by (kind, key); a block
    whose recorded English is not found gets no entry."""
    wanted = {(b.kind, b.key): b for b in stale if b.recorded is not None}
    diffs: dict[tuple[str, str], str] = {}
    files = {"section": f"chapters/{SOURCE_LANGUAGE}/scheduler.md",
             "book": f"chapters/{SOURCE_LANGUAGE}/book.yml"}
    for kind, rel in files.items():
        todo = {key: b for (k, key), b in wanted.items() if k == kind}
        for version, text in _english_versions(root, rel) if todo else ():
            try:
                old = ({s.heading: s.text for s in sections(text)} if kind == "section"
                       else book_strings(text))
            except (yaml.YAMLError, AttributeError):
                continue
            for key in [k for k, b in todo.items()
                        if k in old and english_hash(old[k]) == b.recorded]:
                block = todo.pop(key)
                diffs[(kind, key)] = "\n".join(difflib.unified_diff(
                    old[key].split("\n"), block.english.split("\n"),
                    f"English at {version}", "English now", n=0, lineterm=""))
            if not todo:
                break
    return diffs


# ------------------------------------------------------------------ code cells


def sync_code(english: str, translation: str, where: str = "the translation") -> str:
    """`translation` with each of its code cells (the whole ```{code-cell} fence, with
    its options) replaced by the English one at the same position; every other line as
    it was.

    Raises FreshnessError when either source has a fence that is not closed, or when
    the two have different numbers of code cells."""
    texts = {"the English source": english, where: translation}
    cells = {}
    for name, text in texts.items():
        tokens = MARKDOWN.parse(text)
        broken = fence_problems(tokens, text.split("\n"))
        if broken:
            line, problem = broken[0]
            raise FreshnessError(f"{name}, line {line}: {problem}; no code cell was copied")
        cells[name] = [t.map for t in code_cells(tokens)]
    theirs, mine = cells["the English source"], cells[where]
    if len(theirs) != len(mine):
        raise FreshnessError(
            f"{where} has {len(mine)} code cells, the English source {len(theirs)}: "
            "code cells are copied by position, so add or remove the translation's "
            "cells (copy the fence from chapters/en/scheduler.md) until the counts "
            "match; no code cell was copied")
    en_lines, lines = english.split("\n"), translation.split("\n")
    for (en_first, en_end), (first, end) in reversed(list(zip(theirs, mine, strict=True))):
        lines[first:end] = en_lines[en_first:en_end]
    return "\n".join(lines)
