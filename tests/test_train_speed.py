"""The paired ratio of benchmarks/train_speed.py (pure arithmetic, no training)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # benchmarks/ is scripts, not a package

from train_speed import paired_ratios  # noqa: E402


def test_each_chapter_epoch_is_compared_with_the_compute_epochs_around_it() -> None:
    # the machine slows down from 4 s to 8 s per compute epoch; the chapter loop costs 10%
    compute = [4.0, 6.0, 8.0]
    chapter = [1.1 * 5.0, 1.1 * 7.0]
    assert paired_ratios(chapter, compute) == pytest.approx([1.1, 1.1])


def test_a_drift_that_best_of_n_would_misread_cancels() -> None:
    # best-of-N would compare the chapter's 5.5 with the compute loop's 4.0: 1.375
    compute = [4.0, 6.0, 8.0]
    chapter = [5.5, 7.7]
    assert min(chapter) / min(compute) == pytest.approx(1.375)
    assert max(paired_ratios(chapter, compute)) == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("chapter", "compute", "message"),
    [
        ([5.0, 5.0], [5.0, 5.0], "one more compute-only epoch"),
        ([5.0], [5.0, 5.0, 5.0], "one more compute-only epoch"),
        ([5.0], [0.0, 5.0], "no time"),
    ],
)
def test_mismatched_or_empty_epochs_are_refused(chapter, compute, message) -> None:
    with pytest.raises(ValueError, match=message):
        paired_ratios(chapter, compute)
