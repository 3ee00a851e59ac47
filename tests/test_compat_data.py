"""Fashion-MNIST through each framework's loader, on the real files."""

import gzip
import importlib

import numpy as np
import pytest

FRAMEWORKS = ("mxnet", "torch", "tensorflow")
LABEL_DTYPES = {"mxnet": np.int32, "torch": np.int64, "tensorflow": np.int32}


@pytest.fixture(autouse=True, scope="module")
def _mxnet_first() -> None:
    """d2l_compat.mxnet must be imported before mxnet itself (it restores numpy's
    np.bool); imported here, not at the top, so that collecting needs no framework."""
    import d2l_compat.mxnet  # noqa: F401


@pytest.fixture(autouse=True)
def _data_env(monkeypatch, fashion_mnist_dir):
    monkeypatch.setenv("D2L_DATA_DIR", str(fashion_mnist_dir))
    monkeypatch.delenv("D2L_MAX_EXAMPLES", raising=False)


def _numpy(a):
    if hasattr(a, "asnumpy"):
        return a.asnumpy()
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    return a.numpy()


def _nchw(name, x):
    """Batch as numpy (B, 1, H, W) whatever the framework's layout."""
    x = _numpy(x)
    return x.transpose(0, 3, 1, 2) if name == "tensorflow" else x


def _epoch(name, data_iter):
    """One pass: (images (N,1,H,W) float32 numpy, labels numpy, batch sizes)."""
    xs, ys, sizes = [], [], []
    for X, y in data_iter:
        xs.append(_nchw(name, X))
        ys.append(_numpy(y))
        sizes.append(len(ys[-1]))
    return np.concatenate(xs), np.concatenate(ys), sizes


def _official(directory, prefix):
    with gzip.open(directory / f"{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(directory / f"{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_full_sets(name, fashion_mnist_dir):
    d2l = importlib.import_module(f"d2l_compat.{name}")
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=256)
    if name != "tensorflow":
        assert (len(train_iter), len(test_iter)) == (235, 40)

    counts = np.zeros(10, np.int64)
    n_train = 0
    for i, (X, y) in enumerate(train_iter):
        expected_shape = (256, 28, 28, 1) if name == "tensorflow" else (256, 1, 28, 28)
        x, labels = _numpy(X), _numpy(y)
        if i < 234:
            assert x.shape == expected_shape
        assert x.dtype == np.float32 and labels.dtype == LABEL_DTYPES[name]
        assert 0.0 <= x.min() and x.max() <= 1.0
        counts += np.bincount(labels, minlength=10)
        n_train += len(labels)
    assert n_train == 60000 and len(labels) == 60000 - 234 * 256  # last partial batch kept
    assert counts.tolist() == [6000] * 10

    images, labels, sizes = _epoch(name, test_iter)
    assert sizes == [256] * 39 + [16]
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert np.bincount(labels).tolist() == [1000] * 10
    official_images, official_labels = _official(fashion_mnist_dir, "t10k")
    np.testing.assert_array_equal(labels, official_labels)  # test set in file order
    np.testing.assert_allclose(images[:, 0], official_images / np.float32(255), atol=1e-7)
    assert images.min() == 0.0 and images.max() == 1.0


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_device_placement(name):
    d2l = importlib.import_module(f"d2l_compat.{name}")
    _, test_iter = d2l.load_data_fashion_mnist(batch_size=64)
    X, y = next(iter(test_iter))
    if name == "mxnet":
        import mxnet as mx

        assert isinstance(X, mx.np.ndarray) and isinstance(y, mx.np.ndarray)
        assert X.ctx == d2l.try_gpu() and y.ctx == d2l.try_gpu()
    elif name == "torch":
        assert X.device == d2l.try_gpu() and y.device == d2l.try_gpu()
    else:
        import tensorflow as tf

        assert isinstance(test_iter, tf.data.Dataset)


def test_capped_subset_is_balanced_and_identical_across_frameworks(monkeypatch, fashion_mnist_dir):
    monkeypatch.setenv("D2L_MAX_EXAMPLES", "500")
    official = {split: _official(fashion_mnist_dir, split) for split in ("train", "t10k")}
    seen = {}
    for name in FRAMEWORKS:
        d2l = importlib.import_module(f"d2l_compat.{name}")
        train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=128)
        if name != "tensorflow":
            assert len(train_iter) == 4
        for split, data_iter in (("train", train_iter), ("t10k", test_iter)):
            images, labels, _ = _epoch(name, data_iter)
            assert len(labels) == 500
            assert np.bincount(labels, minlength=10).tolist() == [50] * 10
            if split == "train":  # shuffled: bring back to file order via the pixels
                order = np.lexsort(images.reshape(500, -1).T[::-1])
                images, labels = images[order], labels[order]
            seen[name, split] = (images, labels)
    for split in ("train", "t10k"):
        all_images, all_labels = official[split]
        keep = np.sort(np.concatenate([np.flatnonzero(all_labels == c)[:50] for c in range(10)]))
        expected = all_images[keep][:, None] / np.float32(255)
        if split == "train":
            order = np.lexsort(expected.reshape(500, -1).T[::-1])
            expected = expected[order]
        else:
            np.testing.assert_array_equal(seen["torch", split][1], all_labels[keep])
        for name in FRAMEWORKS:
            np.testing.assert_allclose(seen[name, split][0], expected, atol=1e-7)
            np.testing.assert_array_equal(seen[name, split][1], seen["torch", split][1])


@pytest.mark.parametrize("name", FRAMEWORKS)
@pytest.mark.parametrize("value", ["0", "-10", "15", "abc", "2.5e3"])
def test_bad_cap_is_a_clear_error(name, value, monkeypatch):
    monkeypatch.setenv("D2L_MAX_EXAMPLES", value)
    d2l = importlib.import_module(f"d2l_compat.{name}")
    with pytest.raises(ValueError, match=r"D2L_MAX_EXAMPLES must be a positive multiple of 10"):
        d2l.load_data_fashion_mnist(batch_size=256)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_training_set_is_reshuffled_every_epoch(name, monkeypatch):
    monkeypatch.setenv("D2L_MAX_EXAMPLES", "1000")
    d2l = importlib.import_module(f"d2l_compat.{name}")
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=100)
    _, first, _ = _epoch(name, train_iter)
    _, second, _ = _epoch(name, train_iter)
    assert len(first) == len(second) == 1000
    assert not np.array_equal(first, second)
    assert sorted(first.tolist()) == sorted(second.tolist())
    file_order = _epoch(name, test_iter)[1]
    np.testing.assert_array_equal(file_order, _epoch(name, test_iter)[1])  # test: fixed order


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_resize(name, monkeypatch):
    monkeypatch.setenv("D2L_MAX_EXAMPLES", "100")
    d2l = importlib.import_module(f"d2l_compat.{name}")
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=32, resize=56)
    images, labels, sizes = _epoch(name, test_iter)
    assert images.shape == (100, 1, 56, 56) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    from d2l_compat.fashion_mnist import balanced_subset, load_raw, resize_images

    raw = load_raw()
    keep = balanced_subset(raw["test_labels"], 100)
    expected = resize_images(raw["test_images"][keep], 56)[:, None] / np.float32(255)
    np.testing.assert_allclose(images, expected, atol=1e-7)


def test_resize_images_keeps_constant_images():
    from d2l_compat.fashion_mnist import resize_images

    images = np.full((3, 28, 28), 77, np.uint8)
    for size in (14, 28, 32, (20, 40)):
        out = resize_images(images, size)
        expected = (size, size) if isinstance(size, int) else size
        assert out.shape == (3, *expected) and out.dtype == np.uint8
        assert (out == 77).all()
    with pytest.raises(ValueError):
        resize_images(images, 0)


def test_resize_images_matches_torch_bilinear(fashion_mnist_dir):
    import torch
    import torch.nn.functional as F

    images, _ = _official(fashion_mnist_dir, "t10k")
    images = images[:100]
    from d2l_compat.fashion_mnist import resize_images

    for size in (56, 96, 20):
        reference = F.interpolate(
            torch.from_numpy(images.astype(np.float32))[:, None],
            size=(size, size),
            mode="bilinear",
            align_corners=False,
            antialias=True,
        )[:, 0]
        reference = reference.round().clamp(0, 255).numpy()
        assert np.abs(resize_images(images, size) - reference).max() <= 1


@pytest.mark.parametrize("name", ["mxnet", "torch"])
def test_bad_batch_size(name):
    d2l = importlib.import_module(f"d2l_compat.{name}")
    with pytest.raises(ValueError, match="batch_size"):
        d2l.load_data_fashion_mnist(batch_size=0)


@pytest.mark.parametrize("name", FRAMEWORKS)
@pytest.mark.parametrize("resize", ["64", True, False, 0, -28, 2.5, (32,), (32, 0), ("32", 32),
                                    (28, True), np.float32(28)],
                         ids=repr)
def test_bad_resize_is_refused_by_every_framework(name, resize, monkeypatch):
    # before the data is read: a path that does not exist must not be the error
    monkeypatch.setenv("D2L_DATA_DIR", "/nonexistent/fashion-mnist")
    d2l = importlib.import_module(f"d2l_compat.{name}")
    with pytest.raises(ValueError) as raised:
        d2l.load_data_fashion_mnist(batch_size=32, resize=resize)
    assert str(raised.value) == (
        "resize must be a positive int (square images, e.g. resize=64) or a pair of positive "
        f"ints (height, width), e.g. resize=(64, 32); got {resize!r}")


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_resize_to_height_and_width(name, monkeypatch):
    monkeypatch.setenv("D2L_MAX_EXAMPLES", "100")
    d2l = importlib.import_module(f"d2l_compat.{name}")
    for resize in ((32, 20), [32, 20], np.int64(20)):
        _, test_iter = d2l.load_data_fashion_mnist(batch_size=50, resize=resize)
        images, _, _ = _epoch(name, test_iter)
        expected = (20, 20) if np.ndim(resize) == 0 else (32, 20)
        assert images.shape == (100, 1, *expected)
