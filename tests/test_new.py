"""`ctlib new`: a commented project.yaml that loads.

And blank csv/xlsx templates with drop-down lists.
"""

from __future__ import annotations

import csv

import openpyxl
from click.testing import CliRunner

from ctlib._cli import main
from ctlib._data.ingest import load_project_data
from ctlib._data.project import load_project
from ctlib._data.tables import table


def run(*args):
    return CliRunner().invoke(main, ["new", *map(str, args)])


def test_new_project_loads_with_the_tables_its_indicators_need(tmp_path):
    directory = tmp_path / "shelter-project"
    result = run(
        directory, "--name", "Safe Shelter: phase 2", "--indicators", "PROT-02, PROT-10,PART-09"
    )
    assert result.exit_code == 0, result.output
    project = load_project(directory)
    assert (project.id, project.project.name) == ("shelter-project", "Safe Shelter: phase 2")
    assert [i.id for i in project.indicators] == ["PROT-02", "PROT-10", "PART-09"]
    assert [i.result for i in project.indicators] == ["outcome-1", "output-1.1", "outcome-1"]
    # PROT-10 reads services, which link to cases; PART-09 is reported by hand
    assert list(project.sources) == ["cases", "services", "reported_values"]
    assert project.sources["services"].file == "data/services.xlsx"
    created = sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()
    )
    assert created == [
        ".gitignore",
        "data/cases.csv",
        "data/cases.xlsx",
        "data/reported_values.csv",
        "data/reported_values.xlsx",
        "data/services.csv",
        "data/services.xlsx",
        "project.yaml",
    ]
    assert result.output.count("created ") == 8
    assert ".ctlib/" in (directory / ".gitignore").read_text().splitlines()  # the release ledger
    data = load_project_data(directory)
    assert {name: len(frame) for name, frame in data.tables.items()} == {
        "cases": 0,
        "services": 0,
        "reported_values": 0,
    }


def test_every_section_is_explained(tmp_path):
    run(tmp_path / "p", "--indicators", "PROT-02")
    text = (tmp_path / "p" / "project.yaml").read_text()
    for section in (
        "project:",
        "reporting:",
        "context:",
        "results_chain:",
        "indicators:",
        "sources:",
        "privacy:",
        "releases:",
    ):
        before = text.split(f"\n{section}")[0].rstrip().splitlines()[-1]
        assert before.startswith("#"), f"no comment above {section}"
    assert "# supports: sex, age_group, child_adult" in text
    assert "# catalogue:" in text


def test_csv_template_is_the_header_of_the_input_columns(tmp_path):
    run(tmp_path / "p", "--indicators", "PROT-02")
    with open(tmp_path / "p" / "data" / "cases.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [[c.name for c in table("cases").input_columns]]
    assert "age_group" not in rows[0] and "case_id" in rows[0]


def test_xlsx_template_has_drop_downs_notes_and_a_frozen_header(tmp_path):
    run(tmp_path / "p", "--indicators", "PROT-02")
    book = openpyxl.load_workbook(tmp_path / "p" / "data" / "cases.xlsx")
    assert book.sheetnames == ["cases", "lists", "notes"]
    assert book["lists"].sheet_state == "hidden"
    sheet = book["cases"]
    header = [cell.value for cell in sheet[1]]
    assert header == [c.name for c in table("cases").input_columns]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    validations = {
        str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation
    }
    sex = f"{openpyxl.utils.get_column_letter(header.index('sex') + 1)}2"
    consent = f"{openpyxl.utils.get_column_letter(header.index('has_consent') + 1)}2"
    lists = book["lists"]
    column = validations[sex].split("!")[1].split(":")[0].replace("$", "")[0]
    assert [lists[f"{column}{r}"].value for r in range(1, 6)] == [
        "sex",
        "female",
        "male",
        "other",
        "unknown",
    ]
    assert consent in validations
    categorical = [c for c in table("cases").input_columns if c.kind in ("category", "boolean")]
    assert len(validations) == len(categorical)
    notes = {row[0]: row for row in book["notes"].iter_rows(min_row=2, values_only=True)}
    assert notes["case_id"][2] == "yes"
    assert notes["sex"][3] == "female, male, other, unknown"


def test_refuses_to_overwrite_a_project(tmp_path):
    assert run(tmp_path / "p").exit_code == 0
    before = (tmp_path / "p" / "project.yaml").read_text()
    result = run(tmp_path / "p", "--name", "Other")
    assert result.exit_code == 2
    assert "already exists" in result.output and "never overwrites" in result.output
    assert (tmp_path / "p" / "project.yaml").read_text() == before


def test_unknown_indicator_ids_write_nothing(tmp_path):
    result = run(tmp_path / "p", "--indicators", "PROT-02,PROT-99,PRV-01")
    assert result.exit_code == 2
    assert (
        "'PROT-99' is not in the catalogue" in result.output
        and "did you mean 'PREV-01'?" in result.output
    )
    assert not (tmp_path / "p").exists()


def test_existing_data_files_are_not_overwritten(tmp_path):
    (tmp_path / "p" / "data").mkdir(parents=True)
    (tmp_path / "p" / "data" / "cases.csv").write_text("our own data\n")
    result = run(tmp_path / "p", "--indicators", "PROT-02")
    assert result.exit_code == 2 and "cases.csv" in result.output
    assert (tmp_path / "p" / "data" / "cases.csv").read_text() == "our own data\n"
    assert not (tmp_path / "p" / "project.yaml").exists()
