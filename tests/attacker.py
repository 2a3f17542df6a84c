"""An attacker's view of a project's releases, written apart from ctlib's own relations.

Given results-shaped tables as released (rows with `suppressed`), the attacker knows every figure
any release published and the arithmetic any data obeys: per indicator × period × dimension, the
total equals the sum of the categories; per indicator × dimension × category, a period equals the
sum of the quarters that tile it. Counts are never negative, and a share's numerator never exceeds
its denominator. With that, `lp_bounds` gives the feasible interval of each hidden count (scipy's
linprog, HiGHS), `pinned` the non-zero hidden counts it pins and `subtracted` what repeated
subtraction recovers.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from scipy.optimize import linprog

KEY = ["indicator_id", "period_start_date", "period_end_date", "dimension", "category"]


def coordinates(measure: str) -> list[str]:
    """The counts of a row: the value of a count;
    numerator and denominator − numerator of a share."""
    return ["value"] if measure != "share" else ["numerator", "complement"]


def union(releases: list[pd.DataFrame]) -> tuple[dict, dict, set]:
    """(figures of each published cell, measure of each cell, hidden cells never published)."""
    published, measures, hidden = {}, {}, set()
    for table in releases:
        for row in table.itertuples():
            cell = tuple(getattr(row, c) for c in KEY)
            measures[cell] = row.measure
            if row.suppressed:
                hidden.add(cell)
            else:
                published[cell] = {
                    "value": row.value,
                    "numerator": row.numerator,
                    "complement": row.denominator - row.numerator,
                }
    return published, measures, hidden - set(published)


def arithmetic(cells) -> list[tuple[tuple, list[tuple]]]:
    """(parent, parts) relations among `cells`."""
    cells = set(cells)
    relations = []
    by_period = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        if cell[3] != "total":
            by_period[cell[:3]][cell[3]].append(cell)
    for period, dimensions in by_period.items():
        total = (*period, "total", "total")
        if total in cells:
            relations += [(total, parts) for parts in dimensions.values()]
    quarters = defaultdict(list)  # (indicator, dimension, category) -> quarter cells
    series = defaultdict(list)
    for cell in cells:
        days = (cell[2] - cell[1]).days
        (quarters if days < 93 else series)[(cell[0], cell[3], cell[4])].append(cell)
    for name, longer in series.items():
        for parent in longer:
            parts = sorted(q for q in quarters[name] if q[1] >= parent[1] and q[2] <= parent[2])
            covered = sum((q[2] - q[1]).days + 1 for q in parts)
            if parts and covered == (parent[2] - parent[1]).days + 1:
                relations.append((parent, parts))
    return relations


def subtracted(releases: list[pd.DataFrame]) -> set:
    """Hidden cells recovered by repeated subtraction (a relation with one unknown member)."""
    published, measures, hidden = union(releases)
    known = {cell: figures["value"] for cell, figures in published.items()}
    recovered, progress = set(), True
    relations = arithmetic(measures)
    while progress:
        progress = False
        for parent, parts in relations:
            unknown = [c for c in [parent, *parts] if c not in known]
            if len(unknown) == 1:
                cell = unknown[0]
                others = sum(known[p] for p in parts if p != cell)
                known[cell] = known[parent] - others if cell != parent else others
                recovered.add(cell)
                progress = True
    return recovered & hidden


def lp_bounds(releases: list[pd.DataFrame]) -> dict[tuple, dict[str, tuple[float, float]]]:
    """Per hidden cell and count, the (min, max) the published figures allow."""
    published, measures, hidden = union(releases)
    hidden = sorted(hidden)
    relations = arithmetic(measures)
    bounds = {cell: {} for cell in hidden}
    for coordinate in ("value", "numerator", "complement"):
        cells = [c for c in hidden if coordinate in coordinates(measures[c])]
        if not cells:
            continue
        column = {cell: n for n, cell in enumerate(cells)}
        rows, right = [], []
        for parent, parts in relations:
            if coordinate not in coordinates(measures[parent]):
                continue
            row, rhs = np.zeros(len(cells)), 0.0
            for cell, sign in [(parent, 1.0), *((p, -1.0) for p in parts)]:
                if cell in column:
                    row[column[cell]] += sign
                else:
                    rhs -= sign * np.nan_to_num(published[cell][coordinate])
            if row.any():
                rows.append(row)
                right.append(rhs)
        system = dict(
            A_eq=np.array(rows) if rows else None,
            b_eq=np.array(right) if rows else None,
            bounds=(0, None),
            method="highs",
        )
        for cell in cells:
            objective = np.zeros(len(cells))
            objective[column[cell]] = 1.0
            low = linprog(objective, **system)
            high = linprog(-objective, **system)
            assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
            bounds[cell][coordinate] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return bounds


def pinned(releases: list[pd.DataFrame], truth: list[pd.DataFrame]) -> dict:
    """Hidden cells with a count, not zero, that the published figures pin to less than one unit
    of room (`truth`: the releases' tables before suppression). A hidden zero is not a small count
    and is not protected for itself (ctlib._compute.protection)."""
    true = {}
    for table in truth:
        for row in table.itertuples():
            true[tuple(getattr(row, c) for c in KEY)] = {
                "value": row.value,
                "numerator": row.numerator,
                "complement": row.denominator - row.numerator,
            }
    return {
        cell: counts
        for cell, counts in lp_bounds(releases).items()
        if any(
            high - low < 1 - 1e-6 and true[cell][count] != 0
            for count, (low, high) in counts.items()
        )
    }
