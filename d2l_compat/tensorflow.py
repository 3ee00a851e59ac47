"""d2l helpers for TensorFlow / Keras 3: ``from d2l_compat import tensorflow as d2l``.

Same public names and signatures as :mod:`d2l_compat.mxnet` and :mod:`d2l_compat.torch`.
Environment variables: ``D2L_DATA_DIR`` (where the Fashion-MNIST files are) and
``D2L_MAX_EXAMPLES`` (cap train and test to a fixed class-balanced subset of N examples
each); see :mod:`d2l_compat.fashion_mnist`.

Importing this module silences one Keras warning, and only that one: "`shuffle=True` was
passed, but will be ignored since the data `x` was provided as a tf.data.Dataset", which
``model.fit(train_iter)`` emits with its default ``shuffle=True``. The training dataset
returned here is already reshuffled every epoch, so the warning would only clutter the
notebooks' output. Importing it also drops the "oneDNN custom operations are on" notice
that TensorFlow's C++ code prints at import (see ``_import_tensorflow``); every other line
TensorFlow prints is kept.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import warnings
import weakref
from typing import Any

# TensorFlow's C++ code announces at import, straight to file descriptor 2, that oneDNN
# custom operations are on (twice, each after absl's "before InitializeLog" warning).
# TF_CPP_MIN_LOG_LEVEL does not silence it, and the only switch that does
# (TF_ENABLE_ONEDNN_OPTS=0) makes training several times slower. Notebook kernels forward
# fd 2 into the cell's output, so the import runs with fd 2 captured and every other line
# is passed on unchanged.
_IMPORT_NOTICES = re.compile(
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    r"STDERR$|^I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on")


def _import_tensorflow() -> tuple[Any, Any]:
    if "tensorflow" in sys.modules:
        import keras
        import tensorflow
        return tensorflow, keras
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (some embedded interpreters): import as is
        import keras
        import tensorflow
        return tensorflow, keras
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
    kept = "".join(line for line in lines if not _IMPORT_NOTICES.search(line.rstrip("\n")))
    if kept:
        sys.stderr.write(kept)
    return tensorflow, keras


_tf, _keras = _import_tensorflow()

from d2l_compat._plotting import Animator, plot, plt, set_figsize, use_svg_display  # noqa: E402  (after the quiet import)
from d2l_compat._utils import Accumulator, Timer  # noqa: E402  (after the quiet import)
from d2l_compat.fashion_mnist import FashionMNISTError  # noqa: E402  (after the quiet import)
from d2l_compat.fashion_mnist import load_arrays as _load_arrays  # noqa: E402  (after the quiet import)
from d2l_compat.results import plot_histories, results_table, show_results  # noqa: E402  (after the quiet import)

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

warnings.filterwarnings(
    "ignore",
    message=r"`shuffle=True` was passed, but will be ignored since the data `x` was provided "
    r"as a tf\.data\.Dataset",
    category=UserWarning,
)

Device = str
Array = _tf.Tensor
Net = _keras.Model
DataIter = _tf.data.Dataset


def try_gpu(i: int = 0) -> Device:
    """Device *name* ``'/GPU:i'`` if that GPU is visible, else ``'/CPU:0'`` (d2l, section
    "GPUs").

    Departure from d2l: d2l returned a ``tf.device`` context object, whose private
    ``_device_name`` callers had to read. The name string works directly with
    ``tf.device(name)`` and ``tf.distribute.OneDeviceStrategy(name)``.
    """
    if len(_tf.config.list_physical_devices("GPU")) > i:
        return f"/GPU:{i}"
    return "/CPU:0"


def arange(*args: Any, **kwargs: Any) -> Array:
    """``tf.range`` (TensorFlow's arange)."""
    return _tf.range(*args, **kwargs)


def load_data_fashion_mnist(
    batch_size: int, resize: int | tuple[int, int] | None = None, *,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[DataIter, DataIter]:
    """Fashion-MNIST as two ``tf.data.Dataset`` s (train, test) (d2l, section "The Image
    Classification Dataset"); ``model.fit(train_iter)`` works directly.

    Elements are ``(X, y)``: ``X`` float32 (B, H, W, 1) (NHWC) with values in [0, 1]
    (H = W = 28, or ``resize``), ``y`` int32 (B,) class indices 0..9. The last, partial
    batch is kept. The training set is shuffled over all examples, afresh for every
    epoch (``reshuffle_each_iteration``; seed with ``tf.random.set_seed`` or
    ``keras.utils.set_random_seed``); the test set is in file order. Both are prefetched.
    tf.data runs on the host; Keras places batches on the model's device.

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
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    train_x, train_y, test_x, test_y = _load_arrays(data_dir, resize)
    return (
        _dataset(train_x, train_y, batch_size, shuffle=True),
        _dataset(test_x, test_y, batch_size, shuffle=False),
    )


def _dataset(images, labels, batch_size: int, shuffle: bool) -> DataIter:
    with _tf.device("/CPU:0"):
        images_t = _tf.constant(images[..., None])  # uint8 (N, H, W, 1)
        labels_t = _tf.constant(labels.astype("int32"))
    n = len(labels)

    def gather(index):
        x = _tf.cast(_tf.gather(images_t, index), _tf.float32) / 255.0
        return x, _tf.gather(labels_t, index)

    ds = _tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(gather, num_parallel_calls=_tf.data.AUTOTUNE)
    return ds.prefetch(_tf.data.AUTOTUNE)


def accuracy(y_hat: Array, y: Array) -> float:
    """Number of correct predictions as a float (d2l, section "Softmax Regression
    Implementation from Scratch").

    Args:
        y_hat: scores (B, C) -- argmax over axis 1 -- or predicted labels (B,).
        y: true labels (B,).
    """
    y_hat = _tf.convert_to_tensor(y_hat)
    y = _tf.convert_to_tensor(y)
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = _tf.argmax(y_hat, axis=1)
    cmp = _tf.cast(y_hat, y.dtype) == y
    return float(_tf.reduce_sum(_tf.cast(cmp, _tf.int64)).numpy())


def evaluate_accuracy_gpu(net: Net, data_iter: DataIter, device: Device | None = None) -> float:
    """Accuracy of ``net`` (called with ``training=False``) over every batch of
    ``data_iter`` (d2l, section "Convolutional Neural Networks (LeNet)").

    Each batch's forward pass and count of correct predictions run as one compiled
    ``tf.function`` per network (traced on first use), not op by op: evaluated eagerly,
    the test set took about a fifth of a LeNet training epoch on CPU.

    Args:
        device: device name for ``tf.device``; default :func:`try_gpu`.

    Returns:
        fraction of correctly classified examples, in [0, 1].
    """
    count_correct = _correct_counter(net)
    correct = total = 0
    with _tf.device(device or try_gpu()):
        for X, y in data_iter:
            correct += int(count_correct(X, y))
            total += int(_tf.size(y))
    return correct / total


# One compiled counter per network, dropped with the network.
_CORRECT_COUNTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _correct_counter(net: Net) -> Any:
    """``(X, y) -> number of correct predictions`` of ``net`` as an int64 scalar tensor,
    compiled; the same rule as :func:`accuracy`."""
    counter = _CORRECT_COUNTERS.get(net)
    if counter is None:
        # A weak reference, so the cached function does not keep the network alive.
        net_ref = weakref.ref(net)

        @_tf.function(reduce_retracing=True)
        def counter(X, y):
            y_hat = net_ref()(X, training=False)
            if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
                y_hat = _tf.argmax(y_hat, axis=1)
            return _tf.reduce_sum(_tf.cast(_tf.cast(y_hat, y.dtype) == y, _tf.int64))

        _CORRECT_COUNTERS[net] = counter
    return counter


def _applied_learning_rate(optimizer: Any) -> float:
    """Learning rate the optimizer used for its latest step, as a Python float."""
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, _keras.optimizers.schedules.LearningRateSchedule):
        step = max(int(_keras.ops.convert_to_numpy(optimizer.iterations)) - 1, 0)
        return float(_keras.ops.convert_to_numpy(schedule(step)))
    return float(_keras.ops.convert_to_numpy(optimizer.learning_rate))


def _first_present(logs: dict, keys: tuple[str, ...]) -> float:
    for key in keys:
        if key in logs:
            return float(logs[key])
    return math.nan


class TrainCallback(_keras.callbacks.Callback):
    """Keras callback that plots and records training progress (d2l, section
    "Convolutional Neural Networks (LeNet)").

    Per epoch it adds train loss and accuracy (from Keras' logs: ``'loss'``, and
    ``'accuracy'`` when compiled with ``metrics=['accuracy']``) and the test accuracy
    (:func:`evaluate_accuracy_gpu` on ``test_iter``) to an :class:`Animator`, and records
    them in ``self.history``: ``{'lr': [...], 'train_loss': [...], 'train_acc': [...],
    'test_acc': [...]}`` (Python floats, one entry per epoch). ``lr`` is the learning rate
    the optimizer applied during the epoch, read at epoch end (for a
    ``LearningRateSchedule``: the rate of the epoch's last step). When training ends it
    prints ``train loss ..., train acc ..., test acc ...`` (no timing line, so output is
    deterministic).

    Args:
        net: the Keras model being trained.
        train_iter: training data (kept for reference, as in d2l).
        test_iter: test data, evaluated after every epoch.
        num_epochs: planned epochs (x-axis runs 1..num_epochs).
        device_name: device name, e.g. from :func:`try_gpu`, used for evaluation.
    """

    def __init__(
        self, net: Net, train_iter: DataIter, test_iter: DataIter, num_epochs: int, device_name: str
    ) -> None:
        super().__init__()
        self.net = net
        self.train_iter = train_iter
        self.test_iter = test_iter
        self.num_epochs = num_epochs
        self.device_name = device_name
        self.timer = Timer()
        self.animator = Animator(
            xlabel="epoch", xlim=[1, num_epochs], legend=["train loss", "train acc", "test acc"]
        )
        self.history: dict[str, list[float]] = {
            "lr": [],
            "train_loss": [],
            "train_acc": [],
            "test_acc": [],
        }

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.timer.start()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.timer.stop()
        logs = logs or {}
        train_loss = _first_present(logs, ("loss",))
        train_acc = _first_present(logs, ("accuracy", "sparse_categorical_accuracy", "acc"))
        test_acc = evaluate_accuracy_gpu(self.net, self.test_iter, self.device_name)
        self.history["lr"].append(_applied_learning_rate(self.model.optimizer))
        self.history["train_loss"].append(train_loss)
        self.history["train_acc"].append(train_acc)
        self.history["test_acc"].append(test_acc)
        metrics = [None if math.isnan(v) else v for v in (train_loss, train_acc, test_acc)]
        self.animator.add(epoch + 1, metrics)

    def on_train_end(self, logs: dict | None = None) -> None:
        if not self.history["test_acc"]:
            return
        print(
            f"train loss {self.history['train_loss'][-1]:.3f}, "
            f"train acc {self.history['train_acc'][-1]:.3f}, "
            f"test acc {self.history['test_acc'][-1]:.3f}"
        )
