"""Framework-free helpers: :class:`Accumulator`, :class:`Timer`, and the stand-in
:class:`TrainCallback` exported by the MXNet and PyTorch modules."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    Net = Any
    DataIter = Any

__all__ = ["Accumulator", "Timer", "TrainCallback"]


class Accumulator:
    """Sums over ``n`` variables (d2l, section "Linear Regression Implementation from
    Scratch" / "Softmax Regression").

    Args:
        n: number of running sums, all starting at 0.0.
    """

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args: Any) -> None:
        """Add ``args[i]`` (anything ``float()`` accepts) to sum ``i``."""
        self.data = [a + float(b) for a, b in zip(self.data, args, strict=False)]

    def reset(self) -> None:
        """Set every sum back to 0.0."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]

    def __len__(self) -> int:
        return len(self.data)


class Timer:
    """Records running times in seconds (d2l, section "Linear Regression")."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        """Start (or restart) the timer."""
        self.tik = time.perf_counter()

    def stop(self) -> float:
        """Stop the timer, record and return the elapsed seconds since :meth:`start`."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        """Mean of the recorded times in seconds (0.0 when none)."""
        return sum(self.times) / len(self.times) if self.times else 0.0

    def sum(self) -> float:
        """Total of the recorded times in seconds."""
        return sum(self.times)

    def cumsum(self) -> list[float]:
        """Running totals of the recorded times in seconds."""
        return np.cumsum(self.times).tolist()


class TrainCallback:
    """TensorFlow-only: a Keras callback in ``d2l_compat.tensorflow``.

    Present in the MXNet and PyTorch modules only so that the three modules export the
    same names with the same signatures; constructing it raises.

    Raises:
        NotImplementedError: always.
    """

    def __init__(
        self, net: Net, train_iter: DataIter, test_iter: DataIter, num_epochs: int, device_name: str
    ) -> None:
        raise NotImplementedError(
            "TrainCallback is a Keras callback and exists only in the TensorFlow flavour: "
            "use `from d2l_compat import tensorflow as d2l`. MXNet and PyTorch code trains "
            "with an explicit loop and d2l.Animator instead."
        )
