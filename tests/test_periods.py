"""Period labels, fiscal calendars, date → period mapping and `latest`."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest
from test_engine import make_project, make_table

from ctlib._compute.periods import ReportingCalendar, validate_targets
from ctlib._errors import PeriodError

D = dt.date


def calendar(start="2025-01-01", end="2026-12-31", **reporting):
    return ReportingCalendar(make_project(start=start, end=end, reporting=reporting))


def spans(periods):
    return [(p.label, p.start_date, p.end_date) for p in periods]


def test_calendar_quarters_semesters_years():
    cal = calendar()
    assert [p.label for p in cal.periods()] == [
        f"{y}-Q{q}" for y in (2025, 2026) for q in (1, 2, 3, 4)
    ]
    assert spans(cal.periods())[2] == ("2025-Q3", D(2025, 7, 1), D(2025, 9, 30))
    assert spans(cal.periods("semester"))[1] == ("2025-S2", D(2025, 7, 1), D(2025, 12, 31))
    assert spans(cal.periods("year")) == [
        ("2025", D(2025, 1, 1), D(2025, 12, 31)),
        ("2026", D(2026, 1, 1), D(2026, 12, 31)),
    ]


def test_fiscal_year_starting_in_july_is_named_after_the_year_it_ends():
    cal = calendar(
        start="2025-07-01", end="2027-06-30", calendar="fiscal", fiscal_year_start_month=7
    )
    assert spans([cal.parse("FY2026-Q1")]) == [("FY2026-Q1", D(2025, 7, 1), D(2025, 9, 30))]
    assert spans([cal.parse("FY2026-Q3")]) == [("FY2026-Q3", D(2026, 1, 1), D(2026, 3, 31))]
    assert spans([cal.parse("FY2026")]) == [("FY2026", D(2025, 7, 1), D(2026, 6, 30))]
    assert spans([cal.parse("FY2027-S1")]) == [("FY2027-S1", D(2026, 7, 1), D(2026, 12, 31))]
    dates = pd.Series(
        pd.to_datetime(["2025-07-01", "2025-12-31", "2026-01-01", "2026-06-30", "2026-07-01"])
    )
    assert cal.label_dates(dates).tolist() == [
        "FY2026-Q1",
        "FY2026-Q2",
        "FY2026-Q3",
        "FY2026-Q4",
        "FY2027-Q1",
    ]
    assert cal.label_dates(dates, "year").tolist() == ["FY2026"] * 4 + ["FY2027"]


def test_fiscal_year_starting_in_october():
    cal = calendar(
        start="2024-10-01", end="2026-09-30", calendar="fiscal", fiscal_year_start_month=10
    )
    # FY2025 = 2024-10-01 … 2025-09-30; Q1 Oct–Dec 2024, Q2 Jan–Mar 2025
    assert spans(cal.periods())[:2] == [
        ("FY2025-Q1", D(2024, 10, 1), D(2024, 12, 31)),
        ("FY2025-Q2", D(2025, 1, 1), D(2025, 3, 31)),
    ]
    dates = pd.Series(pd.to_datetime(["2024-11-15", "2025-01-15", "2025-09-30", "2025-10-01"]))
    assert cal.label_dates(dates).tolist() == ["FY2025-Q1", "FY2025-Q2", "FY2025-Q4", "FY2026-Q1"]
    assert cal.label_dates(dates, "semester").tolist() == [
        "FY2025-S1",
        "FY2025-S1",
        "FY2025-S2",
        "FY2026-S1",
    ]


def test_fiscal_calendar_starting_in_january_is_the_calendar_year_with_fy_labels():
    cal = calendar(calendar="fiscal", fiscal_year_start_month=1)
    assert spans([cal.parse("FY2025")]) == [("FY2025", D(2025, 1, 1), D(2025, 12, 31))]
    assert cal.parse("FY2026-Q2").start_date == D(2026, 4, 1)


def test_periods_are_clipped_to_the_project_span_and_outside_dates_map_to_nothing():
    cal = calendar(start="2025-02-15", end="2025-11-10")
    assert spans(cal.periods())[0] == ("2025-Q1", D(2025, 2, 15), D(2025, 3, 31))
    assert spans(cal.periods())[-1] == ("2025-Q4", D(2025, 10, 1), D(2025, 11, 10))
    dates = pd.Series(
        pd.to_datetime(["2025-02-14", "2025-02-15", "2025-11-10", "2025-11-11", None])
    )
    assert cal.label_dates(dates).isna().tolist() == [True, False, False, True, True]
    assert cal.codes(dates).tolist() == [-1, 0, 3, -1, -1]


def test_malformed_labels_say_the_expected_forms():
    cal = calendar()
    for label in ("2025Q3", "2025-Q5", "2025-S3", "Q3-2025", "FY2025-Q1"):
        with pytest.raises(PeriodError, match=r"expected <year>-Q<1-4> \(quarter\), <year>-S<1-2>"):
            cal.parse(label)
    fiscal = calendar(calendar="fiscal", fiscal_year_start_month=7)
    with pytest.raises(PeriodError, match="fiscal periods; expected FY<year>-Q<1-4>"):
        fiscal.parse("2025-Q3")


def test_a_period_outside_the_span_names_the_span():
    with pytest.raises(
        PeriodError, match=r"outside the project span 2025-01-01 … 2026-12-31 \(2025-Q1 … 2026-Q4\)"
    ):
        calendar().parse("2027-Q1")


def test_life_of_project_and_order():
    cal = calendar()
    life = cal.life_of_project(D(2025, 6, 30))
    assert (life.label, life.start_date, life.end_date) == (
        "life_of_project",
        D(2025, 1, 1),
        D(2025, 6, 30),
    )
    assert cal.parse("life_of_project").end_date == D(2026, 12, 31)
    # ordered by end date, shorter first: Q2 < S1 < Q3 < 2025
    assert sorted([cal.parse(x) for x in ("2025", "2025-Q3", "2025-S1", "2025-Q2")]) == [
        cal.parse(x) for x in ("2025-Q2", "2025-S1", "2025-Q3", "2025")
    ]


def data_with(**tables):
    return SimpleNamespace(tables={name: make_table(name, rows) for name, rows in tables.items()})


def test_latest_is_the_last_complete_period_before_the_latest_record():
    cal = calendar()
    # latest record 2025-08-14 (a service), run on 2025-08-20: Q3 is not over,
    # Q2 ended 06-30 → 2025-Q2
    data = data_with(
        cases=[dict(case_id="a", identification_date="2025-02-01")],
        services=[
            dict(service_id="s", case_id="a", service_type="shelter", start_date="2025-08-14")
        ],
    )
    assert cal.latest(data, today=D(2025, 8, 20)).label == "2025-Q2"
    # the same data run on 2025-10-07, after Q3 ended: the quarter holding the latest
    # record → 2025-Q3
    assert cal.latest(data, today=D(2025, 10, 7)).label == "2025-Q3"
    # a record on the last day of Q3 completes Q3 even while the run is on that day
    data = data_with(cases=[dict(case_id="a", identification_date="2025-09-30")])
    assert cal.latest(data, today=D(2025, 9, 30)).label == "2025-Q3"
    # a record after the project end does not count
    data = data_with(
        cases=[
            dict(case_id="a", identification_date="2025-09-30"),
            dict(case_id="b", identification_date="2027-05-01"),
        ]
    )
    assert cal.latest(data).label == "2025-Q3"


def test_latest_is_the_final_period_once_it_has_data():
    # the project's last quarter holds the latest record: it is reported even if unfinished
    data = data_with(cases=[dict(case_id="a", identification_date="2026-11-02")])
    assert calendar().latest(data).label == "2026-Q4"


def test_latest_from_reported_values_only():
    data = data_with(
        reported_values=[
            dict(indicator_id="X-1", period="2025-Q3", value=1),
            dict(indicator_id="X-1", period="bad label", value=1),
        ]
    )
    assert calendar().latest(data).label == "2025-Q3"


def test_latest_without_data_or_complete_period_is_an_error():
    with pytest.raises(PeriodError, match="no record dated within the project span"):
        calendar().latest(data_with(cases=[]))
    with pytest.raises(PeriodError, match="no quarter is complete yet"):
        calendar().latest(
            data_with(cases=[dict(case_id="a", identification_date="2025-02-01")]),
            today=D(2025, 2, 10),
        )


def test_validate_targets():
    project = make_project(
        [
            {"id": "A-1", "targets": {"2025-Q1": 1, "2027-Q1": 2, "life_of_project": 3}},
            {"id": "B-1", "targets": {"FY2025": 1}},
        ],
        end="2026-12-31",
    )
    problems = validate_targets(project)
    assert [(p.entry, p.value) for p in problems] == [
        ("indicators[0] (A-1).targets", "2027-Q1"),
        ("indicators[1] (B-1).targets", "FY2025"),
    ]
