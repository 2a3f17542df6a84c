"""Typed conversion of a column's values, once per distinct value."""

from __future__ import annotations

import datetime as dt
import difflib

import numpy as np
import pandas as pd

from .tables import BOOLEAN, CATEGORY, DATE, INTEGER, NUMBER, STRING, Column, category_key

TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
EARLIEST_DATE, LATEST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%y")


# -- converting values ---------------------------------------------------------------------------------------


def convert(raw: pd.Series, column: Column, value_map: dict, identifiers: bool = False):
    """(typed series, mask of present values that could not be converted).

    Values are converted once per distinct value, except identifiers, which are only tidied.
    """
    if raw.dtype == object:
        raw = raw.map(tidy_number, na_action="ignore")
    if identifiers and column.kind == STRING and not value_map:
        text = (raw if raw.dtype == "string" else raw.astype("string")).str.strip()
        return text.mask(text == ""), np.zeros(len(raw), dtype=bool)
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, uniques = (
            raw.cat.codes.to_numpy(),
            [*raw.cat.categories, None],
        )  # code -1 (missing): the last
    else:
        codes, uniques = pd.factorize(
            raw, use_na_sentinel=False
        )  # missing values get a code of their own
        uniques = [None if missing else value for value, missing in zip(uniques, pd.isna(uniques))]
    values = [None if is_blank(value) else value for value in uniques]
    if value_map:
        lookup = value_lookup(value_map)
        values = [lookup(value) for value in values]
    converted, bad = _CONVERTERS[column.kind](values, column)
    return pd.Series(converted.take(codes), index=raw.index), bad[codes]


def _to_category(values, column):
    keys = {category_key(c): c for c in column.categories}
    out = [None if v is None else keys.get(category_key(v)) for v in values]
    return pd.array(out, dtype="string"), np.array(
        [v is not None and o is None for v, o in zip(values, out)], dtype=bool
    )


def _to_string(values, column):
    out = [None if v is None else as_text(v) for v in values]
    return pd.array(out, dtype="string"), np.zeros(len(values), dtype=bool)


def _to_boolean(values, column):
    def one(value):
        if value is None or isinstance(value, bool):
            return value
        word = as_text(value).casefold()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else "bad"

    out = [one(v) for v in values]
    bad = np.array([o == "bad" and not isinstance(o, bool) for o in out], dtype=bool)
    return pd.array([None if b else o for o, b in zip(out, bad)], dtype="boolean"), bad


def _to_number(values, column):
    present = np.array([v is not None for v in values], dtype=bool)
    cleaned = [v.strip() if isinstance(v, str) else v for v in values]
    numbers = pd.to_numeric(pd.Series(cleaned, dtype=object), errors="coerce").astype("Float64")
    bad = present & numbers.isna().to_numpy()
    if column.kind == INTEGER:
        bad |= (numbers % 1 != 0).fillna(False).to_numpy()
        return numbers.mask(bad).round().astype("Int64").array, bad
    return numbers.mask(bad).array, bad


def _to_date(values, column):
    stamps = pd.Series(
        [pd.Timestamp(v) if isinstance(v, (dt.date, np.datetime64)) else pd.NaT for v in values],
        dtype=object,
    )
    texts = pd.Series([v.strip() if isinstance(v, str) else None for v in values], dtype=object)
    dates = _plausible(pd.to_datetime(stamps, errors="coerce"))
    for date_format in ("ISO8601", *DAY_FIRST_FORMATS):
        left = texts.notna() & dates.isna()
        if not left.any():
            break
        dates = dates.fillna(
            _plausible(pd.to_datetime(texts[left], format=date_format, errors="coerce"))
        )
    present = np.array([v is not None for v in values], dtype=bool)
    return dates.array, present & dates.isna().to_numpy()


def _plausible(dates: pd.Series) -> pd.Series:
    """Dates between EARLIEST_DATE and LATEST_DATE (others are typos) as datetime64[ns]."""
    return dates.where((dates >= EARLIEST_DATE) & (dates <= LATEST_DATE)).astype("datetime64[ns]")


_CONVERTERS = {
    CATEGORY: _to_category,
    STRING: _to_string,
    BOOLEAN: _to_boolean,
    INTEGER: _to_number,
    NUMBER: _to_number,
    DATE: _to_date,
}


def conversion_message(column: Column):
    """(message for a bad value, rule) by the column's kind."""
    if column.kind == CATEGORY:
        allowed = ", ".join(column.categories)

        def unknown(value):
            closest = difflib.get_close_matches(
                str(value).strip().casefold(), column.categories, n=1, cutoff=0.5
            )
            hint = f"; closest: {closest[0]!r}" if closest else ""
            return f"unknown category {value!r}; allowed: {allowed}{hint} (or map it under values in project.yaml)"

        return unknown, "category"
    if column.kind == DATE:
        return (lambda value: f"{value!r} is not a date; write YYYY-MM-DD or DD/MM/YYYY"), "date"
    expected = {BOOLEAN: "yes or no", INTEGER: "a whole number", NUMBER: "a number"}[column.kind]
    return (lambda value: f"{value!r} is not {expected}"), "type"


def value_lookup(value_map: dict):
    """Their code -> standard value: exact match first, then ignoring case, spaces and punctuation."""
    exact = {as_text(key): value for key, value in value_map.items()}
    loose = {category_key(key): value for key, value in value_map.items()}

    def lookup(value):
        if value is None:
            return None
        text = as_text(value)
        return exact.get(text, loose.get(category_key(text), value))

    return lookup


def tidy_number(value):
    """Excel's 101.0 as 101, so that ids and codes typed as numbers read as the user sees them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def as_text(value) -> str:
    return str(tidy_number(value)).strip()


def is_blank(value) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and np.isnan(value))
    )


def plain_value(value):
    """A plain Python value for a Problem (None when missing)."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
