"""The one number formatter: how every figure reads, in every message, table, chart and file.

`number_text` writes a plain number; `unit_text` writes a value in its indicator unit;
`data_number` writes a value for another program to read (IATI files). The
presentation layer (`_publish.presentation`) builds every surface's text on these two.
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
