"""A headless Chromium for the browser tests (Debian's ``chromium`` driven by Playwright's Python package).

Where the browser or the driver is missing the browser tests skip, saying why; under CI
(``CI=true``) a missing browser is a failure, so CI never passes without running them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    """``$ILILAB_CHROMIUM`` (when set), else ``chromium`` on the PATH; None if that is not an executable."""
    given = os.environ.get("ILILAB_CHROMIUM")
    if given is not None:
        return shutil.which(given)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session (each test gets its own fresh context and profile-less page)."""
    path = chromium_path()
    if path is None:
        _unavailable("no chromium executable (apt-get install chromium, or set ILILAB_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Opened:
    """A report open in a page, with everything the page logged or requested."""

    def __init__(self, page, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.seconds = 0.0

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def wait_for(self, expression: str, timeout: float = 15.0) -> None:
        wait_for(self.page, expression, timeout)


def wait_for(page, expression: str, timeout: float = 15.0) -> None:
    """Poll ``expression`` until it is truthy: ``page.wait_for_function`` evaluates a string with
    ``eval`` in the page when it has to poll, which the report's CSP (no 'unsafe-eval') refuses;
    ``page.evaluate`` goes through the devtools protocol, outside the page's CSP."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression!r} still false after {timeout} s")
        page.wait_for_timeout(50)


@pytest.fixture
def open_report(browser):
    """``open_report(path) -> Opened``: load a report from file:// and wait for its first render."""
    import time

    contexts = []

    def open_(path: Path, width: int = 1400, height: int = 850) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, Path(path).resolve().as_uri())
        page.on("console", lambda m: opened.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on("request", lambda r: opened.requests.append(r.url))
        start = time.perf_counter()
        page.goto(opened.url)
        wait_for(page, "window.ililabReport && window.ililabReport.ready")
        opened.seconds = time.perf_counter() - start
        return opened

    yield open_
    for context in contexts:
        context.close()
