"""Checks across rows.

Duplicate ids, dates outside the project, identifiers, links between tables.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .origin import Origin
from .project_model import Project, Source
from .tables import STRING, TABLES, Table

IDENTIFIER_VALUES = {
    "e-mail addresses": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$"),
    "phone numbers": re.compile(r"^(\+|00)\d[\d\s().-]{6,18}\d$|^0\d{2,4}([\s.-]?\d{2,4}){2,3}$"),
}
VALUE_SAMPLE = 1000  # values per text column checked against IDENTIFIER_VALUES
VALUE_SHARE = 0.2  # share of sampled values that makes a column look like identifiers


# -- checks across rows ----------------------------------------------------------------------------


def duplicate_problems(typed: dict, table: Table, origin: Origin):
    if table.name == "reported_values":
        key = ["indicator_id", "period", "dimension", "category"]
        if not {"indicator_id", "period"} <= set(typed):
            return []
        parts = pd.DataFrame({k: typed[k] if k in typed else pd.NA for k in key}).fillna("")
        duplicated = parts.duplicated(keep="first").to_numpy()
        labels = parts.agg(" / ".join, axis=1) if duplicated.any() else parts["indicator_id"]
        return origin.row_problems(
            duplicated,
            labels,
            "indicator_id",
            "duplicate id",
            lambda v: f"a second figure for {v} (indicator / period / dimension / category)",
        )
    if not table.key or table.key not in typed:
        return []
    ids = typed[table.key]
    if not ids.hasnans and (increasing(ids) or ids.is_unique):
        return []
    duplicated = (ids.duplicated(keep="first") & ids.notna()).to_numpy()

    def message(value):
        first = ids.index[(ids == value).fillna(False).to_numpy()][0]
        return f"{table.key} {value!r} is used twice (first in row {first})"

    return origin.row_problems(duplicated, ids, table.key, "duplicate id", message)


def increasing(values: pd.Series) -> bool:
    """Each value greater than the one before (missing values aside), so none is repeated.

    A register in id order needs no hashing.
    """
    values = values.array
    return bool((values[1:] > values[:-1]).all())


def period_warnings(typed: dict, table: Table, project: Project, origin: Origin):
    start, end = pd.Timestamp(project.project.start_date), pd.Timestamp(project.project.end_date)
    problems = []
    for name in table.date_columns_in_period:
        if name in typed:
            outside = ((typed[name] < start) | (typed[name] > end)).fillna(False).to_numpy()
            shown = typed[name][outside].dt.strftime("%Y-%m-%d")
            problems += origin.row_problems(
                np.ones(len(shown), dtype=bool),
                shown,
                name,
                "date in project period",
                lambda v: f"{v} is outside the project period {start:%Y-%m-%d} to {end:%Y-%m-%d}",
                severity="warning",
            )
    return problems


def identifier_value_problems(typed: dict, table: Table, source: Source, origin: Origin):
    """Text columns whose values look like e-mail addresses or phone numbers.

    A sample is checked.
    """
    internal = set(source.internal_only_columns)
    problems = []
    for name, values in typed.items():
        if table.column(name).kind != STRING or origin.columns.get(name) in internal:
            continue
        sample = values.dropna().iloc[:VALUE_SAMPLE]
        for what, pattern in IDENTIFIER_VALUES.items():
            matches = sample[sample.map(lambda v, pattern=pattern: bool(pattern.match(v)))]
            if len(sample) and len(matches) >= max(1, VALUE_SHARE * len(sample)):
                problems.append(
                    origin.problem(
                        f"values look like {what} (e.g. row {matches.index[0]}): direct "
                        "identifiers are not loaded. Replace them with pseudonymous codes, or, "
                        "if they are not identifiers, list the column under "
                        f"sources.{table.name}.internal_only_columns in project.yaml",
                        column=origin.label(name),
                        rule="direct identifier",
                    )
                )
    return problems


def foreign_key_problems(tables: dict, origins: dict, failed: set):
    """Rows that point to a record missing from the linked table.

    E.g. a service of an unknown case.
    """
    problems = []
    for name, frame in tables.items():
        for column, target in TABLES[name].foreign_keys.items():
            target_table, target_column = target.split(".")
            if target_table not in tables or {name, target_table} & failed:
                continue
            unknown = (
                frame[column].notna() & ~frame[column].isin(tables[target_table][target_column])
            ).to_numpy()
            problems += origins[name].row_problems(
                unknown,
                frame[column],
                column,
                "foreign key",
                lambda v, t=target_table, c=target_column: f"no {t} record has {c} {v!r}",
            )
    return problems
