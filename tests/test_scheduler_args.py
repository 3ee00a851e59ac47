"""The chapter's schedulers agree on every tab: for every valid setting (a grid that
includes the edges of each range) the MXNet, PyTorch and TensorFlow classes return the
same learning rates, equal to the formulas of the text; every invalid setting raises
ValueError in the constructor, with the same message on every tab, naming the argument.

The classes are the ones in the generated English notebooks (tests/scheduler_tab.py
loads them), each framework in its own process.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild.vocabulary import FRAMEWORK_TAGS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "chapters" / "en" / "notebooks"
RUNNER = Path(__file__).resolve().parent / "scheduler_tab.py"
REL_TOL = 1e-12


# The schedules as the text (and the spec of the classes) defines them, per epoch t
def square_root(t, lr=0.1):
    return lr * (t + 1) ** -0.5


def factor(t, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
    return max(stop_factor_lr, base_lr * factor**t)


def multi_factor(t, step, factor, base_lr):
    return base_lr * factor ** sum(s <= t for s in step)


def cosine(t, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
    if t < warmup_steps:
        return warmup_begin_lr + (base_lr - warmup_begin_lr) * t / warmup_steps
    u = min(t, max_update)
    return final_lr + (base_lr - final_lr) * (
        1 + math.cos(math.pi * (u - warmup_steps) / (max_update - warmup_steps))) / 2


FORMULAS = {"SquareRootScheduler": square_root, "FactorScheduler": factor,
            "MultiFactorScheduler": multi_factor, "CosineScheduler": cosine}


def valid_cases() -> list[dict]:
    """Valid settings, each range's edges included, with epochs past max_update and
    past the last step."""
    cases = [{"cls": "SquareRootScheduler", "kwargs": {"lr": lr}, "epochs": 40}
             for lr in (1e-4, 0.1, 0.2, 3.0)]
    cases.append({"cls": "SquareRootScheduler", "kwargs": {}, "epochs": 5})
    for f, base_lr in itertools.product((1, 0.9, 0.5, 1e-3), (0.2, 2.0)):
        for stop in (0, 1e-7, 1e-2, base_lr):
            cases.append({"cls": "FactorScheduler", "epochs": 60, "kwargs": {
                "factor": f, "stop_factor_lr": stop, "base_lr": base_lr}})
    cases.append({"cls": "FactorScheduler", "kwargs": {}, "epochs": 5})
    for step, f, base_lr in itertools.product(
            ([1], [2], [15, 30], [1, 2, 3], [5, 6, 40]), (1, 0.9, 0.5, 1e-3), (0.2, 3.0)):
        cases.append({"cls": "MultiFactorScheduler", "epochs": step[-1] + 5, "kwargs": {
            "step": step, "factor": f, "base_lr": base_lr}})
    for max_update, base_lr in itertools.product((1, 2, 3, 20), (0.2, 1.0)):
        for final_lr, warmup_begin_lr in itertools.product(
                (0, 0.01, base_lr), (0, 0.05, base_lr)):
            for warmup_steps in sorted({0, 1, max_update // 2, max_update - 1}):
                if warmup_steps >= max_update:
                    continue
                cases.append({"cls": "CosineScheduler", "epochs": max_update + 10, "kwargs": {
                    "max_update": max_update, "base_lr": base_lr, "final_lr": final_lr,
                    "warmup_steps": warmup_steps, "warmup_begin_lr": warmup_begin_lr}})
    cases.append({"cls": "CosineScheduler", "kwargs": {"max_update": 20}, "epochs": 30})
    # The warmup run's setting
    cases.append({"cls": "CosineScheduler", "epochs": 30, "kwargs": {
        "max_update": 20, "warmup_steps": 5, "base_lr": 0.2, "final_lr": 0.01}})
    return cases


def _range(name: str, base: str) -> str:
    return f"{name} must be in [0, base_lr], i.e. [0, {base}]; got "


STEP = "step must be a non-empty list of strictly increasing integers >= 1; got "
WARMUP = "warmup_steps must be an integer in [0, max_update), i.e. [0, {}); got {}"
# (class, keyword arguments, the message every tab raises)
INVALID = [
    ("SquareRootScheduler", {"lr": -0.1}, "lr must be > 0; got -0.1"),
    ("SquareRootScheduler", {"lr": 0}, "lr must be > 0; got 0"),
    ("FactorScheduler", {"factor": 1.1}, "factor must be in (0, 1]; got 1.1"),
    ("FactorScheduler", {"factor": 0}, "factor must be in (0, 1]; got 0"),
    ("FactorScheduler", {"factor": -0.5}, "factor must be in (0, 1]; got -0.5"),
    ("FactorScheduler", {"factor": 0.9, "base_lr": 0}, "base_lr must be > 0; got 0"),
    ("FactorScheduler", {"factor": 0.9, "base_lr": -2.0}, "base_lr must be > 0; got -2.0"),
    ("FactorScheduler", {"factor": 0.9, "stop_factor_lr": 0.3, "base_lr": 0.2},
     _range("stop_factor_lr", "0.2") + "0.3"),
    ("FactorScheduler", {"factor": 0.9, "stop_factor_lr": -1e-7, "base_lr": 0.2},
     _range("stop_factor_lr", "0.2") + "-1e-07"),
    ("MultiFactorScheduler", {"step": [], "factor": 0.5, "base_lr": 0.2}, STEP + "[]"),
    ("MultiFactorScheduler", {"step": [30, 15], "factor": 0.5, "base_lr": 0.2},
     STEP + "[30, 15]"),
    ("MultiFactorScheduler", {"step": [15, 15], "factor": 0.5, "base_lr": 0.2},
     STEP + "[15, 15]"),
    ("MultiFactorScheduler", {"step": [0, 15], "factor": 0.5, "base_lr": 0.2},
     STEP + "[0, 15]"),
    ("MultiFactorScheduler", {"step": [-3], "factor": 0.5, "base_lr": 0.2}, STEP + "[-3]"),
    ("MultiFactorScheduler", {"step": [15.5, 30], "factor": 0.5, "base_lr": 0.2},
     STEP + "[15.5, 30]"),
    ("MultiFactorScheduler", {"step": [15.0, 30.0], "factor": 0.5, "base_lr": 0.2},
     STEP + "[15.0, 30.0]"),
    ("MultiFactorScheduler", {"step": 15, "factor": 0.5, "base_lr": 0.2}, STEP + "15"),
    ("MultiFactorScheduler", {"step": [15, 30], "factor": 1.5, "base_lr": 0.2},
     "factor must be in (0, 1]; got 1.5"),
    ("MultiFactorScheduler", {"step": [15, 30], "factor": 0, "base_lr": 0.2},
     "factor must be in (0, 1]; got 0"),
    ("MultiFactorScheduler", {"step": [15, 30], "factor": 0.5, "base_lr": 0},
     "base_lr must be > 0; got 0"),
    ("MultiFactorScheduler", {"step": [15, 30], "factor": 0.5, "base_lr": -0.2},
     "base_lr must be > 0; got -0.2"),
    ("CosineScheduler", {"max_update": 20, "warmup_steps": 20}, WARMUP.format(20, 20)),
    ("CosineScheduler", {"max_update": 20, "warmup_steps": 25}, WARMUP.format(20, 25)),
    ("CosineScheduler", {"max_update": 1, "warmup_steps": 1}, WARMUP.format(1, 1)),
    ("CosineScheduler", {"max_update": 20, "warmup_steps": -1}, WARMUP.format(20, -1)),
    ("CosineScheduler", {"max_update": 20, "warmup_steps": 2.5}, WARMUP.format(20, 2.5)),
    ("CosineScheduler", {"max_update": 20, "warmup_steps": 5.0}, WARMUP.format(20, 5.0)),
    ("CosineScheduler", {"max_update": 0}, "max_update must be an integer >= 1; got 0"),
    ("CosineScheduler", {"max_update": -5}, "max_update must be an integer >= 1; got -5"),
    ("CosineScheduler", {"max_update": 2.5}, "max_update must be an integer >= 1; got 2.5"),
    ("CosineScheduler", {"max_update": 20.0}, "max_update must be an integer >= 1; got 20.0"),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0}, "base_lr must be > 0; got 0"),
    ("CosineScheduler", {"max_update": 20, "base_lr": -0.2}, "base_lr must be > 0; got -0.2"),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0.2, "final_lr": 0.3},
     _range("final_lr", "0.2") + "0.3"),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0.2, "final_lr": -0.01},
     _range("final_lr", "0.2") + "-0.01"),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0.2, "warmup_steps": 5,
                         "warmup_begin_lr": 0.3}, _range("warmup_begin_lr", "0.2") + "0.3"),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0.2, "warmup_steps": 5,
                         "warmup_begin_lr": -0.1}, _range("warmup_begin_lr", "0.2") + "-0.1"),
]


def run_tab(framework: str, cases: list[dict], out: Path) -> subprocess.Popen:
    """Start the framework's schedulers on `cases` in a fresh process writing to `out`."""
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), str(NOTEBOOKS / f"scheduler_{framework}.ipynb"),
         str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    proc.stdin.write(json.dumps(cases))
    proc.stdin.close()
    return proc


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[list[dict], dict[str, list[dict]]]:
    """(the cases, each framework's result per case), the frameworks run side by side."""
    cases = valid_cases() + [
        {"cls": cls, "kwargs": kwargs, "epochs": 3} for cls, kwargs, _ in INVALID]
    folder = tmp_path_factory.mktemp("scheduler_args")
    procs = {fw: run_tab(fw, cases, folder / f"{fw}.json") for fw in FRAMEWORK_TAGS}
    outputs = {}
    for fw, proc in procs.items():
        proc.wait(timeout=600)
        assert proc.returncode == 0, f"{fw}: runner failed:\n{proc.stderr.read()[-3000:]}"
        outputs[fw] = json.loads((folder / f"{fw}.json").read_text())
        assert len(outputs[fw]) == len(cases)
    return cases, outputs


def test_valid_settings_agree_across_tabs_and_follow_the_formulas(results) -> None:
    cases, outputs = results
    valid = valid_cases()
    assert {case["cls"] for case in valid} == set(FORMULAS)
    for i, case in enumerate(valid):
        what = f"{case['cls']}({case['kwargs']})"
        expected = [FORMULAS[case["cls"]](t, **case["kwargs"]) for t in range(case["epochs"])]
        for fw in FRAMEWORK_TAGS:
            result = outputs[fw][i]
            assert "values" in result, f"{fw} {what}: {result}"
            for t, (a, e) in enumerate(zip(result["values"], expected, strict=True)):
                assert math.isclose(a, e, rel_tol=REL_TOL, abs_tol=0.0), \
                    f"{fw} {what}: epoch {t}: {a} != formula {e}"
        # The formula is the same for all; the tabs also agree with one another
        for fw, other in itertools.combinations(FRAMEWORK_TAGS, 2):
            for t, (a, b) in enumerate(zip(outputs[fw][i]["values"],
                                           outputs[other][i]["values"], strict=True)):
                assert math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0), \
                    f"{what}: epoch {t}: {fw} {a} != {other} {b}"


def test_invalid_settings_raise_the_same_value_error_on_every_tab(results) -> None:
    cases, outputs = results
    offset = len(valid_cases())
    for j, (cls, kwargs, message) in enumerate(INVALID):
        assert message.split()[0] in kwargs, f"{message!r} names no argument given"
        for fw in FRAMEWORK_TAGS:
            result = outputs[fw][offset + j]
            assert result == {"ValueError": message}, f"{fw} {cls}({kwargs}): {result}"
