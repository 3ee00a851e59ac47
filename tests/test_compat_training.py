"""One short training run of the section's LeNet per framework, through d2l_compat."""

import numpy as np
import pytest

EPOCHS, LR, BATCH = 3, 0.3, 256


@pytest.fixture(autouse=True)
def _capped(monkeypatch, fashion_mnist_dir):
    monkeypatch.setenv("D2L_DATA_DIR", str(fashion_mnist_dir))
    monkeypatch.setenv("D2L_MAX_EXAMPLES", "6000")


def test_mxnet_lenet():
    from d2l_compat import mxnet as d2l  # first: it restores numpy names MXNet 1.9.1 uses

    # isort: split
    import mxnet as mx
    from mxnet import autograd, gluon, init, npx
    from mxnet.gluon import nn

    npx.set_np()
    mx.random.seed(0)
    np.random.seed(0)
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
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=BATCH)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    animator = d2l.Animator(
        xlabel="epoch", xlim=[0, EPOCHS], legend=["train loss", "train acc", "test acc"]
    )
    for epoch in range(EPOCHS):
        metric = d2l.Accumulator(3)
        for X, y in train_iter:
            X, y = X.as_in_ctx(device), y.as_in_ctx(device)
            with autograd.record():
                y_hat = net(X)
                batch_loss = loss(y_hat, y)
            batch_loss.backward()
            trainer.step(X.shape[0])
            metric.add(float(batch_loss.sum()), d2l.accuracy(y_hat, y), X.shape[0])
        test_acc = d2l.evaluate_accuracy_gpu(net, test_iter)
        animator.add(epoch + 1, (metric[0] / metric[2], metric[1] / metric[2], test_acc))
    assert metric[2] == 6000
    assert animator.X[2] == [1.0, 2.0, 3.0]
    assert test_acc > 0.2, animator.Y


def test_torch_lenet():
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
    for layer in net:
        if isinstance(layer, nn.Linear | nn.Conv2d):
            nn.init.xavier_uniform_(layer.weight)
    device = d2l.try_gpu()
    net.to(device)
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=BATCH)
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    loss = nn.CrossEntropyLoss()
    accuracies = []
    for _ in range(EPOCHS):
        net.train()
        metric = d2l.Accumulator(3)
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            trainer.zero_grad()
            y_hat = net(X)
            batch_loss = loss(y_hat, y)
            batch_loss.backward()
            trainer.step()
            with torch.no_grad():
                metric.add(batch_loss * X.shape[0], d2l.accuracy(y_hat, y), X.shape[0])
        accuracies.append(d2l.evaluate_accuracy_gpu(net, test_iter))
        assert net.training  # evaluate_accuracy_gpu restores the previous mode
    assert metric[2] == 6000
    assert accuracies[-1] > 0.2, accuracies


def test_tensorflow_lenet_with_train_callback(capsys):
    import keras

    from d2l_compat import tensorflow as d2l

    keras.utils.set_random_seed(0)
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
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=BATCH)
    net.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    device_name = d2l.try_gpu()
    callback = d2l.TrainCallback(net, train_iter, test_iter, EPOCHS, device_name)
    halve_after_first = keras.callbacks.LearningRateScheduler(
        lambda epoch: LR if epoch == 0 else LR / 2
    )
    net.fit(train_iter, epochs=EPOCHS, verbose=0, callbacks=[callback, halve_after_first])

    history = callback.history
    assert set(history) == {"lr", "train_loss", "train_acc", "test_acc"}
    assert all(len(values) == EPOCHS for values in history.values())
    assert all(isinstance(v, float) for values in history.values() for v in values)
    assert history["lr"] == pytest.approx([LR, LR / 2, LR / 2])
    assert history["test_acc"][-1] > 0.2, history
    assert 0 < history["train_acc"][-1] <= 1 and history["train_loss"][-1] > 0
    assert callback.animator.X == [[1.0, 2.0, 3.0]] * 3
    assert callback.animator.Y[2] == pytest.approx(history["test_acc"])
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == (
        f"train loss {history['train_loss'][-1]:.3f}, train acc {history['train_acc'][-1]:.3f}, "
        f"test acc {history['test_acc'][-1]:.3f}"
    )


def test_tensorflow_callback_records_schedule_objects():
    import keras

    from d2l_compat import tensorflow as d2l

    keras.utils.set_random_seed(0)
    net = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=600)  # 10 steps per epoch
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([9], [0.1, 0.01])
    net.compile(
        optimizer=keras.optimizers.SGD(learning_rate=schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callback = d2l.TrainCallback(net, train_iter, test_iter, 2, d2l.try_gpu())
    net.fit(train_iter, epochs=2, verbose=0, callbacks=[callback])
    # Step 9 (the last of epoch 1) still uses 0.1; epoch 2's last step uses 0.01.
    assert callback.history["lr"] == pytest.approx([0.1, 0.01])


def test_mxnet_evaluation_counts_like_accuracy():
    """evaluate_accuracy_gpu counts on MXNet's engine and reads once: the same fraction as
    d2l.accuracy batch by batch, the partial last batch included."""
    from d2l_compat import mxnet as d2l

    # isort: split
    import mxnet as mx
    from mxnet import init, npx
    from mxnet.gluon import nn

    npx.set_np()
    mx.random.seed(1)
    net = nn.HybridSequential()
    net.add(nn.Dense(10))
    net.initialize(init.Normal(0.5), ctx=d2l.try_gpu())
    _, test_iter = d2l.load_data_fashion_mnist(batch_size=96)
    assert len(test_iter) > 3 and 6000 % 96  # more batches than are queued; a partial one
    correct = total = 0
    for X, y in test_iter:
        correct += d2l.accuracy(net(X), y)
        total += y.size
    assert total == 6000
    assert 0 < correct < total  # an untrained net: neither all right nor all wrong
    assert d2l.evaluate_accuracy_gpu(net, test_iter) == correct / total
