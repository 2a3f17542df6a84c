"""Small-cell suppression of results for an audience, consistent with every earlier release.

Only what counts people or cases is suppressed (the results' `counts`): laws, agreements, meetings,
organisations and money are public facts and always shown. Counts of people or cases in a row:
- count, count_distinct, sum, days in the period and reported values with unit `count`: the value;
- share, ratio, rate, change as % improved, and reported values: numerator and denominator; for a
  share (and % improved) also its complement, denominator − numerator ("5 of 6 consented" tells
  that 1 did not);
- mean, median and mean change: the denominator (how many values);
- milestones and other measures: none (never suppressed).
Results without a `counts` column (made before it existed) are treated as counting people.

Why a row is hidden (`suppression`):
- `primary`: one of its counts is between 1 and k−1;
- `source`: the data's source suppressed the value (`value_state` = `source_suppressed`);
- `complementary`: hidden so that no other hidden row can be worked out (`protection.protect`
  over the relations of `relations.py`: totals against categories, periods against the periods
  that tile them).

Earlier releases (`earlier`: one row per cell any earlier release of the project published or
hid, EARLIER_COLUMNS) are known to whoever reads this one, so the protection covers their union:
- a cell hidden before stays hidden;
- a cell published before with the same figures is known: it is never chosen to protect another
  (hiding it would hide nothing); if its count is now small (k was raised), it is shown hidden;
- a cell published before whose figures changed (a draft run again on later data, a revision)
  is published when it can be, and the figures published before stay known: the relations they
  took part in are kept, with the old figures as a published copy of the cell;
- cells of earlier releases that this one lacks (life of project to an earlier date) take part
  in the relations as they were released.

A hidden row keeps its key and target; its value, numerator, denominator and achievement become
NaN, `suppressed` is True and its status "suppressed" (a status would otherwise bound the value).
A hidden cell that no choice can protect any more (an earlier release published what gives it
away, e.g. before k was raised) is reported as a warning in `Results.problems`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .._data.tables import SOURCE_SUPPRESSED
from .._errors import CtlibError, PrivacyError, Problem
from .engine import Results
from .protection import protect
from .relations import (
    CELL_KEY,
    RELATION_COLUMNS,
    Relations,
    cell_positions,
    differences,
    relations,
)

AUDIENCES = ("donor", "internal")
SUPPRESSED = "suppressed"  # the status of a hidden row
REASONS = ("primary", "complementary", "source")
MIN_DONOR_K = 3  # a donor release hides at least the counts 1 and 2
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
FIGURES = ["value", "numerator", "denominator"]
EXPOSED_RULE = "consistent suppression"  # a hidden cell earlier releases give away
SUPPRESSED_COUNTS = ("people", "cases")  # what small counts are hidden of (the results' counts)
EARLIER_COLUMNS = [
    *RELATION_COLUMNS,
    "period",
    "measure",
    "unit",
    *FIGURES,
    "was_published",
    "was_hidden",
]
_VALUE_COUNTS = (
    "count",
    "count_distinct",
    "sum",
    "reported",
)  # the value is a count when the unit is
_PART_COUNTS = ("share", "ratio", "rate")  # numerator and denominator are counts
_SIZE_COUNTS = ("mean", "median")  # the denominator (how many values) is a count


def suppress(
    results: pd.DataFrame | Results,
    k: int,
    audience: str = "donor",
    earlier: pd.DataFrame | None = None,
) -> pd.DataFrame | Results:
    """The results table (or Results) fit for `audience`: for "donor" suppressed consistently with
    the `earlier` releases' cells (EARLIER_COLUMNS); for "internal" as is."""
    if isinstance(results, Results):
        table, exposed = _suppressed(results.table, k, audience, earlier)
        problems = [*results.problems, *(_exposed_problem(row) for row in exposed.itertuples())]
        return dataclasses.replace(results, table=table, problems=problems)
    return _suppressed(results, k, audience, earlier)[0]


def _suppressed(table: pd.DataFrame, k: int, audience: str, earlier: pd.DataFrame | None):
    if audience not in AUDIENCES:
        raise CtlibError(f"unknown audience {audience!r}; use one of: {', '.join(AUDIENCES)}")
    if audience == "donor" and k < MIN_DONOR_K:
        raise CtlibError(
            f"a donor release needs a minimum cell size of at least {MIN_DONOR_K}, not {k}: "
            "set privacy.min_cell_size in project.yaml (5 is usual; CTDC uses 11)"
        )
    table = table.assign(audience=audience, suppressed=False, suppression=pd.NA).astype(
        {"suppression": "string"}
    )
    if audience == "internal" or table.empty:
        return table, table.iloc[:0]
    union = _Union(table, k, earlier)
    protection = protect(
        union.relations,
        union.must_hide,
        union.choosable,
        union.rank,
        union.zeros,
        union.differences,
    )
    shown_hidden = protection.hidden[: len(table)] | union.small_but_known
    reasons = np.select(
        [union.is_source, union.is_small], ["source", "primary"], default="complementary"
    )
    table.loc[shown_hidden, HIDDEN_COLUMNS] = np.nan
    table.loc[shown_hidden, "status"] = SUPPRESSED
    table.loc[shown_hidden, "suppressed"] = True
    table.loc[shown_hidden, "suppression"] = reasons[shown_hidden]
    exposed = union.cells.iloc[protection.exposed]
    return table, exposed


def known_cells(released: pd.DataFrame) -> pd.DataFrame:
    """What earlier releases made known (EARLIER_COLUMNS, one row per cell) from their cells
    (results-shaped rows with `suppressed`, oldest release first): whether each cell was ever
    published or hidden, and its figures as last published."""
    columns = [c for c in EARLIER_COLUMNS if c not in ("was_published", "was_hidden")]
    columns += ["counts"] if "counts" in released else []
    hidden = released["suppressed"].to_numpy(dtype=bool)
    flags = (
        released[CELL_KEY]
        .assign(was_published=~hidden, was_hidden=hidden)
        .groupby(CELL_KEY, sort=False, dropna=False)
        .any()
        .reset_index()
    )
    latest = released.drop_duplicates(CELL_KEY, keep="last")[columns]
    published = released[~hidden].drop_duplicates(CELL_KEY, keep="last")
    latest = latest.drop(columns=FIGURES).merge(
        published[[*CELL_KEY, *FIGURES]], on=CELL_KEY, how="left"
    )
    return latest.merge(flags, on=CELL_KEY, how="left").reset_index(drop=True)


def _exposed_problem(row) -> Problem:
    return Problem(
        f"{row.period} ({row.period_start_date:%d %b %Y} – {row.period_end_date:%d %b %Y}), "
        f"{row.dimension} {row.category}: hidden, but figures released earlier give it away; "
        "no cell left to hide can protect it",
        entry=row.indicator_id,
        rule=EXPOSED_RULE,
        severity="warning",
    )


def counts(table: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per count of a row (value, numerator, denominator, complement): (whether that column is a
    count of people in the row, its figure) (module docstring)."""
    measure, unit = table["measure"].to_numpy(), table["unit"].to_numpy()
    is_percent_change = (measure == "change") & (unit == "percent")
    parts = np.isin(measure, (*_PART_COUNTS, "reported")) | is_percent_change
    numerator = table["numerator"].to_numpy(dtype=float, na_value=np.nan)
    denominator = table["denominator"].to_numpy(dtype=float, na_value=np.nan)
    is_counted = _counts_people(table)
    return {
        "value": (
            np.isin(measure, _VALUE_COUNTS) & (unit == "count") & is_counted,
            table["value"].to_numpy(dtype=float, na_value=np.nan),
        ),
        "numerator": (parts & is_counted, numerator),
        "denominator": (
            (parts | np.isin(measure, (*_SIZE_COUNTS, "change"))) & is_counted,
            denominator,
        ),
        "complement": (
            ((measure == "share") | is_percent_change) & is_counted,
            denominator - numerator,
        ),
    }


def _counts_people(table: pd.DataFrame) -> np.ndarray:
    """Whether a row counts people or cases (every row, without a `counts` column)."""
    if "counts" not in table:
        return np.ones(len(table), dtype=bool)
    what = table["counts"].astype("string")
    return (what.isin(SUPPRESSED_COUNTS) | what.isna()).to_numpy(dtype=bool)


def _padded(values: np.ndarray, size: int, fill) -> np.ndarray:
    """`values` for the table's rows, `fill` for the union's other cells."""
    return np.concatenate([values, np.full(size - len(values), fill, dtype=values.dtype)])


class _Union:
    """This table's rows, then the earlier releases' cells it lacks, then published copies of the
    cells whose figures changed: their states, costs and relations."""

    def __init__(self, table: pd.DataFrame, k: int, earlier: pd.DataFrame | None):
        earlier = _no_earlier(table) if earlier is None else earlier
        n = len(table)
        row = cell_positions(table, earlier)
        is_released = row >= 0
        before = earlier.iloc[row[is_released]]
        was_published, was_hidden = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        was_published[is_released] = before["was_published"].to_numpy(dtype=bool)
        was_hidden[is_released] = before["was_hidden"].to_numpy(dtype=bool)
        changed = np.zeros(n, dtype=bool)
        changed[is_released] = ~_same_figures(table.loc[is_released, FIGURES], before[FIGURES])
        changed &= was_published
        known = was_published & ~changed  # these figures are out already

        own = counts(table)
        self.is_small = np.any(
            [applies & (figure >= 1) & (figure <= k - 1) for applies, figure in own.values()],
            axis=0,
        )
        self.is_source = (
            (table["value_state"].astype("string") == SOURCE_SUPPRESSED)
            .fillna(False)
            .to_numpy(dtype=bool)
            if "value_state" in table
            else np.zeros(n, dtype=bool)
        )
        self.small_but_known = self.is_small & known

        others = earlier.drop(index=earlier.index[row[is_released]])
        copies = earlier.iloc[row[changed]]
        columns = [*RELATION_COLUMNS, "period", "measure", "unit", *FIGURES]
        columns += ["counts"] if "counts" in table else []
        self.cells = pd.concat(
            [table[columns], others.reindex(columns=columns), copies.reindex(columns=columns)],
            ignore_index=True,
        )
        size, n_keys = len(self.cells), n + len(others)
        has_count = [applies for applies, _ in counts(self.cells).values()]
        eligible = np.any(has_count, axis=0)
        hidden_before = np.concatenate(
            [
                was_hidden,
                others["was_hidden"].to_numpy(dtype=bool)
                & ~others["was_published"].to_numpy(dtype=bool),
                np.zeros(len(copies), dtype=bool),
            ]
        )
        self.must_hide = (hidden_before & eligible) | _padded(
            self.is_source | (self.is_small & ~known), size, False
        )
        self.choosable = _padded(eligible[:n] & ~known, size, False)
        self.rank = _padded(_rank(own, changed), size, np.inf)
        self.zeros = [  # a count a cell does not have is not protected
            ~has
            | _padded(applies & ((figure == 0) | np.isnan(figure)) & ~self.is_source, size, False)
            for has, (applies, figure) in zip(has_count, own.values())
        ]
        has_data = np.concatenate(
            [
                table["value"].notna().to_numpy() | self.is_source,
                others["value"].notna().to_numpy() | others["was_hidden"].to_numpy(dtype=bool),
            ]
        )
        figures = np.column_stack(
            [self.cells[c].to_numpy(dtype=float, na_value=np.nan)[:n_keys] for c in FIGURES]
        )
        is_known = np.r_[~self.is_source, others["was_published"].to_numpy(dtype=bool)]
        found = relations(
            self.cells.iloc[:n_keys],
            eligible[:n_keys],
            has_data,
            np.where(is_known[:, None], figures, np.inf),
        )
        self.differences = differences(self.cells.iloc[:n_keys], eligible[:n_keys], has_data)
        copy_of = np.full(n, -1, dtype=np.int64)
        copy_of[changed] = n_keys + np.arange(len(copies))
        self.relations = _with_copies(
            found, copy_of, np.r_[is_released, np.ones(len(others), bool)]
        )


def _same_figures(now: pd.DataFrame, before: pd.DataFrame) -> np.ndarray:
    a = now.to_numpy(dtype=float, na_value=np.nan)
    b = before.to_numpy(dtype=float, na_value=np.nan)
    return np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True).all(axis=1)


def _rank(own: dict, changed: np.ndarray) -> np.ndarray:
    """The cost of hiding each row: cells not published before first; then those whose counts are
    all positive, before those with a zero count, before those without data; smallest first."""
    main = np.full(len(changed), np.nan)
    has_zero = np.zeros(len(changed), dtype=bool)
    for name, (applies, figure) in own.items():
        has_zero |= applies & (figure == 0)
        if name != "complement":
            main = np.where(np.isnan(main) & applies, figure, main)
    kind = np.where(np.isnan(main), 2, np.where(has_zero | (main == 0), 1, 0))
    order = np.lexsort((np.nan_to_num(main, nan=0.0), kind, changed))
    rank = np.empty(len(changed))
    rank[order] = np.arange(len(changed))
    return rank


def _with_copies(found: Relations, copy_of: np.ndarray, is_released: np.ndarray) -> Relations:
    """The relations, plus for each relation that holds a cell whose figures changed and is made
    only of released cells, the same relation over the published copies (the figures of before)."""
    members = found.members
    is_current = members < len(copy_of)
    copy = np.full(len(members), -1, dtype=np.int64)
    copy[is_current] = copy_of[members[is_current]]
    relation = found.relation_of_member()
    has_copy = np.bincount(relation[copy >= 0], minlength=len(found)) > 0
    unreleased = np.bincount(relation[~is_released[members]], minlength=len(found))
    extra = np.flatnonzero(has_copy & (unreleased == 0))
    if not len(extra):
        return found
    old = []
    for r in extra:
        span = slice(found.offsets[r], found.offsets[r + 1])
        old.append(np.where(copy[span] >= 0, copy[span], members[span]))
    return Relations.join([[found[r] for r in range(len(found))], old])


def _no_earlier(table: pd.DataFrame) -> pd.DataFrame:
    """No earlier release: an empty EARLIER_COLUMNS frame with the table's types."""
    empty = table.iloc[:0].reindex(columns=EARLIER_COLUMNS)
    return empty.astype({"was_published": bool, "was_hidden": bool})


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
