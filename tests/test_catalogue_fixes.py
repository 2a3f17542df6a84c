"""Each recipe fixed to compute its definition, on a hand-worked fixture: the value the old recipe
gave, and the right one now (arithmetic in the comments). Then the new outcome indicators."""

from __future__ import annotations

import math

import pytest
from datamodel_fixtures import by_period, old_recipe, project, results, value

VICTIMS = {"column": "trafficking_status", "op": "in", "value": ["possible", "actual"]}
COMPLETED = {"column": "has_completed", "op": "equals", "value": True}


def cond(column, op, v):
    return {"column": column, "op": op, "value": v}


def case(case_id, date="2025-02-10", status="actual", **columns) -> dict:
    return dict(case_id=case_id, identification_date=date, trafficking_status=status, **columns)


def trainee(participant_id, person_id, activity_id, **columns) -> dict:
    return {
        "participant_id": participant_id,
        "person_id": person_id,
        "activity_id": activity_id,
        "completion_date": "2025-02-15",
        "has_completed": True,
        **columns,
    }


def activity(activity_id, activity_type="training", **columns) -> dict:
    return dict(
        activity_id=activity_id, activity_date="2025-02-15", activity_type=activity_type, **columns
    )


def both(indicator_id, old_method, **rows):
    """(old value, new value) over the life of the project."""
    old = results([old_recipe(indicator_id, method=old_method)], **rows)
    new = results([indicator_id], **rows)
    return value(old, indicator_id + "-OLD"), value(new, indicator_id)


def count(table, date, *conditions):
    return {"measure": "count", "table": table, "date": date, "filter": list(conditions)}


def share(table, date, conditions, numerator, **parts):
    return {
        "measure": "share",
        "table": table,
        "date": date,
        "filter": conditions,
        "numerator": {"filter": numerator},
        **parts,
    }


# -- prevention ------------------------------------------------------------------------------------


def test_prev_01_counts_attendances_with_a_sex_breakdown_and_prev_25_people():
    rows = dict(
        activities=[
            activity(
                "S1",
                "safe_migration_session",
                participants_female=1,
                participants_male=1,
                participants_total=2,
            ),
            activity(
                "S2",
                "safe_migration_session",
                participants_female=2,
                participants_male=0,
                participants_total=3,
            ),
        ],
        participants=[
            trainee("R1", "N1", "S1"),
            trainee("R2", "N2", "S1"),
            trainee("R3", "N1", "S2"),
            trainee("R4", "N2", "S2"),
            trainee("R5", "N3", "S2"),
        ],
    )
    result = results(["PREV-01", "PREV-25"], disaggregations=["sex"], **rows)
    assert value(result, "PREV-01") == 5  # 2 + 3 attendances, as the name now says
    assert value(result, "PREV-25") == 3  # N1, N2, N3: the people the old name promised
    sexes = {
        c: value(result, "PREV-01", dimension="sex", category=c)
        for c in ("female", "male", "unknown")
    }
    assert sexes == {"female": 3, "male": 1, "unknown": 1}  # 3 at S2: 2 women, 0 men, 1 unknown


def test_prev_05_keeps_only_project_participants():
    surveys = [
        dict(
            response_id=f"R{i}",
            survey_date="2025-03-01",
            survey_round="endline",
            target_group="potential_migrants",
            is_project_participant=took_part,
            has_regular_channel_access=access,
        )
        for i, (took_part, access) in enumerate(
            [(True, True), (True, False), (False, True), (False, True)]
        )
    ]
    old = share(
        "surveys",
        "survey_date",
        [
            cond("target_group", "equals", "potential_migrants"),
            cond("has_regular_channel_access", "is_null", False),
        ],
        [cond("has_regular_channel_access", "equals", True)],
    )
    assert both("PREV-05", old, surveys=surveys) == (75, 50)  # 3/4 before; 1/2 of participants


@pytest.mark.parametrize(
    "indicator_id, curriculum, group, activity_type",
    [
        ("PREV-08", "tip_prevention", "ngo_staff", "training"),
        ("PROT-01", "victim_identification", "social_workers", "training"),
        ("PREV-13", "livelihood", "returnees", "livelihood_support"),
    ],
)
def test_trainings_count_people_once(indicator_id, curriculum, group, activity_type):
    rows = dict(
        activities=[activity("T1", activity_type), activity("T2", activity_type)],
        participants=[
            trainee("R1", "N1", "T1", curriculum=curriculum, target_group=group),
            trainee("R2", "N1", "T2", curriculum=curriculum, target_group=group),  # N1 again
            trainee("R3", "N2", "T2", curriculum=curriculum, target_group=group),
        ],
    )
    new = results([indicator_id], **rows)
    old_method = load_method(indicator_id) | {"measure": "count"}
    old_method.pop("column")
    old = results([old_recipe(indicator_id, method=old_method, rollup="sum")], **rows)
    assert (value(old, indicator_id + "-OLD"), value(new, indicator_id)) == (3, 2)


def load_method(indicator_id) -> dict:
    from ctlib._catalogue import load_catalogue

    return load_catalogue().get(indicator_id).method.model_dump(exclude_defaults=True)


def test_prev_09_leaves_community_sessions_out_of_the_pass_rate():
    rows = dict(
        activities=[activity("T1"), activity("S1", "safe_migration_session")],
        participants=[
            trainee("R1", "N1", "T1", post_score=80),
            trainee("R2", "N2", "T1", post_score=60),
            trainee("R3", "N3", "S1", post_score=90),
            trainee("R4", "N4", "S1", post_score=95),
        ],
    )
    old = share(
        "participants",
        "completion_date",
        [cond("post_score", "is_null", False)],
        [cond("post_score", "range", [70, None])],
    )
    assert both("PREV-09", old, **rows) == (75, 50)  # 3 of 4 pass; 1 of the 2 trainees


def test_prev_14_enforces_the_six_month_follow_up():
    people = [
        trainee(
            "R1",
            "N1",
            "L1",
            completion_date="2025-01-15",
            followup_date="2025-03-16",
            has_income_at_followup=True,
        ),  # 60 days: too early
        trainee(
            "R2",
            "N2",
            "L1",
            completion_date="2025-01-15",
            followup_date="2025-08-01",
            has_income_at_followup=False,
        ),  # 198 days
        trainee(
            "R3",
            "N3",
            "L1",
            completion_date="2025-01-15",
            followup_date="2025-07-20",
            has_income_at_followup=True,
        ),  # 186 days
    ]
    rows = dict(activities=[activity("L1", "livelihood_support")], participants=people)
    old = share(
        "participants",
        "completion_date",
        [
            cond("activity_type", "equals", "livelihood_support"),
            COMPLETED,
            cond("has_income_at_followup", "is_null", False),
        ],
        [cond("has_income_at_followup", "equals", True)],
    )
    old_value, new_value = both("PREV-14", old, **rows)
    assert old_value == pytest.approx(200 / 3)  # 2 of 3, the 60-day call among them
    assert new_value == 50  # 1 of the 2 followed up after six months
    assert by_period(results(["PREV-14"], **rows), "PREV-14")["2025-Q3"] == 50  # by follow-up date


def test_prev_15_counts_high_risk_sectors_only():
    rows = dict(
        activities=[
            activity(
                "I1", "labour_inspection", sector="construction", inspections_with_screening=10
            ),
            activity("I2", "labour_inspection", sector="education", inspections_with_screening=4),
        ]
    )
    old = {
        "measure": "sum",
        "table": "activities",
        "date": "activity_date",
        "column": "inspections_with_screening",
        "filter": [cond("activity_type", "equals", "labour_inspection")],
    }
    assert both("PREV-15", old, **rows) == (14, 10)


def test_prev_16_needs_the_fair_recruitment_curriculum():
    rows = dict(
        activities=[activity("T1"), activity("T2")],
        participants=[
            trainee("R1", "N1", "T1", curriculum="fair_recruitment", target_group="employers"),
            trainee("R2", "N1", "T2", curriculum="fair_recruitment", target_group="employers"),
            trainee(
                "R3", "N2", "T1", curriculum="fair_recruitment", target_group="recruitment_agencies"
            ),
            trainee("R4", "N3", "T2", curriculum="first_aid", target_group="employers"),
        ],
    )
    old = count(
        "participants",
        "completion_date",
        cond("target_group", "in", ["employers", "recruitment_agencies"]),
        COMPLETED,
    )
    assert both("PREV-16", old, **rows) == (4, 2)  # N1 and N2; not N3's first-aid course


ILO = (
    "ilo_abuse_of_vulnerability",
    "ilo_deception",
    "ilo_restriction_of_movement",
    "ilo_isolation",
    "ilo_physical_sexual_violence",
    "ilo_intimidation_threats",
    "ilo_retention_of_documents",
    "ilo_withholding_of_wages",
    "ilo_debt_bondage",
    "ilo_abusive_conditions",
    "ilo_excessive_overtime",
)


def worker(response_id, *present, **columns):
    return dict(
        response_id=response_id,
        survey_date="2025-03-01",
        survey_round="follow_up",
        **{name: name in present for name in ILO},
        **columns,
    )


def test_prev_18_needs_both_ilo_elements():
    surveys = [
        worker("W1", "ilo_excessive_overtime"),  # involuntary only
        worker("W2", "ilo_deception", "ilo_retention_of_documents", is_referred=True),  # both
        worker("W3"),  # none
        worker("W4", "ilo_debt_bondage"),  # menace of penalty only
    ]
    old = share(
        "surveys",
        "survey_date",
        [cond("forced_labour_indicators", "is_null", False)],
        [cond("forced_labour_indicators", "range", [1, None])],
    )
    assert both("PREV-18", old, surveys=surveys) == (75, 25)  # 3 with any indicator; 1 with both
    assert value(results(["PREV-22"], surveys=surveys), "PREV-22") == 100  # W2 was referred


# -- protection ------------------------------------------------------------------------------------


def test_prot_03_divides_each_breakdown_by_its_own_population():
    the_project = project(
        context={
            "population": {
                "total": 1000,
                "by": {"sex": {"female": 500, "male": 500}},
                "total_for": ["exploitation_group"],
            }
        }
    )
    cases = [
        case("C1", sex="female", person_id="P1"),
        case("C2", sex="female", person_id="P1"),
        case("C3", sex="female"),
        case("C4", sex="male", exploitation_type="forced_labour"),
    ]
    old_method = {
        "measure": "rate",
        "table": "cases",
        "date": "identification_date",
        "filter": [VICTIMS],
        "numerator": {"aggregate": "count"},
        "denominator": {"project_value": "population"},
        "factor": 100000,
    }
    old = results([old_recipe("PROT-03", method=old_method)], the_project, cases=cases)
    new = results(["PROT-03"], the_project, ["sex", "exploitation_group"], cases=cases)
    # before: 4 cases per 1000 people; the old engine divided women's 3 cases by the whole
    # population too (3 per 1000 = 300), a rate no population has
    assert value(old, "PROT-03-OLD") == pytest.approx(400)
    # now: 3 people per 1000; 2 women per 500 women; 1 man per 500 men
    assert value(new, "PROT-03") == pytest.approx(300)
    assert value(new, "PROT-03", dimension="sex", category="female") == pytest.approx(400)
    assert value(new, "PROT-03", dimension="sex", category="male") == pytest.approx(200)
    # forms of exploitation divide by the whole population: 1 labour victim per 1000
    assert value(
        new, "PROT-03", dimension="exploitation_group", category="labour_exploitation"
    ) == pytest.approx(100)


def test_prot_03_leaves_a_breakdown_without_its_population_empty():
    the_project = project(context={"population": {"total": 1000, "by": {"sex": {"female": 500}}}})
    new = results(
        ["PROT-03"], the_project, ["sex"], cases=[case("C1", sex="female"), case("C2", sex="male")]
    )
    assert math.isnan(value(new, "PROT-03", dimension="sex", category="male"))
    assert any("no population by sex for male" in p.message for p in new.problems)


def test_prot_04_reads_every_form():
    cases = [
        case(
            "C1",
            exploitation_type="sexual_exploitation",
            exploitation_types="sexual_exploitation;forced_labour",
        ),
        case("C2", exploitation_type="forced_labour"),
        case("C3", exploitation_type="sexual_exploitation"),
    ]
    labour = ["forced_labour", "child_labour", "servitude", "forced_begging", "forced_criminality"]
    old = share(
        "cases",
        "identification_date",
        [
            VICTIMS,
            cond("exploitation_type", "is_null", False),
            cond("exploitation_type", "not", "unknown"),
        ],
        [cond("exploitation_type", "in", labour)],
    )
    old_value, new_value = both("PROT-04", old, cases=cases)
    assert (old_value, new_value) == (pytest.approx(100 / 3), pytest.approx(200 / 3))


def test_prot_05_places_a_decision_by_its_date():
    cases = [
        case("C1", "2025-02-10", status_decided_by="police", status_decision_date="2025-04-05")
    ]
    old = count(
        "cases",
        "identification_date",
        cond("status_decided_by", "is_null", False),
        cond("status_decided_by", "not", "unknown"),
    )
    before = by_period(results([old_recipe("PROT-05", method=old)], cases=cases), "PROT-05-OLD")
    after = by_period(results(["PROT-05"], cases=cases), "PROT-05")
    assert before["2025-Q1"] == 1 and math.isnan(before["2025-Q2"])  # no case registered in Q2
    assert (after["2025-Q1"], after["2025-Q2"]) == (0, 1)


def referred(case_id, status="actual", days=5, **columns):
    return case(
        case_id,
        status=status,
        is_referred=True,
        referral_date="2025-02-12",
        referral_accepted_date=f"2025-02-{12 + days}",
        **columns,
    )


def test_prot_06_and_07_count_victims_only_each_person_once():
    cases = [
        referred("C1"),
        referred("C2", "not_a_victim", days=15),
        referred("C3", person_id="P3"),
        referred("C4", person_id="P3"),
    ]
    old_06 = count("cases", "referral_date", cond("is_referred", "equals", True))
    assert both("PROT-06", old_06, cases=cases) == (4, 2)  # C1 and P3
    old_07 = share(
        "cases",
        "referral_date",
        [cond("is_referred", "equals", True)],
        [cond("days_to_referral_acceptance", "range", [0, 14])],
    )
    assert both("PROT-07", old_07, cases=cases) == (75, 100)  # the slow one was not a victim


SERVICE_CASES = [
    case("C1"),
    case("C2", status="not_a_victim"),
    case("C3", person_id="P3"),
    case("C4", person_id="P3"),
]


@pytest.mark.parametrize(
    "indicator_id, service_type",
    [
        ("PROT-10", "shelter"),
        ("PROT-14", "psychosocial"),
        ("PROT-18", "return_assistance"),
        ("PROT-19", "education"),
    ],
)
def test_service_counts_are_victims_each_person_once(indicator_id, service_type):
    services = [
        dict(
            service_id=f"S{i}", case_id=f"C{i}", service_type=service_type, start_date="2025-03-01"
        )
        for i in (1, 2, 3, 4)
    ]
    old = {
        "measure": "count_distinct",
        "table": "services",
        "date": "start_date",
        "column": "case_id",
        "filter": [load_method(indicator_id)["filter"][0]],
    }
    assert both(indicator_id, old, cases=SERVICE_CASES, services=services) == (4, 2)


def test_prot_11_counts_nights_when_they_are_spent():
    services = [
        dict(
            service_id="S1",
            case_id="C1",
            service_type="shelter",
            start_date="2025-03-25",
            end_date="2025-04-10",
            nights=16,
        ),
        dict(service_id="S2", case_id="C1", service_type="shelter", start_date="2025-06-20"),
    ]
    rows = dict(cases=[case("C1", "2025-03-24")], services=services)
    old = {
        "measure": "sum",
        "table": "services",
        "date": "start_date",
        "column": "nights",
        "filter": [cond("service_type", "equals", "shelter")],
    }
    before = by_period(results([old_recipe("PROT-11", method=old)], **rows), "PROT-11-OLD")
    after = by_period(results(["PROT-11"], **rows), "PROT-11")
    assert (before["2025-Q1"], before["2025-Q2"]) == (16, 0)  # every night booked to March
    # 25-31 March: 7 nights; 1-9 April: 9; the open stay of 20 June runs to the latest date
    # recorded (20 June): 1 more night in Q2
    assert (after["2025-Q1"], after["2025-Q2"], after["life_of_project"]) == (7, 10, 17)


def test_prot_13_and_16_follow_each_assisted_victim():
    services = [
        dict(service_id="S1", case_id="C1", service_type="shelter", start_date="2025-03-20"),
        dict(service_id="S2", case_id="C1", service_type="medical", start_date="2025-04-05"),
        dict(service_id="S3", case_id="C1", service_type="legal_aid", start_date="2025-04-06"),
        dict(service_id="S4", case_id="C2", service_type="medical", start_date="2025-04-02"),
    ]
    rows = dict(cases=[case("C1", "2025-03-19"), case("C2", "2025-04-01")], services=services)
    old = {
        "measure": "share",
        "table": "services",
        "date": "start_date",
        "numerator": {
            "aggregate": "count_distinct",
            "column": "case_id",
            "filter": [cond("service_type", "equals", "medical")],
        },
        "denominator": {"aggregate": "count_distinct", "column": "case_id"},
    }
    before = by_period(results([old_recipe("PROT-13", method=old)], **rows), "PROT-13-OLD")
    after = by_period(results(["PROT-13", "PROT-16"], **rows), "PROT-13")
    assert before["2025-Q1"] == 0  # sheltered in March, treated in April: "not treated"
    assert after["2025-Q1"] == 100  # C1, assisted from March, received medical care
    assert after["2025-Q2"] == 100  # C2
    legal = by_period(results(["PROT-16"], **rows), "PROT-16")
    assert (legal["2025-Q1"], legal["2025-Q2"]) == (100, 0)


def test_prot_17_and_33_keep_reflection_period_and_permit_apart():
    cases = [
        case("C1", nationality="MM", has_reflection_period=True, has_residence_permit=False),
        case("C2", nationality="MM", has_reflection_period=False, has_residence_permit=True),
        case("C3", nationality="MM", has_reflection_period=False, has_residence_permit=False),
    ]
    result = results(["PROT-17", "PROT-33"], cases=cases)
    # before, one column held either entitlement: C1 and C2, 2 of 3
    assert value(result, "PROT-17") == pytest.approx(100 / 3)
    assert value(result, "PROT-33") == pytest.approx(100 / 3)


def test_prot_21_counts_survivors_followed_up_six_to_twelve_months_after_closure():
    rows = dict(
        cases=[
            case("C1", "2025-01-02", closure_date="2025-01-10"),
            case("C2", "2025-01-02", closure_date="2025-01-10"),
        ],
        follow_ups=[
            dict(
                follow_up_id="F1",
                case_id="C1",
                follow_up_date="2025-03-01",
                is_reached=True,
                has_stable_housing=True,
                has_regular_income=True,
            ),  # 50 days: too early
            dict(
                follow_up_id="F2",
                case_id="C1",
                follow_up_date="2025-08-15",
                is_reached=True,
                has_stable_housing=True,
                has_regular_income=True,
            ),  # 217 days
            dict(
                follow_up_id="F3",
                case_id="C2",
                follow_up_date="2025-08-01",
                is_reached=True,
                has_stable_housing=True,
                has_regular_income=False,
            ),  # 203 days
        ],
    )
    old = share(
        "follow_ups",
        "follow_up_date",
        [cond("has_stable_housing", "is_null", False)],
        [cond("has_stable_housing", "equals", True), cond("has_regular_income", "equals", True)],
    )
    old_value, new_value = both("PROT-21", old, **rows)
    assert old_value == pytest.approx(200 / 3)  # rows, whenever: F1 and F2 of 3
    assert new_value == 50  # survivors in the window: C1 yes, C2 no


# -- prosecution -----------------------------------------------------------------------------------


def milestone(milestone_id, kind, date, **columns):
    return dict(milestone_id=milestone_id, milestone_type=kind, achieved_date=date, **columns)


def test_pros_01_counts_ps_5_2_23_texts_only():
    rows = dict(
        milestones=[
            milestone("M1", "law_enacted", "2025-02-01"),
            milestone("M2", "agreement_signed", "2025-03-01"),  # a domestic MoU
            milestone("M3", "agreement_signed", "2025-05-01"),  # an agreement only signed
            milestone("M4", "agreement_ratified", "2025-06-01"),
        ]
    )
    old = count(
        "milestones",
        "achieved_date",
        cond(
            "milestone_type",
            "in",
            [
                "law_enacted",
                "law_amended",
                "policy_adopted",
                "national_action_plan",
                "agreement_signed",
            ],
        ),
    )
    assert both("PROS-01", old, **rows) == (3, 2)


def test_pros_02_needs_a_compliant_law():
    rows = dict(
        milestones=[
            milestone("M1", "law_amended", "2025-03-01", is_palermo_compliant=False),
            milestone("M2", "law_enacted", "2025-08-01", is_palermo_compliant=True),
        ]
    )
    old = {
        "measure": "milestone",
        "table": "milestones",
        "date": "achieved_date",
        "filter": [cond("milestone_type", "in", ["law_enacted", "law_amended"])],
    }
    before = by_period(results([old_recipe("PROS-02", method=old)], **rows), "PROS-02-OLD")
    after = by_period(results(["PROS-02"], **rows), "PROS-02")
    assert [before[q] for q in ("2025-Q1", "2025-Q2", "2025-Q3")] == [1, 1, 1]
    assert [after[q] for q in ("2025-Q1", "2025-Q2", "2025-Q3")] == [0, 0, 1]


def test_pros_03_needs_a_trafficking_case_curriculum():
    rows = dict(
        activities=[activity("T1"), activity("T2")],
        participants=[
            trainee("R1", "N1", "T1", curriculum="investigation", target_group="police"),
            trainee("R2", "N1", "T2", curriculum="investigation", target_group="police"),
            trainee("R3", "N2", "T2", curriculum="first_aid", target_group="police"),
        ],
    )
    old = count(
        "participants",
        "completion_date",
        cond(
            "target_group",
            "in",
            ["police", "border_officials", "labour_inspectors", "prosecutors", "judges"],
        ),
        COMPLETED,
    )
    assert both("PROS-03", old, **rows) == (3, 1)


def defendant(legal_case_id, file_id, defendant_id, **columns):
    return dict(
        legal_case_id=legal_case_id,
        case_file_id=file_id,
        defendant_id=defendant_id,
        investigation_date="2025-01-15",
        **columns,
    )


def test_pros_07_counts_persons_prosecuted():
    rows = dict(
        legal_cases=[
            defendant("L1", "F1", "D1", prosecution_date="2025-04-01"),
            defendant("L2", "F1", "D2", prosecution_date="2025-04-01"),
            defendant(
                "L3", "F2", "D1", prosecution_date="2025-05-01"
            ),  # D1 charged in a second file
        ]
    )
    old = count("legal_cases", "prosecution_date", cond("prosecution_date", "is_null", False))
    assert both("PROS-07", old, **rows) == (3, 2)


def test_pros_11_and_12_count_prison_terms_only():
    verdict = dict(verdict="convicted", verdict_date="2025-06-01")
    rows = dict(
        legal_cases=[
            defendant("L1", "F1", "D1", sentence_type="custodial", sentence_months=24, **verdict),
            defendant("L2", "F1", "D2", sentence_type="suspended", sentence_months=24, **verdict),
            defendant("L3", "F2", "D3", sentence_type="custodial", sentence_months=6, **verdict),
            defendant("L4", "F2", "D4", sentence_type="fine", **verdict),
        ]
    )
    old_11 = share(
        "legal_cases",
        "verdict_date",
        [cond("verdict", "equals", "convicted")],
        [cond("sentence_months", "range", [12, None])],
    )
    assert both("PROS-11", old_11, **rows) == (50, 25)  # the suspended term no longer counts
    old_12 = {
        "measure": "median",
        "table": "legal_cases",
        "date": "verdict_date",
        "column": "sentence_months",
        "filter": [cond("verdict", "equals", "convicted")],
    }
    assert both("PROS-12", old_12, **rows) == (24, 15)  # median of 24, 24, 6; of 24 and 6


TWO_FILES = dict(
    legal_cases=[
        defendant(f"L{i}", "F1", f"D{i}", is_cross_border=True, has_financial_investigation=True)
        for i in (1, 2, 3)
    ]
    + [defendant("L4", "F2", "D4", is_cross_border=False, has_financial_investigation=False)],
    victim_participation=[
        dict(
            participation_id="VP1",
            case_file_id="F1",
            person_id="V1",
            joined_date="2025-02-01",
            has_protection_support=True,
            concluded_date="2025-09-01",
            compensation_awarded_date="2025-09-01",
            compensation_awarded_amount=1000,
            compensation_paid_amount=250,
        ),
        dict(
            participation_id="VP2",
            case_file_id="F1",
            person_id="V2",
            joined_date="2025-02-01",
            has_protection_support=False,
            concluded_date="2025-09-01",
        ),
        dict(
            participation_id="VP3",
            case_file_id="F2",
            person_id="V3",
            joined_date="2025-02-01",
            has_protection_support=True,
            concluded_date="2025-09-01",
            compensation_awarded_date="2025-09-01",
            compensation_awarded_amount=3000,
            compensation_paid_amount=3000,
        ),
        dict(
            participation_id="VP4",
            case_file_id="F2",
            person_id="V4",
            joined_date="2025-02-01",
            has_protection_support=True,
            has_withdrawn=True,
            withdrawal_date="2025-05-01",
        ),
    ],
)


def test_pros_13_and_14_count_each_victim_once_not_once_per_defendant():
    result = results(["PROS-13", "PROS-14", "PROS-20"], **TWO_FILES)
    # before, each defendant's row carried its file's victim counts: F1's three defendants each
    # said 2 victims, 1 supported, 1 compensated; F2's one said 2, 2 and 1:
    #   PROS-13 (3 × 1 + 2) ÷ (3 × 2 + 2) = 5/8 = 62.5 %; PROS-14 (3 × 1 + 1) ÷ 8 = 50 %
    assert value(result, "PROS-13") == 75  # V1, V3, V4 of four victims
    assert value(result, "PROS-14") == pytest.approx(200 / 3)  # V1, V3 of the 3 concluded
    assert value(result, "PROS-20") == 25  # V4 withdrew, of the four whose part ended


def test_pros_16_and_17_count_investigations_not_suspects():
    old_16 = count("legal_cases", "investigation_date", cond("is_cross_border", "equals", True))
    assert both("PROS-16", old_16, **TWO_FILES) == (3, 1)
    old_17 = share(
        "legal_cases",
        "investigation_date",
        [],
        [cond("has_financial_investigation", "equals", True)],
    )
    assert both("PROS-17", old_17, **TWO_FILES) == (75, 50)


# -- partnership -----------------------------------------------------------------------------------


def test_part_02_counts_bodies_that_acted():
    rows = dict(
        milestones=[
            milestone(
                f"M{i}", "coordination_body_action", "2025-02-0" + str(i), coordination_body=body
            )
            for i, body in enumerate(["A", "A", "A", "B"], start=1)
        ]
    )
    old = count(
        "milestones", "achieved_date", cond("milestone_type", "equals", "coordination_body_action")
    )
    assert both("PART-02", old, **rows) == (4, 2)


def test_part_05_is_yes_only_while_the_plan_is_in_force():
    rows = dict(
        milestones=[
            milestone("M1", "national_action_plan", "2025-01-01", valid_until_date="2025-06-30")
        ]
    )
    old = {
        "measure": "milestone",
        "table": "milestones",
        "date": "achieved_date",
        "filter": [cond("milestone_type", "equals", "national_action_plan")],
    }
    before = by_period(results([old_recipe("PART-05", method=old)], **rows), "PART-05-OLD")
    after = by_period(results(["PART-05"], **rows), "PART-05")
    assert [before[q] for q in ("2025-Q2", "2025-Q3")] == [1, 1]
    assert [after[q] for q in ("2025-Q2", "2025-Q3")] == [1, 0]  # expired on 30 June


def test_part_06_and_15_16_read_the_budget_of_each_year():
    the_project = project("2025-01-01", "2026-12-31", reporting={"currency": "GTQ"})
    budgets = [
        dict(
            budget_id="B1",
            budget_year_start_date="2025-01-01",
            budget_year_end_date="2025-12-31",
            allocated_amount=1_000_000,
            spent_amount=800_000,
        )
    ]
    result = results(["PART-06", "PART-15", "PART-16"], the_project, budgets=budgets)
    in_force = by_period(result, "PART-06")
    # before, a milestone 'budget_allocated' said yes in 2025 and for every year after
    assert (in_force["2025-Q4"], in_force["2026-Q1"]) == (1, 0)
    assert value(result, "PART-15") == 1_000_000
    assert value(result, "PART-16") == 80
    assert set(result.table.loc[result.table["indicator_id"] == "PART-15", "currency"]) == {"GTQ"}


def test_an_amount_of_money_needs_the_projects_currency():
    result = results(
        ["PART-15"],
        budgets=[
            dict(
                budget_id="B1",
                budget_year_start_date="2025-01-01",
                budget_year_end_date="2025-12-31",
                allocated_amount=10,
            )
        ],
    )
    assert result.table.empty
    assert "set reporting.currency" in result.problems[0].message


# -- new outcome indicators ------------------------------------------------------------------------


def test_re_trafficking_within_12_and_24_months_of_closure():
    cases = [
        case("C1", "2025-01-05", person_id="P1", case_status="closed", closure_date="2025-03-01"),
        case("C2", "2025-02-01", person_id="P2", case_status="closed", closure_date="2025-03-10"),
        case("C3", "2025-03-02", person_id="P3", case_status="closed", closure_date="2025-03-20"),
        case("C4", "2025-09-01", person_id="P1"),  # P1 again, 184 days after closure
        case("C5", "2025-03-25", person_id="P3", status="not_a_victim"),  # not re-trafficked
    ]
    result = results(["PROT-28", "PROT-29"], project("2025-01-01", "2026-12-31"), cases=cases)
    assert by_period(result, "PROT-28")["2025-Q1"] == pytest.approx(100 / 3)  # P1 of 3 closed
    assert by_period(result, "PROT-29")["2025-Q1"] == pytest.approx(100 / 3)


def test_days_from_identification_to_first_service():
    services = [
        dict(service_id="S1", case_id="C1", service_type="shelter", start_date="2025-02-11"),
        dict(service_id="S2", case_id="C1", service_type="medical", start_date="2025-02-10"),
        dict(service_id="S3", case_id="C2", service_type="medical", start_date="2025-02-20"),
    ]
    rows = dict(cases=[case("C1"), case("C2"), case("C3")], services=services)
    result = results(["PROT-31", "PROT-32"], **rows)
    assert value(result, "PROT-31") == 5  # 0 and 10 days: median 5; C3 never served
    assert value(result, "PROT-32") == pytest.approx(100 / 3)  # only C1 within 7 days
    assert set(result.table.loc[result.table["indicator_id"] == "PROT-31", "unit"]) == {"days"}


def test_caseload_at_the_end_of_each_period():
    cases = [
        case("C1", "2025-01-10", closure_date="2025-05-01"),
        case("C2", "2025-02-10"),
        case("C3", "2025-04-10", closure_date="2025-06-30"),
    ]
    caseload = by_period(results(["PROT-37"], cases=cases), "PROT-37")
    # 31 March: C1, C2; 30 June: C2, C3 (closed that day); 30 September: C2
    assert [caseload[q] for q in ("2025-Q1", "2025-Q2", "2025-Q3", "life_of_project")] == [
        2,
        2,
        1,
        1,
    ]


def test_nrm_referrals_and_the_agencies_that_make_them():
    cases = [
        case("C1", is_referred_through_nrm=True, referring_organisation="Police"),
        case("C2", is_referred_through_nrm=True, referring_organisation="Police"),
        case("C3", is_referred_through_nrm=True, referring_organisation="Labour office"),
        case("C4", is_referred_through_nrm=False, referring_organisation="Hotline"),
    ]
    result = results(["PROT-34", "PROT-35"], cases=cases)
    assert value(result, "PROT-34") == 75
    assert value(result, "PROT-35") == 2
    assert set(result.table.loc[result.table["indicator_id"] == "PROT-35", "counts"]) == {
        "organisations"
    }


def test_prosecutions_time_to_verdict_and_statute():
    rows = dict(
        legal_cases=[
            defendant(
                "L1",
                "F1",
                "D1",
                prosecution_date="2025-02-01",
                verdict="convicted",
                verdict_date="2025-11-01",
                conviction_statute="trafficking",
            ),  # 290 days
            defendant(
                "L2",
                "F1",
                "D2",
                prosecution_date="2025-02-01",
                verdict="convicted",
                verdict_date="2026-06-01",
                conviction_statute="other_offence",
            ),  # 485 days
            defendant("L3", "F2", "D3", prosecution_date="2025-03-01"),  # pending
        ]
    )
    result = results(["PROS-18", "PROS-19", "PROS-24"], project("2025-01-01", "2026-12-31"), **rows)
    assert value(result, "PROS-18") == pytest.approx((290 + 502) / 2)  # from investigation
    assert value(result, "PROS-19") == pytest.approx(100 / 3)  # D1 within a year, of 3 charged
    assert value(result, "PROS-24") == 50


def test_compensation_awarded_and_paid():
    result = results(["PROS-25", "PROS-26"], project(reporting={"currency": "MDL"}), **TWO_FILES)
    assert value(result, "PROS-25") == 4000
    assert value(result, "PROS-26") == pytest.approx(100 * 3250 / 4000)
    assert set(result.table.loc[result.table["indicator_id"] == "PROS-25", "counts"]) == {"money"}


def test_trainees_applying_skills_and_child_labour():
    rows = dict(
        activities=[activity("T1")],
        participants=[
            trainee("R1", "N1", "T1", followup_date="2025-06-15", is_applying_skills=True),  # 120 d
            trainee("R2", "N2", "T1", followup_date="2025-04-01", is_applying_skills=False),  # 45 d
            trainee(
                "R3", "N3", "T1", followup_date="2025-07-01", is_applying_skills=False
            ),  # 136 d
        ],
        surveys=[
            dict(
                response_id=f"K{i}",
                survey_date="2025-03-01",
                survey_round="baseline",
                age=age,
                economic_activity_hours=hours,
            )
            for i, (age, hours) in enumerate([(8, 2), (13, 10), (16, 45), (16, 20), (20, 60)])
        ],
    )
    result = results(["PREV-21", "PREV-24"], disaggregations=["child_age_band"], **rows)
    assert value(result, "PREV-21") == 50  # N1 of N1 and N3; N2's call came too early
    # children 5-17: 8 y 2 h (>= 1), 13 y 10 h (< 14), 16 y 45 h (>= 43), 16 y 20 h: 2 of 4
    assert value(result, "PREV-24") == 50
    assert value(result, "PREV-24", dimension="child_age_band", category="15-17") == 50
