"""The book's languages and frameworks: the one table the build and the Sphinx
extension share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # folder under chapters/ and output folder under _build/html/
    name: str  # native name, as the language switcher shows it
    sphinx: str  # Sphinx `language`: picks theme translations, search and <html lang>
    # Sphinx `html_search_options`, paths relative to the repository root
    search_options: tuple[tuple[str, str], ...] = ()


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "en"),
    Language("ko", "한국어", "ko"),
    Language("id", "Bahasa Indonesia", "id"),
    Language("tr", "Türkçe", "tr"),
    Language("pt", "Português", "pt_BR"),
    # jieba splits 学习率 into 学习 + 率 and the search page does not split queries:
    # a user dictionary keeps the section's terms whole in the index.
    Language("zh", "中文", "zh_CN", (("dict", "sphinxext/search/zh_dict.txt"),)),
)

# (notebook tag, tab label) in tab order
FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("mxnet", "MXNet"),
    ("pytorch", "PyTorch"),
    ("tensorflow", "TensorFlow"),
)
FRAMEWORK_TAGS: tuple[str, ...] = tuple(tag for tag, _ in FRAMEWORKS)

# Pip extra of d2l_compat each framework's notebook installs on Colab
COLAB_EXTRA = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}


def language(code: str) -> Language:
    """The language with folder name `code`; ValueError names the known ones."""
    for lang in LANGUAGES:
        if lang.code == code:
            return lang
    known = ", ".join(lang.code for lang in LANGUAGES)
    raise ValueError(f"unknown language {code!r}; the book has: {known}")
