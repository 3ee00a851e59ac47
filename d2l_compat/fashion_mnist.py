"""Fashion-MNIST on disk: find, verify, download, decode, subset and resize.

Framework-free; the framework modules turn the arrays returned by
:func:`load_arrays` into framework-native batches.

Where the four files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``) are looked for, in order:

1. the ``data_dir`` argument of the loader;
2. the environment variable ``D2L_DATA_DIR``;
3. the per-user cache ``$XDG_CACHE_HOME/d2l_compat/fashion-mnist``
   (``~/.cache/d2l_compat/fashion-mnist`` when ``XDG_CACHE_HOME`` is unset);
4. ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package ``dataset-fashion-mnist``).

A location given explicitly (1 or 2) must hold all four files: if it does not, a
:class:`FashionMNISTError` names the missing files -- nothing is downloaded behind the
user's back, because a mistyped path should not silently cost a download. Locations 3
and 4 count only when they hold all four files. When neither does, the missing files
are downloaded from the official location (:data:`BASE_URL`) into the cache: each goes
to a temporary file in the cache directory, is verified, then atomically renamed.

Every file is verified before use by the SHA-256 of its *decompressed* payload, so the
official gzip files and Debian's recompressed ones both pass. A truncated, corrupt or
wrong file raises :class:`FashionMNISTError` naming the file, the problem and the fix.
A bad file in the cache is deleted; a bad file in a user-provided or system directory is
reported, never deleted.

Decoded arrays are kept per process, keyed by the resolved directory, so calling the
loader repeatedly decodes the files once.

Environment variables:

``D2L_DATA_DIR``
    Directory holding the four files (see above).
``D2L_MAX_EXAMPLES``
    When set to N (a positive multiple of 10), the train set and the test set are each
    capped to a fixed class-balanced subset: the first N // 10 examples of every class,
    in file order (so all three frameworks see the same examples). When N // 10 exceeds
    the examples a class has, that class is used whole. Unset or empty: the full
    60,000 / 10,000 examples.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "BASE_URL",
    "DEBIAN_DIR",
    "FILES",
    "FashionMNISTError",
    "balanced_subset",
    "cache_dir",
    "load_arrays",
    "load_raw",
    "locate",
    "max_examples_from_env",
    "image_size",
    "resize_images",
]

BASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
ENV_DATA_DIR = "D2L_DATA_DIR"
ENV_MAX_EXAMPLES = "D2L_MAX_EXAMPLES"

_IMAGES_MAGIC = 2051  # IDX: unsigned byte, 3 dimensions
_LABELS_MAGIC = 2049  # IDX: unsigned byte, 1 dimension


class FashionMNISTError(RuntimeError):
    """Fashion-MNIST files are missing, unreadable, or not the official data."""


@dataclass(frozen=True)
class _FileSpec:
    name: str
    sha256: str  # of the decompressed payload
    magic: int
    count: int


# SHA-256 of the decompressed IDX payloads of the official release (facts about the data).
FILES: dict[str, _FileSpec] = {
    "train_images": _FileSpec(
        "train-images-idx3-ubyte.gz",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        _IMAGES_MAGIC,
        60000,
    ),
    "train_labels": _FileSpec(
        "train-labels-idx1-ubyte.gz",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        _LABELS_MAGIC,
        60000,
    ),
    "test_images": _FileSpec(
        "t10k-images-idx3-ubyte.gz",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        _IMAGES_MAGIC,
        10000,
    ),
    "test_labels": _FileSpec(
        "t10k-labels-idx1-ubyte.gz",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        _LABELS_MAGIC,
        10000,
    ),
}

_ORIGIN_LABELS = {
    "data_dir": "the data_dir argument",
    "env": f"${ENV_DATA_DIR}",
    "cache": "the d2l_compat cache",
    "debian": "the Debian/Ubuntu dataset-fashion-mnist package",
}

_DECODED: dict[str, dict[str, np.ndarray]] = {}
_LOCK = threading.Lock()


# --------------------------------------------------------------------------- locating


def cache_dir() -> Path:
    """Per-user cache directory: ``$XDG_CACHE_HOME/d2l_compat/fashion-mnist``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "d2l_compat" / "fashion-mnist"


def _missing(directory: Path) -> list[str]:
    return [spec.name for spec in FILES.values() if not (directory / spec.name).is_file()]


def _how_to_provide(cache: Path) -> str:
    names = ", ".join(spec.name for spec in FILES.values())
    return (
        f"Provide the four files ({names}) in one of these ways:\n"
        "  1. pass data_dir='/path/to/dir' to load_data_fashion_mnist;\n"
        f"  2. set the environment variable {ENV_DATA_DIR} to a directory holding them;\n"
        f"  3. install Debian/Ubuntu's package dataset-fashion-mnist (files in {DEBIAN_DIR}),"
        f" or copy the files into the cache directory {cache}."
    )


def locate(data_dir: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """Find (or download) a directory holding all four Fashion-MNIST files.

    Args:
        data_dir: explicit directory; takes precedence over ``$D2L_DATA_DIR``.

    Returns:
        ``(directory, origin)`` where origin is one of ``'data_dir'``, ``'env'``,
        ``'cache'`` or ``'debian'``.

    Raises:
        FashionMNISTError: an explicit location lacks files (the message names them), or
            no location has the files and downloading them failed.
    """
    explicit: tuple[str, str] | None = None
    if data_dir is not None:
        explicit = (os.fspath(data_dir), "data_dir")
    elif os.environ.get(ENV_DATA_DIR):
        explicit = (os.environ[ENV_DATA_DIR], "env")
    if explicit is not None:
        directory = Path(explicit[0]).expanduser()
        missing = _missing(directory)
        if missing:
            where = "data_dir" if explicit[1] == "data_dir" else ENV_DATA_DIR
            relative = "" if directory.is_absolute() else f" (relative to {os.getcwd()})"
            raise FashionMNISTError(
                f"Fashion-MNIST: {where} = {str(directory)!r}{relative} does not hold "
                f"{', '.join(missing)}. Put the official files there (from {BASE_URL}), "
                f"or fix the path; with neither data_dir nor {ENV_DATA_DIR} set, the files "
                "are taken from the cache or the Debian package, or downloaded."
            )
        return directory, explicit[1]

    cache = cache_dir()
    if not _missing(cache):
        return cache, "cache"
    if not _missing(DEBIAN_DIR):
        return DEBIAN_DIR, "debian"
    _download_missing(cache)
    return cache, "cache"


# ------------------------------------------------------------------------- download


def _fetch_url(url: str, out: BinaryIO, timeout: float = 60.0) -> None:
    """Stream ``url`` into the open binary file ``out`` (the one network access)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        shutil.copyfileobj(response, out, 1 << 20)


def _download_missing(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FashionMNISTError(
            f"Fashion-MNIST was not found and the cache directory {cache} cannot be "
            f"created ({err}).\n{_how_to_provide(cache)}"
        ) from err
    for spec in FILES.values():
        if not (cache / spec.name).is_file():
            _download_one(cache, spec)


def _download_one(cache: Path, spec: _FileSpec) -> None:
    url = BASE_URL + spec.name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=cache)
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out:
                _fetch_url(url, out)
        except OSError as err:  # URLError, HTTPError, timeouts, connection resets
            raise FashionMNISTError(
                f"Fashion-MNIST was not found locally and downloading {url} failed ({err}).\n"
                f"{_how_to_provide(cache)}"
            ) from err
        _verified_payload(tmp, spec, origin="download")
        os.replace(tmp, cache / spec.name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# ----------------------------------------------------------------------- verifying


def _describe(payload: bytes) -> str:
    if len(payload) >= 8:
        magic = int.from_bytes(payload[:4], "big")
        count = int.from_bytes(payload[4:8], "big")
        if magic == _IMAGES_MAGIC:
            return f"an IDX images file with {count} images"
        if magic == _LABELS_MAGIC:
            return f"an IDX labels file with {count} labels"
    return f"{len(payload)} bytes that are not an IDX file"


def _fix_hint(origin: str) -> str:
    if origin == "cache":
        return (
            "It was deleted from the cache; call the loader again to download it afresh, "
            f"or set {ENV_DATA_DIR} to a directory with a good copy."
        )
    if origin == "download":
        return (
            "The download was discarded (nothing was kept in the cache). Try again later, "
            f"or set {ENV_DATA_DIR} to a directory with a good copy."
        )
    if origin == "debian":
        return (
            "Reinstall the package (apt-get install --reinstall dataset-fashion-mnist), "
            f"or set {ENV_DATA_DIR} to a directory with a good copy."
        )
    return (
        f"The file was left untouched: replace it with the official file from {BASE_URL} "
        f"(or delete it), or point {ENV_DATA_DIR} / data_dir at a good copy."
    )


def _verified_payload(path: Path, spec: _FileSpec, origin: str) -> bytes:
    """Decompress ``path`` and check it is ``spec``'s official payload.

    A bad file whose origin is the cache is deleted before raising.
    """
    what = "downloaded file" if origin == "download" else f"{path} (from {_ORIGIN_LABELS[origin]})"
    problem: str | None = None
    payload = b""
    try:
        with gzip.open(path, "rb") as f:
            payload = f.read()
    except EOFError:
        problem = "the gzip stream is truncated (incomplete download or copy)"
    except (OSError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        problem = f"it is not a valid gzip file ({err})"
    if problem is None:
        digest = hashlib.sha256(payload).hexdigest()
        if digest != spec.sha256:
            problem = (
                f"its contents are not the official {spec.name}: it holds {_describe(payload)} "
                f"(expected {spec.count} {'images' if spec.magic == _IMAGES_MAGIC else 'labels'};"
                f" SHA-256 of the decompressed data is {digest}, expected {spec.sha256})"
            )
    if problem is None:
        return payload
    if origin == "cache":
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    name = f"{spec.name} ({what})" if origin == "download" else what
    raise FashionMNISTError(f"Fashion-MNIST file {name} is bad: {problem}. {_fix_hint(origin)}")


# ------------------------------------------------------------------------ decoding


def _decode(payload: bytes, spec: _FileSpec) -> np.ndarray:
    if spec.magic == _IMAGES_MAGIC:
        rows = int.from_bytes(payload[8:12], "big")
        cols = int.from_bytes(payload[12:16], "big")
        array = np.frombuffer(payload, dtype=np.uint8, offset=16).reshape(spec.count, rows, cols)
    else:
        array = np.frombuffer(payload, dtype=np.uint8, offset=8)
    array = array.copy()
    array.flags.writeable = False
    return array


def load_raw(data_dir: str | os.PathLike[str] | None = None) -> dict[str, np.ndarray]:
    """Verified, decoded Fashion-MNIST, cached per process by resolved directory.

    Returns:
        dict with ``train_images`` (60000, 28, 28), ``train_labels`` (60000,),
        ``test_images`` (10000, 28, 28), ``test_labels`` (10000,); all ``uint8``,
        read-only, in file order. Pixel values 0..255, labels 0..9.

    Raises:
        FashionMNISTError: see :func:`locate`; or a file is truncated, corrupt or wrong.
    """
    directory, origin = locate(data_dir)
    key = str(directory.resolve())
    with _LOCK:
        cached = _DECODED.get(key)
        if cached is None:
            cached = {
                field: _decode(_verified_payload(directory / spec.name, spec, origin), spec)
                for field, spec in FILES.items()
            }
            _DECODED[key] = cached
    return cached


# ------------------------------------------------------------------ subset, resize


def max_examples_from_env() -> int | None:
    """Parse ``$D2L_MAX_EXAMPLES``; ``None`` when unset or empty.

    Raises:
        ValueError: the value is not a positive multiple of 10.
    """
    raw = os.environ.get(ENV_MAX_EXAMPLES, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value <= 0 or value % 10:
        raise ValueError(
            f"{ENV_MAX_EXAMPLES} must be a positive multiple of 10 (N // 10 examples per "
            f"class), got {raw!r}; unset it to use the full data set."
        )
    return value


def balanced_subset(labels: np.ndarray, max_examples: int, num_classes: int = 10) -> np.ndarray:
    """Indices of the first ``max_examples // num_classes`` examples of each class.

    Returns:
        sorted ``int64`` indices (file order), at most ``max_examples`` of them.
    """
    per_class = max_examples // num_classes
    picks = [np.flatnonzero(labels == c)[:per_class] for c in range(num_classes)]
    return np.sort(np.concatenate(picks))


def _resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) bilinear (triangle-filter) weights, half-pixel centres.

    Downscaling widens the filter (antialiasing), like PIL's bilinear resize.
    """
    scale = size_in / size_out
    support = max(scale, 1.0)
    centres = (np.arange(size_out) + 0.5) * scale
    inputs = np.arange(size_in) + 0.5
    weights = np.clip(1.0 - np.abs(inputs[None, :] - centres[:, None]) / support, 0.0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _positive_int(value: object) -> bool:
    # bool is an int subclass: resize=True would silently mean 1 x 1 images
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_) \
        and value > 0


def image_size(resize: object) -> tuple[int, int]:
    """``(height, width)`` in pixels for the loaders' ``resize`` argument.

    Args:
        resize: a positive int (square images) or a pair (tuple or list) of positive
            ints ``(height, width)``.

    Raises:
        ValueError: anything else (a string such as ``'64'``, ``True``, ``0``, ``2.5``,
            a negative number, a pair of anything but positive ints), naming ``resize``.
    """
    if _positive_int(resize):
        return int(resize), int(resize)
    if isinstance(resize, tuple | list) and len(resize) == 2 and all(map(_positive_int, resize)):
        return int(resize[0]), int(resize[1])
    raise ValueError(
        f"resize must be a positive int (square images, e.g. resize=64) or a pair of "
        f"positive ints (height, width), e.g. resize=(64, 32); got {resize!r}"
    )


def resize_images(images: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a stack of ``uint8`` images, done once at load time.

    Args:
        images: ``uint8`` array (N, H, W).
        size: ``int`` for a square ``size x size`` output, or ``(height, width)``
            (see :func:`image_size`).

    Returns:
        ``uint8`` array (N, height, width), rounded like d2l's PIL / OpenCV pipelines.

    Raises:
        ValueError: ``size`` is not a positive int or pair of positive ints.
    """
    height, width = image_size(size)
    n, h, w = images.shape
    if (h, w) == (height, width):
        return images
    rows, cols = _resize_matrix(h, height), _resize_matrix(w, width)
    out = np.empty((n, height, width), dtype=np.uint8)
    chunk = max(1, (1 << 24) // (height * width))  # ~64 MB of float32 per step
    for start in range(0, n, chunk):
        block = images[start : start + chunk].astype(np.float32)
        block = np.matmul(np.matmul(rows, block), cols.T)
        out[start : start + chunk] = np.clip(np.rint(block), 0, 255)
    return out


def load_arrays(
    data_dir: str | os.PathLike[str] | None = None, resize: int | tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and test arrays after the ``D2L_MAX_EXAMPLES`` cap and the optional resize.

    Returns:
        ``(train_images, train_labels, test_images, test_labels)``; images ``uint8``
        (N, H, W) with H = W = 28 unless resized, labels ``int64`` (N,) in 0..9.

    Raises:
        FashionMNISTError: files missing or bad (see :func:`locate`).
        ValueError: bad ``D2L_MAX_EXAMPLES`` or ``resize``.
    """
    cap = max_examples_from_env()  # validate before any I/O
    if resize is not None:
        image_size(resize)
    raw = load_raw(data_dir)
    result = []
    for split in ("train", "test"):
        images, labels = raw[f"{split}_images"], raw[f"{split}_labels"]
        if cap is not None:
            keep = balanced_subset(labels, cap)
            images, labels = images[keep], labels[keep]
        if resize is not None:
            images = resize_images(images, resize)
        result += [np.ascontiguousarray(images), labels.astype(np.int64)]
    return result[0], result[1], result[2], result[3]
