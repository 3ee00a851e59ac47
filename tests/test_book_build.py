"""A quick build of the whole book (all languages, capped data) in a fresh build
folder, checked as a reader would meet it: tabs around every code cell, images
that exist, no error outputs, the language switcher, Colab links, `<html lang>`,
localised theme labels, each book's title, author line and landing page in its
language, and a search index that finds each language's words."""

from __future__ import annotations

import ast
import gettext
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import pydata_sphinx_theme
import pytest
import sphinx
import sphinx_book_theme
from bs4 import BeautifulSoup
from IPython.core.inputtransformer2 import TransformerManager
from markdown_it import MarkdownIt
from mdit_py_plugins.myst_role import myst_role_plugin
from sphinx.search import languages as search_languages

from bookbuild.landing import read_book_text
from bookbuild.results import english_claims
from bookbuild.vocabulary import FRAMEWORK_TAGS, FRAMEWORKS, LANGUAGES, RUNS

ROOT = Path(__file__).resolve().parent.parent
# A word from each language's prose, as a reader would type it into the search box
SEARCH_WORDS = {
    "en": "warmup", "ko": "학습률", "id": "penjadwalan", "tr": "öğrenme",
    "pt": "aprendizado", "zh": "学习率",
}

# Where the theme labels' translations come from: sphinx-book-theme's catalog, then
# pydata-sphinx-theme's and Sphinx's own (the "sphinx" domain).
CATALOGS = [
    ("booktheme", Path(sphinx_book_theme.__file__).parent / "theme" / "sphinx_book_theme"
     / "static" / "locales"),
    ("sphinx", Path(pydata_sphinx_theme.__file__).parent / "locale"),
    ("sphinx", Path(sphinx.__file__).parent / "locale"),
]


def page(html_dir: Path, code: str) -> tuple[Path, BeautifulSoup]:
    path = html_dir / code / "chapters" / code / "scheduler.html"
    assert path.exists(), f"missing {path}"
    return path, BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


# What makes a figure in a code cell's output: a training run (its Animator), a plot, the
# results overview.
FIGURE_CALLS = {"train", "d2l.plot", "d2l.show_results"}


def shown_code_cells(code: str) -> list[tuple[tuple[str, ...], str, list[str]]]:
    """The code cells of the language's chapter source, read with jupytext (not the
    build), each as (the frameworks whose tab shows it, its source, its tags): a cell
    tagged with frameworks is on their tabs, an untagged one on every tab."""
    nb = jupytext.read(ROOT / "chapters" / code / "scheduler.md", fmt="md:myst")
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            shown = tuple(fw for fw in FRAMEWORK_TAGS if fw in tags) or FRAMEWORK_TAGS
            cells.append((shown, cell.source, tags))
    return cells


def top_level_calls(source: str) -> list[str]:
    """Names of the functions a cell calls when it runs (not in its def/class bodies),
    e.g. "train", "d2l.plot"."""
    module = ast.parse(TransformerManager().transform_cell(source))  # %magics -> Python
    calls, todo = [], [s for s in module.body if not isinstance(
        s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    for statement in todo:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                calls.append(ast.unparse(node.func))
    return calls


def expected_figures(code: str) -> dict[str, int]:
    """{framework: figures its tab shows}: one per figure call of each shown cell whose
    output is not removed."""
    figures = dict.fromkeys(FRAMEWORK_TAGS, 0)
    for shown, source, tags in shown_code_cells(code):
        if "remove-output" not in tags:
            for fw in shown:
                figures[fw] += sum(call in FIGURE_CALLS for call in top_level_calls(source))
    return figures


def tab_of(node) -> str:
    """The framework (sync id) of the tab holding `node`."""
    content = node.find_parent("div", class_="sd-tab-content")
    return content.find_previous_sibling("label")["data-sync-id"]


def local_target(page_path: Path, url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (page_path.parent / parts.path).resolve()


def test_each_framework_executes_once(build) -> None:
    _, stdout = build
    n = len(LANGUAGES) * len(FRAMEWORKS)
    assert f"notebooks executed: {len(FRAMEWORKS)} of {n}" in stdout, stdout[-2000:]


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_every_code_cell_sits_in_three_framework_tabs(build, lang) -> None:
    html_dir, _ = build
    _, soup = page(html_dir, lang.code)
    cells = soup.select("div.cell")
    assert len(cells) == sum(len(shown) for shown, _, _ in shown_code_cells(lang.code)), \
        f"{lang.code}: one div.cell per shown cell of the source and tab"
    for cell in cells:
        tab_set = cell.find_parent("div", class_="sd-tab-set")
        assert tab_set is not None, f"{lang.code}: a code cell outside a tab-set"
        labels = [label.get_text(strip=True) for label in tab_set.select("label.sd-tab-label")]
        assert labels == [label for _, label in FRAMEWORKS]
        syncs = [label["data-sync-id"] for label in tab_set.select("label.sd-tab-label")]
        assert syncs == [tag for tag, _ in FRAMEWORKS]
        assert all(c.select("div.cell") for c in tab_set.select("div.sd-tab-content"))


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_outputs_are_real_and_images_exist(build, lang) -> None:
    html_dir, _ = build
    path, soup = page(html_dir, lang.code)
    assert not soup.select("div.cell div.output.error, div.cell div.output.traceback")
    text = soup.get_text()
    assert "Traceback" not in text
    runs = sum(len(shown) * top_level_calls(source).count("train")
               for shown, source, tags in shown_code_cells(lang.code)
               if "remove-output" not in tags)
    assert runs == len(RUNS) * len(FRAMEWORKS)  # what the chapter says it trains
    assert len(re.findall(r"train loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}", text)) \
        == runs
    images = soup.select("div.cell img")
    shown = {fw: sum(tab_of(img) == fw for img in images) for fw in FRAMEWORK_TAGS}
    assert shown == expected_figures(lang.code), f"{lang.code}: figures per tab"
    for element, attr in ((soup.select("img"), "src"), (soup.select("link[href]"), "href"),
                          (soup.select("script[src]"), "src")):
        for node in element:
            target = local_target(path, node[attr])
            if target is not None:
                assert target.exists(), f"{lang.code}: {node[attr]} does not exist"


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_page_declares_its_language_and_links_the_others(build, lang) -> None:
    html_dir, _ = build
    path, soup = page(html_dir, lang.code)
    assert soup.html["lang"] == lang.sphinx.replace("_", "-")
    links = soup.select("nav.d2l-language-switcher a.d2l-lang-link")
    assert len(links) == len(LANGUAGES) - 1
    for link in links:
        target = local_target(path, link["href"])
        assert target is not None and target.exists(), link["href"]
        assert f"/{link['hreflang']}/chapters/{link['hreflang']}/" in target.as_posix()
    current = soup.select_one("nav.d2l-language-switcher .d2l-lang-current")
    assert current.get_text() == lang.name


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_colab_buttons_point_at_committed_notebooks(build, lang) -> None:
    html_dir, _ = build
    _, soup = page(html_dir, lang.code)
    links = soup.select("a.d2l-colab")
    assert [a.get_text(strip=True).split("·")[-1].strip() for a in links] == \
        [label for _, label in FRAMEWORKS]
    for a, (tag, _) in zip(links, FRAMEWORKS, strict=True):
        url = a["href"]
        assert url.startswith("https://colab.research.google.com/github/")
        repo_path = url.split("/blob/", 1)[1].split("/", 1)[1]
        assert repo_path == f"chapters/{lang.code}/notebooks/scheduler_{tag}.ipynb"
        assert (ROOT / repo_path).exists()


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang.code != "en"],
                         ids=lambda lang: lang.code)
def test_theme_labels_are_localised(build, lang) -> None:
    """Each theme button's label is the English build's label as the themes' and Sphinx's
    catalogs translate it into the page's language; one they do not translate stays
    English (and there are translated ones in every language)."""
    html_dir, _ = build
    _, english = page(html_dir, "en")
    _, soup = page(html_dir, lang.code)
    catalogs = [gettext.translation(domain, folder, [lang.sphinx], fallback=True)
                for domain, folder in CATALOGS]

    def labels(s: BeautifulSoup) -> list[str]:
        return [b.get("aria-label", "") for b in s.select("button[aria-label]")]

    translated = 0
    for theirs, ours in zip(labels(english), labels(soup), strict=True):
        translations = {c.gettext(theirs) for c in catalogs} - {theirs}
        if translations:
            assert ours in translations, f"{lang.code}: {theirs!r} is {ours!r}, not one " \
                f"of the catalogs' {sorted(translations)}"
            translated += 1
        else:
            assert ours == theirs, f"{lang.code}: {theirs!r} (untranslated) became {ours!r}"
    assert translated, f"{lang.code}: the catalogs translate none of {labels(english)}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_search_index_finds_the_language(build, lang) -> None:
    html_dir, _ = build
    text = (html_dir / lang.code / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1: text.rindex(")")])
    searcher_class = search_languages.get(lang.sphinx) or search_languages.get(
        lang.sphinx.split("_")[0]) or search_languages["en"]
    if isinstance(searcher_class, str):  # Sphinx lists some languages by import path
        module, name = searcher_class.rsplit(".", 1)
        searcher_class = getattr(__import__(module, fromlist=[name]), name)
    searcher = searcher_class({})
    word = SEARCH_WORDS[lang.code]
    term = searcher.stem(word).lower()
    chapter = index["docnames"].index(f"chapters/{lang.code}/scheduler")
    # The search page looks a term up in the body and title indexes, and for
    # terms longer than two characters also matches index terms containing it.
    found = set()
    for table in (index["terms"], index["titleterms"]):
        for key, docs in table.items():
            if key == term or (len(term) > 2 and term in key):
                found.update(docs if isinstance(docs, list) else [docs])
    assert chapter in found, f"{lang.code}: searching {word!r} does not find the chapter"


def test_landing_page_lists_languages_by_native_name(build) -> None:
    html_dir, _ = build
    assert (html_dir / "index.html").exists()
    for lang in LANGUAGES:
        path = html_dir / lang.code / "index.html"
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        items = soup.select("ul.d2l-language-list a")
        assert [a.get_text() for a in items] == [lang.name for lang in LANGUAGES]
        for a in items:
            assert local_target(path, a["href"]).exists()
        # `sec_scheduler` is a real target: the landing page's {ref} resolves to it
        refs = [a["href"] for a in soup.select("a.reference.internal")]
        assert f"chapters/{lang.code}/scheduler.html#sec-scheduler" in refs, refs


def landing_sentences(markdown: str, shortest: int) -> list[str]:
    """The plain-text runs of a landing page's markdown (links and roles cut them)."""
    tokens = MarkdownIt("commonmark").use(myst_role_plugin).parse(markdown)
    runs = [c.content.strip() for t in tokens if t.type == "inline" for c in t.children or []
            if c.type == "text"]
    return [run for run in runs if len(run) >= shortest]


# Sphinx's smartquotes curl the markdown's straight quotes in some languages: compare
# both sides with straight ones
STRAIGHT = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_each_book_opens_in_its_language(build, lang) -> None:
    html_dir, _ = build
    text = read_book_text(lang.code)
    landing = html_dir / lang.code / "index.html"
    for path in (landing, page(html_dir, lang.code)[0]):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert soup.title.get_text().endswith(f" — {text.title}"), (path, soup.title)
        assert [n.get_text(strip=True) for n in soup.select(".logo__title")] == [text.title]
        # the author line as the language words it, without the theme's "By" before it
        assert [n.get_text(strip=True) for n in soup.select(".component-author")] == \
            [text.author]
    soup = BeautifulSoup(landing.read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one("article h1").get_text(strip=True).rstrip("#") == text.title
    shown = " ".join(soup.select_one("article").get_text(" ").split()).translate(STRAIGHT)
    for sentence in landing_sentences(text.landing, 4):
        assert sentence.translate(STRAIGHT) in shown, f"{lang.code}: {sentence!r} is not shown"
    assert soup.select_one('article a[href="https://creativecommons.org/licenses/by-sa/4.0/"]')
    if lang.code != "en":
        # none of the English landing page's words, except what the translation keeps
        # on purpose (d2l's Korean and Portuguese editions keep the English book title)
        english = read_book_text("en")
        for sentence in landing_sentences(english.landing, 15) + [english.title]:
            if sentence not in text.landing:
                assert sentence not in shown, f"{lang.code}: English {sentence!r} is shown"


# Log lines of the frameworks that must never reach a published output
LOG_NOISE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d|cpu_feature_guard|oneDNN custom operations|absl::|"
    r"DeprecationWarning|FutureWarning|GeneratorDatasetOp", re.MULTILINE)


def test_no_framework_log_noise_in_any_output(builds) -> None:
    build_dir, _ = builds["book"]
    pages = sorted((build_dir / "pages").glob("chapters/*/scheduler.ipynb"))
    assert len(pages) == len(LANGUAGES)
    for path in pages:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", "")) + "".join(
                    output.get("data", {}).get("text/plain", ""))
                match = LOG_NOISE.search(text)
                assert match is None, (
                    f"{path}: {cell['metadata'].get('d2l_tabs')}: log line {match.group(0)!r} "
                    f"in:\n{text[:500]}")


def test_a_quick_build_says_so_everywhere(builds) -> None:
    build_dir, result = builds["book"]
    cap = os.environ["D2L_MAX_EXAMPLES"]
    assert f"{cap}-example subset" in result.stderr.splitlines()[0]
    assert f"QUICK BUILD on a {cap}-example subset" in result.stdout
    # Not on a terminal: no progress bars, one line per training run and per notebook
    for fw, _ in FRAMEWORKS:
        for run in range(1, 6):
            assert f"{fw} (en): training run {run}/5 done in " in result.stderr
        assert re.search(rf"^{fw} \(ko\): cache hit$", result.stderr, re.MULTILINE)
    for path in (build_dir / "html").glob("*/**/*.html"):
        if path.name in ("search.html", "genindex.html") or "_static" in path.parts:
            continue
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        notice = soup.select_one(".d2l-subset-notice")
        assert notice is not None, f"{path}: no quick-build notice"
        lang = path.relative_to(build_dir / "html").parts[0]
        # in the page's own language (chapters/<lang>/book.yml)
        assert notice.get_text().strip() == read_book_text(lang, ROOT).notice(int(cap))


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_a_quick_build_shows_no_full_data_spread(build, lang) -> None:
    """Under each tab's results table, only the note (in the page's language) that the
    full-data seed spread is not shown next to subset runs: no spread table, no bands."""
    note = read_book_text(lang.code, ROOT).line("spread_quick").replace("*", "")
    _, soup = page(build[0], lang.code)
    notes = [div.get_text().strip() for div in soup.select(".d2l-spread-quick")]
    assert notes == [note] * len(FRAMEWORKS), lang.code
    assert not soup.select(".d2l-spread"), lang.code


def test_concurrent_builds_each_publish_their_own_outputs(builds) -> None:
    (book_dir, book), (other_dir, other) = builds["book"], builds["other"]
    assert other.returncode == 0, other.stderr[-3000:]
    assert book.returncode == 0, book.stderr[-3000:]
    cap = os.environ["D2L_MAX_EXAMPLES"]
    for build_dir, n in ((book_dir, cap), (other_dir, "200")):
        html = (build_dir / "html" / "en" / "chapters" / "en" / "scheduler.html").read_text(
            encoding="utf-8")
        assert f"{n}-example subset" in html
        # Only the build's own cache exists in its folder
        assert [p.name.split("-")[1] for p in (build_dir / "jupyter_cache").iterdir()] == [n]
    # Nothing is written into the source tree
    assert not list((ROOT / "chapters").glob("*/*.ipynb"))


def test_the_end_summary_reports_every_framework_and_the_results(build) -> None:
    _, stdout = build
    for fw, _ in FRAMEWORKS:
        assert re.search(rf"^  {fw}: (executed in \d+ s|cache hit)$", stdout, re.MULTILINE)
        for run in RUNS:
            assert re.search(rf"^{fw} +{run} +\d\.\d{{3}}", stdout, re.MULTILINE), (fw, run)
    # every claim of the text, checked on every seed of the committed spread
    assert "seed spread: not shown on this quick build's pages" in stdout
    for claim in english_claims(ROOT, list(RUNS)):
        row = re.search(rf"^{claim.id} +(.*)$", stdout, re.MULTILINE)
        assert row, claim.id
        counts = re.findall(r"(\d+)/(\d+) seeds", row.group(1))
        assert len(counts) == len(FRAMEWORKS), row.group(0)
        # a fact on every seed; a sentence that says how often, at least that often
        needed = [int(n) if claim.seeds is None else claim.seeds for _, n in counts]
        assert all(int(k) >= m for (k, _), m in zip(counts, needed, strict=True)), row.group(0)
