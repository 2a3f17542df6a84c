"""The engine on tiny fixtures whose answers are worked out by hand (arithmetic in the comments)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PIRS_FIELDS

from ctlib._catalogue import Catalogue
from ctlib._catalogue.model import Condition, Indicator, Part
from ctlib._compute.engine import compute, part_per_group, recipe_rows
from ctlib._compute.periods import ReportingCalendar
from ctlib._data.project_data import ProjectData
from ctlib._data.project_model import Project
from ctlib._data.tables import PANDAS_DTYPES, TABLES
from ctlib._errors import ComputeError, PeriodError

# -- helpers shared with the other engine-side tests -------------------------------------------


def make_indicator(
    indicator_id,
    measure="count",
    table="cases",
    date="identification_date",
    *,
    unit="count",
    direction="increase",
    rollup="sum",
    pillar="protection",
    level="output",
    name=None,
    counts="people",
    **method,
) -> Indicator:
    return Indicator.model_validate(
        {
            **PIRS_FIELDS,
            "counts": counts,
            "id": indicator_id,
            "name": name or f"Indicator {indicator_id}",
            "pillar": pillar,
            "area": "test",
            "level": level,
            "unit": unit,
            "direction": direction,
            "definition": "d",
            "rationale": "r",
            "data_source": "s",
            "frequency": "quarterly",
            "rollup": rollup,
            "method": {"measure": measure, "table": table, "date": date, **method},
        }
    )


def make_project(
    selected=(), start="2025-01-01", end="2025-12-31", project_id="test", **settings
) -> Project:
    """A project; `selected` holds dicts of SelectedIndicator fields (or bare ids)."""
    return Project.model_validate(
        {
            "project": {
                "id": project_id,
                "name": "Test project",
                "organisation": "NGO",
                "donor": "Donor",
                "country": "TH",
                "start_date": start,
                "end_date": end,
            },
            "results_chain": {"objective": "Fewer people trafficked"},
            "indicators": [{"id": s} if isinstance(s, str) else s for s in selected],
            **settings,
        }
    )


def make_table(name, rows) -> pd.DataFrame:
    """A standard table from a list of dicts: every standard column, with its standard dtype."""
    frame = pd.DataFrame(rows)
    return pd.DataFrame(
        {
            c.name: pd.Series(
                frame[c.name] if c.name in frame else [None] * len(frame),
                dtype=PANDAS_DTYPES[c.kind],
            )
            for c in TABLES[name].columns
        }
    )


def make_data(project, indicators, **tables) -> ProjectData:
    return ProjectData(
        Path("."),
        project,
        Catalogue(indicators, version="test"),
        {name: make_table(name, rows) for name, rows in tables.items()},
    )


def rows_of(results, indicator_id, dimension="total"):
    table = results.table
    return table[(table["indicator_id"] == indicator_id) & (table["dimension"] == dimension)]


def values(results, indicator_id, dimension="total", category="total", column="value"):
    """{period: value} of one indicator's category."""
    rows = rows_of(results, indicator_id, dimension)
    rows = rows[rows["category"] == category]
    return dict(zip(rows["period"], rows[column]))


# -- the fixture ---------------------------------------------------------------------------------
# Calendar year 2025, quarterly. Q3 has no record in any table ("no data"); Q4 has one case that is
# not referred (so a count of referrals in Q4 is a real 0).
CASES = [
    dict(
        case_id="c1",
        identification_date="2025-01-10",
        sex="female",
        age=16,
        is_referred=True,
        referral_date="2025-01-20",
        days_to_referral_acceptance=3,
        wellbeing_intake_score=40,
        wellbeing_exit_score=60,
    ),
    dict(
        case_id="c2",
        identification_date="2025-02-05",
        sex="female",
        age=30,
        is_referred=False,
        wellbeing_intake_score=50,
        wellbeing_exit_score=45,
    ),
    dict(
        case_id="c3",
        identification_date="2025-03-15",
        sex="male",
        age=25,
        is_referred=True,
        referral_date="2025-04-02",
        days_to_referral_acceptance=10,
        wellbeing_intake_score=30,
        wellbeing_exit_score=50,
    ),
    dict(
        case_id="c4",
        identification_date="2025-04-10",
        sex="female",
        age=17,
        is_referred=True,
        referral_date="2025-04-12",
        days_to_referral_acceptance=5,
        wellbeing_exit_score=70,
    ),
    dict(
        case_id="c5",
        identification_date="2025-05-20",
        sex="male",
        age=40,
        is_referred=True,
        referral_date="2025-05-25",
        days_to_referral_acceptance=7,
        wellbeing_intake_score=55,
        wellbeing_exit_score=55,
    ),
    dict(case_id="c6", identification_date="2025-06-30", sex=None, is_referred=False),
    dict(case_id="c7", identification_date="2025-10-01", sex="female", age=22, is_referred=False),
]
SERVICES = [
    dict(service_id="s1", case_id="c1", service_type="shelter", start_date="2025-01-15", nights=10),
    dict(service_id="s2", case_id="c1", service_type="medical", start_date="2025-02-01"),
    dict(service_id="s3", case_id="c3", service_type="shelter", start_date="2025-03-20", nights=5),
    dict(service_id="s4", case_id="c4", service_type="shelter", start_date="2025-04-15", nights=20),
    dict(service_id="s5", case_id="c4", service_type="legal_aid", start_date="2025-05-01"),
    dict(service_id="s6", case_id="c5", service_type="shelter", start_date="2025-06-01", nights=3),
]
PARTICIPANTS = [
    dict(
        participant_id="p1", completion_date="2025-02-01", sex="female", pre_score=40, post_score=70
    ),
    dict(
        participant_id="p2", completion_date="2025-02-02", sex="male", pre_score=50, post_score=50
    ),
    dict(
        participant_id="p3", completion_date="2025-03-03", sex="female", pre_score=60, post_score=55
    ),
    dict(participant_id="p4", completion_date="2025-03-04", sex="male", post_score=80),
    dict(
        participant_id="p5", completion_date="2025-05-05", sex="male", pre_score=20, post_score=40
    ),
]
MILESTONES = [
    dict(milestone_id="m1", milestone_type="law_enacted", achieved_date="2025-05-10"),
    dict(milestone_id="m2", milestone_type="sop_adopted"),
]
REFERRED = [{"column": "is_referred", "op": "equals", "value": True}]
SHELTER = [{"column": "service_type", "op": "equals", "value": "shelter"}]
QUARTERS = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "life_of_project"]


def run(entries, selected=None, periods="all", **kwargs):
    """compute() over the fixture for the catalogue `entries`.

    All selected; `selected` overrides by id.
    """
    selected = selected or {}
    project = make_project(
        [{"id": i.id, **selected.get(i.id, {})} for i in entries], context={"population": 200000}
    )
    data = make_data(
        project,
        entries,
        cases=CASES,
        services=SERVICES,
        participants=PARTICIPANTS,
        milestones=MILESTONES,
    )
    return compute(data, periods=periods, **kwargs)


def test_count_by_quarter_with_no_data_and_lop_sum():
    results = run([make_indicator("T-COUNT")], {"T-COUNT": {"disaggregations": ["sex"]}})
    # Q1: c1 c2 c3 = 3 · Q2: c4 c5 c6 = 3 · Q3: no case at all → no data · Q4: c7 = 1
    # · LoP 3+3+1 = 7
    assert values(results, "T-COUNT") == pytest.approx(
        {"2025-Q1": 3, "2025-Q2": 3, "2025-Q3": np.nan, "2025-Q4": 1, "life_of_project": 7},
        nan_ok=True,
    )
    assert values(results, "T-COUNT", column="status")["2025-Q3"] == "no data"
    # Q2 by sex: c4 female, c5 male, c6 missing → unknown
    assert values(results, "T-COUNT", "sex", "female")["2025-Q2"] == 1
    assert values(results, "T-COUNT", "sex", "male")["2025-Q2"] == 1
    assert values(results, "T-COUNT", "sex", "unknown")["2025-Q2"] == 1
    assert values(results, "T-COUNT", "sex", "female")["life_of_project"] == 4  # c1 c2 c4 c7
    assert [p.label for p in results.periods] == QUARTERS


def test_filtered_count_zero_differs_from_no_data():
    results = run([make_indicator("T-REF", date="referral_date", filter=REFERRED)])
    # referral dates: c1 01-20 (Q1); c3 04-02, c4 04-12, c5 05-25 (Q2). Q3: no record → no data.
    # Q4: c7 was identified (a record dated in Q4) but nobody was referred → a real 0.
    assert values(results, "T-REF") == pytest.approx(
        {"2025-Q1": 1, "2025-Q2": 3, "2025-Q3": np.nan, "2025-Q4": 0, "life_of_project": 4},
        nan_ok=True,
    )


def test_count_distinct_on_services_disaggregated_by_a_case_column():
    indicator = make_indicator(
        "T-DIST", "count_distinct", "services", "start_date", column="case_id"
    )
    results = run([indicator], {"T-DIST": {"disaggregations": ["sex"]}})
    # Q1 services s1 s2 (c1) and s3 (c3): 3 rows, 2 distinct cases; Q2 s4 s5 (c4), s6 (c5): 2 cases.
    # LoP: c1 c3 c4 c5 = 4 (not 2+2 summed per row: the distinct count runs once over the span).
    assert values(results, "T-DIST") == pytest.approx(
        {"2025-Q1": 2, "2025-Q2": 2, "2025-Q3": np.nan, "2025-Q4": np.nan, "life_of_project": 4},
        nan_ok=True,
    )
    # sex comes from cases through case_id: Q1 c1 female, c3 male
    assert values(results, "T-DIST", "sex", "female")["2025-Q1"] == 1
    assert values(results, "T-DIST", "sex", "male")["2025-Q1"] == 1


def test_filter_on_a_linked_column():
    girls = [{"column": "age", "op": "range", "value": [None, 17]}, *SHELTER]
    results = run([make_indicator("T-LINK", "count", "services", "start_date", filter=girls)])
    # shelter services to cases aged ≤ 17: s1 (c1, 16) in Q1, s4 (c4, 17) in Q2
    assert values(results, "T-LINK")["2025-Q1"] == 1
    assert values(results, "T-LINK")["2025-Q2"] == 1


def test_sum_mean_median():
    nights = make_indicator(
        "T-SUM", "sum", "services", "start_date", column="nights", filter=SHELTER
    )
    days = dict(
        date="referral_date", column="days_to_referral_acceptance", unit="score", rollup="recompute"
    )
    results = run(
        [
            nights,
            make_indicator("T-MEAN", "mean", **days),
            make_indicator("T-MED", "median", **days),
        ]
    )
    # nights: Q1 10+5 = 15, Q2 20+3 = 23, LoP 38
    assert values(results, "T-SUM")["2025-Q1"] == 15
    assert values(results, "T-SUM")["life_of_project"] == 38
    # days to acceptance: Q1 [3] · Q2 [10, 5, 7] · LoP [3, 10, 5, 7]
    mean = values(results, "T-MEAN")
    assert mean["2025-Q2"] == pytest.approx(22 / 3)  # (10+5+7)/3
    assert mean["life_of_project"] == pytest.approx(
        6.25
    )  # 25/4, not the mean of the quarters' means
    assert values(results, "T-MEAN", column="numerator")["2025-Q2"] == 22
    assert values(results, "T-MEAN", column="denominator")["2025-Q2"] == 3
    median = values(results, "T-MED")
    assert median["2025-Q2"] == 7  # median(5, 7, 10)
    assert median["life_of_project"] == 6  # median(3, 5, 7, 10) = (5+7)/2


def test_share_recomputed_for_life_of_project():
    share = make_indicator(
        "T-SHARE", "share", unit="percent", rollup="recompute", numerator={"filter": REFERRED}
    )
    results = run([share])
    # Q1: c1 c3 referred of c1 c2 c3 → 2/3 · Q2: c4 c5 of c4 c5 c6 → 2/3 · Q4: 0/1
    # LoP: 4/7 = 57.14 %, not the sum of shares (133.3) nor their mean ((66.7+66.7+0)/3 = 44.4)
    got = values(results, "T-SHARE")
    assert got["2025-Q1"] == pytest.approx(200 / 3)
    assert got["2025-Q4"] == 0
    assert got["life_of_project"] == pytest.approx(400 / 7)
    assert values(results, "T-SHARE", column="numerator")["life_of_project"] == 4
    assert values(results, "T-SHARE", column="denominator")["life_of_project"] == 7


def test_ratio_and_rate():
    ratio = make_indicator(
        "T-RATIO",
        "ratio",
        "services",
        "start_date",
        unit="ratio",
        rollup="recompute",
        numerator={},
        denominator={"aggregate": "count_distinct", "column": "case_id"},
    )
    rate = make_indicator(
        "T-RATE",
        unit="rate",
        measure="rate",
        rollup="recompute",
        factor=100000,
        numerator={},
        denominator={"project_value": "population"},
    )
    results = run([ratio, rate])
    # services per case served: Q1 3 services / 2 cases = 1.5 · LoP 6 / 4 = 1.5
    assert values(results, "T-RATIO")["2025-Q1"] == 1.5
    # cases per 100,000 people (population 200,000): Q1 3/200000×100000 = 1.5 · LoP 7 → 3.5
    assert values(results, "T-RATE")["2025-Q1"] == pytest.approx(1.5)
    assert values(results, "T-RATE")["life_of_project"] == pytest.approx(3.5)
    assert values(results, "T-RATE", column="denominator")["2025-Q1"] == 200000


def test_milestone_cumulative_and_within_period():
    law = [{"column": "milestone_type", "op": "equals", "value": "law_enacted"}]
    sop = [{"column": "milestone_type", "op": "equals", "value": "sop_adopted"}]
    common = dict(table="milestones", date="achieved_date", unit="yes_no", rollup="latest")
    results = run(
        [
            make_indicator("T-LAW", "milestone", filter=law, **common),
            make_indicator("T-LAWQ", "milestone", filter=law, cumulative=False, **common),
            make_indicator("T-SOP", "milestone", filter=sop, **common),
        ]
    )
    # the law was enacted on 2025-05-10: achieved by the end of Q2, Q3, Q4; within Q2 only
    assert values(results, "T-LAW") == {
        "2025-Q1": 0,
        "2025-Q2": 1,
        "2025-Q3": 1,
        "2025-Q4": 1,
        "life_of_project": 1,
    }
    assert values(results, "T-LAWQ") == {
        "2025-Q1": 0,
        "2025-Q2": 1,
        "2025-Q3": 0,
        "2025-Q4": 0,
        "life_of_project": 1,
    }
    # the SOP has no achieved date: not achieved (0), which is data, not "no data"
    assert set(values(results, "T-SOP").values()) == {0}


def test_counting_milestones_gives_zero_in_a_quarter_without_one():
    laws = [{"column": "milestone_type", "op": "in", "value": ["law_enacted", "law_amended"]}]
    results = run(
        [make_indicator("T-LAWS", "count", table="milestones", date="achieved_date", filter=laws)]
    )
    # the register holds one law, enacted 2025-05-10: Q2 counts 1, the other quarters a real 0
    assert values(results, "T-LAWS") == {
        "2025-Q1": 0,
        "2025-Q2": 1,
        "2025-Q3": 0,
        "2025-Q4": 0,
        "life_of_project": 1,
    }


def test_change_share_improved_and_mean_change():
    common = dict(
        table="participants",
        date="completion_date",
        before="pre_score",
        after="post_score",
        rollup="recompute",
    )
    results = run(
        [
            make_indicator("T-IMP", "change", unit="percent", **common),
            make_indicator("T-GAIN", "change", unit="score", statistic="mean_change", **common),
        ],
        {"T-IMP": {"disaggregations": ["sex"]}},
    )
    # Q1 pairs: p1 40→70 (+30), p2 50→50 (0), p3 60→55 (−5); p4 has no pre score → left out
    assert values(results, "T-IMP")["2025-Q1"] == pytest.approx(100 / 3)  # 1 improved of 3
    assert values(results, "T-IMP", "sex", "female")["2025-Q1"] == 50  # p1 of p1 p3
    assert values(results, "T-GAIN")["2025-Q1"] == pytest.approx(25 / 3)  # (30+0−5)/3
    # LoP adds p5 20→40: 2 improved of 4 = 50 %; mean change (30+0−5+20)/4 = 11.25
    assert values(results, "T-IMP")["life_of_project"] == 50
    assert values(results, "T-GAIN")["life_of_project"] == pytest.approx(11.25)


def test_stock_takes_the_latest_period_for_life_of_project():
    results = run([make_indicator("T-STOCK", rollup="latest")], periods=["2025-Q1", "2025-Q2"])
    # LoP to the end of Q2 = Q2's value (3), not 3+3
    assert values(results, "T-STOCK") == {"2025-Q1": 3, "2025-Q2": 3, "life_of_project": 3}
    assert results.periods[-1].end_date.isoformat() == "2025-06-30"


def test_stock_life_of_project_is_the_last_period_with_data():
    # Q3 has no record at all (no data); LoP to the end of Q3 = Q2's value (3), the last
    # period with data
    results = run([make_indicator("T-STOCK", rollup="latest")], periods=["2025-Q3"])
    assert math.isnan(values(results, "T-STOCK")["2025-Q3"])
    assert values(results, "T-STOCK")["life_of_project"] == 3
    # only the requested period and life of project are published
    assert set(rows_of(results, "T-STOCK")["period"]) == {"2025-Q3", "life_of_project"}


def test_reported_values_roll_up():
    count = make_indicator("T-REP", "reported", table=None, date=None)
    share = make_indicator(
        "T-REPP", "reported", table=None, date=None, unit="percent", rollup="recompute"
    )
    project = make_project([{"id": "T-REP", "disaggregations": ["sex"]}, "T-REPP"])
    reported = [
        dict(indicator_id="T-REP", period="2025-Q1", value=12),
        dict(indicator_id="T-REP", period="2025-Q2", value=8),
        dict(indicator_id="T-REP", period="2025-Q2", dimension="sex", category="female", value=5),
        dict(indicator_id="T-REP", period="2025-Q2", dimension="sex", category="male", value=3),
        dict(indicator_id="T-REPP", period="2025-Q1", numerator=3, denominator=10, value=30),
        dict(indicator_id="T-REPP", period="2025-Q2", numerator=6, denominator=10, value=60),
    ]
    results = compute(make_data(project, [count, share], reported_values=reported), periods="all")
    # Q3 and Q4 were not reported → no data; LoP sum 12+8 = 20
    assert values(results, "T-REP") == pytest.approx(
        {"2025-Q1": 12, "2025-Q2": 8, "2025-Q3": np.nan, "2025-Q4": np.nan, "life_of_project": 20},
        nan_ok=True,
    )
    assert values(results, "T-REP", "sex", "female") == {"2025-Q2": 5, "life_of_project": 5}
    # share recomputed from the parts: (3+6)/(10+10) = 45 %, not 30+60 nor their mean 45 by chance:
    assert values(results, "T-REPP")["life_of_project"] == 45
    assert values(results, "T-REPP", column="denominator")["life_of_project"] == 20


def test_source_suppressed_and_unavailable_reported_values_carry_their_state():
    up = make_indicator("T-UP", "reported", table=None, date=None)
    down = make_indicator("T-DOWN", "reported", table=None, date=None, direction="decrease")
    share = make_indicator(
        "T-SHARE", "reported", table=None, date=None, unit="percent", rollup="recompute"
    )
    project = make_project(
        [
            {"id": "T-UP", "targets": {"2025-Q1": 4, "2025-Q2": 4, "life_of_project": 8}},
            {"id": "T-DOWN", "targets": {"2025-Q1": 4, "2025-Q2": 4}},
            {"id": "T-SHARE", "targets": {"life_of_project": 50}},
        ]
    )
    suppressed = dict(value=None, value_state="source_suppressed", value_as_written="<5")
    unavailable = dict(value=None, value_state="unavailable", value_as_written="..")
    reported = [
        dict(indicator_id="T-UP", period="2025-Q1", value=10),
        dict(indicator_id="T-UP", period="2025-Q2", **suppressed),
        dict(indicator_id="T-UP", period="2025-Q3", value=7),
        dict(indicator_id="T-UP", period="2025-Q4", **unavailable),
        dict(indicator_id="T-DOWN", period="2025-Q1", value=10),
        dict(indicator_id="T-DOWN", period="2025-Q2", **suppressed),
        dict(indicator_id="T-SHARE", period="2025-Q1", numerator=4, denominator=10, value=40),
        dict(indicator_id="T-SHARE", period="2025-Q2", **suppressed),
    ]
    data = make_data(project, [up, down, share], reported_values=reported)
    rows = rows_of(compute(data, periods=["2025-Q1", "2025-Q2"]), "T-UP").set_index("period")
    # Q2 itself: no number, the source's state and text, no grade
    assert math.isnan(rows.loc["2025-Q2", "value"])
    assert rows.loc["2025-Q2", ["value_state", "value_as_written", "status"]].tolist() == [
        "source_suppressed",
        "<5",
        "no data",
    ]
    # life of project to Q2: 10 + <5 is at least 10: a lower bound; against its target to date
    # (4 + 4) 10 / 8 = 125 % > 115 % is ahead whatever the hidden part, so that grade stands
    assert rows.loc["life_of_project", ["value", "value_state", "status"]].tolist() == [
        10,
        "lower_bound",
        "ahead",
    ]
    assert pd.isna(rows.loc["2025-Q1", "value_state"]) and rows.loc["2025-Q1", "status"] == "ahead"
    # lower is better: a lower bound of 10 against a target to date of 8 (80 %) is behind
    # whatever the rest
    down_rows = rows_of(compute(data, periods=["2025-Q2"]), "T-DOWN").set_index("period")
    assert down_rows.loc["life_of_project", ["value", "status"]].tolist() == [10, "behind"]
    # the whole year: 10 + <5 + 7 + .. = 17 and more, with a part the source did not have
    rows = rows_of(compute(data, periods="all"), "T-UP").set_index("period")
    assert rows.loc["life_of_project", ["value", "value_state", "status"]].tolist() == [
        17,
        "incomplete",
        "incomplete",
    ]
    assert rows.loc["2025-Q4", ["value_state", "value_as_written"]].tolist() == [
        "unavailable",
        "..",
    ]
    # a share recomputed over a suppressed part has no value at all
    share_rows = rows_of(compute(data, periods=["2025-Q2"]), "T-SHARE").set_index("period")
    assert math.isnan(share_rows.loc["life_of_project", "value"])
    assert share_rows.loc["life_of_project", ["value_state", "status"]].tolist() == [
        "incomplete",
        "no data",
    ]


def test_a_lower_bound_below_its_target_is_not_graded_below():
    up = make_indicator("T-UP", "reported", table=None, date=None)
    project = make_project([{"id": "T-UP", "targets": {"2025-Q1": 10, "2025-Q2": 10}}])
    reported = [
        dict(indicator_id="T-UP", period="2025-Q1", value=10),
        dict(indicator_id="T-UP", period="2025-Q2", value=None, value_state="source_suppressed"),
    ]
    results = compute(make_data(project, [up], reported_values=reported), periods=["2025-Q2"])
    # at least 10 of 20 to date (50 %): the hidden part may reach the target, so no grade
    assert values(results, "T-UP", column="status")["life_of_project"] == "incomplete"


def test_year_of_quarterly_reported_values_and_explicit_life_of_project_row():
    count = make_indicator("T-REP", "reported", table=None, date=None)
    reported = [
        dict(indicator_id="T-REP", period="2025-Q1", value=2),
        dict(indicator_id="T-REP", period="2025-Q3", value=5),
        dict(indicator_id="T-REP", period="life_of_project", value=9),
    ]
    results = compute(
        make_data(make_project(["T-REP"]), [count], reported_values=reported), periods=["2025"]
    )
    # the year sums its reported quarters: 2 + 5 = 7; the project's own LoP row (9) wins over
    # the roll-up
    assert values(results, "T-REP") == {"2025": 7, "life_of_project": 9}


def test_targets_achievement_and_status():
    project_targets = {
        "T-COUNT": {
            "targets": {"2025-Q1": 3, "2025-Q2": 4, "2025-Q4": 2, "life_of_project": 10},
            "baseline": {"value": 1},
        }
    }
    results = run([make_indicator("T-COUNT")], project_targets)
    rows = rows_of(results, "T-COUNT").set_index("period")
    # Q1 3/3 = 100 % on track · Q2 3/4 = 75 % behind · Q3 no data · Q4 1/2 = 50 % behind
    # LoP ends with the project: graded against its own target, 7/10 = 70 % behind
    assert rows.loc["2025-Q1", ["achievement", "status"]].tolist() == [100, "on track"]
    assert rows.loc["2025-Q2", ["achievement", "status"]].tolist() == [75, "behind"]
    assert rows.loc["2025-Q3", "status"] == "no data"
    assert rows.loc["life_of_project", ["achievement", "status"]].tolist() == [70, "behind"]
    assert (rows["baseline"] == 1).all()
    # without a target: "no target"
    results = run([make_indicator("T-COUNT")], {"T-COUNT": {"disaggregations": ["sex"]}})
    assert values(results, "T-COUNT", column="status")["2025-Q1"] == "no target"
    assert values(results, "T-COUNT", "sex", "female", column="status")["2025-Q1"] == "no target"


def test_decrease_direction_status():
    # days to referral acceptance: lower is better. Q1 mean 3, Q2 mean 22/3 ≈ 7.33
    days = make_indicator(
        "T-DAYS",
        "mean",
        date="referral_date",
        column="days_to_referral_acceptance",
        unit="score",
        rollup="recompute",
        direction="decrease",
    )
    results = run(
        [days],
        {"T-DAYS": {"targets": {"2025-Q1": 4, "2025-Q2": 7, "life_of_project": 2}}},
        periods=["2025-Q1", "2025-Q2"],
    )
    rows = rows_of(results, "T-DAYS").set_index("period")
    # Q1: 4/3×100 = 133.3 % → ahead (better than target) · Q2: 7/(22/3)×100 = 95.45 % → on track
    # LoP to date (Q1-Q2) 25/4 = 6.25 days against its target to date, the last one set (Q2: 7):
    # 7/6.25×100 = 112 % → on track; the whole project's target (2) is shown beside it
    assert rows.loc["2025-Q1", "achievement"] == pytest.approx(400 / 3)
    assert rows.loc["2025-Q1", "status"] == "ahead"
    assert rows.loc["2025-Q2", "achievement"] == pytest.approx(2100 / 22)
    assert rows.loc["2025-Q2", "status"] == "on track"
    life = rows.loc["life_of_project"]
    assert (life["target"], life["achievement"], life["status"]) == (
        7,
        pytest.approx(112),
        "on track",
    )
    assert life["full_target"] == 2 and np.isnan(life["full_target_share"])  # a share of flows only


def test_zero_cases_of_achievement_and_custom_bands():
    from ctlib._compute.targets import achievement, status

    # decrease, value 0 below a target of 2: ratio undefined → NaN, better than target → ahead
    # increase, target 0 and value 0 → equal → 100 % · increase, target 0, value 3 → ahead
    got = achievement([0, 0, 3], [2, 0, 0], [True, False, False])
    assert np.isnan(got[0]) and got[1] == 100 and np.isnan(got[2])
    graded = [
        status([v], [t], [np.nan], [np.nan], [g], d, (85, 115))[0]
        for v, t, g, d in zip([0, 0, 3], [2, 0, 0], got, ["decrease", "increase", "increase"])
    ]
    assert graded == ["ahead", "on track", "ahead"]
    # bands 90–110: 88 % is behind
    results = run(
        [make_indicator("T-COUNT")],
        {"T-COUNT": {"targets": {"2025-Q4": 1.1364}}},
        periods="2025-Q4",
        bands=(90, 110),
    )
    assert values(results, "T-COUNT", column="status")["2025-Q4"] == "behind"  # 1/1.1364 = 88 %


def test_fiscal_quarters_in_the_engine():
    count = make_indicator("T-COUNT")
    project = make_project(
        ["T-COUNT"],
        start="2024-10-01",
        end="2025-09-30",
        reporting={"calendar": "fiscal", "fiscal_year_start_month": 10},
    )
    results = compute(make_data(project, [count], cases=CASES), periods="all")
    # FY2025 = Oct 2024 … Sep 2025: Q2 Jan–Mar (c1 c2 c3), Q3 Apr–Jun (c4 c5 c6), Q4 Jul–Sep
    # (nothing)
    assert values(results, "T-COUNT") == pytest.approx(
        {
            "FY2025-Q1": np.nan,
            "FY2025-Q2": 3,
            "FY2025-Q3": 3,
            "FY2025-Q4": np.nan,
            "life_of_project": 6,
        },
        nan_ok=True,
    )  # c7 (2025-10-01) is after the project end


def test_missing_table_is_a_problem_and_others_compute():
    legal = dict(table="legal_cases", date="investigation_date")
    indicators = [
        make_indicator("T-COUNT"),
        make_indicator("T-INV", **legal),
        make_indicator("T-INV2", **legal),
    ]
    results = run(indicators)
    assert set(results.table["indicator_id"]) == {"T-COUNT"}
    [problem] = [p for p in results.problems if p.rule == "missing table"]
    assert "'legal_cases'" in problem.message and "T-INV, T-INV2" in problem.message


def test_unusable_disaggregation_is_a_warning():
    results = run([make_indicator("T-COUNT")], {"T-COUNT": {"disaggregations": ["colour"]}})
    assert set(results.table["dimension"]) == {"total"}
    assert [p.severity for p in results.problems if p.column == "colour"] == ["warning"]


def test_reported_value_for_a_computed_indicator_is_an_error():
    project = make_project(["T-COUNT"])
    data = make_data(
        project,
        [make_indicator("T-COUNT")],
        cases=CASES,
        reported_values=[dict(indicator_id="T-COUNT", period="2025-Q1", value=4)],
    )
    with pytest.raises(ComputeError, match="T-COUNT is computed from data"):
        compute(data, periods="2025-Q1")


def test_targets_outside_the_project_are_an_error():
    project = make_project([{"id": "T-COUNT", "targets": {"2027-Q1": 5, "2025-Q5": 1}}])
    with pytest.raises(PeriodError) as error:
        compute(make_data(project, [make_indicator("T-COUNT")], cases=CASES), periods="2025-Q1")
    assert len(error.value.problems) == 2
    assert "outside the project span 2025-01-01 … 2025-12-31" in str(error.value)


def test_latest_and_narrowing_indicators():
    results = run(
        [make_indicator("T-COUNT"), make_indicator("T-REF", date="referral_date", filter=REFERRED)],
        periods="latest",
        indicators=["T-REF"],
    )
    # the latest record (2025-10-01) falls in 2025-Q4, the project's last quarter → 2025-Q4
    # (the "last complete period" case is in test_periods)
    assert [p.label for p in results.periods] == ["2025-Q4", "life_of_project"]
    assert set(results.table["indicator_id"]) == {"T-REF"}
    with pytest.raises(ComputeError, match="not selected"):
        run([make_indicator("T-COUNT")], indicators=["NOPE-01"])


def test_results_columns_and_order():
    from ctlib._compute.engine import RESULT_COLUMNS

    results = run(
        [make_indicator("T-COUNT")], {"T-COUNT": {"disaggregations": ["sex"]}}, periods="2025-Q1"
    )
    table = results.table
    assert tuple(table.columns) == RESULT_COLUMNS
    assert table["period"].tolist()[:3] == ["2025-Q1"] * 3
    assert table.iloc[0][["dimension", "category"]].tolist() == ["total", "total"]
    assert table["period_end_date"].iloc[0] == pd.Timestamp("2025-03-31")
    assert not table["suppressed"].any() and set(table["audience"]) == {"internal"}


# -- the sample projects ---------------------------------------------------------------------------
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLES = sorted(p.parent for p in SAMPLE_DIR.glob("*/project.yaml"))


def test_there_are_sample_projects():
    assert len(SAMPLES) >= 5


@pytest.mark.parametrize("project_dir", SAMPLES, ids=lambda p: p.name)
def test_every_sample_project_computes(project_dir):
    from ctlib._compute.privacy import suppress
    from ctlib._data.ingest import load_project_data

    data = load_project_data(project_dir)
    results = compute(data, periods="all")
    assert [p for p in results.problems if p.severity == "error"] == []
    assert set(results.table["indicator_id"]) == {s.id for s in data.project.indicators}
    latest = compute(data)  # "latest" resolves from the data
    assert latest.periods[-1].label == "life_of_project" and len(latest.periods) == 2
    suppressed = suppress(results, data.project.privacy.min_cell_size)
    assert suppressed.table["value"].notna().sum() < results.table["value"].notna().sum()


# -- recipes read by other modules (quality rules, the explorer) -----------------------------------
def fixture_data():
    return make_data(make_project(), [], cases=CASES, services=SERVICES, participants=PARTICIPANTS)


@pytest.mark.parametrize(
    "table, condition, kept",
    [
        ("cases", ("sex", "equals", "female"), ["c1", "c2", "c4", "c7"]),
        ("cases", ("sex", "in", ["female", "male"]), ["c1", "c2", "c3", "c4", "c5", "c7"]),
        (
            "cases",
            ("sex", "not", "female"),
            ["c3", "c5", "c6"],
        ),  # c6's sex is missing: it is "not female"
        ("cases", ("sex", "is_null", True), ["c6"]),
        ("cases", ("age", "range", [None, 17]), ["c1", "c4"]),  # c6 has no age: in no range
        ("cases", ("age", "not", 16), ["c2", "c3", "c4", "c5", "c6", "c7"]),
        ("cases", ("referral_date", "range", ["2025-04-01", None]), ["c3", "c4", "c5"]),
        ("services", ("sex", "not", "female"), ["s3", "s6"]),  # the sex of the service's case
    ],
)
def test_filters_read_a_missing_value_as_equal_to_nothing(table, condition, kept):
    data = fixture_data()
    column, op, value = condition
    frame = data.tables[table]
    per_row = part_per_group(
        data,
        table,
        Part(filter=[Condition(column=column, op=op, value=value)]),
        np.arange(len(frame)),
        len(frame),
    )
    assert list(frame[TABLES[table].key][per_row > 0]) == kept


def test_part_per_group_aggregates_as_recipes_do():
    data = fixture_data()
    quarters = np.array([0, 0, 0, 1, 1, -1])  # s1 s2 s3 in one group, s4 s5 in another, s6 in none
    people = Part(aggregate="count_distinct", column="case_id")
    assert part_per_group(data, "services", people, quarters, 2).tolist() == [2, 1]  # c1 c3 · c4
    nights = Part(
        aggregate="sum",
        column="nights",
        filter=[Condition(column="sex", op="equals", value="female")],
    )
    assert part_per_group(data, "services", nights, quarters, 2).tolist() == [
        10,
        20,
    ]  # s1 (c1) · s4 (c4)
    with pytest.raises(ComputeError, match="no column 'colour'"):
        part_per_group(data, "services", Part(aggregate="sum", column="colour"), quarters, 2)


def test_recipe_rows_are_the_rows_behind_a_result():
    data = fixture_data()
    q1, q2 = (ReportingCalendar(data.project).parse(label) for label in ("2025-Q1", "2025-Q2"))
    share = make_indicator(
        "T-SHARE", "share", unit="percent", rollup="recompute", numerator={"filter": REFERRED}
    )
    rows = recipe_rows(data, share, q2)  # c4 c5 referred of c4 c5 c6
    assert rows["case_id"].tolist() == ["c4", "c5", "c6"] and rows["in_numerator"].tolist() == [
        True,
        True,
        False,
    ]
    assert rows.columns[:3].tolist() == ["in_numerator", "identification_date", "is_referred"]
    assert recipe_rows(data, share, q2, "sex", "unknown")["case_id"].tolist() == ["c6"]
    shelter = make_indicator("T-SHELTER", table="services", date="start_date", filter=SHELTER)
    rows = recipe_rows(data, shelter, q1, "sex", "female")  # the sex of each service's case, joined
    assert rows["service_id"].tolist() == ["s1"] and rows["sex"].tolist() == ["female"]
    change = make_indicator(
        "T-IMP",
        "change",
        "participants",
        "completion_date",
        unit="percent",
        rollup="recompute",
        before="pre_score",
        after="post_score",
    )
    rows = recipe_rows(data, change, q1)  # p4 has no pre score: not counted
    assert rows["participant_id"].tolist() == ["p1", "p2", "p3"]
    assert rows["improved"].tolist() == [True, False, False]
    with pytest.raises(ComputeError, match="needs the 'milestones' table"):
        recipe_rows(data, make_indicator("T-M", "milestone", "milestones", "achieved_date"), q1)
