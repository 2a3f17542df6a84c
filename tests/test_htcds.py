"""HTCDS v2 case sheets import into `cases` with no mapping: fields, picklists (value names and
labels), multi-select cells, ages, referrals, and identifiers that are never loaded.

The workbooks are built here with the template's real field names and layout (row 1 hidden field
names, row 2 labels, column A row numbers, data from row 3); every person in them is invented.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from ctlib._data import htcds
from ctlib._data.ingest import read_table
from ctlib._data.project_model import Project, Source

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

# The template's columns, in its order (one has no field name; one is misspelt in the template).
TEMPLATE = [
    (None, None),
    ("cas_CaseOwner", "Case Owner"),
    ("prs_Salutation", "Salutation"),
    ("prs_FirstName", "First Name"),
    ("prs_SecondName", "Second Name"),
    ("con_Consent", "Consent"),
    ("prs_Birthdate", "Birthdate"),
    ("prs_Gender", "Gender"),
    ("prs_Citizenship", "Citizenship"),
    ("prs_Email", "Email"),
    ("prs_MobilePhone", "Mobile Phone"),
    ("vic_TraffickingStatus", "Trafficking Status"),
    ("vic_TraffickinStatusDecisionMakingOrg", "Trafficking Status Decision Making Organization"),
    ("vic_MethodsOfControl", "Methods of Control"),
    ("vic_TypeOfExploitation", "Type of Exploitation"),
    ("cas_Status", "Status"),
    ("cas_IncomingReferralDate", "Incoming Referral Date"),
    (None, "Reason for Outgoing Referral"),
    ("cas_OutgoingReferralDate", "Outgoing Referral Date"),
    ("cas_ReasonForCaseClosure", "Reason for Case Closure"),
]
ROWS = [  # one list per case, in TEMPLATE order after column A
    [
        "Officer A",
        "Ms",
        "Amina",
        "Invented",
        True,
        dt.datetime(2007, 6, 2),
        "Feminine",
        "NG",
        "amina@example.org",
        "+234 803 000 0000",
        "PossibleVictimOfTrafficking",
        "NGO",
        "DebtBondage",
        "SexualExploitation;ForcedLabour",
        "Active",
        dt.datetime(2024, 6, 1),
        None,
        None,
        None,
    ],
    [
        "Officer A",
        None,
        "Bola",
        "Invented",
        "FALSE",
        "15/02/1990",
        "Transgender Masculine",
        "ML, NG",
        None,
        None,
        "Actual victim of trafficking",
        "Non-police governmental organization",
        None,
        "Forced military (by non-state actors)",
        "ClosedReferred",
        "2024-07-01",
        "Other",
        "2024-08-01",
        "Case goals met",
    ],
    [
        "Officer B",
        None,
        "Chidi",
        "Invented",
        1,
        dt.datetime(2006, 6, 1),
        "NonSpecifiedUnknown",
        "NG",
        None,
        None,
        "NotAVictimOfTrafficking",
        "Police",
        None,
        "Forced labour",
        "Follow up",
        dt.datetime(2024, 6, 1),
        None,
        dt.datetime(2024, 6, 20),
        None,
    ],
]


def write_case_sheet(
    path, columns=TEMPLATE, rows=ROWS, sheet="Case Sheet", labels=True, blank_rows=5
):
    book = openpyxl.Workbook()
    worksheet = book.active
    worksheet.title = sheet
    worksheet.append([field for field, _ in columns])
    worksheet.row_dimensions[1].hidden = True
    if labels:
        worksheet.append([label for _, label in columns])
    for number, row in enumerate(rows, start=1):
        worksheet.append([number, *row])
    for number in range(
        len(rows) + 1, len(rows) + 1 + blank_rows
    ):  # the template numbers empty rows too
        worksheet.append([number])
    validation = book.create_sheet("validation")
    validation.append(["Gender", "Feminine", "Masculine"])
    book.save(path)


def read(tmp_path, **source):
    return read_table(Source(file="cases.xlsx", **source), "cases", tmp_path, PROJECT)


@pytest.fixture
def imported(tmp_path):
    write_case_sheet(tmp_path / "cases.xlsx")
    return read(tmp_path)


def test_the_case_sheet_is_detected_and_mapped_without_any_map(imported):
    frame, problems = imported
    assert [p for p in problems if p.severity == "error"] == []
    assert list(frame.index) == [
        3,
        4,
        5,
    ]  # data starts under the label row; empty numbered rows are dropped
    assert frame["case_id"].tolist() == ["row-3", "row-4", "row-5"]
    assert frame["identification_date"].tolist() == [
        pd.Timestamp(d) for d in ("2024-06-01", "2024-07-01", "2024-06-01")
    ]
    assert frame["has_consent"].tolist() == [True, False, True]


def test_picklist_value_names_and_labels_map_to_standard_categories(imported):
    frame, _ = imported
    assert frame["sex"].tolist() == ["female", "male", "unknown"]
    assert frame["trafficking_status"].tolist() == ["possible", "actual", "not_a_victim"]
    assert frame["status_decided_by"].tolist() == [
        "ngo",
        "government_other",
        "police",
    ]  # misspelt field
    assert frame["case_status"].tolist() == ["active", "closed_referred", "follow_up"]


def test_multi_select_keeps_the_first_value_and_a_count(imported):
    frame, _ = imported
    assert frame["exploitation_type"].tolist() == [
        "sexual_exploitation",
        "forced_military",
        "forced_labour",
    ]
    assert frame["exploitation_types_count"].tolist() == [2, 1, 1]
    assert frame["nationality"].tolist() == ["NG", "ML", "NG"]
    assert frame["is_foreign_national"].tolist() == [False, True, False]


def test_age_from_the_birth_date_at_identification(imported):
    frame, _ = imported
    assert frame["age"].tolist() == [
        16,
        34,
        18,
    ]  # 2007-06-02 on 2024-06-01; 2006-06-01 on its 18th birthday
    assert frame["child_adult"].tolist() == ["child", "adult", "adult"]


def test_referrals_and_closure(imported):
    frame, problems = imported
    assert frame["referral_date"].tolist() == [
        pd.NaT,
        pd.Timestamp("2024-08-01"),
        pd.Timestamp("2024-06-20"),
    ]
    assert frame["is_referred"].tolist() == [False, True, True]
    assert frame["closure_reason"].tolist() == [
        pd.NA,
        "other",
        pd.NA,
    ]  # free text that is not one of ours
    [note] = [p for p in problems if p.rule == "category"]
    assert note.severity == "warning" and note.column == "cas_ReasonForCaseClosure (closure_reason)"


def test_direct_identifiers_are_dropped_with_a_warning_and_never_loaded(imported):
    frame, problems = imported
    [warning] = [p for p in problems if p.rule == "direct identifier"]
    assert warning.severity == "warning"
    for field in (
        "prs_FirstName",
        "prs_SecondName",
        "prs_Email",
        "prs_MobilePhone",
        "prs_Salutation",
        "cas_CaseOwner",
    ):
        assert field in warning.message
    text = frame.astype(str).to_csv() + str(problems)
    for invented in ("Amina", "Bola", "Chidi", "example.org", "803", "Officer", "2007-06-02"):
        assert invented not in text
    assert "birth_date" not in frame


def test_other_fields_are_ignored_with_a_warning_and_ids_and_dates_noted(imported):
    _, problems = imported
    rules = {p.rule: p for p in problems if p.rule != "htcds"}
    assert "vic_MethodsOfControl" in rules["unmapped column"].message
    notes = [p.message for p in problems if p.rule == "htcds"]
    assert any("case ids are the sheet's row numbers" in note for note in notes)
    assert any(
        "identification dates are the incoming referral dates (cas_IncomingReferralDate)" in note
        for note in notes
    )


def test_every_form_of_exploitation_goes_to_the_multi_valued_column(imported):
    frame, _ = imported
    # "SexualExploitation;ForcedLabour" in the categories' order; one type per other case
    assert frame["exploitation_types"].tolist() == [
        "sexual_exploitation;forced_labour",
        "forced_military",
        "forced_labour",
    ]


def test_citizenship_as_iom_writes_it_in_the_picklist(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[0][7] = "Bolivia (Plurinational State of)"
    rows[1][7] = "Congo, Democratic Republic of the; Côte d'Ivoire"
    rows[2][7] = "Korea (Democratic People's Republic of)"
    write_case_sheet(tmp_path / "cases.xlsx", rows=rows)
    frame, problems = read(tmp_path)
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["nationality"].tolist() == ["BO", "CD", "KP"]  # the first of a multi-select


def test_the_case_open_date_of_a_salesforce_export(tmp_path):
    columns = [(None, None), ("cas_CreatedDate", "Created Date"), ("cas_IncomingReferralDate", "x")]
    rows = [[dt.datetime(2024, 3, 1), dt.datetime(2024, 2, 1)]]
    write_case_sheet(tmp_path / "cases.xlsx", columns=columns, rows=rows)
    frame, problems = read(tmp_path)
    assert frame["identification_date"].tolist() == [pd.Timestamp("2024-03-01")]
    assert not any("incoming referral" in p.message for p in problems)


def test_case_id_open_date_and_age_fields_when_present(tmp_path):
    columns = [
        (None, None),
        ("cas_Id", "Id"),
        ("cas_CaseOpenDate", "Case Open Date"),
        ("cas_IncomingReferralDate", "Incoming Referral Date"),
        ("vic_AgeWhenTrafficked", "Age When Trafficked"),
        ("prs_Birthdate", "Birthdate"),
        ("prs_Gender", "Gender"),
    ]
    rows = [
        [
            "HT-0001",
            dt.datetime(2024, 3, 1),
            dt.datetime(2024, 2, 1),
            15,
            dt.datetime(2000, 1, 1),
            "Masculine",
        ]
    ]
    write_case_sheet(tmp_path / "cases.xlsx", columns=columns, rows=rows)
    frame, problems = read(tmp_path)
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["case_id"].tolist() == ["HT-0001"]
    assert frame["identification_date"].tolist() == [
        pd.Timestamp("2024-03-01")
    ]  # the open date wins
    assert frame["age"].tolist() == [24]  # at identification, from the birth date
    assert frame["age_when_trafficked"].tolist() == [15]  # kept apart
    assert not [p for p in problems if p.rule == "htcds"]  # no note: the open date is there


def test_a_sheet_without_labels_and_with_its_own_name(tmp_path):
    write_case_sheet(tmp_path / "cases.xlsx", rows=ROWS[:1], sheet="Cases", labels=False)
    frame, problems = read(tmp_path, sheet="Cases", format="htcds")
    assert [p for p in problems if p.severity == "error"] == []
    assert list(frame.index) == [2] and frame["sex"].tolist() == ["female"]


def test_the_team_may_override_a_picklist_value(tmp_path):
    write_case_sheet(tmp_path / "cases.xlsx")
    frame, _ = read(tmp_path, values={"sex": {"TransgenderMasculine": "other"}})
    assert frame["sex"].tolist() == ["female", "other", "unknown"]


def test_bad_values_are_reported_at_their_sheet_row(tmp_path):
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[1][6] = "Femenine"
    write_case_sheet(tmp_path / "cases.xlsx", rows=rows)
    frame, problems = read(tmp_path)
    [problem] = [p for p in problems if p.severity == "error"]
    assert (problem.row, problem.column, problem.sheet) == (4, "prs_Gender (sex)", "Case Sheet")
    assert frame.empty


def test_detection():
    assert htcds.looks_like_htcds([None, "cas_CaseOwner", "prs_Gender"])
    assert not htcds.looks_like_htcds(["case_id", "prs_Gender"])
    assert htcds.is_label_row(
        ["prs_Gender", "cas_IncomingReferralDate"], ["Gender", "Incoming Referral Date"]
    )
    assert not htcds.is_label_row(
        ["prs_Gender", "cas_IncomingReferralDate"], ["Feminine", dt.datetime(2024, 1, 1)]
    )
