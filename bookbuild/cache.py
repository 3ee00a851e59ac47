"""The execution cache: a jupyter-cache store of executed notebooks, one per data size
and environment.

jupyter-cache keys a notebook by its code cells (and kernel), not its prose, so the
translations of one framework's notebook share a single execution. What the code cells
cannot show -- the helper package they import and the framework versions installed --
picks the cache folder instead (:func:`cache_key`), so changing either re-executes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.metadata
import logging
import sys
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.cache.db import NbCacheRecord
from sqlalchemy.exc import SQLAlchemyError

LOGGER = logging.getLogger("bookbuild.cache")

# Distributions whose versions change what the notebooks compute or print.
VERSIONED = ("mxnet", "torch", "tensorflow_cpu", "tensorflow", "keras", "numpy", "matplotlib",
             "pandas", "ipykernel")
# What jupyter-cache raises: its database (SQLAlchemy, or RuntimeError wrapping an
# OperationalError such as "database or disk is full") and its files.
STORE_ERRORS = (OSError, SQLAlchemyError, RuntimeError)


class CacheError(RuntimeError):
    """A cache entry exists but cannot be read, or a new one cannot be written
    (permissions, I/O, a full disk); the message names the file, the error and what to
    do. Nothing that was readable was deleted."""


def cache_key(root: Path) -> str:
    """A short hash of `d2l_compat`'s source and the installed framework versions."""
    digest = hashlib.sha256()
    for path in sorted((root / "d2l_compat").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for dist in VERSIONED:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:12]


def cache_dir(build_dir: Path, root: Path, max_examples: int | None = None) -> Path:
    """The cache for a run on `max_examples` examples (None: all the data) in this
    environment: capped runs never serve a full build, and a changed helper package or
    framework never serves old outputs."""
    size = f"max-{max_examples}" if max_examples is not None else "full"
    return build_dir / "jupyter_cache" / f"{size}-{cache_key(root)}"


def describe(error: BaseException) -> str:
    """One line for an error of the cache or the disk."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}"
    cause = error.__cause__ if isinstance(error, RuntimeError) else None
    if isinstance(error, SQLAlchemyError) or isinstance(cause, SQLAlchemyError):
        orig = getattr(error if cause is None else cause, "orig", None)
        return " ".join(str(orig or cause or error).split())
    return str(error)


def disk_full(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the disk is full."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(getattr(error, "orig", "") or error)
        if "disk is full" in text or "No space left on device" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


class Store:
    """The jupyter-cache store at `path`: look notebooks up, store executed ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache = get_cache(str(path))

    def lookup(self, nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode | None:
        """The cached outputs merged into `nb` (stored as `name`), or None when there
        are none.

        An entry known to be corrupt (not a notebook: bad JSON or structure, as left by
        an interrupted write) is deleted, and None returned so the notebook runs again.
        An entry that cannot be read (permissions, I/O errors) is left as it is:
        CacheError.
        """
        cache = self._cache
        try:
            record = cache.match_cache_notebook(nb)
        except KeyError:
            return None
        except (SQLAlchemyError, RuntimeError, OSError) as error:
            if disk_full(error):
                raise CacheError(
                    f"cannot open the execution cache {self.path}: {describe(error)}. Free "
                    "space on that disk (or give --build-dir on another one), then run the "
                    "same command again.") from None
            raise CacheError(
                f"cannot read the index of the execution cache {self.path}: "
                f"{describe(error)}. Nothing was deleted. Fix its permissions (or the "
                "disk), or delete that folder to execute every notebook again.") from None
        try:
            return cache.merge_match_into_notebook(nb)[1]
        except KeyError:  # a record whose notebook file is gone: a miss
            return None
        except (OSError, SQLAlchemyError, RuntimeError) as error:
            raise CacheError(
                f"cannot read the cached outputs of {name} (cache entry "
                f"{record.hashkey} in {self.path}): {describe(error)}. Nothing was "
                "deleted. Fix the file's permissions (or the disk) and build again, or "
                "build with --no-cache to execute the notebooks again and replace the "
                "entry.") from None
        except (ValueError, IndexError, nbformat.ValidationError) as error:
            # NotJSONError, JSONDecodeError, UnicodeDecodeError are ValueErrors;
            # IndexError: fewer code cells than the notebook's. The entry cannot be a
            # finished run.
            reason = " ".join(str(error).split())[:200]
            try:
                cache.remove_cache(record.pk)
            except (OSError, KeyError, SQLAlchemyError, RuntimeError) as removal:
                raise CacheError(
                    f"the cached outputs of {name} (cache entry {record.hashkey} in "
                    f"{self.path}) are corrupt ({reason}) and could not be deleted: "
                    f"{describe(removal)}. Delete that entry's folder, then build again."
                ) from None
            LOGGER.warning("%s: its cached outputs (entry %s) were corrupt (%s) and were "
                           "deleted; executing it again", name, record.hashkey, reason)
            return None

    def store(self, nb: nbformat.NotebookNode, path: Path, seconds: float) -> None:
        """Store the executed `nb` (from `path`), whole or not at all.

        Raises CacheError naming the notebook and what to do (free space, fix
        permissions); an entry half-written by the failure is removed again.
        """
        try:
            self._cache.cache_notebook_bundle(
                CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True,
            )
        except STORE_ERRORS as error:
            # jupyter-cache commits the record before it writes the notebook: a full
            # disk leaves a record of a truncated file, which must not serve later
            with contextlib.suppress(*STORE_ERRORS, KeyError):
                _, hashkey = self._cache.create_hashed_notebook(nb)
                record = NbCacheRecord.record_from_hashkey(hashkey, self._cache.db)
                self._cache.remove_cache(record.pk)
            todo = ("Free space on that disk (or give --build-dir on another one)"
                    if disk_full(error) else
                    "Make the cache folder writable (or delete it)")
            raise CacheError(
                f"{path} executed, but its outputs could not be stored in the cache "
                f"{self.path}: {describe(error)}. {todo}, then run the same command "
                "again: the notebooks that were stored before stay cached.") from None
