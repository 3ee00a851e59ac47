"""Moved to :mod:`bookbuild.vocabulary`; kept while callers move."""

from .vocabulary import RUNS  # noqa: F401
