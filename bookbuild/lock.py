"""One build per build folder: a second build (or seed spread) started on a folder in
use stops at once, naming the running one's process, instead of both executing every
notebook and one deleting the other's working folder under it."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".bookbuild.lock"


class BuildFolderBusy(RuntimeError):
    """Another process holds the build folder's lock; the message says which."""


@contextlib.contextmanager
def build_folder_lock(build_dir: Path) -> Iterator[Path]:
    """Hold `build_dir`'s lock (creating the folder) for the ``with`` block.

    The lock is the kernel's (``flock``), so it is released when its holder ends in any
    way, even killed; the file is left behind, harmless.

    Raises BuildFolderBusy when another process holds it.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / LOCK_NAME
    with open(path, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise BuildFolderBusy(
                f"the build folder {build_dir} is in use by {holder}: wait for it to end "
                "(or stop it), or give another --build-dir.") from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()}")
        f.flush()
        try:
            yield path
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
