"""Names that carry markup or formulas, from the project and a team catalogue, on every surface.

A project named with an `<img onerror=...>`, a `<script>` and an `<svg onload=...>` (its name,
donor, objective, and an indicator of its team catalogue), and an organisation written as a
spreadsheet formula: the report, the dashboard and the explorer show the names as text in
headless Chromium and run none of them; the report's xlsx holds the formula as text (the csv holds
ids and categories only; its writer's own tests attack it, tests/test_exports.py).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_DIR, ctlib_server
from test_dashboard import copy_project
from test_dashboard_browser import open_dashboard

from ctlib._cli import main
from ctlib._publish import releases

pytestmark = [pytest.mark.browser, pytest.mark.notebook]
RAN = "window.__injected"  # what every injected script sets
IMG = '<img src=x onerror="window.__injected=1">'
SCRIPT = "<script>window.__injected=2</script>"
SVG = '<svg onload="window.__injected=3">'
FORMULA = '=HYPERLINK("http://evil.example","Coast Survivors Outreach")'
NAME = f"{IMG}Coast {SCRIPT}outreach"
INDICATOR_NAME = f"Survivors {IMG} assisted at the drop-in centre"
TOKEN = "evaluator-token-for-the-tests"


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    name = "'Coast Survivors Outreach: drop-in centre and community dialogues'"
    project = copy_project(
        SAMPLE_DIR / "coast_outreach",
        folder / "coast_outreach",
        {
            name: quoted(NAME),
            "organisation: Coast Survivors Outreach (synthetic)": (
                f"organisation: {quoted(FORMULA)}"
            ),
            "donor: Small Grants Facility (synthetic)": f"donor: {quoted(SVG + 'Small Grants')}",
            "objective: Survivors": f"objective: {SCRIPT}Survivors",
        },
    )
    catalogue = project / "coast_indicators.yaml"
    text = catalogue.read_text(encoding="utf-8")
    old = "name: Survivors assisted at the drop-in centre"
    assert old in text
    catalogue.write_text(text.replace(old, f"name: {quoted(INDICATOR_NAME)}"), encoding="utf-8")
    releases.record(project, "latest")  # what a donor report records: the dashboard shows it
    return folder


@pytest.fixture(scope="module")
def reports(data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["report", "--all", str(data_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def ran_nothing(page) -> None:
    """Nothing injected ran, and the markup reads as text in the page."""
    assert page.evaluate(RAN) is None
    assert page.locator("img[src='x'], svg[onload]").count() == 0
    assert "<img src=x" in page.inner_text("body")
    assert page.request_log.outside == []


def test_the_report_shows_markup_as_text(reports, page, tmp_path):
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    [report_page] = reports.glob("coast_outreach/*/report.html")
    page.goto(report_page.as_uri())
    page.get_by_role("heading", name=f"{IMG}Coast {SCRIPT}outreach").wait_for()
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    ran_nothing(page)
    assert SCRIPT in page.inner_text("body") and "Survivors <img src=x" in page.inner_text("body")
    assert dialogs == []


def test_the_reports_xlsx_holds_the_formula_as_text(reports):
    [folder] = reports.glob("coast_outreach/*/")
    book = openpyxl.load_workbook(folder / "iptt.xlsx")
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    [organisation] = [c for c in cells if c.value == FORMULA]
    assert organisation.data_type == "s"
    assert any(c.value == INDICATOR_NAME and c.data_type == "s" for c in cells)
    with zipfile.ZipFile(folder / "iptt.xlsx") as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in archive.read(n).decode() for n in sheets)


def test_the_dashboard_shows_markup_as_text(data_dir, page, tmp_path):
    with ctlib_server(tmp_path / "dashboard.log", "dashboard", str(data_dir)) as url:
        open_dashboard(page, url)
        page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
        ran_nothing(page)


def test_the_explorer_shows_markup_as_text(data_dir, page, tmp_path):
    log = tmp_path / "explore.log"
    with ctlib_server(log, "workbook", "explore", "--token", TOKEN) as url:
        query = f"token={TOKEN}&data_dir={quote(str(data_dir))}&project=coast_outreach"
        page.goto(f"{url}/?{query}&compare_with=")
        page.get_by_text("Internal — unsuppressed").wait_for(timeout=120_000)
        page.locator(".ctlib-card", has_text="Survivors <img src=x").first.wait_for(timeout=120_000)
        page.screenshot(path=tmp_path / "explore.png", full_page=True)
        ran_nothing(page)
