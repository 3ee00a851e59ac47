"""Animator: one live-updating figure in a kernel, harmless in a plain script."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]

CELL = """\
from d2l_compat import torch as d2l

animator = d2l.Animator(xlabel='epoch', xlim=[1, 4], legend=['train loss', 'train acc', 'test acc'])
for epoch in range(4):
    animator.add(epoch + 1, (1.0 / (epoch + 1), 0.2 * epoch, None if epoch < 2 else 0.5))
print('done', animator.X, animator.Y)
"""


def _with_repo_on_path():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("MPLBACKEND", None)
    return env


def test_headless_notebook_keeps_one_figure_and_the_printed_text(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", _with_repo_on_path()["PYTHONPATH"])
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline"),
        nbformat.v4.new_code_cell(CELL),
        nbformat.v4.new_code_cell("d2l.plot(d2l.arange(3), [0.3, 0.2, 0.1], xlabel='epoch')"),
        # The figure as it stands after the last add, rendered the same way
        nbformat.v4.new_code_cell("from IPython.display import display\ndisplay(animator.fig)"),
    ]
    # Deterministic SVG ids and dates, so two renderings of one figure compare equal
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        "import os\nimport matplotlib as mpl\nmpl.rcParams['svg.hashsalt'] = 'd2l'\n"
        "os.environ['SOURCE_DATE_EPOCH'] = '0'"))
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()

    outputs = nb.cells[2].outputs
    assert [o.output_type for o in outputs] == ["display_data", "stream"], outputs
    figure, text = outputs
    assert any(key.startswith("image/") for key in figure.data)
    assert text.name == "stdout"
    assert text.text.startswith(
        "done [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [3.0, 4.0]] "
        "[[1.0, 0.5, 0.3333333333333333, 0.25], [0.0, 0.2, 0.4, 0.6000000000000001], [0.5, 0.5]]"
    )
    plot_outputs = nb.cells[3].outputs
    assert [o.output_type for o in plot_outputs] == ["display_data"], plot_outputs
    # Redraws are throttled; what the cell kept must still be the final figure
    final = nb.cells[4].outputs[0].data
    kind = next(key for key in final if key.startswith("image/"))
    assert figure.data[kind] == final[kind]
    assert not any(o.output_type == "error" for cell in nb.cells for o in cell.outputs)


def test_plain_script_does_not_crash():
    env = _with_repo_on_path()
    env["MPLBACKEND"] = "Agg"
    script = CELL + "d2l.use_svg_display()\nd2l.plot(d2l.arange(3), [0.3, 0.2, 0.1])\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("done [[1.0, 2.0, 3.0, 4.0]")


THROTTLE_CELL = """\
import time
from d2l_compat import torch as d2l

animator = d2l.Animator(xlabel='epoch', xlim=[0, 1], legend=['train loss'])
shown = []
_show = animator._show
def counting_show():
    started = time.monotonic()
    _show()
    shown.append((started, time.monotonic() - started))
animator._show = counting_show
start, adds = time.monotonic(), 0
while time.monotonic() - start < 3.0:  # a training loop adding a point every ~5 ms
    animator.add(adds / 1000, 1.0 / (adds + 1))
    adds += 1
    time.sleep(0.005)
print(adds, shown)
"""


def test_redraws_are_throttled_in_a_kernel(monkeypatch):
    """Rendering runs in the training loop: at most one redraw per 0.5 s, and at most 2%
    of the time spent rendering (plus the first draw), however often points come."""
    monkeypatch.setenv("PYTHONPATH", _with_repo_on_path()["PYTHONPATH"])
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline"),
                nbformat.v4.new_code_cell(THROTTLE_CELL)]
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream")
    adds_text, shown_text = text.split(" ", 1)
    adds, shown = int(adds_text), ast.literal_eval(shown_text)  # [(start, seconds), ...]
    assert adds > 100, adds  # the loop really added points often
    starts = [start for start, _ in shown]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert 1 <= len(shown) <= 7, shown  # 3 s at most every 0.5 s, plus the first
    assert all(gap >= 0.5 for gap in gaps), gaps
    rendering = sum(seconds for _, seconds in shown[1:])
    assert rendering <= 0.02 * 3.0 + max(seconds for _, seconds in shown), shown


def test_axes_are_drawn_when_read_not_on_every_add(monkeypatch):
    """Rebuilding the axes costs ~20 ms: adding points must not do it, reading the
    figure must show every point added so far."""
    from matplotlib.axes import Axes

    from d2l_compat import _plotting

    monkeypatch.setattr(_plotting, "_kernel_shell", lambda: None)
    clears = []
    original = Axes.cla
    monkeypatch.setattr(Axes, "cla", lambda self: (clears.append(self), original(self))[1])
    animator = _plotting.Animator(xlabel="epoch", xlim=[0, 2], legend=["loss", "acc"])
    for i in range(100):
        animator.add(i / 50, (1.0 / (i + 1), None if i % 2 else i / 100))
    assert clears == []
    lines = animator.fig.axes[0].lines
    assert len(clears) == 1
    assert list(lines[0].get_xdata()) == [i / 50 for i in range(100)]
    assert list(lines[1].get_ydata()) == [i / 100 for i in range(0, 100, 2)]
    assert animator.axes[0].get_xlabel() == "epoch"
    assert animator.axes[0].get_legend() is not None
    assert len(clears) == 1  # nothing new since: no redraw
    animator.add(2.0, (0.001, 0.99))
    assert len(animator.axes[0].lines[0].get_xdata()) == 101
    assert len(clears) == 2
