"""d2l helpers for PyTorch: ``from d2l_compat import torch as d2l``.

Same public names and signatures as :mod:`d2l_compat.mxnet` and
:mod:`d2l_compat.tensorflow`. Environment variables: ``D2L_DATA_DIR`` (where the
Fashion-MNIST files are) and ``D2L_MAX_EXAMPLES`` (cap train and test to a fixed
class-balanced subset of N examples each); see :mod:`d2l_compat.fashion_mnist`.
"""

from __future__ import annotations

import os
from typing import Any

import torch as _torch

from d2l_compat._batching import MinibatchIterator as _MinibatchIterator
from d2l_compat._plotting import Animator, plot, plt, set_figsize, use_svg_display
from d2l_compat._utils import Accumulator, Timer, TrainCallback
from d2l_compat.fashion_mnist import FashionMNISTError
from d2l_compat.fashion_mnist import load_arrays as _load_arrays
from d2l_compat.results import plot_histories, results_table, show_results

__all__ = [
    "Accumulator",
    "Animator",
    "FashionMNISTError",
    "Timer",
    "TrainCallback",
    "accuracy",
    "arange",
    "evaluate_accuracy_gpu",
    "load_data_fashion_mnist",
    "plot",
    "plot_histories",
    "plt",
    "results_table",
    "set_figsize",
    "show_results",
    "try_gpu",
    "use_svg_display",
]

Device = _torch.device
Array = _torch.Tensor
Net = _torch.nn.Module
DataIter = _MinibatchIterator


def try_gpu(i: int = 0) -> Device:
    """Return ``torch.device('cuda:i')`` if that GPU exists, else ``torch.device('cpu')``
    (d2l, section "GPUs")."""
    if _torch.cuda.device_count() > i:
        return _torch.device(f"cuda:{i}")
    return _torch.device("cpu")


def arange(*args: Any, **kwargs: Any) -> Array:
    """``torch.arange``."""
    return _torch.arange(*args, **kwargs)


def load_data_fashion_mnist(
    batch_size: int, resize: int | tuple[int, int] | None = None, *,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[DataIter, DataIter]:
    """Fashion-MNIST as (train_iter, test_iter) (d2l, section "The Image Classification
    Dataset").

    Batches are ``(X, y)`` on :func:`try_gpu`'s device: ``X`` float32 (B, 1, H, W) with
    values in [0, 1] (H = W = 28, or ``resize``), ``y`` int64 (B,) class indices 0..9.
    Each iterator is re-iterable (one pass = one epoch) and has ``len()`` = number of
    batches (ceil); the last, partial batch is kept. The training examples are
    reshuffled every epoch with ``torch.randperm`` (seed with ``torch.manual_seed``);
    the test set is served in file order.

    Args:
        batch_size: examples per batch.
        resize: a positive int (``resize x resize`` images) or a pair of positive ints
            ``(height, width)``; images are resized once at load time (bilinear).
        data_dir: directory holding the four ``.gz`` files; default: ``$D2L_DATA_DIR``,
            the per-user cache, Debian's ``/usr/share/datasets/fashion-mnist``, then a
            download into the cache.

    ``D2L_MAX_EXAMPLES=N`` caps train and test to the first N // 10 examples of each class.

    Raises:
        FashionMNISTError: files missing, or truncated, corrupt or wrong.
        ValueError: bad ``batch_size``, ``resize`` or ``D2L_MAX_EXAMPLES``.
    """
    device = try_gpu()
    train_x, train_y, test_x, test_y = _load_arrays(data_dir, resize)
    return (
        _iterator(train_x, train_y, batch_size, True, device),
        _iterator(test_x, test_y, batch_size, False, device),
    )


def _iterator(images, labels, batch_size, shuffle, device) -> DataIter:
    images_t = _torch.from_numpy(images.copy())  # uint8 (N, H, W)
    labels_t = _torch.from_numpy(labels.astype("int64"))

    def make_batch(index):
        if not isinstance(index, slice):
            # index_select: 0.06 instead of 0.2-0.3 ms for B = 256 with advanced indexing
            images, labels = images_t.index_select(0, index), labels_t.index_select(0, index)
        else:
            images, labels = images_t[index], labels_t[index]
        x = images.to(device=device, dtype=_torch.float32).div_(255.0).unsqueeze(1)
        return x, labels.to(device)

    return _MinibatchIterator(
        len(labels_t),
        batch_size,
        shuffle=shuffle,
        make_batch=make_batch,
        permutation=_torch.randperm,
    )


def accuracy(y_hat: Array, y: Array) -> float:
    """Number of correct predictions as a float (d2l, section "Softmax Regression
    Implementation from Scratch").

    Args:
        y_hat: scores (B, C) -- argmax over axis 1 -- or predicted labels (B,).
        y: true labels (B,).
    """
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat.to(y.dtype) == y).sum().item())


def evaluate_accuracy_gpu(net: Net, data_iter: DataIter, device: Device | None = None) -> float:
    """Accuracy of ``net`` over every batch of ``data_iter`` (d2l, section "Convolutional
    Neural Networks (LeNet)").

    Runs under ``torch.no_grad()`` with ``net.eval()``; the module's previous train/eval
    mode is restored afterwards. ``device`` defaults to the device of the net's first
    parameter, or :func:`try_gpu` for a parameterless net.

    Returns:
        fraction of correctly classified examples, in [0, 1].
    """
    was_training = None
    if isinstance(net, _torch.nn.Module):
        was_training = net.training
        net.eval()
        if device is None:
            param = next(iter(net.parameters()), None)
            device = param.device if param is not None else None
    if device is None:
        device = try_gpu()
    metric = Accumulator(2)
    try:
        with _torch.no_grad():
            for X, y in data_iter:
                X = [x.to(device) for x in X] if isinstance(X, list) else X.to(device)
                y = y.to(device)
                metric.add(accuracy(net(X), y), y.numel())
    finally:
        if was_training:
            net.train()
    return metric[0] / metric[1]
