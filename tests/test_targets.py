"""Targets to date, fiscal years, progress from baseline, statuses both ways, ranges, milestones,
observation windows, frequencies, disaggregated targets and cross-disaggregations, on tiny
fixtures worked out by hand (arithmetic in the comments)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE_DIR
from test_engine import make_data, make_indicator, make_project, rows_of, values

from ctlib._catalogue.model import Indicator
from ctlib._compute.engine import check, compute
from ctlib._compute.privacy import suppress
from ctlib._compute.targets import is_flow, missing_explanations
from ctlib._data.ingest import load_project_data


def reported(indicator_id, *, unit="count", rollup="sum", level="output", **fields) -> Indicator:
    entry = make_indicator(
        indicator_id, "reported", table=None, date=None, unit=unit, rollup=rollup, level=level
    )
    return entry.model_copy(update=fields) if fields else entry


def tally(indicator_id, **by_period):
    """Reported rows: value, or (numerator, denominator) for shares."""
    rows = []
    for period, value in by_period.items():
        label = period.replace("_", "-")
        if isinstance(value, tuple):
            rows.append(
                dict(
                    indicator_id=indicator_id,
                    period=label,
                    numerator=value[0],
                    denominator=value[1],
                    value=100 * value[0] / value[1],
                )
            )
        else:
            rows.append(dict(indicator_id=indicator_id, period=label, value=value))
    return rows


def graded(results, indicator_id, dimension="total", category="total"):
    rows = rows_of(results, indicator_id, dimension)
    return rows[rows["category"] == category].set_index("period")


Q1_Q3 = ["2025-Q1", "2025-Q2", "2025-Q3"]


def test_targets_to_date_of_a_flow_a_stock_and_a_share():
    flow = reported("T-FLOW")
    stock = reported("T-STOCK", rollup="latest")
    share = reported("T-SHARE", unit="percent", rollup="recompute", level="outcome")
    selected = [
        {
            "id": "T-FLOW",
            "targets": {
                "2025-Q1": 2,
                "2025-Q2": 4,
                "2025-Q3": 4,
                "2025-Q4": 4,
                "life_of_project": 20,
            },
        },
        {"id": "T-STOCK", "targets": {"2025-Q1": 10, "2025-Q2": 15, "2025-Q3": 15}},
        {"id": "T-SHARE", "baseline": {"value": 30}, "targets": {"2025-Q1": 40, "2025-Q2": 45}},
    ]
    rows = [
        *tally("T-FLOW", **{"2025_Q1": 3, "2025_Q2": 4, "2025_Q3": 2}),
        *tally("T-STOCK", **{"2025_Q1": 10, "2025_Q2": 12}),
        *tally("T-SHARE", **{"2025_Q1": (3, 10), "2025_Q2": (6, 10), "2025_Q3": (9, 20)}),
    ]
    results = compute(
        make_data(make_project(selected), [flow, stock, share], reported_values=rows), periods=Q1_Q3
    )
    # flow: life of project to date (Q1-Q3) 3+4+2 = 9 against 2+4+4 = 10 → 90 % on track;
    # the whole project's target is 20: 9/20 = 45 % of it
    life = graded(results, "T-FLOW").loc["life_of_project"]
    assert (life["value"], life["target"], life["achievement"], life["status"]) == (
        9,
        10,
        90,
        "on track",
    )
    assert (life["full_target"], life["full_target_share"]) == (20, 45)
    # stock: the last period with data (Q2, 12) against the current period's target (Q3, 15) → 80 %
    life = graded(results, "T-STOCK").loc["life_of_project"]
    assert (life["value"], life["target"], life["achievement"], life["status"]) == (
        12,
        15,
        80,
        "behind",
    )
    # no life-of-project target is set: a stock's is the last target of the project (Q3: 15), and
    # the share of it "reached" is for flows only
    assert life["full_target"] == 15 and np.isnan(life["full_target_share"])
    # share (outcome, baseline 30): life of project 18/40 = 45 % against the last target set
    # (Q2: 45): progress (45 − 30) ÷ (45 − 30) = 100 % → on track;
    # Q1 30 % against 40: progress 0 %, 10 points short
    share_rows = graded(results, "T-SHARE")
    life = share_rows.loc["life_of_project"]
    assert (life["value"], life["target"], life["progress"], life["status"]) == (
        45,
        45,
        100,
        "on track",
    )
    q1 = share_rows.loc["2025-Q1"]
    assert (q1["progress"], q1["gap"], q1["achievement"], q1["status"]) == (0, -10, 75, "behind")
    assert np.isnan(share_rows.loc["2025-Q3", "target"])  # a quarter has only its own target


def test_fiscal_years_starting_in_october_with_targets_explicit_and_derived():
    count = reported("T-FLOW")
    project = make_project(
        [{"id": "T-FLOW", "targets": {"FY2026": 30, **{f"FY2027-Q{q}": 5 for q in range(1, 5)}}}],
        start="2025-10-01",
        end="2027-09-30",
        reporting={"calendar": "fiscal", "fiscal_year_start_month": "usg"},
    )
    rows = tally(
        "T-FLOW",
        **{
            "FY2026_Q1": 6,
            "FY2026_Q2": 8,
            "FY2026_Q3": 7,
            "FY2026_Q4": 6,
            "FY2027_Q1": 4,
            "FY2027_Q2": 6,
            "FY2027_Q3": 5,
            "FY2027_Q4": 4,
        },
    )
    results = compute(
        make_data(project, [count], reported_values=rows), periods=["FY2026", "FY2027"]
    )
    first, second = results.periods[0], results.periods[1]
    assert (first.label, str(first.start_date), str(first.end_date)) == (
        "FY2026",
        "2025-10-01",
        "2026-09-30",
    )
    years = graded(results, "T-FLOW")
    # FY2026: 6+8+7+6 = 27 against its own target 30 → 90 % on track
    assert years.loc["FY2026", ["value", "target", "status"]].tolist() == [27, 30, "on track"]
    # FY2027: 4+6+5+4 = 19 against the sum of its quarters' targets 4×5 = 20 → 95 % on track
    assert years.loc["FY2027", ["value", "target", "achievement"]].tolist() == [19, 20, 95]
    assert second.label == "FY2027"


def test_a_year_to_date_in_a_quarterly_report():
    count = reported("T-FLOW")
    project = make_project([{"id": "T-FLOW", "targets": {"2025-Q1": 5, "2025-Q2": 5, "2025": 24}}])
    rows = tally("T-FLOW", **{"2025_Q1": 4, "2025_Q2": 6, "2025_Q3": 9})
    results = compute(
        make_data(project, [count], reported_values=rows), periods=["2025-Q1", "2025-Q2", "2025"]
    )
    year = next(p for p in results.periods if p.label == "2025")
    assert str(year.end_date) == "2025-06-30"  # the year to the end of the report's quarter
    row = graded(results, "T-FLOW").loc["2025"]
    # to date: 4 + 6 = 10 against 5 + 5 = 10 → on track; the year's own target 24: 10/24 = 41.7 %
    assert (row["value"], row["target"], row["status"], row["full_target"]) == (
        10,
        10,
        "on track",
        24,
    )
    assert row["full_target_share"] == pytest.approx(1000 / 24)


def test_a_decrease_indicator_ahead_and_a_monitor_only_one():
    faster = reported("T-DAYS", unit="score", rollup="latest", direction="decrease")
    monitored = reported("T-RATE", unit="rate", rollup="latest", direction="none")
    selected = [
        {"id": "T-DAYS", "targets": {"2025-Q1": 10}},
        {"id": "T-RATE", "targets": {"2025-Q1": 3}},
    ]
    rows = [*tally("T-DAYS", **{"2025_Q1": 5}), *tally("T-RATE", **{"2025_Q1": 4.2})]
    results = compute(
        make_data(make_project(selected), [faster, monitored], reported_values=rows),
        periods="2025-Q1",
    )
    # 5 days against at most 10: 10/5 = 200 % → ahead (lower is better)
    assert graded(results, "T-DAYS").loc["2025-Q1", ["achievement", "status"]].tolist() == [
        200,
        "ahead",
    ]
    monitor = graded(results, "T-RATE").loc["2025-Q1"]
    assert (
        monitor["status"] == "monitor only"
        and np.isnan(monitor["achievement"])
        and monitor["value"] == 4.2
    )


def test_a_target_range():
    occupancy = reported("T-OCC", unit="percent", rollup="latest")
    selected = [{"id": "T-OCC", "targets": {q: {"between": [85, 95]} for q in Q1_Q3}}]
    rows = tally("T-OCC", **{"2025_Q1": 80, "2025_Q2": 90, "2025_Q3": 97})
    results = compute(
        make_data(make_project(selected), [occupancy], reported_values=rows), periods=Q1_Q3
    )
    statuses = values(results, "T-OCC", column="status")
    assert [statuses[q] for q in Q1_Q3] == ["below range", "on track", "above range"]
    row = graded(results, "T-OCC").loc["2025-Q2"]
    assert (row["target_low"], row["target_high"]) == (85, 95) and np.isnan(row["target"])


def test_milestones_are_graded_against_their_planned_date():
    law = make_indicator(
        "T-LAW",
        "milestone",
        table="milestones",
        date="achieved_date",
        unit="yes_no",
        rollup="latest",
        filter=[{"column": "milestone_type", "op": "equals", "value": "law_enacted"}],
    )
    late = make_indicator(
        "T-SOP",
        "milestone",
        table="milestones",
        date="achieved_date",
        unit="yes_no",
        rollup="latest",
        filter=[{"column": "milestone_type", "op": "equals", "value": "sop_adopted"}],
    )
    selected = [
        {"id": "T-LAW", "targets": {"2025-Q3": 1}},
        {"id": "T-SOP", "targets": {"2025-Q2": 1}},
    ]
    milestones = [
        dict(
            milestone_id="m1",
            milestone_type="law_enacted",
            achieved_date="2025-08-15",
            target_date="2025-09-30",
        ),
        dict(milestone_id="m2", milestone_type="sop_adopted", target_date="2025-06-30"),
    ]
    results = compute(
        make_data(make_project(selected), [law, late], milestones=milestones), periods="all"
    )
    law_status = values(results, "T-LAW", column="status")
    # planned in Q3: not due before it; achieved in August, so on track in Q3 and after
    assert [law_status[q] for q in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")] == [
        "not due",
        "not due",
        "on track",
        "on track",
    ]
    sop_status = values(results, "T-SOP", column="status")
    assert [sop_status[q] for q in ("2025-Q1", "2025-Q2", "2025-Q3")] == [
        "not due",
        "behind",
        "behind",
    ]


def test_a_14_day_window_makes_the_last_two_weeks_provisional():
    accepted = make_indicator(
        "T-ACC",
        "share",
        date="referral_date",
        unit="percent",
        rollup="recompute",
        filter=[{"column": "is_referred", "op": "equals", "value": True}],
        numerator={
            "filter": [{"column": "days_to_referral_acceptance", "op": "range", "value": [0, 14]}]
        },
        observation={"days": 14},
    )
    cases = [
        dict(
            case_id="a",
            identification_date="2025-02-01",
            is_referred=True,
            referral_date="2025-02-02",
            referral_accepted_date="2025-02-10",
            days_to_referral_acceptance=8,
        ),
        dict(
            case_id="b",
            identification_date="2025-06-20",
            is_referred=True,
            referral_date="2025-06-25",
        ),
    ]
    project = make_project(
        [{"id": "T-ACC", "targets": {"2025-Q1": 80, "2025-Q2": 80}}],
        reporting={"data_as_of": "2025-07-07"},
    )
    results = compute(make_data(project, [accepted], cases=cases), periods=["2025-Q1", "2025-Q2"])
    statuses = values(results, "T-ACC", column="status")
    # Q1 ended 98 days before the data were extracted: final (1 of 1 accepted in time,
    # 100 % → ahead);
    # Q2 ended 7 days before: its referrals' acceptance within 14 days cannot be known yet
    assert statuses == {
        "2025-Q1": "ahead",
        "2025-Q2": "provisional",
        "life_of_project": "provisional",
    }
    as_of_later = make_project(
        [{"id": "T-ACC", "targets": {"2025-Q2": 80}}], reporting={"data_as_of": "2025-07-15"}
    )
    later = compute(make_data(as_of_later, [accepted], cases=cases), periods=["2025-Q2"])
    assert values(later, "T-ACC", column="status")["2025-Q2"] == "behind"  # final: 0 of 1 in time


def test_an_annual_indicator_in_a_quarterly_project():
    yearly = reported("T-YEAR").model_copy(update={"frequency": "annual"})
    rows = tally("T-YEAR", **{"2025_Q1": 3, "2025_Q2": 4})
    project = make_project([{"id": "T-YEAR", "targets": {"2025": 12}}])
    results = compute(
        make_data(project, [yearly], reported_values=rows), periods=["2025-Q1", "2025-Q2", "2025"]
    )
    rows_by = graded(results, "T-YEAR")
    assert rows_by.loc["2025-Q1", "status"] == "not due" and np.isnan(
        rows_by.loc["2025-Q1", "value"]
    )
    assert rows_by.loc["2025", "value"] == 7  # measured per year: Q1 + Q2 so far


def test_disaggregated_baselines_and_targets_are_graded_like_totals():
    count = make_indicator("T-COUNT")
    cases = [
        dict(case_id=f"c{i}", identification_date="2025-02-01", sex=s)
        for i, s in enumerate(["female"] * 6 + ["male"] * 4)
    ]
    selected = [
        {
            "id": "T-COUNT",
            "disaggregations": ["sex"],
            "baseline": {"value": 5, "sex": {"female": 2}},
            "targets": {"2025-Q1": {"total": 8, "sex": {"female": 5}}},
        }
    ]
    results = compute(make_data(make_project(selected), [count], cases=cases), periods="2025-Q1")
    female = graded(results, "T-COUNT", "sex", "female").loc["2025-Q1"]
    # 6 women against a target of 5: 120 % → ahead; the total 10 against 8: 125 % → ahead
    assert (female["value"], female["baseline"], female["target"], female["status"]) == (
        6,
        2,
        5,
        "ahead",
    )
    male = graded(results, "T-COUNT", "sex", "male").loc["2025-Q1"]
    assert np.isnan(male["target"]) and male["status"] == "no target"


def test_a_sex_by_age_cross_tab_is_computed_and_suppressed_consistently():
    count = make_indicator("T-COUNT")
    people = [("female", "child")] * 6 + [("female", "adult")] * 2
    people += [("male", "child")] * 7 + [("male", "adult")] * 9
    cases = [
        dict(case_id=f"c{i}", identification_date="2025-02-01", sex=s, child_adult=a)
        for i, (s, a) in enumerate(people)
    ]
    selected = [
        {"id": "T-COUNT", "disaggregations": ["sex", "child_adult", ["sex", "child_adult"]]}
    ]
    results = compute(make_data(make_project(selected), [count], cases=cases), periods="2025-Q1")
    cells = rows_of(results, "T-COUNT", "sex × child_adult")
    q1 = dict(
        zip(
            cells[cells["period"] == "2025-Q1"]["category"],
            cells[cells["period"] == "2025-Q1"]["value"],
        )
    )
    assert q1 == {"female × adult": 2, "female × child": 6, "male × adult": 9, "male × child": 7}
    hidden = suppress(results, k=5).table
    q1_hidden = hidden[(hidden["period"] == "2025-Q1") & hidden["suppressed"]]
    # female × adult (2) is a small count; female (8) = female × adult + female × child, and
    # adult (11) = female × adult + male × adult: each relation must hide a second cell
    cells_hidden = set(zip(q1_hidden["dimension"], q1_hidden["category"]))
    assert ("sex × child_adult", "female × adult") in cells_hidden
    female_parts = {("sex", "female"), ("sex × child_adult", "female × child")}
    adult_parts = {("child_adult", "adult"), ("sex × child_adult", "male × adult")}
    assert cells_hidden & female_parts and cells_hidden & adult_parts


def test_off_track_values_without_an_explanation_are_listed():
    flow = reported("T-FLOW")
    selected = [
        {
            "id": "T-FLOW",
            "targets": {"2025-Q1": 10, "2025-Q2": 10},
            "comments": {"2025-Q1": "The shelter was closed for repairs."},
        }
    ]
    rows = tally("T-FLOW", **{"2025_Q1": 5, "2025_Q2": 8})
    project = make_project(selected)
    results = compute(
        make_data(project, [flow], reported_values=rows), periods=["2025-Q1", "2025-Q2"]
    )
    found = missing_explanations(results, project)
    # Q1 (50 %) is explained; Q2 (80 %, beyond ±10 %) and life of project (13/20 = 65 %) are not
    assert [(p.entry, p.period, p.rule) for p in found] == [
        ("T-FLOW", "2025-Q2", "explanation missing"),
        ("T-FLOW", "life_of_project", "explanation missing"),
    ]
    # ctlib check lists them too, as warnings (over every period: Q2 and the whole project)
    checked = [p for p in check(make_data(project, [flow], reported_values=rows))]
    assert [(p.period, p.severity) for p in checked if p.rule == "explanation missing"] == [
        ("2025-Q2", "warning"),
        ("life_of_project", "warning"),
    ]


def test_safe_journeys_grades_its_counts_against_their_targets_to_date():
    data = load_project_data(SAMPLE_DIR / "safe_journeys")
    labels = ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    results = compute(data, periods=labels)
    table = results.table
    life = table[(table["period"] == "life_of_project") & (table["dimension"] == "total")]
    life = life[life["indicator_id"].map(lambda i: is_flow(data.catalogue.get(i)))]
    assert len(life) >= 7  # people reached, trained, sessions and meetings held, calls handled ...
    for row in life.itertuples():
        selected = data.project.indicator(row.indicator_id)
        to_date = sum(selected.target(q) or 0 for q in labels)
        assert row.target == to_date and row.full_target == selected.target("life_of_project")
    assert (life["status"].isin(["on track", "ahead"])).sum() >= 6
