"""Shared fixtures: paths, and a headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}
# A Voilà page loads once its notebook has run: the first of a server waits for a whole kernel
NAVIGATION_TIMEOUT_MS = 240_000
CTLIB = Path(sys.executable).with_name("ctlib")
# The reference-sheet (PIRS) fields every catalogue entry carries, for test entries
PIRS_FIELDS = {
    "counts": "people",
    "counting_unit": "one person",
    "double_counting": "each person once",
    "collected_by": "case workers",
    "reported_by": "the M&E officer",
    "collection_timing": "continuously",
    "reporting_lag": "30 days",
    "data_limitations": "none known",
    "target_rationale": "planned capacity",
    "baseline_timeframe": "the year before",
    "change_log": [{"date": "2026-12-01", "change": "added"}],
}
PIRS_YAML = (
    "".join(f"  {name}: {value}\n" for name, value in PIRS_FIELDS.items() if name != "change_log")
    + "  change_log: [{date: 2026-12-01, change: added}]\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server_process(log_path: Path, command: list[str], port: int, cwd: Path = REPO):
    """`command` (a Voilà server on `port`, started in `cwd`) until the end; yields the process
    once the port answers."""
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=1),
                ):
                    break
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            yield server
        finally:
            server.terminate()
            server.wait(timeout=30)


@contextlib.contextmanager
def ctlib_server_process(log_path: Path, *arguments: str, ctlib: Path = CTLIB, cwd: Path = REPO):
    """`ctlib ARGUMENTS --port P` on a free port until the end; yields its base URL and process.

    `ctlib` is the command to run (default: this venv's), started in `cwd`."""
    port = free_port()
    command = [str(ctlib), *arguments, "--port", str(port)]
    with server_process(log_path, command, port, cwd) as server:
        yield f"http://127.0.0.1:{port}", server


@contextlib.contextmanager
def ctlib_server(log_path: Path, *arguments: str, ctlib: Path = CTLIB, cwd: Path = REPO):
    """`ctlib ARGUMENTS --port P` (a Voilà server) on a free port until the end;
    yields its base URL."""
    with ctlib_server_process(log_path, *arguments, ctlib=ctlib, cwd=cwd) as (url, _):
        yield url


def kernel_processes(server: subprocess.Popen) -> dict:
    """The Python kernels the server process has started that still run: process -> command line."""
    import psutil

    kernels = {}
    for child in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # gone, or a zombie not yet reaped
            command = " ".join(child.cmdline())
            if "ipykernel_launcher" in command and child.status() != psutil.STATUS_ZOMBIE:
                kernels[child] = command
    return kernels


def working_tree_copy(target: Path) -> Path:
    """The checkout's files as a fresh clone would have them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() or source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name, follow_symlinks=False)
    return target


def one_cell_notebook(path: Path, source: str) -> Path:
    """A notebook of one code cell on the python3 kernel."""
    import nbformat

    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, path)
    return path


NO_LEDGER = shutil.ignore_patterns(".ctlib")  # copies of samples never carry a checkout's releases


def released_samples(folder: Path, names=None) -> Path:
    """Copies of the sample projects in `folder`, each with a donor release of its latest period
    recorded in its ledger (what `ctlib report` records), for the pages that show releases."""
    from ctlib._publish import releases

    for name in names or sorted(p.name for p in SAMPLE_DIR.iterdir()):
        shutil.copytree(SAMPLE_DIR / name, folder / name, ignore=NO_LEDGER)
        releases.record(folder / name, "latest")
    return folder


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


BROWSER_SKIP = (
    "browser tests skipped: Debian's chromium is not installed; run `make test` as root "
    "(it installs chromium with apt-get) or `apt-get install chromium`"
)
ODK_VALIDATE_SKIP = (
    "ODK Validate tests skipped: no Java to run it; run them through `scripts/test-environment`, "
    "as `make test` does (it installs Debian's default-jre-headless), or `apt-get install "
    "default-jre-headless`"
)
POSTGRES_SKIP = (
    "database tests skipped: no PostgreSQL server (CTLIB_TEST_POSTGRES_URL is not set); run them "
    "through `scripts/test-environment`, as `make test` does, or set it to your own server's URL"
)


def pytest_collection_modifyitems(config, items):
    """Without Chromium the browser tests skip (never fail), counted in one summary line."""
    if not chromium_path():
        skip = pytest.mark.skip(reason=BROWSER_SKIP)
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """One line per missing part that made tests skip: why, and how to run them."""
    reasons = [
        report.longrepr[2].removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple)
    ]
    for reason in (BROWSER_SKIP, POSTGRES_SKIP, ODK_VALIDATE_SKIP):
        if reason in reasons:
            count = reasons.count(reason)
            terminalreporter.write_line(f"{reason} ({count} skipped)", yellow=True)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Debian's package); browser tests skip when it is missing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def odk_validate() -> bool:
    """True: pyxform's ODK Validate (Java) can check forms;
    the tests that need it skip otherwise."""
    if not shutil.which("java"):
        pytest.skip(ODK_VALIDATE_SKIP)
    return True


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of the throwaway PostgreSQL server that scripts/test-environment started."""
    url = os.environ.get("CTLIB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP)
    return url


class RequestLog:
    """Records every request a page makes; requests to other hosts than this machine are blocked."""

    def __init__(self):
        self.urls: list[str] = []
        self.outside: list[str] = []

    def route(self, route):
        url = route.request.url
        self.urls.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about") or (
            parsed.scheme == "file" and not parsed.hostname
        ):
            route.continue_()
        elif parsed.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture
def page(browser):
    """A fresh page whose requests outside 127.0.0.1 are blocked
    and listed in `page.request_log`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    log = RequestLog()
    context.route("**/*", log.route)
    page = context.new_page()
    page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page.request_log = log
    yield page
    context.close()
