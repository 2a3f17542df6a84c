"""`ctlib check` finds what `results` and `report` refuse, by the same path (`engine.check`), each
problem at its file, row and column; a brand-new project checks clean."""

from __future__ import annotations

import textwrap
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from conftest import PIRS_YAML

from ctlib._cli import main
from ctlib._compute.engine import compute
from ctlib._data.ingest import load_project_data
from ctlib._errors import CtlibError
from ctlib._publish.check import check_project

TEAM = (
    """\

- id: T-TALLY
  name: Survivors assisted (tally)
  pillar: protection
  area: case management
  level: output
  unit: count
  direction: increase
  definition: Survivors assisted in the quarter.
  rationale: The donor's figure.
  data_source: Tally sheet.
  frequency: quarterly
  disaggregations: [sex, exploitation_type, location]
"""
    + PIRS_YAML
    + """\
  method:
    measure: reported
  rollup: sum
"""
)


def project(directory: Path, indicators: str, sources: str, files: dict[str, str]) -> Path:
    (directory / "team.yaml").write_text(TEAM, encoding="utf-8")
    text = "\n".join(
        [
            "project: {id: checked, name: Checked, organisation: NGO, donor: Donor, country: NG,",
            "          start_date: 2025-01-01, end_date: 2025-12-31}",
            "results_chain: {objective: Fewer people trafficked}",
            "catalogue: team.yaml",
            "indicators:",
            textwrap.indent(textwrap.dedent(indicators), "  "),
            "sources:",
            textwrap.indent(textwrap.dedent(sources), "  "),
        ]
    )
    (directory / "project.yaml").write_text(text + "\n", encoding="utf-8")
    for name, content in files.items():
        (directory / name).write_text(content, encoding="utf-8")
    return directory


def compute_refuses(directory: Path) -> list:
    """The problems with which computing every period stops, or that it reports."""
    try:
        return compute(load_project_data(directory), periods="all").problems
    except CtlibError as error:
        return error.problems


def where(problem) -> tuple:
    return problem.file, problem.row, problem.column


TALLY_SOURCE = "reported_values: {file: tally.csv}"
TALLY_INDICATOR = "- {id: T-TALLY, disaggregations: [sex, exploitation_type]}"


def test_tally_rows_outside_the_project_span_are_refused_by_check_as_by_results(tmp_path):
    tally = "indicator_id,period,value\nT-TALLY,2025-Q1,4\nT-TALLY,2026-Q1,6\n"
    project(tmp_path, TALLY_INDICATOR, TALLY_SOURCE, {"tally.csv": tally})
    refused = compute_refuses(tmp_path)
    checked = check_project(tmp_path)
    assert not checked.passed
    assert (
        [where(p) for p in checked.errors]
        == [where(p) for p in refused]
        == [("tally.csv", 3, "period")]
    )
    assert "outside the project span" in checked.errors[0].message


def test_tally_rows_naming_what_the_project_does_not_declare(tmp_path):
    tally = (
        "indicator_id,period,dimension,category,value\n"
        "T-TALLY,2025-Q1,,,9\n"
        "T-TALY,2025-Q1,,,9\n"  # a typo in the indicator id
        "T-TALLY,2025-Q1,exploitation_type,sexual_exploitaton,4\n"  # a typo in the category
        "T-TALLY,2025-Q1,location,Mombasa,5\n"  # a dimension the project does not report
        "T-TALLY,2025-Q1,sex,,5\n"  # a dimension without its category
        "PROT-02,2025-Q1,,,9\n"  # an indicator computed from the cases
    )
    project(
        tmp_path,
        TALLY_INDICATOR + "\n- {id: PROT-02}",
        TALLY_SOURCE + "\ncases: {file: cases.csv}",
        {"tally.csv": tally, "cases.csv": "case_id,identification_date,trafficking_status\n"},
    )
    checked = check_project(tmp_path)
    found = {where(p): p.message for p in checked.errors}
    assert set(found) == {
        ("tally.csv", 3, "indicator_id"),
        ("tally.csv", 4, "category"),
        ("tally.csv", 5, "dimension"),
        ("tally.csv", 6, "category"),
        ("tally.csv", 7, "indicator_id"),
    }
    assert (
        "'T-TALY' is not an indicator of the catalogue; did you mean 'T-TALLY'?"
        in found[("tally.csv", 3, "indicator_id")]
    )
    assert "did you mean 'sexual_exploitation'?" in found[("tally.csv", 4, "category")]
    assert "project.yaml selects: sex, exploitation_type" in found[("tally.csv", 5, "dimension")]
    assert "PROT-02 is computed from data" in found[("tally.csv", 7, "indicator_id")]
    assert {where(p) for p in compute_refuses(tmp_path)} == set(found)


def test_an_indicator_whose_column_no_source_gives_is_refused_not_zero(tmp_path):
    # no trafficking_status column: victims identified (actual or possible) is unknown, not 0
    cases = "case_id,identification_date,sex\nC1,2025-01-05,female\nC2,2025-02-05,male\n"
    project(tmp_path, "- {id: PROT-02}", "cases: {file: cases.csv}", {"cases.csv": cases})
    checked = check_project(tmp_path)
    [error] = checked.errors
    assert (error.file, error.column, error.entry) == ("cases.csv", "trafficking_status", "PROT-02")
    assert "no source of 'cases' gives its column 'trafficking_status'" in error.message
    assert [where(p) for p in compute_refuses(tmp_path)] == [where(error)]
    results = compute(load_project_data(tmp_path), periods="all")
    assert "PROT-02" not in set(results.table["indicator_id"])  # never a silent 0
    # a constant gives every row the same value: then the indicator counts
    text = (
        (tmp_path / "project.yaml")
        .read_text()
        .replace(
            "cases: {file: cases.csv}",
            "cases: {file: cases.csv, constants: {trafficking_status: actual}}",
        )
    )
    (tmp_path / "project.yaml").write_text(text)
    assert check_project(tmp_path).passed


def test_a_renamed_breakdown_column_is_said_not_counted_as_unknown(tmp_path):
    cases = "case_id,identification_date,Gender,trafficking_status\nC1,2025-01-05,female,actual\n"
    project(
        tmp_path,
        "- {id: PROT-02, disaggregations: [sex]}",
        "cases: {file: cases.csv}",
        {"cases.csv": cases},
    )
    checked = check_project(tmp_path)
    [warning] = [p for p in checked.problems if p.rule == "disaggregation"]
    assert (warning.file, warning.column, warning.severity) == ("cases.csv", "sex", "warning")
    assert (
        "PROT-02 is not disaggregated by 'sex': no source of 'cases' gives its column 'sex'"
        in warning.message
    )
    results = compute(load_project_data(tmp_path), periods="all").table
    assert set(results["dimension"]) == {"total"}  # no breakdown of everyone as "unknown"


def test_targets_for_periods_that_are_not_the_projects_and_tally_errors_at_once(tmp_path):
    tally = "indicator_id,period,value\nT-TALLY,2027-Q1,4\n"
    project(
        tmp_path,
        "- {id: T-TALLY, targets: {2024-Q4: 5}}",
        TALLY_SOURCE,
        {"tally.csv": tally},
    )
    target, tally_row = check_project(tmp_path).errors
    assert (target.entry, target.value, target.rule) == (
        "indicators[0] (T-TALLY).targets",
        "2024-Q4",
        "target period",
    )
    assert (where(tally_row), tally_row.value) == (("tally.csv", 2, "period"), "2027-Q1")


def test_a_new_project_checks_clean(tmp_path):
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["new", str(tmp_path / "p"), "--indicators", "PROT-01,PROT-02"]
        ).exit_code
        == 0
    )
    result = runner.invoke(main, ["check", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "No records yet" in result.output
    assert "Traceback" not in result.output and "Warning" not in result.output


def test_the_empty_htcds_template_checks_clean(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Case Sheet"
    fields = [
        "cas_CaseOwner",
        "prs_Gender",
        "prs_Citizenship",
        "vic_TraffickingStatus",
        "cas_IncomingReferralDate",
    ]
    sheet.append([None, *fields])
    sheet.append(
        [
            None,
            "Case Owner",
            "Gender",
            "Citizenship",
            "Trafficking Status",
            "Incoming Referral Date",
        ]
    )
    for number in range(1, 51):  # the template numbers its empty rows
        sheet.append([number])
    book.save(tmp_path / "cases.xlsx")
    project(tmp_path, "- {id: PROT-02}", "cases: {file: cases.xlsx}", {})
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "cases 0 rows" in result.output and "No records yet" in result.output


def test_a_value_map_collision_is_said_once_at_its_line_in_project_yaml(tmp_path):
    cases = "case_id,identification_date,sex,trafficking_status\nC1,2025-01-05,F,actual\n"
    sources = """\
    cases:
      - file: [north.csv, south.csv]
        values:
          sex:
            F: female
            "f.": male
      - file: west.csv
    """
    files = {"north.csv": "C1", "south.csv": "C2"}
    project(
        tmp_path,
        "- {id: PROT-02}",
        sources,
        {name: cases.replace("C1", case) for name, case in files.items()}
        | {"west.csv": cases.replace("C1", "C3").replace(",F,", ",female,")},
    )
    lines = (tmp_path / "project.yaml").read_text().splitlines()
    [error] = check_project(tmp_path).errors  # once, though two files use the map
    assert (error.file, error.row, error.column) == (
        "project.yaml",
        lines.index('          "f.": male') + 1,
        None,
    )
    assert error.entry == "sources.cases[0].values.sex.f."
    assert "keys 'F' and 'f.' are the same code" in error.message
    assert [where(p) for p in compute_refuses(tmp_path)] == [where(error)]


def test_nationalities_that_are_no_country_are_found_by_check_at_their_cell(tmp_path):
    cases = (
        "case_id,identification_date,trafficking_status,nationality\n"
        "C1,2025-01-05,actual,Nigeria\n"  # a country's name: read as NG
        "C2,2025-01-06,actual,West Africa\n"  # a region
        "C3,2025-01-07,actual,Nigerria\n"  # a typo
        "C4,2025-01-08,actual,BEN\n"  # an alpha-3 code: BJ
    )
    project(
        tmp_path,
        "- {id: PROT-02, disaggregations: [nationality]}",
        "cases: {file: cases.csv}",
        {"cases.csv": cases},
    )
    region, typo = check_project(tmp_path).errors
    assert where(region) == ("cases.csv", 3, "nationality")
    assert "'West Africa' is a region, not a country" in region.message
    assert where(typo) == ("cases.csv", 4, "nationality") and "closest: 'Nigeria'" in typo.message
    assert [where(p) for p in compute_refuses(tmp_path)] == [where(region), where(typo)]
    (tmp_path / "cases.csv").write_text(
        cases.replace("West Africa", "Benin").replace("Nigerria", "NG")
    )
    nationalities = load_project_data(tmp_path).tables["cases"]["nationality"].tolist()
    assert nationalities == ["NG", "BJ", "NG", "BJ"]
