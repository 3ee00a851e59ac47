"""Fixtures of the browser tests: the quick build's HTML served on loopback, and
headless Chromium driven by Playwright. Only the tests in this folder see them, and
Playwright is imported when a browser starts (the modules here name its types only for
annotations), so collecting the suite needs no Playwright: `pytest -m unit` runs where
it is not installed (requirements-unit.txt)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from bookbuild import pdf

if TYPE_CHECKING:  # Playwright is imported where a browser is driven
    from playwright.sync_api import Browser, BrowserContext, Page, Route

# Schemes that never leave the machine (a page opened from disk, inline resources).
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


@pytest.fixture(scope="module")
def site(build) -> Iterator[str]:
    """Base URL (no trailing slash) of the quick build's HTML served on 127.0.0.1;
    e.g. f"{site}/en/chapters/en/scheduler.html"."""
    html_dir, _ = build
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, one per test module (so a module
    may still start its own Playwright after this one is closed)."""
    # the Chromium and flags the build prints its PDFs with
    chromium = pdf.chromium()
    assert chromium is not None, "Chromium is missing: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=pdf.CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def new_page(browser: Browser, site: str) -> Iterator[Callable[..., Page]]:
    """Factory of fresh pages, each in its own browser context (own storage), that reach
    only the book: a request to anything but `site` (or a file:/data:/blob: URL) is
    aborted. `new_page(blocked=urls)` appends each aborted request's URL to the list
    `urls`; other keyword arguments go to `Browser.new_context` (e.g.
    `color_scheme="dark"`, `viewport={"width": 800, "height": 600}`)."""
    contexts: list[BrowserContext] = []

    def make(blocked: list[str] | None = None, **context_options) -> Page:
        context = browser.new_context(**context_options)
        contexts.append(context)

        def only_the_book(route: Route) -> None:
            url = route.request.url
            if url.startswith(site) or urlsplit(url).scheme in LOCAL_SCHEMES:
                route.continue_()
                return
            if blocked is not None:
                blocked.append(url)
            route.abort()

        # No machine here reaches a CDN, and nothing on a page may depend on one.
        context.route("**/*", only_the_book)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def page(new_page: Callable[..., Page]) -> Page:
    """One page shared by a module's tests (its storage persists between them)."""
    return new_page()
