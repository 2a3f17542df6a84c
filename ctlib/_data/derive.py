"""The standard frame of a table: declared columns and dtypes, and the columns ctlib derives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .maps import BIRTH_DATE
from .origin import Origin
from .project_model import Project
from .tables import PANDAS_DTYPES, Table, age_group, child_adult

# -- derived columns -----------------------------------------------------------------------------------------


def standard_frame(typed: dict, table: Table, project: Project, index: pd.Index) -> pd.DataFrame:
    """Every standard column in declared order and dtype, derived ones filled; the ones the source lacks are empty."""
    columns = {
        c.name: typed[c.name].astype(PANDAS_DTYPES[c.kind])
        if c.name in typed
        else pd.Series(index=index, dtype=PANDAS_DTYPES[c.kind])
        for c in table.columns
        if not c.derived
    }
    columns.update(_derive(columns, table, project))
    frame = pd.DataFrame({c.name: columns[c.name] for c in table.columns}, index=index, copy=False)
    frame.index.name = "row"
    return frame


def _derive(columns: dict, table: Table, project: Project) -> dict:
    """The derived columns of a table (and participants_total where it is missing) from its other columns."""
    names = table.column_names
    derived = {}
    if "age_group" in names:
        derived["age_group"], derived["child_adult"] = _by_distinct(
            columns["age"], age_group, child_adult
        )
    if "is_foreign_national" in names:
        country = project.project.country.upper()
        [derived["is_foreign_national"]] = _by_distinct(
            columns["nationality"], lambda codes: (codes.str.upper() != country).astype("boolean")
        )
    if "days_to_referral_acceptance" in names:
        waited = columns["referral_accepted_date"].to_numpy() - columns["referral_date"].to_numpy()
        days = waited.astype(
            "timedelta64[D]"
        )  # whole days, rounded down like Timedelta.days; NaT stays NaT
        derived["days_to_referral_acceptance"] = pd.Series(
            pd.arrays.IntegerArray(days.view("int64"), np.isnat(days)),
            index=columns["referral_date"].index,
        )
    if "is_completed_on_time" in names:
        on_time = (columns["end_date"] <= columns["planned_end_date"]).astype("boolean")
        on_time = on_time.mask(columns["end_date"].isna() | columns["planned_end_date"].isna())
        derived["is_completed_on_time"] = on_time.mask(
            columns["is_completed"].eq(False).fillna(False), False
        )
    if "participants_total" in names:
        female, male = columns["participants_female"], columns["participants_male"]
        both_missing = female.isna() & male.isna()
        derived["participants_total"] = columns["participants_total"].fillna(
            (female.fillna(0) + male.fillna(0)).mask(both_missing)
        )
    return derived


def _by_distinct(values: pd.Series, *functions) -> list[pd.Series]:
    """Each function(values), computed once per distinct value (ages and codes repeat a lot)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    distinct = pd.Series(distinct, dtype=values.dtype)
    return [
        pd.Series(function(distinct).array.take(codes), index=values.index)
        for function in functions
    ]


def empty_standard_frame(table: Table, project: Project) -> pd.DataFrame:
    return standard_frame({}, table, project, pd.Index([], dtype="int64"))


def age_from_birth_date(typed: dict, table: Table, origin: Origin):
    """Fill missing ages from the birth date at the table's date; the birth date is then dropped."""
    birth = typed.pop(BIRTH_DATE.name)
    on = typed.get(table.date_columns_in_period[0]) if table.date_columns_in_period else None
    if on is None:
        return [
            origin.problem(
                "a birth date needs the table's date to give an age",
                column=origin.label(BIRTH_DATE.name),
                rule="birth date",
            )
        ]
    before_birthday = (on.dt.month < birth.dt.month) | (
        (on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day)
    )
    age = (
        on.dt.year.astype("Int64") - birth.dt.year.astype("Int64") - before_birthday.astype("Int64")
    )
    negative = (age < 0).fillna(False)
    typed["age"] = typed["age"].fillna(age.mask(negative)) if "age" in typed else age.mask(negative)
    return origin.row_problems(
        negative,
        birth,
        BIRTH_DATE.name,
        "birth date",
        lambda _: "birth date after the table's date",
    )
