"""d2l_compat's three framework modules: same API, device selection, small helpers."""

import ast
import importlib
import inspect
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("mxnet", "torch", "tensorflow")
PUBLIC = {
    "try_gpu",
    "load_data_fashion_mnist",
    "Animator",
    "Accumulator",
    "accuracy",
    "evaluate_accuracy_gpu",
    "plot",
    "set_figsize",
    "use_svg_display",
    "arange",
    "Timer",
    "TrainCallback",
    "plt",
}


@pytest.fixture(autouse=True, scope="module")
def _mxnet_first() -> None:
    """d2l_compat.mxnet must be imported before mxnet itself (it restores numpy's
    np.bool); imported here, not at the top, so that collecting needs no framework."""
    import d2l_compat.mxnet  # noqa: F401


def _module(name):
    return importlib.import_module(f"d2l_compat.{name}")


# Type aliases each module defines for its annotations (framework classes, not API).
_ALIASES = {"Device", "Array", "Net", "DataIter", "annotations", "Any"}


def _public_names(module):
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and name not in _ALIASES and not inspect.ismodule(value)
    }


def test_same_public_names_and_signatures():
    modules = {name: _module(name) for name in FRAMEWORKS}
    exported = {name: set(module.__all__) for name, module in modules.items()}
    assert exported["mxnet"] == exported["torch"] == exported["tensorflow"]
    assert PUBLIC <= exported["torch"]
    # d2l's `plt`: the one pyplot module, re-exported as d2l does
    for name in FRAMEWORKS:
        assert modules[name].plt is importlib.import_module("matplotlib.pyplot"), name
        assert _public_names(modules[name]) == exported[name] - {"plt"}, name
    for attr in sorted(exported["torch"] - {"plt"}):
        if isinstance(getattr(modules["torch"], attr), type) and issubclass(
            getattr(modules["torch"], attr), Exception
        ):  # exceptions have no signature: they must be the very same class
            assert len({id(getattr(modules[name], attr)) for name in FRAMEWORKS}) == 1, attr
            continue
        signatures = {name: inspect.signature(getattr(modules[name], attr)) for name in FRAMEWORKS}
        assert signatures["mxnet"] == signatures["torch"] == signatures["tensorflow"], (
            attr,
            signatures,
        )


# The notebook of each framework module.
NOTEBOOKS = {"mxnet": "mxnet", "torch": "pytorch", "tensorflow": "tensorflow"}
# How d2l's book calls these beyond this chapter (readers' code calls them so too).
D2L_CALLS = [
    ("try_gpu", (0,), {}),
    ("load_data_fashion_mnist", (256,), {"resize": 224}),
    ("evaluate_accuracy_gpu", ("net", "data_iter"), {"device": None}),
    ("accuracy", ("y_hat", "y"), {}),
    ("set_figsize", ((3.5, 2.5),), {}),
    ("use_svg_display", (), {}),
    ("plot", ("X",), {"Y": None, "xlabel": "x", "ylabel": "y", "legend": [], "xlim": None,
                      "ylim": None, "xscale": "log", "yscale": "log", "fmts": ("-",),
                      "figsize": (3.5, 2.5), "axes": None}),
    ("Animator", (), {"xlabel": "epoch", "ylabel": "loss", "legend": [], "xlim": [1, 10],
                      "ylim": [0, 1], "xscale": "linear", "yscale": "linear",
                      "fmts": ("-",), "nrows": 1, "ncols": 1, "figsize": (3.5, 2.5)}),
    ("Accumulator", (2,), {}),
]


def _chapter_calls(framework: str) -> list[tuple[str, tuple, dict, str]]:
    """Every `d2l.name(...)` call in the framework's chapter notebook, as (name, args,
    kwargs, source) with placeholder values: what the call passes, not what it is."""
    path = ROOT / "chapters" / "en" / "notebooks" / f"scheduler_{NOTEBOOKS[framework]}.ipynb"
    nb = nbformat.read(path, as_version=4)
    calls = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = TransformerManager().transform_cell(cell.source)  # %magics -> Python
        for node in ast.walk(ast.parse(code)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "d2l"):
                assert not any(isinstance(a, ast.Starred) for a in node.args)
                assert all(k.arg for k in node.keywords), ast.unparse(node)
                calls.append((node.func.attr, (None,) * len(node.args),
                              dict.fromkeys(k.arg for k in node.keywords),
                              ast.unparse(node)))
    return calls


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_the_chapters_and_d2ls_calls_bind(name):
    """Each framework module accepts every call its chapter notebook makes, and the
    calls d2l's book makes (positional and keyword parameters by d2l's names)."""
    module = _module(name)
    calls = _chapter_calls(name)
    assert {"load_data_fashion_mnist", "plot", "show_results"} <= {c[0] for c in calls}
    calls += [(f, args, kwargs, f"{f}{args}, {kwargs}") for f, args, kwargs in D2L_CALLS]
    if name == "tensorflow":
        calls.append(("TrainCallback", ("net", "train_iter", "test_iter", 10, "cpu"), {},
                      "TrainCallback(net, train_iter, test_iter, num_epochs, device_name)"))
    for attr, args, kwargs, source in calls:
        assert attr in module.__all__, f"d2l_compat.{name} lacks {attr}: {source}"
        try:
            inspect.signature(getattr(module, attr)).bind(*args, **kwargs)
        except TypeError as error:
            pytest.fail(f"d2l_compat.{name}.{attr} refuses {source}: {error}")


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_every_public_name_has_its_own_docstring(name):
    module = _module(name)
    for attr in sorted(set(module.__all__) - {"plt"}):
        value = getattr(module, attr)
        # a class's own docstring, not one inherited (e.g. from keras' Callback)
        doc = vars(value).get("__doc__") if isinstance(value, type) else value.__doc__
        assert doc and doc.strip(), f"d2l_compat.{name}.{attr} has no docstring"


def test_try_gpu_returns_cpu_here():
    import mxnet as mx
    import torch

    assert _module("mxnet").try_gpu() == mx.cpu()
    assert _module("torch").try_gpu() == torch.device("cpu")
    assert _module("tensorflow").try_gpu() == "/CPU:0"
    assert _module("torch").try_gpu(3) == torch.device("cpu")


def test_try_gpu_with_faked_gpus(monkeypatch):
    import mxnet as mx
    import tensorflow as tf
    import torch

    monkeypatch.setattr(mx.context, "num_gpus", lambda: 2)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    fake_gpus = [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")] * 2
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: fake_gpus)

    assert _module("mxnet").try_gpu() == mx.gpu(0)
    assert _module("mxnet").try_gpu(1) == mx.gpu(1)
    assert _module("mxnet").try_gpu(2) == mx.cpu()
    assert _module("torch").try_gpu() == torch.device("cuda:0")
    assert _module("torch").try_gpu(1) == torch.device("cuda:1")
    assert _module("torch").try_gpu(2) == torch.device("cpu")
    assert _module("tensorflow").try_gpu() == "/GPU:0"
    assert _module("tensorflow").try_gpu(1) == "/GPU:1"
    assert _module("tensorflow").try_gpu(2) == "/CPU:0"


def _scores_and_labels(name):
    scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = np.array([1, 0, 1, 0])
    if name == "mxnet":
        import mxnet as mx

        return mx.np.array(scores), mx.np.array(labels, dtype="int32")
    if name == "torch":
        import torch

        return torch.tensor(scores), torch.tensor(labels)
    import tensorflow as tf

    return tf.constant(scores), tf.constant(labels, dtype=tf.int32)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_accuracy_counts_correct_predictions(name):
    d2l = _module(name)
    scores, labels = _scores_and_labels(name)
    result = d2l.accuracy(scores, labels)
    assert isinstance(result, float) and result == 3.0
    assert d2l.accuracy(labels, labels) == 4.0  # 1-D predictions are used as labels


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_arange_is_the_frameworks(name):
    d2l = _module(name)
    values = d2l.arange(5)
    as_numpy = values.asnumpy() if hasattr(values, "asnumpy") else np.asarray(values)
    assert as_numpy.tolist() == [0, 1, 2, 3, 4]
    assert type(values).__module__.split(".")[0] in {"mxnet", "torch", "tensorflow"}


@pytest.mark.parametrize("name", ["mxnet", "torch"])
def test_train_callback_is_tensorflow_only(name):
    with pytest.raises(NotImplementedError, match="TensorFlow"):
        _module(name).TrainCallback(None, None, None, 1, "/CPU:0")


def test_accumulator_and_timer():
    from d2l_compat.torch import Accumulator, Timer

    acc = Accumulator(3)
    acc.add(1, 2.5, np.float32(3))
    acc.add(1, 0.5, 1)
    assert [acc[0], acc[1], acc[2]] == [2.0, 3.0, 4.0]
    acc.reset()
    assert acc.data == [0.0, 0.0, 0.0]

    timer = Timer()
    time.sleep(0.01)
    first = timer.stop()
    timer.start()
    second = timer.stop()
    assert first >= 0.01 and second >= 0
    assert timer.sum() == pytest.approx(first + second)
    assert timer.avg() == pytest.approx((first + second) / 2)
    assert timer.cumsum() == pytest.approx([first, first + second])


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_plot_accepts_framework_arrays(name):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d2l = _module(name)
    fig, axes = plt.subplots()
    try:
        x = d2l.arange(4)
        d2l.plot(x, [[0.5, 0.4, 0.3, 0.2], [1.0, 2.0, 3.0, 4.0]], xlabel="epoch", axes=axes)
        lines = axes.get_lines()
        assert len(lines) == 2
        assert lines[0].get_xdata().tolist() == [0, 1, 2, 3]
        assert lines[1].get_ydata().tolist() == [1.0, 2.0, 3.0, 4.0]
        assert axes.get_xlabel() == "epoch"
        d2l.plot(x, d2l.arange(4), axes=axes)  # a single framework series
        assert len(axes.get_lines()) == 1
    finally:
        plt.close(fig)
