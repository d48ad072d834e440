"""Training rows and how they are handed to the network, batch by batch.

A Dataset names rows of a feature matrix (all of them, or a subset by index) without
copying it; a Feeder cuts a batch into chunks of at most a fixed number of rows, reading
contiguous rows as views and gathering permuted ones into a buffer it reuses.

Sample weights, when there are any, are stored normalised to a mean of 1 over the
dataset's rows: a batch of m rows then has the objective (1/m) sum_i w_i L_i; the
batches' objectives, each weighted by its share m/N of the N rows (a plain mean when the
batches are the same size), add up to the weighted mean loss sum w_i L_i / sum w_i, and
the loop's 1/m scales stay as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError
from ..nn.column_groups import GroupedColumns
from ..validation import python_name


@dataclass(frozen=True)
class Dataset:
    """Rows of a feature matrix with encoded targets.

    ``rows`` selects rows of ``x`` (None: all, in order). ``active`` names the input
    columns the rows use (outside them they are all zero): a range of the columns of
    ``x``, which are the inputs; or the indices of the inputs that ``x``, a copy of
    just those columns stored by column groups, holds in that order (then ``rows`` is
    None: the copy is made for full batches of every row). ``weights`` (None:
    unweighted) holds a sample weight per row of ``x``, with mean 1 over ``rows`` (see
    ``normalised_weights``).
    """

    x: np.ndarray | GroupedColumns
    targets: np.ndarray
    active: slice | np.ndarray
    rows: np.ndarray | None = None
    weights: np.ndarray | None = None

    def row_range(self, start: int, stop: int):
        """Rows start:stop of ``x`` in the active columns (a view)."""
        if isinstance(self.active, slice):
            return self.x[start:stop, self.active]
        return self.x[start:stop]

    def __len__(self) -> int:
        return len(self.x) if self.rows is None else len(self.rows)

    def all_rows(self) -> slice | np.ndarray:
        return slice(0, len(self.x)) if self.rows is None else self.rows


def normalised_weights(
    weights: np.ndarray, rows: np.ndarray | None, dtype: np.dtype, name: str = "sample_weight"
) -> np.ndarray:
    """``weights`` (one per row of the data, non-negative, finite) of ``rows`` (None:
    all) divided by their mean over those rows, in ``dtype``; the other rows, not the
    set's, weigh 0. Refused when the rows weigh nothing.

    The mean is taken of the weights divided by the largest of them, w / max w, so that
    neither their sum (of weights near the float64 limit) nor n / sum (of weights near
    its smallest numbers) can overflow: w / mean w = (w / max w) n / sum (w / max w)."""
    chosen = slice(None) if rows is None else rows
    scaled = weights[chosen].astype(np.float64)
    largest = float(np.max(scaled, initial=0.0))
    if not largest > 0:
        raise InvalidArgumentError(
            f"{name} is zero for all {len(scaled)} rows used here; give some of them a "
            "positive weight"
        )
    scaled /= largest
    normalised = np.zeros(len(weights), dtype)
    normalised[chosen] = scaled * (len(scaled) / float(np.sum(scaled)))
    return normalised


def split_rows(labels: np.ndarray, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (kept, held-out) row indices, holding out ``fraction`` of the rows, each
    label's share in proportion (``_held_out_sizes``)."""
    counts, sizes = _held_out_sizes(labels, fraction)
    _check_held_out(int(sizes.sum()), counts, fraction, python_name)
    rows_of = np.split(np.argsort(labels, kind="stable"), np.cumsum(counts)[:-1])  # each sorted
    held_out = [rng.permutation(rows)[:size] for rows, size in zip(rows_of, sizes, strict=True)]
    held_out = np.sort(np.concatenate(held_out))
    return np.setdiff1d(np.arange(len(labels)), held_out), held_out


def check_validation_split(
    labels: np.ndarray, fraction: float, spell: Callable[[str], str | None] = python_name
) -> int:
    """Holding out ``fraction`` of the rows (``_held_out_sizes``) leaves a non-empty
    validation set (an error names the fraction as ``spell`` does): the number of rows
    held out."""
    counts, sizes = _held_out_sizes(labels, fraction)
    held = int(sizes.sum())
    _check_held_out(held, counts, fraction, spell)
    return held


def _check_held_out(held: int, counts: np.ndarray, fraction: float, spell) -> None:
    """One group of rows is all the rows (a regression's); else each group is a class."""
    if held == 0:
        if len(counts) == 1:
            rule, single = "at least one row stays for training", "there is a single row"
        else:
            rule = "each class keeps at least one row for training"
            single = "each class has a single row"
        cannot = "choose a larger fraction" if counts.max() > 1 else f"no fraction can: {single}"
        raise InvalidArgumentError(
            f"{spell('validation_fraction')} {fraction} holds out 0 of {counts.sum()} rows "
            f"for validation ({rule}); {cannot}"
        )


def _held_out_sizes(labels: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """For each label of ``labels`` (in sorted order), how many rows it has and how many
    of them ``fraction`` holds out.

    Of n rows, H = floor(fraction n + 1/2) are held out (rounded, halves up; fraction n
    first rounded to 9 decimals, so that 0.29 x 50 is 14.5), shared by largest
    remainders: label c, with n_c rows, first gets floor(fraction n_c), and the rest go
    one each to the labels with the largest fractional parts of fraction n_c (the
    smaller label first in a tie). Every label keeps at least one row for training, so a
    label's share is at most n_c - 1; what that cap takes from a label goes on to the
    others, in the same order, as evenly as their rows allow.
    """
    counts = np.unique(labels, return_counts=True)[1]
    quotas = np.round(fraction * counts, 9)
    sizes = np.minimum(np.floor(quotas).astype(np.int64), counts - 1)
    order = np.argsort(np.floor(quotas) - quotas, kind="stable")  # largest remainder first
    rest = math.floor(round(fraction * len(labels), 9) + 0.5) - int(sizes.sum())
    while rest > 0 and (room := order[sizes[order] < counts[order] - 1]).size:
        spare = counts[room] - 1 - sizes[room]
        given = np.minimum(spare, max(1, rest // len(room)))
        given = np.clip(rest - (np.cumsum(given) - given), 0, given)  # no more than rest
        sizes[room] += given
        rest -= int(given.sum())
    return counts, sizes


class Gathered:
    """Rows ``rows`` of ``source`` (in ``columns``, for a matrix), gathered into
    ``buffer`` only when a range of them is asked for: ``chunk[a:b]`` copies rows
    ``rows[a:b]`` into ``buffer[a:b]`` and returns that part. Each part of a chunk asks
    for its own range in its own thread, so the parts gather side by side and none
    waits for the whole chunk to be gathered."""

    def __init__(self, source: np.ndarray, rows: np.ndarray, buffer: np.ndarray,
                 columns: slice | np.ndarray = slice(None)):  # fmt: skip
        self.source, self.rows, self.columns = source, rows, columns
        self.buffer = buffer[: len(rows)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, span: slice) -> np.ndarray:
        if not isinstance(span, slice):
            raise TypeError(f"a gathered chunk is read by ranges of rows, not {span!r}")
        # mode="clip" writes straight into the buffer ("raise" copies through a temporary,
        # 3x slower); the rows are row numbers of the source by construction
        out = np.take(self.source, self.rows[span], axis=0, out=self.buffer[span], mode="clip")
        return out if out.ndim == 1 else out[:, self.columns]


Chunk = tuple[np.ndarray | GroupedColumns | Gathered, np.ndarray | Gathered, np.ndarray | None]


class Feeder:
    """Cuts a batch into chunks of at most ``rows`` rows and hands them out as
    (features, targets, weights or None): views of contiguous rows, or permuted rows
    to be gathered into reused buffers as the parts ask for them (``Gathered``).

    With ``distort`` (a function writing a distorted copy of a chunk into its second
    argument), each chunk is gathered whole and handed out distorted instead; the data
    is never modified.
    """

    def __init__(self, data: Dataset, rows: int, distort=None):
        self.data = data
        self.rows = rows
        self.distort = distort
        self.x_buffer = self.t_buffer = self.distorted = None

    def chunks(self, batch: slice | np.ndarray) -> Iterator[Chunk]:
        data, step = self.data, self.rows
        if isinstance(batch, slice):
            for start in range(batch.start, batch.stop, step):
                stop = min(start + step, batch.stop)
                weights = None if data.weights is None else data.weights[start:stop]
                x = self._distorted(data.row_range(start, stop))
                yield x, data.targets[start:stop], weights
            return
        for start in range(0, len(batch), step):
            x, t, weights = self._gather(batch[start : start + step])
            yield self._distorted(x), t, weights

    def _gather(self, rows: np.ndarray) -> Chunk:
        data = self.data  # (gathered rows come from an array: a grouped copy is read whole)
        if self.x_buffer is None:
            self.x_buffer = np.empty((self.rows, data.x.shape[1]), data.x.dtype)
            self.t_buffer = np.empty((self.rows, *data.targets.shape[1:]), data.targets.dtype)
        x = Gathered(data.x, rows, self.x_buffer, data.active)
        t = Gathered(data.targets, rows, self.t_buffer)
        weights = None if data.weights is None else data.weights[rows]
        return x, t, weights

    def _distorted(self, x: np.ndarray | Gathered) -> np.ndarray | Gathered:
        if self.distort is None:
            return x
        whole = x[: len(x)]  # distortions are drawn for the whole chunk, in order
        if self.distorted is None:
            self.distorted = np.empty((self.rows, whole.shape[1]), whole.dtype)
        out = self.distorted[: len(whole)]
        self.distort(whole, out)
        return out
