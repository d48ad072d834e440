"""scikit-learn estimators over scratchnet's networks: ``ScratchNetClassifier`` and
``ScratchNetRegressor`` (``pip install 'scratchnet[sklearn]'``).

They follow the estimator contract (``get_params``/``set_params``, ``clone``, fitted
attributes ending in ``_``, ``check_estimator``), so they work in a ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``. They are thin: they validate input the
scikit-learn way and hand the training to ``NeuralNet`` / ``NeuralNetRegressor``, whose
fitted network they keep as ``net_`` (``est.net_.save(...)``, ``est.net_.to_onnx(...)``).
Integer class labels (and whole numbers stored as floats, 3.0 say) are the network's own,
so its model file and ONNX export predict them; other labels (strings, say) reach the
network as their positions 0..k-1 in
``classes_``, which map its predictions back. A call to ``fit`` or ``partial_fit`` that
fails leaves the estimator as it was.

Where they have the same knob, the defaults are MLPClassifier's (100 ReLU units, Glorot
uniform weights, Adam with lr 0.001, batches of 200 rows, 200 epochs), though some are
named otherwise (``epochs`` for ``max_iter``, ``learning_rate`` for
``learning_rate_init``, ``weight_decay`` for ``alpha``, ``optimizer`` for ``solver``,
and ``batch_size`` takes no "auto"); unlike MLP*, training runs every epoch asked for
unless ``patience`` stops it. A sparse X is made dense (once it fits in memory).
Beyond MLP*: a validation-loss curve, best-weight restore with ``patience``, dropout,
learning-rate schedules, and sample weights in every mode.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from . import missing_extra

try:
    from scipy.sparse import issparse
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as error:
    raise missing_extra("the scikit-learn interface (ScratchNetClassifier, ScratchNetRegressor)",
                        "sklearn", error) from None  # fmt: skip

from ..errors import InvalidArgumentError, InvalidTypeError
from ..metrics import r_squared
from ..network import Network, NeuralNet, NeuralNetRegressor
from ..nn.losses import output_units
from ..training.memory import check_fits
from ..validation import (
    check_early_stopping,
    check_flag,
    check_float_dtype,
    check_layer_sizes,
    check_positive_int,
    encode_labels,
)

FLOAT_TYPES = (np.float64, np.float32)  # X of another type becomes the first
SPARSE = ("csr", "csc", "coo")  # others (dok, lil) are converted, so their NaNs are found


def _all_or_nothing(method: Callable) -> Callable:
    """A training call that fails (a bad option, bad data, Ctrl-C) leaves the estimator's
    attributes as they were: a fitted estimator keeps predicting what it predicted, an
    unfitted one stays unfitted. (The network itself is left unchanged by a failed fit.)"""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return call


class _ScratchNetEstimator(BaseEstimator):
    """What both estimators share: the hyperparameters, the call into the network and
    the fitted attributes it leaves (described on ``__init__``, which ``help`` shows for
    each estimator)."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        init="glorot",
        optimizer="adam",
        learning_rate=1e-3,
        schedule="constant",
        batch_size=200,
        epochs=200,
        weight_decay=0.0,
        dropout=0.0,
        validation_fraction=None,
        patience=None,
        dtype=None,
        random_state=None,
        verbose=False,
        warm_start=False,
    ):
        """The hyperparameters, each kept as given (``get_params``, ``clone``) and checked
        when fitting.

        Parameters:
            hidden_layer_sizes: the sizes of the hidden layers (an int: one layer).
            activation: ``"relu"``, ``"leaky_relu"``, ``"tanh"`` or ``"sigmoid"``.
            init: weight initialiser, ``"glorot"`` (uniform, MLPClassifier's), ``"he"`` or
                ``"lecun"``.
            optimizer: ``"adam"``, ``"sgd"``, ``"momentum"``, ``"nesterov"``, or a
                configured ``sn.Adam``, ``sn.Momentum``, ``sn.GradientDescent``.
            learning_rate: the step size (before the schedule).
            schedule: ``"constant"``, ``"step"``, ``"cosine"`` or a configured schedule.
            batch_size: rows per mini-batch; with at least as many as the training rows
                (or None), every epoch is one full-batch step.
            epochs: passes over the training data.
            weight_decay: L2 penalty lambda on the weights (gradient lambda W).
            dropout: inverted-dropout rate of the hidden units while training.
            validation_fraction: hold out this share of the rows (stratified by class
                for the classifier) and measure it after every epoch (None: no
                validation).
            patience: stop when the validation loss has not improved for this many
                epochs, and keep the best epoch's weights (needs validation_fraction).
            dtype: ``"float64"`` or ``"float32"``, the type of the weights and of the
                computation (None: X's own, float64 for other input, as scikit-learn's
                MLPs do).
            random_state: seeds the weights, shuffles, dropout and validation split (an
                int, a NumPy Generator or RandomState, or None).
            verbose: show progress as ``NeuralNet.fit`` does: a line per epoch on stderr
                (and a bar on a terminal); in full-batch training, a line per epoch on
                stdout.
            warm_start: ``fit`` starts from the current weights of a fitted estimator,
                with the hyperparameters set now (the same layer sizes); the classifier
                keeps its classes, of which y may hold some.

        Fitted attributes:
            net_: the trained ``NeuralNet`` or ``NeuralNetRegressor``.
            n_features_in_, feature_names_in_ (with a DataFrame's column names).
            n_outputs_: output units (the classifier's: 1 for two classes).
            loss_curve_: the training loss after each epoch of the network's current run
                (a run is one fit, and the partial_fit calls that follow it; after a fit
                whose early stopping took the weights back to an earlier epoch,
                partial_fit starts a new run from them): in mini-batch training the mean
                over the epoch's batches as trained, in full-batch training the loss of
                the weights after the epoch. It is the data's loss: weight_decay's penalty
                is not in it (MLPClassifier's loss_curve_ holds its L2 term).
            validation_loss_curve_, validation_scores_: the validation set's loss and
                score (classifier: accuracy; regressor: R^2) after each epoch of the fit;
                None without validation_fraction. partial_fit holds out no rows: its
                epochs leave them as they were (a new run it starts has none).
            best_epoch_: the epoch whose weights were kept (None without patience, and
                after a partial_fit, which keeps its last epoch's weights).
            n_iter_: the epochs the current run has trained.
            coefs_, intercepts_: read-only views of each layer's weight (fan_in, fan_out)
                and bias (fan_out,).
        """
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    network_class: type[Network]

    # -- training ---------------------------------------------------------------------

    def _fit(self, X, targets, sample_weight, n_outputs: int, classes=None):
        check_positive_int(self.epochs, "epochs")  # (None would be fit's own default)
        check_flag(self.warm_start, "warm_start")
        check_flag(self.verbose, "verbose", numbers_too=True)  # as MLP's
        check_early_stopping(self.patience, self.validation_fraction is not None, _parameter_name)
        warm = self.warm_start and hasattr(self, "net_")
        if warm:
            self._check_same_dtype("warm_start")
        sample_weight = _per_row(sample_weight, len(X))
        net = self._warm_network(n_outputs) if warm else self._network(n_outputs)
        net.fit(
            X, targets, classes=classes, sample_weight=sample_weight, epochs=self.epochs,
            batch_size=self.batch_size, optimizer=self.optimizer,
            learning_rate=self.learning_rate, schedule=self.schedule,
            weight_decay=self.weight_decay, validation_fraction=self.validation_fraction,
            patience=self.patience, log_every=1, warm_start=warm, verbose=self.verbose,
        )  # fmt: skip
        return self._adopt(net, n_outputs, targets, sample_weight)

    def _partial_fit(self, X, targets, sample_weight, n_outputs: int, classes=None):
        if hasattr(self, "net_"):
            self._check_same_dtype("partial_fit")
            self._check_same_network(n_outputs)
        sample_weight = _per_row(sample_weight, len(X))
        net = self.net_ if hasattr(self, "net_") else self._network(n_outputs)
        full_batch = self.batch_size is None  # (None is 'the run's own' to partial_fit)
        net.partial_fit(
            X, targets, classes=classes, sample_weight=sample_weight,
            learning_rate=self.learning_rate, batch_size=len(X) if full_batch else self.batch_size,
            optimizer=self.optimizer, weight_decay=self.weight_decay, verbose=self.verbose,
        )  # fmt: skip
        return self._adopt(net, n_outputs, targets, sample_weight)

    def _check_same_dtype(self, going_on: str) -> None:
        """A dtype asked for now must be the fitted network's, which training goes on in
        (it was ignored in silence)."""
        if self.dtype is not None and check_float_dtype(self.dtype) != self.net_.dtype:
            raise InvalidArgumentError(
                f"{going_on} goes on with the fitted network's {self.net_.dtype.name}, not "
                f"dtype={self.dtype!r}; set dtype=None, or fit afresh (warm_start=False)"
            )

    def _check_same_network(self, n_outputs: int) -> None:
        """partial_fit goes on training the fitted network: layers, activation or
        dropout set since then would be ignored in silence, so they are refused."""
        fitted = self.net_
        changed = [
            f"{parameter}={now!r} (the network's: {then!r})"
            for parameter, now, then in (
                (
                    "hidden_layer_sizes",
                    check_layer_sizes([*self._hidden_sizes(), 1])[:-1],
                    fitted.layer_sizes[:-1],
                ),
                ("activation", self.activation, fitted.activation),
                ("dropout", self.dropout, fitted.dropout),
            )
            if now != then
        ]
        if changed:
            raise InvalidArgumentError(
                f"partial_fit goes on training the fitted network, not one of "
                f"{', '.join(changed)}; set them back, or fit afresh"
            )

    def _hidden_sizes(self) -> tuple:
        """hidden_layer_sizes as a tuple (an int is one layer)."""
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, numbers.Integral):
            return (hidden,)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Iterable):
            raise InvalidTypeError(
                f"hidden_layer_sizes must be an int or a sequence of ints, got {hidden!r}"
            )
        return tuple(hidden)

    def _network(self, n_outputs: int) -> Network:
        return self.network_class(
            [*self._hidden_sizes(), n_outputs],
            activation=self.activation, init=self.init,
            dropout=self.dropout, random_state=self.random_state,
        )  # fmt: skip

    def _warm_network(self, n_outputs: int) -> Network:
        """A network of the hyperparameters asked for now, starting from the fitted
        network's weights (its layer sizes must be the same)."""
        network = self._network(n_outputs)
        if network.layer_sizes != self.net_.layer_sizes:
            raise InvalidArgumentError(
                f"warm_start needs the fitted network's layer sizes, "
                f"{list(self.net_.layer_sizes)}; got {list(network.layer_sizes)} (set "
                "warm_start=False to start afresh)"
            )
        network.parameters, network.classes = self.net_.parameters, self.net_.classes
        return network

    def _adopt(self, net: Network, n_outputs: int, targets, sample_weight):
        """Keep the trained network and describe it in the fitted attributes (the
        targets it was given are needed to score its validation rows)."""
        self.net_ = net
        self.n_outputs_ = n_outputs
        records = [record for record in net.history.records if record["epoch"] >= 1]
        self.loss_curve_ = [record["loss"] for record in records]
        validated = [record for record in records if record["val_loss"] is not None]
        if not validated:
            self.validation_loss_curve_ = self.validation_scores_ = None
        elif validated[-1] is records[-1]:  # this call measured the validation rows
            self.validation_loss_curve_ = [record["val_loss"] for record in validated]
            self.validation_scores_ = self._validation_scores(validated, targets, sample_weight)
        # else partial_fit went on after a fit that validated: its curves stay the fit's
        self.best_epoch_ = net.history.best_epoch
        self.n_iter_ = records[-1]["epoch"] if records else 0
        return self

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Read-only views of each layer's weight, of ``net_`` as it is now (a copy made
        by pickle or deepcopy included)."""
        return [_read_only(layer.weight) for layer in self._layers("coefs_")]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Read-only views of each layer's bias, as ``coefs_``."""
        return [_read_only(layer.bias) for layer in self._layers("intercepts_")]

    def _layers(self, attribute: str):
        """The fitted network's layers; AttributeError naming ``attribute`` before fit
        (as a fitted attribute not yet set would, so hasattr says False)."""
        if "net_" not in self.__dict__:
            raise AttributeError(f"{attribute} is set by fit: this estimator is not fitted yet")
        return self.net_.layers

    def __setstate__(self, state: dict) -> None:
        """Estimators pickled when coefs_ and intercepts_ were stored arrays drop them:
        the properties give views of the network instead."""
        state.pop("coefs_", None)
        state.pop("intercepts_", None)
        super().__setstate__(state)

    def _validation_scores(self, records: list[dict], targets, sample_weight) -> list[float]:
        raise NotImplementedError

    # -- input -------------------------------------------------------------------------

    def _validated(self, X, y, reset: bool = True, **options):
        """X and y checked and converted the scikit-learn way, X in the dtype asked for
        (by default float32 stays float32 and anything else becomes float64), dense."""
        dtype = FLOAT_TYPES if self.dtype is None else check_float_dtype(self.dtype)
        X, y = validate_data(self, X, y, reset=reset, dtype=dtype, accept_sparse=SPARSE, **options)
        return _dense(X), y

    def _features(self, X):
        """X to predict from, checked against what the estimator was fitted on, dense."""
        check_is_fitted(self)
        return _dense(validate_data(self, X, reset=False, dtype=self.net_.dtype,
                                    accept_sparse=SPARSE))  # fmt: skip

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class ScratchNetClassifier(ClassifierMixin, _ScratchNetEstimator):
    """A fully connected classifier trained by scratchnet (``NeuralNet``): one sigmoid
    output for two classes, a softmax for more. The hyperparameters and fitted
    attributes are described on ``__init__``; ``classes_`` holds the class
    labels in the order of ``predict_proba``'s columns, ``validation_scores_`` the
    validation accuracy after each epoch.

    ``partial_fit`` runs one more epoch of the current run (the classes on the first
    call), continuing the optimizer's state; its learning rate is constant.
    """

    network_class = NeuralNet

    @_all_or_nothing
    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features) and labels y; return self."""
        X, y = self._validated(X, y)
        y = _labels(y)
        warm = self.warm_start and hasattr(self, "net_")
        if warm:
            _check_known_classes(y, self.classes_)
        else:
            self.classes_ = np.unique(y)
        labels = self.net_.classes if warm else self._network_labels()
        n_outputs = output_units(len(self.classes_))
        return self._fit(X, labels[self._indices(y)], sample_weight, n_outputs, labels)

    @_all_or_nothing
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One more epoch on X, y; ``classes`` (every label that will ever be seen) is
        needed on the first call. Return self."""
        first = not hasattr(self, "net_")
        X, y = self._validated(X, y, reset=first)
        y = _labels(y)
        if first:
            if classes is None:
                raise InvalidArgumentError("classes must be given on the first call to partial_fit")
            self.classes_ = np.unique(_labels(np.asarray(classes)))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise InvalidArgumentError(
                f"classes {np.unique(classes).tolist()} differ from those the estimator was "
                f"fitted with, {self.classes_.tolist()}"
            )
        labels = self._network_labels() if first else self.net_.classes
        n_outputs = output_units(len(self.classes_))
        classes = labels if first else None
        return self._partial_fit(X, labels[self._indices(y)], sample_weight, n_outputs, classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in the order of classes_."""
        X = self._features(X)
        return self.net_.predict_proba(X)

    def predict_log_proba(self, X) -> np.ndarray:
        """Their logarithms, computed from the logits (finite where a probability
        rounds to 0)."""
        X = self._features(X)
        return self.net_.predict_log_proba(X)

    def predict(self, X) -> np.ndarray:
        """The most probable class label of each row."""
        X = self._features(X)
        return self.classes_[np.searchsorted(self.net_.classes, self.net_.predict(X))]

    def _network_labels(self) -> np.ndarray:
        """The labels a new network trains on, in the order of classes_: classes_ itself
        when it holds integers (int64 can hold), or whole numbers as floats (each within
        2**53, where every integer is a float), else the positions 0..k-1. (A fitted
        network goes on with its own, ``net_.classes``, in the same order.)"""
        classes = self.classes_
        if classes.dtype.kind in "iu" and np.array_equal(classes.astype(np.int64), classes):
            return classes.astype(np.int64)
        if classes.dtype.kind == "f" and np.all(np.abs(classes) <= 2**53):
            whole = classes.astype(np.int64)
            if np.array_equal(whole, classes):
                return whole
        return np.arange(len(classes))

    def _indices(self, y: np.ndarray) -> np.ndarray:
        """The position of each label in classes_ (InvalidArgumentError for unknown labels)."""
        if len(self.classes_) < 2:
            raise InvalidArgumentError(
                f"y holds one class only ({self.classes_.tolist()[0]!r}); a classifier needs at "
                "least two classes"
            )
        return encode_labels(y, self.classes_)

    def _validation_scores(self, records: list[dict], targets, sample_weight) -> list[float]:
        return [record["val_accuracy"] for record in records]


class ScratchNetRegressor(RegressorMixin, _ScratchNetEstimator):
    """A fully connected regressor trained by scratchnet (``NeuralNetRegressor``): an
    identity output per target, half the mean squared error. One target (y of shape
    (n,)) gives predictions of shape (n,), several (n, k) give (n, k).
    ``validation_scores_`` holds the validation set's R^2 after each epoch (for several
    targets the variance-weighted R^2, 1 - total squared error / total variance). The
    hyperparameters and other fitted attributes are described on ``__init__``.
    """

    network_class = NeuralNetRegressor

    @_all_or_nothing
    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features) and targets y (n_samples,) or
        (n_samples, n_targets); return self."""
        X, y = self._validated(X, y, multi_output=True, y_numeric=True)
        y = _targets(y)
        return self._fit(X, y, sample_weight, 1 if y.ndim == 1 else y.shape[1])

    @_all_or_nothing
    def partial_fit(self, X, y, sample_weight=None):
        """One more epoch on X, y; return self."""
        first = not hasattr(self, "net_")
        X, y = self._validated(X, y, reset=first, multi_output=True, y_numeric=True)
        y = _targets(y)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if not first and n_outputs != self.n_outputs_:
            raise InvalidArgumentError(
                f"y has {n_outputs} target column(s) but this regressor was fitted on "
                f"{self.n_outputs_}; partial_fit goes on with the targets it started with"
            )
        return self._partial_fit(X, y, sample_weight, n_outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n_samples, k): k output units
        return tags

    def predict(self, X) -> np.ndarray:
        """The predicted targets: (n_samples,) for one target, else (n_samples, k)."""
        X = self._features(X)
        return self.net_.predict(X)

    def _validation_scores(self, records: list[dict], y, sample_weight) -> list[float]:
        """R^2 = 1 - SS_res / SS_tot from each validation loss: the loss is
        sum_i w_i sum_j (z_ij - t_ij)^2 / (2 k sum_i w_i), so SS_res = 2 k W loss, with
        W = sum_i w_i the weight of the held-out rows (their number, unweighted)."""
        rows = self.net_.held_out
        targets = y[rows].reshape(len(rows), -1).astype(np.float64)
        weights = np.ones(len(rows)) if sample_weight is None else np.asarray(sample_weight)[rows]
        mean = np.average(targets, axis=0, weights=weights)
        total = float(np.sum(weights[:, None] * (targets - mean) ** 2))
        scale = 2 * targets.shape[1] * np.sum(weights)
        return [float(r_squared(scale * record["val_loss"], total)) for record in records]


def _dense(X):
    """X itself, or a sparse X as the dense array the network's products take, once it
    is known to fit in memory (a one-hot encoding of a few columns, say)."""
    if not issparse(X):
        return X
    check_fits(X.shape[0] * X.shape[1] * X.dtype.itemsize, "a dense copy of this sparse X",
               "pass fewer rows at a time, or fewer features")  # fmt: skip
    return X.toarray()


def _check_known_classes(y: np.ndarray, classes: np.ndarray) -> None:
    """A warm start trains the fitted network's outputs, one per class of ``classes``:
    y may hold some of them (a batch of new data), but no other."""
    new = np.setdiff1d(y, classes)
    if len(new):
        raise InvalidArgumentError(
            f"warm_start goes on with the fitted classes {classes.tolist()}; y holds "
            f"others, {new.tolist()} (set warm_start=False to fit these labels afresh)"
        )


def _per_row(sample_weight, n_rows: int):
    """One weight per row: a single number weighs every row alike, as in scikit-learn."""
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        return np.full(n_rows, sample_weight, dtype=np.float64)
    return sample_weight


def _labels(y) -> np.ndarray:
    """Classification targets as a 1-D array (a column vector warns, as scikit-learn
    does); continuous values are refused."""
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return y


def _targets(y) -> np.ndarray:
    """Regression targets: a single column (n, 1) warns and becomes (n,)."""
    if y.ndim == 2 and y.shape[1] == 1:
        return column_or_1d(y, warn=True)
    return y


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _parameter_name(name: str) -> str | None:
    """How the estimators spell a parameter of ``NeuralNet.fit`` (None: they have none:
    validation comes from ``validation_fraction`` alone)."""
    return None if name == "validation_data" else name
