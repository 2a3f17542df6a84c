"""The donor dashboard App driven in-process: it shows the projects' releases (recorded as donor
reports record them) and reads no data file; tiles, drafts and revisions, a project without a
release, a broken one, downloads, redraws."""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import re
import shutil
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_DIR
from test_releases import PROJECT as TINY_PROJECT
from test_releases import cases as tiny_cases

from ctlib._apps.dashboard import NOT_PUBLISHED, TABS, DonorDashboardApp
from ctlib._cli import main
from ctlib._compute.periods import ReportingCalendar
from ctlib._data.ingest import load_project_data
from ctlib._data.project_model import LIFE_OF_PROJECT
from ctlib._publish import releases

SHELTER_NAME = (
    "'Shelter and Recovery: assistance to survivors of trafficking'"  # as project.yaml writes it
)
BROKEN_NAME = "Shelter copy with a broken case file"
DUPLICATED_CASE = "C-000002"


def copy_project(source: Path, target: Path, replacements: dict[str, str] | None = None) -> Path:
    """A copy of a sample project (regular files only), with text replaced in its project.yaml."""
    shutil.copytree(
        source,
        target,
        ignore=lambda folder, names: [  # regular files and folders, no release ledger
            n
            for n in names
            if not (Path(folder, n).is_file() or Path(folder, n).is_dir()) or n == ".ctlib"
        ],
    )
    yaml_file = target / "project.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    for old, new in (replacements or {}).items():
        assert old in text
        text = text.replace(old, new)
    yaml_file.write_text(text, encoding="utf-8")
    return target


def break_cases(project_dir: Path) -> None:
    """Give the third case the second case's id:
    a row-level problem whose message quotes a case id."""
    cases = project_dir / "cases.csv"
    lines = cases.read_text(encoding="utf-8").splitlines()
    first, second = lines[2].split(",", 1)[0], lines[3].split(",", 1)[0]
    assert first == DUPLICATED_CASE
    lines[3] = lines[3].replace(second, first, 1)
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")


def release_last_quarters(project_dir: Path, approved: int = 1) -> list[str]:
    """Donor releases of the project's last two periods, in order, as reports record them: the
    earlier one approved; their labels."""
    data = load_project_data(project_dir)
    calendar = ReportingCalendar(data.project)
    latest = calendar.latest(data)
    labels = [p.label for p in calendar.periods() if p.end_date <= latest.end_date][-2:]
    for n, label in enumerate(labels):
        releases.record(project_dir, label, approve_by="M&E officer" if n < approved else None)
    return labels


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Two projects with releases (the earlier period approved), one whose data is broken (so
    no report could release it) and one whose project.yaml is."""
    folder = tmp_path_factory.mktemp("projects")
    for name in ("coast_outreach", "safe_journeys"):
        release_last_quarters(copy_project(SAMPLE_DIR / name, folder / name))
    broken = copy_project(
        SAMPLE_DIR / "shelter_and_recovery", folder / "broken_shelter", {SHELTER_NAME: BROKEN_NAME}
    )
    break_cases(broken)
    copy_project(
        SAMPLE_DIR / "justice_for_survivors",
        folder / "bad_settings",
        {"- id: PROS-15\n": "- id: PROS-999\n"},
    )
    return folder


@pytest.fixture(scope="module")
def app(data_dir) -> DonorDashboardApp:
    return DonorDashboardApp(data_dir)


@functools.cache
def sample_case_ids() -> frozenset[str]:
    """Every case id of the sample projects."""
    ids = set()
    for project_dir in sorted(SAMPLE_DIR.iterdir()):
        tables = load_project_data(project_dir).tables
        ids |= set(tables["cases"]["case_id"].dropna()) if "cases" in tables else set()
    assert DUPLICATED_CASE in ids and len(ids) > 100
    return frozenset(ids)


def donor_results(project_dir: Path) -> pd.DataFrame:
    """A project's published life-of-project totals, read from its ledger here."""
    table = releases.published(project_dir).table
    return table[(table["dimension"] == "total") & (table["period"] == LIFE_OF_PROJECT)].set_index(
        "indicator_id"
    )


def tiles(app: DonorDashboardApp) -> dict[str, str]:
    """Tile title -> the text of its value."""
    tile = r"ctlib-tile-title'>([^<]+)</div><div class='ctlib-tile-value'>(.*?)</div>"
    found = re.findall(tile, app.portfolio.value)
    return {title: re.sub(r"<[^>]+>", "", value).replace("&lt;", "<") for title, value in found}


def page_text(app: DonorDashboardApp) -> str:
    """Everything the page would receive: every HTML widget's value and the chart's spec."""
    htmls = [app.portfolio.value, app.downloads.value, app.table.value, app.footer.value]
    return "\n".join(htmls) + json.dumps(app.chart.spec)


def downloads(app: DonorDashboardApp) -> dict[str, bytes]:
    links = re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", app.downloads.value)
    return {name: base64.b64decode(payload) for name, payload in links}


def count_cells(text: str) -> list[tuple[float, int]]:
    """(value, k) of every displayed count of people or events."""
    return [
        (float(value.replace(",", "")), int(k))
        for k, value in re.findall(
            r"<span class='ctlib-count' data-k='(\d+)'>([\d,.]+)</span>", text
        )
    ]


def test_tiles_sum_the_suppressed_life_of_project_totals(app, data_dir):
    safe = donor_results(data_dir / "safe_journeys")
    shown = tiles(app)
    assert shown["Projects"] == "2"
    assert shown["People reached by prevention work"] == f"{safe.at['PREV-01', 'value']:,.0f}"
    assert (
        shown["People trained"]
        == f"{safe.at['PREV-08', 'value'] + safe.at['PREV-16', 'value']:,.0f}"
    )
    assert shown["Survivors assisted"] == "not measured"  # only the broken project measures it


@pytest.mark.parametrize("k", [300, 20000])
def test_tiles_leave_out_hidden_figures_and_hide_small_totals(tmp_path, k):
    project = copy_project(
        SAMPLE_DIR / "safe_journeys",
        tmp_path / "safe_journeys",
        {"min_cell_size: 5": f"min_cell_size: {k}"},
    )
    releases.record(project, "latest")
    life = donor_results(project)
    app = DonorDashboardApp(tmp_path)
    shown = tiles(app)
    trained = life.loc[["PREV-08", "PREV-16"]]
    assert trained["suppressed"].any()
    visible = trained["value"].sum()
    assert shown["People trained"] == (f"{visible:,.0f}" if visible >= k else f"<{k}")
    assert all(value == 0 or value >= k for value, _ in count_cells(app.portfolio.value))


def test_a_project_without_a_release_says_so_and_a_broken_one_is_listed_with_its_problem(app):
    assert [v.folder for v in app.shown] == ["coast_outreach", "safe_journeys"]
    notice, cards = app.portfolio.value.split("<div class='ctlib-cards'>", 1)
    assert BROKEN_NAME not in notice and BROKEN_NAME in cards  # its data is not the dashboard's
    unpublished = cards[cards.index(BROKEN_NAME) :].split("</div></div>", 1)[0]
    assert html.escape(NOT_PUBLISHED) in unpublished and "could not" not in unpublished
    assert "bad_settings" in notice and "could not be read" in cards
    assert "project.yaml: the check “indicator id” did not pass" in cards
    assert "PROS-999" not in page_text(app) and DUPLICATED_CASE not in page_text(app)
    assert "1 more could not be read; 1 more not published yet" in app.portfolio.value
    options = [label for label, _ in app.project.options]
    assert BROKEN_NAME not in options and "bad_settings" not in options


def test_no_case_id_reaches_the_page_or_the_downloads(app):
    case_ids = sample_case_ids()
    for project in [folder for _, folder in app.project.options]:
        app.project.value = project
        for tab in range(len(TABS)):
            app.tabs.selected_index = tab
            text = page_text(app)
            assert not [i for i in case_ids if i in text]
        files = downloads(app)
        csv_text = next(data for name, data in files.items() if name.endswith(".csv")).decode()
        xlsx = openpyxl.load_workbook(
            io.BytesIO(next(d for n, d in files.items() if n.endswith(".xlsx")))
        )
        cells = " ".join(
            str(c) for sheet in xlsx for row in sheet.iter_rows(values_only=True) for c in row
        )
        assert not [i for i in case_ids if i in csv_text or i in cells]


def test_downloads_hold_the_selection_suppressed(app):
    app.project.value = "safe_journeys"
    app.period.value = "2025-Q4"  # a quarter with small counts of people (hidden)
    files = downloads(app)
    assert set(files) == {
        "safe_journeys_iptt_2026-Q3.xlsx",
        f"safe_journeys_results_{app.period.value}.csv",
    }
    results = pd.read_csv(io.BytesIO(files[f"safe_journeys_results_{app.period.value}.csv"]))
    assert set(results["period"]) == {app.period.value} and set(results["audience"]) == {"donor"}
    hidden = results[results["suppressed"]]
    assert len(hidden) and hidden[["value", "numerator", "denominator"]].isna().all().all()
    sheets = openpyxl.load_workbook(io.BytesIO(files["safe_journeys_iptt_2026-Q3.xlsx"])).sheetnames
    assert sheets == ["Prevention", "Protection", "Prosecution", "Partnership", "Notes"]


def test_counts_shown_are_never_below_k(app):
    seen = 0
    for project in [folder for _, folder in app.project.options]:
        app.project.value = project
        for _, period in app.period.options:
            app.period.value = period
            for tab in range(len(TABS)):
                app.tabs.selected_index = tab
                cells = count_cells(page_text(app))
                assert all(value == 0 or value >= k for value, k in cells)
                seen += len(cells)
    assert seen > 100


def test_selectors_redraw_tables_chart_downloads_and_footer(app):
    app.tabs.selected_index = 0
    app.project.value = "safe_journeys"
    app.period.value = "2026-Q1"
    before = (app.table.value, json.dumps(app.chart.spec), app.downloads.value)
    app.project.value = "coast_outreach"
    after = (app.table.value, json.dumps(app.chart.spec), app.downloads.value)
    assert all(b != a for b, a in zip(before, after))
    assert "Coast Survivors Outreach" in app.footer.value and "CSO-02" in app.table.value
    assert app.period.value == "2026-Q1"  # kept: the new project has it too
    assert (
        app.period.options[0] == ("2026-Q3 (Jul–Sep 2026, latest, draft)", "2026-Q3")
        and app.period.options[1] == ("2026-Q2 (Apr–Jun 2026)", "2026-Q2")  # approved
        and app.period.options[2] == ("2026-Q1 (Jan–Mar 2026, draft)", "2026-Q1")
        and app.period.options[-1] == ("life of project to date (draft)", LIFE_OF_PROJECT)
    )

    app.period.value = "2025-Q2"
    assert "2025-Q2" in json.dumps(app.chart.spec["hconcat"][0]["title"])
    assert "2025-Q2" in app.footer.value

    app.indicator.value = "CSO-03"
    assert "CSO-03" in json.dumps(app.chart.spec["hconcat"][1]["title"])

    app.tabs.selected_index = TABS.index("disaggregation")
    assert app.indicator.description == "Breakdown of" and "facet" in app.chart.spec
    assert app.side_by_side in app.pages[TABS.index("disaggregation")].children
    assert app.chart in app.side_by_side.children
    assert app.chart not in app.pages[0].children


def test_cli_dashboard_refuses_a_missing_data_folder(tmp_path):
    result = CliRunner().invoke(main, ["dashboard", str(tmp_path / "nowhere"), "--port", "1"])
    assert result.exit_code == 2 and "No data folder" in result.output


def test_a_folder_without_projects_says_so(tmp_path):
    app = DonorDashboardApp(tmp_path)
    assert tiles(app)["Projects"] == "0"
    assert "holds no project folder" in app.portfolio.value


def test_a_project_opens_on_its_first_measured_pillar(app):
    app.project.value = "coast_outreach"
    app.tabs.selected_index = TABS.index("protection")
    app.project.value = "safe_journeys"  # measures prevention and partnership, no protection
    assert TABS[app.tabs.selected_index] == "prevention"
    assert "measures no" not in app.table.value
    app.tabs.selected_index = TABS.index("partnership")
    app.project.value = "coast_outreach"  # measures partnership too: the tab is kept
    assert TABS[app.tabs.selected_index] == "partnership"


def test_donors_narrow_the_portfolio_by_donor_country_and_pillar(data_dir, monkeypatch):
    monkeypatch.setenv(
        "QUERY_STRING", "donor=Global%20Fund%20for%20Safer%20Migration%20(synthetic)"
    )
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    app = DonorDashboardApp.for_page(data_dir)
    assert [v.folder for v in app.shown] == ["safe_journeys"]
    assert [folder for _, folder in app.project.options] == ["safe_journeys"]
    assert "1 projects (of 4)" in app.portfolio.value
    cards = app.portfolio.value.split("<div class='ctlib-cards'>", 1)[1]
    assert "Safe Journeys" in cards and "Coast Survivors Outreach" not in cards
    assert BROKEN_NAME in cards and "bad_settings" in cards  # listed, without figures
    app.donor.value = ""
    app.pillar.value = "protection"
    assert [v.folder for v in app.shown] == ["coast_outreach"]
    assert TABS[app.tabs.selected_index] == "protection"
    app.pillar.value = ""
    app.country.value = "NP"
    assert [v.folder for v in app.shown] == ["safe_journeys"]


# -- releases, not live data ---------------------------------------------------------------------
_OPENED: list[str] | None = None  # the files opened while a test watches (an audit hook)


def _audit(event: str, args: tuple) -> None:
    """Files opened by Python (`open`) and databases by SQLite (`sqlite3.connect`)."""
    if event in ("open", "sqlite3.connect") and _OPENED is not None:
        if isinstance(args[0], (str, Path)):
            _OPENED.append(str(Path(args[0]).absolute()))


@functools.cache
def _watching() -> None:
    sys.addaudithook(_audit)  # once per process: audit hooks cannot be removed


def opened_while(make) -> tuple[object, list[str]]:
    """What `make()` returns, and every file it opened."""
    global _OPENED
    _watching()
    _OPENED = []
    try:
        return make(), _OPENED
    finally:
        _OPENED = None


@pytest.fixture
def revised(tmp_path, monkeypatch) -> Path:
    """The tiny shelter of test_releases: 2025-Q1 released and approved, then a case re-classified,
    2025-Q1 revised with a note and 2025-Q2 released; then its data file is deleted."""
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    project = tmp_path / "data" / "tiny"
    project.mkdir(parents=True)
    (project / "project.yaml").write_text(TINY_PROJECT)
    (project / "cases.csv").write_text(tiny_cases({"2025-02": (6, 7), "2025-05": (8, 9)}))
    releases.record(project, "2025-Q1", approve_by="M&E officer")
    (project / "cases.csv").write_text(tiny_cases({"2025-02": (5, 8), "2025-05": (8, 9)}))
    releases.revise(project, "2025-Q1", note="a case re-classified", by="M&E officer")
    releases.record(project, "2025-Q2")
    (project / "cases.csv").unlink()
    return project


def test_the_dashboard_shows_the_releases_and_opens_no_data_file(revised):
    app, opened = opened_while(lambda: DonorDashboardApp(revised.parent))
    inside = {Path(p).relative_to(revised).as_posix() for p in opened if p.startswith(str(revised))}
    assert inside <= {"project.yaml", ".ctlib/releases.sqlite"}
    assert "project.yaml" in inside and ".ctlib/releases.sqlite" in inside
    assert [label for label, _ in app.period.options] == [
        "2025-Q2 (Apr–Jun 2025, latest, draft)",
        "2025-Q1 (Jan–Mar 2025)",
        "life of project to date (draft)",
    ]
    app.period.value = "2025-Q1"
    app.tabs.selected_index = TABS.index("disaggregation")
    breakdown = app.table.value
    female = breakdown[breakdown.index("female") :].split("</tr>", 1)[0]
    assert ">5</span>" in female and "Revised: a case re-classified" in female
    assert "revised" in app.footer.value
    app.period.value = "2025-Q2"  # female 8, male 9: nothing hidden, nothing revised
    assert "ctlib-revised" not in app.table.value and "ctlib-hidden" not in app.table.value
    published = releases.published(revised).table
    q1 = published[(published["period"] == "2025-Q1") & (published["dimension"] == "total")]
    assert q1["value"].tolist() == [13.0] and not q1["is_draft"].any()


def test_labels_say_why_a_figure_is_hidden(tmp_path, monkeypatch):
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    project = tmp_path / "data" / "tiny"
    project.mkdir(parents=True)
    (project / "project.yaml").write_text(TINY_PROJECT)
    (project / "cases.csv").write_text(tiny_cases({"2025-02": (2, 9)}))
    releases.record(project, "2025-Q1")
    app = DonorDashboardApp(project.parent)
    app.tabs.selected_index = TABS.index("disaggregation")
    cells = dict(re.findall(r"<td>(female|male)</td><td class=\"num\">(.*?)</td>", app.table.value))
    assert ">&lt;5</span>" in cells["female"] and "fewer than 5 people" in cells["female"]
    assert ">hidden</span>" in cells["male"] and "may itself be 5 or more" in cells["male"]
