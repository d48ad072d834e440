"""Inverted dropout for hidden layers, active only while training.

Each hidden unit is kept with probability 1 - rate and scaled by 1 / (1 - rate):
``mask = [u >= rate] / (1 - rate)`` with u ~ U[0, 1), so a unit's expected output is
unchanged and prediction needs no rescaling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Dropout:
    """Masks for batches of at most ``rows`` samples, one per hidden layer.

    ``rate`` is checked at the public boundary (``NeuralNet(dropout=...)``).
    """

    def __init__(self, rate: float, hidden_widths: Sequence[int], rows: int, dtype: np.dtype):
        assert 0 < rate < 1, rate
        self.rate = rate
        self.masks = [np.empty((rows, width), dtype) for width in hidden_widths]

    def draw(self, rng, m: int) -> list[np.ndarray]:
        """Fresh masks for a batch of ``m`` rows."""
        for mask in self.masks:
            kept = rng.random(mask[:m].shape) >= self.rate
            np.multiply(kept, 1 / (1 - self.rate), out=mask[:m])
        return self.masks
