"""NeuralNet: a fully connected classifier with a scikit-learn-like interface."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from .activations import get_activation
from .batching import Dataset, split_rows
from .callbacks import Callback, ProgressBar
from .dropout import check_rate
from .history import History
from .initializers import get_initializer
from .losses import output_loss
from .optimizers import Optimizer, get_optimizer
from .parameters import Dense, Parameters
from .propagation import ROWS_PER_CHUNK, Workspace, active_columns, forward
from .schedules import Schedule, get_schedule
from .training import Model, TrainingConfig, train
from .validation import (
    RandomStateLike,
    check_classes,
    check_features,
    check_finite,
    check_fraction,
    check_labels,
    check_non_negative_float,
    check_output_size,
    check_positive_float,
    check_positive_int,
    check_random_state,
    encode_labels,
)

FULL_BATCH_ITERATIONS = 1000
MINI_BATCH_EPOCHS = 20
FULL_BATCH_LOG_EVERY = 100


class NeuralNet:
    """A fully connected network trained by backpropagation.

    ``layer_sizes`` lists the hidden sizes, then the output size, as in the tutorial's
    ``[196, 1]``; the input size comes from the data at fit time. One output unit means a
    sigmoid output with binary cross-entropy (two classes); k > 1 output units mean a
    softmax over k classes with categorical cross-entropy. Hidden layers use
    ``activation``; weights start from ``init`` and biases at zero. ``dropout`` is the
    rate of inverted dropout on hidden layers while training. ``random_state`` seeds
    initialisation, shuffling and dropout (an int gives the same run every time).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        activation: str = "sigmoid",
        init: str = "lecun",
        dropout: float = 0.0,
        random_state: RandomStateLike = None,
    ):
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        get_activation(activation)
        get_initializer(init)
        check_random_state(random_state)
        self.activation = activation
        self.init = init
        self.dropout = check_rate(dropout)
        self.random_state = random_state
        self.parameters: Parameters | None = None
        self.classes: np.ndarray | None = None
        self.history: History | None = None

    # -- training -------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        classes: Sequence[int] | None = None,
        learning_rate: float = 0.1,
        n_iterations: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        optimizer: str | Optimizer = "gd",
        schedule: str | Schedule = "constant",
        weight_decay: float = 0.0,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        validation_fraction: float | None = None,
        patience: int | None = None,
        log_every: int | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: bool = False,
    ) -> NeuralNet:
        """Train on X (n, d) float32/float64 and integer labels y (n,); returns self.

        Without ``batch_size`` this is full-batch gradient descent for ``n_iterations``
        steps (default 1000), the tutorial's algorithm. With ``batch_size`` each of
        ``epochs`` (default 20) passes takes one step per mini-batch of a fresh shuffle.
        ``classes`` fixes the label of each output (default: the sorted labels of y).
        The training cost, and training and validation accuracy when validation data is
        given, are recorded every ``log_every`` epochs (default: 100 for full batches, 1
        for mini-batches) into ``self.history``. ``patience`` stops training when the
        validation cost has not improved for that many records, and the weights of the
        best record are restored at the end. X keeps its dtype; nothing passed is modified.
        """
        X = check_features(X)
        labels = check_labels(y, len(X))
        classes = check_classes(classes, labels)
        indices = encode_labels(labels, classes)
        check_output_size(self.layer_sizes[-1], len(classes))
        output = output_loss(self.layer_sizes[-1])
        config = _training_config(
            learning_rate=learning_rate, n_iterations=n_iterations, epochs=epochs,
            batch_size=batch_size, optimizer=optimizer, schedule=schedule,
            weight_decay=weight_decay, patience=patience, log_every=log_every,
        )  # fmt: skip
        rng = check_random_state(self.random_state)
        data = Dataset(X, output.encode(indices, X.dtype), active_columns(X))
        data, validation = _validation_split(
            data, validation_data, validation_fraction, classes, output, rng
        )
        if patience is not None and validation is None:
            raise ValueError(
                "patience needs validation data: validation_data or validation_fraction"
            )
        parameters = self._initial_parameters(X.shape[1], X.dtype, rng)
        model = Model(parameters, get_activation(self.activation), output, self.dropout)
        callbacks = [*callbacks, ProgressBar()] if verbose else list(callbacks)
        history = train(model, data, validation, config, rng, callbacks)
        self.parameters, self.classes, self.history = parameters, classes, history
        return self

    def _initial_parameters(self, n_features: int, dtype: np.dtype, rng) -> Parameters:
        parameters = Parameters((n_features, *self.layer_sizes), dtype)
        initializer = get_initializer(self.init)
        for layer in parameters.layers:
            layer.weight[...] = initializer(*layer.weight.shape, rng)
        return parameters

    # -- prediction -----------------------------------------------------------------

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (n, k), columns in the order of ``self.classes``."""
        return self._output().probabilities(self._logits(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class label of each row."""
        return self.classes[self._output().predicted_indices(self._logits(X))]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy: the fraction of rows whose predicted label equals y."""
        predicted = self.predict(X)
        return float(np.mean(predicted == check_labels(y, len(predicted))))

    def _logits(self, X: np.ndarray) -> np.ndarray:
        """z_L for every row of X, computed in chunks (n, n_outputs)."""
        parameters = self._fitted()
        X = check_features(X, n_features=parameters.widths[0], finite=False)
        X = X.astype(parameters.flat.dtype, copy=False)
        rows = min(len(X), ROWS_PER_CHUNK)
        workspace = Workspace(parameters.widths, rows, X.dtype)
        activation = get_activation(self.activation)
        logits = np.empty((len(X), parameters.widths[-1]), X.dtype)
        every_column = slice(0, X.shape[1])
        for start in range(0, len(X), rows):
            chunk = X[start : start + rows]
            check_finite(chunk, X, "X")  # while the chunk is in cache for the products
            z = forward(parameters.layers, activation, chunk, every_column, workspace)
            logits[start : start + len(chunk)] = z
        return logits

    def _output(self):
        return output_loss(self.layer_sizes[-1])

    def _fitted(self) -> Parameters:
        if self.parameters is None:
            raise ValueError("this NeuralNet is not fitted yet: call fit (or NeuralNet.load)")
        return self.parameters

    # -- inspection and persistence -------------------------------------------------

    @property
    def layers(self) -> list[Dense]:
        """Per-layer weight (fan_in, fan_out) and bias (fan_out,) arrays."""
        return self._fitted().layers

    def summary(self, n_features: int | None = None) -> str:
        """A table of layers, shapes, activations and parameter counts."""
        if n_features is None:
            n_features = self._fitted().widths[0]
        widths = (n_features, *self.layer_sizes)
        output = self._output().name
        lines = [f"{'layer':<8}{'shape':>16}  {'activation':<11}{'parameters':>12}"]
        total = 0
        for index, (fan_in, fan_out) in enumerate(pairwise(widths), start=1):
            count = fan_in * fan_out + fan_out
            total += count
            activation = output if index == len(self.layer_sizes) else self.activation
            shape = f"{fan_in} -> {fan_out}"
            lines.append(f"{'dense_' + str(index):<8}{shape:>16}  {activation:<11}{count:>12,}")
        if self.dropout:
            lines.append(f"dropout {self.dropout:g} after each hidden layer while training")
        lines.append(f"total parameters: {total:,}")
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to ``path`` (.npz, readable with allow_pickle=False)."""
        from .serialization import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NeuralNet:
        """Read a model written by ``save``."""
        from .serialization import load_model

        return load_model(path)


def _check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of integers, got {layer_sizes!r}")
    if len(layer_sizes) == 0:
        raise ValueError("layer_sizes must list at least the output size, got []")
    for size in layer_sizes:
        check_positive_int(size, f"every layer size (in {list(layer_sizes)})")
    return tuple(int(size) for size in layer_sizes)


def _training_config(
    *,
    learning_rate,
    n_iterations,
    epochs,
    batch_size,
    optimizer,
    schedule,
    weight_decay,
    patience,
    log_every,
) -> TrainingConfig:
    """Validate the training options; an epoch of full-batch training is one iteration."""
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
        if n_iterations is not None:
            raise ValueError(
                "with batch_size, give the number of passes as epochs, not n_iterations"
            )
    elif n_iterations is not None and epochs is not None:
        raise ValueError("give n_iterations or epochs, not both (full-batch: they are the same)")
    full_batch = batch_size is None
    epochs = epochs if epochs is not None else n_iterations
    if epochs is None:
        epochs = FULL_BATCH_ITERATIONS if full_batch else MINI_BATCH_EPOCHS
    if log_every is None:
        log_every = FULL_BATCH_LOG_EVERY if full_batch else 1
    return TrainingConfig(
        learning_rate=check_positive_float(learning_rate, "learning_rate"),
        epochs=check_positive_int(epochs, "n_iterations" if full_batch else "epochs"),
        batch_size=batch_size,
        optimizer=get_optimizer(optimizer),
        schedule=get_schedule(schedule),
        weight_decay=check_non_negative_float(weight_decay, "weight_decay"),
        patience=None if patience is None else check_positive_int(patience, "patience"),
        log_every=check_positive_int(log_every, "log_every"),
    )


def _validation_split(data, validation_data, fraction, classes, output, rng):
    """The training rows and the validation set: the caller's own, or a stratified
    held-out ``fraction`` of the training rows (as row indices: nothing is copied)."""
    if validation_data is not None and fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    if validation_data is not None:
        X_val, y_val = _unpack_pair(validation_data)
        X_val = check_features(X_val, "validation X", n_features=data.x.shape[1])
        X_val = X_val.astype(data.x.dtype, copy=False)
        indices = encode_labels(check_labels(y_val, len(X_val), "validation y"), classes)
        return data, Dataset(X_val, output.encode(indices, X_val.dtype), active_columns(X_val))
    if fraction is None:
        return data, None
    labels = data.targets if data.targets.ndim == 1 else data.targets[:, 0]
    kept, held_out = split_rows(labels, check_fraction(fraction, "validation_fraction"), rng)
    training = Dataset(data.x, data.targets, data.inputs, kept)
    return training, Dataset(data.x, data.targets, data.inputs, held_out)


def _unpack_pair(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (X_val, y_val)")
    return validation_data
