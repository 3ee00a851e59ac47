"""Each translation's glossary (`chapters/<lang>/glossary.yml`) names the one term it
uses for each of the section's key English terms, and the variants it must not use;
the page keeps to it. The rules, and the code that applies them, are in
bookbuild/glossary.py (shared with `python -m bookbuild translations`); here they are
applied with the Sphinx extension's own explorer directives."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild import glossary
from bookbuild.mirror import english_explorers
from bookbuild.sources import sphinx_explorers
from bookbuild.vocabulary import LANGUAGES, chapter_source

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = [lang.code for lang in LANGUAGES if lang.code != "en"]


@pytest.fixture(scope="module")
def explorers() -> glossary.Explorers:
    return sphinx_explorers()


def test_violations_respect_words_and_allowed_phrases() -> None:
    entry = {"avoid": ["epok", "학습", "运行"], "allow": ["학습률", "重新运行"]}
    assert glossary.violations(entry, "depoka 학습률 重新运行") == []
    assert len(glossary.violations(entry, "Epoklar 학습 손실 所有运行")) == 3


def test_entry_problems_name_the_missing_and_malformed() -> None:
    terms = {term: {"use": term} for term in glossary.REQUIRED}
    assert glossary.entry_problems(terms) == []
    del terms["seed"]
    terms["run"] = {"use": "run", "avoid": "run"}  # a word, not a list
    terms["gap"] = {"use": "gap", "avoid": ["gap"]}
    assert glossary.entry_problems(terms) == [
        "lacks the term 'seed'",
        "'gap': its `use` term contains an avoided variant",
        "'run': an entry is {use: term, avoid: [...], allow: [...]} with words as values; "
        "got {'use': 'run', 'avoid': 'run'}",
    ]


def test_explorer_labels_are_prose_with_either_directive_table(
        explorers: glossary.Explorers) -> None:
    """The translators' check reads the explorers with directives made from the English
    source's options; the page text it sees is the Sphinx extension's."""
    english = english_explorers(chapter_source(ROOT))
    assert {name: list(options) for name, (_, options) in english.items()} == {
        name: list(options) for name, (_, options) in explorers.items()}
    for code in TRANSLATIONS:
        assert glossary.page_text(code, ROOT, english) == glossary.page_text(
            code, ROOT, explorers)


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_glossary_covers_the_terms(code: str) -> None:
    assert glossary.entry_problems(glossary.load(code, ROOT)) == []


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_page_uses_the_glossary_terms(code: str, explorers: glossary.Explorers) -> None:
    unused = glossary.unused(glossary.load(code, ROOT),
                             glossary.page_text(code, ROOT, explorers))
    assert not unused, f"{code}: glossary terms the page never uses: {unused}"


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_page_avoids_the_glossary_variants(code: str, explorers: glossary.Explorers) -> None:
    found = glossary.avoided(glossary.load(code, ROOT),
                             glossary.page_text(code, ROOT, explorers))
    assert not found, f"{code}: variants its glossary.yml avoids:\n" + "\n".join(found)
