"""Framework-free plotting: :func:`use_svg_display`, :func:`set_figsize`, :func:`plot`
and the live-updating :class:`Animator`.

Display model of :class:`Animator`: the figure is kept away from pyplot's figure list
(so ``%matplotlib inline`` does not flush an extra copy at the end of the cell). Inside a
Jupyter/Colab kernel the first :meth:`Animator.add` displays the figure with a display
id and later calls update that same output in place; headless runners (nbclient, nbval)
apply those updates too, so the saved cell holds exactly one figure, and text printed
after it stays. Outside a kernel (plain scripts, terminal IPython) nothing is displayed;
the data and ``animator.fig`` are kept for the caller.

When ``$D2L_PROGRESS_FILE`` is set (the book's build does), every :meth:`Animator.add`
appends ``{"x": latest x, "xmax": xlim[1]}`` as a JSON line to that file, so a process
outside the kernel can show how far a training run is.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

# `plt` is pyplot itself, as d2l's `d2l.plt`: e.g. `d2l.plt.show()` shows the current
# figure at once (a widget callback has no end of cell that would show it).
__all__ = ["Animator", "plot", "plt", "set_figsize", "use_svg_display"]

_DEFAULT_FMTS = ("-", "m--", "g-.", "r:")
# Redrawing means rendering the whole figure (SVG or PNG, ~50 ms for the chapter's plot
# on a 2-core VM) in the training loop's own thread. Redraw at most twice a second, and
# so rarely that rendering takes at most 2% of the time: every ~2.5 s for that plot.
_MIN_REDRAW_SECONDS = 0.5
_MAX_RENDER_SHARE = 0.02


def _kernel_shell() -> Any:
    """The running IPython *kernel* shell (Jupyter, Colab, nbclient), else ``None``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def use_svg_display() -> None:
    """Make the inline backend render figures as SVG (d2l, section "Calculus").

    A no-op outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    set_matplotlib_formats("svg")


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Use SVG display and set matplotlib's default figure size in inches
    (d2l, section "Calculus")."""
    use_svg_display()
    plt.rcParams["figure.figsize"] = figsize


def _to_numpy(values: Any) -> np.ndarray:
    """Framework tensors (MXNet, PyTorch, TensorFlow), lists or scalars -> numpy."""
    if isinstance(values, np.ndarray):
        return values
    if hasattr(values, "asnumpy"):  # MXNet
        return np.asarray(values.asnumpy())
    if hasattr(values, "detach"):  # PyTorch
        return values.detach().cpu().numpy()
    if hasattr(values, "numpy"):  # TensorFlow eager tensors
        return np.asarray(values.numpy())
    if isinstance(values, list | tuple | range):
        return np.asarray([_to_numpy(v) for v in values])
    return np.asarray(values)


def _one_series(values: Any) -> bool:
    if hasattr(values, "ndim"):
        return values.ndim == 1
    if isinstance(values, list | tuple | range):
        return len(values) == 0 or np.ndim(_to_numpy(values[0])) == 0
    return False


def _set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend) -> None:
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def plot(
    X: Any,
    Y: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    legend: Sequence[str] | None = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    xscale: str = "linear",
    yscale: str = "linear",
    fmts: Sequence[str] = _DEFAULT_FMTS,
    figsize: tuple[float, float] = (3.5, 2.5),
    axes: Any = None,
) -> None:
    """Plot one or more series (d2l, section "Calculus").

    Args:
        X: x values: a 1-D array/tensor or list of numbers, or a list of such series.
            When ``Y`` is None, ``X`` holds the y values, plotted against their index.
        Y: y values, one series or a list of series (MXNet, PyTorch and TensorFlow
            tensors and Python lists of numbers/0-d tensors are accepted).
        xlabel, ylabel, legend, xlim, ylim, xscale, yscale: axis settings.
        fmts: matplotlib format strings, one per series (cycled no further).
        figsize: figure size in inches, used for a new current figure.
        axes: matplotlib axes to draw on; default: pyplot's current axes, which the
            inline backend shows once at the end of the cell.
    """
    legend = [] if legend is None else list(legend)
    set_figsize(figsize)
    axes = axes if axes is not None else plt.gca()
    if _one_series(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _one_series(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = list(X) * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts, strict=False):
        x, y = _to_numpy(x), _to_numpy(y)
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    _set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def _figure_bundle(shell: Any, fig: Any) -> tuple[dict, dict]:
    """MIME bundle of ``fig``, honouring the inline backend's format (png/svg)."""
    data, metadata = shell.display_formatter.format(fig)
    if not any(key.startswith("image/") for key in data):  # no figure formatter (e.g. Agg)
        from IPython.core.pylabtools import print_figure

        data = {"image/png": print_figure(fig, "png"), "text/plain": repr(fig)}
        metadata = {}
    return data, metadata


class Animator:
    """Plot data in animation (d2l, section "Softmax Regression Implementation from
    Scratch"), as one live-updating output (see the module docstring).

    Args:
        xlabel, ylabel, legend, xlim, ylim, xscale, yscale: settings of the first axes.
        fmts: matplotlib format strings, one per series.
        nrows, ncols: subplot grid; :meth:`add` draws on the first axes.
        figsize: figure size in inches.

    Attributes:
        fig: the matplotlib figure, showing every point added so far.
        axes: list of the figure's axes (row-major).
        X, Y: lists (one per series) of the plotted x and y values as floats; ``None``
            before the first :meth:`add`.

    The axes are redrawn from ``X`` and ``Y`` only when the figure is rendered or when
    ``fig`` or ``axes`` is read, not on every :meth:`add`: rebuilding them costs ~10 ms
    (0.01 ms for an add without it), about 1% of a one-thread LeNet epoch at the
    chapter's five adds per epoch.
    """

    def __init__(
        self,
        xlabel: str | None = None,
        ylabel: str | None = None,
        legend: Sequence[str] | None = None,
        xlim: Sequence[float] | None = None,
        ylim: Sequence[float] | None = None,
        xscale: str = "linear",
        yscale: str = "linear",
        fmts: Sequence[str] = _DEFAULT_FMTS,
        nrows: int = 1,
        ncols: int = 1,
        figsize: tuple[float, float] = (3.5, 2.5),
    ) -> None:
        legend = [] if legend is None else list(legend)
        use_svg_display()
        self._fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
        # Drop the figure from pyplot's list: we display it ourselves, exactly once.
        plt.close(self._fig)
        self._axes = list(axes.flat)
        self._stale = False  # points added since the axes were last drawn
        self._axes_settings = (xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
        self.fmts = tuple(fmts)
        self.X: list[list[float]] | None = None
        self.Y: list[list[float]] | None = None
        self._display_handle: Any = None
        self._last_shown = 0.0
        self._redraw_interval = _MIN_REDRAW_SECONDS
        self._pending = False
        self._flush_hook: Any = None

    def add(self, x: Any, y: Any) -> None:
        """Append one point per series and redraw.

        Args:
            x: x value (number or 0-d tensor), or one x value per series.
            y: y value, or a sequence with one y value per series; ``None`` entries are
                skipped (that series gets no point this time).
        """
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if self.X is None or self.Y is None:
            self.X = [[] for _ in range(n)]
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y, strict=False)):
            if a is not None and b is not None:
                self.X[i].append(float(a))
                self.Y[i].append(float(b))
        self._stale = True
        self._report_progress()
        self._pending = True
        if (self._display_handle is None
                or time.monotonic() - self._last_shown >= self._redraw_interval):
            self._show()

    @property
    def fig(self) -> Any:
        self._draw()
        return self._fig

    @property
    def axes(self) -> list[Any]:
        self._draw()
        return self._axes

    def _draw(self) -> None:
        if not self._stale or self.X is None or self.Y is None:
            return
        axes = self._axes[0]
        axes.cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts, strict=False):
            axes.plot(xs, ys, fmt)
        _set_axes(axes, *self._axes_settings)
        self._stale = False

    def _report_progress(self) -> None:
        # The book's build sets D2L_PROGRESS_FILE to show which epoch a notebook's
        # training run has reached; readers never need it.
        path = os.environ.get("D2L_PROGRESS_FILE")
        xlim = self._axes_settings[2]
        if not path or not xlim or not self.X or not any(self.X):
            return
        x = max(xs[-1] for xs in self.X if xs)
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"x": x, "xmax": float(xlim[1])}) + "\n")
        except OSError:
            pass  # progress display only: never let it break training

    def _show(self) -> None:
        shell = _kernel_shell()
        if shell is None:
            return
        from IPython.display import display

        started = time.monotonic()
        data, metadata = _figure_bundle(shell, self.fig)
        self._redraw_interval = max(_MIN_REDRAW_SECONDS,
                                    (time.monotonic() - started) / _MAX_RENDER_SHARE)
        if self._display_handle is None:
            self._display_handle = display(data, metadata=metadata, raw=True, display_id=True)
        else:
            self._display_handle.update(data, metadata=metadata, raw=True)
        self._pending = False
        self._last_shown = time.monotonic()
        if self._flush_hook is None:
            # Redraws are throttled, so draw whatever is pending when the cell ends
            # (also when it raises): the saved output is always the final figure.
            self._flush_hook = self._flush
            shell.events.register("post_execute", self._flush_hook)

    def _flush(self) -> None:
        shell = _kernel_shell()
        if self._pending:
            self._show()
        if shell is not None and self._flush_hook is not None:
            shell.events.unregister("post_execute", self._flush_hook)
            self._flush_hook = None
