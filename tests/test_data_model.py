"""The data model on hand-worked fixtures: people counted once, several forms of exploitation,
presumed children, court case files, follow-ups, what is counted and what privacy hides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datamodel_fixtures import by_period, old_recipe, project, results, tables, value

from ctlib._catalogue import Catalogue, load_catalogue
from ctlib._compute.engine import recipe_rows
from ctlib._compute.periods import ReportingCalendar
from ctlib._compute.privacy import suppress
from ctlib._data.derive import exploitation_group
from ctlib._data.project_data import ProjectData


def case(case_id, date="2025-02-10", status="actual", **columns) -> dict:
    return dict(case_id=case_id, identification_date=date, trafficking_status=status, **columns)


# -- people counted once ---------------------------------------------------------------------------


def test_a_person_identified_twice_is_counted_once():
    rows = [
        case("C1", "2025-01-10", person_id="P1"),
        case("C2", "2025-02-10", person_id="P1"),  # a second partner registers P1 again
        case("C3", "2025-05-10"),  # no person id: the case is its own person
    ]
    result = results(["PROT-02"], cases=rows)
    # before: a count of cases, 2 in Q1 and 3 over the year; now people, 1 and 2
    before = results([old_recipe("PROT-02", method={**PROT_02_CASES})], cases=rows)
    quarters = ("2025-Q1", "2025-Q2", "life_of_project")
    assert [by_period(before, "PROT-02-OLD")[q] for q in quarters] == [2, 1, 3]
    assert [by_period(result, "PROT-02")[q] for q in quarters] == [1, 1, 2]


PROT_02_CASES = {
    "measure": "count",
    "table": "cases",
    "date": "identification_date",
    "filter": [{"column": "trafficking_status", "op": "in", "value": ["possible", "actual"]}],
}


def test_an_empty_person_id_is_the_record_itself():
    frames = tables(
        project(),
        cases=[case("C1", person_id="P9"), case("C2")],
        participants=[dict(participant_id="R1", completion_date="2025-01-05")],
        legal_cases=[dict(legal_case_id="L1", investigation_date="2025-01-05")],
    )
    assert frames["cases"]["person_id"].tolist() == ["P9", "C2"]
    assert frames["participants"]["person_id"].tolist() == ["R1"]
    legal = frames["legal_cases"].iloc[0]
    assert (legal["case_file_id"], legal["defendant_id"]) == ("L1", "L1")


def test_new_and_continuing_by_fiscal_year_of_the_first_service():
    # US fiscal year from October: FY2025 is Oct 2024 - Sep 2025
    the_project = project(
        "2024-10-01", "2026-09-30", reporting={"calendar": "fiscal", "fiscal_year_start_month": 10}
    )
    frames = tables(
        the_project,
        cases=[
            case("C1", "2024-11-01", person_id="P1"),
            case("C2", "2025-10-05", person_id="P1"),
            case("C3", "2025-10-06"),
        ],
        services=[
            dict(service_id="S1", case_id="C1", service_type="shelter", start_date="2024-11-02"),
            dict(service_id="S2", case_id="C1", service_type="medical", start_date="2025-02-01"),
            dict(service_id="S3", case_id="C2", service_type="medical", start_date="2025-10-06"),
            dict(service_id="S4", case_id="C3", service_type="medical", start_date="2025-10-07"),
        ],
    )
    # P1 first served in FY2025: new in FY2025 (twice), continuing in FY2026 under a second case
    assert frames["services"]["new_or_continuing"].tolist() == ["new", "new", "continuing", "new"]
    result = results(
        ["PROT-27"],
        the_project,
        ["new_or_continuing"],
        "FY2026-Q1",
        cases=[
            case("C1", "2024-11-01", person_id="P1"),
            case("C2", "2025-10-05", person_id="P1"),
            case("C3", "2025-10-06"),
        ],
        services=[
            dict(service_id="S1", case_id="C1", service_type="shelter", start_date="2024-11-02"),
            dict(service_id="S3", case_id="C2", service_type="medical", start_date="2025-10-06"),
            dict(service_id="S4", case_id="C3", service_type="medical", start_date="2025-10-07"),
        ],
    )
    assert value(result, "PROT-27", "FY2026-Q1") == 2
    assert value(result, "PROT-27", "FY2026-Q1", "new_or_continuing", "new") == 1
    assert value(result, "PROT-27", "FY2026-Q1", "new_or_continuing", "continuing") == 1


# -- many values per person ------------------------------------------------------------------------


def test_a_case_with_two_forms_counts_once_in_the_total_and_once_in_each_form():
    rows = [
        case(
            "C1",
            exploitation_type="sexual_exploitation",
            exploitation_types="sexual_exploitation;forced_labour",
        ),
        case("C2", exploitation_type="forced_labour"),  # no list: the main form
    ]
    result = results(
        ["PROT-02"], disaggregations=["exploitation_types", "exploitation_group"], cases=rows
    )
    assert value(result, "PROT-02") == 2
    forms = {
        category: value(result, "PROT-02", dimension="exploitation_types", category=category)
        for category in ("sexual_exploitation", "forced_labour")
    }
    assert forms == {"sexual_exploitation": 1, "forced_labour": 2}  # 3 > the total of 2
    table = result.table
    flags = table.groupby("dimension")["has_overlapping_categories"].all()
    assert flags.to_dict() == {
        "exploitation_group": False,
        "exploitation_types": True,
        "total": False,
    }
    groups = {
        category: value(result, "PROT-02", dimension="exploitation_group", category=category)
        for category in ("mixed", "labour_exploitation")
    }
    assert groups == {"mixed": 1, "labour_exploitation": 1}  # a group per person: adds up


@pytest.mark.parametrize(
    "cell, group",
    [
        ("sexual_exploitation;forced_labour", "mixed"),
        ("sexual_exploitation;forced_begging", "sexual_exploitation"),
        ("child_labour", "labour_exploitation"),
        ("forced_marriage", "other"),
        ("unknown", "unknown"),
        (pd.NA, "unknown"),
    ],
)
def test_exploitation_groups(cell, group):
    assert exploitation_group(cell) == group


def test_filters_on_a_multi_valued_column():
    rows = [
        case("C1", exploitation_types="sexual_exploitation;forced_labour"),
        case("C2", exploitation_types="forced_begging"),
        case("C3", exploitation_type=None),
    ]
    data = tables(project(), cases=rows)["cases"]
    assert data["exploitation_types"].tolist()[:2] == [
        "sexual_exploitation;forced_labour",
        "forced_begging",
    ]

    def kept(condition):
        indicator = old_recipe("PROT-02", method={**PROT_02_CASES, "filter": [condition]})
        result = results([indicator], cases=rows)
        return value(result, "PROT-02-OLD")

    assert kept({"column": "exploitation_types", "op": "equals", "value": "forced_labour"}) == 1
    assert (
        kept(
            {
                "column": "exploitation_types",
                "op": "in",
                "value": ["forced_begging", "forced_labour"],
            }
        )
        == 2
    )
    assert kept({"column": "exploitation_types", "op": "not", "value": "forced_labour"}) == 2
    assert kept({"column": "exploitation_types", "op": "is_null", "value": True}) == 1


def test_the_rows_behind_a_form_are_the_cases_holding_it():
    the_project = project()
    rows = [
        case("C1", exploitation_types="sexual_exploitation;forced_labour"),
        case("C2", exploitation_types="forced_labour"),
        case("C3", exploitation_types="sexual_exploitation"),
    ]
    data = ProjectData(
        ".", the_project, Catalogue(list(load_catalogue()), "x"), tables(the_project, cases=rows)
    )
    period = ReportingCalendar(the_project).parse("2025-Q1")
    behind = recipe_rows(
        data, load_catalogue().get("PROT-02"), period, "exploitation_types", "forced_labour"
    )
    assert behind["case_id"].tolist() == ["C1", "C2"]


# -- ages ------------------------------------------------------------------------------------------


def test_presumed_children():
    rows = [
        case("C1", age=15, has_guardian=True),
        case("C2", is_possibly_child=True, has_guardian=False),  # age unknown, may be a child
        case("C3", age=19, is_possibly_child=True, has_guardian=False),  # age disputed
        case("C4"),  # age unknown, nothing suggests a child
        case("C5", age=30, age_when_trafficked=16),  # trafficked as a child, now an adult
    ]
    data = tables(project(), cases=rows)["cases"]
    assert data["is_presumed_child"].tolist() == [True, True, True, False, False]
    assert data["child_adult"].tolist() == ["child", "unknown", "adult", "unknown", "adult"]
    result = results(["PROT-24", "PROT-25"], cases=rows)
    before = results(
        [
            old_recipe(
                "PROT-25",
                method={
                    **PROT_02_CASES,
                    "filter": [
                        *PROT_02_CASES["filter"],
                        {"column": "child_adult", "op": "equals", "value": "child"},
                    ],
                },
            )
        ],
        cases=rows,
    )
    assert value(before, "PROT-25-OLD") == 1
    assert value(result, "PROT-25") == 3
    assert value(result, "PROT-24") == pytest.approx(100 / 3)  # before: 100 % (only C1)


# -- court case files ------------------------------------------------------------------------------


COURT = dict(
    legal_cases=[
        dict(
            legal_case_id=f"L{i}",
            case_file_id="F1",
            defendant_id=f"D{i}",
            investigation_date="2025-01-20",
            prosecution_date="2025-04-10",
            is_cross_border=True,
            has_financial_investigation=i == 1,
        )
        for i in (1, 2, 3)
    ],
    victim_participation=[
        dict(
            participation_id="VP1",
            case_file_id="F1",
            case_id="V1",
            joined_date="2025-02-01",
            has_protection_support=True,
        ),
        dict(
            participation_id="VP2",
            case_file_id="F1",
            case_id="V2",
            joined_date="2025-02-03",
            has_protection_support=False,
        ),
    ],
    cases=[
        case("V1", "2025-01-25", is_penalised=True, penalised_date="2025-01-18"),
        case("V2", "2025-01-26"),
    ],
)


def test_a_court_case_with_three_defendants_and_two_victims():
    result = results(["PROS-05", "PROS-16", "PROS-17", "PROS-13", "PROS-15"], **COURT)
    assert value(result, "PROS-05") == 3  # suspects: people
    assert value(result, "PROS-16") == 1  # investigations: one case file
    assert value(result, "PROS-17") == 100  # the file had a financial investigation
    assert value(result, "PROS-13") == 50  # two victims, one supported: never once per defendant
    assert value(result, "PROS-15") == 1  # the victim penalised, on the victim's own case
    table = tables(project(), **COURT)["victim_participation"]
    assert table["person_id"].tolist() == ["V1", "V2"]  # from the victims' cases


# -- what is counted, and what privacy hides -------------------------------------------------------


def test_a_meeting_count_of_two_is_shown_while_a_victim_count_of_two_is_hidden():
    result = results(
        ["PART-03", "PROT-02"],
        activities=[
            dict(
                activity_id=f"M{i}",
                activity_date="2025-02-0" + str(i),
                activity_type="coordination_meeting",
            )
            for i in (1, 2)
        ],
        cases=[case("C1"), case("C2")],
    )
    table = suppress(result.table, k=5)
    rows = table[(table["period"] == "2025-Q1") & (table["dimension"] == "total")]
    by_indicator = rows.set_index("indicator_id")
    assert by_indicator.loc["PART-03", ["value", "suppressed", "counts"]].tolist() == [
        2,
        False,
        "events",
    ]
    assert by_indicator.loc["PROT-02", "suppressed"] and np.isnan(
        by_indicator.loc["PROT-02", "value"]
    )
    assert by_indicator.loc["PROT-02", "counts"] == "people"


def test_a_small_form_of_exploitation_does_not_hide_the_total():
    """Forms of exploitation count a person in each of their forms: their counts add up to more than
    the total, so hiding one form does not force the total (or another form) to be hidden."""
    rows = [case(f"C{i}", exploitation_type="sexual_exploitation") for i in range(8)]
    rows += [
        case(
            "D1",
            exploitation_type="sexual_exploitation",
            exploitation_types="sexual_exploitation;forced_labour",
        )
    ]
    result = results(["PROT-02"], disaggregations=["exploitation_types"], cases=rows)
    table = suppress(result.table, k=5)
    quarter = table[table["period"] == "2025-Q1"].set_index("category")
    assert quarter.loc["forced_labour", "suppressed"]  # 1 person
    assert not quarter.loc["total", "suppressed"] and quarter.loc["total", "value"] == 9
    assert quarter.loc["sexual_exploitation", "value"] == 9


def test_a_mandatory_disaggregation_left_out_is_a_warning():
    result = results(
        ["PREV-08"],
        participants=[
            dict(
                participant_id="R1",
                person_id="N1",
                completion_date="2025-02-01",
                curriculum="tip_prevention",
                has_completed=True,
            )
        ],
    )
    [warning] = [p for p in result.problems if p.rule == "mandatory disaggregation"]
    assert warning.severity == "warning" and "PREV-08 is to be reported by sex" in warning.message
    assert value(result, "PREV-08") == 1  # computed all the same
