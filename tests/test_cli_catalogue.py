"""`ctlib catalogue list/show/export` and `ctlib --version`, through click's CliRunner."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import PIRS_YAML

from ctlib import __version__
from ctlib._catalogue import load_catalogue
from ctlib._catalogue.model import Method
from ctlib._cli import main

TEAM_FILE = (
    """\
- id: TEAM-01
  name: Survivors given a phone for safety
  pillar: protection
  area: case management
  level: output
  unit: count
  direction: increase
  definition: Different survivors given a mobile phone.
  rationale: Keeps them in reach of their case worker.
  data_source: Service records.
  frequency: quarterly
  disaggregations: [sex]
  references: []
  iati_measure: unit
  method:
    measure: count_distinct
    table: services
    date: start_date
    column: case_id
    filter:
      - {column: service_type, op: equals, value: other}
  rollup: recompute
"""
    + PIRS_YAML
)


@pytest.fixture
def run(monkeypatch):
    """Invoke `ctlib` with arguments at a fixed terminal width; returns the click Result."""

    def invoke(*args, width=120):
        monkeypatch.setenv("COLUMNS", str(width))
        return CliRunner().invoke(main, list(args))

    return invoke


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"ctlib, version {__version__}\n"


def test_list_prints_every_indicator_aligned_with_a_count(run):
    catalogue = load_catalogue()
    result = run("catalogue", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "pillar", "area", "level", "unit", "name"]
    assert [line.split()[0] for line in lines[1:-1]] == list(catalogue.ids)
    counts = ", ".join(
        f"{p} {len(catalogue.filter(pillar=p))}"
        for p in ("prevention", "protection", "prosecution", "partnership")
    )
    assert lines[-1] == f"{len(catalogue)} indicators ({counts})"
    name_start = lines[0].index("name")
    assert all(
        line[name_start - 2 : name_start] == "  " and line[name_start] != " "
        for line in lines[1:-1]
    )
    assert all(len(line) <= 120 for line in lines)


def test_list_cuts_long_text_to_the_terminal_width(run):
    narrow = run("catalogue", "list", "--pillar", "prosecution", width=90).output.splitlines()
    assert all(len(line) <= 90 for line in narrow[:-1])
    assert "PROS-01  prosecution  legislation" in narrow[1] and narrow[1].endswith("…")
    wide = run("catalogue", "list", "--pillar", "prosecution", width=250).output
    assert "…" not in wide
    assert (
        "Trafficking investigations with mutual legal assistance or a joint investigation team"
        in wide
    )


def test_list_filters(run):
    result = run("catalogue", "list", "--pillar", "prosecution", "--area", "sentencing")
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["PROS-11", "PROS-12"]
    assert lines[-1] == f"2 of {len(load_catalogue())} indicators (prosecution 2)"
    impact = run("catalogue", "list", "--level", "impact").output.splitlines()
    assert [line.split()[0] for line in impact[1:-1]] == ["PREV-24", "PROT-03", "PROT-04"]
    found = run("catalogue", "list", "--search", "PS.5").output.splitlines()
    assert [line.split()[0] for line in found[1:-1]] == ["PREV-08", "PROT-01", "PROT-06", "PROS-01"]
    both = run(
        "catalogue", "list", "--pillar", "protection", "--search", "PS.5"
    ).output.splitlines()
    assert [line.split()[0] for line in both[1:-1]] == ["PROT-01", "PROT-06"]


def test_list_with_nothing_found(run):
    result = run("catalogue", "list", "--search", "zebra")
    assert result.exit_code == 0
    assert result.output == f"0 of {len(load_catalogue())} indicators\n"


def test_list_rejects_an_unknown_pillar(run):
    result = run("catalogue", "list", "--pillar", "policy")
    assert result.exit_code == 2 and "'policy' is not one of" in result.output


def test_show_prints_a_reference_sheet(run):
    result = run("catalogue", "show", "prot-06", width=80)
    assert result.exit_code == 0
    text = result.output
    lines = text.splitlines()
    assert lines[0] == "PROT-06  Victims referred to protection services"
    assert set(lines[1]) == {"="}
    for expected in (
        "Pillar:          protection",
        "Area:            referral",
        "Level:           output",
        "Unit:            count",
        "Direction:       increase (higher is better)",
        "Frequency:       quarterly",
        "References:      PS.5.1-29; HTCDS cas_OutgoingReferralDate",
        "IATI measure:    unit",
        "Roll-up:         recompute (life of project: recomputed over all records of the",
        "Counts:          people (one unit: one victim referred)",
        "Mandatory:       none",
        "Definition",
        "Rationale",
        "Method",
        "Counting unit and double counting",
        "Data source",
        "Collected by",
        "Reported by",
        "Collection timing",
        "Reporting lag",
        "Known data limitations",
        "Rationale for targets",
        "Baseline timeframe",
        "Change log",
    ):
        assert expected in lines, expected
    assert "Disaggregations: sex, age_group, child_adult, nationality," in text
    flat = " ".join(text.split())
    assert (
        "Number of distinct person_id over rows in cases where is_referred is true and "
        "trafficking_status is one of possible, actual, placed in a period by referral_date" in flat
    )
    assert "Referral forms and case-management records." in flat
    assert "2026-12-01 Fixed: only presumed and confirmed victims count" in flat
    assert all(len(line) <= 80 for line in lines)


def test_show_an_unknown_id_is_a_short_error(run):
    result = run("catalogue", "show", "PROT-3")
    assert result.exit_code == 2
    assert (
        result.output
        == "Error: Unknown indicator 'PROT-3'; did you mean PROT-03, PROT-37, PROT-36?\n"
    )
    assert isinstance(result.exception, SystemExit)


def test_export_csv_reads_back(run, tmp_path):
    out = tmp_path / "catalogue.csv"
    result = run("catalogue", "export", "--format", "csv", "--out", str(out))
    catalogue = load_catalogue()
    assert result.output == f"Wrote {len(catalogue)} indicators to {out}\n"
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame["id"]) == list(catalogue.ids)
    row = frame.set_index("id").loc["PROS-12"]
    assert row["name"] == "Median prison sentence of convicted traffickers (months)"
    assert row["method"].startswith(
        "Median of sentence_months over rows in legal_cases where verdict is convicted and "
        "sentence_type is custodial"
    )
    assert (row["counts"], row["mandatory_disaggregations"]) == ("people", "")
    assert row["change_log"].startswith("2026-12-01: Reference sheet completed")
    assert row["disaggregations"] == "defendant_sex, exploitation_type"
    for indicator_id, recipe in zip(frame["id"], frame["recipe"]):
        assert Method.model_validate(json.loads(recipe)) == catalogue.get(indicator_id).method


def test_export_xlsx_has_a_styled_frozen_header(run, tmp_path):
    out = tmp_path / "catalogue.xlsx"
    assert run("catalogue", "export", "--format", "xlsx", "--out", str(out)).exit_code == 0
    sheet = openpyxl.load_workbook(out)["indicators"]
    assert sheet.freeze_panes == "B2"
    header = [cell.value for cell in sheet[1]]
    assert header[:7] == ["id", "name", "pillar", "area", "level", "unit", "direction"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["B"].width == 45 and sheet.column_dimensions["A"].width == 10
    assert sheet.max_row == len(load_catalogue()) + 1
    assert sheet["A2"].value == "PREV-01" and sheet["E2"].value == "output"


def test_export_md_has_a_table_per_pillar(run, tmp_path):
    out = tmp_path / "catalogue.md"
    assert run("catalogue", "export", "--format", "md", "--out", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    catalogue = load_catalogue()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        f"## {p.capitalize()} ({len(catalogue.filter(pillar=p))})"
        for p in ("prevention", "protection", "prosecution", "partnership")
    ]
    rows = [
        line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| id ")
    ]
    assert [row.split(" | ")[0][2:] for row in rows] == list(catalogue.ids)
    assert (
        "| PROT-06 | Victims referred to protection services | referral | output | count | "
        "increase |" in text
    )


def test_export_to_a_missing_folder_is_a_short_error(run, tmp_path):
    result = run("catalogue", "export", "--format", "md", "--out", str(tmp_path / "no" / "x.md"))
    assert result.exit_code == 1
    assert (
        result.output.startswith("Error: cannot write")
        and "No such file or directory" in result.output
    )


def test_a_team_catalogue_is_added(run, tmp_path):
    team = tmp_path / "team.yaml"
    team.write_text(TEAM_FILE, encoding="utf-8")
    listed = run(
        "catalogue", "--catalogue", str(team), "list", "--area", "case management"
    ).output.splitlines()
    assert [line.split()[0] for line in listed[1:-1]] == [
        "PROT-09",
        "PROT-22",
        "PROT-23",
        "PROT-27",
        "PROT-31",
        "PROT-32",
        "PROT-37",
        "TEAM-01",
    ]
    shown = run("catalogue", "--catalogue", str(team), "show", "TEAM-01").output
    assert (
        "Number of distinct case_id over rows in services where service_type is other"
        in " ".join(shown.split())
    )


def test_a_bad_team_catalogue_lists_every_problem_without_a_traceback(run, tmp_path):
    team = tmp_path / "team.yaml"
    bad_pillar = TEAM_FILE.replace("pillar: protection", "pillar: policy")
    bad_column = TEAM_FILE.replace("TEAM-01", "TEAM-02").replace(
        "column: service_type", "column: colour"
    )
    team.write_text(bad_pillar + bad_column, encoding="utf-8")
    result = run("catalogue", "--catalogue", str(team), "list")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "Error: The indicator catalogue cannot be loaded (2 problem(s))"
    assert lines[1].startswith(f"  - {team}, TEAM-01: field pillar: Input should be")
    assert lines[2] == (
        f"  - {team}, TEAM-02, column 'colour': field method.filter[0].column: "
        "table 'services' has no column 'colour' [known column]"
    )
    assert "Traceback" not in result.output
