"""Layouts declared in project.yaml: wide tables, periods over columns, several files for one table,
row filters, banner rows and workbooks whose stored sheet size is wrong.

Every file is written here by hand (invented figures); the expected results are worked out in the
comments, and every problem is checked for its file, row and column.
"""

from __future__ import annotations

import re
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import PIRS_YAML

from ctlib._compute.engine import compute
from ctlib._data.ingest import load_project_data
from ctlib._errors import DataError, ProjectError

TEAM_CATALOGUE = (
    """\

- id: T-VIC
  name: Victims identified (reported by the statistics office)
  pillar: protection
  area: identification
  level: outcome
  unit: count
  direction: increase
  definition: People identified as victims of trafficking in the period.
  rationale: The donor's headline figure.
  data_source: Quarterly statistics.
  frequency: quarterly
  disaggregations: [exploitation_type, sex]
"""
    + PIRS_YAML
    + """\
  method:
    measure: reported
  rollup: sum
"""
)


def refused(directory: Path) -> list:
    """The problems for which the project's data cannot be used (DataError expected)."""
    with pytest.raises(DataError) as raised:
        load_project_data(directory)
    return raised.value.problems


def write_project(
    directory: Path, sources: str, *, reporting="", span=("2024-10-01", "2025-09-30"), more=""
):
    (directory / "team.yaml").write_text(TEAM_CATALOGUE, encoding="utf-8")
    text = f"""\
        project: {{id: layouts, name: Layouts, organisation: NGO, donor: Donor, country: NL,
                  start_date: {span[0]}, end_date: {span[1]}}}
        {reporting}
        results_chain: {{objective: Fewer people trafficked}}
        catalogue: team.yaml
        indicators:
          - {{id: T-VIC, disaggregations: [exploitation_type, sex]}}
        {more}
        sources:
        """
    (directory / "project.yaml").write_text(
        textwrap.dedent(text) + textwrap.indent(textwrap.dedent(sources), "  "), encoding="utf-8"
    )


def results_by_period(directory: Path, periods="all"):
    results = compute(load_project_data(directory), periods=periods)
    table = results.table[results.table["indicator_id"] == "T-VIC"]
    return {
        (row.period, row.dimension, row.category): (
            None if pd.isna(row.value) else row.value,
            None if pd.isna(row.value_state) else row.value_state,
        )
        for row in table.itertuples()
    }


# -- a wide quarterly csv on a US fiscal year ------------------------------------------------------

# One row per quarter of US fiscal year 2025 (October 2024 to September 2025); one column per form
# of exploitation and one for the quarter's total. The "both" column is not a category of ours and
# is left unmapped (its people are in the total).
WIDE_CSV = """\
state,fiscal_year,quarter,sex_trafficking,labor_trafficking,both_sex_and_labor,quarterly_total
Ohio,FY2025,Q1,12,5,1,18
Ohio,FY2025,Q2,9,<5,0,11
Ohio,FY2025,Q3,14,7,2,23
Ohio,FY2025,Q4,10,6,2,18
"""
WIDE_SOURCE = """\
reported_values:
  file: ohio_quarterly.csv
  constants: {indicator_id: T-VIC}
  period: {year: fiscal_year, quarter: quarter, fiscal_year_start_month: 10}
  wide:
    categories:
      exploitation_type: {sex_trafficking: sexual_exploitation, labor_trafficking: forced_labour}
    total: quarterly_total
"""


def test_a_wide_quarterly_csv_on_a_us_fiscal_year(tmp_path):
    write_project(tmp_path, WIDE_SOURCE)
    (tmp_path / "ohio_quarterly.csv").write_text(WIDE_CSV, encoding="utf-8")
    found = results_by_period(tmp_path)
    # FY2025 Q1 is October-December 2024: the project's calendar quarter 2024-Q4, and so on
    assert found[("2024-Q4", "total", "total")] == (18, None)
    assert found[("2024-Q4", "exploitation_type", "sexual_exploitation")] == (12, None)
    assert found[("2025-Q1", "exploitation_type", "forced_labour")] == (None, "source_suppressed")
    assert found[("2025-Q3", "total", "total")] == (18, None)
    # life of project: totals 18 + 11 + 23 + 18 = 70; sexual exploitation 12 + 9 + 14 + 10 = 45;
    # forced labour 5 + <5 + 7 + 6 = at least 18 (a lower bound)
    assert found[("life_of_project", "total", "total")] == (70, None)
    assert found[("life_of_project", "exploitation_type", "sexual_exploitation")] == (45, None)
    assert found[("life_of_project", "exploitation_type", "forced_labour")] == (18, "lower_bound")


def test_a_fiscal_project_takes_the_source_year_as_its_own(tmp_path):
    # the same file for a project on the US fiscal year: FY2025 Q2 is the project's FY2025-Q2
    reporting = "reporting: {calendar: fiscal, fiscal_year_start_month: 10}"
    write_project(
        tmp_path, WIDE_SOURCE.replace(", fiscal_year_start_month: 10", ""), reporting=reporting
    )
    (tmp_path / "ohio_quarterly.csv").write_text(WIDE_CSV, encoding="utf-8")
    found = results_by_period(tmp_path)
    assert found[("FY2025-Q2", "total", "total")] == (11, None)
    assert found[("life_of_project", "total", "total")] == (70, None)


def test_period_columns_that_do_not_fit_the_project_calendar_are_errors(tmp_path):
    # a source year starting in November: its quarters start in Nov, Feb, May, Aug, never a
    # calendar quarter's first month
    write_project(
        tmp_path, WIDE_SOURCE.replace("fiscal_year_start_month: 10", "fiscal_year_start_month: 11")
    )
    (tmp_path / "ohio_quarterly.csv").write_text(WIDE_CSV.replace("Q3", "Q7"), encoding="utf-8")
    problems = [p for p in refused(tmp_path) if p.rule == "period"]
    assert [(p.file, p.row, p.column) for p in problems][:2] == [
        ("ohio_quarterly.csv", 2, "quarter"),
        ("ohio_quarterly.csv", 3, "quarter"),
    ]
    assert "is not a quarter of the project's calendar" in problems[0].message
    assert ("ohio_quarterly.csv", 4, "quarter") in [(p.file, p.row, p.column) for p in problems]
    assert any("'Q7' is not a quarter" in p.message for p in problems)


def test_wide_cells_that_are_not_numbers_name_their_own_column(tmp_path):
    write_project(tmp_path, WIDE_SOURCE)
    (tmp_path / "ohio_quarterly.csv").write_text(
        WIDE_CSV.replace(",14,", ",fourteen,"), encoding="utf-8"
    )
    [problem] = refused(tmp_path)
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "ohio_quarterly.csv",
        4,
        "sex_trafficking",
        "fourteen",
    )


def test_layout_options_are_validated_with_their_yaml_path(tmp_path):
    source = """\
    cases:
      file: cases.csv
      wide: {total: Total}
      period: {year: Year}
      constants: {gender: female}
      separators: {sex: ";"}
    """
    write_project(tmp_path, source)
    (tmp_path / "cases.csv").write_text("case_id\n", encoding="utf-8")
    with pytest.raises(ProjectError) as raised:
        load_project_data(tmp_path)
    entries = {p.entry: p.message for p in raised.value.problems}
    assert set(entries) == {
        "sources.cases.wide",
        "sources.cases.period",
        "sources.cases.constants.gender",
        "sources.cases.separators.sex",
    }
    assert "use wide for reported_values" in entries["sources.cases.wide"]
    assert "'sex' is not a multi-valued column of cases" in entries["sources.cases.separators.sex"]


# -- a statistics-office workbook ------------------------------------------------------------------


def statistics_workbook(path: Path) -> None:
    """Two banner rows, then one row per country and year; numbers written as text with thousands
    separators (as downloads often are), one cell suppressed by the office; the stored sheet size
    then set to A1, as in a real download whose writer never updated it."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Victims"
    sheet.append(["Detected victims of trafficking in persons, by sex"])
    sheet.append(["Source: national statistics offices. <5: fewer than five, not shown."])
    sheet.append(["Country", "Year", "Total", "Female", "Male"])
    sheet.append(["Belgium", 2024, "812", "500", "312"])
    sheet.append(["Netherlands", 2024, "2,315", 1402, "913"])
    sheet.append(["Belgium", 2025, "790", "488", "302"])
    sheet.append(["Netherlands", 2025, "1,046", "1,043", "<5"])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        members = {item: original.read(item.filename) for item in original.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for item, data in members.items():
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            rewritten.writestr(item, data)


STATISTICS_SOURCE = """\
reported_values:
  file: victims.xlsx
  sheet: Victims
  filter: {Country: Netherlands}
  constants: {indicator_id: T-VIC}
  period: {year: Year}
  wide:
    categories:
      sex: {Female: female, Male: male}
    total: Total
"""


def test_a_statistics_workbook_with_banner_rows_a_stale_size_and_suppressed_cells(tmp_path):
    statistics_workbook(tmp_path / "victims.xlsx")
    write_project(
        tmp_path,
        STATISTICS_SOURCE,
        reporting="reporting: {frequency: annual}",
        span=("2024-01-01", "2025-12-31"),
    )
    data = load_project_data(tmp_path)
    rows = data.tables["reported_values"]
    assert sorted(set(rows.index)) == [
        5,
        7,
    ]  # the Netherlands' rows of the sheet; Belgium filtered out
    found = results_by_period(tmp_path)
    assert found[("2024", "total", "total")] == (2315, None)
    assert found[("2024", "sex", "female")] == (1402, None)
    assert found[("2025", "sex", "female")] == (1043, None)
    assert found[("2025", "sex", "male")] == (None, "source_suppressed")
    # life of project: 2,315 + 1,046 = 3,361; women 1,402 + 1,043 = 2,445; men 913 + <5 ≥ 913
    assert found[("life_of_project", "total", "total")] == (3361, None)
    assert found[("life_of_project", "sex", "female")] == (2445, None)
    assert found[("life_of_project", "sex", "male")] == (913, "lower_bound")


def test_a_filter_that_keeps_no_row_says_what_the_column_holds(tmp_path):
    statistics_workbook(tmp_path / "victims.xlsx")
    write_project(
        tmp_path,
        STATISTICS_SOURCE.replace("Country: Netherlands", "Country: Holland"),
        reporting="reporting: {frequency: annual}",
        span=("2024-01-01", "2025-12-31"),
    )
    data = load_project_data(tmp_path)
    [warning] = [p for p in data.warnings if p.rule == "filter"]
    assert (warning.file, warning.sheet, warning.column) == ("victims.xlsx", "Victims", "Country")
    assert "no row has Country 'Holland'; values found: Belgium, Netherlands" in warning.message


def test_a_layout_column_the_file_lacks_is_named_with_the_columns_it_has(tmp_path):
    statistics_workbook(tmp_path / "victims.xlsx")
    write_project(
        tmp_path,
        STATISTICS_SOURCE.replace("{year: Year}", "{year: Yaer}"),
        reporting="reporting: {frequency: annual}",
        span=("2024-01-01", "2025-12-31"),
    )
    [problem] = [p for p in refused(tmp_path) if p.rule == "period"]
    assert (problem.file, problem.sheet, problem.column) == ("victims.xlsx", "Victims", "Yaer")
    assert "columns: Country, Year, Total, Female, Male; did you mean 'Year'?" in problem.message


# -- several files or sheets for one table ---------------------------------------------------------

QUARTER_CSV = (
    "indicator_id,period,dimension,category,value\nT-VIC,{q},,,{total}\n"
    "T-VIC,{q},sex,female,{female}\n"
)


def test_one_file_per_quarter_appended_each_named_in_its_problems(tmp_path):
    (tmp_path / "tally").mkdir()
    for quarter, total, female in (("2024-Q4", 9, 6), ("2025-Q1", 7, "seven"), ("2025-Q2", 5, 3)):
        (tmp_path / "tally" / f"{quarter}.csv").write_text(
            QUARTER_CSV.format(q=quarter, total=total, female=female), encoding="utf-8"
        )
    write_project(tmp_path, "reported_values: {file: tally/20*.csv}")
    [problem] = refused(tmp_path)
    assert (problem.file, problem.row, problem.column) == ("tally/2025-Q1.csv", 3, "value")
    (tmp_path / "tally" / "2025-Q1.csv").write_text(
        QUARTER_CSV.format(q="2025-Q1", total=7, female=4), encoding="utf-8"
    )
    data = load_project_data(tmp_path)
    assert [f.name for f in data.input_files] == [
        "project.yaml",
        "team.yaml",
        "2024-Q4.csv",
        "2025-Q1.csv",
        "2025-Q2.csv",
    ]
    assert data.tables["reported_values"].index.tolist() == [
        2,
        3,
        2,
        3,
        2,
        3,
    ]  # each file's own lines
    found = results_by_period(tmp_path)
    assert found[("life_of_project", "total", "total")] == (9 + 7 + 5, None)
    assert found[("life_of_project", "sex", "female")] == (6 + 4 + 3, None)


def test_a_figure_repeated_across_files_names_both(tmp_path):
    (tmp_path / "north.csv").write_text(
        QUARTER_CSV.format(q="2025-Q1", total=4, female=2), encoding="utf-8"
    )
    (tmp_path / "south.csv").write_text(
        QUARTER_CSV.format(q="2025-Q1", total=5, female=3), encoding="utf-8"
    )
    write_project(tmp_path, "reported_values: {file: [north.csv, south.csv]}")
    problems = [p for p in refused(tmp_path) if p.rule == "duplicate id"]
    assert [(p.file, p.row) for p in problems] == [("south.csv", 2), ("south.csv", 3)]


def test_sources_of_different_layouts_and_every_sheet_of_a_workbook(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "North"
    book.active.append(["indicator_id", "period", "value"])
    book.active.append(["T-VIC", "2025-Q1", 4])
    south = book.create_sheet("South")
    south.append(["Indicator", "Quarter", "Figure"])
    south.append(["T-VIC", "2025-Q2", "oops"])
    book.save(tmp_path / "offices.xlsx")
    (tmp_path / "ohio_quarterly.csv").write_text(WIDE_CSV, encoding="utf-8")
    sources = """\
    reported_values:
      - file: offices.xlsx
        sheet: "*"
        columns: {Indicator: indicator_id, Quarter: period, Figure: value}
    """
    write_project(tmp_path, sources)
    [problem] = refused(tmp_path)
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "offices.xlsx",
        "South",
        2,
        "Figure (value)",
    )


def test_csv_banner_rows_above_the_header_are_found(tmp_path):
    text = (
        "Tally of victims identified\nPrepared 2025-07-01\n\nindicator_id,period,value\n"
        "T-VIC,2025-Q1,4\n"
    )
    (tmp_path / "tally.csv").write_text(text, encoding="utf-8")
    write_project(tmp_path, "reported_values: {file: tally.csv}")
    data = load_project_data(tmp_path)
    assert data.tables["reported_values"].index.tolist() == [5]  # the file's own line


# -- files outside the project ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["absolute", "parent", "symlink", "pattern"])
def test_files_outside_the_project_are_refused(tmp_path, how):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.csv").write_text(
        "indicator_id,period,value\nT-VIC,2025-Q1,999\n", encoding="utf-8"
    )
    written = {
        "absolute": str(elsewhere / "secret.csv"),
        "parent": "../elsewhere/secret.csv",
        "symlink": "linked.csv",
        "pattern": "../elsewhere/*.csv",
    }[how]
    if how == "symlink":
        (project / "linked.csv").symlink_to(elsewhere / "secret.csv")
    write_project(project, f"reported_values: {{file: {written!r}}}")
    with pytest.raises(ProjectError) as raised:
        load_project_data(project)
    [problem] = raised.value.problems
    assert (problem.entry, problem.rule) == ("sources.reported_values.file", "inside the project")
    assert "is outside the project folder" in problem.message


def test_a_shared_data_folder_is_an_explicit_opt_in(tmp_path):
    project, shared = tmp_path / "project", tmp_path / "shared"
    project.mkdir()
    shared.mkdir()
    (shared / "tally.csv").write_text(
        "indicator_id,period,value\nT-VIC,2025-Q1,4\n", encoding="utf-8"
    )
    write_project(
        project, "reported_values: {file: ../shared/tally.csv}", more="data_folders: [../shared]"
    )
    data = load_project_data(project)
    assert data.tables["reported_values"]["value"].tolist() == [4]


def test_a_team_catalogue_outside_the_project_is_refused(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "team.yaml").write_text(TEAM_CATALOGUE, encoding="utf-8")
    write_project(project, "reported_values: {file: tally.csv}")
    (project / "tally.csv").write_text("indicator_id,period,value\n", encoding="utf-8")
    text = (
        (project / "project.yaml")
        .read_text()
        .replace("catalogue: team.yaml", "catalogue: ../team.yaml")
    )
    (project / "project.yaml").write_text(text)
    with pytest.raises(ProjectError) as raised:
        load_project_data(project)
    assert [p.rule for p in raised.value.problems] == ["inside the project"]
