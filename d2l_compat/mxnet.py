"""d2l helpers for MXNet: ``from d2l_compat import mxnet as d2l``.

Same public names and signatures as :mod:`d2l_compat.torch` and
:mod:`d2l_compat.tensorflow`. Environment variables: ``D2L_DATA_DIR`` (where the
Fashion-MNIST files are) and ``D2L_MAX_EXAMPLES`` (cap train and test to a fixed
class-balanced subset of N examples each); see :mod:`d2l_compat.fashion_mnist`.

MXNet 1.9.1 still uses numpy aliases that NumPy 1.24 removed (``np.bool``, and
``np.int`` in ``mxnet.test_utils``). Importing this module restores exactly those two,
only when missing, *before* importing MXNet; as NumPy is a shared module, they then
exist for the whole process. This module does not call ``npx.set_np()``: reader code
does, and the loader yields ``mxnet.np.ndarray`` batches, which is what works after it.

Threads: MXNet 1.9.1 caps the OpenMP threads of its operators at half the logical CPUs on
x86, assuming every core runs two hyper-threads. On a machine without them, such as a
2-vCPU VM that reports 2 cores of 1 thread, training then keeps one core busy and leaves
the other idle. Unless the user has set ``MXNET_OMP_MAX_THREADS`` or ``OMP_NUM_THREADS``
(both are honoured as given), importing this module sets ``MXNET_OMP_MAX_THREADS`` to the
number of *physical* cores this process may run on (Linux: from the CPU topology in
sysfs), *before* importing MXNet, which reads it once, at import. Where hyper-threads do
exist this is the number MXNet chose anyway. Nothing is set where the topology cannot be
read, nor when MXNet was imported before this module (it would no longer be read).
MXNet alone reads ``MXNET_OMP_MAX_THREADS``, so other libraries' OpenMP settings stay as
they were (child processes inherit it like any environment variable).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as _onp

for _name, _alias in (("bool", bool), ("int", int)):
    if _name not in vars(_onp):  # hasattr() would trigger a FutureWarning on NumPy 1.2x
        setattr(_onp, _name, _alias)
del _name, _alias


def _physical_cores() -> int | None:
    """Physical cores among the CPUs this process may run on, from Linux's sysfs CPU
    topology; ``None`` where that cannot be read."""
    try:
        cpus = os.sched_getaffinity(0)
    except (AttributeError, OSError):  # not Linux
        return None
    cores = set()
    for cpu in cpus:
        topology = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        try:
            with open(f"{topology}/physical_package_id") as f:
                package = f.read().strip()
            with open(f"{topology}/core_id") as f:
                core = f.read().strip()
        except OSError:
            return None
        cores.add((package, core))
    return len(cores) or None


# Once MXNet is loaded the variable is no longer read: setting it then would only mislead.
if (
    "mxnet" not in sys.modules
    and "MXNET_OMP_MAX_THREADS" not in os.environ
    and "OMP_NUM_THREADS" not in os.environ
):
    _cores = _physical_cores()
    if _cores is not None:
        os.environ["MXNET_OMP_MAX_THREADS"] = str(_cores)
    del _cores

import mxnet as _mx  # noqa: E402  (needs the numpy aliases and thread setting above)

from d2l_compat._batching import MinibatchIterator as _MinibatchIterator  # noqa: E402
from d2l_compat._plotting import Animator, plot, plt, set_figsize, use_svg_display  # noqa: E402
from d2l_compat._utils import Accumulator, Timer, TrainCallback  # noqa: E402
from d2l_compat.fashion_mnist import FashionMNISTError  # noqa: E402
from d2l_compat.fashion_mnist import load_arrays as _load_arrays  # noqa: E402
from d2l_compat.results import plot_histories, results_table, show_results  # noqa: E402

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

Device = _mx.Context
Array = _mx.np.ndarray
Net = _mx.gluon.Block
DataIter = _MinibatchIterator


def try_gpu(i: int = 0) -> Device:
    """Return ``mx.gpu(i)`` if that GPU exists, else ``mx.cpu()`` (d2l, section "GPUs")."""
    if _mx.context.num_gpus() > i:
        return _mx.gpu(i)
    return _mx.cpu()


def arange(*args: Any, **kwargs: Any) -> Array:
    """``mxnet.np.arange``."""
    return _mx.np.arange(*args, **kwargs)


def load_data_fashion_mnist(
    batch_size: int, resize: int | tuple[int, int] | None = None, *,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[DataIter, DataIter]:
    """Fashion-MNIST as (train_iter, test_iter) (d2l, section "The Image Classification
    Dataset").

    Batches are ``(X, y)`` of ``mxnet.np.ndarray`` on :func:`try_gpu`'s context: ``X``
    float32 (B, 1, H, W) with values in [0, 1] (H = W = 28, or ``resize``), ``y`` int32
    (B,) class indices 0..9. Each iterator is re-iterable (one pass = one epoch) and has
    ``len()`` = number of batches (ceil); the last, partial batch is kept. The training
    examples are reshuffled every epoch with NumPy's global RNG (like gluon's
    ``RandomSampler``; seed with ``numpy.random.seed``); the test set is in file order.

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
    n, height, width = images.shape
    labels = labels.astype(_onp.int32)

    def make_batch(index):
        x = images[index].astype(_onp.float32)
        x /= _onp.float32(255.0)
        x = x.reshape(len(x), 1, height, width)
        return (
            _mx.np.array(x, dtype=_onp.float32, ctx=device),
            _mx.np.array(labels[index], dtype=_onp.int32, ctx=device),
        )

    return _MinibatchIterator(
        n,
        batch_size,
        shuffle=shuffle,
        make_batch=make_batch,
        permutation=_onp.random.permutation,
    )


def _as_numpy(a: Any) -> _onp.ndarray:
    return a.asnumpy() if hasattr(a, "asnumpy") else _onp.asarray(a)


def accuracy(y_hat: Array, y: Array) -> float:
    """Number of correct predictions as a float (d2l, section "Softmax Regression
    Implementation from Scratch").

    Args:
        y_hat: scores (B, C) -- argmax over axis 1 -- or predicted labels (B,);
            ``mxnet.np.ndarray`` or legacy ``mxnet.nd.NDArray``.
        y: true labels (B,).
    """
    # On the host: a (B, C) copy and NumPy are ~10x faster than five engine ops and a
    # sync, called once per minibatch (0.03 vs 0.28 ms for B=256 on one CPU thread)
    scores, labels = _as_numpy(y_hat), _as_numpy(y)
    if scores.ndim > 1 and scores.shape[1] > 1:
        scores = scores.argmax(axis=1)
    return float((scores.astype(labels.dtype) == labels).sum())


def _net_context(net: Any) -> Device | None:
    try:
        params = list(net.collect_params().values())
        return params[0].list_ctx()[0] if params else None
    except Exception:  # uninitialised / deferred parameters, or not a gluon Block
        return None


def evaluate_accuracy_gpu(net: Net, data_iter: DataIter, device: Device | None = None) -> float:
    """Accuracy of ``net`` over every batch of ``data_iter`` (d2l, section "Convolutional
    Neural Networks (LeNet)").

    ``device`` defaults to the context of the net's first parameter, or
    :func:`try_gpu` when that cannot be determined. The correct predictions are counted
    by MXNet's engine and read once at the end, so the loop queues the next batches
    without waiting for each count (the same count as :func:`accuracy`; with the LeNet
    of "Learning Rate Scheduling" on one CPU thread, 0.31 instead of 0.35 s for the
    10,000 test images).

    Returns:
        fraction of correctly classified examples, in [0, 1].
    """
    if device is None:
        device = _net_context(net) or try_gpu()
    counts: list[Any] = []
    total = 0
    for X, y in data_iter:
        if isinstance(X, list):
            X = [x.as_in_ctx(device) for x in X]
        else:
            X = X.as_in_ctx(device)
        y = y.as_in_ctx(device)
        counts.append(_correct_on_engine(net(X), y))
        total += y.size
        # Keep at most two batches queued ahead, so their activations, not the whole
        # test set's, are held at once
        if len(counts) > 2 and hasattr(counts[-3], "wait_to_read"):
            counts[-3].wait_to_read()
    return sum(float(_as_numpy(c).sum()) for c in counts) / total


def _correct_on_engine(y_hat: Any, y: Any) -> Any:
    """:func:`accuracy`'s count as a float32 array of shape (1,), computed when the
    engine gets to it, or as a float when ``y_hat`` is not an MXNet array."""
    if not hasattr(y_hat, "asnumpy"):
        return accuracy(y_hat, y)
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    # float32 counts exactly up to 2**24 correct predictions
    return (y_hat.astype(y.dtype) == y).astype("float32").sum().reshape((1,))
