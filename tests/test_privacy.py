"""Small-cell suppression: hand-worked cases and a property test against recovery by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctlib._compute.engine import RESULT_COLUMNS, Results
from ctlib._compute.privacy import suppress
from ctlib._errors import CtlibError

QUARTER_DATES = {
    f"2025-Q{q}": (f"2025-{3 * q - 2:02d}-01", end)
    for q, end in zip((1, 2, 3, 4), ("2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"))
}


RESULT_DEFAULTS = dict(  # a results row's columns besides its cell, figures and counting
    project_id="p",
    indicator_id="X-1",
    numerator=np.nan,
    denominator=np.nan,
    value_state=pd.NA,
    value_as_written=pd.NA,
    baseline=np.nan,
    target=np.nan,
    target_low=np.nan,
    target_high=np.nan,
    full_target=np.nan,
    full_target_share=np.nan,
    achievement=np.nan,
    progress=np.nan,
    gap=np.nan,
    status="no target",
    direction="increase",
    suppressed=False,
    suppression=pd.NA,
    audience="internal",
    currency="",
    has_overlapping_categories=False,
)


def table(rows, measure="count", unit="count", rollup="sum", counts="people") -> pd.DataFrame:
    """A results table from (period, dimension, category, value) or dicts.

    Life of project ends with the last quarter.
    """
    records = [
        dict(zip(("period", "dimension", "category", "value"), r)) if isinstance(r, tuple) else r
        for r in rows
    ]
    quarters = sorted({r["period"] for r in records} - {"life_of_project"})
    dates = {**QUARTER_DATES, "life_of_project": ("2025-01-01", QUARTER_DATES[quarters[-1]][1])}
    frame = pd.DataFrame(records)
    defaults = dict(RESULT_DEFAULTS, measure=measure, unit=unit, counts=counts, rollup=rollup)
    for column, default in defaults.items():
        frame[column] = frame[column] if column in frame else default
    frame["period_start_date"] = pd.to_datetime(frame["period"].map(lambda p: dates[p][0]))
    frame["period_end_date"] = pd.to_datetime(frame["period"].map(lambda p: dates[p][1]))
    frame["period_kind"] = np.where(
        frame["period"] == "life_of_project", "life_of_project", "quarter"
    )
    return frame[list(RESULT_COLUMNS)]


def hidden_cells(suppressed: pd.DataFrame) -> set:
    rows = suppressed[suppressed["suppressed"]]
    return set(zip(rows["period"], rows["dimension"], rows["category"]))


def test_one_small_category_forces_a_second():
    rows = [
        ("2025-Q1", "total", "total", 20),
        ("2025-Q1", "sex", "female", 3),
        ("2025-Q1", "sex", "male", 12),
        ("2025-Q1", "sex", "unknown", 5),
        ("2025-Q1", "age", "child", 8),
        ("2025-Q1", "age", "adult", 12),
    ]
    result = suppress(table(rows), k=5)
    # female 3 < 5 is hidden; alone it would be 20 − 12 − 5, so the smallest other category
    # (unknown 5) goes too; the age categories (8, 12) and the total stay
    assert hidden_cells(result) == {("2025-Q1", "sex", "female"), ("2025-Q1", "sex", "unknown")}
    hidden = result[result["suppressed"]]
    assert dict(zip(hidden["category"], hidden["suppression"])) == {
        "female": "primary",  # 3 < 5
        "unknown": "complementary",  # 5, hidden so that female cannot be worked out
    }
    assert result.loc[~result["suppressed"], "suppression"].isna().all()
    assert hidden[["value", "numerator", "denominator", "achievement"]].isna().all().all()
    assert set(hidden["status"]) == {"suppressed"} and set(result["audience"]) == {"donor"}


def test_zero_is_published_and_k_is_inclusive_of_small_counts_only():
    rows = [
        ("2025-Q1", "total", "total", 9),
        ("2025-Q1", "sex", "female", 0),
        ("2025-Q1", "sex", "male", 9),
    ]
    assert hidden_cells(suppress(table(rows), k=5)) == set()  # 0 and 9 are not between 1 and 4
    rows = [
        ("2025-Q1", "total", "total", 10),
        ("2025-Q1", "sex", "female", 5),
        ("2025-Q1", "sex", "male", 5),
    ]
    assert hidden_cells(suppress(table(rows), k=5)) == set()
    # with k = 6 both fives are hidden; the total 10 stays (10 ≥ 6, and 10 = a + b with both
    # unknown)
    assert hidden_cells(suppress(table(rows), k=6)) == {
        ("2025-Q1", "sex", "female"),
        ("2025-Q1", "sex", "male"),
    }


def test_a_hidden_period_forces_another_against_life_of_project():
    rows = [
        ("2025-Q1", "total", "total", 10),
        ("2025-Q2", "total", "total", 3),
        ("2025-Q3", "total", "total", 8),
        ("2025-Q4", "total", "total", 6),
        ("life_of_project", "total", "total", 27),
    ]
    # Q2 = 27 − 10 − 8 − 6 unless a second quarter is hidden: the smallest, Q4 (6)
    assert hidden_cells(suppress(table(rows), k=5)) == {
        ("2025-Q2", "total", "total"),
        ("2025-Q4", "total", "total"),
    }


def test_suppression_chains_across_categories_and_periods():
    rows = [
        ("2025-Q1", "total", "total", 10),
        ("2025-Q1", "sex", "female", 7),
        ("2025-Q1", "sex", "male", 3),
        ("2025-Q2", "total", "total", 12),
        ("2025-Q2", "sex", "female", 6),
        ("2025-Q2", "sex", "male", 6),
        ("life_of_project", "total", "total", 22),
        ("life_of_project", "sex", "female", 13),
        ("life_of_project", "sex", "male", 9),
    ]
    # Q1 male 3 hidden → Q1 female (10 − 3) hidden → female LoP 13 = 7 + Q2 female,
    # so Q2 female (6) hidden → Q2 male (12 − 6) hidden.
    # Totals and LoP categories stay: each relation now has two hidden cells.
    assert hidden_cells(suppress(table(rows), k=5)) == {
        ("2025-Q1", "sex", "female"),
        ("2025-Q1", "sex", "male"),
        ("2025-Q2", "sex", "female"),
        ("2025-Q2", "sex", "male"),
    }


def test_stock_life_of_project_follows_the_period_it_copies():
    rows = [
        ("2025-Q1", "total", "total", 20),
        ("2025-Q1", "sex", "female", 10),
        ("2025-Q1", "sex", "male", 10),
        ("2025-Q2", "total", "total", 9),
        ("2025-Q2", "sex", "female", 3),
        ("2025-Q2", "sex", "male", 6),
        ("life_of_project", "total", "total", 9),
        ("life_of_project", "sex", "female", 3),
        ("life_of_project", "sex", "male", 6),
    ]
    hidden = hidden_cells(suppress(table(rows, rollup="latest"), k=5))
    # female 3 is small in Q2 and in LoP (its copy); male 6 goes in Q2 (9 − 3) and so in LoP
    # (= Q2 male)
    assert {("2025-Q2", "sex", "male"), ("life_of_project", "sex", "male")} <= hidden
    assert {("2025-Q2", "sex", "female"), ("life_of_project", "sex", "female")} <= hidden


def test_shares_are_hidden_on_a_small_numerator_or_denominator():
    rows = [
        dict(
            period="2025-Q1",
            dimension="total",
            category="total",
            numerator=42,
            denominator=100,
            value=42.0,
        ),
        dict(
            period="2025-Q1",
            dimension="sex",
            category="female",
            numerator=2,
            denominator=50,
            value=4.0,
        ),
        dict(
            period="2025-Q1",
            dimension="sex",
            category="male",
            numerator=40,
            denominator=47,
            value=85.1,
        ),
        dict(
            period="2025-Q1",
            dimension="sex",
            category="unknown",
            numerator=0,
            denominator=3,
            value=0.0,
        ),
    ]
    result = suppress(table(rows, measure="share", unit="percent", rollup="recompute"), k=5)
    # female: numerator 2 < 5 · unknown: denominator 3 < 5 · two hidden already: male and total stay
    assert hidden_cells(result) == {("2025-Q1", "sex", "female"), ("2025-Q1", "sex", "unknown")}


def test_means_hide_on_few_values_and_milestones_never():
    mean = table(
        [
            dict(
                period="2025-Q1",
                dimension="total",
                category="total",
                numerator=21,
                denominator=3,
                value=7.0,
            )
        ],
        measure="mean",
        unit="score",
        rollup="recompute",
    )
    assert hidden_cells(suppress(mean, k=5)) == {("2025-Q1", "total", "total")}
    milestone = table(
        [("2025-Q1", "total", "total", 1)], measure="milestone", unit="yes_no", rollup="latest"
    )
    assert hidden_cells(suppress(milestone, k=5)) == set()


def test_internal_audience_sees_everything_and_results_round_trip():
    rows = [("2025-Q1", "total", "total", 2)]
    internal = suppress(table(rows), k=5, audience="internal")
    assert internal["value"].tolist() == [2] and not internal["suppressed"].any()
    assert internal["audience"].tolist() == ["internal"]
    results = suppress(Results("p", [], table(rows)), k=5)
    assert isinstance(results, Results) and results.table["suppressed"].tolist() == [True]
    with pytest.raises(CtlibError, match="unknown audience 'public'"):
        suppress(table(rows), k=5, audience="public")


def test_a_share_whose_complement_is_small_is_hidden():
    rows = [
        dict(period="2025-Q1", dimension="total", category="total", numerator=45, denominator=60),
        dict(period="2025-Q1", dimension="sex", category="female", numerator=5, denominator=6),
        dict(period="2025-Q1", dimension="sex", category="male", numerator=40, denominator=54),
    ]
    rows = [dict(r, value=100 * r["numerator"] / r["denominator"]) for r in rows]
    result = suppress(table(rows, measure="share", unit="percent", rollup="recompute"), k=5)
    # 5 of 6 consented: 1 did not, a count of one person; male goes with it (60 − 6 = 54)
    hidden = result[result["suppressed"]]
    assert dict(zip(hidden["category"], hidden["suppression"])) == {
        "female": "primary",
        "male": "complementary",
    }


def test_a_value_its_source_suppressed_stays_hidden_and_is_protected():
    rows = [
        ("2025-Q1", "total", "total", 40),
        ("2025-Q1", "sex", "female", np.nan),  # the source wrote "<5"
        ("2025-Q1", "sex", "male", 37),
    ]
    reported = table(rows, measure="reported").assign(
        value_state=["reported", "source_suppressed", "reported"]
    )
    hidden = suppress(reported, k=5)
    hidden = hidden[hidden["suppressed"]]
    assert dict(zip(hidden["category"], hidden["suppression"])) == {
        "female": "source",
        "male": "complementary",  # else 40 − 37 gives it away
    }


def test_a_donor_release_needs_k_of_at_least_3():
    rows = [("2025-Q1", "total", "total", 2)]
    with pytest.raises(CtlibError, match="at least 3, not 2"):
        suppress(table(rows), k=2)
    assert suppress(table(rows), k=2, audience="internal")["value"].tolist() == [2]
    assert hidden_cells(suppress(table(rows), k=3)) == {("2025-Q1", "total", "total")}


def test_a_linear_combination_of_relations_is_caught():
    """Every relation has two hidden cells.

    Yet life of project minus the other quarters pins one.
    """
    rows = [
        ("2025-Q1", "total", "total", 20),
        ("2025-Q1", "sex", "female", 3),
        ("2025-Q1", "sex", "male", 17),
        ("2025-Q2", "total", "total", 30),
        ("2025-Q2", "sex", "female", 12),
        ("2025-Q2", "sex", "male", 18),
        ("life_of_project", "total", "total", 50),
        ("life_of_project", "sex", "female", 15),
        ("life_of_project", "sex", "male", 35),
    ]
    raw = table(rows)
    published = suppress(raw, k=5)
    hidden = hidden_cells(published)
    assert ("2025-Q1", "sex", "female") in hidden
    # the attacker of tests/attacker.py finds nothing it can pin
    from attacker import pinned

    assert not pinned([published], [raw])


# -- property: nothing hidden can be recovered by subtraction ------------------------------------
def recoverable(published: pd.DataFrame) -> set:
    """Cells an attacker recovers from published values.

    With total = Σ categories and LoP = Σ quarters.
    """
    known = {
        (r.period, r.dimension, r.category): r.value
        for r in published.itertuples()
        if not r.suppressed
    }
    cells = set(zip(published["period"], published["dimension"], published["category"]))
    relations = []
    for period in set(published["period"]):
        for dimension in set(published["dimension"]) - {"total"}:
            parts = [c for c in cells if c[0] == period and c[1] == dimension]
            relations.append(((period, "total", "total"), parts))
    quarters = sorted(set(published["period"]) - {"life_of_project"})
    for _, dimension, category in {c for c in cells if c[0] == "life_of_project"}:
        relations.append(
            (("life_of_project", dimension, category), [(q, dimension, category) for q in quarters])
        )
    found, progress = set(), True
    while progress:
        progress = False
        for parent, parts in relations:
            unknown = [c for c in [parent, *parts] if c not in known]
            if len(unknown) == 1:
                cell = unknown[0]
                known[cell] = (
                    known[parent] - sum(known[p] for p in parts if p != cell)
                    if cell != parent
                    else sum(known[p] for p in parts)
                )
                found.add(cell)
                progress = True
    return found


@st.composite
def count_tables(draw):
    """Quarters with a sex × age cross-tab each; margins and life of project are exact sums."""
    n_quarters = draw(st.integers(1, 4))
    sexes, ages = ["female", "male", "unknown"][: draw(st.integers(2, 3))], ["child", "adult"]
    cross = {
        (q, s, a): draw(st.integers(0, 12))
        for q in range(1, n_quarters + 1)
        for s in sexes
        for a in ages
    }
    rows = []
    for period in [*(f"2025-Q{q}" for q in range(1, n_quarters + 1)), "life_of_project"]:

        def total(match, period=period):
            return sum(
                v
                for (q, s, a), v in cross.items()
                if (period == "life_of_project" or f"2025-Q{q}" == period) and match(s, a)
            )

        rows.append((period, "total", "total", total(lambda s, a: True)))
        rows += [(period, "sex", sex, total(lambda s, a, sex=sex: s == sex)) for sex in sexes]
        rows += [(period, "age", age, total(lambda s, a, age=age: a == age)) for age in ages]
    return table(rows), draw(st.integers(3, 11))


@settings(max_examples=300, deadline=None)
@given(count_tables())
def test_no_hidden_count_can_be_recovered_by_subtraction(case):
    raw, k = case
    published = suppress(raw, k=k)
    small = (raw["value"] >= 1) & (raw["value"] < k)
    assert published.loc[small, "suppressed"].all()
    hidden = set(
        zip(
            *[
                published.loc[published["suppressed"], c]
                for c in ("period", "dimension", "category")
            ]
        )
    )
    assert not (recoverable(published) & hidden)
