"""The "parent = sum of parts" relations among result cells: what an attacker can add and subtract.

A cell is one row of a results-shaped table: indicator × period span × dimension × category. Its
counts (value, or numerator and denominator) obey, for any data:

- categories: per indicator × period × dimension, the total row = the sum of the dimension's
  category rows, where they do add up: a breakdown that counts someone in two categories (forms of
  exploitation, a distinct count) adds up to more than its total, so subtracting its categories
  recovers nothing and it is no relation (read from the counts; an unknown count keeps it);
- periods: per indicator × dimension × category, a period = the sum of the periods of another kind
  that tile it (life of project to date against its quarters, a year against its quarters, life of
  project to date against the years and quarters that tile it);
- cross-disaggregations (`sex × age_group`): per indicator × period span, each category of one of
  its dimensions published on its own = the sum of the cross cells with that category;
- stocks (`rollup: latest`): a period = the last period of another kind inside it that has data
  (what the engine copies).

Spans, not labels, identify periods, so the cells of several releases side by side (life of project
to 2026-03-31 and to 2026-06-30) relate through the quarters they share. A relation that does not
hold exactly (a distinct count over a year is at most the sum of its quarters) only costs extra
protection, never less: more relations let an attacker derive more, so protecting against them
protects against fewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._data.project_model import CROSS

TOTAL = "total"
CELL_KEY = [
    "indicator_id",
    "period_start_date",
    "period_end_date",
    "period_kind",  # life of project to the end of the first quarter is not that quarter's row
    "dimension",
    "category",
]
RELATION_COLUMNS = [*CELL_KEY, "rollup"]
_KEY_TYPES = {
    "indicator_id": "string",
    "period_start_date": "datetime64[ns]",
    "period_end_date": "datetime64[ns]",
    "period_kind": "string",
    "dimension": "string",
    "category": "string",
}


def cell_positions(table: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Per row of `table`, the position of the same cell (CELL_KEY) in `cells`; -1 when absent."""
    if cells.empty:
        return np.full(len(table), -1, dtype=np.int64)
    keys = pd.MultiIndex.from_frame(cells[CELL_KEY].astype(_KEY_TYPES))
    return keys.get_indexer(pd.MultiIndex.from_frame(table[CELL_KEY].astype(_KEY_TYPES)))


@dataclass(frozen=True)
class Relations:
    """Relations in compressed form: relation r's cells are members[offsets[r]:offsets[r + 1]],
    its parent first."""

    offsets: np.ndarray
    members: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "sizes", np.diff(self.offsets))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, relation: int) -> np.ndarray:
        return self.members[self.offsets[relation] : self.offsets[relation + 1]]

    def relation_of_member(self) -> np.ndarray:
        """The relation each entry of `members` belongs to."""
        return np.repeat(np.arange(len(self)), self.sizes)

    def by_cell(self, n_cells: int) -> Relations:
        """The transpose: for each cell, the relations it belongs to."""
        order = np.argsort(self.members, kind="stable")
        counts = np.bincount(self.members, minlength=n_cells)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        return Relations(offsets, self.relation_of_member()[order])

    @staticmethod
    def join(groups: list[list[np.ndarray]]) -> Relations:
        arrays = [relation for group in groups for relation in group]
        sizes = np.array([len(a) for a in arrays], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        members = np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)
        return Relations(offsets, members)


def relations(
    cells: pd.DataFrame, eligible: np.ndarray, has_data: np.ndarray, figures: np.ndarray
) -> Relations:
    """Every relation among the eligible rows of `cells` (RELATION_COLUMNS; one row per cell).

    `has_data`: whether a row holds data (a value, or a hidden one), to find what a stock copies.
    `figures`: each row's counts (value, numerator, denominator; NaN for none, inf when unknown),
    to leave out a breakdown that does not add up to its total (module docstring).
    """
    positions = np.flatnonzero(eligible)
    rows = cells.iloc[positions]
    by_category = [*_category_relations(rows, positions), *_cross_relations(rows, positions)]
    adds_up = _adding_up(figures, by_category)
    return Relations.join(
        [
            [r for r, keep in zip(by_category, adds_up) if keep],
            _period_relations(rows, positions, has_data[positions]),
        ]
    )


def differences(cells: pd.DataFrame, eligible: np.ndarray, has_data: np.ndarray) -> Relations:
    """Relations that follow from two period relations: a period = the latest shorter period of
    its kind with the same start + the periods that tile the rest (life of project now = life of
    project before + the quarter since). Subtraction finds what they give away at once."""
    positions = np.flatnonzero(eligible)
    rows = cells.iloc[positions]
    return Relations.join([_period_relations(rows, positions, has_data[positions], True)])


def _adding_up(figures: np.ndarray, relations: list[np.ndarray]) -> np.ndarray:
    """Per relation, whether one of the parent's counts is the sum of its parts' (or a count is
    unknown)."""
    joined = Relations.join([relations])
    if not len(joined):
        return np.zeros(0, dtype=bool)
    counts = figures[joined.members]
    owner = joined.relation_of_member()
    unknown = np.bincount(owner, weights=np.isinf(counts).any(axis=1), minlength=len(joined)) > 0
    parents = joined.offsets[:-1]
    parts = np.where(np.isfinite(counts), counts, 0.0)
    parts[parents] = 0.0
    total = np.add.reduceat(parts, parents, axis=0)
    parent = counts[parents]
    return unknown | (~np.isnan(parent) & np.isclose(total, parent)).any(axis=1)


def codes(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A group number per row for the combination of `columns` (0, 1, ... in sorted order)."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    code = np.zeros(len(rows), dtype=np.int64)
    for column in columns:  # one column at a time, kept below the number of rows
        part = pd.factorize(rows[column].to_numpy(), sort=True)[0] + 1  # a missing value: 0
        code = np.unique(code * (part.max() + 1) + part, return_inverse=True)[1].ravel()
    return code


def _category_relations(rows: pd.DataFrame, positions: np.ndarray) -> list[np.ndarray]:
    """Per indicator × period span × dimension: the total row, then the dimension's categories."""
    period = codes(rows, ["indicator_id", "period_start_date", "period_end_date", "period_kind"])
    is_total = (rows["dimension"] == TOTAL).to_numpy()
    total_of = np.full(period.max() + 1 if len(period) else 0, -1, dtype=np.int64)
    total_of[period[is_total]] = positions[is_total]
    parts = ~is_total & (total_of[period] >= 0)
    if not parts.any():
        return []
    dimension = pd.factorize(rows["dimension"].to_numpy()[parts])[0]
    group = period[parts] * (dimension.max() + 1) + dimension
    order = np.argsort(group, kind="stable")
    group, members = group[order], positions[parts][order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    parents = total_of[period[parts][order][starts]]
    flat = np.insert(members, starts, parents)
    return _pieces(flat, np.r_[starts + np.arange(len(starts)), len(flat)])


def _cross_relations(rows: pd.DataFrame, positions: np.ndarray) -> list[np.ndarray]:
    """Per indicator × period span: a category of one dimension of a cross-disaggregation, then
    the cross cells with it ((sex = female) = Σ over age groups of (female × age group))."""
    crossed = rows["dimension"].str.contains(CROSS, regex=False).to_numpy()
    if not crossed.any():
        return []
    span = ["indicator_id", "period_start_date", "period_end_date", "period_kind"]
    single = {
        key: position
        for key, position in zip(
            rows.loc[~crossed, [*span, "dimension", "category"]].itertuples(index=False),
            positions[~crossed],
        )
    }
    found = []
    cells = rows[crossed].assign(position=positions[crossed])
    for (*period, dimension), group in cells.groupby([*span, "dimension"], sort=False):
        for i, part in enumerate(dimension.split(CROSS)):
            component = group["category"].str.split(CROSS, regex=False).str[i].to_numpy()
            for category, members in group.groupby(component, sort=False):
                parent = single.get((*period, part, category))
                if parent is not None:
                    found.append(np.array([parent, *members["position"]]))
    return found


def _period_relations(
    rows: pd.DataFrame, positions: np.ndarray, has_data: np.ndarray, since_shorter: bool = False
) -> list[np.ndarray]:
    """Per indicator × dimension × category: each period against the periods that tile it (and, for
    stocks, against the last one with data)."""
    span = codes(rows, ["period_start_date", "period_end_date", "period_kind"])
    _, first = np.unique(span, return_index=True)
    periods = rows.iloc[first][["period_start_date", "period_end_date", "period_kind"]]
    periods = periods.reset_index(drop=True)
    series = codes(rows, ["indicator_id", "dimension", "category"])
    if not len(series):
        return []
    at = np.full((series.max() + 1, len(periods)), -1, dtype=np.int64)
    at[series, span] = positions
    filled = np.zeros(at.shape, dtype=bool)
    filled[series, span] = has_data
    is_stock = np.zeros(series.max() + 1, dtype=bool)
    is_stock[series] = (rows["rollup"] == "latest").to_numpy()
    found = []
    for parent, parts in _tilings(periods, since_shorter):
        members = at[:, [parent, *parts]]
        keep = (members[:, 0] >= 0) & (members[:, 1:] >= 0).any(axis=1)
        present = members[keep] >= 0
        found += _pieces(members[keep][present], np.r_[0, np.cumsum(present.sum(axis=1))])
        copied = _last_with_data(at[:, parts], filled[:, parts])
        keep = is_stock & (members[:, 0] >= 0) & (copied >= 0)
        found += [np.array([p, c]) for p, c in zip(members[keep, 0], copied[keep])]
    return found


def _pieces(flat: np.ndarray, bounds: np.ndarray) -> list[np.ndarray]:
    """flat[bounds[i]:bounds[i + 1]] for each i (views, one per relation)."""
    bounds = bounds.tolist()
    return [flat[start:end] for start, end in zip(bounds[:-1], bounds[1:])]


def _last_with_data(at: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Per series, the position of the last part (in time order) that has data; -1 when none."""
    has = filled & (at >= 0)
    last = at.shape[1] - 1 - np.argmax(has[:, ::-1], axis=1)
    return np.where(has.any(axis=1), at[np.arange(len(at)), last], -1)


def _tilings(periods: pd.DataFrame, since_shorter: bool) -> list[tuple[int, list[int]]]:
    """(parent, parts in time order) where the periods of another kind tile the parent exactly;
    `since_shorter`: tile what it adds to the latest shorter period of its kind with the same
    start, that period the first part (life of project now = before + the quarters since)."""
    start = periods["period_start_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    end = periods["period_end_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    kind = pd.factorize(periods["period_kind"])[0]
    found = []
    for parent in range(len(periods)):
        first = []
        if since_shorter:
            shorter = (kind == kind[parent]) & (start == start[parent]) & (end < end[parent])
            if not shorter.any():
                continue
            first = [int(np.flatnonzero(shorter)[np.argmax(end[shorter])])]
        begin = end[first[0]] + 1 if first else start[parent]
        inside = (start >= begin) & (end <= end[parent]) & (kind != kind[parent])
        for other in np.unique(kind[inside]):
            parts = np.flatnonzero(inside & (kind == other))
            parts = parts[np.argsort(start[parts], kind="stable")]
            if (
                start[parts[0]] == begin
                and end[parts[-1]] == end[parent]
                and (start[parts[1:]] == end[parts[:-1]] + 1).all()
            ):
                found.append((parent, first + parts.tolist()))
    return found
