"""The page's kernel-free schedule explorer (sphinxext/schedule_explorer.py and
static/schedule-explorer.js) in headless Chromium.

- Its formulas are the chapter's schedulers: the script's schedule function, on a grid of
  600 settings x every epoch, equals the Python schedulers of the generated PyTorch
  notebook within 1e-12 relative.
- On the built book (English and Chinese pages): keyboard and fill moves of its native
  range inputs change the curve and the readout to the Python schedulers' values for the
  new setting, the limits admit only settings the schedulers accept, and it keeps working
  after switching the framework tab and the language. Its text and curve are readable in
  the theme's light and dark modes, and the widget cell's dead output is not on the page.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.chapter_code import run_probe
from tests.chapter_code import scheduler_call as chapter_scheduler_call
from tests.colours import contrast

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "sphinxext" / "static" / "schedule-explorer.js"
REL_TOL = 1e-12
EXPLORER = "[data-d2l-schedule-explorer]"


# The page's schedule ids, as the widget cell names the schedules
WIDGET_NAMES = {"square-root": "square root", "multi-factor": "multi factor",
                "warmup": "cosine with warmup"}


def scheduler_call(p: dict) -> tuple[str, dict]:
    """The chapter's scheduler (class, arguments) of the explorer's setting `p`."""
    return chapter_scheduler_call({**p, "schedule": WIDGET_NAMES.get(p["schedule"], p["schedule"])})


PROBE = '''
import json as _json
_out = []
for _cls, _kwargs, _n in _json.load(open(%r)):
    _scheduler = globals()[_cls](**_kwargs)
    _out.append([float(_scheduler(_t)) for _t in range(_n)])
_json.dump(_out, open(%r, "w"))
print("PROBE " + _json.dumps({"settings": len(_out)}))
'''


def python_schedules(settings: list[tuple[dict, int]], tmp: Path) -> list[list[float]]:
    """Learning rates of epochs 0 .. n - 1 of each (setting, n), from the chapter's
    schedulers as the generated PyTorch notebook defines them (run in a kernel)."""
    cases, out = tmp / "cases.json", tmp / "values.json"
    cases.write_text(json.dumps([[*scheduler_call(p), n] for p, n in settings]))
    report, _ = run_probe("pytorch", PROBE % (str(cases), str(out)))
    assert report == {"settings": len(settings)}
    return json.loads(out.read_text())


def relative_difference(a: float, b: float) -> float:
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def grid(size: int = 600, seed: int = 0) -> list[tuple[dict, int]]:
    """`size` settings on the explorer's slider grid (rates in steps of 0.01, integer
    epochs), edges first, then drawn at random: (setting, number of epochs)."""
    base = {"base_lr": 0.2, "final_lr": 0.01, "factor": 0.5, "stop_factor_lr": 0.01,
            "steps": [15, 30], "max_update": 20, "warmup_steps": 5}
    edges = [
        ({"schedule": "square-root", "base_lr": 0.01}, 100),
        ({"schedule": "square-root", "base_lr": 1.0}, 1),
        ({"schedule": "factor", "factor": 1.0, "stop_factor_lr": 0.0}, 100),
        ({"schedule": "factor", "factor": 0.01, "stop_factor_lr": 0.0}, 100),
        ({"schedule": "factor", "stop_factor_lr": 0.2, "base_lr": 0.2}, 10),
        ({"schedule": "multi-factor", "steps": [1, 2], "factor": 0.01}, 100),
        ({"schedule": "multi-factor", "steps": [99, 100], "factor": 1.0}, 100),
        ({"schedule": "cosine", "max_update": 1, "final_lr": 0.0}, 100),
        ({"schedule": "cosine", "max_update": 100, "final_lr": 0.2}, 100),
        ({"schedule": "warmup", "max_update": 1, "warmup_steps": 0}, 5),
        ({"schedule": "warmup", "max_update": 100, "warmup_steps": 99, "final_lr": 0.0}, 100),
        ({"schedule": "warmup", "max_update": 2, "warmup_steps": 1, "base_lr": 1.0}, 3),
    ]
    rng = random.Random(seed)
    settings = [({**base, **p}, n) for p, n in edges]
    schedules = ["square-root", "factor", "multi-factor", "cosine", "warmup"]
    while len(settings) < size:
        k = rng.randint(1, 100)  # base_lr = k / 100, as the slider's value string parses
        first = rng.randint(1, 99)
        max_update = rng.randint(1, 100)
        p = {"schedule": schedules[len(settings) % 5], "base_lr": k / 100,
             "final_lr": rng.randint(0, k) / 100, "factor": rng.randint(1, 100) / 100,
             "stop_factor_lr": rng.randint(0, k) / 100,
             "steps": [first, rng.randint(first + 1, 100)], "max_update": max_update,
             "warmup_steps": rng.randint(0, max_update - 1)}
        settings.append((p, rng.randint(1, 100)))
    return settings


def test_script_computes_the_python_schedulers(browser: Browser, tmp_path: Path,
                                               record_property) -> None:
    settings = grid()
    expected = python_schedules(settings, tmp_path)
    page = browser.new_page()
    try:
        page.set_content("<!DOCTYPE html><html><body></body></html>")
        page.add_script_tag(path=str(SCRIPT))
        got = page.evaluate(
            "cases => cases.map(([p, n]) => window.d2lScheduleExplorer.schedule(p, n))",
            [[p, n] for p, n in settings])
    finally:
        page.close()
    worst, where, values = 0.0, None, 0
    for (p, n), js, py in zip(settings, got, expected, strict=True):
        assert len(js) == len(py) == n
        for t, (a, b) in enumerate(zip(js, py, strict=True)):
            values += 1
            d = relative_difference(a, b)
            if d > worst:
                worst, where = d, (p, t, a, b)
    record_property("max_relative_difference", worst)
    record_property("settings", len(settings))
    print(f"\nexplorer JS vs Python: {len(settings)} settings, {values} values, "
          f"max relative difference {worst:.3g} at {where}")
    assert len(settings) >= 500
    assert worst <= REL_TOL, f"JS and Python differ by {worst:.3g} (relative) at {where}"


# --- the explorer on the built book ------------------------------------------------

def explorer_state(page: Page) -> dict:
    """What the explorer shows: its inputs' values and limits, the curve's values and
    points, the readout and which rows are shown."""
    return page.evaluate("""root => {
      const inputs = {};
      root.querySelectorAll("input[type=range], select").forEach(el => {
        inputs[el.name] = {value: el.value, min: el.min, max: el.max};
      });
      const curve = root.querySelector("polyline.d2l-explorer-curve");
      return {
        inputs,
        lrs: JSON.parse(curve.getAttribute("data-lrs")),
        points: curve.getAttribute("points").split(" ").map(p => p.split(",").map(Number)),
        readout: root.querySelector(".d2l-explorer-lr-value").textContent,
        shown: [...root.querySelectorAll("input[type=range]")]
          .filter(el => el.offsetParent !== null).map(el => el.name),
        labels: [...root.querySelectorAll("label")].map(l => l.textContent),
      };
    }""", page.locator(EXPLORER).element_handle())


def setting_of(state: dict) -> tuple[dict, int, int]:
    """(setting, number of epochs, chosen epoch) the explorer's inputs stand for."""
    v = {name: i["value"] for name, i in state["inputs"].items()}
    setting = {"schedule": v["schedule"], "steps": [int(v["step_1"]), int(v["step_2"])]}
    for name in ("base_lr", "final_lr", "factor", "stop_factor_lr"):
        setting[name] = float(v[name])
    for name in ("max_update", "warmup_steps"):
        setting[name] = int(v[name])
    return setting, int(v["num_epochs"]), int(v["epoch"])


class Checker:
    """Records what the explorer shows after each step and checks it against the
    Python schedulers (evaluated once for every recorded step, in one kernel)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, dict]] = []

    def record(self, page: Page, what: str) -> dict:
        state = explorer_state(page)
        if self.steps:
            assert state["lrs"] != self.steps[-1][1]["lrs"] or what.startswith("epoch"), \
                f"{what}: the curve did not change"
        self.steps.append((what, state))
        return state

    def check(self, tmp: Path) -> None:
        settings = [setting_of(state)[:2] for _, state in self.steps]
        expected = python_schedules(settings, tmp)
        for (what, state), py in zip(self.steps, expected, strict=True):
            _, n, epoch = setting_of(state)
            assert len(state["lrs"]) == n, what
            worst = max(relative_difference(a, b) for a, b in zip(state["lrs"], py, strict=True))
            assert worst <= REL_TOL, f"{what}: curve differs from Python by {worst:.3g}"
            assert float(state["readout"]) == float(f"{py[epoch]:.6g}"), \
                f"{what}: readout {state['readout']} at epoch {epoch}, Python {py[epoch]}"
            check_points(state, what)


def check_points(state: dict, what: str) -> None:
    """The drawn polyline is the curve: one point per epoch, x growing with the epoch and
    y an affine function of the learning rate (to the 0.01 px the points are written in)."""
    points, lrs = state["points"], state["lrs"]
    assert len(points) == len(lrs), what
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert all(a < b for a, b in zip(xs, xs[1:], strict=False)), what
    lo, hi = min(range(len(lrs)), key=lrs.__getitem__), max(range(len(lrs)), key=lrs.__getitem__)
    if lrs[hi] == lrs[lo]:
        assert max(ys) - min(ys) <= 0.02, what
        return
    scale = (ys[hi] - ys[lo]) / (lrs[hi] - lrs[lo])
    assert scale < 0, f"{what}: a larger rate is not drawn higher"
    for y, lr in zip(ys, lrs, strict=True):
        assert abs(y - (ys[lo] + scale * (lr - lrs[lo]))) <= 0.02, what


def press(page: Page, name: str, key: str, times: int = 1) -> None:
    control = page.locator(f"{EXPLORER} input[name='{name}']")
    control.focus()
    for _ in range(times):
        control.press(key)


def test_widget_cell_output_is_not_on_the_page(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    cells = page.locator("div.cell", has_text="def show_schedule(")
    assert cells.count() == 3  # one per framework tab, the same code
    assert cells.locator(".cell_output").count() == 0
    scripts = page.evaluate("[...document.scripts].map(s => s.src)")
    assert not [s for s in scripts if "jupyter-widgets" in s or "require" in s.split("/")[-1]]
    assert page.locator(EXPLORER).count() == 1


def test_moving_sliders_redraws_with_the_python_values(page: Page, site: str,
                                                        tmp_path: Path) -> None:
    checker = Checker()
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    state = checker.record(page, "English page, as loaded")
    assert state["inputs"]["schedule"]["value"] == "square-root"
    assert state["shown"] == ["base_lr", "num_epochs", "epoch"]
    assert any("initial learning rate" in label for label in state["labels"])

    page.locator(f"{EXPLORER} select").select_option("warmup")
    state = checker.record(page, "cosine with warmup chosen")
    assert state["shown"] == ["base_lr", "final_lr", "max_update", "warmup_steps",
                              "num_epochs", "epoch"]
    press(page, "warmup_steps", "ArrowRight", 2)
    state = checker.record(page, "warmup_steps + 2 (keyboard)")
    assert state["inputs"]["warmup_steps"]["value"] == "7"
    press(page, "epoch", "End")
    checker.record(page, "epoch: last (keyboard)")
    press(page, "epoch", "ArrowLeft", 20)
    state = checker.record(page, "epoch: 20 back (keyboard)")
    assert state["inputs"]["epoch"]["value"] == "9"

    # The limits admit only what the schedulers accept: final_lr <= base_lr,
    # warmup_steps < max_update
    page.locator(f"{EXPLORER} input[name='final_lr']").fill("0.9")
    state = checker.record(page, "final_lr filled with 0.9")
    assert state["inputs"]["final_lr"]["value"] == "0.2"
    page.locator(f"{EXPLORER} input[name='max_update']").fill("4")
    state = checker.record(page, "max_update filled with 4")
    assert state["inputs"]["warmup_steps"]["value"] == "3"
    assert state["inputs"]["warmup_steps"]["max"] == "3"

    # Another framework tab: the explorer is outside the tabs and keeps working
    page.locator("label[data-sync-id='tensorflow']").first.click()
    press(page, "base_lr", "ArrowLeft", 5)
    state = checker.record(page, "TensorFlow tab; base_lr - 5 steps (keyboard)")
    assert state["inputs"]["base_lr"]["value"] == "0.15"
    assert state["inputs"]["final_lr"]["value"] == "0.15"  # narrowed with base_lr

    # Another language, through the switcher
    page.locator("nav.d2l-language-switcher a[hreflang='zh']").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{site}/zh/chapters/zh/scheduler.html")
    state = checker.record(page, "Chinese page, as loaded")
    assert any("初始学习率" in label for label in state["labels"])
    page.locator(f"{EXPLORER} select").select_option(label="多因子")
    checker.record(page, "multi factor chosen")
    press(page, "step_1", "ArrowRight", 3)
    state = checker.record(page, "first step + 3 (keyboard)")
    assert state["inputs"]["step_1"]["value"] == "18"
    press(page, "step_2", "Home")
    state = checker.record(page, "second step to its lowest (keyboard)")
    assert state["inputs"]["step_2"]["value"] == "19"  # steps stay strictly increasing
    press(page, "epoch", "End")
    checker.record(page, "epoch: last (keyboard)")
    page.locator(f"{EXPLORER} input[name='num_epochs']").fill("100")
    checker.record(page, "num_epochs filled with 100")
    checker.check(tmp_path)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_explorer_is_readable_in_both_themes(new_page: Callable[..., Page], site: str,
                                             scheme: str, lang: str) -> None:
    page = new_page(color_scheme=scheme)
    page.goto(f"{site}/{lang}/chapters/{lang}/scheduler.html")
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    colours = page.evaluate("""() => {
      const root = document.querySelector(".d2l-schedule-explorer");
      const style = el => getComputedStyle(el);
      return {
        background: style(root).backgroundColor,
        text: style(root.querySelector("label")).color,
        tick: style(root.querySelector(".d2l-explorer-tick")).fill,
        readout: style(root.querySelector(".d2l-explorer-lr-value")).color,
        curve: style(root.querySelector(".d2l-explorer-curve")).stroke,
        marker: style(root.querySelector(".d2l-explorer-marker")).fill,
        caption: style(root.querySelector("figcaption")).color,
      };
    }""")
    assert contrast(colours["text"], colours["background"]) >= 4.5, colours
    assert contrast(colours["tick"], colours["background"]) >= 4.5, colours
    assert contrast(colours["readout"], colours["background"]) >= 4.5, colours
    assert contrast(colours["caption"], colours["background"]) >= 4.5, colours
    # graphics: WCAG's 3:1 for the parts needed to read the chart
    assert contrast(colours["curve"], colours["background"]) >= 3, colours
    assert contrast(colours["marker"], colours["background"]) >= 3, colours

