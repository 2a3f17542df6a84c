"""The presentation layer: how figures read, and that every surface reads them the same.

A tiny tally project reports one indicator of each unit (a score of 7.333, a share of 45.26 %, a
rate, a yes/no milestone, a count of 12, one of 3, hidden for donors, and one its source wrote as
"<5"). The report, the dashboard, the CLI, the explorer, the xlsx and the charts must all write
them as the presentation does: 7.33 · 45.3% · 0.12 · yes · 12 · <5 · <5 (source).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import textwrap

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from ctlib import DonorDashboardApp, ExploreApp
from ctlib._cli import main
from ctlib._compute.periods import Period
from ctlib._errors import Problem
from ctlib._publish import charts, releases
from ctlib._publish.exports import write_iptt_xlsx
from ctlib._publish.presentation import Presentation
from ctlib._publish.report_sections import prepare
from ctlib._publish.views import iptt

PERIOD = "2026-Q1"
UNITS = {  # indicator -> (unit, reported value, how every surface writes it for donors)
    "TST-SCORE": ("score", 7.333, "7.33"),
    "TST-SHARE": ("percent", 45.26, "45.3%"),
    "TST-RATE": ("rate", 0.1234, "0.12"),
    "TST-YES": ("yes_no", 1, "yes"),
    "TST-COUNT": ("count", 12, "12"),
    "TST-FEW": ("count", 3, "<5"),
    "TST-SRC": ("count", "<5", "<5 (source)"),  # suppressed by the tally sheet itself
}


def _entry(indicator_id: str, unit: str) -> str:
    return textwrap.dedent(f"""\
        - id: {indicator_id}
          name: Test indicator {indicator_id.lower()}
          pillar: protection
          area: case management
          level: output
          unit: {unit}
          direction: increase
          definition: A figure the team reports on its tally sheet.
          rationale: Tests how figures read.
          data_source: Tally sheet.
          frequency: quarterly
          counts: people
          counting_unit: one person
          double_counting: Counted once per quarter.
          collected_by: Staff, on the tally sheet
          reported_by: The coordinator
          collection_timing: Each quarter
          reporting_lag: 15 days
          data_limitations: None known.
          target_rationale: The workplan.
          baseline_timeframe: The quarter before the project.
          change_log: [{{date: 2026-01-01, change: Added for the test.}}]
          method:
            measure: reported
          rollup: {"sum" if unit == "count" else "latest"}
        """)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A data folder holding one tally project with an indicator of each unit."""
    data_dir = tmp_path_factory.mktemp("data")
    folder = data_dir / "units"
    folder.mkdir()
    (folder / "team.yaml").write_text("".join(_entry(i, u) for i, (u, _, _) in UNITS.items()))
    indicators = "".join(
        f"- id: {i}\n  targets: {{{PERIOD}: {v * 2 if not isinstance(v, str) else 10}}}\n"
        for i, (_, v, _) in UNITS.items()
    )
    (folder / "project.yaml").write_text(
        textwrap.dedent("""\
        project:
          id: units
          name: Units test
          organisation: Test NGO
          donor: Test donor
          country: KE
          start_date: 2026-01-01
          end_date: 2026-12-31
        results_chain:
          objective: Figures read the same everywhere.
        catalogue: team.yaml
        sources:
          reported_values:
            file: tally.csv
        indicators:
        """)
        + indicators
    )
    rows = "".join(f"{i},{PERIOD},{v}\n" for i, (_, v, _) in UNITS.items())
    (folder / "tally.csv").write_text("indicator_id,period,value\n" + rows)
    return folder


def test_numbers_units_and_hidden_cells():
    shown = Presentation(k=5)
    assert [shown.number(v, u) for u, v, _ in list(UNITS.values())[:4]] == [
        "7.33",
        "45.3%",
        "0.12",
        "yes",
    ]
    assert shown.number(2315, "count") == "2,315" and shown.number(None, "count") == ""
    assert shown.value(3, "count", is_hidden=True) == "<5"
    assert shown.value(30.0, "percent", is_hidden=True) == "hidden (<5)"
    assert shown.value(float("nan"), "count") == "no data"
    assert shown.target(5, "count", "decrease") == "at most 5" and shown.target(None, "count") == ""
    assert shown.achievement(84.6) == "85%" and shown.achievement(None) == ""


def test_a_hidden_figure_reads_as_what_it_hides():
    shown = Presentation(k=5)
    assert shown.value(None, "count", True, reason="primary") == "<5"
    assert shown.value(None, "percent", True, reason="primary") == "hidden (<5)"
    assert shown.value(None, "count", True, reason="complementary") == "hidden"  # may be 8 or 10
    assert shown.value(None, "percent", True, reason="complementary") == "hidden"
    assert shown.value(None, "count", True, "source_suppressed", "<5", "source") == "<5 (source)"
    assert shown.value(None, "count", True, "source_suppressed", "x", "source") == "x (source)"
    assert shown.value(None, "count", False, "source_suppressed", "<5") == "<5 (source)"  # internal
    cell = shown.value_html(None, "count", True, True, "complementary", None, "late records")
    assert ">hidden</span>" in cell and "may itself be 5 or more" in cell
    assert "class='ctlib-revised' title='Revised: late records'" in cell
    reasons = pd.Series(["primary", "primary", "complementary", "source", pd.NA, pd.NA])
    assert shown.hidden_summary(reasons) == (
        "4 figures are hidden to protect survivors: 2 small counts, fewer than 5 people or cases "
        "(shown as <5); 1 hidden so that a small count cannot be worked out (shown as “hidden”); "
        "1 suppressed by the data's source (shown as the source wrote it)."
    )
    assert shown.hidden_summary(pd.Series(["complementary"])).startswith("1 figure is hidden")
    assert shown.hidden_summary(pd.Series([pd.NA])) == "No figure is hidden."
    assert Presentation("internal").hidden_summary(reasons) == ""
    rounding = Presentation(k=5, policy="rounding", rounding_base=3)
    assert "rounded at random to a multiple of 3" in rounding.suppression_rule()
    assert rounding.audience_note() == "donor: counts rounded to multiples of 3"


def test_periods_read_with_their_months():
    shown = Presentation()
    fiscal = Period("FY2026-Q1", "quarter", dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert shown.period(fiscal) == "FY2026-Q1 (Oct–Dec 2025)"
    assert shown.period(fiscal, latest="FY2026-Q1") == "FY2026-Q1 (Oct–Dec 2025, latest)"
    clipped = Period("2025-Q1", "quarter", dt.date(2025, 2, 15), dt.date(2025, 3, 31))
    assert shown.period(clipped) == "2025-Q1 (15 Feb–31 Mar 2025)"


def test_donors_read_problems_without_values_dates_ids_or_paths():
    problem = Problem(
        "case_id 'C-000560' is used twice (first in row 3)",
        file="/srv/data/p/cases.csv",
        row=9,
        column="case_id",
        value="C-000560",
        rule="duplicate id",
    )
    dated = Problem(
        "2026-07-03 is outside the project period",
        file="/srv/data/p/cases.csv",
        row=4,
        column="identification_date",
        value="2026-07-03",
        rule="date in project period",
    )
    failed = Problem(
        "referred cases: 12 <= 10 does not hold",
        rule="referred_not_above_identified",
        period="2026-Q2",
    )
    donor = Presentation("donor").problems([problem, problem, dated, failed])
    assert donor == [
        "cases.csv, column 'case_id': an identifier is used more than once",
        (
            "cases.csv, column 'identification_date': "
            "some records are dated outside the project period"
        ),
        "2026-Q2: the check “referred not above identified” did not pass",
    ]
    assert all(not re.search(r"C-000560|2026-07|/srv|12 <=", line) for line in donor)
    internal = Presentation("internal").problem(problem)
    assert "C-000560" in internal and "/srv/data/p/cases.csv" in internal


def _cells(page: str, indicator_id: str) -> list[str]:
    """The text of the table cells of the row naming `indicator_id`."""
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if indicator_id in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def test_every_surface_writes_each_figure_the_same(project, tmp_path):
    releases.record(project, PERIOD)  # what a donor report records; the dashboard shows it
    report = prepare(project, PERIOD)
    table = report.iptt_table().data
    app = DonorDashboardApp(project.parent)
    app.tabs.selected_index = 1  # protection
    cli = CliRunner().invoke(main, ["results", str(project), "--period", PERIOD, "--view", "iptt"])
    assert cli.exit_code == 0, cli.output
    book = openpyxl.load_workbook(
        write_iptt_xlsx(
            iptt(report.results, report.data.catalogue),
            tmp_path / "i.xlsx",
            {},
            report.presentation,
        )
    )
    sheet = book["Protection"]
    header = [c.value for c in sheet[1]]
    for indicator_id, (unit, value, text) in UNITS.items():
        assert _cells(table, indicator_id)[5] == text  # the report's IPTT: period actual
        assert _cells(app.table.value, indicator_id)[4] == text  # the dashboard: actual
        line = next(
            line
            for line in cli.output.splitlines()
            if line.startswith(indicator_id) or f" {indicator_id} " in line
        )
        assert f" {text} " in f" {line} "  # the CLI's IPTT
        row = next(
            r
            for r in sheet.iter_rows(min_row=2)
            if r[header.index("indicator_id")].value == indicator_id
        )
        cell = row[header.index(f"{PERIOD} actual")]
        if text.startswith("<"):
            assert cell.value == text  # hidden: the presentation's words, never the number
        else:
            assert cell.value == pytest.approx(value)
            assert cell.number_format == report.presentation.excel_format(unit)
        rows = report.totals().query("indicator_id == @indicator_id").assign(unit=unit)
        chart = charts.trend_chart(rows, indicator_id, unit, report.presentation)
        assert f"{PERIOD}: {text}" in chart.to_dict()["description"]  # the chart's labels


def test_the_explorer_writes_unsuppressed_figures_in_the_same_units(project):
    app = ExploreApp(project.parent, project="units")
    for indicator_id, (unit, value, text) in UNITS.items():
        if isinstance(value, str):
            continue  # no figure: the source suppressed it
        app.indicator.value = indicator_id
        app.period.value = PERIOD
        internal = Presentation("internal").number(value, unit)
        assert internal == ("3" if text == "<5" else text)
        assert f">{internal}</span>" in app.value_card.value
