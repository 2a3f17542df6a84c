"""Fixed random rounding of counts: the alternative to suppression (`privacy.policy: rounding`).

Every count of people (`privacy.counts`) is rounded to a multiple of the base (3 or 5, as Stats NZ
and the ONS do): x goes up to the next multiple with probability (x mod base) / base, else down, so
the rounded figure is x on average; a multiple of the base, zero included, stays as it is. The
draw is fixed per cell and count (an HMAC of the cell, the count and its true value under the
project's secret from the ledger), so every release that shows the same true figure shows the same
rounded one: repeating a figure, in a report, the dashboard or a csv, tells nothing new, and no
difference of two published figures (life of project now minus before) is exact. A share's
numerator and its complement are rounded, the denominator is their sum, and the share is
recomputed; achievement, progress and graded statuses are recomputed from the rounded value
(`targets.regraded`; `bands_of`: each indicator's status bands).

A mean or median of fewer than k values is still hidden (rounding the count does not protect
the values), with `suppression` = primary; source-suppressed values stay hidden.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from .._data.tables import SOURCE_SUPPRESSED
from .privacy import HIDDEN_COLUMNS, SUPPRESSED, counts
from .targets import regraded

BASES = (3, 5)
_KEY_COLUMNS = ["indicator_id", "period_start_date", "period_end_date", "dimension", "category"]


def round_counts(
    table: pd.DataFrame,
    base: int,
    secret: str,
    k: int,
    bands_of: dict[str, tuple[float, float]],
) -> pd.DataFrame:
    """The donor table under fixed random rounding to `base` (module docstring)."""
    if base not in BASES:
        raise ValueError(f"rounding base must be one of {BASES}, not {base}")
    table = table.assign(audience="donor", suppressed=False, suppression=pd.NA).astype(
        {"suppression": "string"}
    )
    if table.empty:
        return table
    own = counts(table)
    keys = _cell_keys(table)
    rounded = {
        name: np.where(applies, _rounded(figure, base, secret, keys, name), figure)
        for name, (applies, figure) in own.items()
    }
    is_share = own["complement"][0]
    numerator = np.where(own["numerator"][0], rounded["numerator"], own["numerator"][1])
    denominator = np.where(is_share, numerator + rounded["complement"], rounded["denominator"])
    value = rounded["value"]
    is_ratio = own["numerator"][0] & (table["unit"] != "count").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator * _factor(table)
    value = np.where(is_ratio, np.where(denominator > 0, ratio, np.nan), value)
    table = regraded(
        table.assign(numerator=numerator, denominator=denominator, value=value), bands_of
    )
    applies, size = own["denominator"]
    few_values = applies & ~own["numerator"][0] & (size >= 1) & (size <= k - 1)
    is_source = (
        (table["value_state"].astype("string") == SOURCE_SUPPRESSED).fillna(False).to_numpy(bool)
        if "value_state" in table
        else np.zeros(len(table), dtype=bool)
    )
    hidden = few_values | is_source
    table.loc[hidden, HIDDEN_COLUMNS] = np.nan
    table.loc[hidden, "status"] = SUPPRESSED
    table.loc[hidden, "suppressed"] = True
    table.loc[hidden, "suppression"] = np.where(is_source, "source", "primary")[hidden]
    return table


def _factor(table: pd.DataFrame) -> np.ndarray:
    """The factor of each row's ratio (100 for a share, a rate's per-100,000), read back from its
    true figures; 1 where they do not tell."""
    numerator = table["numerator"].to_numpy(dtype=float, na_value=np.nan)
    denominator = table["denominator"].to_numpy(dtype=float, na_value=np.nan)
    value = table["value"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = np.round(value / (numerator / denominator), 6)
    return np.where(np.isfinite(implied) & (implied > 0), implied, 1.0)


def _cell_keys(table: pd.DataFrame) -> list[str]:
    frame = table[_KEY_COLUMNS].astype("string").fillna("")
    return ["\x1f".join(row) for row in frame.itertuples(index=False)]


def _rounded(figure: np.ndarray, base: int, secret: str, keys: list[str], count: str) -> np.ndarray:
    """Each figure rounded to `base` by its fixed draw; NaN stays NaN."""
    lower = np.floor(figure / base) * base
    remainder = figure - lower
    draws = np.array(
        [
            _draw(secret, key, count, x) if not np.isnan(x) and r > 0 else 1.0
            for key, x, r in zip(keys, figure, remainder)
        ]
    )
    return np.where(
        np.isnan(figure), np.nan, np.where(draws < remainder / base, lower + base, lower)
    )


def _draw(secret: str, key: str, count: str, figure: float) -> float:
    """A uniform number in [0, 1) fixed by the secret, the cell, the count and its true figure."""
    message = f"{key}\x1e{count}\x1e{figure:.6f}".encode()
    digest = hmac.new(bytes.fromhex(secret), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
