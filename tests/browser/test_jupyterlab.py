"""The notebooks as a learner opens them: each framework's English notebook in a real
JupyterLab (the pinned one, on loopback, no token), driven by headless Chromium.

"Run All Cells" runs the whole notebook on the suite's 100-example subset; then the test
changes the widgets of both widget cells the way a reader does and checks what the page
shows. The results cell (after the results table): picks "learning rate" in its metric
dropdown, clicks one run and Ctrl-clicks another in its run list. The "Explore the
Schedules" cell: picks "cosine" in its dropdown, drags the base_lr slider with the
mouse. After each change the widget holds exactly one figure, a new one; the last one
is pixel for pixel the figure drawn by a cell added below (the chosen runs' learning
rates from `histories`; the chapter's `CosineScheduler` at the setting the sliders
show); that cell shows only its own figure (nothing of the widget's leaks into it);
every control's label is shown in full; both widget cells show their code (their
`hide-input` tag collapses it on the book's pages only); and no cell's output holds a
traceback.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageChops

from bookbuild.kernel_env import QUIET_KERNEL_ENV
from bookbuild.vocabulary import FRAMEWORK_TAGS

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Browser, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "chapters" / "en" / "notebooks"
CONTROLS = ["schedule", "base_lr", "final_lr", "factor", "stop_factor_lr", "steps",
            "max_update", "warmup_steps", "num_epochs"]
RESULTS_CONTROLS = ["metric", "runs"]
# The runs the results cell's test picks (a click, then a Ctrl-click), and their colours
# (their places among the chapter's runs: constant, square root, multi factor, cosine,
# warmup)
PICKED_RUNS = {"constant": "C0-", "cosine": "C3-"}
RUN_ALL_SECONDS = 600
REDRAW_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, fashion_mnist_dir: Path) -> Iterator[str]:
    """Base URL of a JupyterLab serving a scratch folder that holds a copy of each
    framework's English notebook (so the run's outputs never reach the committed
    files), with its settings and workspaces kept in that folder too."""
    work = tmp_path_factory.mktemp("jupyterlab")
    notebooks = work / "notebooks"
    notebooks.mkdir()
    for fw in FRAMEWORK_TAGS:
        shutil.copy(NOTEBOOKS / f"scheduler_{fw}.ipynb", notebooks)
    port = _free_port()
    env = {**os.environ, **QUIET_KERNEL_ENV,
           "D2L_DATA_DIR": str(fashion_mnist_dir),
           "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    log = (work / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
         "--allow-root",  # CI runs as root
         # lets the test stop kernels through the REST API (loopback, no token anyway)
         "--ServerApp.disable_check_xsrf=True",
         f"--ServerApp.root_dir={notebooks}",
         # No machine here reaches the internet: don't ask for news or updates.
         "--LabApp.news_url=", "--LabApp.check_for_updates_class="
                               "jupyterlab.NeverCheckForUpdate"],
        cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("JupyterLab did not start:\n"
                        + (work / "jupyterlab.log").read_text()[-3000:])
        time.sleep(0.5)
    yield base
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _open_notebook(browser: Browser, base: str, framework: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # Only JupyterLab itself: a widget or page that needs a CDN fails here.
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(base) else route.abort())
    page = context.new_page()
    # A workspace of its own, reset: otherwise JupyterLab reopens the notebooks of the
    # earlier tests in hidden tabs.
    page.goto(f"{base}/lab/workspaces/{framework}/tree/scheduler_{framework}.ipynb?reset")
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]',
                           timeout=120_000)
    # JupyterLab may still ask which kernel to start: take the one it proposes, as a
    # reader would, and go on once the kernel has been idle with no dialog for 3 s.
    quiet_since = time.monotonic()
    deadline = quiet_since + 60
    while time.monotonic() - quiet_since < 3:
        assert time.monotonic() < deadline, "the notebook's kernel did not become idle"
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        busy = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        if accept.count() or not busy.count():
            if accept.count():
                accept.first.click()
            quiet_since = time.monotonic()
        time.sleep(0.5)
    return page


def _menu(page: Page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def _wait_all_ran(page: Page) -> None:
    """Wait until every code cell shows an execution count and the kernel is idle."""
    start = time.monotonic()
    while time.monotonic() < start + RUN_ALL_SECONDS:
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").evaluate_all(
            "ps => ps.map(p => p.textContent)")
        status = page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute(
            "data-status")
        if prompts and all(p.strip()[1:-2].isdigit() for p in prompts) and status == "idle":
            return
        if time.monotonic() > start + 60 and all(p.strip() == "[ ]:" for p in prompts):
            pytest.fail("Run All Cells started no cell within 60 s")
        time.sleep(2)
    pytest.fail(f"Run All did not finish in {RUN_ALL_SECONDS} s; prompts: {prompts}")


def _widget(page: Page, first_label: str) -> Locator:
    """The one `interact` box whose first control is labelled `first_label`."""
    boxes = page.locator(".widget-interact").filter(
        has=page.locator(".widget-label", has_text=first_label))
    assert boxes.count() == 1, f"no single ipywidgets box with a control {first_label!r}"
    return boxes.first


def _check_labels(box: Locator, names: list[str]) -> None:
    """The box shows the controls `names`, each label in full."""
    box.scroll_into_view_if_needed()
    shown = box.locator(".widget-label").evaluate_all(
        "ls => ls.filter(l => l.offsetParent !== null).map(l => ({text: l.textContent,"
        " cut: l.scrollWidth > l.clientWidth}))")
    assert [s["text"] for s in shown] == names
    assert not [s["text"] for s in shown if s["cut"]], f"labels cut off: {shown}"


def _code_shown(box: Locator, marker: str) -> None:
    """The code cell whose output holds the widget `box` shows its code, with `marker`
    in it (no collapsed input)."""
    cell = box.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), "
                       "' jp-CodeCell ')]")
    assert cell.count() == 1
    assert cell.locator(".jp-InputPlaceholder").count() == 0, (
        f"the code of the {marker!r} cell is collapsed")
    editor = cell.locator(".jp-InputArea-editor")
    editor.scroll_into_view_if_needed()
    assert editor.is_visible(), f"the code of the {marker!r} cell is hidden"
    # the editor draws the lines in view: wait for the marker's
    deadline = time.monotonic() + 10
    while marker not in editor.inner_text():
        assert time.monotonic() < deadline, f"the {marker!r} cell does not show its code"
        time.sleep(0.5)


def _add_cell(page: Page, code: str, marker: str) -> Locator:
    """Run `code` in a new cell at the end of the notebook; its one figure."""
    page.locator(".jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    reference_cell = page.locator(".jp-CodeCell").filter(has_text=marker)
    reference_cell.locator(".jp-OutputArea img").first.wait_for(
        timeout=REDRAW_SECONDS * 1000)
    time.sleep(1)
    figures = reference_cell.locator(".jp-OutputArea img")
    assert figures.count() == 1, (
        f"the cell added after the widgets shows {figures.count()} figures: the widgets' "
        "figures leak into the next cell's output")
    return figures.first


def _png(image: Locator) -> Image.Image:
    """The pixels of a figure as the page draws it."""
    return Image.open(io.BytesIO(image.screenshot())).convert("RGB")


def _pixels_of(page: Page, figure: Locator) -> Image.Image:
    """The pixels of the figure's image data drawn alone at the top left of a blank page,
    so that two figures compare equal when their data draw the same, wherever they
    sit in the notebook (an offset of a fraction of a pixel changes anti-aliasing)."""
    src = figure.get_attribute("src")
    assert src, "the figure has no image data"
    blank = page.context.new_page()
    try:
        blank.set_content('<body style="margin:0"><img id="figure"></body>')
        blank.eval_on_selector("#figure", "(img, src) => { img.src = src; }", src)
        blank.wait_for_function("document.getElementById('figure').complete")
        return _png(blank.locator("#figure"))
    finally:
        blank.close()


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def _one_figure(explorer: Locator) -> Locator:
    figures = explorer.locator(".widget-output img")
    assert figures.count() == 1, f"the explorer shows {figures.count()} figures, not one"
    return figures.first


def _wait_new_figure(explorer: Locator, before: Image.Image) -> Image.Image:
    """The explorer's figure once it differs from `before` and has stopped changing
    (a drag sends several values, each redrawn); fails after REDRAW_SECONDS."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + REDRAW_SECONDS
    last = before
    while time.monotonic() < deadline:
        time.sleep(1)
        figures = explorer.locator(".widget-output img")
        if figures.count() != 1:
            continue
        try:
            now = _png(figures.first)
        except PlaywrightError:  # replaced by the next redraw while being captured
            continue
        if not _same(now, before) and _same(now, last):
            return _png(_one_figure(explorer))
        last = now
    pytest.fail(f"the explorer's figure did not change within {REDRAW_SECONDS} s")


def _slider(page: Page, explorer: Locator, name: str) -> Locator:
    """The explorer's slider labelled `name`."""
    return explorer.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=name)).first


def _drag(page: Page, slider: Locator, fraction: float) -> None:
    """Drag the slider's handle with the mouse to `fraction` of its track."""
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-base").first
    h, t = handle.bounding_box(), track.bounding_box()
    assert h and t, "slider not visible"
    page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
    page.mouse.down()
    page.mouse.move(t["x"] + fraction * t["width"], h["y"] + h["height"] / 2, steps=10)
    page.mouse.up()


@pytest.mark.parametrize("framework", FRAMEWORK_TAGS)
def test_explorer_redraws_in_jupyterlab(browser: Browser, jupyterlab: str,
                                        framework: str, tmp_path: Path) -> None:
    page = _open_notebook(browser, jupyterlab, framework)
    try:
        _menu(page, "Run", "Run All Cells")
        _wait_all_ran(page)
        outputs = page.locator(".jp-OutputArea").evaluate_all(
            "os => os.map(o => o.textContent)")
        tracebacks = [o for o in outputs if "Traceback" in o]
        assert not tracebacks, f"a cell failed: {tracebacks[0][-2000:]}"

        assert page.locator(".widget-interact").count() == 2, "not two widget cells"
        _code_shown(_widget(page, "metric"), "def show_runs(")
        _code_shown(_widget(page, "schedule"), "def show_schedule(")

        # The results cell: the learning rate of two runs the reader picks
        results = _widget(page, "metric")
        _check_labels(results, RESULTS_CONTROLS)
        first_results = _png(_one_figure(results))
        results.locator(".widget-dropdown select").select_option("learning rate")
        lr_all = _wait_new_figure(results, first_results)
        runs = results.locator(".widget-select-multiple select")
        first_run, second_run = PICKED_RUNS
        runs.locator("option", has_text=first_run).click()
        one_run = _wait_new_figure(results, lr_all)
        runs.locator("option", has_text=second_run).click(modifiers=["ControlOrMeta"])
        _wait_new_figure(results, one_run)
        picked = runs.evaluate("s => [...s.selectedOptions].map(o => o.textContent)")
        assert picked == list(PICKED_RUNS), f"the run list shows {picked} chosen"
        code = (f"reference_runs = {list(PICKED_RUNS)!r}; "
                "d2l.plot([list(range(1, len(histories[r]['lr']) + 1)) "
                "for r in reference_runs], [histories[r]['lr'] for r in reference_runs], "
                "xlabel='epoch', ylabel='learning rate', legend=reference_runs, "
                f"fmts={list(PICKED_RUNS.values())!r}, figsize=(6, 3)); d2l.plt.show()")
        reference = _pixels_of(page, _add_cell(page, code, "reference_runs"))
        assert _same(_pixels_of(page, _one_figure(results)), reference), (
            f"the results cell's figure is not the learning rate of {list(PICKED_RUNS)}")
        _one_figure(results)

        # The schedule explorer
        explorer = _widget(page, "schedule")
        _check_labels(explorer, CONTROLS)

        first = _png(_one_figure(explorer))
        page.screenshot(path=tmp_path / "before.png")
        explorer.locator(".widget-dropdown select").select_option("cosine")
        cosine = _wait_new_figure(explorer, first)

        base_lr = _slider(page, explorer, "base_lr")
        before_drag = base_lr.locator(".widget-readout").inner_text()
        _drag(page, base_lr, 0.6)
        dragged = _wait_new_figure(explorer, cosine)
        value = base_lr.locator(".widget-readout").inner_text()
        assert value != before_drag, "dragging did not move the base_lr slider"
        page.screenshot(path=tmp_path / "after.png")

        # The chapter's scheduler at the setting the sliders now show, in a new cell
        readouts = {name: _slider(page, explorer, name).locator(".widget-readout").inner_text()
                    for name in ("max_update", "final_lr", "num_epochs")}
        code = (f"reference_lrs = [CosineScheduler({readouts['max_update']}, base_lr={value}, "
                f"final_lr={readouts['final_lr']})(t) "
                f"for t in range({readouts['num_epochs']})]; "
                f"d2l.plot(d2l.arange({readouts['num_epochs']}), reference_lrs, "
                "xlabel='epoch', "
                "ylabel='learning rate'); d2l.plt.show()")
        reference = _pixels_of(page, _add_cell(page, code, "reference_lrs"))
        assert _same(_pixels_of(page, _one_figure(explorer)), reference), (
            f"the explorer's figure is not CosineScheduler's at base_lr={value} "
            f"({json.dumps(readouts)})")
        assert not _same(first, dragged)
        _one_figure(explorer)
    finally:
        page.screenshot(path=tmp_path / "last.png", full_page=False)
        page.context.close()
        _shut_down_kernels(jupyterlab)


def _shut_down_kernels(base: str) -> None:
    """Stop the test's kernel, so the next framework's notebook trains alone."""
    with urllib.request.urlopen(f"{base}/api/kernels", timeout=30) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()
