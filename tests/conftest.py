"""Shared fixtures: where the real Fashion-MNIST files are (``$D2L_DATA_DIR``), the
quick builds of the book, and the built HTML served on loopback to headless Chromium."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """Directory with the four official Fashion-MNIST .gz files, from ``$D2L_DATA_DIR``."""
    value = os.environ.get("D2L_DATA_DIR")
    if not value:
        pytest.fail("D2L_DATA_DIR is not set: point it at the Fashion-MNIST directory.")
    path = Path(value).resolve()
    if not path.is_dir():
        pytest.fail(f"D2L_DATA_DIR={value!r} is not a directory.")
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        pytest.fail(f"D2L_DATA_DIR={value!r} lacks {', '.join(missing)}.")
    return path


ROOT = Path(__file__).resolve().parent.parent


def _build_command(build_dir: Path, max_examples: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bookbuild", "--max-examples", max_examples,
            "--build-dir", str(build_dir), *extra]


@pytest.fixture(scope="session")
def builds(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Two quick builds run at the same time in their own build folders: "book", the
    whole book (every language, the suite's subset), and "other", English alone on a
    different subset. Each maps to (its build folder, its finished process)."""
    runs = {
        "book": (tmp_path_factory.mktemp("book"), os.environ["D2L_MAX_EXAMPLES"], ()),
        "other": (tmp_path_factory.mktemp("other"), "200", ("--lang", "en")),
    }
    procs = {
        name: subprocess.Popen(_build_command(d, n, *extra), cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, (d, n, extra) in runs.items()
    }
    done = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=1500)
        done[name] = (runs[name][0], subprocess.CompletedProcess(
            proc.args, proc.returncode, stdout, stderr))
    return done


@pytest.fixture(scope="session")
def build(builds) -> tuple[Path, str]:
    """The quick build of the whole book: (the HTML folder, the build's standard output)."""
    build_dir, result = builds["book"]
    log = f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    assert result.returncode == 0, f"build failed:\n{log}"
    return build_dir / "html", result.stdout


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
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
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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


@pytest.fixture(scope="session")
def colab_ipywidgets(tmp_path_factory) -> Path:
    """ipywidgets 7.7.1, the version Colab ships (and ipython_genutils, which it
    imports), installed into a folder, to go first on a kernel's PYTHONPATH."""
    from tests.chapter_code import COLAB_IPYWIDGETS

    target = tmp_path_factory.mktemp(f"ipywidgets-{COLAB_IPYWIDGETS}")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         f"ipywidgets=={COLAB_IPYWIDGETS}", "ipython_genutils==0.2.0"],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target
