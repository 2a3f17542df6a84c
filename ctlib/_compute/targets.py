"""Targets, progress and status of each results row: what an M&E officer signs.

`grade(rows, …)` decorates one indicator's rows (period, dimension, category, value, …) with:

- **target**: the target the row is graded against. A period's own target from project.yaml (a
  number, a range `between: [85, 95]`, and targets of categories beside the total, e.g.
  `sex: {female: 24}`); for a year or semester without one, derived from the reporting periods it
  holds: for flows (`is_flow`: periods add up) their sum; for stocks, shares, rates and means
  the last one set. A period that ends before its natural end (life of project, or a
  year to date in a report) is graded against its **target to date**: for flows, the sum of the
  reporting periods' targets up to its end; for the others, the current period's target or the
  last one set. Its **full_target** (the whole year's or the life-of-project target, explicit
  or derived over every period) and, for flows, **full_target_share** (value ÷ full target, %)
  sit beside it.
- **achievement**: value ÷ target × 100 (for `decrease` indicators target ÷ value), the
  convention for counts; **progress**: (value − baseline) ÷ (target − baseline) × 100, how much
  of the planned change happened; **gap**: value − target in percentage points for shares.
  Outcome and impact indicators that are not counts are graded by progress when they have a
  baseline; the others by achievement.
- **status**: `ahead`, `on track` or `behind` within the bands (per indicator, else the
  project's, default 85–115 %), whatever the direction; a range reads `on track`, `below range`
  or `above range`; `monitor only` for direction `none`; `not due` for periods finer than the
  indicator's frequency (their value is blanked: annual indicators are measured per year) or
  before its first target; `provisional` while the outcome of the period's records cannot be
  known yet (the recipe's observation window has not passed by the data's as-of date);
  `in progress` for a period to date with no target to date; `no target`; `no data`.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd

from .._catalogue.model import Indicator
from .._data.project_model import LIFE_OF_PROJECT, Project, SelectedIndicator, Target
from .._data.tables import TABLES
from .._errors import Problem
from .periods import LIFE, Period, ReportingCalendar

TOTAL = "total"
LOWER_BOUND, INCOMPLETE = "lower_bound", "incomplete"  # value states of a roll-up (engine._roll_up)
GRADED = ("ahead", "on track", "behind", "below range", "above range")
STATUSES = (
    *GRADED,
    "monitor only",
    "provisional",
    "in progress",
    "not due",
    "no target",
    "no data",
    INCOMPLETE,
)
COARSENESS = {"quarter": 1, "semester": 2, "year": 3, LIFE: 4}
DUE_FROM = {"monthly": 1, "quarterly": 1, "semester": 2, "annual": 3, "end_of_project": 4}
GRADE_COLUMNS = (
    "baseline",
    "target",
    "target_low",
    "target_high",
    "full_target",
    "full_target_share",
    "achievement",
    "progress",
    "gap",
    "status",
)


def data_as_of(data) -> dt.date:
    """When the project's data were extracted: `reporting.data_as_of`, else the latest date of any
    record in its tables (not after today)."""
    if data.project.reporting.data_as_of:
        return data.project.reporting.data_as_of
    latest = None
    for name, frame in data.tables.items():
        for column in TABLES[name].date_columns:
            if column in frame and frame[column].notna().any():
                found = frame[column].max().date()
                latest = found if latest is None else max(latest, found)
    return min(latest or dt.date.today(), dt.date.today())


class Grading:
    """What grading needs of one compute: the calendar, the periods, the data's as-of date."""

    def __init__(
        self,
        project: Project,
        calendar: ReportingCalendar,
        periods: list[Period],
        as_of: dt.date,
        bands: tuple[float, float] | None = None,
    ):
        self.project, self.calendar, self.as_of = project, calendar, as_of
        self.periods = {p.label: p for p in periods}
        self.bands = tuple(bands or project.reporting.status_bands)
        self.reporting = calendar.periods()  # the reporting-kind periods of the span
        self._wholes: dict[str, Period] = {}  # natural(), by label: asked for each row

    # -- targets ----------------------------------------------------------------------------
    def natural(self, period: Period) -> Period:
        """The whole period a (to date) period belongs to: the project span, or the full year."""
        if period.label not in self._wholes:
            self._wholes[period.label] = (
                self.calendar.life_of_project()
                if period.kind == LIFE
                else self.calendar.parse(period.label)
            )
        return self._wholes[period.label]

    def is_to_date(self, period: Period) -> bool:
        return period.end_date < self.natural(period).end_date

    def _parts(self, period: Period) -> list[Period]:
        return [
            p
            for p in self.reporting
            if p.start_date >= period.start_date and p.end_date <= period.end_date
        ]

    def target(
        self,
        selected: SelectedIndicator,
        indicator: Indicator,
        period: Period,
        key: tuple[str, str],
        to_date: bool,
    ) -> tuple[float, float, float]:
        """(target, low, high) of one row: explicit, else derived from the reporting periods
        (see the module docstring); NaN where there is none."""
        own = selected.targets.get(period.label)
        if own is not None and not (to_date and self.is_to_date(period)):
            return _values(own, key)
        if period.kind == self.calendar.kind and own is None:
            if indicator.method.measure != "milestone":
                return (np.nan,) * 3
            return self._last_set(selected, period, key)  # a milestone is due once planned
        parts = [
            _values(selected.targets[p.label], key)
            for p in self._parts(period)
            if p.label in selected.targets and p.label != period.label
        ]
        parts = [v for v in parts if not all(np.isnan(v))]
        if not parts:
            return (np.nan,) * 3
        if is_flow(indicator):
            return tuple(
                float(np.nansum([v[i] for v in parts]))
                if any(not np.isnan(v[i]) for v in parts)
                else np.nan
                for i in range(3)
            )
        return parts[-1]

    def _last_set(self, selected: SelectedIndicator, period: Period, key: tuple[str, str]):
        """The target of the last reporting period up to `period` that has one."""
        earlier = [
            p
            for p in self.reporting
            if p.end_date <= period.end_date and p.label in selected.targets
        ]
        return _values(selected.targets[earlier[-1].label], key) if earlier else (np.nan,) * 3

    def full_target(
        self,
        selected: SelectedIndicator,
        indicator: Indicator,
        period: Period,
        key: tuple[str, str],
    ) -> float:
        """The whole period's target, beside a period to date (NaN otherwise)."""
        if not self.is_to_date(period):
            return np.nan
        whole = self.natural(period)
        label = LIFE_OF_PROJECT if period.kind == LIFE else period.label
        own = selected.targets.get(label)
        if own is not None:
            return _values(own, key)[0]
        return self.target(selected, indicator, whole, key, to_date=False)[0]

    # -- status -----------------------------------------------------------------------------
    def is_due(self, indicator: Indicator, period: Period) -> bool:
        """Whether the indicator is measured in this period, by its frequency (an end-of-project
        indicator: in life of project once the project has ended)."""
        due_from = DUE_FROM[indicator.frequency]
        if due_from == COARSENESS[LIFE]:
            return period.kind == LIFE and period.end_date >= self.calendar.end_date
        return COARSENESS[period.kind] >= due_from

    def is_provisional(self, indicator: Indicator, period: Period) -> bool:
        """Whether outcomes of the period's records may still change (observation window)."""
        window = indicator.method.observation
        if window is None:
            return False
        end = period.end_date
        known = (
            end + dt.timedelta(days=window.days) if window.days else add_months(end, window.months)
        )
        return known > self.as_of

    def is_before_first_target(
        self, selected: SelectedIndicator, indicator: Indicator, period: Period
    ) -> bool:
        """A milestone before the period of its first target: not due yet."""
        if indicator.method.measure != "milestone":
            return False
        later = [p for p in self.reporting if p.end_date > period.end_date]
        return any(p.label in selected.targets for p in later)


def is_flow(indicator: Indicator) -> bool:
    """Whether periods add up (people trained, cases identified: their targets add up too), as
    against stocks, shares, rates and means, which take the last target set. A distinct count of
    people over a longer span (`rollup: recompute`) is a flow: its period targets are new people."""
    return indicator.rollup == "sum" or (
        indicator.unit == "count" and indicator.rollup == "recompute"
    )


def add_months(date: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    year, month = divmod(date.year * 12 + date.month - 1 + months, 12)
    return dt.date(year, month + 1, min(date.day, calendar.monthrange(year, month + 1)[1]))


def _values(target: Target, key: tuple[str, str]) -> tuple[float, float, float]:
    """(value, low, high) of a Target for a row key (dimension, category)."""
    dimension, category = key
    if dimension == TOTAL:
        low, high = target.between or (np.nan, np.nan)
        return (np.nan if target.total is None else float(target.total), float(low), float(high))
    value = target.categories.get(dimension, {}).get(category)
    return (np.nan if value is None else float(value), np.nan, np.nan)


def _baseline(selected: SelectedIndicator, key: tuple[str, str]) -> float:
    dimension, category = key
    value = (
        selected.baseline.value
        if dimension == TOTAL
        else selected.baseline.categories.get(dimension, {}).get(category)
    )
    return np.nan if value is None else float(value)


def achievement(value, target, is_decrease) -> np.ndarray:
    """value ÷ target × 100 (target ÷ value for decrease); 100 when equal; NaN when undefined
    (increase with target ≤ 0 or a negative value; decrease with value ≤ 0 or a negative target)."""
    value, target = np.asarray(value, dtype=float), np.asarray(target, dtype=float)
    is_decrease = np.broadcast_to(np.asarray(is_decrease, dtype=bool), value.shape)
    result = np.full(value.shape, np.nan)
    increase_ok = ~is_decrease & (target > 0) & (value >= 0)
    decrease_ok = is_decrease & (value > 0) & (target >= 0)
    np.divide(value * 100, target, out=result, where=increase_ok)
    np.divide(target * 100, value, out=result, where=decrease_ok)
    return np.where(value == target, 100.0, result)


def progress(value, baseline, target) -> np.ndarray:
    """(value − baseline) ÷ (target − baseline) × 100; NaN when target equals baseline."""
    value, baseline, target = (np.asarray(a, dtype=float) for a in (value, baseline, target))
    change = target - baseline
    result = np.full(value.shape, np.nan)
    np.divide((value - baseline) * 100, change, out=result, where=change != 0)
    return result


def status(
    value, target, low, high, measure, direction: str, bands: tuple[float, float]
) -> np.ndarray:
    """Graded status per row: by a range when set, else `measure` (achievement or progress, in %)
    against the bands; when the measure is undefined, the value against the target in the
    indicator's direction. Ungraded rows (no data, no target) are left to `grade`."""
    value, target, low, high, measure = (
        np.asarray(a, dtype=float) for a in (value, target, low, high, measure)
    )
    better = (value < target) if direction == "decrease" else (value > target)
    band_low, band_high = bands
    graded = np.select(
        [
            ~np.isnan(low) & (value < low),
            ~np.isnan(high) & (value > high),
            ~np.isnan(low),
            np.isnan(target),
            np.isnan(measure) & better,
            np.isnan(measure) & (value == target),
            np.isnan(measure),
            measure > band_high,
            measure >= band_low,
        ],
        [
            "below range",
            "above range",
            "on track",
            "no target",
            "ahead",
            "on track",
            "behind",
            "ahead",
            "on track",
        ],
        default="behind",
    )
    return graded


def _bounded(graded: np.ndarray, direction: str, rows: pd.DataFrame) -> np.ndarray:
    """Grades a value's state allows: a lower bound (a part the source suppressed) keeps only a
    grade it cannot lose (ahead for an increase, behind for a decrease, above range); an
    incomplete value (a part unavailable) has none."""
    if "value_state" not in rows:
        return graded
    state = rows["value_state"].astype("string").fillna("").to_numpy(dtype=object)
    kept = ("behind" if direction == "decrease" else "ahead", "above range")
    uncertain = ((state == LOWER_BOUND) & ~np.isin(graded, kept)) | (state == INCOMPLETE)
    return np.where(uncertain & np.isin(graded, GRADED), INCOMPLETE, graded)


def grade(
    rows: pd.DataFrame, indicator: Indicator, selected: SelectedIndicator, grading: Grading
) -> pd.DataFrame:
    """One indicator's rows with GRADE_COLUMNS (see the module docstring)."""
    direction = selected.direction or indicator.direction
    bands = tuple(selected.status_bands or grading.bands)
    periods = [grading.periods[label] for label in rows["period"]]
    keys = list(zip(rows["dimension"], rows["category"]))
    targets = np.array(
        [grading.target(selected, indicator, p, k, to_date=True) for p, k in zip(periods, keys)],
        dtype=float,
    ).reshape(-1, 3)
    target, low, high = targets[:, 0], targets[:, 1], targets[:, 2]
    full = np.array(
        [grading.full_target(selected, indicator, p, k) for p, k in zip(periods, keys)], dtype=float
    )
    baseline = np.array([_baseline(selected, k) for k in keys], dtype=float)
    due = np.array([grading.is_due(indicator, p) for p in periods], dtype=bool)
    value = np.where(due, rows["value"].to_numpy(dtype=float), np.nan)
    achieved = achievement(value, target, direction == "decrease")
    by_progress = indicator.level in ("outcome", "impact") and indicator.unit != "count"
    progressed = progress(value, baseline, target) if by_progress else np.full(len(rows), np.nan)
    measure = np.where(~np.isnan(progressed), progressed, achieved)
    graded = _bounded(status(value, target, low, high, measure, direction, bands), direction, rows)
    provisional = np.array([grading.is_provisional(indicator, p) for p in periods], dtype=bool)
    to_date = np.array([grading.is_to_date(p) for p in periods], dtype=bool)
    later = np.array(
        [grading.is_before_first_target(selected, indicator, p) for p in periods], dtype=bool
    )
    no_target = np.isnan(target) & np.isnan(low)
    result = np.select(
        [
            ~due,
            np.isnan(value),
            direction == "none",
            provisional,
            no_target & to_date & ~np.isnan(full),
            no_target & later,
        ],
        ["not due", "no data", "monitor only", "provisional", "in progress", "not due"],
        default=graded,
    )
    if direction == "none":
        achieved = progressed = np.full(len(rows), np.nan)
    gap = np.where(indicator.unit == "percent", value - target, np.nan)
    graded = {
        "numerator": rows["numerator"].where(due),
        "denominator": rows["denominator"].where(due),
        "value": value,
        "baseline": baseline,
        "target": target,
        "target_low": low,
        "target_high": high,
        "full_target": full,
        "full_target_share": achievement(value, full, direction == "decrease")
        if is_flow(indicator)
        else np.full(len(rows), np.nan),  # the share of a whole year's or project's flow so far
        "achievement": achieved,
        "progress": progressed,
        "gap": gap,
        "status": result,
    }
    return pd.DataFrame({**{c: rows[c] for c in rows.columns}, **graded}, index=rows.index)


def status_bands(project: Project) -> dict[str, tuple[float, float]]:
    """Each selected indicator's status bands: its own, else the project's."""
    default = tuple(project.reporting.status_bands)
    return {s.id: tuple(s.status_bands or default) for s in project.indicators}


def regraded(table: pd.DataFrame, bands_of: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """A results table whose values changed after grading (rounded): achievement, progress, gap,
    full-target share and the graded statuses recomputed from each row's own targets, baseline
    and direction (`bands_of`: the status bands per indicator)."""
    value = table["value"].to_numpy(dtype=float, na_value=np.nan)
    target = table["target"].to_numpy(dtype=float, na_value=np.nan)
    decrease = (table["direction"] == "decrease").to_numpy(dtype=bool)
    achieved = achievement(value, target, decrease)
    had_progress = table["progress"].notna().to_numpy()
    progressed = np.where(had_progress, progress(value, table["baseline"], target), np.nan)
    measure = np.where(had_progress, progressed, achieved)
    graded = table["status"].isin(GRADED).to_numpy()
    status_now = table["status"].to_numpy(dtype=object).copy()
    for indicator, rows in table.groupby("indicator_id", sort=False).indices.items():
        rows = rows[graded[rows]]
        if not len(rows):
            continue
        direction = str(table["direction"].iloc[rows[0]])
        status_now[rows] = status(
            value[rows],
            target[rows],
            table["target_low"].to_numpy(dtype=float, na_value=np.nan)[rows],
            table["target_high"].to_numpy(dtype=float, na_value=np.nan)[rows],
            measure[rows],
            direction,
            bands_of[indicator],
        )
    had_share = table["full_target_share"].notna().to_numpy()
    share = np.where(had_share, achievement(value, table["full_target"], decrease), np.nan)
    return table.assign(
        achievement=np.where(table["achievement"].notna(), achieved, np.nan),
        progress=progressed,
        gap=np.where(table["gap"].notna(), value - target, np.nan),
        full_target_share=share,
        status=status_now,
    )


def missing_explanations(results, project: Project) -> list[Problem]:
    """Off-track totals (beyond ±`reporting.deviation_threshold` % of their target to date) of
    the reporting periods and life of project with no comment for that period in project.yaml."""
    threshold = project.reporting.deviation_threshold
    table = results.table
    rows = table[(table["dimension"] == TOTAL) & table["status"].isin(GRADED)]
    problems = []
    for row in rows.itertuples():
        measure = row.progress if not np.isnan(row.progress) else row.achievement
        off = row.status in ("below range", "above range") or (
            not np.isnan(measure) and abs(measure - 100) > threshold
        )
        selected = project.indicator(row.indicator_id)
        if off and not selected.comments.get(row.period, "").strip():
            how = "" if np.isnan(measure) else f" ({measure:.0f}% of its target to date)"
            problems.append(
                Problem(
                    f"{row.indicator_id} is {row.status}{how} and has no explanation: add "
                    f"comments: {{{row.period}: ...}} to the indicator in project.yaml",
                    entry=row.indicator_id,
                    period=row.period,
                    rule="explanation missing",
                    severity="warning",
                )
            )
    return problems
