"""`ctlib new --xlsform`: an XLSForm per standard table the indicators need, valid for pyxform and
ODK Validate, whose submissions load as KoboToolbox and ODK Central export them, with no column map.

The exports are built here from the written form itself (read back by pyxform): one column per
question, named as the servers name them, select_multiple both ways, the servers' metadata
columns; every answer is invented.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from pyxform.xls2xform import convert

from ctlib._cli import main
from ctlib._compute.engine import compute
from ctlib._data.countries import country_choices
from ctlib._data.ingest import load_project_data
from ctlib._data.project import load_project, load_project_file
from ctlib._data.tables import BOOLEAN, CATEGORY, COUNTRY, DATE, INTEGER, NUMBER, STRING, TABLES
from ctlib._publish.check import check_project
from ctlib._publish.xlsform import table_form, write_form

TODAY = dt.date(2026, 1, 5)  # ctlib new: the project runs 2026-01-01 … 2028-12-31


def new(*args) -> str:
    result = CliRunner().invoke(main, ["new", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def fields(form: Path) -> tuple[list[dict], dict]:
    """The form's questions as pyxform reads them (groups flattened into `path`), and its choices;
    the `meta` group pyxform adds (instanceID, instanceName) is left to the exports' metadata."""
    survey = convert(str(form))._pyxform

    def walk(children, path):
        for child in children:
            if child["name"] == "meta":
                continue
            if child["type"] in ("group", "repeat"):
                yield from walk(child["children"], [*path, child["name"]])
            else:
                yield {**child, "path": [*path, child["name"]]}

    return list(walk(survey["children"], [])), survey.get("choices", {})


# -- the forms -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_of_every_table(tmp_path_factory) -> Path:
    """A project whose reported indicators are a share (PART-09) and a count by sex (PART-14)."""
    directory = tmp_path_factory.mktemp("every") / "p"
    new(directory, "--indicators", "PART-09,PART-14")
    project_file = load_project_file(directory)
    project_file.set("indicators[1].disaggregations", ["sex"])
    project_file.save()
    return directory


@pytest.mark.parametrize("table_name", list(TABLES))
def test_every_standard_table_has_a_form_odk_validate_accepts(
    table_name, project_of_every_table, tmp_path, odk_validate
):
    project_file = load_project_file(project_of_every_table)
    form = table_form(table_name, project_file.project, project_file.catalogue, TODAY)
    path = tmp_path / f"{table_name}.xlsx"
    write_form(form, path)
    converted = convert(str(path), validate=True)  # ODK Validate (JavaRosa) checks the XForm
    assert converted.warnings == []
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings"]
    questions, choices = fields(path)
    names = [q["name"] for q in questions]
    table = TABLES[table_name]
    assert names == ["start", "end", *(c.name for c in table.input_columns)]
    for question in questions[2:]:
        column = table.column(question["name"])
        bind = question.get("bind", {})
        if question["name"] == "category":  # needed once a dimension is chosen
            assert bind == {"required": "yes", "relevant": "${dimension} != ''"}
        else:
            assert ("required" in bind) == column.required
        kind = question["type"]
        if column.kind == CATEGORY and table_name != "reported_values":
            expected = "select all that apply" if column.multiple else "select one"
            assert kind == expected
            assert [c["name"] for c in choices[question["list_name"]]] == list(column.categories)
        elif column.kind == COUNTRY:
            assert [c["name"] for c in choices[question["list_name"]]] == [
                code for code, _ in country_choices()
            ]
        elif column.kind == BOOLEAN:
            assert [c["name"] for c in choices[question["list_name"]]] == ["yes", "no"]
        elif column.kind == INTEGER and kind != "calculate":
            assert kind == "integer"
        elif column.kind == NUMBER:
            assert kind == "decimal"
        elif column.kind == DATE:
            assert kind == "date"


def test_the_form_of_cases(project_of_every_table):
    project_file = load_project_file(project_of_every_table)
    form = table_form("cases", project_file.project, project_file.catalogue, TODAY)
    survey = {row["name"]: row for row in form.survey}
    assert survey["case_id"]["type"] == "text" and survey["case_id"]["required"] == "yes"
    assert survey["age"]["constraint"] == ". >= 0 and . <= 120"
    assert survey["age"]["constraint_message"] == "A number from 0 to 120."
    assert survey["exploitation_types"]["type"] == "select_multiple exploitation_type"
    assert survey["exploitation_type"]["type"] == "select_one exploitation_type"  # one list
    assert survey["nationalities"]["type"] == "select_multiple countries"
    assert survey["exploitation_types_count"] == {
        "type": "calculate",
        "name": "exploitation_types_count",
        "calculation": "if(${exploitation_types} = '', '', count-selected(${exploitation_types}))",
    }
    assert survey["sex"]["label"] == "Sex" and survey["sex"]["hint"] == "Sex or gender as recorded"
    assert form.settings == {"version": "20260105", "instance_name": "concat('cases ', ${case_id})"}
    assert form.form_id == "p_cases"


def test_the_tally_form_offers_the_projects_indicators_periods_and_categories(
    project_of_every_table,
):
    project_file = load_project_file(project_of_every_table)
    form = table_form("reported_values", project_file.project, project_file.catalogue, TODAY)
    survey = {row["name"]: row for row in form.survey}
    by_list = {}
    for choice in form.choices:
        by_list.setdefault(choice["list_name"], []).append(choice)
    assert [c["name"] for c in by_list["indicators"]] == ["PART-09", "PART-14"]
    periods = [c["name"] for c in by_list["periods"]]
    assert periods[:2] == ["2026-Q1", "2026-Q2"] and periods[-4:] == [
        "2028-Q4",
        "2026",
        "2027",
        "2028",
    ]
    assert len(periods) == 12 + 3
    # PART-14 is disaggregated by sex in project.yaml: its dimension, and sex's categories
    assert [(c["name"], c["indicator"]) for c in by_list["dimensions"]] == [("sex", "PART-14")]
    assert survey["dimension"]["relevant"] == "${indicator_id} = 'PART-14'"
    assert survey["category"]["type"] == "select_one categories"
    assert survey["category"]["choice_filter"] == "dimension=${dimension}"
    assert [c["name"] for c in by_list["categories"]] == ["female", "male", "other", "unknown"]
    # a share (PART-09, percent) may give its numerator and denominator
    assert survey["numerator"]["relevant"] == "${indicator_id} = 'PART-09'"


# -- ctlib new --xlsform ---------------------------------------------------------------------------


def test_new_writes_a_form_per_table_the_indicators_need(tmp_path):
    directory = tmp_path / "p"
    output = new(directory, "--indicators", "PROT-02,PROT-10,PART-09", "--xlsform")
    forms = sorted(p.name for p in (directory / "forms").iterdir())
    assert forms == ["cases.xlsx", "reported_values.xlsx", "services.xlsx"]
    for name in forms:
        assert f"created {directory / 'forms' / name}" in output
    assert "format: kobo" in output and "XML values and headers" in output
    text = (directory / "project.yaml").read_text()
    assert "# collected with forms/cases.xlsx? Then read the export instead:" in text
    assert check_project(directory).passed


def test_on_an_existing_project_only_the_forms_are_written_and_a_users_file_is_kept(tmp_path):
    directory = tmp_path / "p"
    new(directory, "--indicators", "PROT-02,PROT-10")
    (directory / "forms").mkdir()
    (directory / "forms" / "cases.xlsx").write_bytes(b"the team's own form")
    before = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    output = new(directory, "--xlsform")
    assert f"kept {directory / 'forms' / 'cases.xlsx'}: a file of that name is there" in output
    assert f"created {directory / 'forms' / 'services.xlsx'}" in output
    after = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    assert set(after) - set(before) == {directory / "forms" / "services.xlsx"}
    assert all(after[p] == content for p, content in before.items())  # nothing else touched


def test_an_existing_project_takes_no_new_name_or_indicators(tmp_path):
    new(tmp_path / "p", "--indicators", "PROT-02")
    result = CliRunner().invoke(main, ["new", str(tmp_path / "p"), "--xlsform", "--name", "Other"])
    assert (
        result.exit_code == 2 and "--name and --indicators are for a new project" in result.output
    )
    assert not (tmp_path / "p" / "forms").exists()


def test_a_project_selecting_no_indicator_gets_no_form(tmp_path):
    new(tmp_path / "p")
    assert "no form: project.yaml selects no indicator" in new(tmp_path / "p", "--xlsform")


# -- the round trip: submissions exported by the servers load with no column map -------------------


def answers(questions, choices, number: int, given: dict) -> dict:
    """One submission: `given` answers, and a valid answer to every other question (so that every
    question type is read), as the servers store them (choice names; select_multiple: names
    separated by spaces)."""
    answered = {}
    for question in questions:
        name, kind = question["name"], question["type"]
        if name in given:
            answered[name] = given[name]
        elif kind in ("start", "end"):
            answered[name] = f"2026-02-0{number}T09:0{number}:00.000+01:00"
        elif kind == "text":
            answered[name] = f"{name} {number}"
        elif kind == "integer":
            answered[name] = number + 1
        elif kind == "decimal":
            answered[name] = number + 0.5
        elif kind == "date":
            answered[name] = f"2026-03-0{number}"
        elif kind == "select one":
            options = choices[question["list_name"]]
            answered[name] = options[number % len(options)]["name"]
        elif kind == "select all that apply":
            options = choices[question["list_name"]]
            answered[name] = " ".join(o["name"] for o in options[number : number + 2])
    for question in questions:  # calculations, as the server computes them
        if question["type"] == "calculate":
            counted = question["name"].removesuffix("_count")
            answered[question["name"]] = len(answered.get(counted, "").split()) or ""
    return answered


KOBO_METADATA = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status"]
KOBO_METADATA += ["_submitted_by", "__version__", "_tags", "_index"]


def kobo_export(form: Path, submissions: list[dict], path: Path) -> None:
    """KoboToolbox's xlsx export, "XML values and headers", select_multiple both ways: the
    summary column and one 0/1 column per choice (empty when the question was not answered)."""
    questions, choices = fields(form)
    header, cells = [], []
    for question in questions:
        name = "/".join(question["path"])
        header.append(name)
        if question["type"] == "select all that apply":
            header += [f"{name}/{o['name']}" for o in choices[question["list_name"]]]
    for number, submission in enumerate(submissions, start=1):
        row = []
        for question in questions:
            value = submission.get(question["name"], "")
            row.append(value)
            if question["type"] == "select all that apply":
                chosen = set(str(value).split())
                row += [
                    ("1" if o["name"] in chosen else "0") if value else ""
                    for o in choices[question["list_name"]]
                ]
        uuid = f"0000-{number:04d}"
        row += [100 + number, uuid, f"2026-04-0{number}T10:00:00", "", "", "submitted_via_web"]
        row += ["enumerator", "vAbC", "", number]
        cells.append(row)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = convert(str(form))._pyxform["title"][:31].replace(":", "")
    sheet.append(header + KOBO_METADATA)
    for row in cells:
        sheet.append(row)
    book.save(path)


ODK_METADATA = ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent"]
ODK_METADATA += ["AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]


def odk_export(form: Path, submissions: list[dict], path: Path) -> None:
    """ODK Central's csv export: SubmissionDate first, group names joined by '-', select_multiple
    as the choices' names separated by spaces, Central's own columns last."""
    questions, _ = fields(form)
    header = ["SubmissionDate", *("-".join(q["path"]) for q in questions), *ODK_METADATA]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for number, submission in enumerate(submissions, start=1):
            key = f"uuid:{number:08d}-odk"
            writer.writerow(
                [f"2026-04-0{number}T10:00:00.000Z"]
                + [submission.get(q["name"], "") for q in questions]
                + [key, key, 7, "Enumerator", 0, 0, "", "", "collect:x", 0, "20260105"]
            )


CASES = [  # the answers the results are checked on; every other question gets a valid answer
    {
        "case_id": "C-1",
        "identification_date": "2026-02-03",
        "sex": "female",
        "age": 16,
        "trafficking_status": "actual",
        "exploitation_types": "sexual_exploitation forced_labour",
        "nationalities": "NG BJ",
    },
    {
        "case_id": "C-2",
        "identification_date": "2026-05-20",
        "sex": "male",
        "age": 31,
        "trafficking_status": "possible",
        "exploitation_types": "",
        "nationalities": "NG",
    },
    {
        "case_id": "C-3",
        "identification_date": "2026-06-01",
        "sex": "female",
        "age": 24,
        "trafficking_status": "not_a_victim",
        "exploitation_types": "forced_begging",
        "nationalities": "",
    },
]
SERVICES = [
    {"service_id": "S-1", "case_id": "C-1", "service_type": "shelter", "start_date": "2026-02-04"},
    {"service_id": "S-2", "case_id": "C-1", "service_type": "medical", "start_date": "2026-02-05"},
    {"service_id": "S-3", "case_id": "C-2", "service_type": "shelter", "start_date": "2026-05-21"},
]


def collected(directory: Path, table_name: str, given: list[dict]) -> list[dict]:
    questions, choices = fields(directory / "forms" / f"{table_name}.xlsx")
    return [answers(questions, choices, n, g) for n, g in enumerate(given, start=1)]


@pytest.mark.parametrize("server", ["kobo", "odk"])
def test_submissions_exported_by_the_server_load_with_no_column_map(tmp_path, server):
    directory = tmp_path / "p"
    new(directory, "--indicators", "PROT-02,PROT-10", "--xlsform")
    submitted = {
        name: collected(directory, name, g)
        for name, g in (("cases", CASES), ("services", SERVICES))
    }
    export = kobo_export if server == "kobo" else odk_export
    suffix = "xlsx" if server == "kobo" else "csv"
    for name, submissions in submitted.items():
        export(
            directory / "forms" / f"{name}.xlsx",
            submissions,
            directory / "data" / f"{name}-export.{suffix}",
        )
    project_file = load_project_file(directory)
    for name in submitted:
        project_file.set(
            f"sources.{name}", {"file": f"data/{name}-export.{suffix}", "format": server}
        )
    project_file.save()

    data = load_project_data(directory)
    assert not [p for p in data.warnings if p.rule in ("unmapped column", "column map")]
    for name, submissions in submitted.items():
        frame = data.tables[name]
        table = TABLES[name]
        assert len(frame) == len(submissions)
        for column in table.input_columns:
            expected = [typed(s.get(column.name, ""), column) for s in submissions]
            if column.name == "exploitation_types":  # empty: the main form
                expected = [e or s["exploitation_type"] for e, s in zip(expected, submissions)]
            found = [None if pd.isna(v) else v for v in frame[column.name]]
            assert found == expected, column.name
    cases = data.tables["cases"]
    assert cases["exploitation_types"].tolist()[0] == "sexual_exploitation;forced_labour"
    assert cases["nationalities"].tolist()[0] == "BJ;NG"  # codes in their alphabetical order
    assert cases["exploitation_types_count"].tolist() == [2, pd.NA, 1]
    assert data.tables["services"]["case_id"].tolist() == ["C-1", "C-1", "C-2"]
    # PROT-02: actual or possible victims by identification date: C-1 in 2026-Q1, C-2 in 2026-Q2;
    # PROT-10: victims sheltered: C-1 (2026-Q1) and C-2 (2026-Q2)
    results = compute(data, periods="all").table
    totals = results[results["dimension"] == "total"].set_index(["indicator_id", "period"])["value"]
    for indicator in ("PROT-02", "PROT-10"):
        assert totals[indicator][["2026-Q1", "2026-Q2", "life_of_project"]].tolist() == [1, 1, 2]
    assert check_project(directory).passed


def typed(answer, column):
    """An answer as ingestion types it: the standard value of a column."""
    if answer in ("", None):
        return None
    if column.multiple:
        chosen = answer.split()  # the categories' order; countries: their codes' order
        order = column.categories or sorted(chosen)
        return ";".join(sorted(chosen, key=order.index))
    if column.kind == BOOLEAN:
        return answer == "yes"
    if column.kind == DATE:
        return pd.Timestamp(answer)
    if column.kind in (INTEGER, NUMBER):
        return answer
    assert column.kind in (STRING, CATEGORY, COUNTRY)
    return str(answer)


def test_tally_submissions_load_and_check_clean(tmp_path):
    directory = tmp_path / "p"
    new(directory, "--indicators", "PART-14")
    project_file = load_project_file(directory)
    project_file.set("indicators[0].disaggregations", ["sex"])
    project_file.save()
    new(directory, "--xlsform")
    rows = [
        {"indicator_id": "PART-14", "period": "2026-Q1", "value": 12},
        {
            "indicator_id": "PART-14",
            "period": "2026-Q1",
            "dimension": "sex",
            "category": "female",
            "value": 7,
        },
        {
            "indicator_id": "PART-14",
            "period": "2026-Q1",
            "dimension": "sex",
            "category": "male",
            "value": 5,
        },
        {"indicator_id": "PART-14", "period": "2026-Q2", "value": 9},
    ]
    form = directory / "forms" / "reported_values.xlsx"
    questions, _ = fields(form)
    submissions = [{q["name"]: row.get(q["name"], "") for q in questions} for row in rows]
    kobo_export(form, submissions, directory / "data" / "tally.xlsx")
    project_file = load_project_file(directory)
    project_file.set("sources.reported_values", {"file": "data/tally.xlsx", "format": "kobo"})
    project_file.save()
    assert check_project(directory).passed
    results = compute(load_project_data(directory), periods="all").table
    found = results.set_index(["period", "dimension", "category"])["value"]
    assert found[("2026-Q1", "total", "total")] == 12
    assert found[("2026-Q1", "sex", "female")] == 7
    assert found[("life_of_project", "total", "total")] == 21  # 12 + 9
    assert load_project(directory).sources["reported_values"].format == "kobo"
