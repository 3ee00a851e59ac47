"""Writing a file whole or not at all, for every file the build and the translators'
command write: into a file beside it, then renamed over it, so that a reader, a Ctrl-C
or a full disk never leaves half of it."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` (UTF-8, newlines as given) to `path`, making its folder if needed;
    on any error, including KeyboardInterrupt, the old `path` stays and the temporary
    file is removed. Returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
