"""The chapter's claims about its results, checked against the executed runs.

Every sentence of the English chapter that compares or characterises training results
is followed by an HTML comment (invisible on the page and in Jupyter) stating what it
claims, in YAML::

    <!-- claim: {id: sqrt-gap, less: [[gap, square root], [gap, constant]]} -->

The translations say the same thing and share the same runs, so the claims live once,
in the English source. A claim holds on a framework when its comparison holds on that
framework's histories (``{run: {'lr', 'train_loss', 'train_acc', 'test_acc'}}``, one
value per epoch). Comparisons:

``less: [a, b]``           a < b
``within: [a, b, tol]``    |a - b| <= tol
``not_above: [a, b, tol]`` a <= b + tol  ("a is not clearly higher than b")

and ``seeds: N`` (optional) when the sentence says how often the claim held: on N of
the seeds of the measured spread (see :mod:`bookbuild.spread_view`). Without it the
sentence states a fact, which must hold on every seed on every framework.

a and b are numbers or quantities of one run, epochs counted from 1:

``[final, RUN, METRIC]``                METRIC after the last epoch
``[mean, RUN, METRIC, FIRST, LAST]``    mean of METRIC over epochs FIRST..LAST
``[gap, RUN]``                          final train accuracy minus final test accuracy
``[roughness, RUN, METRIC, FIRST, LAST]`` mean |METRIC[e] - METRIC[e-1]|, e = FIRST..LAST
``[rise, RUN, METRIC, FIRST, LAST]``    METRIC[LAST] - METRIC[FIRST]
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .vocabulary import HISTORY_KEYS

CLAIM = re.compile(r"<!--\s*claim:(.*?)-->", re.DOTALL)
METRICS = HISTORY_KEYS
OPS = ("less", "within", "not_above")
QUANTITIES = {"final": 2, "mean": 4, "gap": 1, "roughness": 4, "rise": 4}


class ClaimError(ValueError):
    """A claim is malformed: names the source line and what is wrong."""


@dataclass(frozen=True)
class Claim:
    id: str
    op: str  # 'less', 'within' or 'not_above'
    args: tuple[Any, ...]
    sentence: str  # the sentence the claim follows, for messages
    line: int  # 1-based line of the claim in its source
    # None: stated as plain fact, so it must hold on every seed of the spread (and on the
    # book's run); N: the sentence says it held on N of the spread's seeds, so it must
    # hold on at least N seeds on every framework (the book's run may be one of the others)
    seeds: int | None = None


def _sentence_before(text: str, end: int) -> str:
    paragraph = text[:end].rsplit("\n\n", 1)[-1]
    paragraph = CLAIM.sub("", paragraph).strip()
    sentences = re.split(r"(?<=[.!?])\s+", paragraph)
    return sentences[-1] if sentences else paragraph


def _check_quantity(q: Any, where: str, runs: Sequence[str] | None) -> None:
    if isinstance(q, int | float) and not isinstance(q, bool):
        return
    if not isinstance(q, list) or not q or q[0] not in QUANTITIES:
        raise ClaimError(f"{where}: {q!r} is not a number or [{'|'.join(QUANTITIES)}, ...]")
    kind = q[0]
    if len(q) != 1 + QUANTITIES[kind]:
        raise ClaimError(f"{where}: [{kind}, ...] takes {QUANTITIES[kind]} arguments, got {q!r}")
    if runs is not None and q[1] not in runs:
        raise ClaimError(f"{where}: unknown run {q[1]!r}; the chapter's runs: {list(runs)}")
    if kind != "gap" and q[2] not in METRICS:
        raise ClaimError(f"{where}: unknown metric {q[2]!r}; one of {METRICS}")
    epochs = q[3:]
    if any(not isinstance(e, int) or e < 1 for e in epochs):
        raise ClaimError(f"{where}: epochs are counted from 1, got {epochs!r}")


def parse_claims(path: Path, runs: Sequence[str] | None = None) -> list[Claim]:
    """The claims of the chapter source at ``path``, in order.

    Raises ClaimError naming ``path:line`` for malformed YAML, an unknown comparison,
    run, metric or quantity, or a repeated id.
    """
    text = path.read_text(encoding="utf-8")
    claims: list[Claim] = []
    for match in CLAIM.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        where = f"{path}:{line}"
        try:
            spec = yaml.safe_load(match.group(1))
        except yaml.YAMLError as err:
            raise ClaimError(f"{where}: the claim is not valid YAML: {err}") from None
        if not isinstance(spec, dict) or "id" not in spec:
            raise ClaimError(f"{where}: a claim is a mapping with an id, got {spec!r}")
        ops = [op for op in OPS if op in spec]
        if len(ops) != 1 or set(spec) - {"id", "seeds", *ops}:
            raise ClaimError(f"{where}: a claim has an id, exactly one of {', '.join(OPS)} "
                             "and optionally seeds")
        seeds = spec.get("seeds")
        if seeds is not None and not (isinstance(seeds, int) and seeds >= 1):
            raise ClaimError(f"{where}: seeds is the number of seeds the sentence says the "
                             f"claim held on (an integer >= 1), got {seeds!r}")
        op, args = ops[0], spec[ops[0]]
        arity = 2 if op == "less" else 3
        if not isinstance(args, list) or len(args) != arity:
            raise ClaimError(f"{where}: {op} takes {arity} items, got {args!r}")
        for q in args[:2]:
            _check_quantity(q, where, runs)
        if op != "less" and not isinstance(args[2], int | float):
            raise ClaimError(f"{where}: {op}'s tolerance must be a number, got {args[2]!r}")
        if any(c.id == spec["id"] for c in claims):
            raise ClaimError(f"{where}: claim id {spec['id']!r} is used twice")
        claims.append(Claim(str(spec["id"]), op, tuple(args),
                            _sentence_before(text, match.start()), line, seeds))
    return claims


def quantity(q: Any, histories: Mapping[str, Mapping[str, Sequence[float | None]]]) -> float:
    """The value of quantity ``q`` on ``histories`` (NaN where a value is missing).

    Raises ClaimError when ``q`` names an epoch past the run's end.
    """
    if not isinstance(q, list):
        return float(q)

    def series(run: str, metric: str) -> list[float]:
        return [math.nan if v is None else float(v) for v in histories[run][metric]]

    kind, run = q[0], q[1]
    if kind == "gap":
        return series(run, "train_acc")[-1] - series(run, "test_acc")[-1]
    values = series(run, q[2])
    if kind == "final":
        return values[-1]
    first, last = q[3], q[4]
    if last > len(values):
        raise ClaimError(f"{q} names epoch {last}, past the run's end ({len(values)} epochs)")
    if kind == "rise":
        return values[last - 1] - values[first - 1]
    if kind == "mean":
        window = values[first - 1:last]
        return sum(window) / len(window)
    steps = [abs(values[e - 1] - values[e - 2]) for e in range(max(first, 2), last + 1)]
    return sum(steps) / len(steps)


def check(
    claim: Claim, histories: Mapping[str, Mapping[str, Sequence[float | None]]]
) -> tuple[bool, str]:
    """(holds, the numbers compared) of ``claim`` on one framework's histories.

    Raises ClaimError (naming the claim's line) when it names an epoch past the runs'
    end.
    """
    try:
        a, b = (quantity(q, histories) for q in claim.args[:2])
    except ClaimError as error:
        raise ClaimError(f"claim {claim.id!r} (line {claim.line}): {error}") from None
    if claim.op == "less":
        return a < b, f"{a:.4f} < {b:.4f}"
    tol = float(claim.args[2])
    if claim.op == "not_above":
        return a <= b + tol, f"{a:.4f} <= {b:.4f} + {tol}"
    return abs(a - b) <= tol, f"|{a:.4f} - {b:.4f}| = {abs(a - b):.4f} <= {tol}"
