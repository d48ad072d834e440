"""Presets and the command line that repeats a run."""

from __future__ import annotations

import pytest

from scratchnet.app.cli import build_parser
from scratchnet.app.commands.train import recipe_from
from scratchnet.app.presets import PRESETS, Recipe, applied_settings, command_line
from scratchnet.errors import ScratchnetError

OPTIONS = [
    [],
    ["--iterations", "3", "--learning-rate", "0.2", "--seed", "7"],
    ["--preset", "all-digits", "--epochs", "1", "--digits", "7", "0", "3"],
    ["--preset", "one-two-fast", "--digits", "all", "--hidden", "32", "16", "--dropout", "0.1"],
    ["--preset", "one-two", "--measure-training", "--validation-fraction", "0.2",
     "--patience", "2", "--weight-decay", "1e-05", "--dtype", "float64"],
    ["--epochs", "5", "--optimizer", "adam", "--schedule", "cosine", "--init", "he"],
    ["--batch-size", "100", "--epochs", "2", "--activation", "tanh"],
    ["--preset", "starter", "--digits", "9", "8", "7", "6", "5", "4", "3", "2", "1", "0"],
]  # fmt: skip


def recipe_of(argv: list[str]):
    return recipe_from(build_parser().parse_args(["train", *argv]))


@pytest.mark.parametrize("argv", OPTIONS, ids=lambda argv: " ".join(argv) or "no options")
def test_the_command_line_of_a_recipe_runs_the_same_recipe(argv):
    recipe = recipe_of(argv)
    words = command_line(recipe).split()
    assert words[:4] == ["scratchnet", "train", "--preset", recipe.name]
    again = recipe_of(words[2:])
    # the same run: a full-batch recipe's epochs setting is unused (and not repeated)
    assert (again.name, applied_settings(again)) == (recipe.name, applied_settings(recipe))


def test_the_command_line_names_only_what_differs_from_the_preset():
    assert command_line(PRESETS["tutorial"]) == "scratchnet train --preset tutorial"
    recipe = recipe_of(["--preset", "all-digits", "--epochs", "1", "--seed", "3"])
    assert command_line(recipe) == "scratchnet train --preset all-digits --epochs 1 --seed 3"


def test_applied_settings_leave_out_the_training_length_a_run_does_not_use():
    full_batch, mini_batch = PRESETS["tutorial"], PRESETS["one-two"]
    assert "epochs" not in applied_settings(full_batch)
    assert applied_settings(full_batch)["iterations"] == 1000
    assert "iterations" not in applied_settings(mini_batch)
    assert applied_settings(mini_batch)["epochs"] == 20


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_reads_back_from_what_it_writes(name):
    assert Recipe.from_dict(PRESETS[name].to_dict()) == PRESETS[name]


@pytest.mark.parametrize(
    "older",
    [
        {"seed": 2**40},  # before seeds were held to 2**32 - 1
        {"elastic_sigma": 0.0, "scale": 1.0},  # strengths given without --augment, unused
    ],
)
def test_recipes_older_versions_wrote_still_read_back(older):
    """A report of an older run folder was refused after the recipe's values were
    checked as the command line checks them now."""
    stored = {**PRESETS["one-two-fast"].to_dict(), **older}
    assert Recipe.from_dict(stored).to_dict() == stored


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": "<b>1</b>"}, r"^seed must be an integer >= 0, got '<b>1</b>'"),
        ({"seed": -1}, r"^seed must be an integer >= 0, got -1"),
        ({"name": 7}, r"^name must be a string, got 7"),
        ({"description": None}, r"^description must be a string, got None"),
        ({"hidden": []}, r"^hidden must list the hidden layers' sizes, got \(\)"),
        ({"hidden": 32}, r"^hidden must list the hidden layers' sizes, got 32"),
        ({"measure_training": "yes"}, r"^measure_training must be true or false, got 'yes'"),
        ({"replay_tutorial": 1}, r"^replay_tutorial must be true or false, got 1"),
        ({"augment": "elastic", "elastic_sigma": 0.0}, "augmentation sigma must be a positive"),
        ({"shift": "far"}, "shift must be a number"),
        ({"hidden": [-5]}, "a hidden layer's size must be an integer >= 1"),
    ],
)
def test_a_recipe_read_back_has_every_value_checked(change, message):
    with pytest.raises(ScratchnetError, match=message):
        Recipe.from_dict({**PRESETS["one-two-fast"].to_dict(), **change})


@pytest.mark.parametrize(
    "stored",
    [
        [],
        {},
        {key: value for key, value in PRESETS["one-two-fast"].to_dict().items() if key != "seed"},
        {**PRESETS["one-two-fast"].to_dict(), "colour": "red"},
    ],
)
def test_a_recipe_with_other_fields_is_not_one_this_version_wrote(stored):
    with pytest.raises(
        ScratchnetError, match=r"^not a recipe written by this version of scratchnet"
    ):
        Recipe.from_dict(stored)


@pytest.mark.parametrize(
    ("changes", "title"),
    [
        ({}, "tutorial preset, digits 1 and 2"),
        ({"digits": (3, 8)}, "tutorial preset, digits 3 and 8"),
        ({"hidden": (32, 16)}, "tutorial preset with --hidden 32 16, digits 1 and 2"),
        (
            {"hidden": (32,), "seed": 3},
            "tutorial preset with --hidden 32 and --seed 3, digits 1 and 2",
        ),
        (
            {"activation": "relu", "optimizer": "adam", "batch_size": 64, "epochs": 5},
            "tutorial preset with --activation relu, --optimizer adam and 2 more changes, "
            "digits 1 and 2",
        ),
        (
            {"digits": (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
            "tutorial preset, all ten digits in the order 9 8 7 6 5 4 3 2 1 0",
        ),
        ({"digits": tuple(range(10))}, "tutorial preset, all ten digits"),
        (  # a flag as it is typed, not "--measure-training True"
            {"measure_training": True, "batch_size": 64},
            "tutorial preset with --batch-size 64 and --measure-training, digits 1 and 2",
        ),
    ],
)
def test_a_runs_title_names_the_options_that_changed_its_preset(changes, title):
    """Every figure and the report are titled by the run: a run with other settings is
    not called the preset it started from."""
    from scratchnet.app.experiment import run_title

    assert run_title(PRESETS["tutorial"].updated(**changes)) == title


def test_applied_settings_leave_out_the_strengths_of_distortions_a_run_does_not_make():
    """The report's settings listed shift, rotation, ... for runs of --augment none."""
    plain = PRESETS["all-digits"].updated(augment="none")
    assert not {"shift", "elastic_sigma"} & applied_settings(plain).keys()
    affine = plain.updated(augment="affine")
    assert "shift" in applied_settings(affine) and "elastic_alpha" not in applied_settings(affine)
    elastic = plain.updated(augment="elastic")
    assert {"shift", "elastic_alpha", "elastic_sigma"} <= applied_settings(elastic).keys()
