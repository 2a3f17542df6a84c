"""Small-cell suppression of a results table for an audience (DESIGN.md, "Privacy").

Only what counts people or cases is suppressed (the indicator's `counts`, carried in the results):
laws, agreements, meetings, organisations and money are public facts and always shown. Counts of
people or cases in a row:
- count, count_distinct, sum, days in the period and reported values with unit `count`: the value;
- share, ratio, rate, change as % improved, and reported values: numerator and denominator;
- mean, median and mean change: the denominator (how many values);
- milestones and other measures: none (never suppressed).

Primary suppression hides a row when one of its counts is between 1 and k−1. Complementary
suppression then makes sure no hidden row can be recovered by subtraction: for every relation
"parent = sum of parts" among the rows — the total of an indicator × period against the categories
of each dimension, and a period against the periods of another kind that tile it (life of project
against its quarters, a year against its quarters; for stocks, life of project against the last
period it copies) — a relation with exactly one hidden row gets a second one: the smallest
positive published part, else the parent. This repeats until every relation has none or at least
two hidden rows, so an attacker subtracting published cells never isolates a hidden one.

A dimension whose categories count some person more than once (a multi-valued column such as the
forms of exploitation, or one person in two categories of a distinct count) is no such relation:
its categories add up to more than the total, so subtraction recovers nothing and the total is
not hidden for them. Whether the categories add up is read from the counts themselves (a
dimension whose counts do add up is kept as a relation, whatever its column).

A hidden row keeps its key and target; its value, numerator, denominator and achievement become
NaN, `suppressed` is True and its status "suppressed" (a status would otherwise bound the value).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np
import pandas as pd

from .._data.project_model import CROSS
from .._errors import CtlibError, PrivacyError
from .engine import TOTAL, Results

AUDIENCES = ("donor", "internal")
SUPPRESSED = "suppressed"  # the status of a hidden row
MAX_ROWS = 2000  # far more than a project's indicators × periods × categories
ALLOWED_ID_COLUMNS = ("indicator_id", "project_id")
HIDDEN_COLUMNS = [
    "value",
    "numerator",
    "denominator",
    "achievement",
    "progress",
    "gap",
    "full_target_share",
]
_VALUE_COUNTS = (
    "count",
    "count_distinct",
    "sum",
    "days_in_period",
    "reported",
)  # the value is a count when the unit is
SUPPRESSED_COUNTS = ("people", "cases")  # what small counts are hidden of (the indicator's counts)
_PART_COUNTS = ("share", "ratio", "rate")  # numerator and denominator are counts
_SIZE_COUNTS = ("mean", "median")  # the denominator (how many values) is a count


def suppress(
    results: pd.DataFrame | Results, k: int, audience: str = "donor"
) -> pd.DataFrame | Results:
    """The results table (or Results) fit for `audience`: suppressed for "donor", as is for "internal"."""
    if isinstance(results, Results):
        return dataclasses.replace(results, table=suppress(results.table, k, audience))
    if audience not in AUDIENCES:
        raise CtlibError(f"unknown audience {audience!r}; use one of: {', '.join(AUDIENCES)}")
    table = results.assign(audience=audience, suppressed=False)
    if audience == "internal" or table.empty:
        return table
    counted = _counted_columns(table)
    counts = table[list(counted)].where(pd.DataFrame(counted))
    primary = ((counts >= 1) & (counts <= k - 1)).any(axis=1).to_numpy()
    eligible = pd.DataFrame(counted).any(axis=1).to_numpy()
    hidden = _complementary(table, primary, eligible, _sizes(counts), counts)
    table.loc[hidden, HIDDEN_COLUMNS] = np.nan
    table.loc[hidden, "status"] = SUPPRESSED
    table.loc[hidden, "suppressed"] = True
    return table


def _counted_columns(table: pd.DataFrame) -> dict[str, pd.Series]:
    """Per column (value, numerator, denominator): whether it holds a count in each row (module docstring)."""
    measure, unit = table["measure"], table["unit"]
    # results without a `counts` column (made before it existed) are treated as counting people
    sensitive = (
        table["counts"].isin(SUPPRESSED_COUNTS)
        if "counts" in table
        else pd.Series(True, index=table.index)
    )
    parts = (
        measure.isin(_PART_COUNTS)
        | ((measure == "change") & (unit == "percent"))
        | (measure == "reported")
    )
    return {
        "value": measure.isin(_VALUE_COUNTS) & (unit == "count") & sensitive,
        "numerator": parts & sensitive,
        "denominator": (parts | measure.isin(_SIZE_COUNTS) | (measure == "change")) & sensitive,
    }


def _sizes(counts: pd.DataFrame) -> np.ndarray:
    """The count that ranks a row when choosing complementary cells (value, else denominator)."""
    return (
        counts["value"]
        .fillna(counts["denominator"])
        .fillna(counts["numerator"])
        .to_numpy(dtype=float)
    )


def _adds_up(counts: np.ndarray, parent: int, parts: np.ndarray) -> bool:
    """Whether one of the parent's counts is the sum of its parts' (module docstring)."""
    for column in range(counts.shape[1]):
        total = counts[parent, column]
        if not np.isnan(total) and np.isclose(np.nansum(counts[parts, column]), total):
            return True
    return False


def _relations(table: pd.DataFrame, eligible: np.ndarray, counts: pd.DataFrame) -> list[np.ndarray]:
    """Row positions of every "parent = sum of parts" relation, the parent first."""
    values = counts.to_numpy(dtype=float, na_value=np.nan)
    rows = table.assign(position=np.arange(len(table)))[eligible]
    relations = []
    totals = {
        key: position
        for key, position in zip(
            map(
                tuple,
                rows.loc[
                    rows["dimension"] == TOTAL, ["project_id", "indicator_id", "period"]
                ].to_numpy(),
            ),
            rows.loc[rows["dimension"] == TOTAL, "position"],
        )
    }
    categories = rows[rows["dimension"] != TOTAL]
    for (project, indicator, period, _), group in categories.groupby(
        ["project_id", "indicator_id", "period", "dimension"], sort=False
    ):
        parent = totals.get((project, indicator, period))
        if parent is not None and _adds_up(values, parent, group["position"].to_numpy()):
            relations.append(np.array([parent, *group["position"]]))
    for _, project_rows in rows.groupby("project_id", sort=False):
        tilings, lasts = _period_relations(project_rows.drop_duplicates("period"))
        for _, group in project_rows.groupby(["indicator_id", "dimension", "category"], sort=False):
            position = dict(zip(group["period"], group["position"]))
            has_data = set(group.loc[group["value"].notna() | group["suppressed"], "period"])
            copied = [(parent, [p for p in parts if p in has_data][-1:]) for parent, parts in lasts]
            for parent, parts in tilings + (copied if group["rollup"].iloc[0] == "latest" else []):
                members = [position[p] for p in parts if p in position]
                if parent in position and members:
                    relations.append(np.array([position[parent], *members]))
    relations += _cross_relations(rows)
    return relations


def _cross_relations(rows: pd.DataFrame) -> list[np.ndarray]:
    """A cross-disaggregation's cells add up to each category of its dimensions published on
    their own: (sex = female) = Σ over age groups of (female × age group)."""
    relations = []
    for _, group in rows[rows["dimension"] != TOTAL].groupby(
        ["project_id", "indicator_id", "period"], sort=False
    ):
        single = {
            (d, c): p for d, c, p in zip(group["dimension"], group["category"], group["position"])
        }
        for dimension, cells in group[group["dimension"].str.contains(CROSS, regex=False)].groupby(
            "dimension", sort=False
        ):
            for i, part in enumerate(dimension.split(CROSS)):
                components = cells["category"].str.split(CROSS, regex=False).str[i]
                for category, members in cells.groupby(components.to_numpy(), sort=False):
                    parent = single.get((part, category))
                    if parent is not None:
                        relations.append(np.array([parent, *members["position"]]))
    return relations


def _period_relations(periods: pd.DataFrame) -> tuple[list, list]:
    """Among one project's periods: (parent, parts) where periods of another kind tile the parent,
    and (parent, parts inside it, in order), of which a stock copies the last with data."""
    tilings, lasts = [], []
    one_day = pd.Timedelta(days=1)
    for parent in periods.itertuples():
        others = periods[periods["period_kind"] != parent.period_kind]
        for _, rows in others.groupby("period_kind"):
            inside = rows[
                (rows["period_start_date"] >= parent.period_start_date)
                & (rows["period_end_date"] <= parent.period_end_date)
            ].sort_values("period_start_date")
            if inside.empty:
                continue
            starts, ends = inside["period_start_date"].tolist(), inside["period_end_date"].tolist()
            if (
                starts[0] == parent.period_start_date
                and ends[-1] == parent.period_end_date
                and all(start == end + one_day for start, end in zip(starts[1:], ends[:-1]))
            ):
                tilings.append((parent.period, inside["period"].tolist()))
            lasts.append((parent.period, inside["period"].tolist()))
    return tilings, lasts


def _complementary(
    table: pd.DataFrame,
    primary: np.ndarray,
    eligible: np.ndarray,
    sizes: np.ndarray,
    counts: pd.DataFrame,
) -> np.ndarray:
    """Primary cells plus complementary ones, until no relation has exactly one hidden row."""
    hidden = primary & eligible
    relations = _relations(table, eligible, counts)
    relations_of = defaultdict(list)
    for relation in relations:
        for position in relation:
            relations_of[position].append(relation)
    pending = [r for r in relations if hidden[r].any()]
    while pending:
        relation = pending.pop()
        if hidden[relation].sum() != 1:
            continue
        choice = _complement(relation, hidden, sizes)
        hidden[choice] = True
        pending += relations_of[choice]
    return hidden


def _complement(relation: np.ndarray, hidden: np.ndarray, sizes: np.ndarray) -> int:
    """The published member to hide: parts before the parent, positive before zero, smallest first."""
    published = [position for position in relation if not hidden[position]]
    return min(
        published,
        key=lambda p: (
            p == relation[0],
            _size_class(sizes[p]),
            np.nan_to_num(sizes[p], nan=np.inf),
        ),
    )


def _size_class(size: float) -> int:
    return 0 if size > 0 else 1 if size == 0 else 2


def check_aggregated(
    table: pd.DataFrame, key: tuple[str, ...], max_rows: int | None = MAX_ROWS
) -> None:
    """PrivacyError when `table` could hold case-level rows.

    Refused: an identifier column other than `indicator_id`/`project_id` (any `*_id`), more than
    `max_rows` rows, or two rows for the same `key` (an aggregate has one row per indicator ×
    period × category). Charts, pages and exports call it before they show or write a table.
    """
    refused = "only aggregated tables may be charted or exported"
    id_columns = [
        c for c in table.columns if str(c).endswith("_id") and c not in ALLOWED_ID_COLUMNS
    ]
    if id_columns:
        raise PrivacyError(f"{refused}; drop the case-level column(s) {id_columns}")
    if max_rows is not None and len(table) > max_rows:
        raise PrivacyError(f"{refused}; {len(table)} rows is more than {max_rows}")
    missing = [c for c in key if c not in table.columns]
    if missing:
        raise PrivacyError(f"the table lacks the key column(s) {missing}")
    if table.duplicated(list(key)).any():
        raise PrivacyError(f"{refused}; rows repeat the key {list(key)}")
