"""Kernels are released: closed pages shut theirs down, idle ones are culled, and a cap holds.

Every page a Voilà server serves runs a Python kernel of about 350 MB. These tests count the
server's kernel processes after page loads and closes in headless Chromium, and after plain
requests that never open the page (what a script, or anyone who reaches the port, sends).
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import (
    NAVIGATION_TIMEOUT_MS,
    SAMPLE_DIR,
    ctlib_server_process,
    kernel_processes,
    released_samples,
)
from test_dashboard_browser import TOKEN, get, open_dashboard

pytestmark = pytest.mark.browser
POOL = 1  # the dashboard keeps one kernel pre-heated for the next visitor
PAGES = 3
BUSY = "try again in a minute"


def kernel_ids(server) -> set[str]:
    """The ids of the server's running kernels (each kernel's connection file is named after it)."""
    return {
        match.group(1)
        for command in kernel_processes(server).values()
        if (match := re.search(r"kernel-([0-9a-f-]{36})\.json", command))
    }


def settled(server, at_most: int, timeout_s: float = 90) -> set[str]:
    """The server's kernel ids once they are down to `at_most`.

    Or as they are after `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while len(ids := kernel_ids(server)) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return ids


def page_kernel_id(html: str) -> str:
    """The kernel id a Voilà page connects to (in its jupyter-config-data)."""
    config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(config.group(1))["kernelId"]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """Two sample projects with a release each: the dashboard shows releases."""
    return released_samples(
        tmp_path_factory.mktemp("released"), ["coast_outreach", "safe_journeys"]
    )


def dashboard(tmp_path, data_dir: Path, *options: str):
    return ctlib_server_process(tmp_path / "dashboard.log", "dashboard", str(data_dir), *options)


@pytest.mark.parametrize("token", [None, TOKEN], ids=["no token", "token"])
def test_closed_pages_shut_their_kernels_down(browser, released, tmp_path, token):
    options = ("--token", token) if token else ()
    query = f"/?token={token}" if token else "/"
    with dashboard(tmp_path, released, *options) as (url, server):
        context = browser.new_context()
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        visited = []
        for _ in range(PAGES):
            page = context.new_page()
            open_dashboard(page, url + query)
            visited.append(page_kernel_id(page.content()))
            assert visited[-1] in kernel_ids(server)
            page.close(run_before_unload=True)  # as closing the tab does: the page says goodbye
        left = settled(server, POOL)
        context.close()
    assert not left & set(visited), "a closed page's kernel is still running"
    assert len(left) <= POOL
    log = (tmp_path / "dashboard.log").read_text()
    assert "_xsrf" not in log and "403 POST" not in log


def test_kernels_of_requests_that_never_open_the_page_are_culled(released, tmp_path):
    with dashboard(tmp_path, released, "--idle-timeout", "3") as (url, server):
        status, _, html = get(url, "/")
        assert status == 200
        kernel = page_kernel_id(html)
        assert kernel in kernel_ids(server)  # alive once the page is sent: its idle time starts now
        left = settled(server, POOL)
    assert kernel not in left and len(left) <= POOL


def test_a_page_left_open_and_unused_loses_its_kernel(page, released, tmp_path):
    with dashboard(tmp_path, released, "--open-idle-timeout", "4") as (url, server):
        open_dashboard(page, url)
        kernel = page_kernel_id(page.content())
        left = settled(server, POOL)
        assert not page.is_closed()
    assert kernel not in left and len(left) <= POOL


def test_requests_beyond_the_cap_get_the_busy_page(page, released, tmp_path):
    with dashboard(tmp_path, released, "--max-kernels", "2") as (url, server):
        answers = [get(url, "/") for _ in range(4)]
        assert [status for status, _, _ in answers] == [200, 200, 503, 503]
        assert len(kernel_ids(server)) <= 2 + POOL
        _, headers, body = answers[-1]
        assert BUSY in body and "Traceback" not in body and headers["Retry-After"] == "60"

        response = page.goto(url)
        assert response.status == 503
        page.get_by_role("heading", name=re.compile("Busy")).wait_for()
        page.screenshot(path=tmp_path / "busy.png")
        assert len(kernel_ids(server)) <= 2 + POOL
    assert page.request_log.outside == []


def test_simultaneous_requests_beyond_the_cap_of_a_workbook_get_the_busy_page(tmp_path):
    query = f"/?token={TOKEN}&data_dir={quote(str(SAMPLE_DIR))}"
    log = tmp_path / "explore.log"
    options = ("--token", TOKEN, "--max-kernels", "1")
    with ctlib_server_process(log, "workbook", "explore", *options) as (url, server):
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda _: get(url, query), range(3)))
        assert sorted(status for status, _, _ in answers) == [200, 503, 503]
        assert len(kernel_ids(server)) == 1
        assert all(BUSY in body for status, _, body in answers if status == 503)
