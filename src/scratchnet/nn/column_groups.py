"""Training rows stored by groups of columns, each group keeping only the rows that use it.

Most pixels of a digit image are blank, and many of the columns that are not blank in
every row are inked in only a few. Sort the active columns from the most used to the
least used and cut them into consecutive groups C_0, C_1, ...; group g keeps R_g, the
rows with a non-zero value in C_g (every row for g = 0), and their values x[R_g, C_g].
A row outside R_g is zero in C_g, so with W_1's rows in the same column order

    x @ W_1          = x[:, C_0] @ W_1[C_0] + sum over g > 0 of x[R_g, C_g] @ W_1[C_g]
                       added into the rows R_g
    (x.T @ delta)[C_g] = x[R_g, C_g].T @ delta[R_g]

and the products touch sum_g |R_g| |C_g| values instead of n |C|: for the tutorial's
digits 1 and 2, four groups hold 0.65 of the values of a copy of the 637 active columns
(0.53 of all 784). Each later group also gathers and scatters |R_g| rows of the hidden
width; ``plan_groups`` chooses the cuts that make the products and that traffic cheapest
together (one group is a plain compacted copy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK = 16  # group boundaries fall every BLOCK columns of the sorted order (or wider
MAX_BLOCKS = 64  # blocks, for more than BLOCK x MAX_BLOCKS columns: the plan stays quick)
MAX_GROUPS = 4
ROW_PRICE = 32  # gathering and scattering a row of a later group costs about as much as
# multiplying this many more of its columns (measured on the tutorial's step)
PLAN_ROWS = 4096  # the plan counts the rows using each group in this many rows, spread out
VALUES_AT_ONCE = 1 << 20  # values scanned per pass: temporaries stay small
PLAN_BYTES = 5 * VALUES_AT_ONCE  # what planning holds at most at once: a few booleans per
# value of one pass (4.2 MiB measured on 784 columns), freed before training starts


@dataclass(frozen=True)
class Plan:
    """Where to cut ``order`` (the active columns, most used first) into groups: group k
    holds ``order[bounds[k]:bounds[k + 1]]``; ``work`` is the expected products' size
    plus the rows' price, in multiplications per hidden unit."""

    order: np.ndarray
    bounds: tuple[int, ...]
    work: float

    def copy_bytes(self, itemsize: int) -> int:
        """About the bytes of the copy ``grouped`` makes by this plan, a little over: its
        values, which ``work`` counts, and for each row of a later group ROW_PRICE more
        (a price in multiplications, larger than the row's index)."""
        return math.ceil(self.work) * itemsize


@dataclass(frozen=True)
class Group:
    """Columns ``start:stop`` of the grouped order, the data rows that use them (None:
    all rows) and those rows' values there."""

    start: int
    stop: int
    rows: np.ndarray | None
    values: np.ndarray


def plan_groups(x: np.ndarray) -> Plan:
    """The cheapest cut of the non-zero columns of ``x`` into at most MAX_GROUPS groups,
    judged on PLAN_ROWS rows spread over ``x``."""
    order = _by_use(x)
    if len(order) == 0:
        return Plan(order, (0, 0), 0.0)
    sample = x[:: max(1, len(x) // PLAN_ROWS)]
    block = max(BLOCK, -(-len(order) // MAX_BLOCKS))
    users = _users_of_spans(_blocks_touched(sample, order, block)) * (len(x) / len(sample))
    ends = [*range(0, len(order), block), len(order)]  # where block k starts; the end
    n_blocks = len(ends) - 1

    def later(i: int, j: int) -> float:
        """The work of a later group of blocks i..j-1: its rows times its columns, plus
        the price of its rows."""
        return (ends[j] - ends[i] + ROW_PRICE) * users[i, j]

    best = {(1, j): (ends[j] * len(x), 0) for j in range(1, n_blocks + 1)}
    for groups in range(2, min(MAX_GROUPS, n_blocks) + 1):
        for j in range(groups, n_blocks + 1):
            best[groups, j] = min(
                (best[groups - 1, i][0] + later(i, j), i) for i in range(groups - 1, j)
            )
    groups = min(range(1, min(MAX_GROUPS, n_blocks) + 1), key=lambda g: best[g, n_blocks][0])
    cuts = [n_blocks]
    for g in range(groups, 0, -1):
        cuts.append(best[g, cuts[-1]][1])
    return Plan(order, tuple(ends[k] for k in reversed(cuts)), float(best[groups, n_blocks][0]))


def _by_use(x: np.ndarray) -> np.ndarray:
    """The columns of ``x`` with a non-zero value, sorted by how many rows have one
    there, most first (ties in column order)."""
    counts = np.zeros(x.shape[1], dtype=np.int64)
    for rows in _passes(x):
        counts += np.count_nonzero(x[rows], axis=0)
    order = np.argsort(-counts, kind="stable")
    return order[: np.count_nonzero(counts)]


def _passes(x: np.ndarray) -> list[slice]:
    """Consecutive row ranges of ``x`` holding about VALUES_AT_ONCE values each."""
    step = max(1, VALUES_AT_ONCE // max(x.shape[1], 1))
    return [slice(start, start + step) for start in range(0, len(x), step)]


def _blocks_touched(x: np.ndarray, order: np.ndarray, block: int) -> np.ndarray:
    """(blocks of ``block`` columns of ``order``, rows of ``x``): whether the row has a
    non-zero value in the block."""
    n_blocks = -(-len(order) // block)
    touched = np.zeros((n_blocks, len(x)), dtype=bool)
    for rows in _passes(x):
        nonzero = _nonzero_in(x[rows], order, n_blocks * block)
        touched[:, rows] = nonzero.reshape(len(nonzero), n_blocks, block).any(axis=2).T
    return touched


def _nonzero_in(rows: np.ndarray, columns: np.ndarray, width: int) -> np.ndarray:
    """(rows, width) booleans: whether each of ``columns`` of the row is non-zero (False
    beyond them)."""
    nonzero = np.zeros((len(rows), width), dtype=bool)
    np.take(rows != 0, columns, axis=1, out=nonzero[:, : len(columns)])
    return nonzero


def _users_of_spans(touched: np.ndarray) -> np.ndarray:
    """[i, j] for i < j: how many rows (columns of ``touched``) touch a block in i..j-1,
    i.e. whose first touched block from i on comes before j."""
    n_blocks, n_rows = touched.shape
    users = np.zeros((n_blocks + 1, n_blocks + 1))
    first = np.full(n_rows, n_blocks)  # n_blocks: touches none from i on
    for i in range(n_blocks - 1, -1, -1):
        first[touched[i]] = i
        users[i, i + 1 :] = np.cumsum(np.bincount(first, minlength=n_blocks + 1))[i:n_blocks]
    return users


class GroupedColumns:
    """Rows ``start:stop`` of data stored by column groups (see the module's text); the
    columns are the plan's order. ``grouped(x, plan)`` makes the whole; slicing rows
    (in steps of 1) gives views. Training reads it in row ranges only: full batches."""

    def __init__(self, groups: list[Group], start: int = 0, stop: int | None = None):
        self.groups = groups  # the first holds every row
        self.start, self.stop = start, len(groups[0].values) if stop is None else stop

    @property
    def shape(self) -> tuple[int, int]:
        return (self.stop - self.start, self.groups[-1].stop)

    @property
    def dtype(self) -> np.dtype:
        return self.groups[0].values.dtype

    @property
    def nbytes(self) -> int:
        """The values' bytes and their groups' row indices'."""
        rows = sum(group.rows.nbytes for group in self.groups if group.rows is not None)
        return rows + sum(group.values.nbytes for group in self.groups)

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, rows: slice) -> GroupedColumns:
        if not isinstance(rows, slice):
            raise TypeError(f"grouped rows are sliced, not indexed by {type(rows).__name__}")
        start, stop, step = rows.indices(len(self))
        if step != 1:
            raise IndexError("grouped rows are sliced in steps of 1")
        stop = max(start, stop)
        return GroupedColumns(self.groups, self.start + start, self.start + stop)

    def matmul_into(self, weight: np.ndarray, out: np.ndarray) -> None:
        """out = these rows @ weight, for ``weight`` (columns, k) in the grouped order."""
        for group, local, values in self._pieces():
            part = weight[group.start : group.stop]
            if local is None:
                np.matmul(values, part, out=out)
            elif len(local):
                out[local] += values @ part

    def transposed_matmul_into(self, delta: np.ndarray, out: np.ndarray, accumulate: bool) -> None:
        """out = these rows.T @ delta (or out += it, with ``accumulate``)."""
        for group, local, values in self._pieces():
            rows = out[group.start : group.stop]
            right = delta if local is None else delta[local]
            if accumulate:
                if len(right):
                    rows += values.T @ right
            else:
                np.matmul(values.T, right, out=rows)

    def _pieces(self):
        """(group, local rows or None for all, their values) for rows start:stop."""
        for group in self.groups:
            if group.rows is None:
                yield group, None, group.values[self.start : self.stop]
                continue
            low, high = np.searchsorted(group.rows, (self.start, self.stop))
            yield group, group.rows[low:high] - self.start, group.values[low:high]


def grouped(x: np.ndarray, plan: Plan) -> GroupedColumns:
    """The columns ``plan.order`` of ``x`` stored by the plan's groups."""
    spans = list(zip(plan.bounds[:-1], plan.bounds[1:], strict=True))
    rows = _rows_using(x, plan.order, spans[1:]) if len(spans) > 1 else []
    groups = [Group(0, spans[0][1], None, np.take(x, plan.order[: spans[0][1]], axis=1))]
    for (start, stop), users in zip(spans[1:], rows, strict=True):
        groups.append(Group(start, stop, users, x[np.ix_(users, plan.order[start:stop])]))
    return GroupedColumns(groups)


def _rows_using(x: np.ndarray, order: np.ndarray, spans: list[tuple[int, int]]) -> list:
    """For each span of ``order``, the rows of ``x`` with a non-zero value there."""
    found: list[list[np.ndarray]] = [[] for _ in spans]
    for rows in _passes(x):
        nonzero = _nonzero_in(x[rows], order, len(order))
        for users, (low, high) in zip(found, spans, strict=True):
            users.append(rows.start + np.flatnonzero(nonzero[:, low:high].any(axis=1)))
    return [np.concatenate(users) if users else np.zeros(0, np.intp) for users in found]
