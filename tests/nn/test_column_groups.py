"""Rows stored by column groups: the plan against hand-counted work, the products and
gathered rows against plain NumPy on the dense columns."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.nn.column_groups import (
    BLOCK,
    MAX_BLOCKS,
    PLAN_BYTES,
    ROW_PRICE,
    grouped,
    plan_groups,
)


def sparse_images(m=300, n=80, seed=0):
    """Rows whose column j is non-zero with a probability falling from 1 to 0.002 (in a
    shuffled column order), and eight columns zero everywhere, like digit images."""
    rng = np.random.default_rng(seed)
    use = np.geomspace(1.0, 0.002, n)[rng.permutation(n)]
    x = rng.uniform(0.1, 1.0, (m, n)) * (rng.random((m, n)) < use)
    x[:, rng.choice(n, 8, replace=False)] = 0.0
    return x


def test_a_block_of_columns_one_row_uses_becomes_a_group_of_that_row():
    """16 columns every row uses, 16 only row 7 uses, 8 blank: one group would multiply
    32 columns of 100 rows (3200); two multiply 16 x 100 + 16 x 1 and pay one row's price."""
    assert BLOCK == 16
    x = np.zeros((100, 40))
    x[:, 8:24] = 1.0
    x[7, [0, *range(24, 39)]] = 2.0
    plan = plan_groups(x)
    assert plan.order.tolist() == [*range(8, 24), 0, *range(24, 39)]
    assert plan.bounds == (0, 16, 32)
    assert plan.work == 16 * 100 + (16 + ROW_PRICE) * 1
    data = grouped(x, plan)
    assert data.groups[0].rows is None and data.groups[1].rows.tolist() == [7]
    np.testing.assert_array_equal(data.groups[1].values, x[[7]][:, plan.order[16:]])
    assert data.nbytes == (100 * 16 + 16) * 8 + 8  # values, and the later group's one row index


def test_columns_every_row_uses_stay_one_group():
    x = np.random.default_rng(3).uniform(0.5, 1.0, (200, 50))
    x[:, 10] = 0.0
    plan = plan_groups(x)
    assert plan.bounds == (0, 49) and 10 not in plan.order
    assert plan.work == 200 * 49


def test_data_without_a_non_zero_value_has_no_columns():
    plan = plan_groups(np.zeros((5, 4)))
    assert plan.bounds == (0, 0) and plan.order.size == 0
    data = grouped(np.zeros((5, 4)), plan)
    out = np.full((5, 3), np.nan)
    data.matmul_into(np.zeros((0, 3)), out)
    assert np.all(out == 0)


@pytest.fixture
def stored():
    x = sparse_images()
    plan = plan_groups(x)
    assert len(plan.bounds) > 3  # at least three groups to exercise
    return x[:, plan.order], grouped(x, plan)


@pytest.mark.parametrize("rows", [slice(None), slice(0, 1), slice(37, 250), slice(299, 300)])
def test_products_of_any_row_range_are_numpys(stored, rows):
    dense, data = stored
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(dense.shape[1], 5))
    delta = rng.normal(size=(len(dense[rows]), 5))
    view = data[rows]
    assert view.shape == dense[rows].shape and len(view) == len(dense[rows])
    out = np.full((len(view), 5), np.nan)
    view.matmul_into(weight, out)
    np.testing.assert_allclose(out, dense[rows] @ weight, rtol=1e-13, atol=1e-14)
    gradient = np.full((dense.shape[1], 5), np.nan)
    view.transposed_matmul_into(delta, gradient, accumulate=False)
    np.testing.assert_allclose(gradient, dense[rows].T @ delta, rtol=1e-13, atol=1e-14)
    view.transposed_matmul_into(delta, gradient, accumulate=True)
    np.testing.assert_allclose(gradient, 2 * dense[rows].T @ delta, rtol=1e-13, atol=1e-14)


def test_a_row_range_no_later_group_reaches_still_writes_every_output():
    """Rows 5 to 7 of one-row data: the later groups hold none of them."""
    x = np.zeros((100, 40))
    x[:, 8:24] = 1.0
    x[7, 24:40] = 2.0
    data = grouped(x, plan := plan_groups(x))
    view = data[2:5]
    gradient = np.full((32, 2), np.nan)
    view.transposed_matmul_into(np.ones((3, 2)), gradient, accumulate=False)
    np.testing.assert_array_equal(gradient, x[2:5][:, plan.order].T @ np.ones((3, 2)))


def test_rows_are_sliced_in_steps_of_one(stored):
    _, data = stored
    with pytest.raises(IndexError):
        data[::2]
    with pytest.raises(TypeError, match="sliced, not indexed by ndarray"):
        data[np.array([0, 1])]


def test_wide_data_is_cut_at_no_more_than_max_blocks_places():
    """5000 columns: boundaries fall every ceil(5000 / MAX_BLOCKS) sorted columns, so the
    plan weighs MAX_BLOCKS candidates however wide the data."""
    x = sparse_images(m=200, n=5000, seed=4)
    plan = plan_groups(x)
    block = -(-len(plan.order) // MAX_BLOCKS)
    assert block > BLOCK
    inner = plan.bounds[1:-1]
    assert inner and all(bound % block == 0 for bound in inner)
    dense, weight = x[:, plan.order], np.random.default_rng(2).normal(size=(len(plan.order), 3))
    out = np.empty((200, 3))
    grouped(x, plan).matmul_into(weight, out)
    np.testing.assert_allclose(out, dense @ weight, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("m", "n"), [(5000, 784), (1500, 3000), (40000, 100)])
def test_planning_and_storing_hold_no_more_temporaries_than_the_memory_estimate_counts(m, n):
    """The memory estimate counts PLAN_BYTES for planning, then storing, the groups of
    a full batch, whatever the data's size: tracemalloc's peak in each, less what it
    keeps (the plan's order, the grouped copy), stays within it."""
    import tracemalloc

    x = sparse_images(m, n, seed=3).astype(np.float32)
    tracemalloc.start()
    try:
        plan = plan_groups(x)
        planning = tracemalloc.get_traced_memory()[1] - plan.order.nbytes
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        kept = grouped(x, plan)
        storing = tracemalloc.get_traced_memory()[1] - before - kept.nbytes
    finally:
        tracemalloc.stop()
    assert len(kept.groups) > 1
    assert 0 < planning <= PLAN_BYTES
    assert 0 < storing <= PLAN_BYTES
