"""Initial weights: each scheme's distribution on a large draw, and the tutorial's order."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.errors import InvalidArgumentError
from scratchnet.nn.initializers import INITIALIZERS, get_initializer, glorot, he, lecun

FAN_IN, FAN_OUT = 400, 500  # 200,000 draws: sample moments within a few per mille


def draw(initializer, seed=0):
    return initializer(FAN_IN, FAN_OUT, np.random.default_rng(seed))


@pytest.mark.parametrize(
    ("initializer", "variance"),
    [(lecun, 1 / FAN_IN), (he, 2 / FAN_IN), (glorot, 2 / (FAN_IN + FAN_OUT))],
    ids=["lecun", "he", "glorot"],
)
def test_each_scheme_has_zero_mean_and_its_variance(initializer, variance):
    weights = draw(initializer)
    assert weights.shape == (FAN_IN, FAN_OUT)
    # standard errors of the sample mean and variance over 200,000 draws: about 0.2%
    assert abs(weights.mean()) < 0.01 * np.sqrt(variance)
    assert weights.var() == pytest.approx(variance, rel=0.02)


@pytest.mark.parametrize("initializer", [lecun, he], ids=["lecun", "he"])
def test_normal_schemes_are_gaussian(initializer):
    standardised = draw(initializer) / draw(initializer).std()
    # a normal distribution has kurtosis 3 and 68.3% of its mass within one sigma
    assert np.mean(standardised**4) == pytest.approx(3.0, rel=0.03)
    assert np.mean(np.abs(standardised) < 1) == pytest.approx(0.6827, abs=0.005)


def test_glorot_is_uniform_within_its_bounds():
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    weights = draw(glorot)
    assert -limit <= weights.min() < -0.999 * limit
    assert 0.999 * limit < weights.max() <= limit
    counts, _ = np.histogram(weights, bins=10, range=(-limit, limit))
    np.testing.assert_allclose(counts / weights.size, 0.1, atol=0.003)


def test_lecun_replays_the_tutorials_randn_in_its_row_order():
    """The tutorial draws randn(fan_out, fan_in) / sqrt(fan_in) from its RandomState."""
    expected = np.random.RandomState(42).randn(196, 784) / np.sqrt(784)
    weights = lecun(784, 196, np.random.RandomState(42))
    assert np.array_equal(weights, expected.T)


def test_the_same_generator_state_gives_the_same_weights_and_another_seed_others():
    np.testing.assert_array_equal(draw(he, seed=3), draw(he, seed=3))
    assert np.corrcoef(draw(he, seed=3).ravel(), draw(he, seed=4).ravel())[0, 1] < 0.01


def test_initializers_are_found_by_name_and_unknown_names_are_refused():
    assert {name: get_initializer(name) for name in INITIALIZERS} == {
        "lecun": lecun,
        "he": he,
        "glorot": glorot,
    }
    with pytest.raises(InvalidArgumentError, match="unknown init 'zeros'; choose from lecun"):
        get_initializer("zeros")
