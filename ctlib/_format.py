"""How every figure and cell is written.

The one number formatter, and cells that no spreadsheet runs.

`number_text` writes a plain number; `unit_text` writes a value in its indicator unit;
`data_number` writes a value for another program to read (IATI files). The presentation layer
(`_publish.presentation`) builds every surface's text on these. Every csv the project writes
passes its text cells through `csv_safe` (xlsx writers store such text as explicit strings with
`xlsx_cell`).
"""

from __future__ import annotations

import math

UNIT_DECIMALS = {  # decimals of a value that is not a whole number, by indicator unit
    "count": 1,
    "percent": 1,
    "ratio": 2,
    "rate": 2,
    "score": 2,
    "days": 1,
    "months": 1,
    "currency": 2,
}
DEFAULT_DECIMALS = 2


def is_missing(value) -> bool:
    """None, NaN or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except (TypeError, ValueError):
        return str(value) in ("<NA>", "NaT")


def number_text(value, decimals: int = DEFAULT_DECIMALS) -> str:
    """1,234 for a whole number; 7.33 (`decimals` places) otherwise; "" when missing."""
    if is_missing(value):
        return ""
    value = float(value)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def data_number(value, unit: str) -> str:
    """A value as data for another program: 1234 · 45.5 · 0.25 (no separators, no unit sign, the
    unit's decimals, trailing zeros dropped); "" when missing."""
    if is_missing(value):
        return ""
    value = round(float(value), UNIT_DECIMALS.get(unit, DEFAULT_DECIMALS)) + 0.0  # no -0
    return f"{value:.0f}" if value.is_integer() else repr(value)


def unit_text(value, unit: str) -> str:
    """A value in its unit: 1,234 · 45.5% · 0.25 · yes/no; "" when missing."""
    if is_missing(value):
        return ""
    if unit == "yes_no":
        return "yes" if float(value) >= 1 else "no"
    text = number_text(value, UNIT_DECIMALS.get(unit, DEFAULT_DECIMALS))
    return f"{text}%" if unit == "percent" else text


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula (OWASP)


def is_formula_like(value) -> bool:
    """A text a spreadsheet would run as a formula (numbers, negative ones too, are not text)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value):
    """A csv cell that no spreadsheet runs: formula-like text gets OWASP's leading quote."""
    return f"'{value}" if is_formula_like(value) else value


def csv_safe_frame(frame):
    """`frame` with every text cell passed through `csv_safe` (number columns untouched)."""
    text_columns = [c for c in frame.columns if not _is_numeric(frame[c])]
    if not text_columns:
        return frame
    return frame.assign(**{c: frame[c].map(csv_safe, na_action="ignore") for c in text_columns})


def xlsx_cell(cell, value) -> None:
    """Set an openpyxl cell; text a spreadsheet would run as a formula is stored as plain text."""
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
        cell.quotePrefix = True


def _is_numeric(column) -> bool:
    kind = column.dtype.kind
    return kind in "biufcmM"  # bool, int, unsigned, float, complex, timedelta, datetime
