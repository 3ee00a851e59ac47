"""The chapter's figures as a reader sees them, measured in pixels, in the theme's light
and dark mode (sphinxext/static/figures.css, bookbuild/figures.py).

Each figure shown on the page (the first tab's) is screenshot with a margin of the page
around it, at twice the CSS resolution so that glyph stems and lines have fully covered
pixels. Then:

- the figure sits on the page: its most common colour is the page's background around
  it (a white box in dark mode, or a black one, fails);
- its text is readable: the y axis's tick labels (the strip left of the first axes,
  located from the SVG) have glyph pixels of at least 4.5:1 against that background;
- in dark mode, every data line (its vertices, located from the SVG) is drawn in a
  colour of at least 3:1 against the background (light mode keeps matplotlib's
  colours as they were, some of them lighter);
- in light mode, it looks exactly as before: the same pixels as the figure with its
  white background put back.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageChops

from tests.colours import contrast as css_contrast

if TYPE_CHECKING:
    from playwright.sync_api import Page

SCALE = 2  # device pixels per CSS pixel
MARGIN = 8  # CSS pixels of page around each figure
GRID = "#b0b0b0"  # matplotlib's grid lines: not data
FIGURES = "img.d2l-figure"
# The figure's and the axes' background, as bookbuild/figures.py leaves it out
BACKGROUND = (r'(<g id="(?:figure|axes)_\d+">\s*<g id="patch_\d+">\s*<path d="[^"]*" '
              r'style=")fill: none(")')

RGB = tuple[int, int, int]


def contrast(a: RGB, b: RGB) -> float:
    return css_contrast(f"rgb({a[0]}, {a[1]}, {a[2]})", f"rgb({b[0]}, {b[1]}, {b[2]})")


def svg_geometry(svg: str) -> tuple[float, list[tuple[float, float, float, float]],
                                     list[tuple[str, list[tuple[float, float]]]]]:
    """The SVG's width in its own units, each axes' box (x, y, w, h) and each data
    line's (stroke colour, vertices)."""
    width = float(re.search(r'viewBox="0 0 ([\d.]+) [\d.]+"', svg)[1])
    boxes = [tuple(float(v) for v in m) for m in re.findall(
        r'<clipPath id="[^"]+">\s*<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
        r'height="([\d.]+)"', svg)]
    lines = []
    for d, style in re.findall(r'<path d="([^"]*)" clip-path="[^"]*" style="([^"]*)"', svg):
        colour = re.search(r"(?:^|; )stroke: (#[0-9a-f]{6})", style)
        if style.startswith("fill: none") and colour and colour[1] != GRID:
            colour = colour[1]
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
            lines.append((colour, list(zip(numbers[::2], numbers[1::2], strict=True))))
    return width, boxes, lines


def shot(page: Page, index: int) -> tuple[Image.Image, dict]:
    """The screenshot of figure `index` with MARGIN CSS pixels around it, and its box."""
    figure = page.locator(FIGURES).nth(index)
    figure.scroll_into_view_if_needed()
    box = figure.bounding_box()
    png = page.screenshot(clip={"x": box["x"] - MARGIN, "y": box["y"] - MARGIN,
                                "width": box["width"] + 2 * MARGIN,
                                "height": box["height"] + 2 * MARGIN})
    return Image.open(io.BytesIO(png)).convert("RGB"), box


def most_common(pixels: list[RGB]) -> RGB:
    return Counter(pixels).most_common(1)[0][0]


def measure(image: Image.Image, box: dict, padding: float, background: RGB,
            svg: str) -> dict:
    """What the screenshot `image` of a figure (its border box `box`, CSS `padding`)
    shows against the page's `background`: the figure's most common colour, the tick
    labels' best contrast and how many pixels reach 4.5:1, and each data line's colour
    (the most common one at its vertices, the background left out) with its contrast."""
    w, h = image.size
    m = MARGIN * SCALE
    px = image.load()
    inside = [px[x, y] for x in range(m, w - m) for y in range(m, h - m)]
    width, boxes, lines = svg_geometry(svg)
    unit = (box["width"] - 2 * padding) / width * SCALE  # device pixels per SVG unit
    origin = m + padding * SCALE

    def at(x: float, y: float) -> tuple[int, int]:
        return min(w - 1, round(origin + x * unit)), min(h - 1, round(origin + y * unit))

    ax, ay, _, ah = min(boxes)  # the leftmost axes
    left, top = at(0, ay)
    right, bottom = at(ax - 5, ay + ah)  # left of the tick marks: the tick labels
    label_contrasts = [contrast(px[x, y], background)
                       for x in range(left, right) for y in range(top, bottom)]
    drawn = []
    for colour, vertices in lines:
        seen = [px[at(x, y)] for x, y in vertices]
        seen = [c for c in seen if contrast(c, background) > 1.5]  # not a dash's gap
        if seen:
            found = most_common(seen)
            drawn.append((colour, found, round(contrast(found, background), 2)))
    return {"background": background, "most_common": most_common(inside),
            "label_best": round(max(label_contrasts), 2),
            "label_pixels": sum(c >= 4.5 for c in label_contrasts),
            "lines": drawn, "line_count": len(lines)}


def close(a: RGB, b: RGB, tolerance: int = 4) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_figures_are_readable_on_the_page(new_page: Callable[..., Page], site: str,
                                          scheme: str) -> None:
    page = new_page(color_scheme=scheme, device_scale_factor=SCALE,
                    viewport={"width": 1300, "height": 900})
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    shown = page.evaluate(f"""async () => Promise.all(
        [...document.querySelectorAll("{FIGURES}")].map(async (img, index) => {{
          // the page behind the figure: its nearest ancestor's own background
          let under = img.parentElement;
          while (under && getComputedStyle(under).backgroundColor.endsWith(", 0)")) {{
            under = under.parentElement;
          }}
          const style = getComputedStyle(img);
          return {{index, visible: img.getBoundingClientRect().width > 0,
                  filter: style.filter, padding: parseFloat(style.paddingLeft),
                  background: getComputedStyle(under || document.body).backgroundColor,
                  svg: await (await fetch(img.src)).text()}};
        }}))""")
    shown = [f for f in shown if f["visible"]]
    assert len(shown) >= 10  # the first tab's: runs, schedules and the results
    for figure in shown:
        image, box = shot(page, figure["index"])
        background = tuple(int(v) for v in re.findall(r"\d+", figure["background"])[:3])
        seen = measure(image, box, figure["padding"], background, figure["svg"])
        print(scheme, figure["index"], seen)
        where = f"{scheme}, figure {figure['index']}: {seen}"
        assert close(seen["most_common"], seen["background"]), where
        assert seen["label_best"] >= 4.5 and seen["label_pixels"] >= 20, where
        assert len(seen["lines"]) == seen["line_count"] > 0, where
        if scheme == "dark":
            assert "invert(1)" in figure["filter"], where
            assert all(c >= 3 for _, _, c in seen["lines"]), where
        else:
            assert figure["filter"] == "none", where
            # as before: the same pixels with the white background put back
            page.evaluate("""([index, pattern]) => {
                const img = document.querySelectorAll("img.d2l-figure")[index];
                return fetch(img.src).then(r => r.text()).then(svg => {
                  const opaque = svg.replace(new RegExp(pattern, "g"), "$1fill: #ffffff$2");
                  img.src = URL.createObjectURL(new Blob([opaque], {type: "image/svg+xml"}));
                  return img.decode();
                });
            }""", [figure["index"], BACKGROUND])
            before, _ = shot(page, figure["index"])
            assert ImageChops.difference(image, before).getbbox() is None, where
