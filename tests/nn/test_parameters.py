"""Parameters: per-layer weight and bias views into one flat array."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.nn.parameters import Parameters


@pytest.fixture
def parameters():
    return Parameters((4, 3, 2), np.dtype(np.float32))


def test_shapes_are_batch_first_and_the_count_is_every_weight_and_bias(parameters):
    assert [layer.weight.shape for layer in parameters.layers] == [(4, 3), (3, 2)]
    assert [layer.bias.shape for layer in parameters.layers] == [(3,), (2,)]
    assert parameters.count == parameters.flat.size == 4 * 3 + 3 * 2 + 3 + 2
    assert parameters.flat.dtype == np.float32 and np.all(parameters.flat == 0)


def test_the_flat_array_holds_the_weights_in_layer_order_then_the_biases(parameters):
    parameters.flat[:] = np.arange(parameters.count)
    first, second = parameters.layers
    assert first.weight.tolist() == np.arange(12).reshape(4, 3).tolist()
    assert second.weight.tolist() == np.arange(12, 18).reshape(3, 2).tolist()
    assert first.bias.tolist() == [18, 19, 20]
    assert second.bias.tolist() == [21, 22]
    assert parameters.weights.tolist() == list(range(18))


def test_views_share_the_flat_buffer_both_ways(parameters):
    first, second = parameters.layers
    first.weight[1, 2] = 7.0
    second.bias[...] = [-1.0, -2.0]
    assert parameters.flat[1 * 3 + 2] == 7.0
    assert parameters.flat[-2:].tolist() == [-1.0, -2.0]
    parameters.flat *= 2
    assert first.weight[1, 2] == 14.0 and second.bias.tolist() == [-2.0, -4.0]
    for layer in parameters.layers:
        assert np.shares_memory(layer.weight, parameters.flat)
        assert np.shares_memory(layer.bias, parameters.flat)


def test_copy_and_zeros_like_are_independent_twins(parameters):
    parameters.flat[:] = 1.5
    twin, zeros = parameters.copy(), parameters.zeros_like()
    assert twin.widths == zeros.widths == (4, 3, 2)
    assert twin.flat.dtype == zeros.flat.dtype == np.float32
    assert np.all(twin.flat == 1.5) and np.all(zeros.flat == 0)
    twin.layers[0].weight[0, 0] = 9.0
    assert parameters.layers[0].weight[0, 0] == 1.5
    assert not np.shares_memory(twin.flat, parameters.flat)
