"""Which cells to hide so that no hidden cell can be worked out from the published ones.

The published cells and the relations among cells (`relations.Relations`, "parent = sum of parts")
form a linear system in the hidden cells H: A_H x_H = b. A hidden cell is disclosed when the system
pins it to one value. Counts are never negative, so that happens when every direction d that keeps
the published figures (A_H d = 0) and keeps the hidden zeros at or above zero leaves the cell
unchanged. `protect` makes sure no hidden cell is pinned:

1. subtraction: a relation with exactly one hidden cell gives it away, so a second cell of the
   relation is hidden (the cheapest that may be: parts before the parent, then the caller's
   ranking), until no relation has exactly one;
2. linear algebra, per group of hidden cells linked by relations, one SVD of A_H per count (value,
   numerator, ...), with that count's hidden zeros held at zero, as if the attacker knew them: a
   non-zero count is free when a null vector moves it (a small step along it keeps every count
   non-negative). A pinned count gets a cell hidden among the relations that pin it (one whose
   column breaks the certificate y, y·A_H = e_h, read from the same SVD), and both steps run again
   until nothing is pinned.

A zero is not a small count, so a hidden zero (a complementary cell that counted nobody, or the
numerator of "0 of 3") is not itself protected; every non-zero hidden count is, even against an
attacker who knows which hidden counts are zero.

A hidden cell that no choice can protect (every other cell of its relations is published already,
e.g. by an earlier release) is returned as exposed, for the caller to report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .relations import Relations

TOLERANCE = 1e-9
PARENT_PENALTY = 1e12  # a parent is hidden only when no part of its relation can be


@dataclass
class Protection:
    """What `protect` decided: hidden cells and those no choice could protect."""

    hidden: np.ndarray  # bool per cell
    exposed: np.ndarray  # positions of hidden cells still disclosed


def protect(
    relations: Relations,
    hidden: np.ndarray,
    choosable: np.ndarray,
    rank: np.ndarray,
    zeros: list[np.ndarray],
) -> Protection:
    """The cells to hide: `hidden` (must be hidden) plus complementary cells among `choosable`.

    `rank`: the cost of hiding each cell (lower is hidden first); `zeros`: per count of a cell
    (value, numerator, denominator − numerator, ...), whether the cell's count is zero (or none).
    """
    state = _State(relations, hidden, choosable, rank, zeros)
    state.subtract(np.flatnonzero(state.hidden))
    with threadpool_limits(1, user_api="blas"):  # many small SVDs: threads would only contend
        while chosen := state.unpin_all():
            state.subtract(np.array(chosen, dtype=np.int64))
    return Protection(state.hidden, np.array(sorted(state.exposed), dtype=np.int64))


class _State:
    def __init__(self, relations, hidden, choosable, rank, zeros):
        self.relations = relations
        self.hidden = hidden.copy()
        self.choosable = choosable & ~hidden
        self.is_parent = _is_parent_entry(relations)
        self.cost = rank[relations.members] + PARENT_PENALTY * self.is_parent  # per member entry
        self.zeros = np.array(zeros, dtype=bool).reshape(len(zeros), len(hidden))
        if not len(zeros):
            self.zeros = np.zeros((1, len(hidden)), dtype=bool)
        self.of_cell = relations.by_cell(len(hidden))
        self.relation_of = relations.relation_of_member()
        self.hidden_count = np.bincount(
            self.relation_of[self.hidden[relations.members]], minlength=len(relations)
        )
        self.exposed: set[int] = set()
        self.free_groups: set[bytes] = set()
        self.free = np.zeros(self.zeros.shape, dtype=bool)  # per count and cell: found free

    # -- 1. subtraction ---------------------------------------------------------------------------
    def hide(self, cell: int) -> None:
        self.hidden[cell] = True
        self.choosable[cell] = False
        self.hidden_count[self.of_cell[cell]] += 1

    def subtract(self, newly_hidden: np.ndarray) -> None:
        """Hide a second cell in every relation with exactly one hidden cell, until none is left."""
        pending = list(np.concatenate([self.of_cell[c] for c in newly_hidden] or [[]]))
        while pending:
            relation = int(pending.pop())
            if self.hidden_count[relation] != 1:
                continue
            choice = self.cheapest(np.array([relation]))
            if choice is None:
                members = self.relations[relation]
                self.exposed.update(int(c) for c in members[self.hidden[members]])
                continue
            self.hide(choice)
            pending += list(self.of_cell[choice])

    def cheapest(
        self,
        relation_ids: np.ndarray,
        zero: np.ndarray | None = None,
        certificate: np.ndarray | None = None,
    ) -> int | None:
        """The choosable cell of these relations to hide; None when there is none.

        With a `certificate` (weights of the relations that pin a cell), only a cell whose
        weighted column is not zero breaks it. Preferred: a cell that is not zero in `zero` (the
        count that pins), then a part before a parent, then one that also gives a second hidden
        cell to another relation (closing a cycle of hidden cells protects with fewer cells), then
        the lowest cost."""
        entries = _entries(self.relations, relation_ids)
        cells = self.relations.members[entries]
        free = self.choosable[cells]
        if certificate is not None:
            weight = np.repeat(certificate, self.relations.sizes[relation_ids])
            weight = np.where(self.is_parent[entries], weight, -weight)
            unique, position = np.unique(cells, return_inverse=True)
            breaks = np.abs(np.bincount(position, weights=weight)) > TOLERANCE
            free &= breaks[position]
        if not free.any():
            return None
        cells, cost = cells[free], self.cost[entries][free]
        closes = np.array([(self.hidden_count[self.of_cell[c]] == 1).sum() for c in cells])
        is_zero = zero[cells] if zero is not None else np.zeros(len(cells), dtype=bool)
        best = np.lexsort((cost, -closes, cost >= PARENT_PENALTY, is_zero))
        return int(cells[best[0]])

    # -- 2. linear algebra ------------------------------------------------------------------------
    def unpin_all(self) -> list[int]:
        """Per group of hidden cells, hide a cell for each pinned cell whose pinning relations no
        earlier choice of this round touched; the cells hidden."""
        chosen = []
        for cells, relation_ids in self.groups():
            signature = cells.tobytes() + relation_ids.tobytes()
            if signature in self.free_groups:
                continue
            touched = np.zeros(len(relation_ids), dtype=bool)
            pinned = list(self.pinned(cells, relation_ids))
            for cell, certificate, zero in pinned:
                used = np.abs(certificate) > TOLERANCE
                if (used & touched).any():
                    continue
                choice = self.cheapest(relation_ids[used], zero, certificate[used])
                if choice is None:
                    self.exposed.add(cell)
                    continue
                self.hide(choice)
                chosen.append(choice)
                touched |= used
            if not pinned:
                self.free_groups.add(signature)
        return chosen

    def groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(hidden cells, relations) of each group of hidden cells linked by relations with two or
        more hidden cells; a group of one relation cannot pin anything and is left out."""
        linking = self.hidden_count >= 2
        entries = linking[self.relation_of] & self.hidden[self.relations.members]
        cells, owners = self.relations.members[entries], self.relation_of[entries]
        if not len(cells):
            return []
        label = np.arange(len(self.hidden))
        while True:  # each cell takes the smallest label of the relations it shares
            smallest = np.full(len(self.relations), len(self.hidden))
            np.minimum.at(smallest, owners, label[cells])
            updated = label.copy()
            np.minimum.at(updated, cells, smallest[owners])
            if (updated == label).all():
                break
            label = updated
        group_of_relation = np.full(len(self.relations), -1)
        group_of_relation[owners] = label[cells]
        found = []
        linked = np.flatnonzero(group_of_relation >= 0)
        order = np.argsort(group_of_relation[linked], kind="stable")
        linked = linked[order]
        starts = np.flatnonzero(np.r_[True, np.diff(group_of_relation[linked]) != 0])
        for relation_ids in np.split(linked, starts[1:]):
            if len(relation_ids) >= 2:
                group_cells = np.unique(
                    self.relations.members[_entries(self.relations, relation_ids)]
                )
                found.append((group_cells[self.hidden[group_cells]], relation_ids))
        return found

    def matrix(self, cells: np.ndarray, relation_ids: np.ndarray) -> np.ndarray:
        """A_H of one group: a row per relation, a column per hidden cell; +1 parent, −1 part."""
        entries = _entries(self.relations, relation_ids)
        column = np.full(len(self.hidden), -1)
        column[cells] = np.arange(len(cells))
        columns = column[self.relations.members[entries]]
        rows = np.repeat(np.arange(len(relation_ids)), self.relations.sizes[relation_ids])
        signs = np.where(self.is_parent[entries], 1.0, -1.0)
        keep = columns >= 0
        matrix = np.zeros((len(relation_ids), len(cells)))
        matrix[rows[keep], columns[keep]] = signs[keep]
        return matrix

    def pinned(self, cells: np.ndarray, relation_ids: np.ndarray):
        """(cell, certificate over the group's relations, the count's zeros) of every hidden cell
        of a group whose count, not zero, the published cells pin.

        Exact, per count: one linear program finds the hidden zeros that can grow (all at once,
        `_growing`); near a point where they have grown, every direction of the null space of
        A_H over the other cells and those zeros keeps all counts non-negative, so a cell is free
        exactly when that null space moves it (one SVD). Hiding more cells never pins a free one,
        so a group whose cells were all found free is not solved again."""
        found = {}
        matrix = None
        for count in _distinct_rows(self.zeros[:, cells]):
            zero = self.zeros[count, cells]
            if self.free[count, cells[~zero]].all():
                continue
            matrix = self.matrix(cells, relation_ids) if matrix is None else matrix
            moving = ~zero
            if zero.any():
                moving[np.flatnonzero(zero)[_growing(matrix, zero)]] = True
            sub = matrix[:, moving]
            u, singular, vt = np.linalg.svd(sub, full_matrices=sub.shape[0] < sub.shape[1])
            rank = int((singular > TOLERANCE * max(sub.shape)).sum())
            null = vt[rank:]
            free = (
                np.linalg.norm(null, axis=0) > TOLERANCE
                if len(null)
                else np.zeros(sub.shape[1], bool)
            )
            columns = np.flatnonzero(moving)
            same = (self.zeros[:, cells] == zero).all(axis=1)  # counts with this pattern
            self.free[np.ix_(same, cells[columns[free]])] = True
            for n in np.flatnonzero(~free & ~zero[columns]):
                certificate = u[:, :rank] @ (vt[:rank, n] / singular[:rank])
                found.setdefault(int(cells[columns[n]]), (certificate, self.zeros[count]))
        return [(c, *found[c]) for c in sorted(found) if c not in self.exposed]


def _growing(matrix: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Which hidden zeros some direction d (matrix·d = 0, every zero's d ≥ 0) can make grow: one
    linear program, maximise Σ s over s ≤ d on the zeros, 0 ≤ s ≤ 1 (the cone holds the sum of
    directions that grow each, so all that can grow do at the optimum)."""
    n_cells, zeros = matrix.shape[1], np.flatnonzero(zero)
    objective = np.r_[np.zeros(n_cells), -np.ones(len(zeros))]
    equal = np.c_[matrix, np.zeros((matrix.shape[0], len(zeros)))]
    below = np.zeros((len(zeros), n_cells + len(zeros)))
    below[np.arange(len(zeros)), zeros] = -1.0
    below[np.arange(len(zeros)), n_cells + np.arange(len(zeros))] = 1.0
    bounds = [(0.0, None) if z else (None, None) for z in zero] + [(0.0, 1.0)] * len(zeros)
    from scipy.optimize import linprog  # imported when needed: 0.6 s, and most runs need none

    solved = linprog(
        objective,
        A_ub=below,
        b_ub=np.zeros(len(zeros)),
        A_eq=equal,
        b_eq=np.zeros(matrix.shape[0]),
        bounds=bounds,
        method="highs",
    )
    if solved.status != 0:
        return np.zeros(len(zeros), dtype=bool)
    return solved.x[n_cells:] > 0.5


def _distinct_rows(zeros: np.ndarray) -> list[int]:
    """One row (count) for each distinct pattern of zeros."""
    _, first = np.unique(zeros, axis=0, return_index=True)
    return sorted(first)


def _entries(relations: Relations, relation_ids: np.ndarray) -> np.ndarray:
    """Positions in `relations.members` of the members of these relations."""
    starts, sizes = relations.offsets[relation_ids], relations.sizes[relation_ids]
    if not len(sizes):
        return np.zeros(0, dtype=np.int64)
    steps = np.ones(sizes.sum(), dtype=np.int64)
    ends = np.cumsum(sizes)
    steps[0] = starts[0]
    steps[ends[:-1]] = starts[1:] - (starts[:-1] + sizes[:-1] - 1)
    return np.cumsum(steps)


def _is_parent_entry(relations: Relations) -> np.ndarray:
    """Per member entry: whether it is its relation's parent (the first member)."""
    is_parent = np.zeros(len(relations.members), dtype=bool)
    is_parent[relations.offsets[:-1][relations.sizes > 0]] = True
    return is_parent
