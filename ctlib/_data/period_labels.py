"""Period labels from period numbers, shared by the reporting calendar and by sources that write
their periods over columns (a year, and a quarter or semester within it).

A period of `kind` has a number: the months since year 0, shifted by the first month of the
year, divided by the months of the kind. A fiscal year is named after the calendar year in which
it ends (start month 10: FY2026 = October 2025 … September 2026).
"""

from __future__ import annotations

import datetime as dt

QUARTER, SEMESTER, YEAR = "quarter", "semester", "year"
MONTHS = {QUARTER: 3, SEMESTER: 6, YEAR: 12}  # months in a period of each kind


def period_label(number: int, kind: str, start_month: int, is_fiscal: bool) -> str:
    """The label of period `number` of `kind` (2026-Q3, FY2026-S1, 2026, ...)."""
    year = (number * MONTHS[kind]) // 12 + (1 if start_month > 1 else 0)  # the year it ends
    within = (number * MONTHS[kind]) % 12 // MONTHS[kind] + 1
    label = f"{'FY' if is_fiscal else ''}{year}"
    return label if kind == YEAR else f"{label}-{kind[0].upper()}{within}"


def first_month(year: int, within: int, kind: str, start_month: int) -> int:
    """The first month (months since year 0) of period `within` (1-based) of the year named
    `year`, in a calendar whose year starts in `start_month`."""
    start_year = year - (1 if start_month > 1 else 0)
    return start_year * 12 + start_month - 1 + (within - 1) * MONTHS[kind]


def month_start(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


def number_of(month: int, kind: str, start_month: int) -> int | None:
    """The number of the period of `kind` that starts at `month`; None when none starts there."""
    offset = month - (start_month - 1)
    return offset // MONTHS[kind] if offset % MONTHS[kind] == 0 else None
