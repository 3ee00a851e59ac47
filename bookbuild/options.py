"""Check the build's command line and environment before anything slow starts.

Each check returns the value the build uses or raises :class:`OptionError` whose message
is one paragraph: what was wrong and what to do. Nothing here writes to disk (the
build folder's write probe removes its file again).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from d2l_compat import fashion_mnist

EXAMPLES_PER_CLASS = 10  # Fashion-MNIST's classes: a subset takes N // 10 of each


class OptionError(ValueError):
    """An option or environment variable of the build is unusable."""


def max_examples(value: str, origin: str) -> int:
    """The subset size `value` (from `origin`: ``--max-examples`` or
    ``D2L_MAX_EXAMPLES``) as an int.

    Raises OptionError unless `value` is a positive multiple of 10 (at least 10: one
    example per class) smaller than the 60000 training examples.
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < EXAMPLES_PER_CLASS \
            or int(text) % EXAMPLES_PER_CLASS:
        shown = f"--max-examples {text}" if origin == "--max-examples" else f"{origin}={text!r}"
        raise OptionError(
            f"{shown} is not a subset size: give a positive multiple of 10, at least 10 "
            "(the subset takes N/10 examples of each of the 10 classes, so 10 is one "
            "example per class), e.g. --max-examples 100 for a quick build of a few "
            "minutes; or leave both --max-examples and D2L_MAX_EXAMPLES unset for the "
            "full book."
        )
    train_size = fashion_mnist.FILES["train_images"].count
    if int(text) >= train_size:
        shown = f"--max-examples {text}" if origin == "--max-examples" else f"{origin}={text!r}"
        # A "subset" as large as the data would train on all of it while every page
        # called itself a quick build and the claims went unchecked
        raise OptionError(
            f"{shown} is not a subset: Fashion-MNIST has {train_size} training examples. "
            "Give fewer (e.g. --max-examples 100 for a quick build), or leave both "
            "--max-examples and D2L_MAX_EXAMPLES unset to train on all of them."
        )
    return int(text)


def jobs(value: str | None, notebooks: int) -> int:
    """How many of the `notebooks` notebooks execute at once: `value` (``--jobs``) as a
    positive int, or, when None, all of them.

    All at once is the default because each kernel then gets ``cores // jobs`` threads
    (at least one, :func:`bookbuild.kernel_env.kernel_env`): single-threaded kernels never
    spin at a barrier, so three of them on 2 cores only share time, and as they all end
    at about the same time no core idles while a last notebook runs alone.

    Raises OptionError unless `value` is a positive integer.
    """
    if value is None:
        return max(1, notebooks)
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise OptionError(
            f"--jobs {text} is not a number of notebooks: give a positive integer, e.g. "
            "--jobs 1 to execute the notebooks one after another with all cores each, or "
            "leave it out to run them all at once."
        )
    return int(text)


def write_probe(directory: Path) -> OSError | None:
    """Create and remove a file in `directory`: the only reliable test of writing
    (os.access answers for the real uid and ignores capabilities, ACLs, read-only
    mounts)."""
    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".bookbuild-probe-"):
            return None
    except OSError as error:
        return error


# Top-level folders of the repository a build must never write into
SOURCE_FOLDERS = ("chapters", "bookbuild", "sphinxext", "d2l_compat", "tests", "benchmarks",
                  ".git", ".ci")


def nearest_existing(path: Path) -> Path:
    """`path` itself, or its nearest parent that exists (where a write probe can run
    for a folder still to be created)."""
    while not path.exists():
        path = path.parent
    return path


def use_data(data_dir: Path | None) -> None:
    """Verify the four Fashion-MNIST files in `data_dir` (from :func:`data_dir`; None:
    d2l_compat's cache) before anything starts, as the kernels will load them (about a
    second; with no folder given, the cache's, downloaded once as the kernels would).

    Raises OptionError with the loader's message (what to do) when they are unusable.
    """
    try:
        fashion_mnist.load_raw(data_dir)
    except fashion_mnist.FashionMNISTError as error:
        raise OptionError(str(error)) from None


def build_dir(path: Path, root: Path | None = None) -> Path:
    """The absolute build folder for `path` (``~`` expanded), not created.

    Raises OptionError when `path` (or a parent of it) is not a folder, the build could
    not write there, or it is the source tree `root` itself, a folder holding it, or a
    folder of its sources (the build would write its folders among the sources and
    replace what is in them).
    """
    resolved = path.expanduser().resolve()
    if root is not None:
        root = root.resolve()
        inside = resolved.relative_to(root).parts if resolved.is_relative_to(root) else None
        if root.is_relative_to(resolved) or (inside and inside[0] in SOURCE_FOLDERS):
            what = ("the source tree" if resolved == root else
                    "a folder of the sources" if inside else "a folder holding the sources")
            raise OptionError(
                f"--build-dir {path}: that is {what} ({root}); the build writes and "
                "replaces whole folders there. Name a "
                "folder of its own, e.g. --build-dir _build (the default)."
            )
    existing = nearest_existing(resolved)
    if not existing.is_dir():
        what = "is a file" if existing == resolved else f"lies inside the file {existing}"
        raise OptionError(
            f"--build-dir {path}: the build folder {what}, not a folder. Name a folder "
            "(it is created if missing), e.g. --build-dir _build, or move the file away."
        )
    error = write_probe(existing)
    if error is not None:
        where = "" if existing == resolved else f" (its nearest existing parent {existing})"
        raise OptionError(
            f"--build-dir {path}: the build cannot write into {resolved}{where}: "
            f"{error.strerror or error}. Name a folder you can write to, e.g. "
            "--build-dir _build, or fix the folder's permissions."
        )
    return resolved


def data_dir(value: str | None) -> Path | None:
    """The absolute Fashion-MNIST folder named by ``D2L_DATA_DIR`` (`value`, ``~``
    expanded like the loader does), or None when unset or empty.

    Kernels run in the build folder, so a relative path is resolved here against the
    current folder. Raises OptionError when the folder lacks any of the four files.
    """
    if not value or not value.strip():
        return None
    resolved = Path(value).expanduser().resolve()
    missing = [spec.name for spec in fashion_mnist.FILES.values()
               if not (resolved / spec.name).is_file()]
    if missing:
        where = "is not a folder" if not resolved.is_dir() else f"lacks {', '.join(missing)}"
        raise OptionError(
            f"D2L_DATA_DIR={value!r} ({resolved}) {where}: point D2L_DATA_DIR at the "
            "folder holding the four Fashion-MNIST files "
            f"({', '.join(spec.name for spec in fashion_mnist.FILES.values())}), or unset "
            "it to let d2l_compat use its cache (downloading the files once)."
        )
    return resolved


def pdf_printer() -> None:
    """`--pdf` can print: Playwright is installed and so is Chromium (checked before
    anything is executed, not after the rendering). Raises OptionError otherwise."""
    from .pdf import chromium

    missing = [what for what, there in (
        ("Playwright (pip install -r requirements.txt)", importlib.util.find_spec("playwright")),
        ("Chromium (apt-get install chromium fonts-noto-cjk)", chromium()),
    ) if there is None]
    if missing:
        raise OptionError(f"--pdf prints the chapter with headless Chromium driven by "
                          f"Playwright, and this machine lacks {' and '.join(missing)}: "
                          "install it, or leave --pdf out.")
