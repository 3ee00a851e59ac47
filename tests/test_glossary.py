"""Each translation's glossary (`chapters/<lang>/glossary.yml`) names the one term it
uses for each of the section's key English terms, and the variants it must not use;
the page keeps to it.

A glossary maps an English term to `{use: ..., avoid: [...], allow: [...]}`:
  - `use` must appear on the page (case-insensitive);
  - no `avoid` variant may appear in the chapter's prose (headings, paragraphs, notes,
    the explorers' help text; not code, math, roles such as citations, or HTML
    comments), in the explorers' option values (their labels), or in any string of
    `book.yml` (its {placeholders} aside). Matching ignores case; a variant that starts
    with a Latin letter matches only at the start of a word (so "epok" catches "epoklar"
    but not "depoka"), any other (Hangul, Han) anywhere;
  - an occurrence of a variant inside an occurrence of one of the entry's `allow`
    phrases is legitimate (Korean 학습률 "learning rate" contains 학습, avoided for
    "training"; Chinese 重新运行 "re-run" contains 运行, avoided for "a run").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from myst_parser.parsers.directives import parse_directive_text

from bookbuild.translations import _parser
from bookbuild.vocabulary import LANGUAGES
from sphinxext.results_explorer import NAME as RESULTS
from sphinxext.results_explorer import ResultsExplorer
from sphinxext.schedule_explorer import NAME as SCHEDULES
from sphinxext.schedule_explorer import ScheduleExplorer

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
TRANSLATIONS = [lang.code for lang in LANGUAGES if lang.code != "en"]
REQUIRED = (
    "learning rate", "schedule", "scheduler", "epoch", "update", "step", "minibatch",
    "warmup", "decay", "factor", "overfitting", "gap", "run", "seed",
)
EXPLORERS = {f"{{{SCHEDULES}}}": ScheduleExplorer, f"{{{RESULTS}}}": ResultsExplorer}
PLACEHOLDER = re.compile(r"\{\w+\}")
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def prose(markdown: str) -> list[str]:
    """The words a reader reads in `markdown`: the text of every heading and paragraph
    (also inside notes and the explorers' help text) and the explorers' labels; not
    code (cells or inline), math, roles, HTML or the explorers' option names."""
    found = []
    for token in _parser.parse(markdown):
        if token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type == "text":
                    parts.append(child.content)
                elif child.type.endswith(("_open", "_close")):
                    continue  # emphasis, links: their text is the text tokens'
                else:  # code, math, roles, HTML, breaks: not words of the sentence
                    parts.append(" ")
            found.append("".join(parts))
        elif token.type == "colon_fence":
            kind = EXPLORERS.get(token.info.strip())
            if kind is None:  # a note, an admonition: markdown
                found += prose(token.content)
            else:
                parsed = parse_directive_text(kind, "", token.content)
                found += [str(value) for value in parsed.options.values()]
                found += prose("\n".join(parsed.body))
    return found


def page_text(code: str) -> list[tuple[str, str]]:
    """(where, text) of every piece of the page of language `code` the glossary rules."""
    source = (CHAPTERS / code / "scheduler.md").read_text(encoding="utf-8")
    pieces = [("scheduler.md", text) for text in prose(source)]
    book = yaml.safe_load((CHAPTERS / code / "book.yml").read_text(encoding="utf-8"))
    for key, value in book.items():  # the landing page is markdown, with a {ref}
        texts = prose(value) if key == "landing" else [value]
        pieces += [(f"book.yml `{key}`", PLACEHOLDER.sub(" ", text)) for text in texts]
    return pieces


def glossary(code: str) -> dict:
    return yaml.safe_load((CHAPTERS / code / "glossary.yml").read_text(encoding="utf-8"))


def spans(phrase: str, text: str) -> list[tuple[int, int]]:
    start = r"(?<![^\W\d_])" if LATIN.match(phrase) else ""
    return [m.span() for m in re.finditer(start + re.escape(phrase), text, re.IGNORECASE)]


def violations(entry: dict, text: str) -> list[str]:
    """The avoided variants of glossary `entry` in `text`, each with its context."""
    allowed = [span for phrase in entry.get("allow", []) for span in spans(phrase, text)]
    found = []
    for variant in entry.get("avoid", []):
        for start, end in spans(variant, text):
            if not any(a <= start and end <= b for a, b in allowed):
                found.append(f"{variant!r} in …{text[max(0, start - 30):end + 30]}…")
    return found


def test_violations_respect_words_and_allowed_phrases() -> None:
    entry = {"avoid": ["epok", "학습", "运行"], "allow": ["학습률", "重新运行"]}
    assert violations(entry, "depoka 학습률 重新运行") == []
    assert len(violations(entry, "Epoklar 학습 손실 所有运行")) == 3


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_glossary_covers_the_terms(code: str) -> None:
    terms = glossary(code)
    missing = [term for term in REQUIRED if term not in terms]
    assert not missing, f"{code}: glossary.yml lacks {missing}"
    for term, entry in terms.items():
        assert isinstance(entry, dict) and set(entry) <= {"use", "avoid", "allow"}, term
        assert isinstance(entry.get("use"), str) and entry["use"].strip(), term
        for key in ("avoid", "allow"):
            assert all(isinstance(v, str) and v.strip() for v in entry.get(key, [])), term
        own = violations(entry, entry["use"])
        assert not own, f"{code}: {term}: its `use` term contains an avoided variant"


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_page_uses_the_glossary_terms(code: str) -> None:
    text = "\n".join(piece for _, piece in page_text(code)).casefold()
    unused = [f"{term} → {entry['use']}" for term, entry in glossary(code).items()
              if entry["use"].casefold() not in text]
    assert not unused, f"{code}: glossary terms the page never uses: {unused}"


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_page_avoids_the_glossary_variants(code: str) -> None:
    found = [f"{term} (use {entry['use']!r}): {where}: {problem}"
             for term, entry in glossary(code).items()
             for where, text in page_text(code)
             for problem in violations(entry, text)]
    assert not found, f"{code}: variants its glossary.yml avoids:\n" + "\n".join(found)
