"""The indicator engine: each selected indicator's recipe per period and disaggregation.

`compute(data, periods)` returns `Results`: a tidy table, one row per indicator × period ×
disaggregation category (docs/architecture.md, "Results"), for the requested periods and life of
project to date (project start → end of the last requested period).

How a recipe is evaluated (all vectorised; no Python loop over rows):

- rows: the recipe's table narrowed by its filter. A column the table lacks is read from the
  table it links to (`services` → `cases`, `participants` → `activities`) through the link key.
- missing values in filters: a missing value equals nothing, so `equals` and `in` drop it and
  `not` keeps it (a case of unknown sex is "not female"); `range` keeps only values within the
  bounds; `is_null` tests for it. A linked column of an unmatched row is missing.
- multi-valued columns (`Column.multiple`, categories joined by ";"): `equals` and `in` keep a row
  holding any of the values, `not` one holding none, `is_null` one holding none at all. A breakdown
  counts a row in each of its categories (a person with two forms of exploitation is in both), so
  its categories do not add up to the total: `has_overlapping_categories` says so on its rows, as
  it does wherever a distinct count's categories add up to more than the total.
- count columns per category (`Table.counts_by`): a sum of the table's total column breaks down by
  them (participants by sex from `participants_female` / `participants_male`; the rest of the total
  is "unknown").
- periods: a record belongs to the period containing its recipe date (`ReportingCalendar.codes`,
  computed once per table, date column and kind, and shared by every indicator). Each output cell is
  a group number `period × categories + category`; measures aggregate per group with `bincount`.
- no data: a period has no data when the recipe's table is missing or has no record dated in it
  (by the recipe's date or the table's own record dates, `Table.date_columns_in_period`); then
  value, numerator and denominator are NaN. A period with records but no matching row is a real 0.
  Milestones: any row in the milestones register is data (an unachieved milestone has no date,
  and a quarter in which no law passed counts 0, not "no data"); reported
  values: a period has data when the project reported a value for it.
- disaggregations: the total (`total`/`total`) plus each dimension the project selected for the
  indicator; a category appears when at least one matching row falls in a computed period.
- life of project: `rollup: sum` and `recompute` evaluate the recipe once over the whole span to
  date (equal to the sum of periods for flows; the only right way for distinct counts, shares,
  ratios, rates, means, medians and changes); `rollup: latest` (stocks, and survey shares that
  describe the population at the time of the survey) takes, per category, the last period to date
  that has data (the endline, when the latest quarter had no survey).
- measures: count, count_distinct, sum (numerator = value); mean (numerator = sum,
  denominator = values counted); median (denominator = values counted); share, ratio, rate
  (numerator / denominator × factor; factor 100 for share, 1 for ratio and rate unless the recipe
  sets one; a rate's denominator may be `project_value` from `project.context`, and a breakdown's
  cell divides by its own category's value from the context's breakdowns, never by the total —
  NaN and a warning when the context lacks it, the total for dimensions under `total_for`);
  milestone (value 1 when a matching row is achieved by the period end if `cumulative`, else
  within the period; numerator = milestones achieved); change (rows with both before and after:
  `share_improved` = % with after > before, `mean_change` = mean of after − before);
  days_in_period (the days between `date` and `end` of each row that fall in the period: a shelter
  stay spanning two quarters gives each its nights; a span without an end runs to the period's end
  or the latest date the table records); reported (the project's own rows of `reported_values`; a
  period without its own row rolls up the reporting-kind periods it contains by the indicator's
  rule). There is no measure that runs a Python function (see `_catalogue.model`).
- stocks (`until`): a record counts at the end of each period from its `date` until its `until`
  date (inclusive; empty: still open), e.g. the caseload, or a plan in force; rolls up as latest.
- each row carries the indicator's `counts` (people, cases, events, documents, organisations,
  money: privacy hides small counts of people and cases only) and, for amounts of money, the
  project's `reporting.currency`, without which a money indicator is a Problem.

Periods to date: requested periods end with the latest reporting-kind period requested, so a
year asked for with its quarters is that year to date (a window pass), like life of project.
Stocks (`rollup: latest`) take, for every coarser period, their last reporting period with data.
A cross-disaggregation ("sex × age_group") has a category per pair of categories.

Targets, achievement, progress and status (every row, totals and categories): `targets.grade`
(targets to date, full targets, progress from baseline, statuses both ways, ranges, frequencies
and observation windows; see that module).

Other modules read recipes only through this one: `part_per_group` (a part's filter and
aggregate per group of rows; the quality rules) and `recipe_rows` (the rows behind one result
cell; the explorer).

Errors: targets keyed by malformed or out-of-span periods → PeriodError; reported values for an
indicator computed from data, or reported under a label that is not one of the project's
periods → ComputeError. An indicator whose table (or linked table) the project lacks, or whose
recipe cannot run (a missing column or context value), becomes a Problem in `Results.problems`
and the other indicators still compute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._catalogue.model import Condition, Indicator, Method, Part
from .._data.origin import Origin, TableOrigin
from .._data.project_data import ProjectData
from .._data.project_model import (
    CROSS,
    LIFE_OF_PROJECT,
    ContextValue,
    Project,
    SelectedIndicator,
)
from .._data.tables import (
    MULTIPLE_SEPARATOR,
    SOURCE_SUPPRESSED,
    TABLES,
    UNAVAILABLE,
    dimension_categories,
)
from .._errors import ComputeError, PeriodError, Problem
from .periods import Period, ReportingCalendar
from .targets import (
    GRADE_COLUMNS,
    INCOMPLETE,
    LOWER_BOUND,
    Grading,
    data_as_of,
    grade,
    missing_explanations,
)

if TYPE_CHECKING:
    from .releases import ReleaseState

TOTAL = "total"
RESULT_COLUMNS = (
    "project_id",
    "indicator_id",
    "period",
    "period_start_date",
    "period_end_date",
    "dimension",
    "category",
    "has_overlapping_categories",
    "numerator",
    "denominator",
    "value",
    "value_state",
    "value_as_written",
    *GRADE_COLUMNS,  # baseline, targets, achievement, progress, gap, status (targets.grade)
    "suppressed",
    "suppression",
    "audience",
    "period_kind",
    "measure",
    "unit",
    "counts",
    "currency",
    "rollup",
    "direction",
)
DEFAULT_FACTORS = {"share": 100.0, "ratio": 1.0, "rate": 1.0}
VALUE_KEYS = ["dimension", "category", "numerator", "denominator", "value"]
STATE_KEYS = ["value_state", "value_as_written"]
BITMAP_LIMIT = 50_000_000  # distinct counts use a cell × value bitmap up to this many bits
BITMAP_PER_ROW = 8  # ... and up to this many bits per row counted, else a sort (measured faster)


@dataclass
class Results:
    """What `compute` returns: the tidy results table and the problems met on the way."""

    project_id: str
    periods: list[Period]  # the requested periods in order, then life of project to date
    table: pd.DataFrame  # RESULT_COLUMNS, one row per indicator × period × dimension × category
    problems: list[Problem] = field(default_factory=list)
    release: ReleaseState | None = None  # a donor release's approvals and revisions (releases.py)


class _MissingTable(Exception):
    def __init__(self, table: str):
        self.table = table


class _Unavailable(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


# -- tables -----------------------------------------------------------------------------------
class _TableView:
    """One standard table prepared for many recipes: codes, numbers and period codes cached."""

    def __init__(self, name: str, frame: pd.DataFrame, context: _Tables):
        self.name, self.frame, self.context = name, frame, context
        self._cache: dict = {}

    def _cached(self, key, make: Callable):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _link(self, column: str) -> tuple[str, _TableView, str] | None:
        """(link key, linked view, its key) for a column of a linked table; None for an own column.

        A column the project's sources do not give (`ProjectData.provides`) is missing, not empty:
        counting its empty values would give 0 where the truth is unknown."""
        provides = self.context.data.provides
        if column in self.frame and provides(self.name, column):
            return None
        for key, target in TABLES[self.name].foreign_keys.items():
            other_name, other_key = target.split(".")
            if column in TABLES[other_name].column_names and provides(other_name, column):
                return key, self.context.view(other_name), other_key
        files = None
        if column in TABLES[self.name].column_names:
            message = (
                f"no source of {self.name!r} gives its column {column!r}: map a column of the file "
                f"to it (sources.{self.name}.columns), or give every row the same value "
                f"(sources.{self.name}.constants)"
            )
            origin = self.context.data.origins.get(self.name)
            files = ", ".join(origin.files) if origin else None
        else:
            message = f"table {self.name!r} has no column {column!r} (nor does a table it links to)"
        raise _Unavailable(Problem(message, file=files, column=column, rule="recipe column"))

    def _positions(self, key: str, other: _TableView, other_key: str) -> np.ndarray:
        """Each row's position in the linked table (-1 when unmatched)."""
        return self._cached(
            ("link", key), lambda: _positions(self.frame[key], other.frame[other_key])
        )

    def has(self, column: str) -> bool:
        """Whether the table, or a table it links to, gives the column (`_link`); a
        cross-disaggregation when it gives each part."""
        if CROSS in column:
            return all(self.has(part) for part in column.split(CROSS))
        try:
            self._link(column)
        except (_Unavailable, _MissingTable):
            return False
        return True

    def _converted(self, column: str, convert: Callable, fill):
        """`convert(series)` of an own column, or of the linked table's column taken row by row."""
        return self._cached(
            (convert.__name__, column), lambda: self._convert(column, convert, fill)
        )

    def _convert(self, column: str, convert: Callable, fill):
        link = self._link(column)
        if link is None:
            return convert(self.frame[column])
        other, positions = link[1], self._positions(*link)
        values = other._converted(column, convert, fill)
        if isinstance(values, tuple):  # factorized: codes and distinct values
            codes, uniques = values
            return np.append(codes, -1)[positions], uniques  # position -1 takes the appended -1
        return np.append(values, fill)[positions]

    def values(self, column: str) -> pd.api.extensions.ExtensionArray:
        """A column as stored; a linked table's column taken row by row (missing when unmatched)."""
        link = self._link(column)
        if link is None:
            return self.frame[column].array
        return link[1].values(column).take(self._positions(*link), allow_fill=True)

    def factorized(self, column: str) -> tuple[np.ndarray, pd.Index]:
        """Codes (-1 for missing) and the distinct values of a column.

        A link key whose every value is found in the linked table (e.g. `services.case_id`) is coded
        by the linked row's position: the link is computed once and no second hashing is needed.
        """

        def key_codes():
            target = TABLES[self.name].foreign_keys.get(column)
            if target is None or target.split(".")[0] not in self.context.tables:
                return None
            other_name, other_key = target.split(".")
            other = self.context.view(other_name)
            positions = self._positions(column, other, other_key)
            return (positions, pd.Index(other.frame[other_key])) if (positions >= 0).all() else None

        return self._cached(("key codes", column), key_codes) or self._converted(
            column, _factorized, None
        )

    def numbers(self, column: str) -> np.ndarray:
        """A column as float64, NaN for missing."""
        return self._converted(column, _numbers, np.nan)

    def dates(self, column: str) -> np.ndarray:
        """A column as datetime64[ns], NaT for missing."""
        return self._converted(column, _dates, np.datetime64("NaT", "ns"))

    def kind(self, column: str) -> str:
        frame = self.frame if column in self.frame else self._link(column)[1].frame
        dtype = frame[column].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return "date"
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            return "codes"
        return "number"

    def is_multiple(self, column: str) -> bool:
        """A multi-valued column (several categories per row, joined by MULTIPLE_SEPARATOR); a
        cross-disaggregation is taken one pair of single categories a row."""
        if CROSS in column:
            return False
        link = self._link(column)
        name = self.name if link is None else link[1].name
        return column in TABLES[name].multiple_columns

    def memberships(self, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The categories of a multi-valued column, once per distinct cell: each row's cell code
        (-1 for missing), then per cell its first position in `flat` and how many categories it
        has (the last entry answers code -1), `flat` the category codes in label order, and the
        labels; a cell with no category is in "unknown"."""

        def make():
            codes, uniques = self.factorized(column)
            sets = [_categories_of(u) for u in uniques]
            labels = sorted(set().union(*sets)) if sets else []
            if (codes < 0).any() or any(not found for found in sets):
                labels.append("unknown")
            position = {label: i for i, label in enumerate(labels)}
            per_cell = [
                [position[c] for c in sorted(found)] or [position["unknown"]] for found in sets
            ]
            per_cell.append([position["unknown"]] if "unknown" in position else [])  # code -1
            sizes = np.array([len(p) for p in per_cell], dtype=np.int64)
            flat = np.array([c for p in per_cell for c in p], dtype=np.int64)
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            return codes, np.stack([starts, sizes]), flat, labels

        return self._cached(("memberships", column), make)

    def groups(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Category codes of a disaggregation column, in label order (missing → "unknown"), and the
        labels; a cross-disaggregation ("sex × age_group") has a code per pair of categories."""

        def make():
            if CROSS in column:
                first, second = column.split(CROSS, 1)
                codes_a, labels_a = self.groups(first)
                codes_b, labels_b = self.groups(second)
                return (
                    codes_a * len(labels_b) + codes_b,
                    [f"{a}{CROSS}{b}" for a in labels_a for b in labels_b],
                )
            link = self._link(column)
            if link is None:
                codes, labels = _ordered(*self.factorized(column))
            else:  # the linked table's categories, taken row by row
                codes, labels = link[1].groups(column)
                codes = np.append(codes, -1)[self._positions(*link)]
            if (codes < 0).any():
                labels = labels if "unknown" in labels else [*labels, "unknown"]
                codes = np.where(codes < 0, labels.index("unknown"), codes)
            return codes, labels

        return self._cached(("groups", column), make)

    def mask(self, conditions: Sequence[Condition]) -> np.ndarray:
        """Rows meeting every condition."""
        keep = np.ones(len(self.frame), dtype=bool)
        for condition in conditions:
            keep &= self._cached(
                ("condition", repr(condition)), lambda c=condition: _condition(self, c)
            )
        return keep

    def pass_codes(self, column: str, period_pass: _Pass) -> np.ndarray:
        """Index into the pass's periods of each row by its date in `column` (-1 outside)."""
        return self._cached(
            ("pass", column, period_pass.key), lambda: period_pass.codes(self, column)
        )

    def calendar_codes(self, column: str, kind: str) -> np.ndarray:
        return self._cached(
            ("calendar", column, kind),
            lambda: self.context.calendar.codes(self.dates(column), kind),
        )

    def present(self, period_pass: _Pass, recipe_date: str) -> np.ndarray:
        """Whether each period of the pass holds a record of this table.

        See the module docstring.
        """
        columns = sorted(
            {recipe_date, *TABLES[self.name].date_columns_in_period} & set(self.frame.columns)
        )

        def make():
            found = np.zeros(len(period_pass.labels), dtype=bool)
            for column in columns:  # bin 0 counts the rows outside every period
                found |= (
                    np.bincount(self.pass_codes(column, period_pass) + 1, minlength=len(found) + 1)[
                        1:
                    ]
                    > 0
                )
            return found

        return self._cached(("present", tuple(columns), period_pass.key), make)


def _factorized(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(series)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def _ordered(codes: np.ndarray, uniques: pd.Index) -> tuple[np.ndarray, list[str]]:
    """Codes renumbered so that their labels are in alphabetical order, and the labels."""
    labels = [_label(u) for u in uniques]
    order = np.argsort(labels, kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order], rank[-1] = np.arange(len(order)), -1
    return rank[codes], [labels[i] for i in order]  # code -1 (missing) takes rank[-1] = -1


def _positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position of each value among unique `keys` (-1 when absent).

    Arrow's hash lookup when it can.
    """
    try:
        found = pc.index_in(pa.array(values.array), value_set=pa.array(keys.array))
    except (pa.ArrowException, TypeError):
        return pd.Index(keys).get_indexer(values)
    return pc.fill_null(found, -1).to_numpy().astype(np.int64)


def _numbers(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype="float64", na_value=np.nan)


def _dates(series: pd.Series) -> np.ndarray:
    return np.asarray(series.astype("datetime64[ns]"), dtype="datetime64[ns]")


def _label(value) -> str:
    return str(value).lower() if isinstance(value, (bool, np.bool_)) else str(value)


def _categories_of(cell) -> set[str]:
    """The categories of one multi-valued cell ("a;b" → {"a", "b"})."""
    return {part.strip() for part in str(cell).split(MULTIPLE_SEPARATOR) if part.strip()}


def _condition(view: _TableView, condition: Condition) -> np.ndarray:
    """One filter condition, vectorised (missing values: see the module docstring)."""
    column, op, value = condition.column, condition.op, condition.value
    kind = view.kind(column)
    if kind == "codes" and view.is_multiple(column):
        return _multiple_condition(view, condition)
    if kind == "codes":
        codes, uniques = view.factorized(column)
        if op == "is_null":
            return (codes < 0) == value
        if op == "range":
            raise _Unavailable(
                Problem(
                    f"'range' needs a number or date column; {column!r} is not",
                    column=column,
                    rule="filter",
                )
            )
        found = uniques.get_indexer(pd.Index(value if isinstance(value, list) else [value]))
        wanted = np.zeros(len(uniques) + 1, dtype=bool)  # the last slot answers code -1 (missing)
        wanted[found[found >= 0]] = True
        hit = wanted[codes]
        return ~hit if op == "not" else hit
    values = view.numbers(column) if kind == "number" else view.dates(column)
    convert = float if kind == "number" else (lambda v: np.datetime64(pd.Timestamp(v), "ns"))
    if op == "is_null":
        return pd.isna(values) == value
    if op == "range":
        low, high = value
        keep = ~pd.isna(values)
        if low is not None:
            keep &= values >= convert(low)
        if high is not None:
            keep &= values <= convert(high)
        return keep
    hit = np.isin(values, [convert(v) for v in (value if isinstance(value, list) else [value])])
    return ~hit if op == "not" else hit


def _multiple_condition(view: _TableView, condition: Condition) -> np.ndarray:
    """A condition on a multi-valued column: `equals` and `in` keep a row holding any of the values,
    `not` one holding none of them; `is_null` tests for no category at all."""
    codes, uniques = view.factorized(condition.column)
    sets = [_categories_of(u) for u in uniques] + [set()]  # the last answers code -1 (missing)
    if condition.op == "is_null":
        return np.array([not found for found in sets])[codes] == condition.value
    if condition.op == "range":
        raise _Unavailable(
            Problem(
                f"'range' needs a number or date column; {condition.column!r} is not",
                column=condition.column,
                rule="filter",
            )
        )
    value = condition.value
    wanted = {str(v) for v in (value if isinstance(value, list) else [value])}
    hit = np.array([bool(found & wanted) for found in sets])[codes]
    return ~hit if condition.op == "not" else hit


# -- periods ----------------------------------------------------------------------------------
@dataclass
class _Pass:
    """Rows → result periods: a partition by one kind of period, or one window of dates."""

    labels: list[str]
    key: tuple
    kind: str | None = None  # partition
    lookup: np.ndarray | None = None  # partition: calendar position → index in labels; last slot -1
    start: dt.date | None = None  # window (None: open)
    end: dt.date | None = None  # window
    spans: list[tuple[dt.date | None, dt.date]] = field(default_factory=list)  # (start, end) each

    @property
    def is_window(self) -> bool:
        return self.kind is None

    def codes(self, view: _TableView, column: str) -> np.ndarray:
        if self.kind:
            return self.lookup[view.calendar_codes(column, self.kind)]
        dates = view.dates(column)
        inside = dates < np.datetime64(self.end + dt.timedelta(days=1), "ns")
        if self.start is not None:
            inside &= dates >= np.datetime64(self.start, "ns")
        return np.where(inside, 0, -1)


def _partition(calendar: ReportingCalendar, periods: list[Period]) -> _Pass:
    kind = periods[0].kind
    positions = {p.label: i for i, p in enumerate(calendar.periods(kind))}
    lookup = np.full(len(positions) + 1, -1)
    lookup[[positions[p.label] for p in periods]] = np.arange(len(periods))
    return _Pass(
        [p.label for p in periods],
        ("partition", kind, tuple(p.label for p in periods)),
        kind,
        lookup,
        spans=[(p.start_date, p.end_date) for p in periods],
    )


def _window(period: Period, cumulative: bool = False) -> _Pass:
    start = None if cumulative else period.start_date
    return _Pass(
        [period.label],
        ("window", start, period.end_date),
        start=start,
        end=period.end_date,
        spans=[(start, period.end_date)],
    )


# -- measures ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cells:
    """The table rows that count (positions) and the output cell each falls in (0 … size-1).

    A row may appear more than once: in each category of a multi-valued column, or in each period
    a span of days overlaps. `weights` is what each appearance adds when the measure sums weights
    (days in the period; a category's own count column); `labels` are the categories of the
    dimension, cell = period × len(labels) + category.
    """

    rows: np.ndarray
    groups: np.ndarray
    size: int
    weights: np.ndarray | None = None
    dimension: str = TOTAL
    labels: tuple[str, ...] = (TOTAL,)

    def where(self, keep: np.ndarray) -> _Cells:
        weights = None if self.weights is None else self.weights[keep]
        return dataclasses.replace(
            self, rows=self.rows[keep], groups=self.groups[keep], weights=weights
        )

    def weighted_sum(self) -> np.ndarray:
        return np.bincount(self.groups, weights=self.weights, minlength=self.size)

    def of(self, column: np.ndarray) -> np.ndarray:
        """A full-length column array narrowed to these rows."""
        return column[self.rows]

    @functools.cached_property
    def rows_per_cell(self) -> np.ndarray:
        return np.bincount(self.groups, minlength=self.size).astype(float)

    def count(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Rows per cell (only those where `keep` is true, when given)."""
        return (
            self.rows_per_cell
            if keep is None
            else np.bincount(self.groups, weights=keep, minlength=self.size)
        )

    def sum_count(self, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = self.of(column)
        keep = ~np.isnan(values)
        return (
            np.bincount(self.groups[keep], weights=values[keep], minlength=self.size),
            np.bincount(self.groups[keep], minlength=self.size).astype(float),
        )

    def distinct(self, codes: np.ndarray, n_values: int) -> np.ndarray:
        """Distinct codes (≥ 0) per cell: a bitmap of cell × code when it is small beside the rows
        (filling and counting it then costs less than sorting them), else a sort."""
        codes = self.of(codes)
        keep = codes >= 0
        n_values = max(n_values, 1)
        keys = self.groups[keep] * n_values + codes[keep]
        if self.size * n_values <= min(BITMAP_LIMIT, max(BITMAP_PER_ROW * len(keys), 1 << 16)):
            seen = np.zeros(self.size * n_values, dtype=bool)
            seen[keys] = True
            return np.count_nonzero(seen.reshape(self.size, n_values), axis=1).astype(float)
        keys.sort()
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        return np.bincount(keys[first] // n_values, minlength=self.size).astype(float)

    def median(self, column: np.ndarray) -> np.ndarray:
        values = self.of(column)
        keep = ~np.isnan(values)
        result = np.full(self.size, np.nan)
        medians = pd.Series(values[keep]).groupby(self.groups[keep]).median()
        result[medians.index.to_numpy()] = medians.to_numpy()
        return result


def _divide(numerator: np.ndarray, denominator: np.ndarray, factor: float = 1.0) -> np.ndarray:
    result = np.full(len(numerator), np.nan)
    np.divide(numerator * factor, denominator, out=result, where=denominator > 0)
    return result


def _part(context: _Tables, view: _TableView, part: Part, cells: _Cells) -> np.ndarray:
    if part.project_value:
        return _project_values(context, part.project_value, cells)
    keep = cells.of(view.mask(part.filter)) if part.filter else None
    if part.aggregate == "count":
        return cells.count(keep)
    if keep is not None:
        cells = cells.where(keep)
    if part.aggregate == "count_distinct":
        codes, uniques = view.factorized(part.column)
        return cells.distinct(codes, len(uniques))
    return cells.sum_count(view.numbers(part.column))[0]


def _project_values(context: _Tables, name: str, cells: _Cells) -> np.ndarray:
    """A context value per cell: the total, or each category's own value from its breakdown (NaN,
    with a warning, for a category the context does not give: never the total in its place)."""
    if name not in context.project.context:
        raise _Unavailable(
            Problem(
                f"the project's context has no {name!r} (needed as a denominator)",
                entry="context",
                rule="project value",
            )
        )
    figure = context.project.context[name]
    figure = figure if isinstance(figure, ContextValue) else ContextValue(total=figure)
    if cells.dimension == TOTAL or cells.dimension in figure.total_for:
        per_label = [figure.total] * len(cells.labels)
    else:
        by = figure.by.get(cells.dimension, {})
        per_label = [by.get(label, np.nan) for label in cells.labels]
        missing = [label for label in cells.labels if label not in by]
        if missing:
            context.warnings.append(
                Problem(
                    f"the project's context gives no {name} by {cells.dimension} for "
                    f"{', '.join(missing)}: those categories have no value",
                    entry="context",
                    column=cells.dimension,
                    rule="project value",
                    severity="warning",
                )
            )
    return np.tile(np.asarray(per_label, dtype=float), cells.size // len(per_label))


def _measure(context: _Context, view: _TableView, method: Method, cells: _Cells):
    """(numerator, denominator, value) per cell for a recipe computed from data."""
    nothing = np.full(cells.size, np.nan)
    measure = method.measure
    if measure in ("count", "milestone"):
        count = cells.count()
        return count, nothing, (count > 0).astype(float) if measure == "milestone" else count
    if measure == "count_distinct":
        codes, uniques = view.factorized(method.column)
        count = cells.distinct(codes, len(uniques))
        return count, nothing, count
    if measure == "days_in_period" or (measure == "sum" and cells.weights is not None):
        total = cells.weighted_sum()  # days in the period; a category's own count column
        return total, nothing, total
    if measure in ("sum", "mean"):
        total, count = cells.sum_count(view.numbers(method.column))
        return (
            (total, nothing, total) if measure == "sum" else (total, count, _divide(total, count))
        )
    if measure == "median":
        values = view.numbers(method.column)
        return nothing, cells.sum_count(values)[1], cells.median(values)
    if measure in ("share", "ratio", "rate"):
        numerator = _part(context, view, method.numerator, cells)
        denominator = (
            _part(context, view, method.denominator, cells) if method.denominator else cells.count()
        )
        factor = method.factor if method.factor is not None else DEFAULT_FACTORS[measure]
        return numerator, denominator, _divide(numerator, denominator, factor)
    if measure == "change":
        before, after = cells.of(view.numbers(method.before)), cells.of(view.numbers(method.after))
        paired = ~np.isnan(before) & ~np.isnan(after)
        if method.statistic == "share_improved":
            improved, count = cells.count(paired & (after > before)), cells.count(paired)
            return improved, count, _divide(improved, count, 100.0)
        total = np.bincount(
            cells.groups[paired], weights=(after - before)[paired], minlength=cells.size
        )
        count = cells.count(paired)
        return total, count, _divide(total, count)
    raise _Unavailable(
        Problem(f"measure {measure!r} has no registered implementation", rule="measure")
    )


# -- evaluation -------------------------------------------------------------------------------
class _Tables:
    """A project's tables, each prepared once for recipes (`view(name)`)."""

    def __init__(self, data: ProjectData, calendar: ReportingCalendar | None = None):
        self.data, self.project, self.tables = data, data.project, data.tables
        self.calendar = calendar or ReportingCalendar(data.project)
        self._views: dict[str, _TableView] = {}
        self.warnings: list[Problem] = []

    def view(self, name: str) -> _TableView:
        if name not in self.tables:
            raise _MissingTable(name)
        if name not in self._views:
            self._views[name] = _TableView(name, self.tables[name], self)
        return self._views[name]


class _Context(_Tables):
    """What one `compute` call shares between indicators: the tables, calendar and periods."""

    def __init__(
        self, data: ProjectData, calendar: ReportingCalendar, requested: list[Period], life: Period
    ):
        super().__init__(data, calendar)
        self.requested, self.life = requested, life
        by_kind = defaultdict(list)
        self.to_date = []  # periods ending before their calendar end (a year to date): windows
        for period in requested:
            if period in calendar.periods(period.kind):
                by_kind[period.kind].append(period)
            else:
                self.to_date.append(period)
        self.partitions = [_partition(calendar, periods) for periods in by_kind.values()]
        self.history = _partition(
            calendar, [p for p in calendar.periods() if p.end_date <= life.end_date]
        )

    def passes(self, indicator: Indicator) -> list[_Pass]:
        method = indicator.method
        if method.measure == "milestone" or method.until:
            periods = [*self.requested, self.life]
            cumulative = method.cumulative or method.until is not None
            return [_window(p, cumulative=cumulative) for p in periods]
        if indicator.rollup == "latest":  # coarser periods take their last period with data
            kind = self.calendar.kind
            return [*(p for p in self.partitions if p.kind == kind), self.history]
        return [*self.partitions, *map(_window, self.to_date), _window(self.life)]

    def coarser(self) -> list[Period]:
        """The requested periods coarser than the reporting kind, then life of project."""
        return [*(p for p in self.requested if p.kind != self.calendar.kind), self.life]


def _dimensions(
    context: _Context, view: _TableView, indicator: Indicator, selected: SelectedIndicator
) -> list[str]:
    usable = []
    for dimension in selected.disaggregations:
        try:
            if not _counted_by(view, indicator.method, dimension):
                for part in dimension.split(CROSS):  # each part of a cross-disaggregation
                    view._link(part)
            usable.append(dimension)
        except (_Unavailable, _MissingTable) as error:
            why = error.problem.message if isinstance(error, _Unavailable) else "no such table"
            context.warnings.append(
                Problem(
                    f"{indicator.id} is not disaggregated by {dimension!r}: {why}",
                    file=error.problem.file if isinstance(error, _Unavailable) else None,
                    entry=indicator.id,
                    column=dimension,
                    rule="disaggregation",
                    severity="warning",
                )
            )
    missing = [d for d in indicator.mandatory_disaggregations if d not in selected.disaggregations]
    if missing:
        context.warnings.append(
            Problem(
                f"{indicator.id} is to be reported by {', '.join(missing)} (its reference sheet "
                "makes them mandatory): add them to its disaggregations in project.yaml",
                entry=indicator.id,
                column=missing[0],
                rule="mandatory disaggregation",
                severity="warning",
            )
        )
    return usable


def _counted_by(view: _TableView, method: Method, dimension: str) -> dict[str, str] | None:
    """{category: count column} when a sum of the table's total column breaks down by `dimension`
    through its own count columns (participants by sex on activities); None otherwise."""
    total, columns = TABLES[view.name].counts_by.get(dimension, (None, None))
    if method.measure == "sum" and method.column == total and total is not None:
        return columns
    return None


@dataclass(frozen=True)
class _Records:
    """The rows one pass counts, the period (index in the pass) of each, and the days each adds
    when the measure counts days in the period; a row spanning two periods appears in both."""

    rows: np.ndarray
    periods: np.ndarray
    weights: np.ndarray | None = None


def _records(view: _TableView, method: Method, period_pass: _Pass, rows: np.ndarray) -> _Records:
    if method.measure == "days_in_period":
        return _days_in_periods(view, method, period_pass, rows)
    period_codes = view.pass_codes(method.date, period_pass)
    keep = rows & (period_codes >= 0)
    if method.until and period_pass.is_window:  # a stock: still open on the window's last day
        until = view.dates(method.until)
        keep &= np.isnat(until) | (until >= np.datetime64(period_pass.end, "ns"))
    counted = np.flatnonzero(keep)
    return _Records(counted, period_codes[counted])


def _days_in_periods(
    view: _TableView, method: Method, period_pass: _Pass, rows: np.ndarray
) -> _Records:
    """Each row's days (nights) between its `date` and its `end` that fall in each period of the
    pass; a span without an end runs to the period's end or, if earlier, the latest date the table
    records (its data go no further)."""
    counted = np.flatnonzero(rows)
    start, end = (view.dates(c) for c in (method.date, method.end))
    recorded = np.concatenate([start[~np.isnat(start)], end[~np.isnat(end)]])
    start, end = _day_numbers(start[counted]), _day_numbers(end[counted])
    if len(recorded):
        end = np.where(np.isnan(end), _day_numbers(recorded.max()) + 1, end)
    positions, periods, days = [], [], []
    for index, (span_start, span_end) in enumerate(period_pass.spans):
        stop = np.minimum(end, _day_numbers(np.datetime64(span_end, "ns")) + 1)
        begin = start if span_start is None else np.maximum(start, _day_numbers(span_start))
        inside = stop - begin
        keep = inside > 0  # NaN (no start, or no date at all) compares false
        positions.append(counted[keep])
        periods.append(np.full(int(keep.sum()), index))
        days.append(inside[keep])
    return _Records(np.concatenate(positions), np.concatenate(periods), np.concatenate(days))


def _day_numbers(dates) -> np.ndarray | float:
    """Days since 1970-01-01 as floats (NaN for NaT), so that spans subtract cheaply."""
    values = np.asarray(dates, dtype="datetime64[ns]")
    days = values.astype("datetime64[D]").astype(np.int64).astype(float)
    return np.where(np.isnat(values), np.nan, days)


def _cells(
    view: _TableView, method: Method, records: _Records, dimension: str, n_periods: int
) -> _Cells:
    """The output cells of one dimension: a row in each of its categories (a multi-valued column),
    or in each category of the table's count columns (participants by sex), else in its category."""
    if dimension == TOTAL:
        return _Cells(records.rows, records.periods, n_periods, records.weights)
    counted_by = _counted_by(view, method, dimension)
    if counted_by is not None:
        labels = [*counted_by, "unknown"]
        parts = [view.numbers(column)[records.rows] for column in counted_by.values()]
        total = view.numbers(method.column)[records.rows]
        rest = np.clip(total - np.nansum(parts, axis=0), 0, None)
        values = np.stack([*parts, rest], axis=1)  # row × category
        row, category = np.nonzero(~np.isnan(values) & (values > 0))
        return _Cells(
            records.rows[row],
            records.periods[row] * len(labels) + category,
            n_periods * len(labels),
            values[row, category],
            dimension,
            tuple(labels),
        )
    if view.is_multiple(dimension):
        cell_codes, (starts, sizes), flat, labels = view.memberships(dimension)
        cells = cell_codes[records.rows]  # -1 takes the last entry
        counts = sizes[cells]
        pair = np.repeat(np.arange(len(records.rows)), counts)
        within = np.arange(len(pair)) - np.repeat(np.cumsum(counts) - counts, counts)
        codes = flat[np.repeat(starts[cells], counts) + within]
        weights = None if records.weights is None else records.weights[pair]
        return _Cells(
            records.rows[pair],
            records.periods[pair] * len(labels) + codes,
            n_periods * len(labels),
            weights,
            dimension,
            tuple(labels),
        )
    codes, labels = view.groups(dimension)
    return _Cells(
        records.rows,
        records.periods * len(labels) + codes[records.rows],
        n_periods * len(labels),
        records.weights,
        dimension,
        tuple(labels),
    )


def _overlapping(
    view: _TableView, method: Method, dimension: str, totals: tuple, parts: tuple, n_labels: int
) -> np.ndarray:
    """Per period: whether the categories may count a unit more than once, so that they do not add
    up to the total: always for a multi-valued column, and wherever their counts (numerator and
    denominator) do not add up, as when one person falls in two categories of a distinct count."""
    n_periods = len(totals[0])
    if dimension != TOTAL and view.has(dimension) and view.is_multiple(dimension):
        return np.ones(n_periods, dtype=bool)
    overlapping = np.zeros(n_periods, dtype=bool)
    from_context = method.denominator is not None and method.denominator.project_value
    compared = [(totals[0], parts[0])] + ([] if from_context else [(totals[1], parts[1])])
    for total, part in compared:
        summed = np.nansum(part.reshape(n_periods, n_labels), axis=1)
        known = ~np.isnan(total)
        overlapping |= known & ~np.isclose(summed, np.where(known, total, 0))
    return overlapping


def _evaluate(context: _Context, indicator: Indicator, selected: SelectedIndicator) -> pd.DataFrame:
    """Rows of one computed indicator.

    Columns: period, dimension, category, numerator, denominator, value.
    """
    method = indicator.method
    view = context.view(method.table)
    rows = view.mask(method.filter)
    dimensions = [TOTAL, *_dimensions(context, view, indicator, selected)]
    parts = defaultdict(list)  # column -> its values in each pass's and dimension's cells
    seen = set()  # the (dimension, category) with rows in some period outside history
    for period_pass in context.passes(indicator):
        n_periods = len(period_pass.labels)
        is_history = period_pass is context.history
        records = _records(view, method, period_pass, rows)
        is_register = method.measure == "milestone" or method.table == "milestones" or method.until
        if is_register:
            present = np.full(n_periods, len(view.frame) > 0)
        else:
            present = view.present(period_pass, method.date)
            present |= np.bincount(records.periods, minlength=n_periods) > 0
        totals = None
        for dimension in dimensions:
            cells = _cells(view, method, records, dimension, n_periods)
            labels = list(cells.labels)
            numerator, denominator, value = _measure(context, view, method, cells)
            counted = (numerator, denominator)
            if totals is None:
                totals = counted
            has_data = np.repeat(present, len(labels))
            overlapping = _overlapping(view, method, dimension, totals, counted, len(labels))
            if not is_history:
                per_label = cells.rows_per_cell.reshape(n_periods, len(labels)).sum(axis=0)
                seen.update((dimension, label) for label, n in zip(labels, per_label) if n > 0)
            size = n_periods * len(labels)
            for column, cell_values in (
                ("period", np.repeat(period_pass.labels, len(labels))),
                ("dimension", np.full(size, dimension, dtype=object)),
                ("category", np.tile(np.array(labels, dtype=object), n_periods)),
                ("has_overlapping_categories", np.repeat(overlapping, len(labels))),
                ("numerator", np.where(has_data, numerator, np.nan)),
                ("denominator", np.where(has_data, denominator, np.nan)),
                ("value", np.where(has_data, value, np.nan)),
                ("rows", cells.rows_per_cell),
                ("is_history", np.full(size, is_history)),
            ):
                parts[column].append(cell_values)
    cells = pd.DataFrame({column: np.concatenate(values) for column, values in parts.items()})
    in_history = cells.pop("is_history").to_numpy()
    keys = zip(cells["dimension"], cells["category"])
    kept = np.array([d == TOTAL or (d, c) in seen for d, c in keys], dtype=bool)
    result = cells[~in_history & kept]
    history = cells[in_history]
    if not history.empty:
        ends = dict(zip(context.history.labels, (p.end_date for p in context.calendar.periods())))
        starts = {p.label: p.start_date for p in context.calendar.periods()}
        result = pd.concat(
            [
                result,
                *(_latest_within(history, period, starts, ends) for period in context.coarser()),
            ],
            ignore_index=True,
        )
    return result.drop(columns="rows")


def _latest_within(history: pd.DataFrame, period: Period, starts: dict, ends: dict) -> pd.DataFrame:
    """Rows of a stock for a coarser period: per category, its last reporting period with data."""
    inside = history["period"].map(
        lambda label: starts[label] >= period.start_date and ends[label] <= period.end_date
    )
    rows = history[inside.astype(bool)]
    latest = rows[rows["value"].notna()].groupby(["dimension", "category"], sort=False).tail(1)
    if not (latest["dimension"] == TOTAL).any():  # no data: the total row still shows its target
        total = rows[rows["dimension"] == TOTAL].tail(1)
        latest = pd.concat([latest, total if len(total) else _empty_total(period.label)])
    return latest.assign(period=period.label)


def _empty_total(label: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": [label],
            "dimension": TOTAL,
            "category": TOTAL,
            "has_overlapping_categories": False,
            "numerator": np.nan,
            "denominator": np.nan,
            "value": np.nan,
            "rows": 0.0,
        }
    )


def _reported(context: _Context, indicator: Indicator) -> pd.DataFrame:
    """Rows of a reported indicator.

    Its own rows per period, else its reporting-kind rows rolled up.
    """
    if "reported_values" not in context.tables:
        raise _MissingTable("reported_values")
    rows = _reported_rows(context.tables["reported_values"], indicator.id, context.calendar)
    frames = []
    for period in [*context.requested, context.life]:
        own = rows[rows["period"] == period.label]
        if own.empty:
            inside = rows[
                (rows["kind"] == context.calendar.kind)
                & (rows["start_date"] >= period.start_date)
                & (rows["end_date"] <= period.end_date)
            ]
            own = _roll_up(inside, indicator)
        frames.append(own[VALUE_KEYS + STATE_KEYS].assign(period=period.label))
        if not (own["dimension"] == TOTAL).any():  # no data: the total row still shows its target
            frames.append(
                pd.DataFrame(
                    {
                        "period": [period.label],
                        "dimension": TOTAL,
                        "category": TOTAL,
                        "numerator": np.nan,
                        "denominator": np.nan,
                        "value": np.nan,
                        "value_state": pd.NA,
                        "value_as_written": pd.NA,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _reported_rows(
    table: pd.DataFrame, indicator_id: str, calendar: ReportingCalendar
) -> pd.DataFrame:
    rows = table[table["indicator_id"] == indicator_id]
    periods = rows["period"].map(
        {label: calendar.parse(label) for label in rows["period"].unique()}
    )
    return pd.DataFrame(
        {
            "period": rows["period"].to_numpy(),
            "kind": [p.kind for p in periods],
            "start_date": [p.start_date for p in periods],
            "end_date": [p.end_date for p in periods],
            "dimension": _total_when_blank(rows["dimension"]),
            "category": _total_when_blank(rows["category"]),
            **{
                c: rows[c].to_numpy(dtype="float64", na_value=np.nan)
                for c in ("numerator", "denominator", "value")
            },
            **{c: rows[c].to_numpy(dtype=object) if c in rows else pd.NA for c in STATE_KEYS},
        }
    )


def _total_when_blank(column: pd.Series) -> np.ndarray:
    return column.astype("string").replace("", pd.NA).fillna(TOTAL).to_numpy()


def _roll_up(rows: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    """Reported periods combined by the indicator's rule (sum, latest, recompute).

    A part the source suppressed or did not have is never a number: a sum that includes a
    source-suppressed part is a lower bound (`lower_bound`, the sum of the known parts), one that
    includes an unavailable part is `incomplete` (likewise); a recomputed share or rate that
    includes either has no value and is `incomplete`. `latest` keeps the last period's state.
    """
    if rows.empty or indicator.rollup == "latest":
        return rows[rows["end_date"] == rows["end_date"].max()] if not rows.empty else rows
    keys = ["dimension", "category"]
    summed = rows.groupby(keys, as_index=False)[["numerator", "denominator", "value"]].sum(
        min_count=1
    )
    states = rows.groupby(keys)["value_state"].agg(lambda s: set(s.dropna()))
    states = states.reindex(pd.MultiIndex.from_frame(summed[keys])).to_numpy()
    is_incomplete = np.array([UNAVAILABLE in found for found in states], dtype=bool)
    is_lower = np.array([SOURCE_SUPPRESSED in found for found in states], dtype=bool)
    if indicator.rollup == "recompute":
        factor = indicator.method.factor or (100.0 if indicator.unit == "percent" else 1.0)
        summed["value"] = _divide(
            summed["numerator"].to_numpy(), summed["denominator"].to_numpy(), factor
        )
        is_incomplete |= is_lower
        is_lower[:] = False
        summed.loc[is_incomplete, ["numerator", "denominator", "value"]] = np.nan
    state = np.where(is_incomplete, INCOMPLETE, np.where(is_lower, LOWER_BOUND, None))
    return summed.assign(value_state=pd.array(state, dtype="string"), value_as_written=pd.NA)


# -- compute ----------------------------------------------------------------------------------
def _requested_periods(calendar: ReportingCalendar, data: ProjectData, periods) -> list[Period]:
    """The requested periods in order, each ending at the latest end of the reporting-kind ones
    requested (a year asked for with its quarters is that year to date)."""
    if isinstance(periods, str) and periods == "all":
        return calendar.periods()
    labels = [periods] if isinstance(periods, str) else list(periods)
    labels = [label for label in labels if label != LIFE_OF_PROJECT]
    if not labels or labels == ["latest"]:
        return [calendar.latest(data)]
    chosen = sorted({calendar.parse(label) for label in labels})
    reporting = [p.end_date for p in chosen if p.kind == calendar.kind]
    until = max(reporting) if reporting else chosen[-1].end_date
    return sorted(
        {
            dataclasses.replace(p, end_date=min(p.end_date, until))
            for p in chosen
            if p.start_date <= until
        }
    )


def _selected(
    data: ProjectData, indicators: Iterable[str] | None
) -> list[tuple[SelectedIndicator, Indicator]]:
    chosen = data.project.indicators
    if indicators is not None:
        wanted = list(indicators)
        unknown = [i for i in wanted if i not in {s.id for s in chosen}]
        if unknown:
            raise ComputeError(
                f"indicator(s) {', '.join(unknown)} are not selected in the project; "
                f"selected: {', '.join(s.id for s in chosen)}"
            )
        chosen = [s for s in chosen if s.id in wanted]
    return [(s, data.catalogue.get(s.id)) for s in chosen]


def reported_value_problems(
    data: ProjectData,
    calendar: ReportingCalendar,
    entries: list[tuple[SelectedIndicator, Indicator]],
) -> list[Problem]:
    """What is wrong with the rows of reported_values, each at its file, row and column: a value
    for an indicator computed from data, or one the catalogue does not hold (a warning for one the
    project does not select: it is not reported); a period label that is not the project's; a
    dimension the project does not report for the indicator; a category that is not one of its
    dimension's; a category without its dimension, or the reverse."""
    table = data.tables.get("reported_values")
    if table is None or table.empty:
        return []
    origin = data.origins.get("reported_values") or _unnamed_origin(table)
    measures = {indicator.id: indicator.method.measure for _, indicator in entries}
    dimensions = {selected.id: selected.disaggregations for selected, _ in entries}
    checks = defaultdict(list)  # (column, rule) -> [(position, message)]
    for position, row in enumerate(
        zip(table["indicator_id"], table["period"], table["dimension"], table["category"])
    ):
        for column, rule, message in _reported_row_problems(
            *row, measures, dimensions, data, calendar
        ):
            checks[(column, rule)].append((position, message))
    problems = []
    for (column, rule), found in checks.items():
        values = table[column] if "reported_values" in data.origins else _numbered(table[column])
        severity = "warning" if rule == "unselected indicator" else "error"
        problems += origin.row_messages(dict(found), values, column, rule, severity)
    return problems


def _numbered(values: pd.Series) -> pd.Series:
    """A table's column with its rows numbered from 1 (a table that did not come from a file)."""
    return values.set_axis(pd.RangeIndex(1, len(values) + 1))


def _reported_row_problems(
    indicator_id, label, dimension, category, measures, dimensions, data, calendar
):
    """(column, rule, message) for one row of reported_values."""
    if pd.isna(indicator_id):
        return
    if indicator_id not in measures:
        if indicator_id not in data.catalogue.ids:
            hint = difflib.get_close_matches(
                str(indicator_id), [*measures, *data.catalogue.ids], n=1
            )
            yield (
                "indicator_id",
                "indicator id",
                f"{indicator_id!r} is not an indicator of the catalogue"
                + (f"; did you mean {hint[0]!r}?" if hint else ""),
            )
        else:
            yield (
                "indicator_id",
                "unselected indicator",
                f"{indicator_id} is not selected in project.yaml: its figures are not reported",
            )
        return
    if measures[indicator_id] != "reported":
        yield (
            "indicator_id",
            "reported value",
            f"{indicator_id} is computed from data ({measures[indicator_id]}); a reported value "
            "would contradict it: remove the row or pick the indicator's reported variant",
        )
        return
    try:
        calendar.parse(label)
    except PeriodError as error:
        yield "period", "period label", error.summary
    has_dimension, has_category = not _blank(dimension), not _blank(category)
    if has_dimension != has_category:
        missing = "category" if has_dimension else "dimension"
        yield missing, "category", f"a {missing} is needed too (both empty for the total)"
        return
    if not has_dimension:
        return
    chosen = dimensions[indicator_id]
    if dimension not in chosen:
        hint = difflib.get_close_matches(str(dimension), chosen, n=1)
        yield (
            "dimension",
            "dimension",
            f"{indicator_id} does not report the dimension {dimension!r}; project.yaml selects: "
            f"{', '.join(chosen) or 'none'}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
        )
        return
    allowed = dimension_categories(dimension)
    if allowed is not None and category not in allowed:
        hint = difflib.get_close_matches(str(category), allowed, n=1)
        yield (
            "category",
            "category",
            f"{category!r} is not a category of {dimension}; categories: {', '.join(allowed)}"
            + (f"; did you mean {hint[0]!r}?" if hint else ""),
        )


def _blank(value) -> bool:
    return pd.isna(value) or not str(value).strip()


def _unnamed_origin(table: pd.DataFrame) -> TableOrigin:
    """Where rows are when a table did not come from files."""
    return TableOrigin([Origin("reported_values")], np.zeros(len(table), dtype=int))


def _decorate(
    rows: pd.DataFrame, indicator: Indicator, selected: SelectedIndicator, grading: Grading
) -> pd.DataFrame:
    """One indicator's rows graded, with its id (`_assemble` adds what follows from these)."""
    if "value_state" not in rows:
        rows = rows.assign(value_state=pd.NA, value_as_written=pd.NA)
    rows = rows.assign(
        value_state=rows["value_state"].astype("string"),
        value_as_written=rows["value_as_written"].astype("string"),
        indicator_id=indicator.id,
    )
    return grade(rows, indicator, selected, grading)


def _once(problems: list[Problem]) -> list[Problem]:
    """The problems without repeats (a warning met in each pass of periods is said once)."""
    seen, kept = set(), []
    for problem in problems:
        key = (problem.message, problem.entry, problem.column, problem.rule, problem.severity)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _missing_table_problems(missing: dict[str, list[str]]) -> list[Problem]:
    return [
        Problem(
            f"the project has no {table!r} table (add it under `sources` in project.yaml); "
            f"needed by {', '.join(ids)}",
            entry=table,
            rule="missing table",
        )
        for table, ids in missing.items()
    ]


def compute(
    data: ProjectData,
    periods: str | Sequence[str] = "latest",
    indicators: Iterable[str] | None = None,
    bands: tuple[float, float] | None = None,
) -> Results:
    """Evaluate the project's selected indicators per period and disaggregation.

    The selection is narrowed to `indicators` when given.

    `periods`: "latest", "all" (every period of the reporting kind), a label, or a list of labels;
    life of project to date is always added. `bands`: on-track band in % of target
    (default `project.reporting.status_bands`).
    """
    project = data.project
    calendar = ReportingCalendar(project)
    entries = _selected(data, indicators)
    target_problems = calendar.validate_targets(project)
    reported = reported_value_problems(data, calendar, entries)
    refused = [p for p in reported if p.severity == "error"]
    if target_problems:
        raise PeriodError(
            "project.yaml has targets for periods that are not the project's",
            [*target_problems, *refused],
        )
    if refused:
        raise ComputeError("reported values cannot be used", refused)
    requested = _requested_periods(calendar, data, periods)
    life = calendar.life_of_project(requested[-1].end_date)
    context = _Context(data, calendar, requested, life)
    grading = Grading(project, calendar, [*requested, life], data_as_of(data), bands)
    frames, missing, problems = [], defaultdict(list), []
    for selected, indicator in entries:
        if indicator.unit == "currency" and not project.reporting.currency:
            problems.append(
                Problem(
                    f"{indicator.id} is an amount of money: set reporting.currency in "
                    "project.yaml (the ISO 4217 code of the amounts, e.g. USD)",
                    entry=indicator.id,
                    rule="currency",
                )
            )
            continue
        try:
            rows = (
                _reported(context, indicator)
                if indicator.method.measure == "reported"
                else _evaluate(context, indicator, selected)
            )
        except _MissingTable as error:
            missing[error.table].append(indicator.id)
            continue
        except _Unavailable as error:
            problems.append(
                Problem(
                    f"{indicator.id} cannot be computed: {error.problem.message}",
                    file=error.problem.file,
                    entry=indicator.id,
                    column=error.problem.column,
                    rule=error.problem.rule,
                )
            )
            continue
        if "has_overlapping_categories" not in rows:  # reported values: as the project wrote them
            rows = rows.assign(has_overlapping_categories=False)
        frames.append(_decorate(rows, indicator, selected, grading))
    table = _assemble(frames, project, entries, [*requested, life], grading.periods)
    return Results(
        project.id,
        [*requested, life],
        table,
        _once(
            [
                *_missing_table_problems(missing),
                *problems,
                *context.warnings,
                *(p for p in reported if p.severity != "error"),
            ]
        ),
    )


def check(data: ProjectData) -> list[Problem]:
    """Everything `compute` refuses or reports for the project's selected indicators over every
    period: what `ctlib check` shows, by the very path results and reports take; and the
    off-track results of the latest period and life of project that project.yaml does not
    explain yet (what the next report's quality annex would list)."""
    try:
        results = compute(data, periods="all")
    except (PeriodError, ComputeError) as error:
        return error.problems or [Problem(error.summary)]
    try:
        latest = compute(data, periods=ReportingCalendar(data.project).latest(data).label)
    except PeriodError:  # no record yet: nothing is off track
        return results.problems
    return [*results.problems, *missing_explanations(latest, data.project)]


def _assemble(
    frames: list[pd.DataFrame],
    project: Project,
    entries: list,
    periods: list[Period],
    every_period: dict[str, Period],
) -> pd.DataFrame:
    """One table in RESULT_COLUMNS order, sorted by indicator, period, dimension (total first):
    the indicators' rows with what follows from each row's indicator (`entries`, the selected
    indicator and its definition) and period (`every_period`, by label)."""
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype=_EMPTY_DTYPES.get(c, "str")) for c in RESULT_COLUMNS}
        )
    table = pd.concat(frames, ignore_index=True)
    currency = project.reporting.currency or ""
    of_indicator = {
        s.id: {
            "measure": i.method.measure,
            "unit": i.unit,
            "counts": i.counts,
            "currency": currency if i.unit == "currency" else "",
            "rollup": i.rollup,
            "direction": s.direction or i.direction,
        }
        for s, i in entries
    }
    of_period = {
        label: {
            "period_start_date": p.start_date,
            "period_end_date": p.end_date,
            "period_kind": p.kind,
        }
        for label, p in every_period.items()
    }
    table = pd.concat(
        [table, _facts(table["indicator_id"], of_indicator), _facts(table["period"], of_period)],
        axis=1,
    ).assign(
        period_start_date=lambda t: pd.to_datetime(t["period_start_date"]),
        period_end_date=lambda t: pd.to_datetime(t["period_end_date"]),
        project_id=project.id,
        suppressed=False,
        suppression=pd.NA,
        audience="internal",
    )
    table = table.astype({"suppression": "string"})
    dimension_order = {
        (s.id, d): i + 1 for s, _ in entries for i, d in enumerate(s.disaggregations)
    }
    sort_keys = pd.DataFrame(
        {
            "indicator": table["indicator_id"].map({s.id: n for n, (s, _) in enumerate(entries)}),
            "period": table["period"].map({p.label: n for n, p in enumerate(periods)}),
            "dimension": [
                0 if d == TOTAL else dimension_order.get((i, d), len(dimension_order) + 1)
                for i, d in zip(table["indicator_id"], table["dimension"])
            ],
        }
    )
    order_index = sort_keys.sort_values(list(sort_keys.columns), kind="stable").index
    return table.loc[order_index, list(RESULT_COLUMNS)].reset_index(drop=True)


def _facts(keys: pd.Series, facts: dict[str, dict]) -> pd.DataFrame:
    """Per key (an indicator's id, a period's label), its facts: one row each, in order."""
    return pd.DataFrame.from_dict(facts, orient="index").reindex(keys).reset_index(drop=True)


_EMPTY_DTYPES = {
    "has_overlapping_categories": "bool",
    "value_state": "string",
    "value_as_written": "string",
    "numerator": "float64",
    "denominator": "float64",
    "value": "float64",
    "baseline": "float64",
    "target": "float64",
    "target_low": "float64",
    "target_high": "float64",
    "full_target": "float64",
    "full_target_share": "float64",
    "achievement": "float64",
    "progress": "float64",
    "gap": "float64",
    "suppressed": "bool",
    "suppression": "string",
    "period_start_date": "datetime64[ns]",
    "period_end_date": "datetime64[ns]",
}


# -- recipes read by other modules ------------------------------------------------------------
@contextlib.contextmanager
def _as_compute_error(what: str):
    """A missing table or column raised as ComputeError saying what needed it."""
    try:
        yield
    except _MissingTable as error:
        raise ComputeError(
            f"{what} needs the {error.table!r} table, which the project does not have: "
            "add it under sources in project.yaml"
        ) from None
    except _Unavailable as error:
        raise ComputeError(f"{what}: {error.problem.message}", [error.problem]) from None


def part_per_group(
    data: ProjectData, table: str, part: Part, groups: np.ndarray, size: int
) -> np.ndarray:
    """A part of `data.tables[table]` (its filter, then its aggregate) per group of rows.

    `groups[i]` is the group of row i: 0 … size - 1, or -1 for none. ComputeError for a missing
    table or column.
    """
    with _as_compute_error(f"{part.aggregate} on {table!r}"):
        counted = np.flatnonzero(groups >= 0)
        tables = _Tables(data)
        return _part(tables, tables.view(table), part, _Cells(counted, groups[counted], size))


def data_needed(indicator: Indicator) -> tuple[str | None, list[str]]:
    """The table an indicator's recipe reads and the columns it names (date, filters, values)."""
    method = indicator.method
    if method.measure == "reported":
        return "reported_values", ["indicator_id", "period", "value"]
    columns = [
        method.date,
        method.end,
        method.until,
        method.column,
        method.before,
        method.after,
        *(c.column for c in method.filter),
    ]
    for part in (method.numerator, method.denominator):
        if part is not None:
            columns += [part.column, *(c.column for c in part.filter)]
    return method.table, list(dict.fromkeys(c for c in columns if c))


def recipe_rows(
    data: ProjectData,
    indicator: Indicator,
    period: Period,
    dimension: str = TOTAL,
    category: str = TOTAL,
) -> pd.DataFrame:
    """The records `compute` counts in one result cell: the indicator in `period` and `category`.

    The recipe's table (with the columns it reads from a linked table joined) narrowed by its
    filter, its date in the period (a cumulative milestone or a stock: by the period's end, a stock
    still open then; days in the period: every span overlapping it) and the category (a
    multi-valued column: rows holding it); the recipe's columns come first. Flags say what each row
    counts for: `in_numerator` and `in_denominator` (a share, ratio or rate whose part has its own
    filter; otherwise every row counts), for a change `improved` (only rows measured before and
    after are kept), and for days in the period `days_in_period`. Reported indicators: the
    project's rows for the period's label. ComputeError when the recipe cannot run.
    """
    method = indicator.method
    table, columns = data_needed(indicator)
    with _as_compute_error(indicator.id):
        view = _Tables(data).view(table)
        if method.measure == "reported":
            frame = view.frame
            keep = (frame["indicator_id"] == indicator.id) & (frame["period"] == period.label)
            if dimension != TOTAL:
                keep &= (frame["dimension"] == dimension) & (frame["category"] == category)
            return frame[keep.fillna(False)].reset_index(drop=True)
        stock = (method.measure == "milestone" and method.cumulative) or method.until is not None
        records = _records(
            view, method, _window(period, cumulative=stock), view.mask(method.filter)
        )
        cells = _cells(view, method, records, dimension, 1)
        if dimension != TOTAL:
            wanted_code = cells.labels.index(category) if category in cells.labels else -1
            cells = cells.where(cells.groups == wanted_code)
        counted_by = _counted_by(view, method, dimension) or {}
        extra = [counted_by[category]] if category in counted_by else []
        if dimension != TOTAL and not counted_by:
            extra = [dimension]
        wanted = list(dict.fromkeys([*columns, *extra]))
        positions = cells.rows
        flags = {
            name: view.mask(part.filter)[positions]
            for name, part in (
                ("in_numerator", method.numerator),
                ("in_denominator", method.denominator),
            )
            if part is not None and part.filter
        }
        if method.measure == "days_in_period":
            flags["days_in_period"] = cells.weights
        if method.measure == "change":
            before, after = view.numbers(method.before), view.numbers(method.after)
            paired = ~np.isnan(before[positions]) & ~np.isnan(after[positions])
            positions = positions[paired]
            flags = {name: values[paired] for name, values in flags.items()}
            flags["improved"] = (after > before)[positions]
        linked = {c: view.values(c)[positions] for c in wanted if c not in view.frame}
    rows = view.frame.iloc[positions].assign(**{**linked, **flags})
    first = [*flags, *wanted]
    return rows[first + [c for c in rows.columns if c not in first]].reset_index(drop=True)
