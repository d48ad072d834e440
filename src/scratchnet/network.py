"""NeuralNet: a fully connected classifier with a scikit-learn-like interface."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from .data.augment import Augment
from .errors import (
    DataFileError,
    InvalidArgumentError,
    InvalidTypeError,
    NotFittedError,
    ScratchnetError,
)
from .nn.activations import get_activation
from .nn.initializers import get_initializer
from .nn.losses import OutputLayer, output_layer
from .nn.optimizers import Optimizer, get_optimizer
from .nn.parameters import Dense, Parameters
from .nn.propagation import ROWS_PER_CHUNK, Model, Workspace, active_inputs, forward
from .nn.schedules import Schedule, get_schedule
from .serialization import StoredModel, read_model, write_model
from .training.batching import Dataset, split_rows
from .training.callbacks import Callback, ProgressBar
from .training.checkpoint import Checkpoint, fingerprint_data, fingerprint_random_state
from .training.history import History
from .training.loop import TrainingConfig, train
from .training.memory import check_fits, training_bytes
from .training.state import TrainingState
from .validation import (
    RandomStateLike,
    check_classes,
    check_dropout,
    check_early_stopping,
    check_features,
    check_finite,
    check_float_dtype,
    check_fraction,
    check_labels,
    check_non_negative_float,
    check_output_size,
    check_positive_float,
    check_positive_int,
    check_random_state,
    check_training_length,
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
        self.dropout = check_dropout(dropout)
        self.random_state = random_state
        self.parameters: Parameters | None = None
        self.classes: np.ndarray | None = None
        self.history: History | None = None
        self.held_out: np.ndarray | None = None

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
        measure_training: bool = False,
        augment: Augment | str | None = None,
        callbacks: Sequence[Callback] = (),
        checkpoint: Checkpoint | None = None,
        verbose: bool = False,
    ) -> NeuralNet:
        """Train on ``X`` (n, d) and integer labels ``y`` (n,); return self.

        Every call starts afresh from new initial weights; X keeps its dtype (float32 or
        float64) end to end and nothing passed is modified.

        Parameters:
            X: features, float32 or float64, every value finite.
            y: integer class labels, one per row of X.
            classes: the label of each output, in order (default: the sorted labels
                of y); labels outside it are refused.
            learning_rate: the step size lr of every update (before the schedule).
            n_iterations: full-batch gradient-descent steps (default 1000), the
                tutorial's algorithm. Not with ``batch_size``.
            epochs: passes over the data. With ``batch_size`` (default 20), each pass
                takes one step per mini-batch of a fresh shuffle of the rows; without
                it, a pass is one full-batch step, so ``epochs`` means ``n_iterations``
                (give one of the two).
            batch_size: rows per mini-batch (default: none, full-batch training).
            optimizer: ``"gd"``/``"sgd"`` (w <- w - lr g), ``"momentum"``,
                ``"nesterov"``, ``"adam"``, or a configured ``sn.GradientDescent``,
                ``sn.Momentum`` or ``sn.Adam``.
            schedule: the learning rate of each epoch: ``"constant"``, ``"step"``
                (halved every quarter of the run), ``"cosine"``, or a configured
                ``sn.Constant``, ``sn.StepDecay`` or ``sn.Cosine``.
            weight_decay: L2 penalty lambda: the objective gains (lambda / 2) sum W^2
                over the weights (not the biases), their gradient lambda W.
            validation_data: a pair (X_val, y_val) measured after every logged epoch.
            validation_fraction: instead, hold out this share of each class's rows
                (stratified, drawn with ``random_state``) and measure it.
            patience: stop when the validation cost has not improved for this many
                logged epochs; the weights of the best epoch are restored at the end.
                Needs validation data.
            log_every: record the history every this many epochs (default: 100 for
                full-batch training, every epoch for mini-batches), and always after
                the last one.
            measure_training: also measure every record's weights on all training rows
                without dropout (``train_loss``, ``train_accuracy``): one more forward
                pass over the training data per record. Full-batch training without
                dropout measures them anyway, for free.
            augment: distort the training images afresh in every epoch: ``"affine"``
                (random shift, rotation, scale, shear), ``"elastic"`` (those, then
                Simard's elastic distortion), or a configured ``sn.Augment``. X must
                hold flattened images of the Augment's shape (28 x 28 by default); the
                data itself is never modified or copied.
            callbacks: ``sn.Callback`` objects called at the start, after every step,
                after every epoch and at the end.
            checkpoint: an ``sn.Checkpoint`` that writes the training state every few
                epochs and on Ctrl-C, and with ``resume=True`` continues from its file:
                the run then ends with exactly the model an uninterrupted run reaches.
                Resuming needs the same data, options and seed (an unseeded run would
                draw another validation split); another run's checkpoint is refused.
            verbose: show progress on stderr (bars on a terminal, lines otherwise).

        Raises:
            InvalidArgumentError, InvalidTypeError: a bad value or combination.
            TrainingDivergedError: the cost became non-finite.
        """
        X = check_features(X)
        labels = check_labels(y, len(X))
        classes = check_classes(classes, labels)
        indices = encode_labels(labels, classes)
        check_output_size(self.layer_sizes[-1], len(classes))
        output = self._output()
        config = _training_config(
            learning_rate=learning_rate, n_iterations=n_iterations, epochs=epochs,
            batch_size=batch_size, optimizer=optimizer, schedule=schedule,
            weight_decay=weight_decay, patience=patience, log_every=log_every,
            measure_training=measure_training, augment=_check_augment(augment, X.shape[1]),
        )  # fmt: skip
        check_early_stopping(
            patience, validation_data is not None or validation_fraction is not None
        )
        rng = check_random_state(self.random_state)
        seed = fingerprint_random_state(rng) if checkpoint is not None else None
        # distortions move ink anywhere: with them every input column is active
        active = slice(0, X.shape[1]) if config.augment else active_inputs(X)
        data = Dataset(X, output.encode(indices, X.dtype), active)
        data, validation = _validation_split(
            data, validation_data, validation_fraction, classes, output, rng
        )
        check_fits(
            self.training_memory(X.shape[1], X.dtype, config.optimizer, patience, checkpoint)
        )
        parameters = self._initial_parameters(X.shape[1], X.dtype, rng)
        state = TrainingState(parameters, config.optimizer.init(parameters.flat), rng)
        if checkpoint is not None:
            identity = self._fingerprint(
                config, seed, X, labels, validation_data, validation_fraction
            )
            state = checkpoint.start(state, identity)
        model = Model(state.parameters, get_activation(self.activation), output, self.dropout)
        callbacks = [*callbacks, ProgressBar()] if verbose else list(callbacks)
        state = train(model, data, validation, config, state, callbacks, checkpoint)
        self.parameters, self.classes, self.history = state.parameters, classes, state.history
        self.held_out = validation.rows if validation_fraction is not None else None
        return self

    def training_memory(
        self,
        n_features: int,
        dtype=np.float64,
        optimizer: str | Optimizer = "gd",
        patience: int | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> int:
        """Bytes that training this network on ``n_features`` inputs allocates besides
        the data (parameters, gradients, optimizer state, buffers); ``fit`` refuses to
        start when the machine does not have them."""
        return training_bytes(
            (n_features, *self.layer_sizes),
            check_float_dtype(dtype).itemsize,
            get_optimizer(optimizer),
            dropout=self.dropout > 0,
            early_stopping=patience is not None,
            checkpoint=checkpoint is not None,
        )

    def _fingerprint(self, config, seed, X, labels, validation_data, validation_fraction) -> dict:
        """What a checkpoint must match to be resumed by this fit (``seed``: the
        fingerprint of the generator before any draw)."""
        validation = None
        if validation_data is not None:
            validation = fingerprint_data(*map(np.asarray, validation_data))
        return {
            "network": repr((self.layer_sizes, self.activation, self.init, self.dropout)),
            "random_state": seed,
            "training": repr(config),
            "data": fingerprint_data(X, labels),
            "validation": repr((validation, validation_fraction)),
        }

    def _initial_parameters(self, n_features: int, dtype: np.dtype, rng) -> Parameters:
        parameters = Parameters((n_features, *self.layer_sizes), dtype)
        initializer = get_initializer(self.init)
        for layer in parameters.layers:
            layer.weight[...] = initializer(*layer.weight.shape, rng)
        return parameters

    # -- prediction -----------------------------------------------------------------

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (n, k), columns in the order of ``self.classes``; for a
        single sample X of shape (n_features,), its row (k,)."""
        X, single = self._samples(X)
        probabilities = self._output().probabilities(self._logits(X))
        return probabilities[0] if single else probabilities

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class label of each row; for a single sample X of shape
        (n_features,), its label."""
        X, single = self._samples(X)
        labels = self.classes[self._output().predicted_indices(self._logits(X))]
        return labels[0] if single else labels

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy: the fraction of rows whose predicted label equals y. Labels the
        model does not know are refused (they could never be predicted right)."""
        labels = check_labels(y, len(check_features(X, finite=False)))
        known = np.isin(labels, self.classes)
        if not np.all(known):
            raise InvalidArgumentError(
                f"y holds labels the model does not predict: {np.unique(labels[~known]).tolist()}"
                f"; its classes are {self.classes.tolist()} (label y the way the model was "
                "trained: load_mnist numbers classes 0..k-1 unless relabel=False)"
            )
        return float(np.mean(self.predict(X) == labels))

    def _samples(self, X) -> tuple[np.ndarray, bool]:
        """X as rows, and whether it was one sample given as a 1-D array."""
        X = np.asarray(X)
        n_features = self._fitted().widths[0]
        if X.ndim == 1 and X.shape[0] == n_features:
            return X[None, :], True
        if X.ndim == 1 or (X.ndim > 2 and np.prod(X.shape[1:]) == n_features):
            raise InvalidArgumentError(
                f"X has shape {X.shape}; pass one sample as ({n_features},) or samples as "
                f"rows (n, {n_features}) (scratchnet.preprocess flattens images)"
            )
        return X, False

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

    def _output(self) -> OutputLayer:
        return output_layer(self.layer_sizes[-1])

    def _fitted(self) -> Parameters:
        if self.parameters is None:
            raise NotFittedError("this NeuralNet is not fitted yet: call fit (or NeuralNet.load)")
        return self.parameters

    # -- inspection and persistence -------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """The floating-point type of the fitted parameters (float32 or float64)."""
        return self._fitted().flat.dtype

    @property
    def layers(self) -> list[Dense]:
        """Per-layer weight (fan_in, fan_out) and bias (fan_out,) arrays."""
        return self._fitted().layers

    def __repr__(self) -> str:
        state = f"fitted on {self._fitted().widths[0]} features" if self.parameters else "unfitted"
        return (
            f"NeuralNet({list(self.layer_sizes)}, activation={self.activation!r}, "
            f"init={self.init!r}, dropout={self.dropout:g}; {state})"
        )

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
        parameters = self._fitted()
        meta = {
            "layer_sizes": list(self.layer_sizes),
            "n_features": parameters.widths[0],
            "activation": self.activation,
            "init": self.init,
            "dropout": self.dropout,
            "dtype": parameters.flat.dtype.name,
        }
        write_model(path, StoredModel(meta, self.classes, parameters.layers))

    @classmethod
    def load(cls, path: str | os.PathLike) -> NeuralNet:
        """Read a model written by ``save``; DataFileError naming the file if it is not one."""
        stored = read_model(path)
        meta = stored.meta
        try:
            net = cls(
                meta["layer_sizes"],
                activation=meta["activation"],
                init=meta["init"],
                dropout=meta["dropout"],
            )
            classes = check_classes(stored.classes)
            check_output_size(net.layer_sizes[-1], len(classes))
        except ScratchnetError as error:
            raise DataFileError(f"{path}: not a valid scratchnet model ({error})") from None
        parameters = Parameters((meta["n_features"], *net.layer_sizes), stored.dtype)
        for layer, stored_layer in zip(parameters.layers, stored.layers, strict=True):
            layer.weight[...] = stored_layer.weight
            layer.bias[...] = stored_layer.bias
        net.parameters, net.classes = parameters, classes
        return net


def _check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise InvalidTypeError(f"layer_sizes must be a sequence of integers, got {layer_sizes!r}")
    if len(layer_sizes) == 0:
        raise InvalidArgumentError("layer_sizes must list at least the output size, got []")
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
    measure_training,
    augment,
) -> TrainingConfig:
    """Validate the training options; an epoch of full-batch training is one iteration."""
    check_training_length(batch_size=batch_size, n_iterations=n_iterations, epochs=epochs)
    full_batch = batch_size is None
    epochs = epochs if epochs is not None else n_iterations
    if epochs is None:
        epochs = FULL_BATCH_ITERATIONS if full_batch else MINI_BATCH_EPOCHS
    if log_every is None:
        log_every = FULL_BATCH_LOG_EVERY if full_batch else 1
    return TrainingConfig(
        learning_rate=check_positive_float(learning_rate, "learning_rate"),
        epochs=check_positive_int(epochs, "epochs" if n_iterations is None else "n_iterations"),
        batch_size=None if full_batch else check_positive_int(batch_size, "batch_size"),
        optimizer=get_optimizer(optimizer),
        schedule=get_schedule(schedule),
        weight_decay=check_non_negative_float(weight_decay, "weight_decay"),
        patience=None if patience is None else check_positive_int(patience, "patience"),
        log_every=check_positive_int(log_every, "log_every"),
        measure_training=bool(measure_training),
        augment=augment,
    )


def _check_augment(augment, n_features: int) -> Augment | None:
    """The Augment to train with (None for none), fitting rows of ``n_features``."""
    if augment is None:
        return None
    if isinstance(augment, str):
        augment = Augment(augment)
    if not isinstance(augment, Augment):
        raise InvalidTypeError(
            f"augment must be 'affine', 'elastic', 'none' or an sn.Augment, got {augment!r}"
        )
    if not augment.active:
        return None
    pixels = augment.shape[0] * augment.shape[1]
    if n_features != pixels:
        raise InvalidArgumentError(
            f"augment distorts images of {augment.shape[0]}x{augment.shape[1]} = {pixels} "
            f"pixels, but X has {n_features} features"
        )
    return augment


def _validation_split(data, validation_data, fraction, classes, output, rng):
    """The training rows and the validation set: the caller's own, or a stratified
    held-out ``fraction`` of the training rows (as row indices: nothing is copied)."""
    if validation_data is not None and fraction is not None:
        raise InvalidArgumentError("give validation_data or validation_fraction, not both")
    if validation_data is not None:
        X_val, y_val = _unpack_pair(validation_data)
        X_val = check_features(X_val, "validation X", n_features=data.x.shape[1])
        X_val = X_val.astype(data.x.dtype, copy=False)
        indices = encode_labels(check_labels(y_val, len(X_val), "validation y"), classes)
        return data, Dataset(X_val, output.encode(indices, X_val.dtype), active_inputs(X_val))
    if fraction is None:
        return data, None
    labels = data.targets if data.targets.ndim == 1 else data.targets[:, 0]
    kept, held_out = split_rows(labels, check_fraction(fraction, "validation_fraction"), rng)
    training = Dataset(data.x, data.targets, data.active, kept)
    return training, Dataset(data.x, data.targets, data.active, held_out)


def _unpack_pair(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise InvalidTypeError("validation_data must be a pair (X_val, y_val)")
    return validation_data
