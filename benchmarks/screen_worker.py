"""One framework's worker of the divergence screen (``benchmarks/divergence_screen.py``
starts it as a subprocess per framework: MXNet and TensorFlow/PyTorch never share a
process). It executes the generated notebook's code cells, trains each job it reads as
JSON from stdin with the notebook's own ``train``, and reports JSON lines on stdout;
everything else printed goes to stderr, which the screen logs to a file.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import sys
import time
from typing import Any, NoReturn

from _common import REPO, code_cells, notebook_path, strip_magics
from screen_records import (
    code_digest,
    compat_digest,
    encode_history,
    is_show_results,
    training_run,
)

# on sys.path through _common
from bookbuild.vocabulary import (
    HISTORY_KEYS,
    MAX_EXAMPLES_ENV,
    PROGRESS_FILE_ENV,
)


def _load_chapter(framework: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str]:
    """Execute the notebook's code cells; return the namespace, the captured training
    calls ({run: {"args", "kwargs"}}) and the code digest."""
    notebook = json.loads(notebook_path(framework).read_text(encoding="utf-8"))
    sources = code_cells(notebook)
    namespace: dict[str, Any] = {"__name__": "__chapter__"}
    calls: dict[str, dict[str, Any]] = {}
    for index, source in enumerate(sources):
        tree = ast.parse(strip_magics(source), filename=f"<{framework} cell {index}>")
        for stmt in tree.body:
            run = training_run(stmt)
            if run is not None:
                call = stmt.value
                assert isinstance(call, ast.Call)
                # Evaluate the arguments where the book would train, so the run keeps the
                # scheduler (and lr) current at that point of the notebook.
                args = [_evaluate(arg, namespace) for arg in call.args]
                kwargs = {kw.arg: _evaluate(kw.value, namespace) for kw in call.keywords}
                calls[run] = {"args": args, "kwargs": kwargs}
                namespace.setdefault("histories", {})[run] = None
            elif not is_show_results(stmt):
                module = ast.Module(body=[stmt], type_ignores=[])
                exec(compile(module, f"<{framework} cell {index}>", "exec"), namespace)
    return namespace, calls, code_digest(sources)


def _evaluate(node: ast.expr, namespace: dict[str, Any]) -> Any:
    return eval(compile(ast.Expression(body=node), "<train argument>", "eval"), namespace)


def _describe(scheduler: Any) -> str:
    """The scheduler's function or class name (a repr would carry a memory address)."""
    if scheduler is None:
        return "None"
    if inspect.isfunction(scheduler):
        return f"function {scheduler.__qualname__}"
    attributes = getattr(scheduler, "__dict__", {})
    return f"{type(scheduler).__qualname__} {attributes}"


def _batches_per_epoch(train_iter: Any) -> int:
    if hasattr(train_iter, "cardinality"):  # tf.data.Dataset
        return int(train_iter.cardinality())
    return len(train_iter)


def _train_one(
    framework: str, namespace: dict[str, Any], call: dict[str, Any], epochs: int, seed: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    train = namespace["train"]
    bound = inspect.signature(train).bind(*call["args"], **call["kwargs"])
    bound.arguments["num_epochs"] = epochs
    bound.arguments["seed"] = seed
    if framework == "tensorflow":
        # train_iter's shuffle order is fixed when the dataset is made (under the global
        # seed then); remake it under this seed so (run, seed) determines the whole run.
        namespace["tf"].keras.utils.set_random_seed(seed)
        train_iter, test_iter = namespace["d2l"].load_data_fashion_mnist(namespace["batch_size"])
        bound.arguments["train_iter"], bound.arguments["test_iter"] = train_iter, test_iter
    history = train(*bound.args, **bound.kwargs)
    info = {
        "lr": float(bound.arguments["lr"]),
        "scheduler": _describe(bound.arguments.get("scheduler")),
        "batches_per_epoch": _batches_per_epoch(bound.arguments["train_iter"]),
    }
    return {key: [float(v) for v in history[key]] for key in HISTORY_KEYS}, info


def _versions(namespace: dict[str, Any]) -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in ("mx", "torch", "tf", "onp"):
        module = namespace.get(name)
        if module is not None and hasattr(module, "__version__"):
            versions[module.__name__] = module.__version__
    return versions


def _threads() -> dict[str, str]:
    """The thread caps this worker runs with: those of the variables the book's build
    sets per kernel that are set here (none: each framework's default)."""
    from bookbuild.kernel_env import THREAD_VARIABLES

    return {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ}


def worker() -> NoReturn:
    """Run the jobs read as JSON from stdin; report JSON lines on the original stdout."""
    spec = json.load(sys.stdin)
    # The protocol keeps the original stdout; everything else the chapter code, MXNet or
    # TensorFlow print (including from C) goes to stderr, which the parent logs to a file.
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def send(message: dict[str, Any]) -> None:
        proto.write(json.dumps(message) + "\n")

    sys.path.insert(0, str(REPO))
    import matplotlib

    matplotlib.use("Agg")
    framework = spec["framework"]
    started = time.perf_counter()
    compat = compat_digest()  # before the notebook imports d2l_compat
    namespace, calls, digest = _load_chapter(framework)
    missing = [job["run"] for job in spec["jobs"] if job["run"] not in calls]
    if missing:
        raise SystemExit(f"{framework}: no training cell for {sorted(set(missing))}")
    send({
        "event": "ready", "code_sha256": digest, "compat_sha256": compat,
        "versions": _versions(namespace), "threads": _threads(),
        "seconds": time.perf_counter() - started,
        "max_examples": os.environ.get(MAX_EXAMPLES_ENV) or None,
    })  # fmt: skip
    progress_file = os.environ.get(PROGRESS_FILE_ENV)
    for job in spec["jobs"]:
        offset = os.path.getsize(progress_file) if progress_file and os.path.exists(
            progress_file) else 0
        send({"event": "start", **job, "progress_offset": offset})
        started = time.perf_counter()
        history, info = _train_one(framework, namespace, calls[job["run"]], job["epochs"],
                                   job["seed"])
        send({
            "event": "result", **job, **info, "history": encode_history(history),
            "seconds": time.perf_counter() - started,
        })  # fmt: skip
    proto.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is reported; skip interpreter teardown, where MXNet and TensorFlow can
    # take long (or crash) destroying their thread pools.
    os._exit(0)


if __name__ == "__main__":
    worker()
