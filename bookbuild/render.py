"""Render each language as its own Jupyter Book build.

Every language is a separate Sphinx build (its own `language`, so the theme's
labels, the search index and `<html lang>` are that language's), made from the
top-level `_config.yml` and `_toc.yml` with the chapter paths switched to the
language's folder. The builds land side by side in `_build/html/<lang>/`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .config import ROOT, book_config
from .languages import Language


def language_config(lang: Language, root: Path = ROOT) -> dict:
    config = book_config(root)
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["language"] = lang.sphinx
    sphinx_config["book_language"] = lang.code
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


def render(lang: Language, build_dir: Path, root: Path = ROOT) -> Path:
    """Build the HTML of `lang` with warnings as errors; returns its folder.

    Raises subprocess.CalledProcessError when Jupyter Book fails.
    """
    work = build_dir / "books" / lang.code
    work.mkdir(parents=True, exist_ok=True)
    config_path, toc_path = work / "_config.yml", work / "_toc.yml"
    config_path.write_text(yaml.safe_dump(language_config(lang, root), allow_unicode=True))
    toc_path.write_text(yaml.safe_dump(language_toc(lang, root), allow_unicode=True))
    subprocess.run(
        [
            sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
            "build", str(root),
            "--config", str(config_path), "--toc", str(toc_path),
            "--path-output", str(work), "--all", "-W", "-n", "--keep-going", "-q",
        ],
        check=True,
        cwd=root,
    )
    target = build_dir / "html" / lang.code
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(work / "_build" / "html", target)
    return target


def write_root_redirect(build_dir: Path, default: Language) -> Path:
    """`_build/html/index.html`: send visitors to the default language's landing page."""
    path = build_dir / "html" / "index.html"
    target = f"{default.code}/index.html"
    path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">"
        f"<link rel=\"canonical\" href=\"{target}\"></head>"
        f"<body><a href=\"{target}\">{target}</a></body></html>\n",
        encoding="utf-8",
    )
    return path
