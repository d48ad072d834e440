"""Named training recipes for the command line; the default is the tutorial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace

from ..data.augment import KINDS, Augment, check_strengths, library_spelling
from ..errors import InvalidArgumentError, InvalidTypeError
from ..nn.activations import ACTIVATIONS
from ..nn.initializers import INITIALIZERS
from ..nn.optimizers import OPTIMIZERS
from ..nn.schedules import SCHEDULES
from ..nn.settings import named
from ..validation import (
    check_digits,
    check_dropout,
    check_fraction,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    real_number,
)
from .arguments import option_name

AFFINE_STRENGTHS = ("shift", "rotation", "scale", "shear")  # what each augmentation uses
ELASTIC_STRENGTHS = ("elastic_alpha", "elastic_sigma")
STRENGTHS = AFFINE_STRENGTHS + ELASTIC_STRENGTHS
USED_STRENGTHS = {"none": (), "affine": AFFINE_STRENGTHS, "elastic": STRENGTHS}


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a run: data, network, training and numerics.

    ``iterations`` counts full-batch steps (used without ``batch_size``); ``epochs``
    counts passes of mini-batches. ``measure_training`` measures every record's weights
    on all training rows (see ``NeuralNet.fit``). ``augment`` ("none", "affine",
    "elastic") and the strengths after it define the distortions (see ``Augment``).
    ``replay_tutorial`` orders the data and draws the initial weights from the
    tutorial's legacy RandomState stream, as the tutorial does.
    """

    name: str
    description: str
    digits: tuple[int, ...] = (1, 2)
    hidden: tuple[int, ...] = (196,)
    activation: str = "sigmoid"
    init: str = "lecun"
    optimizer: str = "gd"
    learning_rate: float = 0.1
    iterations: int = 1000
    epochs: int = 20
    batch_size: int | None = None
    schedule: str = "constant"
    weight_decay: float = 0.0
    dropout: float = 0.0
    validation_fraction: float | None = None
    patience: int | None = None
    measure_training: bool = False
    augment: str = "none"
    shift: float = Augment.shift
    rotation: float = Augment.rotation
    scale: float = Augment.scale
    shear: float = Augment.shear
    elastic_alpha: float = Augment.alpha
    elastic_sigma: float = Augment.sigma
    seed: int = 42
    dtype: str = "float64"
    replay_tutorial: bool = False

    def augmentation(self, spell: Callable[[str], str] = library_spelling) -> Augment | None:
        """The distortions to train with, or None; a strength out of its range is named
        as ``spell`` names Augment's settings (the command line: by its option)."""
        if self.augment == "none":
            return None
        strengths = dict(
            shift=self.shift, rotation=self.rotation, scale=self.scale, shear=self.shear,
            alpha=self.elastic_alpha, sigma=self.elastic_sigma,
        )  # fmt: skip
        check_strengths(self.augment, max(Augment.shape), spell, **strengths)
        return Augment(self.augment, **strengths)

    def updated(self, **overrides) -> Recipe:
        """A copy with every override that is not None applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: dict) -> Recipe:
        """The recipe ``to_dict`` wrote (lists read back as tuples), every value checked:
        a file is hostile input (metrics.json's values reach the report's page)."""
        names = {field.name for field in fields(cls)}
        if not isinstance(stored, dict) or set(stored) != names:
            raise InvalidArgumentError("not a recipe written by this version of scratchnet")
        stored = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}
        return cls(**stored).checked()

    def checked(self) -> Recipe:
        """This recipe, if each value is one the command line could have given it;
        else InvalidArgumentError or InvalidTypeError naming the first that is not."""
        for name in ("name", "description"):
            if not isinstance(getattr(self, name), str):
                raise InvalidTypeError(f"{name} must be a string, got {getattr(self, name)!r}")
        named(self.name, PRESETS, "preset")  # the preset the recipe starts from
        check_digits(self.digits)  # integers only: not True, not 1.0
        if not (isinstance(self.hidden, tuple) and self.hidden):
            raise InvalidTypeError(
                f"hidden must list the hidden layers' sizes, got {self.hidden!r}"
            )
        for size in self.hidden:
            check_positive_int(size, "a hidden layer's size")
        for value, choices, what in (
            (self.activation, ACTIVATIONS, "activation"), (self.init, INITIALIZERS, "init"),
            (self.optimizer, OPTIMIZERS, "optimizer"), (self.schedule, SCHEDULES, "schedule"),
            (self.augment, dict.fromkeys(KINDS), "augmentation"),
            (self.dtype, dict.fromkeys(("float32", "float64")), "dtype"),
        ):  # fmt: skip
            named(value, choices, what)
        check_positive_float(self.learning_rate, "learning_rate")
        check_non_negative_float(self.weight_decay, "weight_decay")
        check_dropout(self.dropout)
        for name in ("iterations", "epochs"):
            check_positive_int(getattr(self, name), name)
        for name in ("batch_size", "patience"):  # None: full batch, no early stopping
            if getattr(self, name) is not None:
                check_positive_int(getattr(self, name), name)
        if self.validation_fraction is not None:
            check_fraction(self.validation_fraction, "validation_fraction")
        for name in ("measure_training", "replay_tutorial"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidTypeError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.augment != "none":  # (older versions stored any strengths, unused)
            self.augmentation()
        for name in STRENGTHS:
            if real_number(getattr(self, name)) is None:
                raise InvalidTypeError(f"{name} must be a number, got {getattr(self, name)!r}")
        check_positive_int(self.seed, "seed", minimum=0)  # no upper bound: older versions
        return self  # took seeds over 2**32 - 1, and a recipe they wrote still reads

    @classmethod
    def option_names(cls) -> list[str]:
        return [field.name for field in fields(cls) if field.name not in ("name", "description")]


TUTORIAL = Recipe(
    name="tutorial",
    description="the tutorial's experiment: 784-196-1 sigmoid network, full-batch gradient "
    "descent, learning rate 0.1, 1000 iterations, float64, its data order and weights",
    replay_tutorial=True,
)

# what every recipe after the tutorial's shares: ReLU units from He initialisation, Adam on
# a cosine schedule, in float32
MODERN = {
    "activation": "relu",
    "init": "he",
    "optimizer": "adam",
    "schedule": "cosine",
    "dtype": "float32",
}

ONE_TWO = Recipe(
    **MODERN,
    name="one-two",
    description="digits 1 and 2 to at least 99.7% test accuracy: 784-256-128-1 ReLU, "
    "dropout 0.3, Adam, batches of 64, cosine schedule, 20 epochs, float32",
    hidden=(256, 128),
    learning_rate=1e-3,
    batch_size=64,
    epochs=20,
    dropout=0.3,
)

ONE_TWO_FAST = Recipe(
    **MODERN,
    name="one-two-fast",
    description="digits 1 and 2 to at least 99.6% test accuracy in well under a second: "
    "784-64-1 ReLU, Adam lr 0.003, batches of 32, cosine schedule, 5 epochs, float32",
    hidden=(64,),
    learning_rate=3e-3,
    batch_size=32,
    epochs=5,
)

ALL_DIGITS = Recipe(
    **MODERN,
    name="all-digits",
    description="all ten digits to at least 98.5% test accuracy: 784-512-256-10 ReLU, "
    "dropout 0.3, Adam, batches of 128, cosine schedule, 40 epochs, float32",
    digits=tuple(range(10)),
    hidden=(512, 256),
    learning_rate=1e-3,
    batch_size=128,
    epochs=40,
    dropout=0.3,
)

ALL_DIGITS_FAST = Recipe(
    **MODERN,
    name="all-digits-fast",
    description="all ten digits to 98.0% test accuracy in seconds: 784-256-10 ReLU, Adam "
    "lr 0.006, batches of 256, cosine schedule, 4 epochs, float32",
    digits=tuple(range(10)),
    hidden=(256,),
    learning_rate=6e-3,
    batch_size=256,
    epochs=4,
)

BEST = Recipe(
    **MODERN,
    name="best",
    description="all ten digits past 99.3% with a plain MLP: 784-800-800-10 ReLU, dropout "
    "0.2, elastic and affine distortions of every batch, Adam, batches of 128, cosine "
    "schedule, 100 epochs, 1/12 of the training set held out for validation, float32",
    digits=tuple(range(10)),
    hidden=(800, 800),
    learning_rate=1e-3,
    batch_size=128,
    epochs=100,
    dropout=0.2,
    validation_fraction=1 / 12,
    augment="elastic",
)

STARTER = Recipe(
    **MODERN,
    name="starter",
    description="the model predict and serve train when there is none: all ten digits, "
    "784-128-10 ReLU, Adam lr 0.003, batches of 128, cosine schedule, 5 epochs, float32",
    digits=tuple(range(10)),
    hidden=(128,),
    learning_rate=3e-3,
    batch_size=128,
    epochs=5,
    seed=0,
)

PRESETS = {
    recipe.name: recipe
    for recipe in (TUTORIAL, ONE_TWO, ONE_TWO_FAST, ALL_DIGITS, ALL_DIGITS_FAST, BEST, STARTER)
}


def applied_settings(recipe: Recipe) -> dict:
    """The settings that shape a run of ``recipe``: every option but the training length
    it does not use (epochs for a full-batch run, iterations for a mini-batch run) and
    the strengths of distortions its augmentation does not make."""
    unused = {"epochs" if recipe.batch_size is None else "iterations"}
    unused |= set(STRENGTHS) - set(USED_STRENGTHS[recipe.augment])
    return {name: getattr(recipe, name) for name in Recipe.option_names() if name not in unused}


def command_line(recipe: Recipe) -> str:
    """The ``scratchnet train`` command that runs ``recipe``: its preset and every
    applied setting that differs from the preset's."""
    preset = PRESETS[recipe.name]
    words = ["scratchnet", "train", "--preset", recipe.name]
    for name, value in applied_settings(recipe).items():
        if name == "replay_tutorial" or value == getattr(preset, name):
            continue  # replaying the tutorial is the preset's, not an option
        words += option_words(name, value)
    return " ".join(words)


def option_words(name: str, value) -> list[str]:
    """The option that sets ``name`` to ``value``, as words of a command line: a flag
    alone (only ever switched on), 'all' for the ten digits, a tuple's items."""
    option = option_name(name)
    if isinstance(value, bool):
        return [option]
    if name == "digits" and list(value) == list(range(10)):
        return [option, "all"]
    return [option, *map(str, value if isinstance(value, tuple) else [value])]
