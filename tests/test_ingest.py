"""Ingestion: readers, maps, derived columns, every validation rule.

Readers: encodings, delimiters, xlsx layouts, parquet.

Expected values are worked out by hand from the small files written in each test.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ctlib._data.ingest import load_project_data, read_table
from ctlib._data.origin import MAX_LISTED
from ctlib._data.project_model import Project, Source
from ctlib._errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
PROJECT = Project.model_validate(
    {
        "project": {
            "id": "t",
            "name": "T",
            "organisation": "O",
            "donor": "D",
            "country": "NG",
            "start_date": "2024-01-01",
            "end_date": "2025-12-31",
        },
        "results_chain": {"objective": "x"},
    }
)
CASES = "case_id,identification_date,sex\nC1,2024-01-05,female\nC2,2024-02-06,male\n"


def read(tmp_path, name, content, table="cases", **source):
    """read_table on a file written into tmp_path."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return read_table(Source(file=name, **source), table, tmp_path, PROJECT)


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def only(problems, rule):
    return [p for p in problems if p.rule == rule]


# -- readers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, delimiter",
    [
        ("utf-8", ","),
        ("utf-8-sig", ";"),
        ("cp1252", "\t"),
        ("utf-8", "|"),
    ],
)
def test_csv_encodings_and_delimiters_are_detected(tmp_path, encoding, delimiter):
    text = (
        f"case_id{delimiter}identification_date{delimiter}location\n"
        f"C1{delimiter}2024-01-05{delimiter}Lomé\n"
    )
    frame, problems = read(tmp_path, "cases.csv", text.encode(encoding))
    assert errors(problems) == []
    assert frame.loc[2, "location"] == "Lomé"
    assert list(frame.index) == [2]


def test_cp1252_after_the_sampled_head_is_read_on_a_second_try(tmp_path):
    rows = "".join(f"C{i},2024-01-05,Abuja\n" for i in range(5000))  # > 64 KiB of ASCII first
    text = "case_id,identification_date,location\n" + rows + "C-last,2024-01-06,Séguéla\n"
    frame, problems = read(tmp_path, "cases.csv", text.encode("cp1252"))
    assert errors(problems) == []
    assert frame["location"].iloc[-1] == "Séguéla"


def test_configured_delimiter_encoding_and_header_row(tmp_path):
    text = "Export of 2024-06-30\n\ncase_id;identification_date\nC1;2024-01-05\n"
    frame, problems = read(
        tmp_path,
        "cases.csv",
        text.encode("latin-1"),
        delimiter=";",
        encoding="latin-1",
        header_row=3,
    )
    assert errors(problems) == []
    assert frame.loc[4, "case_id"] == "C1"  # the user's line 4


def test_ids_and_mapped_codes_are_read_as_written(tmp_path):
    text = "case_id,identification_date,Sexe\n00123,2024-01-05,01\n00124,2024-01-05,02\n"
    frame, problems = read(
        tmp_path,
        "cases.csv",
        text,
        columns={"Sexe": "sex"},
        values={"sex": {"01": "female", "02": "male"}},
    )
    assert errors(problems) == []
    assert frame["case_id"].tolist() == ["00123", "00124"]
    assert frame["sex"].tolist() == ["female", "male"]


def test_blank_lines_keep_the_line_numbers(tmp_path):
    frame, problems = read(
        tmp_path, "cases.csv", "case_id,identification_date\nC1,2024-01-05\n\nC2,2024-01-06\n"
    )
    assert errors(problems) == []
    assert list(frame.index) == [2, 4]


def test_a_large_csv_with_every_column_used_keeps_its_line_numbers(tmp_path):
    # > 5 MB with no column left out: pandas reads it in parallel chunks
    rows = [
        f"C{i:06d},2024-01-05,{'female' if i % 2 else 'male'},Abuja central district\n"
        for i in range(120_000)
    ]
    rows[50_000] = "\n"
    text = "case_id,identification_date,sex,location\n" + "".join(rows)
    assert len(text) > 5 * 2**20
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert len(frame) == 119_999 and 50_002 not in frame.index
    assert frame.loc[[50_001, 50_003, 120_001], "case_id"].tolist() == [
        "C049999",
        "C050001",
        "C119999",
    ]


def test_rows_longer_than_the_header_are_refused_when_their_extra_fields_hold_values(tmp_path):
    # line 3: "Lagos, Nigeria" without quotes pushes every later value one column to the right
    text = (
        "case_id,location,identification_date\nC1,Abuja,2024-01-05\nC2,Lagos, Nigeria,2024-01-06\n"
    )
    for columns in ({}, {"location": "location"}):  # every column read, or some
        _, problems = read(tmp_path, "cases.csv", text, columns=columns)
        [problem] = only(problems, "fields per row")
        assert (problem.file, problem.row, problem.severity) == ("cases.csv", 3, "error")
        assert "line 3 has 4 fields but the header has 3" in problem.message


def test_empty_fields_beyond_the_header_are_ignored(tmp_path):
    text = "case_id,identification_date\nC1,2024-01-05,\nC2,2024-01-06,,\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert frame["case_id"].tolist() == ["C1", "C2"]


def test_htcds_csv_label_row_under_the_header_is_skipped(tmp_path):
    text = (
        "Export of 2024-06-30\ncas_Id,cas_CaseOpenDate,prs_Gender\nId,Case Open Date,Gender\n"
        "X1,2024-01-05,Feminine\nX2,2024-01-06,Masculine\n"
    )
    frame, problems = read(tmp_path, "cases.csv", text, format="htcds", header_row=2)
    assert errors(problems) == []
    assert list(frame.index) == [4, 5]
    assert frame["sex"].tolist() == ["female", "male"]


def test_empty_csv_is_an_error(tmp_path):
    frame, problems = read(tmp_path, "cases.csv", b"")
    assert [p.rule for p in problems] == ["empty file"]
    assert "empty" in problems[0].message and frame.empty


def test_header_only_csv_gives_an_empty_table(tmp_path):
    frame, problems = read(tmp_path, "cases.csv", "case_id,identification_date\n")
    assert errors(problems) == [] and len(frame) == 0
    assert str(frame["identification_date"].dtype) == "datetime64[ns]"


def write_xlsx(path, rows, title="cases", merge=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.create_sheet("notes")
    book.save(path)


def test_xlsx_merged_title_rows_above_the_header_are_skipped(tmp_path):
    write_xlsx(
        tmp_path / "cases.xlsx",
        [
            ["Register of cases, 2024"],
            ["Prepared by the M&E unit"],
            [],
            ["Case", "Date", "Sexe"],
            ["C1", dt.datetime(2024, 1, 5), "F"],
            [],
            ["C2", "06/02/2024", "M"],
        ],
        merge="A1:C1",
    )
    frame, problems = read_table(
        Source(
            file="cases.xlsx",
            sheet="cases",
            columns={"Case": "case_id", "Date": "identification_date", "Sexe": "sex"},
            values={"sex": {"F": "female", "M": "male"}},
        ),
        "cases",
        tmp_path,
        PROJECT,
    )
    assert errors(problems) == []
    assert list(frame.index) == [5, 7]  # Excel rows; the blank row 6 is skipped
    assert frame["identification_date"].tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-02-06"),
    ]
    assert frame["sex"].tolist() == ["female", "male"]


def test_xlsx_numbers_typed_as_ids_read_as_the_user_sees_them(tmp_path):
    write_xlsx(
        tmp_path / "cases.xlsx",
        [["case_id", "identification_date"], [101, "2024-01-05"], [102.0, "2024-01-06"]],
    )
    frame, problems = read_table(Source(file="cases.xlsx"), "cases", tmp_path, PROJECT)
    assert errors(problems) == []
    assert frame["case_id"].tolist() == ["101", "102"]


def test_xlsx_missing_sheet_lists_the_sheets(tmp_path):
    write_xlsx(tmp_path / "cases.xlsx", [["case_id"]])
    frame, problems = read_table(
        Source(file="cases.xlsx", sheet="Cases 2024"), "cases", tmp_path, PROJECT
    )
    assert [p.rule for p in problems] == ["sheet"]
    assert "no sheet 'Cases 2024'; the workbook has: cases, notes" in problems[0].message


def test_xlsx_empty_sheet_is_an_error(tmp_path):
    write_xlsx(tmp_path / "cases.xlsx", [])
    _, problems = read_table(Source(file="cases.xlsx"), "cases", tmp_path, PROJECT)
    assert [p.rule for p in problems] == ["empty file"]


def test_parquet(tmp_path):
    pd.DataFrame(
        {
            "case_id": ["C1", "C2"],
            "identification_date": pd.to_datetime(["2024-01-05", "2024-03-01"]),
            "age": [17, 18],
        }
    ).to_parquet(tmp_path / "cases.parquet")
    frame, problems = read_table(Source(file="cases.parquet"), "cases", tmp_path, PROJECT)
    assert errors(problems) == []
    assert list(frame.index) == [1, 2]
    assert frame["child_adult"].tolist() == ["child", "adult"]


def test_parquet_missing_values_of_every_kind_are_empty_not_errors(tmp_path):
    pd.DataFrame(
        {
            "case_id": ["C1", "C2", "C3"],
            "identification_date": pd.to_datetime(["2024-01-05"] * 3),
            "sex": pd.Categorical(["f", None, "male"]),
            "age": pd.array([17, None, 30], dtype="Int64"),
            "referral_date": pd.to_datetime(["2024-01-06", None, None]),
            "location": ["Lomé", None, None],
            "is_referred": pd.array([True, None, False], dtype="boolean"),
        }
    ).to_parquet(tmp_path / "cases.parquet")
    frame, problems = read_table(
        Source(file="cases.parquet", values={"sex": {"f": "female"}}), "cases", tmp_path, PROJECT
    )
    assert errors(problems) == []
    assert frame["sex"].tolist() == ["female", pd.NA, "male"]
    assert frame["age"].tolist() == [17, pd.NA, 30]
    assert frame["referral_date"].isna().tolist() == [False, True, True]
    assert frame["location"].tolist() == ["Lomé", pd.NA, pd.NA]
    assert frame["is_referred"].tolist() == [True, pd.NA, False]


# -- maps, types, derived columns ------------------------------------------------------------------


def test_mapped_project_loads_with_hand_checked_values():
    data = load_project_data(FIXTURES / "mapped")
    cases = data.tables["cases"]
    assert list(cases.index) == [2, 3, 4]
    assert cases["case_id"].tolist() == ["C-001", "C-002", "C-003"]
    assert cases["identification_date"].tolist() == [
        pd.Timestamp(d) for d in ("2024-01-15", "2024-03-02", "2024-05-10")
    ]
    assert cases["sex"].tolist() == [
        "female",
        "male",
        "female",
    ]  # F, M, and f (codes match ignoring case)
    assert cases["exploitation_type"].tolist() == [
        "sexual_exploitation",
        "forced_labour",
        "forced_labour",
    ]
    assert cases["age_group"].tolist() == ["12-17", "18-24", "25-34"]
    assert cases["child_adult"].tolist() == [
        "child",
        "adult",
        "adult",
    ]  # 17 and 18 fall either side
    assert cases["is_foreign_national"].tolist() == [
        False,
        True,
        False,
    ]  # BJ; "ng" is the project country
    assert cases["is_referred"].tolist() == [True, False, True]
    assert cases["days_to_referral_acceptance"].tolist() == [3, pd.NA, 0]
    services = data.tables["services"]
    assert services["service_type"].tolist() == ["shelter", "medical"]
    assert services["nights"].tolist() == [10, pd.NA]
    assert [p.message.split(":")[0] for p in data.warnings] == [
        "columns without a standard column are ignored"
    ]
    assert data.warnings[0].column is None and "Notes" in data.warnings[0].message
    assert [f.name for f in data.input_files] == ["project.yaml", "cases.csv", "services.csv"]


def test_dtypes_are_the_declared_ones():
    cases = load_project_data(FIXTURES / "mapped").tables["cases"]
    assert {str(cases[c].dtype) for c in ("case_id", "sex", "age_group")} == {"string"}
    assert str(cases["age"].dtype) == "Int64"
    assert str(cases["is_referred"].dtype) == "boolean"
    assert str(cases["wellbeing_intake_score"].dtype) == "Float64"
    assert str(cases["referral_date"].dtype) == "datetime64[ns]"


def test_standard_categories_match_ignoring_case_spaces_and_punctuation(tmp_path):
    text = (
        "case_id,identification_date,sex,exploitation_type,trafficking_status\n"
        "C1,2024-01-05, Female ,Sexual exploitation,Possible\n"
        "C2,2024-01-05,MALE,FORCED-LABOUR,actual\n"
    )
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert frame["sex"].tolist() == ["female", "male"]
    assert frame["exploitation_type"].tolist() == ["sexual_exploitation", "forced_labour"]


def test_booleans_and_dates_in_every_accepted_form(tmp_path):
    text = (
        "case_id,identification_date,has_consent\n"
        "C1,2024-01-05,yes\nC2,05/01/2024,N\nC3,05.01.2024,TRUE\nC4,2024/01/05,0\nC5,05-01-2024,1\nC6,05/01/24,\n"
    )
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert set(frame["identification_date"]) == {pd.Timestamp("2024-01-05")}
    assert frame["has_consent"].tolist() == [True, False, True, False, True, pd.NA]
    frame, problems = read(
        tmp_path,
        "cases.csv",
        "case_id,identification_date,has_consent\nC1,2024-01-05,1\n"
        "C2,2024-01-05,\nC3,2024-01-05,0\n",
    )  # read as 1.0, NaN, 0.0
    assert errors(problems) == [] and frame["has_consent"].tolist() == [True, pd.NA, False]


def test_birth_date_gives_the_age_at_identification_and_is_not_kept(tmp_path):
    text = (
        "case_id,identification_date,Date of birth\nC1,2024-06-01,2006-06-02\n"
        "C2,2024-06-01,2006-06-01\n"
    )
    frame, problems = read(tmp_path, "cases.csv", text, columns={"Date of birth": "birth_date"})
    assert errors(problems) == []
    assert frame["age"].tolist() == [17, 18]  # one day before and on the 18th birthday
    assert frame["child_adult"].tolist() == ["child", "adult"]
    assert "birth_date" not in frame


def test_services_completed_on_time_and_activities_total(tmp_path):
    services = (
        "service_id,case_id,service_type,start_date,planned_end_date,end_date,is_completed\n"
        "S1,C1,shelter,2024-01-01,2024-03-31,2024-03-31,yes\n"
        "S2,C1,shelter,2024-01-01,2024-03-31,2024-04-01,yes\n"
        "S3,C1,shelter,2024-01-01,2024-03-31,,no\n"
        "S4,C1,shelter,2024-01-01,,2024-04-01,yes\n"
    )
    frame, problems = read(tmp_path, "services.csv", services, table="services")
    assert errors(problems) == []
    assert frame["is_completed_on_time"].tolist() == [True, False, False, pd.NA]
    activities = (
        "activity_id,activity_date,activity_type,participants_female,participants_male,participants_total\n"
        "A1,2024-01-01,training,12,8,\nA2,2024-01-01,training,5,,\nA3,2024-01-01,training,,,\n"
        "A4,2024-01-01,training,1,1,30\n"
    )
    frame, problems = read(tmp_path, "activities.csv", activities, table="activities")
    assert errors(problems) == []
    assert frame["participants_total"].tolist() == [20, 5, pd.NA, 30]


# -- validation rules ------------------------------------------------------------------------------


def test_missing_required_column(tmp_path):
    _, problems = read(tmp_path, "cases.csv", "case_id,sex\nC1,female\n")
    [problem] = errors(problems)
    assert problem.rule == "required column" and problem.column == "identification_date"
    assert problem.message.startswith("missing required column 'identification_date'")


def test_empty_required_value(tmp_path):
    _, problems = read(
        tmp_path, "cases.csv", "case_id,identification_date\nC1,2024-01-05\n,2024-01-06\n"
    )
    [problem] = errors(problems)
    assert (problem.rule, problem.row, problem.column) == ("required value", 3, "case_id")


def test_wrong_types(tmp_path):
    text = (
        "case_id,identification_date,age,has_consent,wellbeing_intake_score\n"
        "C1,2024-01-05,17.5,maybe,high\n"
    )
    _, problems = read(tmp_path, "cases.csv", text)
    found = {(p.column, p.value): p.message for p in only(problems, "type")}
    assert found == {
        ("age", 17.5): "17.5 is not a whole number",
        ("has_consent", "maybe"): "'maybe' is not yes or no",
        ("wellbeing_intake_score", "high"): "'high' is not a number",
    }
    assert {p.row for p in only(problems, "type")} == {2}


def test_unparseable_date(tmp_path):
    _, problems = read(
        tmp_path,
        "cases.csv",
        "Registered,case_id\n31/02/2024,C1\n2024-13-01,C2\n",
        columns={"Registered": "identification_date"},
    )
    dates = only(problems, "date")
    assert [(p.row, p.value) for p in dates] == [(2, "31/02/2024"), (3, "2024-13-01")]
    assert dates[0].column == "Registered (identification_date)"
    assert "is not a date" in dates[0].message


def test_date_outside_the_project_period_is_a_warning(tmp_path):
    frame, problems = read(
        tmp_path, "cases.csv", "case_id,identification_date\nC1,2023-12-31\nC2,2024-01-01\n"
    )
    assert errors(problems) == []
    [warning] = only(problems, "date in project period")
    assert (warning.severity, warning.row, warning.value) == ("warning", 2, "2023-12-31")
    assert "outside the project period 2024-01-01 to 2025-12-31" in warning.message
    assert len(frame) == 2  # warnings do not drop rows


def test_unknown_category_lists_allowed_values_and_closest(tmp_path):
    _, problems = read(
        tmp_path, "cases.csv", "case_id,identification_date,sex\nC1,2024-01-05,femal\n"
    )
    [problem] = errors(problems)
    assert (problem.rule, problem.row, problem.column, problem.value) == (
        "category",
        2,
        "sex",
        "femal",
    )
    assert "allowed: female, male, other, unknown; closest: 'female'" in problem.message


def test_duplicate_ids(tmp_path):
    text = "case_id,identification_date\nC1,2024-01-05\nC2,2024-01-05\nC1,2024-01-06\n"
    _, problems = read(tmp_path, "cases.csv", text)
    [problem] = errors(problems)
    assert (problem.rule, problem.row, problem.value) == ("duplicate id", 4, "C1")
    assert problem.message == "case_id 'C1' is used twice (first in row 2)"


@pytest.mark.parametrize(
    "ids, row",
    [
        (["C1", "C2", "C2", "C3"], 4),  # in order, so checked without hashing
        (["C3", "C1", " C1 ", "C2"], 4),  # out of order; spaces around an id do not make it another
    ],
)
def test_duplicate_ids_in_or_out_of_order(tmp_path, ids, row):
    text = "case_id,identification_date\n" + "".join(f"{i},2024-01-05\n" for i in ids)
    _, problems = read(tmp_path, "cases.csv", text)
    [problem] = errors(problems)
    assert (problem.rule, problem.row) == ("duplicate id", row)


def test_ids_in_order_are_not_duplicates(tmp_path):
    text = "case_id,identification_date\n" + "".join(f"C{i:03d},2024-01-05\n" for i in range(300))
    _, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []


def test_duplicate_reported_values_by_indicator_period_dimension_category(tmp_path):
    text = (
        "indicator_id,period,dimension,category,value\n"
        "PROT-12,2024-Q1,,,80\nPROT-12,2024-Q1,shelter,north,70\nPROT-12,2024-Q2,,,75\nPROT-12,2024-Q1,,,81\n"
    )
    _, problems = read(tmp_path, "reported.csv", text, table="reported_values")
    [problem] = errors(problems)
    assert (problem.rule, problem.row) == ("duplicate id", 5)
    assert "PROT-12 / 2024-Q1 /  / " in problem.message


def test_negative_counts(tmp_path):
    text = (
        "activity_id,activity_date,activity_type,participants_female,reach\n"
        "A1,2024-01-05,training,-2,0\n"
    )
    _, problems = read(tmp_path, "activities.csv", text, table="activities")
    [problem] = errors(problems)
    assert (problem.rule, problem.row, problem.column, problem.value) == (
        "minimum",
        2,
        "participants_female",
        -2,
    )
    assert problem.message == "must be at least 0"


def test_rows_listed_per_rule_are_capped(tmp_path):
    rows = "".join(f"C{i},2024-01-05,femal\n" for i in range(MAX_LISTED + 5))
    _, problems = read(tmp_path, "cases.csv", "case_id,identification_date,sex\n" + rows)
    listed = errors(problems)
    assert len(listed) == MAX_LISTED + 1
    assert (
        listed[-1].row is None and listed[-1].message == "and 5 more row(s) with the same problem"
    )


@pytest.mark.parametrize(
    "column, kind",
    [
        ("Full name", "a person's name"),
        ("Surname", "a person's name"),
        ("Phone", "a phone number"),
        ("Mobile No", "a phone number"),
        ("E-mail", "an e-mail address"),
        ("Passport number", "a passport or ID number"),
        ("National ID", "a passport or ID number"),
        ("IdentityNumber", "a passport or ID number"),
        ("Home address", "an address"),
        ("DOB", "a date of birth"),
    ],
)
def test_identifier_columns_are_refused_by_name(tmp_path, column, kind):
    text = f"case_id,identification_date,{column}\nC1,2024-01-05,x\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    [problem] = errors(problems)
    assert (problem.rule, problem.column) == ("direct identifier", column)
    assert f"looks like {kind}" in problem.message and "internal_only_columns" in problem.message
    assert frame.empty


def test_identifier_columns_are_refused_by_value_without_echoing_them(tmp_path):
    text = (
        "case_id,identification_date,location,provider\n"
        "C1,2024-01-05,amina@example.org,+234 803 123 4567\nC2,2024-01-05,Lagos,0803 123 4567\n"
    )
    _, problems = read(tmp_path, "cases.csv", text)
    found = {p.column: p.message for p in errors(problems)}
    assert set(found) == {"location"}  # provider is not a column of cases: ignored, never read
    assert found["location"].startswith("values look like e-mail addresses (e.g. row 2)")
    assert "amina" not in str(problems)
    text = (
        "service_id,case_id,service_type,start_date,provider\n"
        "S1,C1,medical,2024-01-05,+234 803 123 4567\n"
    )
    _, problems = read(tmp_path, "services.csv", text, table="services")
    assert [(p.column, p.message[:30]) for p in errors(problems)] == [
        ("provider", "values look like phone numbers")
    ]


def test_internal_only_columns_are_accepted(tmp_path):
    text = "case_id,identification_date,ID number\nC1,2024-01-05,x\n"
    _, problems = read(tmp_path, "cases.csv", text, internal_only_columns=["ID number"])
    assert errors(problems) == []
    text = "Case ID number,identification_date\nC1,2024-01-05\n"
    frame, problems = read(
        tmp_path,
        "cases.csv",
        text,
        columns={"Case ID number": "case_id"},
        internal_only_columns=["Case ID number"],
    )
    assert errors(problems) == [] and frame["case_id"].tolist() == ["C1"]


def test_unmapped_and_derived_columns_are_ignored_with_warnings(tmp_path):
    text = "case_id,identification_date,Caseworker notes,age_group\nC1,2024-01-05,x,18-24\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert {p.rule for p in problems} == {"unmapped column", "derived column"}
    assert frame["age_group"].tolist() == ["unknown"]  # derived from age, which is missing


def test_column_map_naming_a_non_standard_column(tmp_path):
    _, problems = read(tmp_path, "cases.csv", CASES, columns={"sex": "gender"})
    [problem] = errors(problems)
    assert (problem.rule, problem.entry, problem.file) == (
        "column map",
        "sources.cases.columns.sex",
        "project.yaml",
    )
    assert "'gender' is not a column of cases" in problem.message


def test_value_map_for_a_non_standard_column(tmp_path):
    _, problems = read(tmp_path, "cases.csv", CASES, values={"gender": {"F": "female"}})
    [problem] = errors(problems)
    assert (problem.rule, problem.entry) == ("value map", "sources.cases.values.gender")


def test_configured_format_wins_over_the_extension(tmp_path):
    frame, problems = read(tmp_path, "cases.dat", CASES, format="csv")
    assert errors(problems) == [] and len(frame) == 2
    _, problems = read(tmp_path, "cases.dat", CASES)
    assert [p.rule for p in problems] == ["file format"]


def test_two_columns_mapped_to_one(tmp_path):
    text = "Case,case_id,identification_date\nA,B,2024-01-05\n"
    _, problems = read(tmp_path, "cases.csv", text, columns={"Case": "case_id"})
    [problem] = errors(problems)
    assert problem.message == "columns 'Case' and 'case_id' both map to 'case_id'"


def write_project(directory: Path, sources: dict, files: dict):
    shutil.copy(FIXTURES / "mapped" / "project.yaml", directory / "project.yaml")
    text = (directory / "project.yaml").read_text().split("# Our own spreadsheets")[0]
    lines = ["sources:"]
    for name, file in sources.items():
        lines.append(f"  {name}: {{file: {file}}}")
    (directory / "project.yaml").write_text(text + "\n".join(lines) + "\n")
    for name, content in files.items():
        (directory / name).write_text(content)


def test_service_of_an_unknown_case(tmp_path):
    write_project(
        tmp_path,
        {"cases": "cases.csv", "services": "services.csv"},
        {
            "cases.csv": CASES,
            "services.csv": (
                "service_id,case_id,service_type,start_date\n"
                "S1,C1,shelter,2024-01-05\nS2,C9,medical,2024-01-05\n"
            ),
        },
    )
    with pytest.raises(DataError) as raised:
        load_project_data(tmp_path)
    [problem] = raised.value.problems
    assert (problem.file, problem.rule, problem.row, problem.column) == (
        "services.csv",
        "foreign key",
        3,
        "case_id",
    )
    assert problem.message == "no cases record has case_id 'C9'"


def test_every_problem_of_every_file_at_once_and_nothing_written(tmp_path):
    write_project(
        tmp_path,
        {"cases": "cases.csv", "activities": "activities.csv"},
        {
            "cases.csv": (
                "case_id,identification_date,sex\nC1,2024-01-05,femme\nC1,yesterday,male\n"
            ),
            "activities.csv": "activity_id,activity_date\nA1,2024-01-05\n",
        },
    )
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")}
    with pytest.raises(DataError) as raised:
        load_project_data(tmp_path)
    rules = sorted((p.file, p.rule) for p in raised.value.problems)
    assert rules == [
        ("activities.csv", "required column"),
        ("cases.csv", "category"),
        ("cases.csv", "date"),
        ("cases.csv", "duplicate id"),
    ]
    assert "4 problem(s)" in str(raised.value)
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")} == before
    assert not any(name.startswith(".") for name in os.listdir(tmp_path))


def test_a_table_with_an_error_is_never_partly_returned(tmp_path):
    frame, problems = read(
        tmp_path, "cases.csv", "case_id,identification_date\nC1,2024-01-05\nC2,soon\n"
    )
    assert errors(problems) and frame.empty
    assert list(frame.columns)[:3] == ["case_id", "identification_date", "sex"]


# -- numbers as people write them; value maps that never corrupt values ----------------------------

REPORTED = "indicator_id,period,value\n"


def test_a_value_map_key_on_a_number_column_matches_exactly(tmp_path):
    # the key "<5" once matched every genuine 5 (keys were compared without their punctuation)
    text = REPORTED + "PROT-12,2024-Q1,5\nPROT-12,2024-Q2,<5\nPROT-12,2024-Q3,15\n"
    frame, problems = read(
        tmp_path, "tally.csv", text, table="reported_values", values={"value": {"<5": 2}}
    )
    assert errors(problems) == []
    assert frame["value"].tolist() == [5, 2, 15]  # only the cell written "<5" is mapped


def test_value_map_keys_that_collide_once_compared_loosely_are_an_error(tmp_path):
    _, problems = read(
        tmp_path, "cases.csv", CASES, values={"sex": {"F": "female", "f.": "male", "M": "male"}}
    )
    [problem] = errors(problems)
    assert (problem.file, problem.entry, problem.rule) == (
        "project.yaml",
        "sources.cases.values.sex.f.",
        "value map",
    )
    assert "keys 'F' and 'f.' are the same code" in problem.message


def test_a_value_map_sending_a_code_to_no_category_is_an_error(tmp_path):
    _, problems = read(tmp_path, "cases.csv", CASES, values={"sex": {"F": "femal"}})
    [problem] = errors(problems)
    assert problem.entry == "sources.cases.values.sex.F"
    assert "'F' is mapped to 'femal', which is not a category of sex" in problem.message


def test_numbers_with_thousands_separators_and_percent_signs(tmp_path):
    text = (
        "indicator_id,period,value\n"
        'PROT-12,2024-Q1,"2,315"\n'  # comma thousands: 2315
        "PROT-12,2024-Q2,2\u00a0315\n"  # no-break space thousands: 2315
        'PROT-12,2024-Q3,"1,234,567.5"\n'  # 1234567.5
        "PROT-12,2024-Q4,45%\n"  # a share in %: 45
    )
    frame, problems = read(tmp_path, "tally.csv", text, table="reported_values")
    assert errors(problems) == []
    assert frame["value"].tolist() == [2315, 2315, 1234567.5, 45]


def test_decimal_comma_sources(tmp_path):
    text = (
        "indicator_id;period;value\nPROT-12;2024-Q1;2.315\nPROT-12;2024-Q2;2,5\n"
        "PROT-12;2024-Q3;1.234,75\n"
    )
    frame, problems = read(
        tmp_path, "tally.csv", text, table="reported_values", numbers={"decimal": ","}
    )
    assert errors(problems) == []
    assert frame["value"].tolist() == [2315, 2.5, 1234.75]
    # the same file without the declaration: 2,5 is refused with the hint, never guessed
    _, problems = read(tmp_path, "tally.csv", text, table="reported_values")
    assert [(p.row, p.value) for p in errors(problems)] == [(3, "2,5"), (4, "1.234,75")]
    assert all("set numbers: {decimal: ','}" in p.message for p in errors(problems))


def test_source_suppressed_and_unavailable_reported_values_are_states_not_numbers(tmp_path):
    text = (
        "indicator_id,period,dimension,category,value\n"
        "PROT-12,2024-Q1,,,23\n"
        "PROT-12,2024-Q1,sex,female,<5\n"
        "PROT-12,2024-Q1,sex,male,< 3\n"
        "PROT-12,2024-Q2,,,..\n"
        "PROT-12,2024-Q3,,,n/a\n"
        "PROT-12,2024-Q4,,,x\n"
    )
    frame, problems = read(
        tmp_path,
        "tally.csv",
        text,
        table="reported_values",
        numbers={"source_suppressed": ["x"]},
    )
    assert errors(problems) == []
    assert frame["value"].tolist() == [23, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA]
    assert frame["value_state"].tolist() == [
        pd.NA,
        "source_suppressed",
        "source_suppressed",
        "unavailable",
        "unavailable",
        "source_suppressed",
    ]
    assert frame["value_as_written"].tolist() == [pd.NA, "<5", "< 3", "..", "n/a", "x"]


def test_a_marker_in_a_numerator_is_refused(tmp_path):
    text = "indicator_id,period,value,numerator\nPROT-12,2024-Q1,40,<5\n"
    _, problems = read(tmp_path, "tally.csv", text, table="reported_values")
    [problem] = errors(problems)
    assert (problem.row, problem.column, problem.rule) == (2, "numerator", "value state")


def test_case_level_numbers_refuse_suppressed_cells_and_warn_on_unavailable_ones(tmp_path):
    text = "case_id,identification_date,age\nC1,2024-01-05,<5\nC2,2024-01-05,..\nC3,2024-01-05,30\n"
    _, problems = read(tmp_path, "cases.csv", text)
    [error] = errors(problems)
    assert (error.file, error.row, error.column, error.value) == ("cases.csv", 2, "age", "<5")
    assert "a figure the source suppressed" in error.message
    text = "case_id,identification_date,age\nC2,2024-01-05,..\nC3,2024-01-05,30\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    [warning] = [p for p in problems if p.rule == "value state"]
    assert (warning.severity, warning.row, warning.column) == ("warning", 2, "age")
    assert frame["age"].tolist() == [pd.NA, 30]


def test_ages_over_120_are_refused(tmp_path):
    text = "case_id,identification_date,age\nC1,2024-01-05,999\nC2,2024-01-05,120\n"
    _, problems = read(tmp_path, "cases.csv", text)
    [problem] = errors(problems)
    assert (problem.row, problem.column, problem.rule, problem.value) == (2, "age", "maximum", 999)


def test_ambiguous_dates_say_which_order_was_assumed(tmp_path):
    text = "case_id,identification_date\nC1,09/08/2024\nC2,2024-08-10\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    [note] = only(problems, "date order")
    assert (note.severity, note.row, note.column) == ("warning", 2, "identification_date")
    assert "09/08/2024 could be day/month or month/day: read as day/month/year" in note.message
    assert frame["identification_date"].tolist() == [
        pd.Timestamp("2024-08-09"),
        pd.Timestamp("2024-08-10"),
    ]
    # one date that cannot be day first shows the order, and it is said
    text = "case_id,identification_date\nC1,09/08/2024\nC2,12/25/2024\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    [note] = only(problems, "date order")
    assert note.row == 3 and "read month first" in note.message
    assert frame["identification_date"].tolist() == [
        pd.Timestamp("2024-09-08"),
        pd.Timestamp("2024-12-25"),
    ]
    # declared: no note
    frame, problems = read(tmp_path, "cases.csv", text, date_order="MDY")
    assert only(problems, "date order") == []
    # both orders in one column: refused
    text = "case_id,identification_date\nC1,25/12/2024\nC2,12/25/2024\n"
    _, problems = read(tmp_path, "cases.csv", text)
    assert any(p.rule == "date order" and p.severity == "error" for p in problems)


def test_date_times_keep_their_own_date(tmp_path):
    text = "case_id,identification_date\nC1,2024-03-05T23:30:00.000+05:00\nC2,2024-03-06 08:00\n"
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert frame["identification_date"].tolist() == [
        pd.Timestamp("2024-03-05"),
        pd.Timestamp("2024-03-06"),
    ]


def test_nationalities_are_iso_codes_from_codes_and_names(tmp_path):
    text = (
        "case_id,identification_date,nationality\n"
        "C1,2024-01-05,ng\nC2,2024-01-05,Benin\nC3,2024-01-05,TGO\n"
        'C4,2024-01-05,"Congo, Democratic Republic of the"\nC5,2024-01-05,Côte d\'Ivoire\n'
    )
    frame, problems = read(tmp_path, "cases.csv", text)
    assert errors(problems) == []
    assert frame["nationality"].tolist() == ["NG", "BJ", "TG", "CD", "CI"]
    assert frame["is_foreign_national"].tolist() == [False, True, True, True, True]  # project: NG


def test_regions_and_unknown_names_are_not_nationalities(tmp_path):
    text = (
        "case_id,identification_date,nationality\nC1,2024-01-05,Western Africa\n"
        "C2,2024-01-05,Nigerria\n"
    )
    _, problems = read(tmp_path, "cases.csv", text)
    region, typo = errors(problems)
    assert (region.row, region.column, region.rule) == (2, "nationality", "country")
    assert "is a region, not a country" in region.message
    assert (typo.row, typo.value) == (3, "Nigerria") and "closest: 'Nigeria'" in typo.message


@pytest.mark.parametrize("identifiers", [False, True])
def test_text_is_tidied_unless_already_tidy(identifiers):
    """Arrow text read as it is only when no value needs tidying: spaces (also non-breaking and
    ideographic ones) and control characters at either end are stripped, empty values are
    missing, whatever the chunks."""
    import pyarrow as pa

    from ctlib._data.convert import convert
    from ctlib._data.tables import TABLES

    column = TABLES["cases"].column("case_id" if identifiers else "location")

    def converted(*chunks):
        array = pd.arrays.ArrowStringArray(pa.chunked_array(chunks, pa.large_string()))
        raw = pd.Series(array, index=range(1, len(array) + 1)).astype("str")
        return convert(raw, column, identifiers=identifiers).values.tolist()

    assert converted(["a", "B-1"], [None, "é c"]) == ["a", "B-1", pd.NA, "é c"]
    assert converted(["a", " b"], ["c\t"]) == ["a", "b", "c"]
    assert converted(["a"], ["\xa0b", "c\u3000", "d\x1f"]) == ["a", "b", "c", "d"]
    assert converted(["a", ""], []) == ["a", pd.NA]
