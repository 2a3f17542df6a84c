"""Kernels and memory of `ctlib dashboard` after page loads and closes, and after plain requests.

(a) N page loads and closes in headless Chromium (as a visitor closes the tab): the server's
    kernel processes and their memory (RSS) before and after. Target: back to the pre-heated pool.
(b) M plain GETs of / (what a script sends; the page is never opened): kernels, memory and the
    answers' status codes. Target: at most --max-kernels visitors' kernels plus the pool; the
    requests beyond the cap get the busy page (503).

Uses data/sample. `--ctlib PATH` measures another checkout's `ctlib` (e.g. before a change).
The last line printed is a JSON object with the figures.
Run: .venv/bin/python benchmarks/bench_kernels.py [--pages N] [--requests M] [--ctlib PATH]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from conftest import (  # noqa: E402
    CHROMIUM_ARGS,
    CTLIB,
    chromium_path,
    free_port,
    kernel_processes,
    released_samples,
    server_process,
)

CHART_MARKS = ".vega-embed svg .mark-rect path, .vega-embed svg .mark-symbol path"
TIMEOUT_MS = 240_000
SETTLE_S = 30  # how long closed pages are given to release their kernels


def kernels(server) -> dict:
    rss = 0
    processes = kernel_processes(server)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += process.memory_info().rss
    return {"kernels": len(processes), "rss_mb": round(rss / 1e6)}


def settle(server, at_most: int) -> dict:
    deadline = time.monotonic() + SETTLE_S
    while len(kernel_processes(server)) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return kernels(server)


def get_status(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--ctlib", default=str(CTLIB))
    arguments = parser.parse_args()
    port = free_port()
    figures = {}
    with tempfile.TemporaryDirectory() as folder:  # the samples, released: the dashboard's data
        served = released_samples(Path(folder) / "data")
        command = [arguments.ctlib, "dashboard", str(served), "--port", str(port)]
        serve(command, port, Path(folder), figures, arguments)


def serve(command: list[str], port: int, folder: Path, figures: dict, arguments) -> None:
    """Pages loaded and closed, then plain requests, on the dashboard `command` starts."""
    with (
        server_process(folder / "dashboard.log", command, port) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context()
        for n in range(arguments.pages):
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            # drawn charts: the page's widget manager, which says goodbye on closing, is running
            page.locator(CHART_MARKS).first.wait_for(state="attached", timeout=TIMEOUT_MS)
            if n == 0:
                figures["first page open"] = kernels(server)
            page.close(run_before_unload=True)
        figures[f"after {arguments.pages} pages loaded and closed"] = settle(server, 1)
        browser.close()

        statuses = collections.Counter(get_status(port) for _ in range(arguments.requests))
        figures[f"after {arguments.requests} plain GETs"] = {
            **kernels(server),
            "statuses": dict(statuses),
        }
        figures["server rss_mb"] = round(psutil.Process(server.pid).memory_info().rss / 1e6)
    for stage, values in figures.items():
        print(f"{stage}: {values}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
