"""`python -m bookbuild translations`: the translators' check, and the commands that
record a translated part as up to date and copy the English code cells.

It imports no framework, no Sphinx, Jupyter Book, MyST-NB or matplotlib (the small
requirements-translate.txt installs what it needs; tests/test_translator.py runs it with
those imports blocked), and takes seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from . import freshness, glossary, landing, mirror
from .config import ROOT
from .files import write_text_atomic
from .sources import SourceError, read_source
from .vocabulary import LANGUAGES, SOURCE_LANGUAGE, chapter_source

PROG = "python -m bookbuild translations"
TRANSLATIONS = tuple(lang.code for lang in LANGUAGES if lang.code != SOURCE_LANGUAGE)

DESCRIPTION = f"""\
Check translations against the English source (default: all of {', '.join(TRANSLATIONS)}):

  structure  chapters/<lang>/scheduler.md mirrors chapters/en/scheduler.md: the same
             headings, code cells, math, labels, citations and number of exercises
  sources    the chapter is well-formed MyST (fences, cell options, references, the
             explorers' options) and book.yml has every text with its placeholders
  glossary   the page and book.yml keep to chapters/<lang>/glossary.yml
  freshness  no part (a section, a book.yml text) changed in English since it was
             translated (chapters/<lang>/translated_from.yml); for each part that did,
             what changed in the English (from git)

Exit status: 0 when every check passes, 1 when one fails, 2 for a wrong command line.

After updating the translation of a part whose English changed, record it:
  {PROG} ko --done "Warmup"
(the English heading, the translated one, or a book.yml key; repeatable). When the
English code changed, copy every code cell into every translation with --sync-code.
docs/translating.md has the whole workflow.
"""


class Parser(argparse.ArgumentParser):
    """argparse, with each error as one paragraph (no usage block above it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the "
                     "options.)\n")


def parser() -> Parser:
    p = Parser(prog=PROG, description=DESCRIPTION,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("langs", nargs="*", metavar="LANG",
                   help=f"the translations to check ({', '.join(TRANSLATIONS)}); "
                        "default: all")
    p.add_argument("--done", action="append", metavar="PART", default=[],
                   help="record that the translation of PART (a section's English or "
                        "translated heading, or a book.yml key) is up to date with the "
                        "English now; PART must be behind the English; one LANG only")
    p.add_argument("--done-all", action="store_true",
                   help="record every part of LANG that is behind the English as up to "
                        "date (one LANG only; lists what it records)")
    p.add_argument("--sync-code", action="store_true",
                   help="copy every code cell (the whole {code-cell} fence, with its "
                        "options) from chapters/en/scheduler.md into the translations, "
                        "by position; the prose stays as it is")
    p.add_argument("--no-diff", action="store_true",
                   help="list the parts behind the English without what changed in them")
    return p


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    p = parser()
    args = p.parse_args(argv)
    unknown = [code for code in args.langs if code not in TRANSLATIONS]
    if unknown:
        english = (f" ({SOURCE_LANGUAGE} is the English source the others are checked "
                   "against)" if SOURCE_LANGUAGE in unknown else "")
        p.error(f"unknown translation {', '.join(unknown)}{english}; the translations "
                f"are {', '.join(TRANSLATIONS)}")
    langs = list(dict.fromkeys(args.langs)) or list(TRANSLATIONS)
    recording = bool(args.done) or args.done_all
    if sum((bool(args.done), args.done_all, args.sync_code)) > 1:
        p.error("--done, --done-all and --sync-code are separate steps: give one of them")
    if recording and len(args.langs) != 1:
        p.error(f"{'--done' if args.done else '--done-all'} records one translation: name "
                f"exactly one LANG, e.g. `{PROG} ko --done \"Warmup\"`")
    if args.sync_code:
        return sync_code(root, langs)
    if recording:
        return record_done(root, langs[0], args.done, args.done_all)
    start = time.perf_counter()
    failed = [code for code in langs if not check(root, code, diff=not args.no_diff)]
    seconds = time.perf_counter() - start
    if failed:
        print(f"{len(failed)} of {len(langs)} translations need work: "
              f"{', '.join(failed)} ({seconds:.1f} s)")
        return 1
    print(f"all checks pass for {', '.join(langs)} ({seconds:.1f} s)")
    return 0


# ------------------------------------------------------------------ the check


def _problems(what: Callable[[], list[str]]) -> list[str]:
    """The problems a check reports, or the error that stopped it, as problems."""
    try:
        return what()
    except (SourceError, landing.BookTextError, glossary.GlossaryError,
            freshness.FreshnessError) as error:
        return [str(error)]
    except OSError as error:
        return [f"cannot read {error.filename}: {error.strerror}"]


def structure_problems(root: Path, code: str) -> list[str]:
    return mirror.mirror_problems(chapter_source(root, code), chapter_source(root))


def source_problems(root: Path, code: str) -> list[str]:
    read_source(chapter_source(root, code),
                mirror.english_explorers(chapter_source(root)))
    landing.read_book_text(code, root)
    return []


def glossary_problems(root: Path, code: str) -> list[str]:
    return glossary.problems(code, root, mirror.english_explorers(chapter_source(root)))


def check(root: Path, code: str, diff: bool = True) -> bool:
    """Run the four checks on translation `code`, printing what each finds; whether all
    passed."""
    results = {
        "structure": _problems(lambda: structure_problems(root, code)),
        "sources": _problems(lambda: source_problems(root, code)),
        "glossary": _problems(lambda: glossary_problems(root, code)),
    }
    stale: list[freshness.Block] = []
    all_blocks: list[freshness.Block] = []

    def fresh() -> list[str]:
        all_blocks.extend(freshness.blocks(root, code))
        stale.extend(b for b in all_blocks if b.stale)
        return [b.name for b in stale]

    results["freshness"] = _problems(fresh)
    ok = not any(results.values())
    if ok:
        sections = sum(b.kind == "section" for b in all_blocks)
        print(f"{code}: up to date with the English ({sections} sections and "
              f"{len(all_blocks) - sections} book.yml texts); structure, sources and "
              "glossary pass")
        return True
    print(f"{code}: " + ", ".join(
        f"{name} {'ok' if not found else 'FAILS'}" for name, found in results.items()))
    for name in ("structure", "sources", "glossary"):
        for problem in results[name]:
            print(f"  {name}: {problem}")
    if stale:
        _print_stale(root, code, stale, all_blocks, diff)
    elif results["freshness"]:
        for problem in results["freshness"]:
            print(f"  freshness: {problem}")
    return False


def _print_stale(root: Path, code: str, stale: list[freshness.Block],
                 all_blocks: list[freshness.Block], diff: bool) -> None:
    print(f"  freshness: {len(stale)} of {len(all_blocks)} parts changed in English since "
          "they were translated:")
    changes = freshness.what_changed(root, stale) if diff else {}
    for block in stale:
        shown = f" ({block.shown})" if block.shown != block.key else ""
        if block.recorded is None:
            print(f"  - {block.name}{shown}: no record of the English it translates")
            continue
        change = changes.get((block.kind, block.key))
        if change is None:
            english = ("chapters/en/scheduler.md" if block.kind == "section"
                       else "chapters/en/book.yml")
            found = ("" if not diff else ", and the English it was recorded against is "
                     f"not in the last {freshness.HISTORY_LIMIT} commits of {english}")
            print(f"  - {block.name}{shown}: the English changed{found}; "
                  f"`git log -p {english}` shows its changes")
        else:
            print(f"  - {block.name}{shown}: the English changed:")
            print("\n".join("      " + line for line in change.splitlines()))
    first = stale[0]
    print(f"  After updating the translation of a part: {PROG} {code} --done "
          f"\"{first.key}\" (one --done per part).")


# ------------------------------------------------------------------ --done


def record_done(root: Path, code: str, names: list[str], done_all: bool) -> int:
    """Record the named stale parts (or all, `done_all`) of `code` as translating the
    English now. Refused, with nothing written, when the chapter does not mirror the
    English (its sections would not be the English ones) or a name is not a part
    behind the English."""
    structure = _problems(lambda: structure_problems(root, code))
    if structure:
        print(f"{PROG}: {code} does not mirror the English source, so its sections cannot "
              f"be matched to the English ones: {'; '.join(structure)}. Fix that first; "
              "nothing was recorded.", file=sys.stderr)
        return 1
    try:
        every = freshness.blocks(root, code)
    except freshness.FreshnessError as error:
        print(f"{PROG}: {error}; nothing was recorded.", file=sys.stderr)
        return 1
    stale = [b for b in every if b.stale]
    if done_all:
        chosen = stale
    else:
        chosen, problems = [], []
        for name in dict.fromkeys(names):
            matches = [b for b in every if name in (b.key, b.shown)]
            if not matches:
                problems.append(f"{name!r} is neither a heading of the English or the {code} "
                                "chapter nor a book.yml key")
            elif len(matches) > 1:
                problems.append(f"{name!r} names {len(matches)} parts "
                                f"({', '.join(b.name for b in matches)})")
            elif not matches[0].stale:
                problems.append(f"{matches[0].name} is up to date with the English already")
            else:
                chosen.append(matches[0])
        if problems:
            behind = ", ".join(repr(b.key) for b in stale) or "none"
            print(f"{PROG}: {'; '.join(problems)}. Parts of {code} behind the English: "
                  f"{behind}. Nothing was recorded.", file=sys.stderr)
            return 1
    if not chosen:
        print(f"{code}: every part is up to date with the English; nothing to record")
        return 0
    path = freshness.write_record(root, code, freshness.recorded(root, code, chosen))
    for block in chosen:
        shown = f" ({block.shown})" if block.shown != block.key else ""
        print(f"{code}: recorded {block.name}{shown} as translating the English now")
    print(f"wrote {path.relative_to(root)}: commit it with the translation")
    return 0


# ------------------------------------------------------------------ --sync-code


def sync_code(root: Path, langs: list[str]) -> int:
    """Copy the English code cells into each translation of `langs`: every file checked
    first, then the changed ones written, each whole."""
    english = chapter_source(root).read_text(encoding="utf-8")
    updated: dict[Path, tuple[str, int]] = {}
    for code in langs:
        path = chapter_source(root, code)
        try:
            text = path.read_text(encoding="utf-8")
            synced = freshness.sync_code(english, text, str(path.relative_to(root)))
        except (freshness.FreshnessError, OSError) as error:
            print(f"{PROG} --sync-code: {error}. Nothing was written (no language).",
                  file=sys.stderr)
            return 1
        if synced != text:
            changed = sum(a != b for a, b in zip(_cells(text), _cells(synced), strict=True))
            updated[path] = (synced, changed)
    for path, (text, _) in updated.items():
        write_text_atomic(path, text)
    for path, (_, changed) in updated.items():
        print(f"{path.relative_to(root)}: {changed} code cells copied from the English")
    if updated:
        print("Regenerate the notebooks and commit them with the chapters: "
              "python -m bookbuild --notebooks-only")
    else:
        print(f"the code cells of {', '.join(langs)} already are the English ones")
    return 0


def _cells(text: str) -> list[str]:
    lines = text.split("\n")
    return ["\n".join(lines[slice(*t.map)])
            for t in freshness.code_cells(mirror.MARKDOWN.parse(text))]
