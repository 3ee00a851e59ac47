"""The built book in a real browser (headless Chromium driven by Playwright,
pages served on loopback): framework tabs sync, persist and follow
`?framework=`, and the language switcher keeps the chosen framework."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SELECTED = """() => [...document.querySelectorAll(
  ".sd-tab-set > input:checked + label[data-sync-group='framework']")]
  .map(label => label.dataset.syncId)"""


@pytest.fixture(scope="module")
def site(build) -> Iterator[str]:
    html_dir, _ = build
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def page(site) -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        # Only the book itself: no machine here reaches a CDN (MathJax), and a
        # reader's tab state must not depend on one.
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith(site) else route.abort())
        yield page
        browser.close()


def selected(page: Page) -> set[str]:
    return set(page.evaluate(SELECTED))


def test_query_selects_the_framework_everywhere(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html?framework=pytorch")
    assert page.locator("div.cell").count() > 20
    assert selected(page) == {"pytorch"}


def test_one_click_switches_every_tab_set_and_persists(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    page.locator("label[data-sync-id='tensorflow']").first.click()
    assert selected(page) == {"tensorflow"}
    page.reload()
    assert selected(page) == {"tensorflow"}
    page.goto(f"{site}/tr/chapters/tr/scheduler.html")
    assert selected(page) == {"tensorflow"}


def test_language_switch_keeps_the_framework(page: Page, site: str) -> None:
    page.goto(f"{site}/en/chapters/en/scheduler.html")
    page.locator("label[data-sync-id='mxnet']").first.click()
    page.locator("nav.d2l-language-switcher a[hreflang='ko']").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{site}/ko/chapters/ko/scheduler.html")
    assert "framework=mxnet" in page.url
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert selected(page) == {"mxnet"}
    # In a fresh browser (no stored choice) the link alone carries the framework
    page.evaluate("window.localStorage.clear()")
    page.goto(f"{site}/zh/chapters/zh/scheduler.html?framework=pytorch")
    page.evaluate("window.localStorage.clear()")
    page.locator("nav.d2l-language-switcher a[hreflang='pt']").click()
    page.wait_for_load_state()
    assert "framework=pytorch" in page.url
    assert selected(page) == {"pytorch"}
