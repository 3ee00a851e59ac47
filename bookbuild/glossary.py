"""Each translation's glossary (`chapters/<lang>/glossary.yml`) names the one term it
uses for each of the section's key English terms, and the variants it must not use;
the page keeps to it. tests/test_glossary.py and the translators' check
(`python -m bookbuild translations`) both ask :func:`problems`.

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

import yaml

from .mirror import MARKDOWN, Explorers
from .vocabulary import chapter_source

FILE_NAME = "glossary.yml"
# The terms every glossary must cover (issue 24).
REQUIRED = (
    "learning rate", "schedule", "scheduler", "epoch", "update", "step", "minibatch",
    "warmup", "decay", "factor", "overfitting", "gap", "run", "seed",
)
PLACEHOLDER = re.compile(r"\{\w+\}")
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


class GlossaryError(ValueError):
    """A glossary cannot be read; the message names the file."""


def prose(markdown: str, explorers: Explorers) -> list[str]:
    """The words a reader reads in `markdown`: the text of every heading and paragraph
    (also inside notes and the explorers' help text) and the explorers' labels; not
    code (cells or inline), math, roles, HTML or the explorers' option names.
    `explorers`: the page-only directives, by name, whose options are labels."""
    found = []
    for token in MARKDOWN.parse(markdown):
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
            kind = explorers.get(token.info.strip().strip("{}"))
            if kind is None:  # a note, an admonition: markdown
                found += prose(token.content, explorers)
            else:
                parsed = kind[0](token.content)
                found += [str(value) for value in parsed.options.values()]
                found += prose("\n".join(parsed.body), explorers)
    return found


def page_text(code: str, root: Path, explorers: Explorers) -> list[tuple[str, str]]:
    """(where, text) of every piece of the page of language `code` the glossary rules:
    the chapter's prose and every string of its `book.yml`."""
    path = chapter_source(root, code)
    pieces = [(path.name, text) for text in prose(path.read_text(encoding="utf-8"), explorers)]
    book = yaml.safe_load((root / "chapters" / code / "book.yml").read_text(encoding="utf-8"))
    for key, value in book.items():  # the landing page is markdown, with a {ref}
        texts = prose(value, explorers) if key == "landing" else [value]
        pieces += [(f"book.yml `{key}`", PLACEHOLDER.sub(" ", text)) for text in texts]
    return pieces


def glossary_path(code: str, root: Path) -> Path:
    return root / "chapters" / code / FILE_NAME


def load(code: str, root: Path) -> dict:
    """The glossary of language `code`, as written."""
    path = glossary_path(code, root)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlossaryError(f"{path}: missing; every translation needs its glossary "
                            "(docs/translating.md)") from None
    except yaml.YAMLError as error:
        raise GlossaryError(f"{path}: not valid YAML: {error}") from None


def spans(phrase: str, text: str) -> list[tuple[int, int]]:
    """Where `phrase` occurs in `text`, ignoring case; a phrase starting with a Latin
    letter only at the start of a word."""
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


def entry_problems(terms: object) -> list[str]:
    """What is wrong with a glossary's form: a required term missing, an entry that is
    not `{use, avoid, allow}` with text values, a `use` term its own entry avoids."""
    if not isinstance(terms, dict):
        return [f"a glossary maps English terms to entries; got {type(terms).__name__}"]
    problems = [f"lacks the term {term!r}" for term in REQUIRED if term not in terms]
    for term, entry in terms.items():
        if not (isinstance(entry, dict) and set(entry) <= {"use", "avoid", "allow"}
                and isinstance(entry.get("use"), str) and entry["use"].strip()
                and all(isinstance(values, list)
                        and all(isinstance(v, str) and v.strip() for v in values)
                        for key, values in entry.items() if key != "use")):
            problems.append(f"{term!r}: an entry is {{use: term, avoid: [...], allow: "
                            f"[...]}} with words as values; got {entry!r}")
        elif violations(entry, entry["use"]):
            problems.append(f"{term!r}: its `use` term contains an avoided variant")
    return problems


def unused(terms: dict, pieces: list[tuple[str, str]]) -> list[str]:
    """The glossary's terms the page never uses, as "term → use"."""
    text = "\n".join(piece for _, piece in pieces).casefold()
    return [f"{term} → {entry['use']}" for term, entry in terms.items()
            if entry["use"].casefold() not in text]


def avoided(terms: dict, pieces: list[tuple[str, str]]) -> list[str]:
    """Every avoided variant on the page: the term, where, and the variant in context."""
    return [f"{term} (use {entry['use']!r}): {where}: {problem}"
            for term, entry in terms.items()
            for where, text in pieces
            for problem in violations(entry, text)]


def problems(code: str, root: Path, explorers: Explorers) -> list[str]:
    """Every way the page of language `code` departs from its glossary (empty: none).

    Raises GlossaryError when the glossary is missing or not YAML."""
    terms = load(code, root)
    found = entry_problems(terms)
    if found:
        return found
    pieces = page_text(code, root, explorers)
    return ([f"the page never uses {item}" for item in unused(terms, pieces)]
            + avoided(terms, pieces))
