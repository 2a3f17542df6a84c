"""Typed conversion of a column's values, once per distinct value.

How a source writes its values is its `Reading`: the value map, the decimal mark, the markers of
source-suppressed and unavailable figures, the order of day and month, and the separators of a
multi-valued cell. Conversion never guesses silently: a value that could be read two ways is
either read the way the source declares, or read the common way with a note saying so.

Numbers: `2,315`, `2 315` and `2'315` (thousands grouped by three) are 2315; with the decimal
comma declared (`numbers.decimal: ","`) `2.315` is 2315 and `2,5` is 2.5; `45%` is 45 in a
number column (shares are in %). A number column's `<5` (any `<` before a number) is
source-suppressed, and the unavailable markers (by default `..`, `…`, `-`, `–`, `—`, `:`,
`n/a`, `NA`) are unavailable: neither is ever a number. Each comes back as its own state.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .tables import (
    BOOLEAN,
    CATEGORY,
    COUNTRY,
    DATE,
    INTEGER,
    MULTIPLE_SEPARATOR,
    NUMBER,
    SOURCE_SUPPRESSED,
    STRING,
    UNAVAILABLE,
    Column,
    category_key,
)

TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
EARLIEST_DATE, LATEST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")
UNAVAILABLE_MARKERS = ("..", "...", "…", "-", "–", "—", ":", "n/a", "N/A", "NA", "na")
MULTIPLE_SEPARATORS = ";,"  # between the values of a multi-valued cell, unless the source says
DATE_ORDERS = {"DMY": "day/month/year", "MDY": "month/day/year", "YMD": "year/month/day"}
NAMED_MONTH_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y")

_SUPPRESSED = re.compile(r"^[<≤]\s*=?\s*\d+(?:[.,]\d+)?$")  # <5, < 3, ≤10
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = {  # thousands grouped by three with one separator, by decimal mark
    ".": re.compile(r"^[+-]?\d{1,3}(?P<sep>[,\u00a0\u202f '’])\d{3}(?:(?P=sep)\d{3})*(\.\d+)?$"),
    ",": re.compile(r"^[+-]?\d{1,3}(?P<sep>[.\u00a0\u202f '’])\d{3}(?:(?P=sep)\d{3})*(,\d+)?$"),
}
# Arrow's work here allocates from the system allocator: mimalloc (Arrow's default) returns freed
# memory to the system, so that each new column is zeroed again, in huge pages (up to a quarter of
# a csv's ingestion time on a busy machine)
ARROW_POOL = pa.system_memory_pool()
_NUMERIC_DATE = re.compile(r"^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})$")
_ISO_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}.*$")


@dataclass(frozen=True)
class Reading:
    """How one source writes the values of one column (project.yaml, `sources.<table>`)."""

    value_map: Mapping = field(default_factory=dict)
    decimal: str = "."
    suppressed: tuple[str, ...] = ()  # markers besides `<N`, e.g. "x" or "c"
    unavailable: tuple[str, ...] = UNAVAILABLE_MARKERS
    date_order: str = "auto"  # auto, DMY, MDY or YMD
    separators: str = MULTIPLE_SEPARATORS  # multi-valued cells: any of these characters


@dataclass
class Converted:
    """A column converted: typed values, the present values that could not be converted, the state
    of each number (NA, source_suppressed or unavailable; None when no value has one), notes on
    how it was read, and (codes, distinct typed values), of which the values are a take."""

    values: pd.Series
    bad: np.ndarray
    states: pd.Series | None = None
    notes: list[tuple[str, int]] = field(default_factory=list)  # (message, first row position)
    distinct: tuple[np.ndarray, object] | None = None


# -- converting values -----------------------------------------------------------------------------


def convert(
    raw: pd.Series, column: Column, reading: Reading = Reading(), identifiers: bool = False
) -> Converted:
    """The column's values typed, converted once per distinct value.

    Identifiers are only tidied.
    """
    if column.kind == STRING and not reading.value_map and not column.multiple and _is_tidy(raw):
        return Converted(raw.astype("string"), np.zeros(len(raw), dtype=bool))
    if identifiers and column.kind == STRING and not reading.value_map:
        text = raw if raw.dtype == "string" else raw.map(tidy_number, na_action="ignore")
        text = text.astype("string").str.strip()
        empty = text == ""
        return Converted(text.mask(empty) if empty.any() else text, np.zeros(len(raw), dtype=bool))
    codes, uniques = _distinct(raw)
    values = [None if is_blank(value) else tidy_number(value) for value in uniques]
    lookup = value_lookup(reading.value_map, column)
    if column.multiple:
        converted, bad, states, notes = _to_multiple(values, column, reading, lookup)
    else:
        converted, bad, states, notes = _CONVERTERS[column.kind](
            [lookup(v) for v in values], column, reading
        )
    first = {} if not notes else _first_positions(codes)
    if (
        converted.dtype == "string"
        and _is_arrow_text(raw)
        and converted.equals(pd.array(uniques, dtype="string"))
    ):
        typed = raw.astype("string")  # text already standard: Arrow's own array, not a copy
    else:
        typed = pd.Series(taken(converted, codes), index=raw.index, copy=False)
    return Converted(
        typed,
        bad[codes] if bad.any() else np.zeros(len(codes), dtype=bool),
        None if states is None else pd.Series(states.take(codes), index=raw.index, copy=False),
        [(message, first[unique]) for message, unique in notes],
        (codes, converted),
    )


def _distinct(raw: pd.Series) -> tuple[np.ndarray, list]:
    """(code of each value, the distinct values); a missing value is None, with a code of its
    own."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes = raw.cat.codes.to_numpy().astype(np.intp)
        codes[codes < 0] = len(raw.cat.categories)  # missing: the last
        return codes, [*raw.cat.categories, None]
    if len(raw) and _is_arrow_text(raw):
        # as pandas factorizes Arrow text, without widening the codes to 64 bits
        encoded = pc.dictionary_encode(
            pa.array(raw.array), null_encoding="encode", memory_pool=ARROW_POOL
        )
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks(memory_pool=ARROW_POOL)
        return encoded.indices.to_numpy(), encoded.dictionary.to_pylist()
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    return codes, [None if missing else value for value, missing in zip(uniques, pd.isna(uniques))]


def taken(values, codes: np.ndarray):
    """values.take(codes) (codes of 0 and up); Arrow text is taken by Arrow itself, as pandas would
    first widen the codes to 64 bits."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        text = pc.take(pa.array(values), pa.array(codes), memory_pool=ARROW_POOL)
        return pd.array(text, dtype=values.dtype)
    return values.take(codes)


def _is_arrow_text(raw: pd.Series) -> bool:
    return isinstance(raw.dtype, pd.StringDtype) and raw.dtype.storage == "pyarrow"


def _is_tidy(raw: pd.Series) -> bool:
    """Whether Arrow text is already as conversion would write it: no value is empty or starts or
    ends with a space, a control character or a non-ASCII one (any of which might be whitespace).
    Read from Arrow's buffers, so that tidy text (most ids and names) is neither hashed nor
    written again."""
    if not _is_arrow_text(raw):
        return False
    array = pa.array(raw.array)
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        if not len(chunk) or chunk.null_count == len(chunk):
            continue
        _, offset_buffer, data_buffer = chunk.buffers()
        wide = pa.types.is_large_string(chunk.type)
        offsets = np.frombuffer(offset_buffer, dtype=np.int64 if wide else np.int32)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            starts, ends = starts[valid], ends[valid]
        if data_buffer is None or (ends <= starts).any():
            return False
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        if not (_TIDY_EDGE[data[starts]].all() and _TIDY_EDGE[data[ends - 1]].all()):
            return False
    return True


_TIDY_EDGE = np.zeros(256, dtype=bool)  # bytes a tidy value may start or end with: printable ASCII
_TIDY_EDGE[0x21:0x7F] = True


def _first_positions(codes: np.ndarray) -> dict[int, int]:
    uniques, first = np.unique(codes, return_index=True)
    return dict(zip(uniques.tolist(), first.tolist()))


def _to_category(values, column, reading=None):
    keys = {category_key(c): c for c in column.categories}
    out = [None if v is None else keys.get(category_key(v)) for v in values]
    bad = np.array([v is not None and o is None for v, o in zip(values, out)], dtype=bool)
    return pd.array(out, dtype="string"), bad, None, []


def _to_country(values, column, reading=None):
    from .countries import country_code  # pycountry's tables load on first use

    out = [None if v is None else country_code(v) for v in values]
    bad = np.array([v is not None and o is None for v, o in zip(values, out)], dtype=bool)
    return pd.array(out, dtype="string"), bad, None, []


def _to_string(values, column, reading=None):
    out = [None if v is None else as_text(v) for v in values]
    return pd.array(out, dtype="string"), np.zeros(len(values), dtype=bool), None, []


def _to_boolean(values, column, reading=None):
    def one(value):
        if value is None or isinstance(value, bool):
            return value
        word = as_text(value).casefold()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else "bad"

    out = [one(v) for v in values]
    bad = np.array([isinstance(o, str) for o in out], dtype=bool)
    return pd.array([None if b else o for o, b in zip(out, bad)], dtype="boolean"), bad, None, []


def _to_number(values, column, reading: Reading):
    """Numbers as people write them; markers become states, never numbers."""
    numbers = np.full(len(values), np.nan)
    states = np.full(len(values), None, dtype=object)
    bad = np.zeros(len(values), dtype=bool)
    kinds = pd.Series([_number_kind(v) for v in values], dtype=object)
    is_number = (kinds == "number").to_numpy()
    numbers[is_number] = [float(v) for v, keep in zip(values, is_number) if keep]
    bad |= (kinds == "bad").to_numpy()
    texts = pd.Series(
        [str(v).strip() if k == "text" else None for v, k in zip(values, kinds)], dtype=object
    )
    is_text = texts.notna().to_numpy()
    plain = np.zeros(len(values), dtype=bool)
    if reading.decimal == "." and is_text.any():
        plain[is_text] = texts[is_text].str.match(_PLAIN).to_numpy(dtype=bool)
        numbers[plain] = texts[plain].astype(float).to_numpy()
    unavailable, suppressed = set(reading.unavailable), set(reading.suppressed)
    for i in np.flatnonzero(is_text & ~plain):
        text = texts[i]
        if text in unavailable:
            states[i] = UNAVAILABLE
        elif _SUPPRESSED.match(text) or text in suppressed:
            states[i] = SOURCE_SUPPRESSED
        else:
            number = parse_number(text, reading.decimal, column.kind == NUMBER)
            bad[i] = number is None
            numbers[i] = np.nan if number is None else number
    bad |= np.isinf(numbers)
    if column.kind == INTEGER:
        bad |= ~np.isnan(numbers) & ~np.isinf(numbers) & (numbers % 1 != 0)
    numbers[bad] = np.nan
    missing = np.isnan(numbers)
    filled = np.where(missing, 0, numbers)
    if not any(states):
        states = None
    if column.kind == INTEGER:
        return pd.arrays.IntegerArray(filled.astype("int64"), missing), bad, states, []
    return pd.arrays.FloatingArray(filled, missing), bad, states, []


def _number_kind(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_, dt.date, dt.time, pd.Timestamp)):
        return "bad"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    return "text"


def parse_number(text: str, decimal: str = ".", allow_percent: bool = True) -> float | None:
    """A number as people write it (see the module docstring); None when it is not one."""
    if allow_percent and text.endswith("%"):
        text = text[:-1].rstrip()
    if decimal == "." and _PLAIN.match(text):
        return float(text)
    grouped = _GROUPED[decimal].match(text)
    if grouped:
        text = text.replace(grouped["sep"], "")
    elif decimal == "," and ("." in text or "e" in text.casefold()):
        return None  # 2.5 in a source whose decimal mark is the comma: say so, never guess
    if decimal == ",":
        text = text.replace(",", ".")
    return float(text) if _PLAIN.match(text) else None


def _to_date(values, column, reading: Reading):
    """Dates (vectorised: a column of date-times has nearly one distinct value per row)."""
    dates = pd.Series(pd.NaT, index=range(len(values)), dtype="datetime64[ns]")
    stamps = [
        i for i, v in enumerate(values) if isinstance(v, (dt.date, np.datetime64, pd.Timestamp))
    ]
    if stamps:
        dates[stamps] = _plausible(
            pd.to_datetime([values[i] for i in stamps], errors="coerce", utc=False)
        )
    texts = [None if not isinstance(v, str) else _date_as_written(v.strip()) for v in values]
    found = [None if text is None else _NUMERIC_DATE.search(text) for text in texts]
    numeric = np.array([match is not None for match in found], dtype=bool)
    parts = np.array([match.groups() for match in found if match], dtype=str).reshape(-1, 3)
    numbers = parts.astype(np.int64)  # (a, b, c) of each numeric date; any Unicode digits
    widths = np.strings.str_len(parts).astype(np.int64)
    order, note = _date_order(numbers, widths, np.flatnonzero(numeric), values, reading.date_order)
    if numeric.any():
        dates[numeric] = _numeric_dates(numbers, widths, order)
    texts = pd.Series(texts, dtype=object)
    left = texts.notna() & ~numeric
    for date_format in ("ISO8601", *NAMED_MONTH_FORMATS):
        if not left.any():
            break
        dates[left] = _plausible(pd.to_datetime(texts[left], format=date_format, errors="coerce"))
        left &= dates.isna()
    present = np.array([v is not None for v in values], dtype=bool)
    return dates.array, present & dates.isna().to_numpy(), None, [note] if note else []


def _date_as_written(text: str) -> str:
    """A date and time: its date as written."""
    match = _ISO_DATE_TIME.match(text)
    return text if match is None else match.group(1) + text[match.end() :]


def _date_order(numbers: np.ndarray, widths: np.ndarray, positions, values, declared: str):
    """The order of day and month of numeric dates (31/01/2025: their parts' `numbers` and
    `widths` in digits, at `positions` of `values`), and a note (message, position) when the
    order was deduced or assumed."""
    if declared != "auto" or not len(numbers):
        return declared, None
    short = widths[:, 0] <= 2
    first, second = (np.where(short, numbers[:, i], np.nan) for i in (0, 1))

    def where(mask):
        found = np.flatnonzero(mask)
        return (positions[found[0]], values[positions[found[0]]]) if len(found) else None

    day_first, month_first = where(first > 12), where(second > 12)
    ambiguous = where((first <= 12) & (second <= 12) & (first != second))
    if day_first and month_first:
        message = (
            f"dates are written both day first ({day_first[1]}) and month first "
            f"({month_first[1]}): write them one way, or set date_order (DMY or MDY) for the "
            "source"
        )
        return "mixed", (message, day_first[0])
    if month_first:
        message = (
            f"dates are read month first (month/day/year), as {month_first[1]} shows; "
            "set date_order: MDY for the source to say so"
        )
        return "MDY", (message, month_first[0])
    if ambiguous and not day_first:
        message = (
            f"dates such as {ambiguous[1]} could be day/month or month/day: read as "
            "day/month/year; set date_order (DMY or MDY) for the source to say which"
        )
        return "DMY", (message, ambiguous[0])
    return "DMY", None


def _numeric_dates(numbers: np.ndarray, widths: np.ndarray, order: str) -> np.ndarray:
    """Dates from (a, b, c) numeric parts: a four-digit first part is the year; else by order."""
    a, b, c = numbers.T
    year_first = widths[:, 0] == 4
    day = np.where(year_first, c, a if order == "DMY" else b)
    month = np.where(year_first, b, b if order == "DMY" else a)
    year = np.where(year_first, a, c)
    year = np.where(
        (~year_first) & (widths[:, 2] == 2),
        np.where(year < 69, 2000 + year, 1900 + year),
        year,
    )
    valid = year_first | (np.isin(widths[:, 2], [2, 4]) & (order in ("DMY", "MDY")))
    stamps = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}).where(pd.Series(valid)),
        errors="coerce",
    )
    return _plausible(stamps)


def _plausible(dates):
    """Dates (no time) between EARLIEST_DATE and LATEST_DATE, as datetime64[ns].

    Others are typos.
    """
    dates = pd.Series(dates)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    dates = dates.where((dates >= EARLIEST_DATE) & (dates <= LATEST_DATE)).astype("datetime64[ns]")
    return dates.dt.normalize().to_numpy()


def _to_multiple(values, column, reading: Reading, lookup: Callable):
    """Several values in a cell, each converted as the column's kind, joined by MULTIPLE_SEPARATOR
    in the column's category order without repeats."""
    split = re.compile(f"[{re.escape(reading.separators)}]")
    cells = [
        None if v is None else [p.strip() for p in split.split(as_text(v)) if p.strip()]
        for v in values
    ]
    parts = sorted({p for cell in cells if cell for p in cell})
    converted, part_bad, _, _ = _CONVERTERS[column.kind](
        [lookup(p) for p in parts], column, reading
    )
    as_standard = dict(zip(parts, [None if b else c for c, b in zip(converted, part_bad)]))
    order = {c: i for i, c in enumerate(column.categories)}
    out, bad = [], np.zeros(len(values), dtype=bool)
    for i, cell in enumerate(cells):
        if not cell:
            out.append(None)
            continue
        found = {as_standard[p] for p in cell}
        bad[i] = None in found
        found.discard(None)
        ordered = sorted(found, key=lambda c: (order.get(c, len(order)), c))
        out.append(None if bad[i] or not ordered else MULTIPLE_SEPARATOR.join(ordered))
    return pd.array(out, dtype="string"), bad, None, []


_CONVERTERS = {
    CATEGORY: _to_category,
    COUNTRY: _to_country,
    STRING: _to_string,
    BOOLEAN: _to_boolean,
    INTEGER: _to_number,
    NUMBER: _to_number,
    DATE: _to_date,
}


def conversion_message(column: Column, reading: Reading = Reading()):
    """(message for a bad value, rule) by the column's kind."""
    if column.multiple:
        single = conversion_message(
            Column(column.name, column.kind, "", categories=column.categories), reading
        )[0]
        return (
            lambda value: (
                f"in {value!r}: "
                + "; ".join(
                    single(part)
                    for part in re.split(f"[{re.escape(reading.separators)}]", as_text(value))
                    if part.strip() and _not_standard(part.strip(), column, reading)
                )
            )
        ), "category"
    if column.kind == CATEGORY:
        allowed = ", ".join(column.categories)

        def unknown(value):
            closest = difflib.get_close_matches(
                str(value).strip().casefold(), column.categories, n=1, cutoff=0.5
            )
            hint = f"; closest: {closest[0]!r}" if closest else ""
            return (
                f"unknown category {value!r}; allowed: {allowed}{hint} (or map it under "
                "values in project.yaml)"
            )

        return unknown, "category"
    if column.kind == COUNTRY:
        from .countries import not_a_country

        return not_a_country, "country"
    if column.kind == DATE:
        return (lambda value: f"{value!r} is not a date; write YYYY-MM-DD or DD/MM/YYYY"), "date"
    if column.kind in (INTEGER, NUMBER):
        return (lambda value: _number_message(value, column, reading)), "type"
    return (lambda value: f"{value!r} is not yes or no"), "type"


def _not_standard(part: str, column: Column, reading: Reading) -> bool:
    value = value_lookup(reading.value_map, column)(part)
    _, bad, _, _ = _CONVERTERS[column.kind]([value], column, reading)
    return bool(bad[0])


def _number_message(value, column: Column, reading: Reading) -> str:
    expected = "a whole number" if column.kind == INTEGER else "a number"
    text = as_text(value)
    if reading.decimal == "." and parse_number(text, ",", column.kind == NUMBER) is not None:
        return (
            f"{value!r} is not {expected}: if the comma is a decimal mark, set numbers: "
            "{decimal: ','} for the source"
        )
    if reading.decimal == "," and parse_number(text, ".") is not None:
        return f"{value!r} is not {expected} with the decimal comma this source declares"
    if column.kind == INTEGER and text.endswith("%"):
        return f"{value!r} is a percentage, not {expected}"
    return f"{value!r} is not {expected}"


def value_lookup(value_map: Mapping, column: Column | None = None) -> Callable:
    """Their code -> standard value. Numbers and dates match exactly (a key "<5" never matches 5);
    text matches exactly first, then ignoring case, spaces and punctuation (see
    `loose_key_clashes`)."""
    if not value_map:
        return lambda value: value
    exact = {as_text(key): value for key, value in value_map.items()}
    loose = (
        {}
        if column is not None and column.kind in (INTEGER, NUMBER, DATE)
        else {category_key(key): value for key, value in value_map.items()}
    )

    def lookup(value):
        if value is None:
            return None
        text = as_text(value)
        if text in exact:
            return exact[text]
        return loose.get(category_key(text), value) if loose else value

    return lookup


def loose_key_clashes(value_map: Mapping) -> list[tuple[str, str]]:
    """Pairs of keys that compare equal ignoring case, spaces and punctuation but map to different
    values (such a map would depend on the order of its keys)."""
    seen, clashes = {}, []
    for key, value in value_map.items():
        loose = category_key(key)
        if loose in seen and value_map[seen[loose]] != value:
            clashes.append((seen[loose], key))
        seen.setdefault(loose, key)
    return clashes


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
