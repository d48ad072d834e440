"""How much memory training a network needs, checked before anything is allocated.

The estimate counts what the loop allocates besides the data and the arrays of the
data's length made with it (the encoded targets, an epoch's order of the rows, and in
full-batch training a copy of its non-zero columns by column groups). With a chunk of
rows cut into at most S = PARTS parts, each with a gradient of its own and its own rows
of the chunk's buffers (*: only for rows stored by column groups, in full batches):

    parameters and the summed gradient          2 P
    each part's gradient                        S P
    each part's W_1 gradient, compacted *       S n_in h_1
    W_1's rows of the active inputs, gathered * n_in h_1
    the rows of a later column group, gathered  2 x rows x h_1
      and multiplied, all parts together *
    a chunk's product for the largest W, made   S max_l |W_l|
      before it is added to earlier chunks'
    optimizer state (momentum: 1 P, Adam: 2 P)  k P
    best weights (early stopping)               1 P
    checkpoint snapshot between writes          (1 + k) P
    a chunk's activations                       rows x (2 x sum of the layers' output
                                                widths, the input's not included
                                                (training and evaluation) + sum of hidden widths
                                                with dropout (dropped outputs) + D x the
                                                widest hidden layer (deltas))
    dropout masks of one chunk                  rows x sum of hidden widths
    a mini-batch chunk's gathered inputs and    rows x (n_in + n_out)
      targets (full batches are read in place)

all times the dtype's item size, where P is the parameter count, rows a chunk's, and
D = 2 delta buffers (1 with one hidden layer). Full-batch training first plans its
column groups (``column_groups.PLAN_BYTES`` of temporaries, freed before the loop
allocates): the estimate is the larger of the two.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError
from ..nn.column_groups import PLAN_BYTES
from ..nn.optimizers import Optimizer
from ..nn.parallel import PARTS
from ..nn.parameters import parameter_count
from ..nn.propagation import ROWS_PER_CHUNK

MEMINFO = Path("/proc/meminfo")


def training_bytes(
    widths: Sequence[int],
    itemsize: int,
    optimizer: Optimizer,
    dropout: bool = False,
    early_stopping: bool = False,
    checkpoint: bool = False,
    full_batch: bool = False,
    column_groups: bool = False,
) -> int:
    """Bytes training allocates for a network of ``widths`` (see above): the loop's, or
    in full batches the column groups' planning, if that needs more."""
    state = optimizer_state_copies(optimizer)
    copies = 2 + PARTS + state + early_stopping + (1 + state if checkpoint else 0)
    compact_gradients = column_groups * PARTS * widths[0] * widths[1]
    gathered_first_weights = column_groups * widths[0] * widths[1]
    later_groups = column_groups * 2 * ROWS_PER_CHUNK * widths[1]
    added_products = PARTS * max(fan_in * fan_out for fan_in, fan_out in pairwise(widths))
    hidden = list(widths[1:-1]) or [0]
    deltas = min(len(hidden), 2)
    activations = 2 * sum(widths[1:]) + dropout * sum(hidden) + deltas * max(hidden)
    gathered = (not full_batch) * (widths[0] + widths[-1])
    chunk = ROWS_PER_CHUNK * (activations + dropout * sum(hidden) + gathered)
    buffers = compact_gradients + gathered_first_weights + later_groups + added_products + chunk
    loop = (copies * parameter_count(widths) + buffers) * itemsize
    return max(loop, PLAN_BYTES) if full_batch else loop


def optimizer_state_copies(optimizer: Optimizer) -> int:
    """Arrays of the parameters' size the optimizer keeps (Adam 2, momentum 1, else 0):
    the arrays in the state its ``init`` makes."""
    return sum(isinstance(value, np.ndarray) for value in optimizer.init(np.empty(0)).values())


def available_bytes() -> int | None:
    """Memory the system can give without swapping (Linux's MemAvailable), or None."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


SMALLER_LAYERS = "choose smaller layers"
MINI_BATCHES = "train in mini-batches (batch_size), which copy none of X, or on fewer rows"


def check_fits(
    needed: int, what: str = "training this network", advice: str = SMALLER_LAYERS
) -> None:
    """InvalidArgumentError, naming ``what`` and ending with ``advice``, when ``needed``
    bytes exceed the available memory."""
    available = available_bytes()
    if available is not None and needed > available:
        raise InvalidArgumentError(
            f"{what} needs about {_size(needed)} of memory, but only {_size(available)} "
            f"is available; {advice}"
        )


def _size(count: int) -> str:
    """'2.5 GiB' for 2.5 * 2**30."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = min(int(math.log(max(count, 1), 1024)), len(units) - 1)
    return f"{count} bytes" if power == 0 else f"{count / 1024**power:.1f} {units[power]}"
