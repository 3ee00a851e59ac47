"""Finding, verifying and downloading the Fashion-MNIST files (framework-free).

The network is faked by replacing ``_fetch_url``; everything else (temp files, gzip,
digests, the cache directory) is real.
"""

import gzip
import shutil
import urllib.error

import numpy as np
import pytest

from d2l_compat import fashion_mnist as fm
from d2l_compat.fashion_mnist import FashionMNISTError

NAMES = [spec.name for spec in fm.FILES.values()]
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """No D2L_DATA_DIR, an empty per-test cache, no Debian package; returns the cache dir."""
    monkeypatch.delenv("D2L_DATA_DIR", raising=False)
    monkeypatch.delenv("D2L_MAX_EXAMPLES", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "no-debian-package")
    return tmp_path / "xdg" / "d2l_compat" / "fashion-mnist"


@pytest.fixture
def no_network(monkeypatch):
    def fail(url, out, timeout=60.0):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(fm, "_fetch_url", fail)


def _copy(src, dst, names=NAMES):
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(src / name, dst / name)
    return dst


def _payload(path):
    with gzip.open(path) as f:
        return f.read()


def _write_gz(path, payload, level=9, mtime=None):
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=level, mtime=mtime) as f,
    ):
        f.write(payload)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt_payload(path):
    payload = bytearray(_payload(path))
    payload[5000:5010] = bytes(255 - b for b in payload[5000:5010])  # valid gzip, wrong pixels
    _write_gz(path, bytes(payload), level=1)


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_explicit_dir_missing_file_is_an_error(cache, tmp_path, fashion_mnist_dir, no_network):
    user_dir = _copy(fashion_mnist_dir, tmp_path / "user", NAMES[1:])
    with pytest.raises(FashionMNISTError, match=NAMES[0]) as info:
        fm.load_arrays(data_dir=user_dir)
    assert "data_dir" in str(info.value)
    assert _leftovers(cache) == []


def test_env_dir_missing_files_is_an_error(cache, tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(FashionMNISTError, match="D2L_DATA_DIR") as info:
        fm.load_arrays()
    assert all(name in str(info.value) for name in NAMES)


@pytest.mark.kernel  # imports d2l_compat.torch, so torch
def test_error_reaches_the_framework_loader(cache, tmp_path, no_network):
    from d2l_compat import torch as d2l

    with pytest.raises(FashionMNISTError, match=TRAIN_IMAGES):
        d2l.load_data_fashion_mnist(256, data_dir=tmp_path / "nothing-here")


def test_precedence_data_dir_then_env_then_cache(cache, tmp_path, monkeypatch, fashion_mnist_dir):
    _copy(fashion_mnist_dir, cache)
    assert fm.locate() == (cache, "cache")
    monkeypatch.setenv("D2L_DATA_DIR", str(fashion_mnist_dir))
    assert fm.locate() == (fashion_mnist_dir, "env")
    assert fm.locate(cache) == (cache, "data_dir")


@pytest.mark.parametrize(
    ("damage", "problem"),
    [(_truncate, "truncated"), (_corrupt_payload, "not the official")],
)
def test_bad_file_in_user_dir_is_reported_not_deleted(
    cache, tmp_path, fashion_mnist_dir, damage, problem, no_network
):
    user_dir = _copy(fashion_mnist_dir, tmp_path / "user")
    damage(user_dir / TRAIN_IMAGES)
    with pytest.raises(FashionMNISTError, match=problem) as info:
        fm.load_arrays(data_dir=user_dir)
    message = str(info.value)
    assert str(user_dir / TRAIN_IMAGES) in message and "left untouched" in message
    assert (user_dir / TRAIN_IMAGES).exists()


def test_wrong_file_is_named(cache, tmp_path, fashion_mnist_dir, no_network):
    user_dir = _copy(fashion_mnist_dir, tmp_path / "user")
    shutil.copyfile(user_dir / "train-labels-idx1-ubyte.gz", user_dir / TRAIN_IMAGES)
    with pytest.raises(FashionMNISTError, match=TRAIN_IMAGES) as info:
        fm.load_arrays(data_dir=user_dir)
    assert "labels file with 60000 labels" in str(info.value)


@pytest.mark.parametrize("damage", [_truncate, _corrupt_payload])
def test_bad_file_in_cache_is_deleted(cache, fashion_mnist_dir, damage, no_network):
    _copy(fashion_mnist_dir, cache)
    damage(cache / TRAIN_IMAGES)
    with pytest.raises(FashionMNISTError, match=TRAIN_IMAGES) as info:
        fm.load_arrays()
    assert "deleted from the cache" in str(info.value)
    assert _leftovers(cache) == sorted(NAMES[1:])


def test_download_into_cache(cache, fashion_mnist_dir, monkeypatch):
    requested = []

    def serve(url, out, timeout=60.0):
        assert url.startswith(fm.BASE_URL)
        requested.append(url.rsplit("/", 1)[1])
        out.write((fashion_mnist_dir / requested[-1]).read_bytes())

    monkeypatch.setattr(fm, "_fetch_url", serve)
    train_x, train_y, test_x, test_y = fm.load_arrays()
    assert sorted(requested) == sorted(NAMES)
    assert _leftovers(cache) == sorted(NAMES)  # no temp files left
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert np.bincount(train_y).tolist() == [6000] * 10
    requested.clear()
    fm.load_arrays()  # second time: served from the cache
    assert requested == []


@pytest.mark.parametrize(
    "body",
    [
        lambda src: b"<html>404 Not Found</html>",
        lambda src: src.read_bytes()[:1000],  # truncated gzip
        lambda src: (src.parent / "t10k-labels-idx1-ubyte.gz").read_bytes(),  # wrong file
    ],
    ids=["not-gzip", "truncated", "wrong-file"],
)
def test_bad_download_leaves_cache_clean(cache, fashion_mnist_dir, monkeypatch, body):
    def serve(url, out, timeout=60.0):
        out.write(body(fashion_mnist_dir / url.rsplit("/", 1)[1]))

    monkeypatch.setattr(fm, "_fetch_url", serve)
    with pytest.raises(FashionMNISTError, match=r"train-images-idx3-ubyte\.gz") as info:
        fm.load_arrays()
    assert "nothing was kept in the cache" in str(info.value)
    assert _leftovers(cache) == []


def test_no_network_and_no_copy_explains_the_three_ways(cache, monkeypatch):
    def offline(url, out, timeout=60.0):
        out.write(b"partial")
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(fm, "_fetch_url", offline)
    with pytest.raises(FashionMNISTError) as info:
        fm.load_arrays()
    message = str(info.value)
    for hint in ("data_dir=", "D2L_DATA_DIR", "dataset-fashion-mnist", str(cache)):
        assert hint in message
    assert "name resolution" in message
    assert _leftovers(cache) == []


@pytest.fixture(scope="module")
def recompressed_dir(tmp_path_factory, fashion_mnist_dir):
    """Debian-style copies: same payload, different gzip level and header mtime."""
    directory = tmp_path_factory.mktemp("debian-style")
    for name in NAMES:
        _write_gz(directory / name, _payload(fashion_mnist_dir / name), level=1, mtime=0)
    return directory


def test_recompressed_files_pass(cache, recompressed_dir, fashion_mnist_dir, no_network):
    for name in NAMES:
        assert (recompressed_dir / name).read_bytes() != (fashion_mnist_dir / name).read_bytes()
    recompressed = fm.load_arrays(data_dir=recompressed_dir)
    official = fm.load_arrays(data_dir=fashion_mnist_dir)
    for a, b in zip(recompressed, official, strict=True):
        np.testing.assert_array_equal(a, b)


def test_debian_package_dir_is_used(cache, recompressed_dir, monkeypatch, no_network):
    monkeypatch.setattr(fm, "DEBIAN_DIR", recompressed_dir)
    assert fm.locate() == (recompressed_dir, "debian")
    assert fm.load_arrays()[0].shape == (60000, 28, 28)


def test_decoded_once_per_directory(fashion_mnist_dir, monkeypatch):
    monkeypatch.delenv("D2L_MAX_EXAMPLES", raising=False)
    first = fm.load_raw(fashion_mnist_dir)
    monkeypatch.setattr(fm, "_decode", lambda payload, spec: pytest.fail("decoded twice"))
    second = fm.load_raw(fashion_mnist_dir)
    assert first is second
    assert not first["train_images"].flags.writeable
