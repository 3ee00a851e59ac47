"""Run one framework tab's schedulers, as its generated notebook defines them, on a list
of settings; used by tests/test_scheduler_args.py, one process per framework (MXNet and
TensorFlow/PyTorch are never imported into the same process).

    python tests/scheduler_tab.py NOTEBOOK.ipynb OUT.json < cases.json

Each case is {"cls": name, "kwargs": {...}, "epochs": n}. The output holds, per case,
{"values": [scheduler(t) for t < n]} when construction succeeds, {"ValueError": message}
when the constructor raises ValueError, or {"other": "Type: message"} for any other
exception, raised by the constructor or by a call.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

SCHEDULERS = ("SquareRootScheduler", "FactorScheduler", "MultiFactorScheduler",
              "CosineScheduler")


def scheduler_source(notebook: Path) -> str:
    """The notebook's top-level imports and its scheduler classes, verbatim, as one module.

    Raises ValueError when a scheduler class is missing or defined more than once."""
    nb = nbformat.read(notebook, as_version=4)
    transform = TransformerManager().transform_cell  # turns `%matplotlib` etc. into Python
    imports, classes = [], {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = transform(cell.source)
        for node in ast.parse(source).body:
            segment = ast.get_source_segment(source, node)
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.append(segment)
            elif isinstance(node, ast.ClassDef) and node.name in SCHEDULERS:
                classes.setdefault(node.name, []).append(segment)
    counts = {name: len(classes.get(name, [])) for name in SCHEDULERS}
    if any(n != 1 for n in counts.values()):
        raise ValueError(f"{notebook}: expected each scheduler class once, found {counts}")
    return "\n".join(imports + [classes[name][0] for name in SCHEDULERS]) + "\n"


def run_case(namespace: dict, case: dict) -> dict:
    """Construct the case's scheduler and evaluate it on epochs 0 .. case["epochs"] - 1."""
    try:
        scheduler = namespace[case["cls"]](**case["kwargs"])
    except ValueError as error:
        return {"ValueError": str(error)}
    except Exception as error:  # reported to the test, which names the case
        return {"other": f"{type(error).__name__}: {error}"}
    try:
        return {"values": [float(scheduler(t)) for t in range(case["epochs"])]}
    except Exception as error:
        return {"other": f"calling it: {type(error).__name__}: {error}"}


def main() -> None:
    notebook, out = Path(sys.argv[1]), Path(sys.argv[2])
    cases = json.load(sys.stdin)
    namespace: dict = {}
    exec(compile(scheduler_source(notebook), str(notebook), "exec"), namespace)
    out.write_text(json.dumps([run_case(namespace, case) for case in cases]))


if __name__ == "__main__":
    main()
