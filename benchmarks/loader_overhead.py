"""How much does d2l_compat's Fashion-MNIST loader cost during training?

For each framework, trains the "Learning Rate Scheduling" section's LeNet (ReLU, SGD,
batch 256) on the full training set and reports seconds per epoch:

(a) reading batches through ``d2l.load_data_fashion_mnist``;
(b) over the same batches already made and held in memory (compute only): a Python list
    of framework arrays for MXNet/PyTorch; for TensorFlow a ``tf.data`` dataset sliced
    from the same batches stacked in memory, consumed by the same ``model.fit``.

After one warm-up epoch of each, epochs of (a) and (b) are interleaved (so machine-load
drift hits both alike). The table reports the best (minimum) epoch time of each, as
timeit does, because other processes on a shared machine only ever add time; every
epoch's time is printed too. The ratio (a)/(b) is the loader's overhead; the target is
<= 1.15. Each framework runs in its own subprocess.

Usage::

    D2L_DATA_DIR=/path/to/fashion-mnist python benchmarks/loader_overhead.py [--epochs 2]
        [--frameworks mxnet pytorch tensorflow]

``D2L_MAX_EXAMPLES`` is ignored (removed) here: the benchmark always uses the full data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from _common import (
    BATCH_SIZE,
    LR,
    every_epoch_line,
    interleave,
    keras_compile,
    keras_epoch,
    mxnet_epoch,
    quiet_tf_env,
    run_workers,
    tf_in_memory,
    torch_epoch,
)

# on sys.path through _common
from bookbuild.vocabulary import FRAMEWORK_TAGS, MAX_EXAMPLES_ENV


def bench_pytorch(epochs: int) -> tuple[list[float], list[float]]:
    import torch
    from torch import nn

    from d2l_compat import torch as d2l

    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )  # fmt: skip
    device = d2l.try_gpu()
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    loss = nn.CrossEntropyLoss()
    train_iter, _ = d2l.load_data_fashion_mnist(batch_size=BATCH_SIZE)
    batches = list(train_iter)

    def epoch(data):
        return torch_epoch(net, optimizer, loss, data, device)

    return interleave(epoch(train_iter), epoch(batches), epochs)


def bench_mxnet(epochs: int) -> tuple[list[float], list[float]]:
    from d2l_compat import mxnet as d2l  # first: it restores numpy names MXNet 1.9.1 uses

    # isort: split
    import mxnet as mx
    from mxnet import gluon, init, npx
    from mxnet.gluon import nn

    npx.set_np()
    mx.random.seed(0)
    net = nn.HybridSequential()
    net.add(
        nn.Conv2D(6, kernel_size=5, padding=2, activation="relu"),
        nn.MaxPool2D(pool_size=2, strides=2),
        nn.Conv2D(16, kernel_size=5, activation="relu"),
        nn.MaxPool2D(pool_size=2, strides=2),
        nn.Dense(120, activation="relu"),
        nn.Dense(84, activation="relu"),
        nn.Dense(10),
    )
    device = d2l.try_gpu()
    net.initialize(init.Xavier(), ctx=device)
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    train_iter, _ = d2l.load_data_fashion_mnist(batch_size=BATCH_SIZE)
    batches = list(train_iter)
    npx.waitall()

    def epoch(data):
        return mxnet_epoch(net, trainer, loss, data, device)

    return interleave(epoch(train_iter), epoch(batches), epochs)


def bench_tensorflow(epochs: int) -> tuple[list[float], list[float]]:
    import keras

    from d2l_compat import tensorflow as d2l

    keras.utils.set_random_seed(0)
    train_iter, _ = d2l.load_data_fashion_mnist(batch_size=BATCH_SIZE)
    # The same batches, made once from one epoch of the loader and held in memory
    in_memory = tf_in_memory(list(train_iter), BATCH_SIZE)
    assert int(in_memory.cardinality()) == int(train_iter.cardinality())
    net = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(6, kernel_size=5, padding="same", activation="relu"),
        keras.layers.MaxPool2D(pool_size=2, strides=2),
        keras.layers.Conv2D(16, kernel_size=5, activation="relu"),
        keras.layers.MaxPool2D(pool_size=2, strides=2),
        keras.layers.Flatten(),
        keras.layers.Dense(120, activation="relu"),
        keras.layers.Dense(84, activation="relu"),
        keras.layers.Dense(10),
    ])  # fmt: skip
    keras_compile(net, LR)
    device = d2l.try_gpu()
    return interleave(
        keras_epoch(net, train_iter, device), keras_epoch(net, in_memory, device), epochs
    )


def _worker(framework: str, epochs: int) -> None:
    os.environ.pop(MAX_EXAMPLES_ENV, None)
    loader, in_memory = globals()[f"bench_{framework}"](epochs)
    print(json.dumps({"framework": framework, "loader": loader, "in_memory": in_memory}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs of each (default 3)")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORK_TAGS,
                        default=list(FRAMEWORK_TAGS))
    parser.add_argument("--worker", choices=FRAMEWORK_TAGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.epochs)
        return 0

    try:
        rows = run_workers(
            __file__, args.frameworks, ["--epochs", str(args.epochs)], quiet_tf_env()
        )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1

    print(f"LeNet, batch {BATCH_SIZE}, full Fashion-MNIST train set, best of {args.epochs} epochs")
    print(
        f"{'framework':<12}{'(a) loader s/epoch':>20}{'(b) in-memory s/epoch':>24}{'(a)/(b)':>10}"
    )
    worst = 0.0
    for row in rows:
        best_a, best_b = min(row["loader"]), min(row["in_memory"])
        worst = max(worst, best_a / best_b)
        print(f"{row['framework']:<12}{best_a:>20.2f}{best_b:>24.2f}{best_a / best_b:>10.3f}")
    for row in rows:
        print(every_epoch_line(row["framework"], row["loader"], row["in_memory"]))
    print(f"target (a)/(b) <= 1.15: {'met' if worst <= 1.15 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
