"""The error family: one base class, each member also the built-in error it refines."""

from __future__ import annotations

from fractions import Fraction

import pytest

import scratchnet as sn

FAMILY = {
    sn.InvalidArgumentError: ValueError,
    sn.InvalidTypeError: TypeError,
    sn.NotFittedError: ValueError,
    sn.DataFileError: ValueError,
    sn.ImageFileError: ValueError,
    sn.TrainingDivergedError: ValueError,
    sn.MissingExtraError: ImportError,
}


@pytest.mark.parametrize(("error", "builtin"), FAMILY.items(), ids=lambda e: e.__name__)
def test_every_error_is_a_scratchnet_error_and_its_builtin(error, builtin):
    assert issubclass(error, sn.ScratchnetError) and issubclass(error, builtin)
    with pytest.raises(builtin, match="message"):
        raise error("message")


def test_divergence_is_still_a_floating_point_error():
    """What it was before the family existed, so older handlers keep catching it."""
    assert issubclass(sn.TrainingDivergedError, FloatingPointError)


def test_library_checks_raise_the_family():
    with pytest.raises(sn.InvalidArgumentError, match="learning_rate"):
        sn.NeuralNet([2, 1]).fit([[0.0], [1.0]], [0, 1], learning_rate=-1)
    with pytest.raises(sn.InvalidArgumentError, match="learning_rate"):  # not an OverflowError
        sn.NeuralNet([2, 1]).fit([[0.0], [1.0]], [0, 1], learning_rate=10**400)
    with pytest.raises(sn.InvalidArgumentError, match="validation_fraction"):
        fraction = Fraction(1, 10**400)  # in (0, 1), but as a float 0.0
        sn.NeuralNet([2, 1]).fit([[0.0], [1.0]], [0, 1], validation_fraction=fraction)
    with pytest.raises(sn.InvalidTypeError, match="dtype"):
        sn.preprocess([[[0]]], "int8")
    with pytest.raises(sn.InvalidArgumentError, match="beta1"):
        sn.Adam(beta1=1.5)
    with pytest.raises(sn.InvalidArgumentError, match="digits"):
        sn.load_mnist((3, 3))
