"""The chapter's claims about its results: they parse, name real runs, and the build's
checks fail, naming the sentence and the numbers, when runs contradict them or diverge."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bookbuild import claims, results
from bookbuild.vocabulary import RUNS

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 30


def history(test_acc: list[float], train_acc: list[float] | None = None,
            loss: float = 0.3) -> dict[str, list[float]]:
    train_acc = train_acc or [a + 0.05 for a in test_acc]
    return {"lr": [0.1] * len(test_acc), "train_loss": [loss] * len(test_acc),
            "train_acc": train_acc, "test_acc": test_acc}


def test_english_claims_parse_and_name_the_chapters_runs() -> None:
    found = results.english_claims(ROOT, RUNS)
    assert len(found) >= 5
    assert len({c.id for c in found}) == len(found)
    for claim in found:
        assert claim.sentence and not claim.sentence.startswith("<!--")


def test_translations_carry_no_claims() -> None:
    # Claims are stated once, in English, and hold for every language's page.
    for source in sorted((ROOT / "chapters").glob("*/scheduler.md")):
        if source.parent.name != "en":
            assert "claim:" not in source.read_text(encoding="utf-8"), source


@pytest.mark.parametrize("text, message", [
    ("<!-- claim: {id: a, less: [[gap, nope], 0.1]} -->", "unknown run 'nope'"),
    ("<!-- claim: {id: a, less: [[final, constant, acc], 0.1]} -->", "unknown metric 'acc'"),
    ("<!-- claim: {id: a, more: [1, 2]} -->", "exactly one of less, within, not_above"),
    ("<!-- claim: {id: a, less: [1} -->", "not valid YAML"),
    ("<!-- claim: {id: a, within: [1, 2]} -->", "within takes 3 items"),
    ("<!-- claim: {id: a, not_above: [1, 2, x]} -->", "not_above's tolerance must be a number"),
    ("<!-- claim: {id: a, less: [[mean, constant, test_acc, 0, 3], 1]} -->", "counted from 1"),
])
def test_malformed_claims_name_their_line(tmp_path: Path, text: str, message: str) -> None:
    source = tmp_path / "chapter.md"
    source.write_text(f"# Title\n\nSome sentence. {text}\n", encoding="utf-8")
    with pytest.raises(claims.ClaimError, match=message) as info:
        claims.parse_claims(source, RUNS)
    assert f"{source}:3" in str(info.value)


def test_quantities() -> None:
    h = {"r": history([0.1 * e for e in range(1, 6)], [0.2 * e for e in range(1, 6)])}
    assert claims.quantity(["final", "r", "test_acc"], h) == pytest.approx(0.5)
    assert claims.quantity(["mean", "r", "test_acc", 1, 2], h) == pytest.approx(0.15)
    assert claims.quantity(["gap", "r"], h) == pytest.approx(1.0 - 0.5)
    assert claims.quantity(["rise", "r", "train_acc", 2, 5], h) == pytest.approx(0.6)
    assert claims.quantity(["roughness", "r", "test_acc", 1, 5], h) == pytest.approx(0.1)
    assert math.isnan(claims.quantity(["final", "r", "test_acc"],
                                      {"r": {"test_acc": [None]}}))


def test_a_contradicted_claim_fails_naming_sentence_and_numbers(tmp_path: Path) -> None:
    source = tmp_path / "chapter.md"
    source.write_text(
        "Intro.\n\nThe first run wins clearly. "
        "<!-- claim: {id: wins, less: [[final, b, test_acc], [final, a, test_acc]]} -->\n",
        encoding="utf-8")
    [claim] = claims.parse_claims(source, ["a", "b"])
    good = {"fw": {"a": history([0.9] * 3), "b": history([0.8] * 3)}}
    bad = {"fw": {"a": history([0.8] * 3), "b": history([0.85] * 3)}}
    assert results.check_runs(good, [claim], capped=False) == []
    [problem] = results.check_runs(bad, [claim], capped=False)
    assert "claim 'wins'" in problem and "The first run wins clearly." in problem
    assert "0.8500 < 0.8000" in problem
    # Claims are about full-data runs: a quick build does not check them
    assert results.check_runs(bad, [claim], capped=True) == []


def test_diverged_and_chance_level_runs_fail_the_build() -> None:
    runs = {"fw": {
        "fine": history([0.88] * EPOCHS),
        "nan": history([0.1] * EPOCHS, loss=math.nan),
        "null": {**history([0.1] * EPOCHS), "train_loss": [None] * EPOCHS},
        "chance": history([0.1] * EPOCHS, loss=2.303),
    }}
    problems = results.check_runs(runs, [], capped=False)
    assert len(problems) == 3
    assert any("'nan'" in p and "diverged" in p for p in problems)
    assert any("'chance'" in p and "test accuracy 0.1" in p and "2.303" in p
               for p in problems)
    # On a tiny subset low accuracy is expected; a non-finite loss never is
    assert len(results.check_runs(runs, [], capped=True)) == 2


def test_not_above_allows_a_margin_and_no_more(tmp_path: Path) -> None:
    source = tmp_path / "chapter.md"
    source.write_text(
        "Intro.\n\nThe second run is not clearly better. "
        "<!-- claim: {id: close, not_above: [[final, b, test_acc], [final, a, test_acc], "
        "0.01]} -->\n", encoding="utf-8")
    [claim] = claims.parse_claims(source, ["a", "b"])
    for b, holds in ((0.80, True), (0.895, True), (0.91, True), (0.9101, False)):
        runs = {"fw": {"a": history([0.9] * 3), "b": history([b] * 3)}}
        problems = results.check_runs(runs, [claim], capped=False)
        assert (problems == []) == holds, (b, problems)
    assert "0.9101 <= 0.9000 + 0.01" in problems[0]
