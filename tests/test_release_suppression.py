"""Suppression consistent across releases:
a hand-worked sequence and properties over random projects.

Each quarterly release publishes every quarter to date and life of project to date (and, at a year's
end, the year); `suppress(..., earlier=known_cells(...))` takes every earlier release as known. The
attacker (tests/attacker.py) then holds the union of all releases.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from attacker import pinned, subtracted
from hypothesis import given, settings
from hypothesis import strategies as st
from test_privacy import RESULT_DEFAULTS

from ctlib._compute.engine import RESULT_COLUMNS
from ctlib._compute.privacy import known_cells, suppress

START = pd.Timestamp("2025-01-01")


def quarter(n: int) -> tuple[str, pd.Timestamp, pd.Timestamp]:
    """The label, start and end of the project's quarter n (0 = 2025-Q1)."""
    start = START + pd.DateOffset(months=3 * n)
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, start + pd.offsets.QuarterEnd(0)


def release_table(
    cross: dict, quarters: int, with_years: bool, measure: str = "count"
) -> pd.DataFrame:
    """The results a release of quarter `quarters` publishes: every quarter to date, life of project
    to date and, with_years, each whole year. `cross`: (quarter, sex, age) -> count, or for a share
    (numerator, denominator)."""
    periods = [(*quarter(n), "quarter", [n]) for n in range(quarters)]
    if with_years:
        periods += [
            (
                str(2025 + y),
                quarter(4 * y)[1],
                quarter(4 * y + 3)[2],
                "year",
                range(4 * y, 4 * y + 4),
            )
            for y in range(quarters // 4)
        ]
    periods.append(
        ("life_of_project", START, quarter(quarters - 1)[2], "life_of_project", range(quarters))
    )
    sexes = sorted({s for _, s, _ in cross})
    ages = sorted({a for _, _, a in cross})
    rows = []
    for label, start, end, kind, inside in periods:
        for dimension, category, keep in [
            ("total", "total", lambda s, a: True),
            *(("sex", x, lambda s, a, x=x: s == x) for x in sexes),
            *(("age", x, lambda s, a, x=x: a == x) for x in ages),
        ]:
            figures = [v for (q, s, a), v in cross.items() if q in inside and keep(s, a)]
            if measure == "share":
                numerator, denominator = (float(sum(f[i] for f in figures)) for i in (0, 1))
                value = 100 * numerator / denominator if denominator else np.nan
            else:
                numerator, denominator = float(sum(figures)), np.nan
                value = numerator
            rows.append(
                dict(
                    project_id="p",
                    indicator_id="X-1",
                    period=label,
                    period_start_date=start,
                    period_end_date=end,
                    dimension=dimension,
                    category=category,
                    numerator=numerator,
                    denominator=denominator,
                    value=value,
                    baseline=np.nan,
                    target=np.nan,
                    achievement=np.nan,
                    status="no target",
                    suppressed=False,
                    suppression=pd.NA,
                    audience="internal",
                    period_kind=kind,
                    measure=measure,
                    unit="count" if measure == "count" else "percent",
                    rollup="sum" if measure == "count" else "recompute",
                    counts="people",
                    currency="",
                    has_overlapping_categories=False,
                    value_state=pd.NA,
                    value_as_written=pd.NA,
                    target_low=np.nan,
                    target_high=np.nan,
                    full_target=np.nan,
                    full_target_share=np.nan,
                    progress=np.nan,
                    gap=np.nan,
                    direction="increase",
                )
            )
    frame = pd.DataFrame(rows)
    missing = {c: v for c, v in RESULT_DEFAULTS.items() if c not in frame}
    return frame.assign(**missing)[list(RESULT_COLUMNS)]


def releases_of(cross: dict, n_quarters: int, k: int, with_years: bool, measure="count"):
    """(every quarterly release in order, each suppressed knowing the ones before; the same
    releases before suppression)."""
    released, truth = [], []
    for quarters in range(1, n_quarters + 1):
        table = release_table(cross, quarters, with_years and quarters % 4 == 0, measure)
        earlier = known_cells(pd.concat(released, ignore_index=True)) if released else None
        released.append(suppress(table, k, earlier=earlier))
        truth.append(table)
    return released, truth


def cells(table: pd.DataFrame, hidden: bool = True) -> dict:
    rows = table[table["suppressed"] == hidden]
    return {
        (r.period, r.dimension, r.category): (None if hidden else r.value)
        for r in rows.itertuples()
    }


def test_three_quarters_worked_by_hand():
    # quarter: (female, male); k = 5, so 1–4 are small
    figures = {0: (6, 7), 1: (5, 9), 2: (2, 8)}
    cross = {
        (q, sex, "adult"): n for q, pair in figures.items() for sex, n in zip(("f", "m"), pair)
    }
    (first, second, third), truth = releases_of(cross, 3, k=5, with_years=False)
    assert not first["suppressed"].any() and not second["suppressed"].any()
    # Q3 female 2 is small; Q3 male (10 − 2) goes with it. Life of project female is 6 + 5 + Q3
    # female and both quarters are out already: only life of project female itself can protect it
    # (a single release would hide Q2 female, which the second release published as 5). Then life
    # of project male (37 − female) and, through it, nothing more: Q3 male is hidden already.
    hidden = third[third["suppressed"]]
    assert dict(zip(zip(hidden["period"], hidden["category"]), hidden["suppression"])) == {
        ("2025-Q3", "f"): "primary",
        ("2025-Q3", "m"): "complementary",
        ("life_of_project", "f"): "complementary",
        ("life_of_project", "m"): "complementary",
    }
    lop = third[(third["period"] == "life_of_project") & (third["dimension"] == "total")]
    assert lop["value"].tolist() == [37.0]  # 13 + 14 + 10, published
    alone = suppress(release_table(cross, 3, False), 5)  # the same release, without history
    assert ("2025-Q2", "sex", "f") in cells(alone)  # ... hides what the second release published
    assert not pinned([first, second, third], truth) and not subtracted([first, second, third])


def test_published_stays_published_and_hidden_stays_hidden():
    draws = random.Random(13)
    cross = {(q, s, a): draws.randint(0, 6) for q in range(8) for s in "fm" for a in "ac"}
    released, _ = releases_of(cross, 8, k=5, with_years=True)
    state = {}
    for table in released:
        for row in table.itertuples():
            cell = (row.period_start_date, row.period_end_date, row.dimension, row.category)
            seen = (row.suppressed, None if row.suppressed else row.value)
            assert state.setdefault(cell, seen) == seen
    assert any(t["suppressed"].any() for t in released)


def test_a_changed_figure_that_becomes_small_is_hidden_and_protected():
    before = {(0, "f", "a"): 6, (0, "m", "a"): 7}
    after = {(0, "f", "a"): 3, (0, "m", "a"): 7}  # a case re-classified after the first release
    first = suppress(release_table(before, 1, False), 5)
    second = suppress(release_table(after, 1, False), 5, earlier=known_cells(first))
    hidden = {(r.period, r.category): r.suppression for r in second[second.suppressed].itertuples()}
    # female 3 is small now; male 7 was published and is unchanged, so the total (10, a new figure)
    # is what protects it, and the one age category that equals the total; life of project is
    # the same quarter
    for period in ("2025-Q1", "life_of_project"):
        assert {c: r for (p, c), r in hidden.items() if p == period} == {
            "f": "primary",
            "total": "complementary",
            "a": "complementary",
        }
    assert cells(second, hidden=False)[("2025-Q1", "sex", "m")] == 7


@st.composite
def projects(draw, measure: str = "count"):
    """A random project: 4–12 quarters of a sex × age cross-tab, small counts likely."""
    n_quarters = draw(st.integers(4, 12))
    sexes = ["female", "male", "unknown"][: draw(st.integers(2, 3))]
    ages = ["child", "adult"]
    high = draw(st.sampled_from([6, 12, 25]))
    cross = {}
    for q in range(n_quarters):
        for s in sexes:
            for a in ages:
                if measure == "share":
                    denominator = draw(st.integers(0, high))
                    cross[(q, s, a)] = (draw(st.integers(0, denominator)), denominator)
                else:
                    cross[(q, s, a)] = draw(st.integers(0, high))
    return cross, n_quarters, draw(st.integers(3, 11)), draw(st.booleans())


@settings(max_examples=40, deadline=None)
@given(projects())
def test_no_hidden_count_is_recoverable_from_all_releases(project):
    cross, n_quarters, k, with_years = project
    released, truth = releases_of(cross, n_quarters, k, with_years)
    for table, true in zip(released, truth):
        small = (true["value"] >= 1) & (true["value"] < k)
        assert table.loc[small.to_numpy(), "suppressed"].all()
    assert not subtracted(released)
    assert not pinned(released, truth)


@settings(max_examples=15, deadline=None)
@given(projects(measure="share"))
def test_no_hidden_share_count_is_recoverable_from_all_releases(project):
    cross, n_quarters, k, with_years = project
    released, truth = releases_of(cross, min(n_quarters, 6), k, with_years, measure="share")
    assert not pinned(released, truth)


@pytest.mark.parametrize("k", [3, 5, 11])
def test_the_union_of_releases_is_safe_where_single_releases_are_not(k):
    """The issue's measurement in small: without history, the union of releases gives cells away."""
    draws = random.Random(k)
    cross = {(q, s, a): draws.randint(0, 2 * k) for q in range(8) for s in "fmu" for a in "ac"}
    truth = [release_table(cross, n, False) for n in range(1, 9)]
    alone = [suppress(table, k) for table in truth]
    assert pinned(alone, truth)  # each release alone is safe, together they are not
    assert not pinned(*releases_of(cross, 8, k, with_years=False))
