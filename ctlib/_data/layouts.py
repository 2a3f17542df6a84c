"""Layouts of a source beyond one row per record: row filters, periods written over columns,
one column per category (wide tables) and one 0/1 column per choice (select_multiple).

Each works on the raw columns as read (their names), before the standard typing, and names the
file's own rows and columns in its problems.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from .convert import FALSE_WORDS, TRUE_WORDS, as_text, tidy_number
from .origin import Origin
from .period_labels import (
    MONTHS,
    QUARTER,
    SEMESTER,
    YEAR,
    first_month,
    month_start,
    number_of,
    period_label,
)
from .project_model import Project, Source
from .tables import MULTIPLE_SEPARATOR

_YEAR = re.compile(r"^(?:FY\s*)?(\d{4})$", re.IGNORECASE)
_WITHIN = re.compile(r"^(?:[QS]|quarter|semester|trimestre|semestre)?\s*([1-4])$", re.IGNORECASE)


# -- row filters -----------------------------------------------------------------------------------


def filter_rows(raw: pd.DataFrame, source: Source, origin: Origin):
    """The rows whose filter columns hold the wanted values (compared as text, ignoring case and
    surrounding spaces), and a warning for a filter that keeps no row."""
    if not source.filter or raw.empty:
        return raw, []
    keep = np.ones(len(raw), dtype=bool)
    problems = []
    for column, wanted in source.filter.items():
        if column not in raw:
            continue  # reported by maps.layout_problems
        values = wanted if isinstance(wanted, list) else [wanted]
        wanted_text = {as_text(v).casefold() for v in values}
        written = raw[column].map(lambda v: as_text(v).casefold() if pd.notna(v) else None)
        matches = written.isin(wanted_text).to_numpy()
        if not matches.any():
            seen = sorted({as_text(v) for v in raw[column].dropna().unique()})[:10]
            problems.append(
                origin.problem(
                    f"no row has {column} {' or '.join(map(repr, values))}; "
                    f"values found: {', '.join(seen)}",
                    column=column,
                    rule="filter",
                    severity="warning",
                )
            )
        keep &= matches
    return raw[keep], problems


# -- periods over columns --------------------------------------------------------------------------


def period_labels(raw: pd.DataFrame, source: Source, project: Project, origin: Origin):
    """(the project's period label of each row, rows inside the project span, problems) from a year
    column and a quarter or semester column, in the source's own year
    (`fiscal_year_start_month`)."""
    spec = source.period
    reporting = project.reporting
    own_start = reporting.fiscal_year_start_month if reporting.calendar == "fiscal" else 1
    source_start = spec.fiscal_year_start_month or own_start
    is_fiscal = reporting.calendar == "fiscal"
    kind = QUARTER if spec.quarter else SEMESTER if spec.semester else YEAR
    within_column = spec.quarter or spec.semester
    limit = 12 // MONTHS[kind]
    labels, inside, problems = [], [], []
    start, end = project.project.start_date, project.project.end_date
    outside = 0
    cache = {}
    for row, year, within in zip(
        raw.index,
        raw[spec.year],
        raw[within_column] if within_column else [1] * len(raw),
    ):
        key = (tidy_number(year), tidy_number(within))
        if key not in cache:
            cache[key] = _label(key, kind, limit, source_start, own_start, is_fiscal)
        label, first, problem = cache[key]
        if problem:
            on_year = "not a year" in problem
            problems.append(
                origin.problem(
                    problem,
                    row=int(row),
                    column=spec.year if on_year else within_column,
                    value=as_text(year if on_year else within),
                    rule="period",
                )
            )
        is_inside = (
            label is not None and first is not None and first[0] <= end and first[1] >= start
        )
        outside += label is not None and not is_inside
        labels.append(label)
        inside.append(is_inside)
    if outside:
        problems.append(
            origin.problem(
                f"{outside} row(s) for periods outside the project ({start} … {end}) are not used",
                rule="period",
                severity="warning",
            )
        )
    return (
        pd.Series(labels, index=raw.index, dtype="string"),
        np.array(inside, dtype=bool),
        problems,
    )


def _label(key, kind, limit, source_start, own_start, is_fiscal):
    """(project label, (start, end) dates, problem) of one (year, quarter or semester) pair."""
    year_text, within_text = (as_text(v) if v is not None and not pd.isna(v) else "" for v in key)
    year = _YEAR.match(year_text)
    if not year:
        return None, None, f"{year_text!r} is not a year: write it as 2025 or FY2025"
    within = 1
    if kind != YEAR:
        found = _WITHIN.match(within_text)
        if not found or not 1 <= int(found.group(1)) <= limit:
            return (
                None,
                None,
                f"{within_text!r} is not a {kind}: write 1 to {limit} (or Q1 … Q{limit})",
            )
        within = int(found.group(1))
    month = first_month(int(year.group(1)), within, kind, source_start)
    span = (month_start(month), month_start(month + MONTHS[kind]) - dt.timedelta(days=1))
    number = number_of(month, kind, own_start)
    if number is None:
        return (
            None,
            None,
            (
                f"{kind} {within_text or year_text} of {year_text} ({span[0]:%b %Y} … "
                f"{span[1]:%b %Y}) is not a {kind} of the project's calendar: check "
                "fiscal_year_start_month under the source's period"
            ),
        )
    return period_label(number, kind, own_start, is_fiscal), span, None


# -- one 0/1 column per choice ---------------------------------------------------------------------


def option_cells(raw: pd.DataFrame, options: dict[str, tuple[str, str]], origin: Origin):
    """Each multi-valued column from its 0/1 option columns: the chosen options joined by
    MULTIPLE_SEPARATOR (empty when no option cell is filled), and problems for other values."""
    columns, problems = {}, []
    by_target: dict[str, list[tuple[str, str]]] = {}
    for their, (target, option) in options.items():
        by_target.setdefault(target, []).append((their, option))
    for target, chosen in by_target.items():
        picked = np.zeros((len(raw), len(chosen)), dtype=bool)
        answered = np.zeros(len(raw), dtype=bool)
        for position, (their, _) in enumerate(chosen):
            cells = raw[their].map(lambda v: as_text(v).casefold() if pd.notna(v) else None)
            is_true = cells.isin(TRUE_WORDS).to_numpy()
            is_false = cells.isin(FALSE_WORDS).to_numpy()
            other = cells.notna().to_numpy() & ~is_true & ~is_false
            problems += origin.row_problems(
                other,
                raw[their],
                their,
                "option column",
                lambda v: f"{v!r} in a choice column: expected 1 or 0 (chosen or not)",
            )
            answered |= is_true | is_false
            picked[:, position] = is_true
        options = [option for _, option in chosen]
        joined = [[] for _ in range(len(raw))]
        for row, position in zip(*(found.tolist() for found in np.nonzero(picked))):
            joined[row].append(options[position])
        columns[target] = pd.Series(
            [MULTIPLE_SEPARATOR.join(parts) for parts in joined], index=raw.index, dtype=object
        ).where(answered)
    return columns, problems
