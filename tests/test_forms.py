"""KoboToolbox and ODK Central exports read with no column map: group prefixes, both layouts of
select_multiple, metadata columns, rejected submissions and repeat groups joined to their parent.

The exports are written here by hand in the layout the two servers use (KoboToolbox: an xlsx
with the form's sheet and one sheet per repeat group, `/` between groups and fields, `_index` and
`_parent_index`; ODK Central: one csv per table, `-` between groups and fields, `KEY` and
`PARENT_KEY`); every person in them is invented.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ctlib._compute.engine import compute
from ctlib._data.ingest import load_project_data
from ctlib._errors import DataError

PROJECT = """\
project: {{id: forms, name: Forms, organisation: NGO, donor: Donor, country: NG,
          start_date: 2025-01-01, end_date: 2025-12-31}}
results_chain: {{objective: Fewer people trafficked}}
indicators:
  - {{id: PROT-02, disaggregations: [sex]}}
sources:
{sources}
"""

KOBO_MAIN = [  # the form's sheet: groups "intake" and "exploitation"; metadata as Kobo exports them
    "start",
    "end",
    "intake/case_id",
    "intake/identification_date",
    "intake/sex",
    "intake/age",
    "intake/trafficking_status",
    "exploitation/exploitation_types",
    "exploitation/exploitation_types/sexual_exploitation",
    "exploitation/exploitation_types/forced_labour",
    "exploitation/exploitation_types/forced_begging",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
]
KOBO_ROWS = [
    # K-1: two forms of exploitation (chosen in the 0/1 columns; the summary says the same)
    [
        "2025-02-01T09:00:00",
        "2025-02-01T09:20:00",
        "K-1",
        "2025-02-01",
        "female",
        16,
        "actual",
        "sexual_exploitation forced_labour",
        1,
        1,
        0,
        101,
        "uuid-a",
        "2025-02-01T10:00:00",
        "validation_status_approved",
        "",
        "submitted_via_web",
        "enumerator1",
        "v1",
        "",
        1,
    ],
    # K-2: one form
    [
        "2025-04-03T09:00:00",
        "2025-04-03T09:20:00",
        "K-2",
        "2025-04-03",
        "male",
        30,
        "possible",
        "forced_begging",
        0,
        0,
        1,
        102,
        "uuid-b",
        "2025-04-03T10:00:00",
        "",
        "",
        "submitted_via_web",
        "enumerator1",
        "v1",
        "",
        2,
    ],
    # K-3: rejected by the reviewer: left out, with its services
    [
        "2025-05-05T09:00:00",
        "2025-05-05T09:20:00",
        "K-3",
        "2025-05-05",
        "female",
        25,
        "actual",
        "forced_labour",
        0,
        1,
        0,
        103,
        "uuid-c",
        "2025-05-05T10:00:00",
        "validation_status_not_approved",
        "",
        "submitted_via_web",
        "enumerator2",
        "v1",
        "",
        3,
    ],
    # K-4: the question was not answered (every choice cell empty)
    [
        "2025-06-07T09:00:00",
        "2025-06-07T09:20:00",
        "K-4",
        "2025-06-07",
        "female",
        19,
        "actual",
        "",
        "",
        "",
        "",
        104,
        "uuid-d",
        "2025-06-07T10:00:00",
        "",
        "",
        "submitted_via_web",
        "enumerator2",
        "v2",
        "",
        4,
    ],
]
KOBO_SERVICES = [
    "services/service_type",
    "services/start_date",
    "_parent_table_name",
    "_parent_index",
    "_submission__id",
    "_submission__uuid",
    "_submission__submission_time",
]
KOBO_SERVICE_ROWS = [
    ["shelter", "2025-02-02", "Case intake", 1, 101, "uuid-a", "2025-02-01T10:00:00"],
    ["medical", "2025-02-03", "Case intake", 1, 101, "uuid-a", "2025-02-01T10:00:00"],
    ["legal_aid", "2025-04-04", "Case intake", 2, 102, "uuid-b", "2025-04-03T10:00:00"],
    ["shelter", "2025-05-06", "Case intake", 3, 103, "uuid-c", "2025-05-05T10:00:00"],
]


def refused(directory: Path) -> list:
    """The problems for which the project's data cannot be used (DataError expected)."""
    with pytest.raises(DataError) as raised:
        load_project_data(directory)
    return raised.value.problems


def kobo_export(path: Path, main=KOBO_MAIN, rows=KOBO_ROWS, services=KOBO_SERVICE_ROWS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Case intake"
    sheet.append(main)
    for row in rows:
        sheet.append([cell for name, cell in zip(KOBO_MAIN, row) if name in main])
    repeat = book.create_sheet("services")
    repeat.append(KOBO_SERVICES)
    for row in services:
        repeat.append(row)
    book.save(path)


KOBO_SOURCES = """\
  cases: {file: intake.xlsx, format: kobo}
  services: {file: intake.xlsx, format: kobo, sheet: services, repeat_of: cases}
"""


def write_project(directory: Path, sources: str) -> None:
    (directory / "project.yaml").write_text(PROJECT.format(sources=sources), encoding="utf-8")


def test_a_kobo_export_loads_with_no_column_map(tmp_path):
    kobo_export(tmp_path / "intake.xlsx")
    write_project(tmp_path, KOBO_SOURCES)
    data = load_project_data(tmp_path)
    cases = data.tables["cases"]
    assert cases["case_id"].tolist() == ["K-1", "K-2", "K-4"]  # K-3 was not approved
    assert cases.index.tolist() == [2, 3, 5]  # the sheet's own rows
    assert cases["sex"].tolist() == ["female", "male", "female"]
    assert cases["age"].tolist() == [16, 30, 19]
    # the 0/1 columns, in the categories' order, joined by ";"; an unanswered question is empty
    assert cases["exploitation_types"].tolist() == [
        "sexual_exploitation;forced_labour",
        "forced_begging",
        pd.NA,
    ]
    services = data.tables["services"]
    # each service is joined to its case by _parent_index → _index; the rejected case's service is
    # left out; Kobo keeps no id per repeat row: the case's id and the row's number within it
    assert services["case_id"].tolist() == ["K-1", "K-1", "K-2"]
    assert services["service_id"].tolist() == ["K-1-1", "K-1-2", "K-2-1"]
    assert services["service_type"].tolist() == ["shelter", "medical", "legal_aid"]
    rejected = [p for p in data.warnings if p.rule == "rejected submissions"]
    assert [(p.file, p.sheet) for p in rejected] == [
        ("intake.xlsx", "Case intake"),
        ("intake.xlsx", "services"),
    ]
    assert "1 submission(s) marked rejected or not approved are left out" in rejected[0].message
    # no metadata column is loaded, nor listed as ignored
    assert not any(p.rule == "unmapped column" for p in data.warnings)
    # PROT-02 counts actual and possible victims identified: Q1 K-1, Q2 K-2 and K-4 = 1 and 2
    results = compute(data, periods="all").table
    totals = results[(results["dimension"] == "total")].set_index("period")["value"]
    assert totals[["2025-Q1", "2025-Q2", "life_of_project"]].tolist() == [1, 2, 3]


def test_the_rejected_submissions_may_be_kept(tmp_path):
    kobo_export(tmp_path / "intake.xlsx")
    write_project(
        tmp_path, KOBO_SOURCES.replace("format: kobo}", "format: kobo, include_rejected: true}")
    )
    data = load_project_data(tmp_path)
    assert data.tables["cases"]["case_id"].tolist() == ["K-1", "K-2", "K-3", "K-4"]
    assert data.tables["services"]["case_id"].tolist() == ["K-1", "K-1", "K-2", "K-3"]


def test_a_kobo_select_multiple_as_one_cell_of_space_separated_choices(tmp_path):
    summary_only = [c for c in KOBO_MAIN if c.count("/") < 2]
    kobo_export(tmp_path / "intake.xlsx", main=summary_only)
    write_project(tmp_path, KOBO_SOURCES)
    cases = load_project_data(tmp_path).tables["cases"]
    assert cases["exploitation_types"].tolist() == [
        "sexual_exploitation;forced_labour",
        "forced_begging",
        pd.NA,
    ]


def test_an_unknown_choice_is_reported_at_its_row_and_column(tmp_path):
    rows = [list(row) for row in KOBO_ROWS]
    rows[1][KOBO_MAIN.index("exploitation/exploitation_types")] = "forced_begging organ_trade"
    summary_only = [c for c in KOBO_MAIN if c.count("/") < 2]
    kobo_export(tmp_path / "intake.xlsx", main=summary_only, rows=rows)
    write_project(tmp_path, KOBO_SOURCES)
    [problem] = refused(tmp_path)
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "intake.xlsx",
        "Case intake",
        3,
        "exploitation/exploitation_types (exploitation_types)",
    )
    assert "unknown category 'organ_trade'" in problem.message


def test_a_repeat_row_whose_parent_is_missing(tmp_path):
    services = [*KOBO_SERVICE_ROWS, ["medical", "2025-07-01", "Case intake", 9, 109, "uuid-z", ""]]
    kobo_export(tmp_path / "intake.xlsx", services=services)
    write_project(tmp_path, KOBO_SOURCES)
    [problem] = refused(tmp_path)
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "intake.xlsx",
        "services",
        6,
        "_parent_index",
    )
    assert problem.message == "no cases row of the export has _index '9'"


# -- ODK Central -----------------------------------------------------------------------------------

ODK_MAIN = (
    "SubmissionDate,intake-case_id,intake-identification_date,intake-sex,intake-age,"
    "intake-trafficking_status,exploitation-exploitation_types,"
    "exploitation-exploitation_types/sexual_exploitation,exploitation-exploitation_types/forced_labour,"
    "meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,"
    "Status,ReviewState,DeviceID,Edits,FormVersion\n"
    "2025-03-01T10:00:00.000Z,O-1,2025-03-01,female,17,actual,sexual_exploitation "
    "forced_labour,1,1,"
    "uuid:0001,uuid:0001,5,Enumerator One,0,0,,approved,collect:abc,0,1\n"
    "2025-03-02T10:00:00.000Z,O-2,2025-03-02,male,,possible,forced_labour,0,1,"
    "uuid:0002,uuid:0002,5,Enumerator One,0,0,,rejected,collect:abc,0,1\n"
    "2025-08-02T10:00:00.000Z,O-3,2025-08-02,female,22,actual,,0,0,"
    "uuid:0003,uuid:0003,6,Enumerator Two,0,0,,,collect:def,0,1\n"
)
ODK_SERVICES = (
    "service_type,start_date,PARENT_KEY,KEY\n"
    "shelter,2025-03-02,uuid:0001,uuid:0001/services[1]\n"
    "psychosocial,2025-03-09,uuid:0001,uuid:0001/services[2]\n"
    "medical,2025-03-03,uuid:0002,uuid:0002/services[1]\n"
    "shelter,2025-08-03,uuid:0003,uuid:0003/services[1]\n"
)


def test_an_odk_central_csv_export_with_a_repeat_group(tmp_path):
    (tmp_path / "intake.csv").write_text(ODK_MAIN, encoding="utf-8")
    (tmp_path / "intake-services.csv").write_text(ODK_SERVICES, encoding="utf-8")
    write_project(
        tmp_path,
        "  cases: {file: intake.csv, format: odk}\n"
        "  services: {file: intake-services.csv, format: odk, repeat_of: cases}\n",
    )
    data = load_project_data(tmp_path)
    cases = data.tables["cases"]
    assert cases["case_id"].tolist() == ["O-1", "O-3"]  # O-2 was rejected
    assert cases.index.tolist() == [2, 4]
    assert cases["exploitation_types"].tolist() == ["sexual_exploitation;forced_labour", pd.NA]
    services = data.tables["services"]
    assert services["case_id"].tolist() == ["O-1", "O-1", "O-3"]
    assert services["service_id"].tolist() == [  # the repeat row's own KEY
        "uuid:0001/services[1]",
        "uuid:0001/services[2]",
        "uuid:0003/services[1]",
    ]
    # the submitter's name is never loaded: metadata is left out whole
    assert "Enumerator" not in cases.to_csv() + services.to_csv()


def test_an_odk_form_without_an_id_question_uses_the_submission_key(tmp_path):
    text = (
        ODK_MAIN.replace("intake-case_id,", "")
        .replace("O-1,", "")
        .replace("O-2,", "")
        .replace("O-3,", "")
    )
    (tmp_path / "intake.csv").write_text(text, encoding="utf-8")
    write_project(tmp_path, "  cases: {file: intake.csv, format: odk}\n")
    data = load_project_data(tmp_path)
    assert data.tables["cases"]["case_id"].tolist() == ["uuid:0001", "uuid:0003"]
    [note] = [p for p in data.warnings if p.rule == "record id"]
    assert note.message == "no case_id column: the export's KEY identifies each record"


def test_export_options_need_an_export_format(tmp_path):
    from ctlib._errors import ProjectError

    (tmp_path / "services.csv").write_text("service_id\n", encoding="utf-8")
    write_project(tmp_path, "  services: {file: services.csv, repeat_of: cases}\n")
    with pytest.raises(ProjectError) as raised:
        load_project_data(tmp_path)
    entries = sorted(p.entry for p in raised.value.problems)
    assert entries == ["sources.services.repeat_of", "sources.services.repeat_of"]
    messages = " ".join(p.message for p in raised.value.problems)
    assert "format: kobo or odk" in messages and "no source for 'cases'" in messages


def test_choice_columns_of_a_plain_csv_declared_under_options(tmp_path):
    text = textwrap.dedent(
        """\
        case_id,identification_date,Sexual,Labour,Begging
        C1,2025-01-05,yes,no,
        C2,2025-01-06,no,no,yes
        C3,2025-01-07,maybe,,
        """
    )
    (tmp_path / "cases.csv").write_text(text, encoding="utf-8")
    sources = (
        "  cases:\n    file: cases.csv\n    options:\n      exploitation_types:\n"
        "        {Sexual: sexual_exploitation, Labour: forced_labour, Begging: forced_begging}\n"
    )
    write_project(tmp_path, sources)
    [problem] = refused(tmp_path)
    assert (problem.row, problem.column, problem.value) == (4, "Sexual", "maybe")
    (tmp_path / "cases.csv").write_text(text.replace("maybe", "no"), encoding="utf-8")
    cases = load_project_data(tmp_path).tables["cases"]
    assert cases["exploitation_types"].tolist() == ["sexual_exploitation", "forced_begging", pd.NA]


def test_multi_valued_cells_with_a_declared_separator(tmp_path):
    text = (
        "case_id,identification_date,exploitation_types\n"
        "C1,2025-01-05,Forced labour | Sexual exploitation | forced labour\n"
    )
    (tmp_path / "cases.csv").write_text(text, encoding="utf-8")
    write_project(tmp_path, "  cases: {file: cases.csv, separators: {exploitation_types: '|'}}\n")
    cases = load_project_data(tmp_path).tables["cases"]
    # the categories' declared order, no repeats
    assert cases["exploitation_types"].tolist() == ["sexual_exploitation;forced_labour"]
