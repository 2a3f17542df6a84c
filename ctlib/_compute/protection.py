"""Which cells to hide so that no hidden cell can be worked out from the published ones.

The published cells and the relations among cells (`relations.Relations`, "parent = sum of parts")
form a linear system in the hidden cells H: A_H x_H = b. A hidden cell is disclosed when the system
pins it to one value. Counts are never negative, so that happens when every direction d that keeps
the published figures (A_H d = 0) and keeps the hidden zeros at or above zero leaves the cell
unchanged. `protect` makes sure no hidden cell is pinned:

1. subtraction: a relation with exactly one hidden cell gives it away, so a second cell of the
   relation is hidden (the cheapest that may be: parts before the parent, then the caller's
   ranking), until no relation has exactly one (also over `differences`, relations that follow
   from these: what the linear algebra would otherwise find one cell at a time);
2. linear algebra, per unit of cells that relations connect (an indicator) and per count (value,
   numerator, ...): A_M, the columns of A_H of the moving cells (the hidden non-zero counts, and
   the hidden zeros that can grow), is kept with U, an orthonormal basis of its column space, and
   W with A_M W = U. A moving cell h is pinned exactly when e_h is in the row space of A_M, and
   then y = U W[h]ᵀ is its certificate (y·A_M = e_h). A pinned non-zero count gets a cell hidden
   among the relations that pin it (one whose column breaks the certificate: y·a ≠ 0; preferably
   one whose column is in the column space, which frees it at once), subtraction runs again, and
   each cell hidden adds its column a: with g = Uᵀa, a column in the column space adds the null
   vector (−W g, 1), which frees the pinned cells it moves; any other column adds a direction
   (a − U g)/|a − U g| to U and is pinned itself. So every hide costs a few products with U and
   W, and no system is solved again.

U and W are built once per unit and count: one small pivoted QR per component of the moving cells
that relations link once the cells that are the parent of two or more relations (totals) are set
apart, then one of those cells' columns' parts outside the column space. U is block diagonal over
the components but for the columns added since, so a product with g (or W[h]) spans only the
components it touches. A count whose non-zero cells other counts with more zeros cover is not
checked (a share's denominator, given its numerator and complement).

A hidden zero can grow when some direction that keeps every hidden zero at or above zero makes it
grow; it then moves (with the directions that make all such zeros grow, a small step along any
null vector keeps every count non-negative). Which zeros grow is looked at only when a hidden
zero's column breaks the certificate of a pinned cell (otherwise no zero can free it) and the
column space has grown or a zero was hidden since: a zero whose column is in the column space
grows alone; zeros whose columns' parts outside it (kept up to date) are linearly dependent may
grow together, which one small linear program decides (`_growing`).

When nothing is pinned any more, a random null vector d = z − W Uᵀ A_M z checks the result: it
must keep the published figures (A_M d = 0) and move every moving non-zero count; a unit and count
whose U has drifted is built again, and a count that d does not move is taken as pinned.

A zero is not a small count, so a hidden zero (a complementary cell that counted nobody, or the
numerator of "0 of 3") is not itself protected, nor is a count a cell does not have (the value of
a share); every non-zero hidden count is, even against an attacker who knows which hidden counts
are zero.

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
RESIDUAL = 1e-7  # what a checked null vector may miss the published figures by
MOVES = 1e-6  # how far a checked null vector must move a count
SHORTCUT = 1e-12  # |a|² − |Uᵀ a|² below this share of |a|²: a column in the column space


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
    differences: Relations | None = None,
) -> Protection:
    """The cells to hide: `hidden` (must be hidden) plus complementary cells among `choosable`.

    `rank`: the cost of hiding each cell (lower is hidden first); `zeros`: per count of a cell
    (value, numerator, denominator − numerator, ...), whether the cell's count is zero, unknown
    to be otherwise or not one the cell has (such a count is not protected); `differences`:
    relations that follow from `relations`, for subtraction only (it then hides at once what
    the linear algebra would find one cell at a time).
    """
    state = _State(relations, differences, hidden, choosable, rank, zeros)
    state.subtract(np.flatnonzero(state.hidden))
    with threadpool_limits(1, user_api="blas"):  # many small products: threads would only contend
        for cells, relation_ids in _units(relations, len(hidden)):
            if state.hidden[cells].any():
                state.protect_unit(cells, relation_ids)
    return Protection(state.hidden, np.array(sorted(state.exposed), dtype=np.int64))


class _State:
    def __init__(self, relations, differences, hidden, choosable, rank, zeros):
        own = slice(0, len(relations.members))  # the member entries of `relations`
        if differences is not None:  # after them: subtraction only
            relations = Relations(
                np.r_[relations.offsets, relations.offsets[-1] + differences.offsets[1:]],
                np.r_[relations.members, differences.members],
            )
        self.relations = relations
        self.hidden = hidden.copy()
        self.choosable = choosable & ~hidden
        self.is_parent = _is_parent_entry(relations)
        self.sign = np.where(self.is_parent, 1.0, -1.0)  # per member entry
        self.cost = rank[relations.members] + PARENT_PENALTY * self.is_parent  # per member entry
        self.zeros = np.array(zeros, dtype=bool).reshape(len(zeros), len(hidden))
        if not len(zeros):
            self.zeros = np.zeros((1, len(hidden)), dtype=bool)
        self.of_cell = relations.by_cell(len(hidden))
        self.relation_of = relations.relation_of_member()
        members = relations.members[own]
        self.entries_of = Relations(  # the member entries of `relations` by cell
            np.r_[0, np.cumsum(np.bincount(members, minlength=len(hidden)))],
            np.argsort(members, kind="stable"),
        )
        self.parent_of = np.bincount(
            members[self.is_parent[own]], minlength=len(hidden)
        )  # how many relations each cell is the parent of
        self.hidden_count = np.bincount(
            self.relation_of[self.hidden[relations.members]], minlength=len(relations)
        )
        self.exposed: set[int] = set()
        self.added: list[int] = []  # hidden since the caller last looked
        self.n_hidden = 0  # hides so far: tells what a check or a build has not seen

    # -- 1. subtraction ---------------------------------------------------------------------------
    def hide(self, cell: int) -> None:
        self.hidden[cell] = True
        self.choosable[cell] = False
        self.hidden_count[self.of_cell[cell]] += 1
        self.added.append(cell)
        self.n_hidden += 1

    def subtract(self, newly_hidden: np.ndarray) -> None:
        """Hide a second cell in every relation with exactly one hidden cell, until none is left."""
        pending = list(np.concatenate([self.of_cell[c] for c in newly_hidden] or [[]]))
        while pending:
            relation = int(pending.pop())
            if self.hidden_count[relation] != 1:
                continue
            choice = self.cheapest(relation)
            if choice is None:
                members = self.relations[relation]
                self.exposed.update(int(c) for c in members[self.hidden[members]])
                continue
            self.hide(choice)
            pending += list(self.of_cell[choice])

    def cheapest(self, relation: int) -> int | None:
        """The choosable cell of this relation to hide; None when there is none."""
        entries = np.arange(self.relations.offsets[relation], self.relations.offsets[relation + 1])
        free = self.choosable[self.relations.members[entries]]
        return self.choose(self.relations.members[entries][free], self.cost[entries][free])

    def choose(
        self, cells: np.ndarray, cost: np.ndarray, zero: np.ndarray | None = None, frees=None
    ) -> int | None:
        """Which of these cells to hide (`cost`: of each cell's entry; a cell may come more than
        once); None when there is none. Preferred: a cell that is not zero in `zero` (the count
        that pins), then a part before a parent, then one that `frees` the pinned cell (its column
        is in the column space: hiding it adds a null vector), then one that also gives a second
        hidden cell to another relation (closing a cycle of hidden cells protects with fewer
        cells), then the lowest cost."""
        if not len(cells):
            return None
        order = np.argsort(cost, kind="stable")
        cells, first = np.unique(cells[order], return_index=True)  # each at its lowest cost
        cost = cost[order][first]
        is_zero = zero[cells] if zero is not None else np.zeros(len(cells), dtype=bool)
        rank = 2 * is_zero + (cost >= PARENT_PENALTY)
        best = rank == rank.min()
        cells, cost = cells[best], cost[best]
        lone = self.hidden_count[self.of_cell.members[_entries(self.of_cell, cells)]] == 1
        closes = np.bincount(
            np.repeat(np.arange(len(cells)), self.of_cell.sizes[cells]),
            weights=lone,
            minlength=len(cells),
        )
        stays = ~frees(cells) if frees is not None else np.zeros(len(cells), dtype=bool)
        return int(cells[np.lexsort((cost, -closes, stays))[0]])

    # -- 2. linear algebra ------------------------------------------------------------------------
    def protect_unit(self, cells: np.ndarray, relation_ids: np.ndarray) -> None:
        """Hide cells until no non-zero hidden count of this unit is pinned."""
        self.added.clear()
        entries = _entries(self.relations, relation_ids)
        may_move = (self.hidden | self.choosable)[self.relations.members[entries]]  # until done
        rows = np.unique(self.relation_of[entries[may_move]])  # the relations A_M may use
        freedoms = [
            _Freedom(self, cells, rows, len(relation_ids), self.zeros[count])
            for count in _counts_to_check(self.zeros[:, cells])
        ]
        while True:
            found = [(f.first_pinned(self.exposed), n) for n, f in enumerate(freedoms)]
            found = [(cell, n) for cell, n in found if cell is not None]
            if not found:
                if all([f.checked() for f in freedoms]):
                    return
                continue
            cell, n = min(found)
            freedom = freedoms[n]
            certificate = freedom.certificate(cell)
            if freedom.zeros_may_free(certificate):
                freedom.grow_zeros()
                continue
            choice = self.choose(
                *freedom.breaking(certificate), freedom.zero, freedom.in_column_space
            )
            if choice is None:
                self.exposed.add(cell)
                continue
            self.hide(choice)
            self.subtract(np.array([choice]))
            added, self.added = self.added, []
            for f in freedoms:
                f.extend(added)


class _Freedom:
    """The moving cells of one unit for one count as the columns of A_M (a row per relation of the
    unit that holds a cell that may move: the others are rows of zeros), with U, an orthonormal
    basis of its column space, W with A_M W = U, and which columns are pinned."""

    def __init__(self, state: _State, cells, relation_ids, scale, zero):
        self.state, self.cells, self.relation_ids, self.zero = state, cells, relation_ids, zero
        self.scale = scale  # the unit's number of relations, which tolerances grow with
        self.row = np.full(len(state.relations), -1)
        self.row[relation_ids] = np.arange(len(relation_ids))
        self.build()

    def build(self) -> None:
        """U and W from scratch: a pivoted QR per component of the moving cells that are the parent
        of at most one relation, then the others (hubs) all at once."""
        state = self.state
        hidden = self.cells[state.hidden[self.cells]]
        moving = hidden[~self.zero[hidden]]
        m = len(self.relation_ids)
        capacity = int((state.hidden[self.cells] | state.choosable[self.cells]).sum())  # may move
        self.column = np.full(len(state.hidden), -1)
        self.moving = np.zeros(capacity, dtype=np.int64)  # the cell of each column
        self.pinned = np.zeros(capacity, dtype=bool)
        self.U = np.zeros((m, min(m, capacity)), order="F")  # its first r columns in one piece
        self.W = np.zeros((capacity, min(m, capacity)))
        self.n = self.r = 0
        self.parts: tuple[list, list, list] = ([], [], [])  # rows, columns, signs of A_M
        self.outside_cells = np.zeros(0, dtype=np.int64)
        self.outside = np.zeros((m, 0))
        self.zeros_at = None  # (rank, hidden zeros) when the zeros that can grow were found
        self.checked_at = -1
        self.built_at = state.n_hidden
        hubs = state.parent_of[moving] >= 2
        edges = [0]  # where each component's directions start: U is block diagonal up to the last
        for component in _components(state, moving[~hubs]):
            self.add_component(component)
            edges.append(self.r)
        self.edges = np.array(edges)
        self.block = np.repeat(np.arange(len(edges) - 1), np.diff(edges))  # of each direction
        if hubs.any():
            self.add_hubs(moving[hubs])

    def column_of(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The columns of these cells: (local row, which cell, sign) of their entries."""
        state = self.state
        own = state.entries_of.members[_entries(state.entries_of, cells)]
        which = np.repeat(np.arange(len(cells)), state.entries_of.sizes[cells])
        return self.row[state.relation_of[own]], which, state.sign[own]

    def take(self, cells: np.ndarray, rows, which, signs) -> np.ndarray:
        """Give these cells (their columns: `column_of`) the next columns; their numbers."""
        columns = self.n + np.arange(len(cells))
        self.column[cells] = columns
        self.moving[columns] = cells
        self.n += len(cells)
        for part, values in zip(self.parts, (rows, columns[which], signs)):
            part.append(values)
        return columns

    def times(self, x: np.ndarray) -> np.ndarray:
        """A_M x."""
        rows, columns, signs = (np.concatenate(part) for part in self.parts)
        self.parts = ([rows], [columns], [signs])
        return np.bincount(rows, weights=signs * x[columns], minlength=len(self.relation_ids))

    def add_component(self, cells: np.ndarray) -> None:
        rows, which, signs = self.column_of(cells)
        columns = self.take(cells, rows, which, signs)
        used, local = np.unique(rows, return_inverse=True)
        matrix = np.zeros((len(used), len(cells)))
        matrix[local, which] = signs
        order, rank, q, inverse, tied = _triangular(matrix, TOLERANCE * max(matrix.shape))
        span, basic = slice(self.r, self.r + rank), columns[order[:rank]]
        self.U[used, span] = q
        self.W[basic, span] = inverse
        self.r += rank
        self.pinned[basic] = np.linalg.norm(tied, axis=1) <= TOLERANCE

    def add_hubs(self, cells: np.ndarray) -> None:
        """Add these cells' columns to A_M at once, as `add` one by one would (in a build): a
        pivoted QR of their parts outside the column space, a (−tied, 1) of its null vectors,
        whose parts on the columns before, −W (g_j − g tied_j), free the pinned cells they move."""
        rows, which, signs = self.column_of(cells)
        columns = self.take(cells, rows, which, signs)
        block = np.zeros((len(self.relation_ids), len(cells)))
        block[rows, which] = signs
        u, w = self.U[:, : self.r], self.W[: columns[0], : self.r]
        g = u.T @ block
        order, rank, q, inverse, tied = _triangular(block - u @ g, TOLERANCE * self.scale)
        pinned = np.flatnonzero(self.pinned[: columns[0]])
        moves = w[pinned] @ (g[:, order[rank:]] - g[:, order[:rank]] @ tied)
        self.pinned[pinned[(np.abs(moves) > TOLERANCE).any(axis=1)]] = False
        span, basic = slice(self.r, self.r + rank), columns[order[:rank]]
        self.U[:, span] = q
        self.W[: columns[0], span] = -w @ (g[:, order[:rank]] @ inverse)
        self.W[basic, span] = inverse
        self.r += rank
        self.pinned[basic] = np.linalg.norm(tied, axis=1) <= TOLERANCE

    def times_coordinates(self, matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
        """matrix @ x for x over U's directions, over the directions where x may be non-zero:
        the components' blocks it touches (a column touches few), then those added one by one."""
        touched = np.flatnonzero(np.bincount(self.block, x[: len(self.block)] != 0))
        spans = [slice(self.edges[b], self.edges[b + 1]) for b in touched]
        spans.append(slice(len(self.block), self.r))
        return sum((matrix[:, span] @ x[span] for span in spans), np.zeros(len(matrix)))

    def coordinates(self, cells: np.ndarray) -> np.ndarray:
        """Uᵀ a for the column a of each cell (a column each)."""
        rows, which, signs = self.column_of(cells)
        a = np.zeros((len(cells), len(rows)))
        a[which, np.arange(len(rows))] = signs
        return self.U[rows, : self.r].T @ a.T

    def in_column_space(self, cells: np.ndarray) -> np.ndarray:
        """Per cell, whether its column is in the column space of A_M (|a|² = |Uᵀ a|²)."""
        g = self.coordinates(cells)
        size = self.state.entries_of.sizes[cells]
        return size - (g * g).sum(axis=0) <= SHORTCUT * size

    def outside_of(self, cells: np.ndarray) -> np.ndarray:
        """The parts of these cells' columns outside the column space of A_M (a column each)."""
        rows, which, signs = self.column_of(cells)
        outside = np.zeros((len(self.relation_ids), len(cells)))
        outside[rows, which] = signs
        return outside - self.U[:, : self.r] @ self.coordinates(cells)

    def add(self, cell: int) -> None:
        """Add one hidden cell's column to A_M."""
        cells = np.array([cell])
        rows, which, signs = self.column_of(cells)
        g = signs @ self.U[rows, : self.r]  # the column's coordinates in U
        (column,) = self.take(cells, rows, which, signs)
        if len(rows) - g @ g > SHORTCUT * len(rows):
            residual = -self.times_coordinates(self.U, g)
            residual[rows] += signs
            beta = np.linalg.norm(residual)
            if beta > TOLERANCE * self.scale:
                self.W[:column, self.r] = -self.times_coordinates(self.W[:column], g) / beta
                self.W[column, self.r] = 1.0 / beta
                self.U[:, self.r] = unit = residual / beta
                self.r += 1
                self.pinned[column] = True  # a new direction of the column space: pinned
                self.outside -= np.outer(unit, unit @ self.outside)
                return
        pinned = np.flatnonzero(self.pinned[:column])  # a new null vector (−W g, 1) frees those
        moved = np.abs(self.times_coordinates(self.W[pinned, : self.r], g)) > TOLERANCE  # it moves
        self.pinned[pinned[moved]] = False

    def extend(self, cells: list[int]) -> None:
        for cell in cells:
            if not self.zero[cell]:
                self.add(cell)

    def first_pinned(self, exposed: set[int]) -> int | None:
        """The first pinned non-zero count's cell, leaving out those found exposed."""
        pinned = self.moving[: self.n][self.pinned[: self.n]]
        pinned = np.sort(pinned[~self.zero[pinned]])
        return next((int(c) for c in pinned if c not in exposed), None)

    def certificate(self, cell: int) -> np.ndarray:
        """y over the unit's relations with y·A_M = e_cell (the cell is pinned): U W[cell]ᵀ."""
        return self.times_coordinates(self.U, self.W[self.column[cell], : self.r])

    def breaking(self, certificate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The unit's choosable cells whose columns break the certificate (y·a ≠ 0), with the cost
        of each of their entries in relations the certificate weighs."""
        state = self.state
        cells = self.cells[state.choosable[self.cells]]
        entries = state.entries_of.members[_entries(state.entries_of, cells)]
        which = np.repeat(np.arange(len(cells)), state.entries_of.sizes[cells])
        weight = certificate[self.row[state.relation_of[entries]]]
        breaks = np.abs(np.bincount(which, state.sign[entries] * weight, len(cells))) > TOLERANCE
        used = breaks[which] & (np.abs(weight) > TOLERANCE)
        return cells[which[used]], state.cost[entries[used]]

    def hidden_zeros(self) -> np.ndarray:
        """The unit's hidden zeros that are not moving cells."""
        hidden = self.cells[self.state.hidden[self.cells]]
        return hidden[self.zero[hidden] & (self.column[hidden] < 0)]

    def zeros_may_free(self, certificate: np.ndarray) -> bool:
        """Whether a hidden zero, not a moving cell, breaks the certificate while some may have
        come to grow since they were last looked at (the column space grew or a zero was hidden
        since): if none breaks it, no zero that grows can free the cell."""
        zeros = self.hidden_zeros()
        if not len(zeros) or self.zeros_at == (self.r, len(zeros)):
            return False
        rows, which, signs = self.column_of(zeros)
        weights = np.bincount(which, weights=signs * certificate[rows], minlength=len(zeros))
        return bool((np.abs(weights) > TOLERANCE).any())

    def grow_zeros(self) -> None:
        """Make moving cells of the hidden zeros that can grow: those whose column is in the
        column space of A_M grow alone (d = (−W g, 1)); the others can only grow together, when
        the parts of their columns outside it cancel with non-negative weights (one small linear
        program, when those parts are linearly dependent)."""
        cells, outside = self.zero_residuals()
        grows = np.linalg.norm(outside, axis=0) <= TOLERANCE * self.scale
        rest = np.flatnonzero(~grows)
        if len(rest) >= 2:
            _, singular, vt = np.linalg.svd(np.linalg.qr(outside[:, rest], mode="r"))
            rank = int((singular > TOLERANCE * self.scale).sum())
            if rank < len(rest):
                grows[rest] = _growing(singular[:rank, None] * vt[:rank], np.ones(len(rest), bool))
        for cell in cells[grows]:
            self.add(int(cell))
        self.zeros_at = (self.r, len(self.hidden_zeros()))

    def zero_residuals(self) -> tuple[np.ndarray, np.ndarray]:
        """The hidden zeros that are not moving cells, and the parts of their columns outside the
        column space of A_M (kept up to date as columns are added)."""
        zeros = self.hidden_zeros()
        kept = np.isin(self.outside_cells, zeros)
        new = zeros[~np.isin(zeros, self.outside_cells)]
        self.outside_cells = np.r_[self.outside_cells[kept], new]
        self.outside = np.column_stack([self.outside[:, kept], self.outside_of(new)])
        return self.outside_cells, self.outside

    def checked(self) -> bool:
        """Whether a random null vector confirms that every non-pinned moving count is free;
        otherwise what it does not confirm is taken as pinned (or, when U has drifted, U and W
        are built again)."""
        state = self.state
        if self.checked_at == state.n_hidden or not self.n:
            return True
        z = np.random.default_rng(self.n).standard_normal(self.n)
        d = z - self.W[: self.n, : self.r] @ (self.U[:, : self.r].T @ self.times(z))
        if np.abs(self.times(d)).max(initial=0.0) > RESIDUAL * (1.0 + np.abs(d).max()):
            if self.built_at != state.n_hidden:
                self.build()
                return False
            doubtful = np.ones(self.n, dtype=bool)
        else:
            doubtful = np.abs(d) <= MOVES
        doubtful &= ~self.pinned[: self.n] & ~self.zero[self.moving[: self.n]]
        self.checked_at = state.n_hidden
        if doubtful.any():
            self.pinned[: self.n] |= doubtful
            return False
        return True


def _units(relations: Relations, n_cells: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(cells, relations) of each set of cells that relations connect (an indicator)."""
    if not len(relations):
        return []
    members, owners = relations.members, relations.relation_of_member()
    label = _connected_labels(members, owners, n_cells, len(relations))
    of_relation = label[relations.members[relations.offsets[:-1]]]
    in_relation = np.zeros(n_cells, dtype=bool)
    in_relation[members] = True
    cells = np.flatnonzero(in_relation)
    cell_order = cells[np.argsort(label[cells], kind="stable")]
    cell_starts = np.flatnonzero(np.r_[True, np.diff(label[cell_order]) != 0])
    relation_order = np.argsort(of_relation, kind="stable")
    relation_starts = np.flatnonzero(np.r_[True, np.diff(of_relation[relation_order]) != 0])
    return list(
        zip(np.split(cell_order, cell_starts[1:]), np.split(relation_order, relation_starts[1:]))
    )


def _components(state: _State, cells: np.ndarray) -> list[np.ndarray]:
    """These cells split into the sets that relations among them connect."""
    if not len(cells):
        return []
    entries = state.entries_of.members[_entries(state.entries_of, cells)]
    owners = state.relation_of[entries]
    index = np.full(len(state.hidden), -1)
    index[cells] = np.arange(len(cells))
    members = index[state.relations.members[entries]]
    label = _connected_labels(members, owners, len(cells), len(state.relations))
    order = np.argsort(label, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(label[order]) != 0])
    return [cells[part] for part in np.split(order, starts[1:])]


def _connected_labels(
    members: np.ndarray, owners: np.ndarray, n_cells: int, n_relations: int
) -> np.ndarray:
    """Per cell, the smallest cell of the set that relations connect it to (entry i: cell
    `members[i]` belongs to relation `owners[i]`)."""
    label = np.arange(n_cells)
    while True:  # each cell takes the smallest label of the relations it belongs to
        smallest = np.full(n_relations, n_cells)
        np.minimum.at(smallest, owners, label[members])
        updated = label.copy()
        np.minimum.at(updated, members, smallest[owners])
        if (updated == label).all():
            return label
        label = updated


def _triangular(matrix: np.ndarray, tolerance: float):
    """A pivoted QR, matrix[:, order] = q r (|r_ii| decreasing): the first `rank` columns of order
    span the column space; returns order, rank, q's first `rank` columns, r₁₁⁻¹ and tied = r₁₁⁻¹ r₁₂
    (the null vectors are (−tied t, t), so one of the first is pinned when its row of tied is 0)."""
    from scipy.linalg.lapack import dgeqp3, dorgqr, dtrtri  # when needed: 0.3 s to import

    packed, order, tau, _, _ = dgeqp3(matrix)
    rank = int((np.abs(packed.diagonal()) > tolerance).sum())
    inverse = np.triu(dtrtri(packed[:rank, :rank])[0]) if rank else np.zeros((0, 0))
    q = dorgqr(packed[:, :rank], tau[:rank])[0]
    return order - 1, rank, q, inverse, inverse @ packed[:rank, rank:]


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


def _counts_to_check(zeros: np.ndarray) -> list[int]:
    """The counts whose freedom needs checking, given their zeros over a unit's cells: one for
    each distinct pattern of zeros, leaving out a count that is zero everywhere, and one whose
    non-zero cells other counts with more zeros cover (a count with more zeros leaves fewer
    directions, so a cell free for it is free for this one: with a share's numerator and
    complement protected, so is its denominator)."""
    patterns = {}
    for count, row in enumerate(zeros):
        if not row.all():
            patterns.setdefault(row.tobytes(), count)
    counts = list(patterns.values())
    kept = []
    for count in counts:
        more = [c for c in counts if c != count and (zeros[c] >= zeros[count]).all()]
        if not more or (~zeros[count] & zeros[more].all(axis=0)).any():
            kept.append(count)
    return kept


def _entries(relations: Relations, relation_ids: np.ndarray) -> np.ndarray:
    """Positions in `relations.members` of the members of these relations."""
    starts, sizes = relations.offsets[relation_ids], relations.sizes[relation_ids]
    ends = np.cumsum(sizes)
    return np.repeat(starts - ends + sizes, sizes) + np.arange(ends[-1] if len(ends) else 0)


def _is_parent_entry(relations: Relations) -> np.ndarray:
    """Per member entry: whether it is its relation's parent (the first member)."""
    is_parent = np.zeros(len(relations.members), dtype=bool)
    is_parent[relations.offsets[:-1][relations.sizes > 0]] = True
    return is_parent
