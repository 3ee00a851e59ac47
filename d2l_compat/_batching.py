"""Framework-free minibatch iteration over in-memory arrays.

The framework modules supply two small callables: ``permutation(n)`` (their own RNG, so
their usual seeding applies) and ``make_batch(index)`` (gather + convert + move to the
device). Iteration never collates single examples in Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["MinibatchIterator"]


class MinibatchIterator:
    """Re-iterable minibatches; every ``iter()`` is one epoch.

    Args:
        num_examples: number of examples N.
        batch_size: examples per batch; the last, partial batch is kept.
        shuffle: draw a fresh permutation of the examples for every epoch; otherwise
            batches are consecutive slices in order.
        make_batch: ``index -> batch`` where index is a ``slice`` (no shuffle) or a
            1-D slice of what ``permutation`` returned.
        permutation: ``n -> indexable permutation of range(n)``; used when shuffling.

    Raises:
        ValueError: ``batch_size`` is not a positive int.
    """

    def __init__(
        self,
        num_examples: int,
        batch_size: int,
        *,
        shuffle: bool,
        make_batch: Callable[[Any], Any],
        permutation: Callable[[int], Any],
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._make_batch = make_batch
        self._permutation = permutation

    def __len__(self) -> int:
        """Number of batches per epoch: ceil(N / batch_size)."""
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        order = self._permutation(self.num_examples) if self.shuffle else None
        for start in range(0, self.num_examples, self.batch_size):
            stop = min(start + self.batch_size, self.num_examples)
            yield self._make_batch(order[start:stop] if order is not None else slice(start, stop))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_examples={self.num_examples}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle})"
        )
