"""The donor dashboard as `ctlib dashboard` serves it, driven in headless Chromium
(requests off 127.0.0.1 blocked)."""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR, ctlib_server, released_samples
from test_dashboard import SHELTER_NAME, break_cases, copy_project, sample_case_ids

from ctlib._data.project import load_project_file

pytestmark = pytest.mark.browser
LOAD_TIMEOUT_MS = 240_000  # the pre-heated kernel computes every project before the first page
CHART_MARKS = ".vega-embed svg .mark-rect path, .vega-embed svg .mark-symbol path"
TOKEN = "s3cret-donor-token"
# What a file or contents API would answer (paths relative to the server's folder, the checkout)
FILE_PATHS = [
    "/api/contents",
    "/api/contents/data/sample",
    "/api/kernels",
    "/tree",
    "/voila/tree",
    "/voila/render/donor_dashboard.ipynb",
    "/files/data/sample/shelter_and_recovery/cases.csv",
    "/voila/files/donor_dashboard.ipynb",
    "/voila/files/../data/sample/shelter_and_recovery/cases.csv",
    "/voila/files/%2E%2E/data/sample/shelter_and_recovery/project.yaml",
    "/data/sample/shelter_and_recovery/cases.csv",
    "/notebooks/donor_dashboard.ipynb",
]


def dashboard(data_dir: Path, log_path: Path, *options: str):
    """`ctlib dashboard data_dir` on a free port until the end; yields its base URL."""
    return ctlib_server(log_path, "dashboard", str(data_dir), *options)


def get(base_url: str, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """One GET (redirects not followed): status, headers, body."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return (
            response.status,
            dict(response.getheaders()),
            response.read().decode("utf-8", "replace"),
        )
    finally:
        connection.close()


def final_status(base_url: str, path: str, headers: dict | None = None) -> tuple[int, str]:
    """Status and body at the end of the redirects (on this server only)."""
    sent = headers
    for _ in range(5):
        status, headers, body = get(base_url, path, sent)
        if status not in (301, 302, 303, 307, 308):
            return status, body
        path = headers["Location"].removeprefix(base_url)
        assert path.startswith("/"), f"redirected off the server: {path}"
    raise AssertionError(f"too many redirects for {path}")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """The sample projects, each with a release of its latest period, and a broken copy of one
    (no report could release it)."""
    folder = released_samples(tmp_path_factory.mktemp("projects"))
    broken = copy_project(
        SAMPLE_DIR / "shelter_and_recovery",
        folder / "zz_broken_copy",
        {SHELTER_NAME: "Broken copy"},
    )
    break_cases(broken)
    return folder


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with dashboard(data_dir, tmp_path_factory.mktemp("logs") / "dashboard.log") as url:
        yield url


def open_dashboard(page, url: str) -> None:
    page.goto(url, timeout=LOAD_TIMEOUT_MS)  # a busy machine serves the first page slowly
    page.get_by_role("heading", name="Donor dashboard: counter-trafficking projects").wait_for(
        timeout=LOAD_TIMEOUT_MS
    )
    page.locator(CHART_MARKS).first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)


def visible_table(page) -> str:
    return page.locator(".widget-tab .ctlib-table:visible").first.inner_text()


def counts_shown(page) -> int:
    """How many counts of people the page shows;
    each is 0 or at least its project's k (5 or 11 here)."""
    counts = page.eval_on_selector_all(
        ".ctlib-count", "cells => cells.map(c => [c.textContent, c.dataset.k])"
    )
    for text, k in counts:
        value = float(text.replace(",", ""))
        assert value == 0 or value >= int(k) >= 5, (text, k)
    return len(counts)


def chart_text(page) -> str:
    return " ".join(page.locator(".vega-embed svg text").all_text_contents())


def test_the_dashboard_draws_offline_and_shows_no_case_data(page, server, tmp_path):
    open_dashboard(page, server)
    page.screenshot(path=tmp_path / "dashboard.png")
    assert page.title() == "Donor dashboard: counter-trafficking projects"
    card = page.locator(".ctlib-card", has_text="Broken copy")
    assert "No figures have been published for this project yet" in card.inner_text()

    content = page.content()
    assert not [case_id for case_id in sample_case_ids() if case_id in content]
    assert counts_shown(page) >= 5  # counts of people: the tiles and the first tab's table
    assert page.request_log.outside == []


def test_changing_the_project_changes_the_values_and_the_chart(page, server, tmp_path):
    open_dashboard(page, server)
    before_table, before_chart = visible_table(page), chart_text(page)
    assert "CSO-02" in before_table  # Coast Survivors Outreach comes first

    safe_journeys = load_project_file(SAMPLE_DIR / "safe_journeys").project.project.name
    page.get_by_label("Project", exact=True).select_option(label=safe_journeys)
    page.locator(".vega-embed svg text", has_text="PREV-01").first.wait_for(timeout=30_000)
    page.locator(CHART_MARKS).first.wait_for(state="attached")
    after_table = visible_table(page)
    assert "PREV-01" in after_table and "CSO-02" not in after_table
    assert chart_text(page) != before_chart
    page.screenshot(path=tmp_path / "safe_journeys.png")

    page.get_by_role("tab", name="Disaggregation").click()
    page.locator(".vega-embed svg text", has_text="target group").first.wait_for(timeout=30_000)
    assert counts_shown(page) > 10
    page.screenshot(path=tmp_path / "disaggregation.png")
    assert page.request_log.outside == []


@pytest.mark.parametrize("path", FILE_PATHS)
def test_no_file_or_folder_is_served(server, data_dir, path):
    path = (
        path.replace("data/sample", str(data_dir).lstrip("/"))
        if path.startswith("/api/contents/")
        else path
    )
    status, body = final_status(server, path)
    assert status in (403, 404), (path, status)
    assert "case_id" not in body and "C-000001" not in body and "min_cell_size" not in body


def test_it_listens_on_127_0_0_1_only(server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(
            ("198.51.100.1", 9)
        )  # no packet is sent: this only picks the outward interface
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address but loopback")
    port = int(server.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection((address, port), timeout=5):
        pass


def test_with_a_token_the_dashboard_refuses_requests_without_it(page, data_dir, tmp_path):
    with dashboard(data_dir, tmp_path / "dashboard.log", "--token", TOKEN) as url:
        status, headers, _ = get(url, "/")
        assert status in (401, 403) or (status == 302 and "/login" in headers["Location"])
        status, headers, _ = get(url, "/?token=wrong")
        assert status in (401, 403) or (status == 302 and "/login" in headers["Location"])
        assert get(url, "/api/kernels")[0] in (302, 401, 403)

        open_dashboard(
            page, f"{url}/?token={TOKEN}"
        )  # the kernel's websocket works with the token's cookie
        page.screenshot(path=tmp_path / "with_token.png")
    assert page.request_log.outside == []
