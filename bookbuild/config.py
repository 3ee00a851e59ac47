"""Reading the book's top-level `_config.yml` and `_toc.yml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def book_config(root: Path = ROOT) -> dict[str, Any]:
    """The parsed `_config.yml` of the book at `root`."""
    with open(root / "_config.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def repository(root: Path = ROOT) -> tuple[str, str]:
    """(URL, branch) of the repository the Colab links point into.

    Raises ValueError when `_config.yml` has no `repository.url`.
    """
    repo = book_config(root).get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if not url.startswith("https://github.com/"):
        raise ValueError(
            "_config.yml: repository.url must be the book's GitHub URL "
            "(https://github.com/OWNER/REPO); Colab opens the notebooks from there"
        )
    return url, str(repo.get("branch", "main"))
