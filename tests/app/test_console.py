"""How numbers read on the terminal and in the report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnet.app.console import confusion_table, share
from scratchnet.metrics import percent, probability


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.5, 2, "50.00%"),
        (1129 / 1135, 2, "99.47%"),
        (1.0, 2, "100.00%"),
        (0.0, 2, "0.00%"),
        (0.99999, 2, ">99.99%"),  # rounds to 100.00%, but is not certain
        (0.000004, 2, "<0.01%"),
        (0.99999, 4, "99.9990%"),
        (0.9999996, 4, ">99.9999%"),
        (math.nan, 2, "n/a"),
    ],
)
def test_percent_never_rounds_to_certainty(value, decimals, expected):
    assert percent(value, decimals) == expected


def test_share_gives_the_count_behind_the_accuracy():
    assert share(2151 / 2167, 2167) == "99.2617% (2151/2167)"


def test_confusion_table_puts_true_digits_down_and_predictions_across():
    table = confusion_table(np.array([[1129, 6], [12, 1020]]), [1, 2])
    assert table.splitlines() == [
        "true \\ predicted     1     2",
        "               1  1129     6",
        "               2    12  1020",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, ">99.99%"), (0.0, "<0.01%"), (0.99999, ">99.99%"), (0.5, "50.00%"), (0.12345, "12.35%")],
)
def test_a_probability_of_a_model_is_never_written_as_certain(value, expected):
    """An accuracy of 1.0 is 100.00% (every image right), a model's probability of 1.0 is
    not: a softmax of finite logits never reaches 1 or 0."""
    assert probability(value) == expected
    assert percent(1.0) == "100.00%" and percent(0.0) == "0.00%"


def test_a_probability_that_is_not_a_number_is_not_available():
    assert probability(float("nan")) == "n/a"
