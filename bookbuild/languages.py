"""Moved to :mod:`bookbuild.vocabulary`; kept while callers move."""

from .vocabulary import (  # noqa: F401
    COLAB_EXTRA,
    FRAMEWORK_TAGS,
    FRAMEWORKS,
    LANGUAGES,
    Language,
    language,
)
