"""Reporting periods: labels, spans, date → period mapping and `latest`.

Labels (docs/architecture.md): calendar `2026-Q3`, `2026-S1`, `2026`; fiscal `FY2026-Q1`,
`FY2026-S1`, `FY2026`; and `life_of_project`. A fiscal year is named after the calendar year in
which it ends (start month 7: FY2026 = 2025-07-01 … 2026-06-30). A calendar project
(`reporting.calendar: calendar`) always uses January as the first month of its year.

Every period is clipped to the project span: the first and last quarter of a project that starts or
ends mid-quarter cover only the project's days, and records dated outside the span belong to no
period. So the periods of one kind tile the span exactly, and life of project to date is the union
of its periods.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._data.period_labels import MONTHS, QUARTER, SEMESTER, YEAR, period_label
from .._data.period_labels import month_start as _month_start
from .._data.project_model import LIFE_OF_PROJECT, Project
from .._data.tables import TABLES
from .._errors import PeriodError, Problem

LIFE = LIFE_OF_PROJECT
KIND_OF_FREQUENCY = {"quarterly": QUARTER, "semester": SEMESTER, "annual": YEAR}
EPOCH = dt.date(1970, 1, 1)
NS_PER_DAY = 86_400 * 10**9
_LABEL = re.compile(r"^(?P<fy>FY)?(?P<year>\d{4})(?:-(?P<letter>[QS])(?P<number>\d))?$")


@functools.total_ordering
@dataclass(frozen=True)
class Period:
    """A reporting period, clipped to the project span; ordered by end date, shorter first."""

    label: str
    kind: str  # quarter, semester, year or life_of_project
    start_date: dt.date
    end_date: dt.date

    def __lt__(self, other: Period) -> bool:
        return self._order() < other._order()

    def _order(self):
        return self.end_date, -self.start_date.toordinal(), self.label

    def contains(self, date: dt.date) -> bool:
        return self.start_date <= date <= self.end_date


def _month_index(date: dt.date) -> int:
    return date.year * 12 + date.month - 1


class ReportingCalendar:
    """The periods of one project, from its `reporting` settings and its span."""

    def __init__(self, project: Project):
        reporting = project.reporting
        self.is_fiscal = reporting.calendar == "fiscal"
        self.start_month = reporting.start_month
        self.kind = KIND_OF_FREQUENCY[reporting.frequency]
        self.start_date = project.project.start_date
        self.end_date = project.project.end_date
        self._periods: dict[str, list[Period]] = {}
        self._day_tables: dict[str, np.ndarray] = {}

    # -- labels ---------------------------------------------------------------------------
    def _number(self, date: dt.date, kind: str) -> int:
        """Absolute number of the period of `kind` containing `date`.

        Months since year 0, shifted.
        """
        return (_month_index(date) - (self.start_month - 1)) // MONTHS[kind]

    def _period(self, number: int, kind: str) -> Period:
        first = number * MONTHS[kind] + self.start_month - 1
        start = _month_start(first)
        end = _month_start(first + MONTHS[kind]) - dt.timedelta(days=1)
        label = period_label(number, kind, self.start_month, self.is_fiscal)
        return Period(label, kind, max(start, self.start_date), min(end, self.end_date))

    @property
    def span_text(self) -> str:
        first, last = self.periods()[0].label, self.periods()[-1].label
        return f"{self.start_date} … {self.end_date} ({first} … {last})"

    def expected_forms(self) -> str:
        year = f"{'FY' if self.is_fiscal else ''}<year>"
        return (
            f"{year}-Q<1-4> (quarter), {year}-S<1-2> (semester), {year} (year) or {LIFE_OF_PROJECT}"
        )

    def periods(self, kind: str | None = None) -> list[Period]:
        """Every period of `kind` (default: the reporting kind) over the project span, in order."""
        kind = kind or self.kind
        if kind not in self._periods:
            first, last = self._number(self.start_date, kind), self._number(self.end_date, kind)
            self._periods[kind] = [self._period(n, kind) for n in range(first, last + 1)]
        return self._periods[kind]

    def parse(self, label: str) -> Period:
        """The period of a label; PeriodError when malformed or outside the project span."""
        if label == LIFE_OF_PROJECT:
            return self.life_of_project()
        match = _LABEL.match(str(label))
        if not match or bool(match["fy"]) != self.is_fiscal or not self._valid_number(match):
            calendar = "fiscal" if self.is_fiscal else "calendar"
            raise PeriodError(
                f"period {label!r} is not a label of this project's {calendar} periods; "
                f"expected {self.expected_forms()}, e.g. {self.periods()[0].label}"
            )
        kind = {None: YEAR, "Q": QUARTER, "S": SEMESTER}[match["letter"]]
        year_end = int(match["year"])
        fiscal_start_year = year_end - (1 if self.start_month > 1 else 0)
        number = (fiscal_start_year * 12) // MONTHS[kind] + int(match["number"] or 1) - 1
        first_month = number * MONTHS[kind] + self.start_month - 1
        start = _month_start(first_month)
        end = _month_start(first_month + MONTHS[kind]) - dt.timedelta(days=1)
        if end < self.start_date or start > self.end_date:
            raise PeriodError(f"period {label!r} is outside the project span {self.span_text}")
        return self._period(number, kind)

    @staticmethod
    def _valid_number(match: re.Match) -> bool:
        if match["letter"] is None:
            return True
        return 1 <= int(match["number"]) <= (4 if match["letter"] == "Q" else 2)

    def life_of_project(self, end_date: dt.date | None = None) -> Period:
        """Life of project to date.

        From the project start to `end_date` (default: the project end).
        """
        end = min(end_date or self.end_date, self.end_date)
        return Period(LIFE_OF_PROJECT, LIFE, self.start_date, end)

    # -- dates -> periods -----------------------------------------------------------------
    def codes(self, dates, kind: str | None = None) -> np.ndarray:
        """Position in `periods(kind)` of each date.

        int64; -1 for a missing date or one outside the span.
        """
        days = (
            np.asarray(dates, dtype="datetime64[ns]").view(np.int64) // NS_PER_DAY
        )  # NaT: far negative
        offsets = days - (self.start_date - EPOCH).days
        table = self._day_codes(kind or self.kind)
        inside = (offsets >= 0) & (offsets < len(table))
        return np.where(inside, table[np.where(inside, offsets, 0)], -1)

    def _day_codes(self, kind: str) -> np.ndarray:
        """The period position of every day of the project span."""
        if kind not in self._day_tables:
            table = np.empty((self.end_date - self.start_date).days + 1, dtype=np.int64)
            for position, period in enumerate(self.periods(kind)):
                table[
                    (period.start_date - self.start_date).days : (
                        period.end_date - self.start_date
                    ).days
                    + 1
                ] = position
            self._day_tables[kind] = table
        return self._day_tables[kind]

    def label_dates(self, dates: pd.Series, kind: str | None = None) -> pd.Series:
        """The period label of each date, as a categorical Series ordered like `periods(kind)`."""
        labels = [p.label for p in self.periods(kind)]
        return pd.Series(
            pd.Categorical.from_codes(self.codes(dates, kind), labels, ordered=True),
            index=dates.index,
            name=dates.name,
        )

    # -- latest -------------------------------------------------------------------------------
    def latest_record_date(self, tables: dict[str, pd.DataFrame]) -> dt.date | None:
        """The latest date within the project span that places a record of `tables` in a period.

        Dated tables count by their `date_columns_in_period`; `reported_values` by the end date of
        each valid period label it holds.
        """
        latest = None
        for name, frame in tables.items():
            if name == "reported_values":
                dates = [
                    self.parse(label).end_date
                    for label in frame["period"].dropna().unique()
                    if self._is_valid(label)
                ]
            else:
                dates = [
                    self._latest_in_span(frame[column])
                    for column in TABLES[name].date_columns_in_period
                    if column in frame
                ]
            dates = [d for d in dates if d is not None]
            if dates:
                latest = max([latest, *dates]) if latest else max(dates)
        return latest

    def _latest_in_span(self, dates: pd.Series) -> dt.date | None:
        inside = dates[
            (dates >= pd.Timestamp(self.start_date)) & (dates <= pd.Timestamp(self.end_date))
        ]
        return None if inside.empty else inside.max().date()

    def _is_valid(self, label: str) -> bool:
        try:
            self.parse(label)
        except PeriodError:
            return False
        return True

    def latest(self, data, today: dt.date | None = None) -> Period:
        """The last complete period of the reporting kind that has data.

        With D the latest record date in `data.tables` (see `latest_record_date`): the period
        containing D once it has ended (before `today`, default the run date: data exported a week
        after a quarter ends reports that quarter); while it is still running, the last period
        ending on or before D. The project's final period is reported once it holds data, even if
        it ends short. PeriodError when the data holds no dated record or no period is complete yet.
        """
        today = today or dt.date.today()
        latest_date = self.latest_record_date(data.tables)
        if latest_date is None:
            raise PeriodError(
                "the project's data holds no record dated within the project span "
                f"{self.span_text}; name a period instead of 'latest'"
            )
        periods = self.periods()
        current = next(p for p in periods if p.contains(latest_date))
        if current.end_date < today or current is periods[-1]:
            return current
        complete = [p for p in periods if p.end_date <= latest_date]
        if not complete:
            raise PeriodError(
                f"no {self.kind} is complete yet: the latest record is dated {latest_date} "
                f"and {periods[0].label} ends {periods[0].end_date}"
            )
        return complete[-1]

    # -- validation ---------------------------------------------------------------------------
    def validate_targets(self, project: Project) -> list[Problem]:
        """Problems for target keys that are malformed or outside the project span."""
        problems = []
        for position, selected in enumerate(project.indicators):
            for label in selected.targets:
                try:
                    self.parse(label)
                except PeriodError as error:
                    problems.append(
                        Problem(
                            error.summary,
                            entry=f"indicators[{position}] ({selected.id}).targets",
                            value=label,
                            rule="target period",
                        )
                    )
        return problems


def validate_targets(project: Project) -> list[Problem]:
    """Problems for target keys of `project` that are malformed or outside its span."""
    return ReportingCalendar(project).validate_targets(project)
