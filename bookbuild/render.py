"""Render each language as its own Jupyter Book build.

Every language is a separate Sphinx build (its own `language`, so the theme's
labels, the search index and `<html lang>` are that language's), made from the
top-level `_config.yml` and `_toc.yml` with the chapter paths switched to the
language's folder, and the book's title, author line and landing page taken from the
language's `chapters/<lang>/book.yml` (bookbuild.landing). Each is rendered from a source
folder inside the build folder (the landing page written from that file, the bibliography
copied from the repository, the page notebooks the build wrote), so a build reads the
source tree but never writes into it, and two builds with different build folders never
see each other's pages. Each is rendered into `<build-dir>/books/<lang>/_build/html` and
then published whole (:func:`publish`) beside the others in `<build-dir>/html/<lang>/`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import yaml

from .config import ROOT, book_config
from .landing import read_book_text
from .vocabulary import PDF_FOLDER, Language

# Files of the repository a language's book needs besides its page notebook and the
# landing page (written from the language's book.yml).
BOOK_FILES = ("references.bib",)


def language_config(lang: Language, root: Path = ROOT, max_examples: int | None = None,
                    results_file: Path | None = None, pdf: bool = False) -> dict:
    """The `_config.yml` of `lang`'s book: the top-level one with that language's
    Sphinx `language`, title and author line (and the links to its PDFs when `pdf`).

    Raises bookbuild.landing.BookTextError when the language's book.yml is unusable.
    """
    config = book_config(root)
    text = read_book_text(lang.code, root)
    config["title"], config["author"] = text.title, text.author
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["language"] = lang.sphinx
    sphinx_config["book_language"] = lang.code
    sphinx_config["d2l_colab_mxnet_note"] = text.colab_mxnet_note
    # MyST-NB's toggle of a `hide-input` cell (the widget cells' code on the page)
    sphinx_config["nb_code_prompt_show"] = text.line("code_prompt_show")
    sphinx_config["nb_code_prompt_hide"] = text.line("code_prompt_hide")
    # a printed explorer's sentence, and the link to each framework's PDF (--pdf)
    sphinx_config["d2l_explorer_print_note"] = text.line("explorer_print")
    # an author-year citation's words ("and", "et al."; sphinxext/citations.py)
    sphinx_config["d2l_cite_and"] = text.line("cite_and")
    sphinx_config["d2l_cite_et_al"] = text.line("cite_et_al")
    if pdf:
        sphinx_config["d2l_pdf_label"] = text.line("pdf_link")
    if results_file is not None:  # the results explorer's data (bookbuild.spread_view)
        sphinx_config["d2l_results_file"] = str(results_file)
    if max_examples is not None:
        sphinx_config["d2l_max_examples"] = max_examples
        sphinx_config["d2l_subset_notice"] = text.notice(max_examples)
    if lang.search_options:
        sphinx_config["html_search_options"] = {
            key: str(root / value) for key, value in lang.search_options
        }
    # Jupyter Book resolves extension paths against the config file's folder,
    # and this copy of the config lives under _build/.
    extensions = config["sphinx"].get("local_extensions") or {}
    config["sphinx"]["local_extensions"] = {
        name: str((root / path).resolve()) for name, path in extensions.items()
    }
    return config


def language_toc(lang: Language, root: Path = ROOT) -> dict:
    """The top-level TOC (the English book) with chapters/en/ switched to `lang`."""
    text = (root / "_toc.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("chapters/en/", f"chapters/{lang.code}/"))


def render(
    lang: Language, page: Path, build_dir: Path, root: Path = ROOT,
    max_examples: int | None = None, results_file: Path | None = None, pdf: bool = False,
) -> Path:
    """Build the HTML of `lang` from its page notebook `page` (a file under
    `build_dir`) with warnings as errors; returns its folder, for :func:`publish`.

    Raises subprocess.CalledProcessError when Jupyter Book fails, and
    bookbuild.landing.BookTextError when the language's book.yml is unusable.
    """
    config = language_config(lang, root, max_examples, results_file, pdf)
    work = build_dir / "books" / lang.code
    src = work / "src"
    if src.exists():
        shutil.rmtree(src)
    chapter = src / "chapters" / lang.code
    chapter.mkdir(parents=True)
    for name in BOOK_FILES:
        shutil.copy2(root / name, src / name)
    (src / "index.md").write_text(read_book_text(lang.code, root).index_md(), encoding="utf-8")
    shutil.copy2(page, chapter / page.name)
    config_path, toc_path = src / "_config.yml", src / "_toc.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True))
    toc_path.write_text(yaml.safe_dump(language_toc(lang, root), allow_unicode=True))
    done = subprocess.run(
        [
            sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
            "build", str(src),
            "--config", str(config_path), "--toc", str(toc_path),
            "--path-output", str(work), "--all", "-W", "-n", "--keep-going", "-q",
        ],
        cwd=src, stderr=subprocess.PIPE, text=True, errors="replace",
    )
    # its warnings, for the user to read (and for ran_out_of_space)
    sys.stderr.write(done.stderr)
    done.check_returncode()
    html = work / "_build" / "html"
    # the PDFs of an earlier build with --pdf: bookbuild.pdf writes them anew
    shutil.rmtree(html / PDF_FOLDER, ignore_errors=True)
    return html


def ran_out_of_space(error: subprocess.CalledProcessError, build_dir: Path) -> bool:
    """Whether Jupyter Book failed because the build folder's disk is full (its
    traceback says so, or less than a megabyte is left), not because of the text."""
    if "No space left on device" in (error.stderr or ""):
        return True
    try:
        return shutil.disk_usage(build_dir).free < 2**20
    except OSError:
        return False


def publish(html: Path, target: Path) -> Path:
    """Copy the rendered book `html` to `target`, replacing what was there all at once:
    the copy goes to a folder beside it first, so a build stopped or failing while it
    copies (a full disk, SIGTERM) leaves the previous book whole, never a half-copied
    one that the root page links into. Returns `target`."""
    staging = target.with_name(f".{target.name}.new")
    retired = target.with_name(f".{target.name}.old")
    for leftover in (staging, retired):  # of a build stopped in between
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        shutil.copytree(html, staging)
    except shutil.Error as error:  # the copy's errors, collected: tell the first
        shutil.rmtree(staging, ignore_errors=True)
        _, dst, why = error.args[0][0]
        raise OSError(f"{why} (copying the book into {dst})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return target


def write_root_redirect(build_dir: Path, default: Language, root: Path = ROOT) -> Path:
    """`_build/html/index.html`: send visitors to the default language's landing page.

    In that language, with its book's title (WCAG 3.1.1 and 2.4.2: a page needs a
    language and a title, the moment before the redirect and for a browser that does
    not follow it)."""
    path = build_dir / "html" / "index.html"
    target = f"{default.code}/index.html"
    title = escape(read_book_text(default.code, root).title)
    lang = default.sphinx.replace("_", "-")
    path.write_text(
        f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{title}</title>"
        f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">"
        f"<link rel=\"canonical\" href=\"{target}\"></head>"
        f"<body><a href=\"{target}\">{title}</a></body></html>\n",
        encoding="utf-8",
    )
    return path
