"""report.html in headless Chromium with the network cut: charts drawn, nothing fetched."""

from __future__ import annotations

import pytest
from test_report import sample_batch

from ctlib._publish import report

pytestmark = [pytest.mark.browser, pytest.mark.notebook]


@pytest.fixture(scope="session")
def batch(tmp_path_factory):
    return sample_batch(tmp_path_factory)


def test_report_draws_its_charts_offline(batch, page, tmp_path):
    html = batch["folders"]["shelter_and_recovery"] / "report.html"
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    assert page.request_log.outside == []
    assert page.locator("h1").inner_text().startswith("Shelter and Recovery")
    charts = page.locator('figure.chart svg[role="img"]')
    assert charts.count() >= 6
    assert page.locator('figure.chart svg path[aria-roledescription="bar"]').count() > 20
    first = charts.first.bounding_box()
    assert first["width"] > 200 and first["height"] > 100
    labels = page.locator("figure.chart svg").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('aria-label'))"
    )
    assert all(label and len(label) > 40 for label in labels)
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_index_opens_offline(batch, page):
    page.goto((batch["out_dir"] / "index.html").as_uri())
    assert page.request_log.outside == []
    assert page.locator("td.failed").count() == 1
    page.locator("a", has_text="report.html").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/report.html") and page.request_log.outside == []


def test_pdf_prints_with_the_local_chromium(batch, tmp_path):
    html = batch["folders"]["safe_journeys"] / "report.html"
    assert report.print_pdf(html, tmp_path / "report.pdf") is None
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"
