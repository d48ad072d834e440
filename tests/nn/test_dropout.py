"""Inverted dropout masks: 0 with probability rate, else 1 / (1 - rate)."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.nn.dropout import Dropout


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_masks_drop_the_rate_and_keep_the_expected_output(rate):
    dropout = Dropout(rate, hidden_widths=(300, 200), rows=1000, dtype=np.dtype(np.float64))
    masks = dropout.draw(np.random.default_rng(0), 1000)
    assert [mask.shape for mask in masks] == [(1000, 300), (1000, 200)]
    for mask in masks:
        assert set(np.unique(mask)) == {0.0, 1 / (1 - rate)}
        # 200,000 or more Bernoulli draws: the share of zeros within 0.5 points
        assert np.mean(mask == 0) == pytest.approx(rate, abs=0.005)
        assert mask.mean() == pytest.approx(1.0, abs=0.02)


def test_masks_follow_the_generator_and_differ_between_draws():
    rate = 0.3
    dropout = Dropout(rate, (5,), rows=4, dtype=np.dtype(np.float32))
    (first,) = [mask.copy() for mask in dropout.draw(np.random.default_rng(1), 4)]
    expected = np.random.default_rng(1).random((4, 5)) >= rate
    np.testing.assert_array_equal(first, expected / np.float32(1 - rate))
    assert first.dtype == np.float32


def test_a_short_batch_fills_only_its_rows():
    dropout = Dropout(0.5, (3,), rows=8, dtype=np.dtype(np.float64))
    dropout.masks[0][:] = -1.0
    (mask,) = dropout.draw(np.random.default_rng(2), 5)
    assert np.all(mask[5:] == -1.0)
    expected = (np.random.default_rng(2).random((5, 3)) >= 0.5) * 2.0
    np.testing.assert_array_equal(mask[:5], expected)
