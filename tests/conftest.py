"""Shared fixtures: paths, and a headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium; the browser tests fail (not skip) when it is missing: CI installs it."""
    path = chromium_path()
    assert path, "Debian's chromium is needed for the browser tests (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class RequestLog:
    """Records every request a page makes; requests to other hosts than this machine are blocked."""

    def __init__(self):
        self.urls: list[str] = []
        self.outside: list[str] = []

    def route(self, route):
        url = route.request.url
        self.urls.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about") or (parsed.scheme == "file" and not parsed.hostname):
            route.continue_()
        elif parsed.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture
def page(browser):
    """A fresh page whose requests outside 127.0.0.1 are blocked and listed in `page.request_log`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    log = RequestLog()
    context.route("**/*", log.route)
    page = context.new_page()
    page.request_log = log
    yield page
    context.close()
