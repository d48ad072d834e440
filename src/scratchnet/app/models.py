"""Which model ``scratchnet predict`` and ``scratchnet serve`` use, and how it describes
itself.

The model given with ``--model``; else the newest ``runs/*/model.npz`` (what
``scratchnet train`` writes); else the starter model in the cache folder, trained there
the first time (a few seconds), so both commands work out of the box. A model's test
accuracy is known when its run folder's metrics.json records it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from ..data.mnist import cache_dir
from ..errors import DataFileError, InvalidArgumentError
from ..network import Network, NeuralNet
from ..nn.losses import output_layer
from ..nn.parameters import parameter_count
from .arguments import DATA_DIR_HELP
from .evaluation import model_digits
from .experiment import (
    METRICS_FILE,
    MODEL_FILE,
    build_network,
    model_mismatch,
    output_bytes,
    recipe_of,
    run_recipe,
    write_outputs,
)
from .metrics_file import read_metrics
from .presets import STARTER
from .run_folder import RunFolder

RUNS = Path("runs")
STARTER_FOLDER = "models/starter-v1"  # a new recipe gets a new folder
MODEL_HELP = (
    "model.npz to use (default: the newest runs/*/model.npz, else a starter model trained "
    "once into the cache folder)"
)
STARTER_DATA_DIR_HELP = f"for training the starter model: {DATA_DIR_HELP}"


@dataclass(frozen=True)
class ChosenModel:
    """A loaded network, the file it came from and its test accuracy (None if unknown)."""

    net: NeuralNet
    path: Path
    test_accuracy: float | None

    def describe(self) -> dict:
        """The model for people and pages: file, classes, layers, parameter count, summary
        and test accuracy."""
        net = self.net
        widths = [net.layers[0].weight.shape[0], *net.layer_sizes]
        activations = [net.activation] * (len(widths) - 2) + [output_layer(widths[-1]).name]
        layers = [
            {"inputs": fan_in, "outputs": fan_out, "activation": activation}
            for (fan_in, fan_out), activation in zip(pairwise(widths), activations, strict=True)
        ]
        return {
            "path": str(self.path),
            "classes": [int(c) for c in net.classes],
            "layers": layers,
            "parameters": parameter_count(widths),
            "test_accuracy": self.test_accuracy,
            "summary": net.summary(),
        }


def choose_model(
    path: Path | None,
    data_dir: str | os.PathLike | None = None,
    say: Callable[[str], object] = print,
) -> ChosenModel:
    """The model at ``path``; without one, the newest under ./runs, else the starter
    (trained into the cache folder the first time, with MNIST from ``data_dir``).
    ``say`` tells which model is used, and which digits it tells apart, when the user
    did not name one (the newest run may be of two digits only)."""
    if path is not None:
        return load_chosen(path)
    path = newest_run_model() or starter_model(data_dir, say)
    chosen = load_chosen(path)
    say(f"using the model {path} (digits {' '.join(map(str, chosen.net.classes))})")
    return chosen


def load_chosen(path: Path) -> ChosenModel:
    """The classifier in ``path``, refused unless it reads 28x28 images into MNIST
    digits (as evaluate refuses it: predict answered '7000' of a model so trained)."""
    net = load_classifier(path)
    model_digits(net, path)
    return ChosenModel(net, path, recorded_test_accuracy(path, net))


def load_classifier(path: Path) -> NeuralNet:
    """The classifier saved in ``path``; a regression model is refused in the command
    line's terms, not Python's (NeuralNet.load's advice is to use NeuralNetRegressor)."""
    net = Network.load(path)
    if not isinstance(net, NeuralNet):
        raise DataFileError(
            f"{path}: a regression model (identity output), not a classifier of digits"
        )
    return net


def newest_run_model(runs: Path = RUNS) -> Path | None:
    """The most recently written runs/*/model.npz, if any."""
    models = [path for path in runs.glob(f"*/{MODEL_FILE}") if path.is_file()]
    return max(models, key=lambda path: path.stat().st_mtime, default=None)


def starter_model(data_dir: str | os.PathLike | None, say: Callable[[str], object] = print) -> Path:
    """The cached starter model, trained (and written as a run folder) if it is missing
    or damaged (the cache is scratchnet's own: a file cut short there is trained again,
    and said); while another scratchnet trains it, it is waited for."""
    folder = cache_dir() / STARTER_FOLDER
    path = folder / MODEL_FILE
    if _unusable(path) is None:
        return path
    net = build_network(STARTER)
    run = RunFolder.claim(folder, force=True, need_bytes=output_bytes(net, STARTER),
                          on_busy=lambda who: say(f"waiting for {who}, which is training "
                                                  "the starter model"))  # fmt: skip
    problem = _unusable(path)
    if problem is None:  # the run waited for has trained it
        run.release()
        return path
    if path.exists():
        say(f"{problem}; training the starter model again, a few seconds")
    else:
        say(f"no model given and none under ./{RUNS}: training the starter model, a few seconds")
    try:
        result = run_recipe(STARTER, net, data_dir, say=lambda _: None, progress=False)
        write_outputs(run.staging, result)
        run.publish()
    except BaseException:
        run.abandon(remove_checkpoint=False)
        raise
    run.release()
    return path


def _unusable(path: Path) -> str | None:
    """Why the model at ``path`` cannot be read as a classifier of MNIST digits (None if
    it can): damaged, of another kind, or reading other inputs or classes."""
    try:
        load_chosen(path)
    except (DataFileError, InvalidArgumentError) as error:
        return str(error)
    return None


def recorded_test_accuracy(model_path: Path, net: NeuralNet) -> float | None:
    """The test accuracy in the metrics.json beside the model, if it describes this very
    model, as the report would have it: the file checked and of a bounded size, and the
    model's digits, layers and SHA-256 those recorded (a model copied into another run's
    folder, or trained further and saved there, does not inherit that run's accuracy)."""
    path = model_path.parent / METRICS_FILE
    try:
        metrics = read_metrics(path)
        recipe = recipe_of(metrics, path)
    except DataFileError:  # none, or one the report would refuse
        return None
    if model_mismatch(metrics, recipe, net, model_path) is not None:
        return None
    correct, total = metrics["counts"]["test"]
    return correct / total
