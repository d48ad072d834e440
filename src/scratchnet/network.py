"""Fully connected networks with a scikit-learn-like interface: ``NeuralNet`` classifies,
``NeuralNetRegressor`` predicts real values; both share ``Network``, which trains them.

A fitted network keeps its training state (weights, optimizer state, random generator,
history), so ``partial_fit`` continues a run one pass at a time and ``fit(...,
warm_start=True)`` starts a new run from the current weights. A call that fails (a bad
value, a diverging run, Ctrl-C) trains a copy and changes nothing in the network.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from .data.augment import Augment, augment_for
from .errors import (
    DataFileError,
    InvalidArgumentError,
    InvalidTypeError,
    NotFittedError,
    ScratchnetError,
)
from .metrics import r_squared
from .nn.activations import get_activation
from .nn.column_groups import Plan, grouped, plan_groups
from .nn.initializers import get_initializer
from .nn.losses import ClassifierOutput, OutputLayer, output_layer
from .nn.optimizers import Optimizer, get_optimizer
from .nn.parallel import Team
from .nn.parameters import Dense, Parameters, parameter_count
from .nn.propagation import (
    ROWS_PER_CHUNK,
    Columns,
    Model,
    Propagation,
    active_inputs,
)
from .nn.schedules import Schedule
from .serialization import StoredModel, read_model, write_model
from .training.batching import Dataset, normalised_weights, split_rows
from .training.callbacks import Callback, ProgressBar, check_callbacks
from .training.checkpoint import Checkpoint, fingerprint_data, fingerprint_random_state
from .training.history import History
from .training.loop import TrainingConfig, steps_per_epoch, train, training_config
from .training.memory import MINI_BATCHES, SMALLER_LAYERS, check_fits, training_bytes
from .training.state import TrainingState
from .training.threads import one_blas_thread
from .validation import (
    RandomStateLike,
    as_array,
    check_classes,
    check_dropout,
    check_early_stopping,
    check_features,
    check_finite,
    check_flag,
    check_float_dtype,
    check_fraction,
    check_labels,
    check_layer_sizes,
    check_output_size,
    check_pair,
    check_path,
    check_positive_int,
    check_random_state,
    check_sample_weight,
    check_targets,
    encode_labels,
)

COMPACT_SHARE = 0.95  # copy the training rows by column groups when that saves 5% of the work


class Progress(NamedTuple):
    """A fitted network's training state and the optimizer that produced its state."""

    state: TrainingState
    optimizer: Optimizer


class StepOptions(NamedTuple):
    """How the run a network is in takes its steps; ``partial_fit`` goes on with them."""

    learning_rate: float  # before any schedule
    batch_size: int | None  # None: full batch
    optimizer: Optimizer
    weight_decay: float


FIT_DEFAULTS = StepOptions(0.1, None, get_optimizer("gd"), 0.0)  # a network not trained yet


class Network:
    """A fully connected network trained by backpropagation: what ``NeuralNet`` and
    ``NeuralNetRegressor`` share (the arguments are described on ``__init__``, which
    ``help`` shows for each)."""

    _steps: StepOptions | None = None  # the last fit's or partial_fit's (on the class: a
    # network pickled before networks kept them has none)

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        activation: str = "sigmoid",
        init: str = "lecun",
        dropout: float = 0.0,
        random_state: RandomStateLike = None,
    ):
        """A network not fitted yet.

        Args:
            layer_sizes: the hidden sizes, then the output size, as in the tutorial's
                ``[196, 1]``; the input size comes from the data at fit time.
            activation: of the hidden layers: ``"sigmoid"`` (the tutorial's),
                ``"tanh"``, ``"relu"`` or ``"leaky_relu"``.
            init: how the weights start: ``"lecun"``, ``"he"`` or ``"glorot"``
                (biases start at zero).
            dropout: the rate of inverted dropout on hidden units while training.
            random_state: seeds initialisation, shuffling and dropout: an int gives the
                same run every time, a NumPy Generator or RandomState is drawn from,
                None draws fresh entropy.

        Raises:
            InvalidArgumentError, InvalidTypeError: a bad value.
        """
        self.layer_sizes = check_layer_sizes(layer_sizes)
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
        self._progress: Progress | None = None

    # -- training -------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        classes: Sequence[int] | None = None,
        sample_weight: np.ndarray | None = None,
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
        warm_start: bool = False,
        verbose: bool = False,
    ) -> Network:
        """Train on ``X`` (n, d) and ``y`` (class labels for ``NeuralNet``, real targets
        for ``NeuralNetRegressor``); return self.

        Every call starts afresh from new initial weights unless ``warm_start``; X keeps
        its dtype (float32 or float64) end to end and nothing passed is modified.

        Parameters:
            X: features, float32 or float64, every value finite.
            y: ``NeuralNet``: integer class labels, one per row of X (bools and whole
                floats are taken as the integers they equal).
                ``NeuralNetRegressor``: real targets (n,) for one output unit, or
                (n, k) for k output units.
            classes: (``NeuralNet`` only) the label of each output, in order (default:
                the sorted labels of y); labels outside it are refused.
            sample_weight: a non-negative weight per row (default: every row 1). The
                objective becomes the weighted mean loss sum_i w_i L_i / sum_i w_i, and
                the records' loss and accuracy are weighted means too (see
                ``training/batching.py``).
            learning_rate: the step size lr of every update (before the schedule).
            n_iterations: full-batch gradient-descent steps (default 1000), the
                tutorial's algorithm. Not with ``batch_size``.
            epochs: passes over the data. With ``batch_size``, each pass takes one
                step per mini-batch of a fresh shuffle of the rows (default: 20
                epochs); without it, a pass is one full-batch step, so ``epochs``
                means ``n_iterations`` (give one of the two).
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
            validation_fraction: instead, hold out this share of the rows (rounded;
                for a classifier each class's in proportion, every class keeping a row
                for training), drawn with ``random_state``, and measure it.
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
                after every epoch and at the end; one that raises ``sn.StopTraining``
                ends the run after the epoch in progress, as if it were the last.
            checkpoint: an ``sn.Checkpoint`` that writes the training state every few
                epochs and on Ctrl-C, and with ``resume=True`` continues from its file:
                the run then ends with exactly the model an uninterrupted run reaches.
                Resuming needs the same data, options and seed (an unseeded run would
                draw another validation split); another run's checkpoint is refused.
            warm_start: start from the fitted network's current weights instead of new
                ones (a fresh optimizer state and history; X is converted to the
                network's dtype). On a network not fitted yet it does nothing.
            verbose: show progress (True, False, or a number: any but 0 shows it):
                bars on stderr when it is a terminal; the record lines on stderr for
                mini-batches, on stdout for full-batch iterations.

        Raises:
            InvalidArgumentError, InvalidTypeError: a bad value or combination.
            TrainingDivergedError: the cost became non-finite or over 1000 times the
                larger of its first value and the cost of the best constant prediction
                (``OutputLayer.constant_loss``), or the final weights are not finite;
                the network keeps the weights it had before the call.
        """
        callbacks = check_callbacks(callbacks)
        warm_start = check_flag(warm_start, "warm_start")
        check_flag(verbose, "verbose", numbers_too=True)
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise InvalidTypeError(
                f"checkpoint must be a scratchnet.Checkpoint, got {checkpoint!r}; "
                "write checkpoint=Checkpoint(path)"
            )
        start = self.parameters if warm_start else None
        X, labels, classes, weights = self._inputs(X, y, classes, sample_weight, start)
        config = training_config(
            learning_rate=learning_rate, n_iterations=n_iterations, epochs=epochs,
            batch_size=batch_size, optimizer=optimizer, schedule=schedule,
            weight_decay=weight_decay, patience=patience, log_every=log_every,
            measure_training=measure_training, augment=augment_for(augment, X.shape[1]),
        )  # fmt: skip
        check_early_stopping(
            patience, validation_data is not None or validation_fraction is not None
        )
        rng = check_random_state(self.random_state)
        seed = fingerprint_random_state(rng) if checkpoint is not None else None
        plan = self._column_groups(X, config, every_row=validation_fraction is None)
        needed = self.training_memory(
            X.shape[1], X.dtype, config.optimizer, patience, checkpoint, config.batch_size,
            column_groups=plan is not None,
        )  # fmt: skip
        copy = 0 if plan is None else plan.copy_bytes(X.dtype.itemsize)
        check_fits(needed + copy, advice=SMALLER_LAYERS if copy <= needed else MINI_BATCHES)
        data = self._dataset(X, labels, classes, weights, config, plan)
        data, validation = self._validation_split(
            data, X.shape[1], validation_data, validation_fraction, classes, weights, rng
        )
        if start is None:
            parameters = self._initial_parameters(X.shape[1], X.dtype, rng)
        else:
            parameters = start.copy()
        state = TrainingState(parameters, config.optimizer.init(parameters.flat), rng)
        if checkpoint is not None:
            identity = self._fingerprint(config, seed, X, labels, validation_data,
                                         validation_fraction, weights, start)  # fmt: skip
            steps = steps_per_epoch(len(data), config.batch_size)
            state = checkpoint.start(state, identity, config, steps)
        state = self._train(state, data, validation, config, callbacks, verbose, checkpoint)
        self._keep(state, config, classes)
        self.held_out = validation.rows if validation_fraction is not None else None
        return self

    def partial_fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        classes: Sequence[int] | None = None,
        sample_weight: np.ndarray | None = None,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        optimizer: str | Optimizer | None = None,
        weight_decay: float | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: bool = False,
    ) -> Network:
        """One more epoch (pass over X, y) of the run this network is in; return self.

        The first call on a network not fitted yet starts a run from new weights; later
        calls (and calls after ``fit``) go on from the kept training state: weights,
        optimizer state (moments, velocity, step count), random generator, epoch count
        and history. A different ``optimizer`` than the last call's starts its state
        afresh. A network read by ``load``, or whose early stopping took its weights
        back to an earlier epoch, starts a new run from its weights. X is converted to
        the network's dtype once it has one. The learning rate is constant (there is
        no end of the run for a schedule to aim at).

        ``learning_rate``, ``batch_size``, ``optimizer`` and ``weight_decay`` left out
        (None) are those of the last ``fit`` or ``partial_fit`` (its learning rate before
        any schedule), or ``fit``'s defaults for a network that has not trained (a loaded
        one too): gradient descent at 0.1 on the full batch. A full batch after
        mini-batches: ``batch_size=len(X)``.

        ``classes`` (``NeuralNet``): the labels of the outputs, on the first call
        (default: the sorted labels of y); later calls must give the same or none. The
        other options are ``fit``'s.

        Raises:
            InvalidArgumentError, InvalidTypeError: a bad value or combination.
            TrainingDivergedError: the cost became non-finite or over 1000 times the
                larger of its first value and the cost of the best constant prediction
                (``OutputLayer.constant_loss``), or the final weights are not finite;
                the network keeps the weights and state it had before the call.
        """
        callbacks = check_callbacks(callbacks)
        check_flag(verbose, "verbose", numbers_too=True)
        X, labels, classes, weights = self._inputs(X, y, classes, sample_weight, self.parameters)
        run = self._steps or FIT_DEFAULTS
        config = training_config(
            learning_rate=run.learning_rate if learning_rate is None else learning_rate,
            n_iterations=None, epochs=1,
            batch_size=run.batch_size if batch_size is None else batch_size,
            optimizer=run.optimizer if optimizer is None else optimizer, schedule="constant",
            weight_decay=run.weight_decay if weight_decay is None else weight_decay,
            patience=None, log_every=1, measure_training=False,
        )  # fmt: skip
        data = self._dataset(X, labels, classes, weights)
        needed = self.training_memory(
            X.shape[1], X.dtype, config.optimizer, batch_size=config.batch_size,
            column_groups=False,  # partial_fit reads X itself
        )  # fmt: skip
        check_fits(needed)
        state = self._continued_state(config.optimizer, X.shape[1], X.dtype)
        config = dataclasses.replace(config, epochs=state.epochs_done + 1)
        state = self._train(state, data, None, config, callbacks, verbose, None)
        self._keep(state, config, classes)
        self.held_out = None
        return self

    def training_memory(
        self,
        n_features: int,
        dtype=np.float64,
        optimizer: str | Optimizer = "gd",
        patience: int | None = None,
        checkpoint: Checkpoint | None = None,
        batch_size: int | None = None,
        column_groups: bool = True,
    ) -> int:
        """Bytes that training this network on ``n_features`` inputs allocates besides
        the data (parameters, gradients, optimizer state, buffers), in batches of
        ``batch_size`` rows (None: full-batch training), counting for full batches the
        buffers of rows stored by ``column_groups`` (fit stores image-like rows so).
        ``fit`` refuses to start when the machine does not have them, and, for a full
        batch stored by column groups, the copy of X's non-zero columns it makes."""
        return training_bytes(
            (n_features, *self.layer_sizes),
            check_float_dtype(dtype).itemsize,
            get_optimizer(optimizer),
            dropout=self.dropout > 0,
            early_stopping=patience is not None,
            checkpoint=checkpoint is not None,
            full_batch=batch_size is None,
            column_groups=check_flag(column_groups, "column_groups") and batch_size is None,
        )

    def _inputs(self, X, y, classes, sample_weight, start: Parameters | None) -> tuple:
        """X, y (checked labels or targets), the classes and the sample weights, checked;
        ``start``: the weights training goes on from, if it does."""
        X = self._features(X, start)
        labels = self._labels(y, len(X))
        classes = self._classes(classes, labels, continuing=start is not None)
        weights = None if sample_weight is None else check_sample_weight(sample_weight, len(X))
        return X, labels, classes, weights

    def _features(self, X, start: Parameters | None) -> np.ndarray:
        """X checked; when training goes on from ``start``, with its width and dtype."""
        X = check_features(X)
        if start is None:
            return X
        given = check_features(X, n_features=start.widths[0], finite=False)
        return _cast_checked(given, start.flat.dtype, "X")

    def _column_groups(self, X, config, every_row: bool) -> Plan | None:
        """For full-batch training on ``every_row`` of X (none held out, which would
        have to be gathered from the copy at every step), the plan of a copy of its
        non-zero columns by column groups, when that makes the products at least 5%
        smaller than X's active column range (see nn/column_groups.py); else None."""
        if not every_row or config.batch_size is not None or config.augment:
            return None
        plan = plan_groups(X)
        if not len(plan.order):
            return plan  # no non-zero column: nothing to multiply either way
        active_width = int(plan.order.max() - plan.order.min()) + 1  # X's active range
        return plan if plan.work <= COMPACT_SHARE * len(X) * active_width else None

    def _dataset(self, X, labels, classes, weights, config=None, plan=None) -> Dataset:
        """The training rows: X's own columns (the range holding any non-zero value,
        or all of them under augmentation, which moves ink anywhere), or a copy of them
        stored by the column groups of ``plan``."""
        targets = self._encode(labels, classes, X.dtype)
        data_weights = None if weights is None else normalised_weights(weights, None, X.dtype)
        if config is not None and config.augment:
            return Dataset(X, targets, slice(0, X.shape[1]), weights=data_weights)
        if plan is not None:
            return Dataset(grouped(X, plan), targets, plan.order, weights=data_weights)
        return Dataset(X, targets, active_inputs(X), weights=data_weights)

    def _validation_split(self, data, n_features, validation_data, fraction, classes, weights, rng):
        """The training rows and the validation set: the caller's own, or a held-out
        ``fraction`` of the training rows (as row indices: nothing is copied),
        stratified by class for a classifier. Sample weights are normalised over each
        part."""
        if validation_data is not None and fraction is not None:
            raise InvalidArgumentError("give validation_data or validation_fraction, not both")
        if validation_data is not None:
            X_val, y_val = check_pair(validation_data)
            X_val = check_features(X_val, "validation X", n_features=n_features)
            X_val = _cast_checked(X_val, data.x.dtype, "validation X")
            name = "validation y"
            targets = self._encode(self._labels(y_val, len(X_val), name), classes, X_val.dtype,
                                   name)  # fmt: skip
            return data, Dataset(X_val, targets, active_inputs(X_val))
        if fraction is None:
            return data, None
        fraction = check_fraction(fraction, "validation_fraction")
        kept, held_out = split_rows(self._strata(data.targets), fraction, rng)
        return (_part(data, kept, weights, "the rows kept for training"),
                _part(data, held_out, weights, "the rows held out for validation"))  # fmt: skip

    def _continued_state(self, optimizer: Optimizer, n_features: int, dtype) -> TrainingState:
        """A copy of the kept training state (its optimizer state afresh if another
        optimizer made it); for a loaded network, its weights; else new weights."""
        if self._progress is not None:
            state = self._progress.state.snapshot()
            if self._progress.optimizer != optimizer:
                state.optimizer_state = optimizer.init(state.parameters.flat)
            return state
        rng = check_random_state(self.random_state)
        if self.parameters is None:
            parameters = self._initial_parameters(n_features, dtype, rng)
        else:
            parameters = self.parameters.copy()
        return TrainingState(parameters, optimizer.init(parameters.flat), rng)

    def _train(self, state, data, validation, config, callbacks, verbose, checkpoint):
        model = Model(state.parameters, get_activation(self.activation), self._output(),
                      self.dropout)  # fmt: skip
        callbacks = [*callbacks, ProgressBar()] if verbose else list(callbacks)
        return train(model, data, validation, config, state, callbacks, checkpoint)

    def _keep(self, state: TrainingState, config: TrainingConfig, classes) -> None:
        """Adopt a finished run's state and step options; its copy of the best weights is
        not needed any more (they are the parameters now). A run whose weights early
        stopping took back to an earlier epoch cannot go on where it stopped:
        partial_fit then starts a new run from these weights (with these options)."""
        history = state.history
        restored = state.best is not None and history.best_epoch != history.records[-1]["epoch"]
        state.best = None
        self.parameters, self.classes, self.history = state.parameters, classes, history
        self._progress = None if restored else Progress(state, config.optimizer)
        self._steps = StepOptions(config.learning_rate, config.batch_size, config.optimizer,
                                  config.weight_decay)  # fmt: skip

    def _fingerprint(
        self, config, seed, X, labels, validation_data, validation_fraction, weights, start
    ) -> dict:
        """What a checkpoint must match to be resumed by this fit (``seed``: the
        fingerprint of the generator before any draw; ``start``: the weights a warm
        start begins from)."""
        validation = None
        if validation_data is not None:
            validation = fingerprint_data(*map(np.asarray, validation_data))
        identity = {
            "network": repr((self.layer_sizes, self.activation, self.init, self.dropout)),
            "random_state": seed,
            "training": repr(config),
            "data": fingerprint_data(X, labels),
            "validation": repr((validation, validation_fraction)),
        }
        if weights is not None:
            identity["sample_weight"] = fingerprint_data(weights)
        if start is not None:
            identity["start"] = fingerprint_data(start.flat)
        return identity

    def _initial_parameters(self, n_features: int, dtype: np.dtype, rng) -> Parameters:
        parameters = Parameters((n_features, *self.layer_sizes), dtype)
        initializer = get_initializer(self.init)
        for layer in parameters.layers:
            layer.weight[...] = initializer(*layer.weight.shape, rng)
        return parameters

    # -- what the kind of network decides ------------------------------------------------

    def _output(self) -> OutputLayer:
        raise NotImplementedError

    def _labels(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        """y checked: class labels or regression targets."""
        raise NotImplementedError

    def _classes(self, classes, labels: np.ndarray, continuing: bool) -> np.ndarray | None:
        """The classes of the outputs (None for regression)."""
        raise NotImplementedError

    def _encode(self, labels: np.ndarray, classes, dtype: np.dtype, name: str = "y") -> np.ndarray:
        """The targets the output layer's loss compares with (of the labels called ``name``)."""
        raise NotImplementedError

    def _strata(self, targets: np.ndarray) -> np.ndarray:
        """The groups a validation split holds out the same share of."""
        raise NotImplementedError

    # -- prediction -----------------------------------------------------------------

    def _samples(self, X) -> tuple[np.ndarray, bool]:
        """X as rows, and whether it was one sample given as a 1-D array."""
        X = as_array(X, "X")
        n_features = self._fitted().widths[0]
        if X.ndim == 1 and X.shape[0] == n_features:
            return X[None, :], True
        one_image = (  # an image of a network of pixels: not two rows of a table
            X.ndim == 2 and min(X.shape) >= 8 and X.size == n_features != X.shape[1]
        )
        if X.ndim == 1 or one_image or (X.ndim > 2 and np.prod(X.shape[1:]) == n_features):
            raise InvalidArgumentError(
                f"X has shape {X.shape}; pass one sample as ({n_features},) or samples as "
                f"rows (n, {n_features}) (scratchnet.preprocess flattens images)"
            )
        return X, False

    def _logits(self, X: np.ndarray) -> np.ndarray:
        """z_L for every row of X, computed in chunks (n, n_outputs)."""
        parameters = self._fitted()
        given = check_features(X, n_features=parameters.widths[0], finite=False)
        X = _cast(given, parameters.flat.dtype)
        rows = min(len(X), ROWS_PER_CHUNK)
        model = Model(parameters, get_activation(self.activation), self._output())
        team = Team()
        propagation = Propagation(model, Columns(slice(0, X.shape[1])), rows, team)
        logits = np.empty((len(X), parameters.widths[-1]), X.dtype)
        with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):  # checked here
            try:
                for start in range(0, len(X), rows):
                    chunk = X[start : start + rows]
                    check_finite(chunk, X, "X", given)  # while the chunk is in cache
                    out = logits[start : start + len(chunk)]
                    propagation.logits(chunk, parameters.layers[0].weight, out)
                    _check_outputs(out, start, X.dtype)
            finally:
                team.close()
        return logits

    def _fitted(self) -> Parameters:
        if self.parameters is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit (or "
                f"{type(self).__name__}.load)"
            )
        return self.parameters

    # -- inspection and persistence -------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """The floating-point type of the fitted parameters (float32 or float64)."""
        return self._fitted().flat.dtype

    @property
    def output(self) -> str:
        """The output layer: ``"sigmoid"`` or ``"softmax"`` (classifiers), ``"identity"``
        (regression)."""
        return self._output().name

    @property
    def layers(self) -> list[Dense]:
        """Per-layer weight (fan_in, fan_out) and bias (fan_out,) arrays."""
        return self._fitted().layers

    def __repr__(self) -> str:
        state = f"fitted on {self._fitted().widths[0]} features" if self.parameters else "unfitted"
        return (
            f"{type(self).__name__}({list(self.layer_sizes)}, activation={self.activation!r}, "
            f"init={self.init!r}, dropout={self.dropout:g}; {state})"
        )

    def summary(self, n_features: int | None = None) -> str:
        """A table of layers, shapes, activations and parameter counts (of a network
        fitted, or to be fitted, on ``n_features`` inputs)."""
        if n_features is None:
            n_features = self._fitted().widths[0]
        n_features = check_positive_int(n_features, "n_features")
        widths = (n_features, *self.layer_sizes)
        output = self._output().name
        lines = [f"{'layer':<8}{'shape':>16}  {'activation':<11}{'parameters':>12}"]
        total = 0
        for index, (fan_in, fan_out) in enumerate(pairwise(widths), start=1):
            count = parameter_count((fan_in, fan_out))
            total += count
            activation = output if index == len(self.layer_sizes) else self.activation
            shape = f"{fan_in} -> {fan_out}"
            lines.append(f"{'dense_' + str(index):<8}{shape:>16}  {activation:<11}{count:>12,}")
        if self.dropout and len(self.layer_sizes) > 1:
            lines.append(f"dropout {self.dropout:g} after each hidden layer while training")
        elif self.dropout:
            lines.append(f"dropout {self.dropout:g} set, but there is no hidden layer to drop")
        lines.append(f"total parameters: {total:,}")
        return "\n".join(lines)

    def to_onnx(self, path: str | bytes | os.PathLike, dtype=None) -> None:
        """Write the network's inference graph as an ONNX model to ``path`` (atomically),
        in ``dtype`` (default: the network's). Needs the onnx extra:
        ``pip install 'scratchnet[onnx]'``; see ``scratchnet.interop.onnx``.

        A regular file at ``path`` is replaced, whole or not at all; a folder, device,
        FIFO or missing folder raises OSError naming the path."""
        from .interop.onnx import export  # the optional onnx package, only when asked

        export(self, check_path(path), dtype)

    def save(self, path: str | bytes | os.PathLike) -> None:
        """Write the model to ``path`` (.npz, readable with allow_pickle=False): its
        weights, not its training state. A file at ``path`` is replaced whole or not at
        all (atomically); a folder, device, FIFO or missing folder raises OSError
        naming the path."""
        path = check_path(path)
        parameters = self._fitted()
        meta = {
            "layer_sizes": list(self.layer_sizes),
            "n_features": parameters.widths[0],
            "activation": self.activation,
            "init": self.init,
            "dropout": self.dropout,
            "dtype": parameters.flat.dtype.name,
            "output": self.output,
        }
        write_model(path, StoredModel(meta, self.classes, parameters))

    @classmethod
    def load(cls, path: str | bytes | os.PathLike) -> Network:
        """Read a model written by ``save``; DataFileError naming the file if it is not
        one, or not one of this class (``Network.load`` reads either kind)."""
        path = check_path(path)
        stored = read_model(path)
        meta = stored.meta
        kind = NeuralNetRegressor if stored.output == "identity" else NeuralNet
        if not issubclass(kind, cls):
            raise DataFileError(
                f"{path}: holds a {kind.__name__} ({stored.output} output), not a "
                f"{cls.__name__}; read it with {kind.__name__}.load"
            )
        try:
            net = kind(
                meta["layer_sizes"],
                activation=meta["activation"],
                init=meta["init"],
                dropout=meta["dropout"],
            )
            classes = None if stored.classes is None else check_classes(stored.classes)
            if classes is not None:
                check_output_size(net.layer_sizes[-1], len(classes))
        except ScratchnetError as error:
            raise DataFileError(f"{path}: not a valid scratchnet model ({error})") from None
        net.parameters, net.classes = stored.parameters, classes
        return net


class NeuralNet(Network):
    """A fully connected classifier. One output unit means a sigmoid output with binary
    cross-entropy (two classes); k > 1 output units mean a softmax over k classes with
    categorical cross-entropy. The arguments are described on ``__init__``."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (n, k), columns in the order of ``self.classes``; for a
        single sample X of shape (n_features,), its row (k,)."""
        X, single = self._samples(X)
        probabilities = self._output().probabilities(self._logits(X))
        return probabilities[0] if single else probabilities

    def predict_log_proba(self, X: np.ndarray) -> np.ndarray:
        """The logarithms of ``predict_proba``, computed from the logits (finite where
        a probability rounds to 0)."""
        X, single = self._samples(X)
        log_probabilities = self._output().log_probabilities(self._logits(X))
        return log_probabilities[0] if single else log_probabilities

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class label of each row; for a single sample X of shape
        (n_features,), its label."""
        X, single = self._samples(X)
        labels = self.classes[self._output().predicted_indices(self._logits(X))]
        return labels[0] if single else labels

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy: the fraction of rows whose predicted label equals y. Labels the
        model does not know are refused (they could never be predicted right)."""
        self._fitted()
        labels = check_labels(y, len(check_features(X, finite=False)))
        known = np.isin(labels, self.classes)
        if not np.all(known):
            raise InvalidArgumentError(
                f"y holds labels the model does not predict: {np.unique(labels[~known]).tolist()}"
                f"; its classes are {self.classes.tolist()} (label y the way the model was "
                "trained: load_mnist numbers classes 0..k-1 unless relabel=False)"
            )
        return float(np.mean(self.predict(X) == labels))

    def _output(self) -> ClassifierOutput:
        return output_layer(self.layer_sizes[-1])

    def _labels(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        return check_labels(y, n_samples, name)

    def _classes(self, classes, labels: np.ndarray, continuing: bool) -> np.ndarray:
        if not continuing:
            n_outputs = self.layer_sizes[-1]
            hint = f", or name all {n_outputs} classes with classes=[...]" + (
                " (the labels of y are taken for them otherwise)" if classes is None else ""
            )
            classes = check_classes(classes, labels)
            check_output_size(n_outputs, len(classes), hint)
            return classes
        if classes is not None and not np.array_equal(check_classes(classes), self.classes):
            raise InvalidArgumentError(
                f"classes {np.asarray(classes).tolist()} differ from the classes the network "
                f"was fitted with, {self.classes.tolist()}; training goes on with those"
            )
        return self.classes

    def _encode(self, labels: np.ndarray, classes, dtype: np.dtype, name: str = "y") -> np.ndarray:
        return self._output().encode(encode_labels(labels, classes, name), dtype)

    def _strata(self, targets: np.ndarray) -> np.ndarray:
        return targets if targets.ndim == 1 else targets[:, 0]


class NeuralNetRegressor(Network):
    """A fully connected network for regression: an identity output of k units (k real
    targets per row), trained on half the mean squared error,
    L = 1 / (2k) sum_j (z_j - t_j)^2 per row (scikit-learn's MLPRegressor convention).
    Its records have no accuracy (None). The arguments are described on ``__init__``."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted values: (n,) for one output unit, else (n, k); for a single
        sample X of shape (n_features,), its value (or its row of k)."""
        X, single = self._samples(X)
        values = self._logits(X)
        values = values[:, 0] if values.shape[1] == 1 else values
        return values[0] if single else values

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """The coefficient of determination R^2 = 1 - SS_res / SS_tot, averaged over the
        outputs (scikit-learn's ``r2_score``); an output whose targets are all equal
        scores 1 if predicted exactly, else 0."""
        X = check_features(X, finite=False)
        targets = check_targets(y, len(X), self.layer_sizes[-1], layers_follow=False)
        targets = targets.reshape(len(X), -1)
        targets = targets.astype(np.float64)
        check_finite(targets, targets, "y")
        residual = np.sum((targets - self._logits(X).reshape(len(X), -1)) ** 2, axis=0)
        total = np.sum((targets - targets.mean(axis=0)) ** 2, axis=0)
        return float(np.mean(r_squared(residual, total)))

    def _output(self) -> OutputLayer:
        return output_layer(self.layer_sizes[-1], regression=True)

    def _labels(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        layers_follow = name == "y" and self.parameters is None  # else the model is made
        return check_targets(y, n_samples, self.layer_sizes[-1], name, layers_follow)

    def _classes(self, classes, labels: np.ndarray, continuing: bool) -> None:
        if classes is not None:
            raise InvalidArgumentError(
                "classes is for classifiers; a NeuralNetRegressor predicts real values"
            )
        return None

    def _encode(self, labels: np.ndarray, classes, dtype: np.dtype, name: str = "y") -> np.ndarray:
        with np.errstate(over="ignore"):  # checked next
            targets = self._output().encode(labels, dtype)
        check_finite(targets, targets, name, given=labels.reshape(targets.shape))
        return targets

    def _strata(self, targets: np.ndarray) -> np.ndarray:
        return np.zeros(len(targets))


def _part(data: Dataset, rows: np.ndarray, weights: np.ndarray | None, which: str) -> Dataset:
    """The ``rows`` of ``data`` (``which`` rows, in a message), with the sample weights
    normalised over them."""
    if weights is not None:
        weights = normalised_weights(weights, rows, data.x.dtype, f"sample_weight of {which}")
    return Dataset(data.x, data.targets, data.active, rows, weights)


def _cast(X: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """X in the model's dtype; a value too large for it becomes infinite, which
    ``check_finite`` then reports with the value given."""
    with np.errstate(over="ignore"):
        return X.astype(dtype, copy=False)


def _cast_checked(given: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """``given`` in ``dtype``; when it had to be cast, refused (naming ``name``) if a
    value does not fit (a narrower dtype turns it infinite); an array not cast is
    checked where it is used."""
    X = _cast(given, dtype)
    if X is not given:
        check_finite(X, X, name, given)
    return X


def _check_outputs(logits: np.ndarray, first_row: int, dtype: np.dtype) -> None:
    """InvalidArgumentError if finite inputs (rows from ``first_row``) gave outputs that
    are not: products too large for ``dtype`` overflowed on the way."""
    if np.isfinite(np.add.reduce(logits, axis=None)):  # one pass; inf - inf is NaN
        return
    bad = np.flatnonzero(~np.isfinite(logits).all(axis=1))
    if bad.size:
        raise InvalidArgumentError(
            f"the network's outputs overflow {dtype.name} for {bad.size} row(s) of X (first "
            f"row {first_row + bad[0]}): X is too large for its weights (scale the features "
            "as the training data was), or the weights too large for any input"
        )
