"""The paired ratio of benchmarks/train_speed.py (pure arithmetic, no training)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # benchmarks/ is scripts, not a package

from train_speed import InterleavingScheduler, paired_ratios  # noqa: E402


def test_each_chapter_epoch_is_compared_with_the_compute_epochs_around_it() -> None:
    # the machine slows down from 4 s to 8 s per compute epoch; the chapter loop costs 10%
    compute = [4.0, 6.0, 8.0]
    chapter = [1.1 * 5.0, 1.1 * 7.0]
    assert paired_ratios(chapter, compute) == pytest.approx([1.1, 1.1])


def test_a_drift_that_best_of_n_would_misread_cancels() -> None:
    # best-of-N would compare the chapter's 5.5 with the compute loop's 4.0 (1.375); the
    # paired ratios are those of the same 10% overhead on a machine that does not drift
    drifting = paired_ratios([5.5, 7.7], [4.0, 6.0, 8.0])
    steady = paired_ratios([5.5, 5.5], [5.0, 5.0, 5.0])
    assert drifting == pytest.approx(steady)
    assert max(drifting) == pytest.approx(1.1)


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


class FakeMeter:
    """A clock that advances only when told: ``tick(seconds)``."""

    def __init__(self) -> None:
        self.now = 0.0

    def tick(self, seconds: float) -> None:
        self.now += seconds

    def mark(self) -> float:
        return self.now

    def since(self, start: float) -> float:
        return self.now - start

    def time(self, run) -> float:
        start = self.now
        run()
        return self.now - start


def test_the_scheduler_times_chapter_training_and_test_pass_apart() -> None:
    """A fake train loop asks for each epoch's rate (twice, as PyTorch's loop does per
    parameter group); every compute-only epoch and test-set pass is timed on its own,
    and the chapter's epoch excludes them."""
    meter, calls = FakeMeter(), []

    def compute_epoch():
        calls.append("train")
        meter.tick(5.0)

    def compute_forward():
        calls.append("forward")
        meter.tick(0.5)

    clock = InterleavingScheduler(0.3, compute_epoch, compute_forward, meter)
    for epoch, seconds in enumerate([6.0, 6.5, 7.0]):
        assert clock(epoch) == 0.3
        assert clock(epoch, 0.3) == 0.3  # a second request in the same epoch runs nothing
        meter.tick(seconds)  # the chapter's epoch
    clock.finish()
    assert calls == ["train", "forward"] * 4
    assert clock.chapter == [6.0, 6.5, 7.0]
    assert clock.compute == [5.0] * 4
    assert clock.forward == [0.5] * 4
    totals = [t + f for t, f in zip(clock.compute, clock.forward, strict=True)]
    assert paired_ratios(clock.chapter, totals) == pytest.approx([6.0 / 5.5, 6.5 / 5.5, 7.0 / 5.5])
