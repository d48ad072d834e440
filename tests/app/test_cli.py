"""The ``scratchnet`` command: train, evaluate, figures, help, and every user error.

Most calls run ``scratchnet.app.cli.main`` in-process; a few go through a real interpreter
(``python -m scratchnet`` and the installed ``scratchnet`` script) to prove the entry
points work. Tests that train read the real MNIST files through the ``mnist_dir`` fixture.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from scratchnet import NeuralNet, NeuralNetRegressor
from scratchnet import errors as sn_errors
from scratchnet.app.cli import main
from scratchnet.app.interrupts import deferred, stopping_on_signals
from scratchnet.app.presets import PRESETS
from scratchnet.data import mnist
from scratchnet.data.mnist import ENV_DATA_DIR

from .. import reference
from ..pictures import block_picture, encode
from .cli_helpers import (
    EXIT_USAGE,
    MINI_BATCH_RUN_FILES,
    PNG_MAGIC,
    TUTORIAL_RUN_FILES,
    Outcome,
    assert_one_line_error,
    assert_png,
    invoke,
    leftover_temporaries,
    official_split,
    read_metrics,
    run_process,
    train_quietly,
)

# Facts independent of the code under test: the tutorial's published numbers and the
# official MNIST counts (digits 1 and 2: 6742 + 5958 training and 1135 + 1032 test
# images; digits 3 and 7: 6131 + 6265 and 1010 + 1028).
TUTORIAL_FIRST_COST = 0.756223980626531
ONE_TWO_TRAIN_SHAPE = [12700, 784]
ONE_TWO_TEST_SHAPE = [2167, 784]
THREE_SEVEN_TRAIN_SHAPE = [12396, 784]
THREE_SEVEN_TEST_SHAPE = [2038, 784]
MNIST_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture
def no_downloads(monkeypatch):
    """No $SCRATCHNET_DATA_DIR and no reachable mirror: nothing is found by accident."""
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    monkeypatch.setattr(mnist, "MIRRORS", ("http://127.0.0.1:9/",))


@pytest.fixture
def empty_dir(tmp_path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


# -- a full training run ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial_run(mnist_dir, tmp_path_factory) -> tuple[Path, Outcome]:
    """Three iterations of the tutorial preset with a chosen learning rate and seed."""
    out = tmp_path_factory.mktemp("tutorial") / "run"
    outcome = invoke(
        "train",
        "--data-dir",
        mnist_dir,
        "--iterations",
        "3",
        "--learning-rate",
        "0.2",
        "--seed",
        "7",
        "--out",
        out,
    )
    return out, outcome


def test_train_exits_0_and_writes_the_run_files_and_the_report(tutorial_run):
    out, outcome = tutorial_run
    assert outcome.code == 0, outcome
    assert sorted(path.name for path in out.iterdir()) == TUTORIAL_RUN_FILES
    assert_png(out / "cost.png")
    assert_png(out / "accuracy.png")


def test_metrics_record_the_data_costs_accuracies_and_config(tutorial_run):
    metrics = read_metrics(tutorial_run[0])
    assert metrics["train_shape"] == ONE_TWO_TRAIN_SHAPE
    assert metrics["test_shape"] == ONE_TWO_TEST_SHAPE
    iterations = [pair[0] for pair in metrics["costs"]]
    assert iterations == [0, 3]  # the first weights, and the final ones after 3 updates
    assert all(len(pair) == 2 and pair[1] > 0 for pair in metrics["costs"])
    assert metrics["fit_seconds"] > 0


def test_metrics_accuracies_are_those_of_the_saved_model(tutorial_run, mnist_dir):
    out, _ = tutorial_run
    metrics, model = read_metrics(out), NeuralNet.load(out / "model.npz")
    for split, key in (("train", "train_accuracy"), ("t10k", "test_accuracy")):
        X, labels = official_split(mnist_dir, split, (1, 2))
        assert metrics[key] == pytest.approx(reference.accuracy(model, X, labels), abs=1e-12)
    assert metrics["data_files"] == [
        str(mnist_dir.absolute() / f"{name}.gz") for name in MNIST_NAMES
    ]
    config = metrics["config"]
    assert config["learning_rate"] == 0.2
    assert config["iterations"] == 3
    assert config["seed"] == 7
    assert config["digits"] == [1, 2]
    assert config["hidden"] == [196]
    assert config["dtype"] == "float64"


def test_train_prints_shapes_costs_progress_and_final_accuracies(tutorial_run):
    out, outcome = tutorial_run
    metrics = read_metrics(out)
    assert "train_x shape: (12700, 784), test_x shape: (2167, 784)" in outcome.out
    printed = re.findall(r"^iteration (\d+): cost (\d+\.\d+)", outcome.out, re.MULTILINE)
    assert [int(iteration) for iteration, _ in printed] == [0, 3]
    assert [float(cost) for _, cost in printed] == pytest.approx(
        [cost for _, cost in metrics["costs"]], abs=1e-6
    )
    train_line = re.search(r"^train accuracy: .*\((\d+)/12700\)$", outcome.out, re.MULTILINE)
    test_line = re.search(r"^test accuracy: .*\((\d+)/2167\)$", outcome.out, re.MULTILINE)
    assert train_line and test_line, outcome.out
    assert int(test_line[1]) / 2167 == pytest.approx(metrics["test_accuracy"])
    assert "\r" not in outcome.err  # stderr is not a terminal here: no progress bar


def test_evaluate_reports_the_test_accuracy_of_the_run(tutorial_run, mnist_dir):
    out, _ = tutorial_run
    outcome = invoke("evaluate", "--model", out / "model.npz", "--data-dir", mnist_dir)
    assert outcome.code == 0, outcome
    first_line = outcome.out.splitlines()[0]
    reported = re.fullmatch(r"test accuracy on digits 1 2: [\d.]+% \((\d+)/2167\)", first_line)
    assert reported, outcome.out
    assert int(reported[1]) / 2167 == pytest.approx(read_metrics(out)["test_accuracy"])


def reference_answers(model: NeuralNet, mnist_dir: Path, digits=(1, 2)):
    """Labels, the reference's probabilities and predictions on the official test
    images of ``digits``: an independent computation of what the model answers."""
    X_test, labels = official_split(mnist_dir, "t10k", digits)
    probabilities = reference.probabilities(model, X_test)
    return labels, probabilities, np.asarray(model.classes)[probabilities.argmax(axis=1)]


def test_evaluate_prints_the_per_class_table_and_the_confusion_matrix(tutorial_run, mnist_dir):
    """Every printed number against scikit-learn on the reference's predictions. After
    three iterations the model predicts 1 for every image: digit 2's precision is 0/0,
    undefined ('n/a'), not 0."""
    out, _ = tutorial_run
    outcome = invoke("evaluate", out / "model.npz", "--data-dir", mnist_dir)
    assert outcome.code == 0, outcome
    model = NeuralNet.load(out / "model.npz")
    labels, probabilities, predicted = reference_answers(model, mnist_dir)
    scores = precision_recall_fscore_support(labels, predicted, zero_division=np.nan)
    rows = re.findall(r"^ +([12])((?: +(?:[\d.]+%|n/a)){3}) +(\d+)$", outcome.out, re.M)
    assert [int(row[0]) for row in rows] == [1, 2], outcome.out
    printed = [[percent_or_nan(value) for value in row[1].split()] for row in rows]
    expected = 100 * np.column_stack(scores[:3])
    np.testing.assert_allclose(printed, expected, atol=0.005)  # printed with 2 decimals
    assert np.isnan(printed[1][0]), "precision of a class never predicted is undefined"
    assert [int(row[2]) for row in rows] == scores[3].tolist()
    counts = re.findall(r"^ +([12])((?: +\d+){2})$", outcome.out, re.M)
    assert [int(digit) for digit, _ in counts] == [1, 2]
    expected_counts = confusion_matrix(labels, predicted, labels=[1, 2])
    assert [list(map(int, row.split())) for _, row in counts] == expected_counts.tolist()
    assert re.search(r"^true \\ predicted +1 +2$", outcome.out, re.M), outcome.out
    ece = reference.expected_calibration_error(probabilities[:, 1], labels == 2)
    line = re.search(r"expected calibration error: ([\d.]+) over 10 equal-width bins of the "
                     r"predicted probability of digit 2$", outcome.out, re.M)  # fmt: skip
    assert line and float(line[1]) == pytest.approx(ece, abs=5e-5), outcome.out


def percent_or_nan(text: str) -> float:
    return np.nan if text == "n/a" else float(text.removesuffix("%"))


def test_evaluate_json_gives_the_same_numbers_for_scripts(tutorial_run, mnist_dir):
    out, _ = tutorial_run
    outcome = invoke("evaluate", out / "model.npz", "--data-dir", mnist_dir, "--json")
    assert outcome.code == 0, outcome
    report = json.loads(outcome.out)
    model = NeuralNet.load(out / "model.npz")
    labels, probabilities, predicted = reference_answers(model, mnist_dir)
    assert report["digits"] == [1, 2]
    correct = int(np.sum(labels == predicted))
    assert report["test"] == {"correct": correct, "total": 2167, "accuracy": correct / 2167}
    assert report["test"]["accuracy"] == pytest.approx(read_metrics(out)["test_accuracy"])
    assert report["confusion_matrix"]["counts"] == confusion_matrix(labels, predicted).tolist()
    scores = precision_recall_fscore_support(labels, predicted, zero_division=np.nan)
    assert [row["digit"] for row in report["classes"]] == [1, 2]
    for key, expected in zip(("precision", "recall", "f1"), scores, strict=False):
        reported = [np.nan if row[key] is None else row[key] for row in report["classes"]]
        np.testing.assert_allclose(reported, expected, rtol=1e-12)
    assert report["classes"][1]["precision"] is None  # undefined: JSON's null
    assert [row["support"] for row in report["classes"]] == scores[3].tolist()
    bins = report["calibration"]
    frequency, mean_probability = calibration_curve(labels == 2, probabilities[:, 1])
    filled = [value is not None for value in bins["frequency"]]
    np.testing.assert_allclose(np.array(bins["frequency"])[filled].astype(float), frequency)
    np.testing.assert_allclose(
        np.array(bins["mean_probability"])[filled].astype(float), mean_probability, rtol=1e-12
    )
    assert sum(bins["count"]) == 2167
    assert bins["expected_calibration_error"] == pytest.approx(
        reference.expected_calibration_error(probabilities[:, 1], labels == 2), rel=1e-9
    )
    assert report["data_files"] == [str(mnist_dir / "t10k-images-idx3-ubyte.gz"),
                                    str(mnist_dir / "t10k-labels-idx1-ubyte.gz")]  # fmt: skip


def test_quiet_prints_only_the_final_results(mnist_dir, tmp_path):
    outcome = train_quietly(mnist_dir, tmp_path / "run", "--iterations", "2")
    lines = outcome.out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["train accuracy", "test accuracy", "fit time"]
    assert outcome.err == ""


def test_first_cost_of_the_tutorial_preset_is_the_published_one(mnist_dir, tmp_path):
    train_quietly(mnist_dir, tmp_path / "run", "--iterations", "1")
    (first_iteration, first_cost), *_ = read_metrics(tmp_path / "run")["costs"]
    assert first_iteration == 0
    assert first_cost == pytest.approx(TUTORIAL_FIRST_COST, rel=1e-9, abs=0)


def test_float32_run_writes_a_float32_model(mnist_dir, tmp_path):
    train_quietly(mnist_dir, tmp_path / "run", "--iterations", "2", "--dtype", "float32")
    with np.load(tmp_path / "run" / "model.npz", allow_pickle=False) as archive:
        parameters = {name: archive[name] for name in archive.files if name[:1] in "wb"}
    assert sorted(parameters) == ["bias_0", "bias_1", "weight_0", "weight_1"]
    assert {array.dtype for array in parameters.values()} == {np.dtype(np.float32)}
    assert read_metrics(tmp_path / "run")["config"]["dtype"] == "float32"


def test_digits_option_trains_on_those_digits(mnist_dir, tmp_path):
    train_quietly(mnist_dir, tmp_path / "run", "--iterations", "2", "--digits", "3", "7")
    assert NeuralNet.load(tmp_path / "run" / "model.npz").classes.tolist() == [3, 7]
    metrics = read_metrics(tmp_path / "run")
    assert metrics["config"]["digits"] == [3, 7]
    assert metrics["train_shape"] == THREE_SEVEN_TRAIN_SHAPE
    assert metrics["test_shape"] == THREE_SEVEN_TEST_SHAPE


def test_augmented_run_shows_its_distortions_and_records_them(mnist_dir, tmp_path):
    out = tmp_path / "run"
    train_quietly(
        mnist_dir, out, "--preset", "one-two-fast", "--epochs", "1", "--augment", "elastic",
        "--rotation", "5", "--elastic-alpha", "6",
    )  # fmt: skip
    config = read_metrics(out)["config"]
    assert (config["augment"], config["rotation"], config["elastic_alpha"]) == ("elastic", 5, 6)
    assert_png(out / "augmentation.png")
    report = (out / "report.html").read_text()
    assert "The distorted digits it trained on" in report
    embedded = base64.b64encode((out / "augmentation.png").read_bytes()).decode()
    assert f"data:image/png;base64,{embedded}" in report


def test_a_strength_of_minus_zero_trains_without_that_distortion(mnist_dir, tmp_path):
    """--shift -0 passed the check, then NumPy's uniform(0.0, -0.0) raised: traceback."""
    out = tmp_path / "run"
    train_quietly(mnist_dir, out, "--preset", "one-two-fast", "--epochs", "1", "--hidden", "8",
                  "--augment", "affine", "--shift", "-0", "--rotation", "-0.0")  # fmt: skip
    config = read_metrics(out)["config"]
    assert (str(config["shift"]), str(config["rotation"])) == ("0.0", "0.0")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--elastic-sigma", "0", "--elastic-sigma must be a positive finite number, got 0"),
        ("--elastic-sigma", "1e9", "--elastic-sigma must be at most 28 pixels"),  # 60 GiB
        ("--elastic-alpha", "2e6", "--elastic-alpha must be at most 1e+06 pixels"),
        ("--rotation", "1e308", "--rotation must be at most 180 degrees"),  # overflowed
        ("--shear", "90", "--shear must be at most 89 degrees"),
        ("--shift", "29", "--shift must be at most 28 pixels"),
        ("--scale", "1.5", "--scale must be in [0, 1), got 1.5"),
    ],
)
def test_bad_distortion_settings_are_refused_before_any_data_is_read(
    mnist_dir, tmp_path, option, value, message
):
    outcome = invoke("train", "--preset", "best", option, value, "--data-dir",
                     mnist_dir, "--out", tmp_path / "run")  # fmt: skip
    assert_one_line_error(outcome, message)
    assert outcome.out == ""  # no data shapes, no network: nothing was loaded or built
    assert not (tmp_path / "run").exists()


def test_a_validation_fraction_holding_out_no_row_is_refused_before_training(mnist_dir, tmp_path):
    """It was refused by fit, after the network's summary, naming validation_fraction."""
    outcome = invoke("train", "--preset", "one-two-fast", "--validation-fraction", "1e-9",
                     "--data-dir", mnist_dir, "--out", tmp_path / "run")  # fmt: skip
    assert_one_line_error(
        outcome, "--validation-fraction 1e-09 holds out 0 of 12700 rows for validation"
    )
    assert "parameters" not in outcome.out
    assert not (tmp_path / "run").exists()


def test_measuring_the_training_set_where_every_record_measures_it_is_refused(mnist_dir, tmp_path):
    """Full-batch training without dropout or distortions measures the training set at
    every record: the option did nothing, silently."""
    outcome = invoke("train", "--measure-training", "--data-dir", mnist_dir,
                     "--out", tmp_path / "run")  # fmt: skip
    assert_one_line_error(outcome, "--measure-training adds nothing here")
    assert not (tmp_path / "run").exists()
    train_quietly(mnist_dir, tmp_path / "dropped", "--measure-training", "--dropout", "0.2",
                  "--hidden", "8", "--iterations", "2")  # fmt: skip
    record = read_metrics(tmp_path / "dropped")["history"]["records"][0]
    assert record["train_loss"] is not None and record["train_loss"] != record["loss"]


def test_a_batch_of_every_row_is_counted_in_iterations_everywhere(mnist_dir, tmp_path):
    """Training was full-batch (one update per pass, a record before the first), and the
    console said 'iteration', but metrics.json, the figures and the report said 'epoch'."""
    options = ["--preset", "one-two-fast", "--batch-size", "20000", "--epochs", "2"]
    train_quietly(mnist_dir, tmp_path / "run", *options)  # a batch over all 12,700 rows
    metrics = read_metrics(tmp_path / "run")
    assert metrics["cost_axis"] == "iteration"
    assert [iteration for iteration, _ in metrics["costs"]] == [0, 1, 2]
    report = (tmp_path / "run" / "report.html").read_text()
    assert "The run ended after iteration 2 (2 updates)." in report


def test_epochs_without_batch_size_are_full_batch_iterations(mnist_dir, tmp_path):
    """As in NeuralNet.fit: a full-batch epoch is one iteration."""
    train_quietly(mnist_dir, tmp_path / "run", "--epochs", "2")
    metrics = read_metrics(tmp_path / "run")
    assert metrics["config"]["iterations"] == 2 and metrics["config"]["batch_size"] is None
    assert [iteration for iteration, _ in metrics["costs"]] == [0, 2]
    assert metrics["costs"][0][1] == pytest.approx(TUTORIAL_FIRST_COST, rel=1e-9, abs=0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--preset", "one-two-fast", "--epochs", "50001"],
         "--epochs 50001: the run would log 50,001 history records, more than the 50,000 its "
         "checkpoint holds (it could not be resumed); train at most 50,000 epochs"),
        (["--iterations", "4999901"],
         "--iterations 4999901: the run would log 50,001 history records, more than the "
         "50,000 its checkpoint holds (it could not be resumed); train at most 4,999,900 "
         "iterations"),
    ],
)  # fmt: skip
def test_a_run_too_long_for_its_checkpoint_is_refused_before_it_starts(options, message, tmp_path):
    """Its checkpoints could not have been read back: a stopped run could not resume."""
    outcome = invoke("train", *options, "--data-dir", tmp_path / "none", "--out", tmp_path / "run")
    assert_one_line_error(outcome, message)
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_scratchnet_trains_end_to_end(mnist_dir, tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--data-dir", mnist_dir, "--iterations", "2", "--quiet", "--out", out]
    outcome = run_process(sys.executable, "-m", "scratchnet", *argv, cwd=tmp_path)
    assert outcome.code == 0, outcome
    assert outcome.err == ""
    assert re.search(r"^test accuracy: .*/2167\)$", outcome.out, re.MULTILINE), outcome.out
    assert sorted(path.name for path in out.iterdir()) == TUTORIAL_RUN_FILES


# The interpreter's shutdown, reached as the command reaches it (RUN_COMMAND): the command
# has printed its last line, then a Ctrl-C arrives while atexit handlers run.
LATE_INTERRUPT = """
import atexit, os, runpy, signal, time
from scratchnet.app import cli, entry

def interrupt_during_shutdown():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)  # a handled SIGINT raises KeyboardInterrupt in here

def finished_command(argv=None):
    print("test accuracy: 99.00%")
    return 0

cli.main = finished_command
atexit.register(interrupt_during_shutdown)
RUN_COMMAND
"""


@pytest.mark.parametrize(
    "run_command",
    ["entry.entry_point()", "runpy.run_module('scratchnet', run_name='__main__')"],
    ids=["installed-command", "python-dash-m"],
)
def test_a_ctrl_c_after_the_last_line_changes_neither_the_status_nor_the_output(
    tmp_path, run_command
):
    script = LATE_INTERRUPT.replace("RUN_COMMAND", run_command)
    outcome = run_process(sys.executable, "-c", script, cwd=tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (0, "test accuracy: 99.00%\n", "")


def test_the_installed_command_is_the_entry_point():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="scratchnet")
    assert script.value == "scratchnet.app.entry:entry_point"


# The command while it imports its modules: a Ctrl-C arrives as NumPy's import begins,
# before any of the command's code runs. RUN_COMMAND is what the installed script (or
# python -m) runs, its imports included.
EARLY_INTERRUPT = """
import builtins, os, signal
real_import = builtins.__import__

def import_interrupted_at_numpy(name, *args, **kwargs):
    if name == "numpy":
        builtins.__import__ = real_import
        os.kill(os.getpid(), signal.SIGINT)
    return real_import(name, *args, **kwargs)

builtins.__import__ = import_interrupted_at_numpy
RUN_COMMAND
"""


@pytest.mark.parametrize(
    "run_command",
    [
        "from scratchnet.app.entry import entry_point; entry_point()",
        "import runpy; runpy.run_module('scratchnet', run_name='__main__')",
    ],
    ids=["installed-command", "python-dash-m"],
)
def test_a_ctrl_c_while_the_command_starts_is_one_line(tmp_path, run_command):
    script = EARLY_INTERRUPT.replace("RUN_COMMAND", run_command)
    outcome = run_process(sys.executable, "-c", script, cwd=tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (130, "", "scratchnet: interrupted\n")


# A Ctrl-C in the middle of an import: raised inside a class's __set_name__ (here the
# first one a file whose path holds WHERE defines), KeyboardInterrupt came out as a
# RuntimeError with a traceback (exit 1); inside an extension module's initialisation, as
# an ImportError, or the interpreter aborted as it shut down.
MID_IMPORT_INTERRUPT = """
import os, signal, sys
from scratchnet.app.entry import entry_point

def interrupt_in_set_name(frame, event, arg):
    code = frame.f_code
    if event == "call" and code.co_name == "__set_name__" and WHERE in code.co_filename:
        sys.settrace(None)
        os.kill(os.getpid(), signal.SIGINT)

sys.argv = ["scratchnet", *ARGUMENTS]
sys.settrace(interrupt_in_set_name)
entry_point()
"""


def run_interrupted_mid_import(where: str, *arguments, cwd: Path) -> Outcome:
    script = MID_IMPORT_INTERRUPT.replace("WHERE", repr(where))
    script = script.replace("ARGUMENTS", repr([str(argument) for argument in arguments]))
    return run_process(sys.executable, "-c", script, cwd=cwd)


@pytest.mark.parametrize("where", ["functools", "matplotlib"], ids=["start", "figures"])
def test_a_ctrl_c_in_the_middle_of_an_import_is_one_line(tmp_path, where):
    """functools: a cached_property of a module the command imports as it starts;
    matplotlib: the figures' library, imported when the figures are drawn."""
    outcome = run_interrupted_mid_import(where, "figures", "--out", "f", cwd=tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (130, "", "scratchnet: interrupted\n")
    assert not (tmp_path / "f").exists()


def test_a_ctrl_c_during_an_import_that_fails_still_stops_the_command(monkeypatch):
    """The import's error is chained to the interruption; the Ctrl-C was dropped."""
    # (as if the tests were not started ignoring SIGINT, as a script's background job is)
    monkeypatch.setattr(signal, "getsignal", lambda signum: signal.default_int_handler)
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt) as stopped, deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the handler runs, and defers the stop
        raise ImportError("a module that fails to import")
    assert isinstance(stopped.value.__context__, ImportError)


def test_a_ctrl_c_as_a_run_imports_its_figures_library_keeps_its_checkpoint(mnist_dir, tmp_path):
    outcome = run_interrupted_mid_import(
        "matplotlib", "train", "--preset", "one-two-fast", "--quiet", "--data-dir", mnist_dir,
        "--out", "run", cwd=tmp_path,
    )  # fmt: skip
    assert outcome.code == 130 and "Traceback" not in outcome.err, outcome
    (line,) = outcome.err.splitlines()
    assert re.match(r"^scratchnet: interrupted; checkpoint\.npz kept after \d+ epochs; ", line)
    assert line.endswith(f"continue with: scratchnet train --resume run --data-dir {mnist_dir}")
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["checkpoint.npz"]


# -- help, version, figures ---------------------------------------------------------------


def option_help(help_text: str) -> dict[str, str]:
    """Each option of an argparse help text -> its help, on one line."""
    blocks: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        starts_option = re.match(r"^  (-[\w-]+)", line)
        if starts_option:
            current = starts_option[1]
            blocks[current] = line
        elif current and line.startswith("    "):
            blocks[current] += " " + line
        else:
            current = None
    return {option: " ".join(text.split()) for option, text in blocks.items()}


TRAIN_DEFAULTS = {
    "--preset": "(default: tutorial)",
    "--digits": "(default: 1 2)",
    "--hidden": "(default: 196)",
    "--activation": "(default: sigmoid)",
    "--learning-rate": "(default: 0.1)",
    "--iterations": "(default: 1000)",
    "--seed": "(default: 42)",
    "--dtype": "(default: float64)",
    "--data-dir": "(default: $SCRATCHNET_DATA_DIR, then the cache",
    "--out": "(default: a new timestamped folder under ./runs)",
    "--quiet": "(default: off)",
    "--init": "(default: lecun)",
    "--optimizer": "(default: gd)",
    "--schedule": "(default: constant)",
    "--batch-size": "(default: none, full-batch gradient descent)",
    "--epochs": "(default: 20)",
    "--weight-decay": "(default: 0.0)",
    "--dropout": "(default: 0.0)",
    "--validation-fraction": "(default: none; the test set is then monitored",
    "--patience": "(default: none)",
    "--measure-training": "(one more forward pass per record; default: off",
    "--force": "(default: off, such a folder is refused)",
    "--checkpoint-every": "(default: every epoch with --batch-size, every 100 iterations",
    "--resume": "(default: none)",
    "--augment": "(default: none)",
    "--shift": "(default: 2.0)",
    "--rotation": "(default: 10.0)",
    "--scale": "(default: 0.1)",
    "--shear": "(default: 10.0)",
    "--elastic-alpha": "(default: 8.0)",
    "--elastic-sigma": "(default: 3.0)",
}


MODEL_DEFAULT = "(default: the newest runs/*/model.npz, else a starter model"
PREDICT_DEFAULTS = {
    "--model": MODEL_DEFAULT,
    "--json": "(default: off)",
    "--show": "(default: off)",
    "--preview": "(default: none)",
    "--recursive": "(default: only those directly in each folder given)",
    "--force": "(default: refuse)",
    "--data-dir": "(default: $SCRATCHNET_DATA_DIR, then the cache",
}
SERVE_DEFAULTS = {
    "--model": MODEL_DEFAULT,
    "--host": "(default: 127.0.0.1)",
    "--port": "(default: 8000)",
    "--open": "(default: off)",
    "--data-dir": "(default: $SCRATCHNET_DATA_DIR, then the cache",
}


@pytest.mark.parametrize(
    ("command", "defaults", "without_default"),
    [
        pytest.param("train", TRAIN_DEFAULTS, [], id="train"),
        pytest.param(
            "evaluate",
            {
                "--data-dir": "(default: $SCRATCHNET_DATA_DIR, then the cache",
                "--json": "(default: off, tables)",
            },
            ["--model"],
            id="evaluate",
        ),
        pytest.param(
            "figures",
            {"--out": "(default: ./figures)", "--force": "(default: refuse)"},
            [],
            id="figures",
        ),
        pytest.param(
            "report",
            {
                "--data-dir": "(default: the folder the run read them from, then "
                "$SCRATCHNET_DATA_DIR, then the cache, downloading what is missing)",
                "--force": "(default: refuse)",
            },
            [],
            id="report",
        ),
        pytest.param("predict", PREDICT_DEFAULTS, [], id="predict"),
        pytest.param("serve", SERVE_DEFAULTS, [], id="serve"),
        pytest.param(
            "export",
            {
                "--out": "(default: model.onnx)",
                "--dtype": "(default: the model's own)",
                "--force": "(default: refuse)",
            },
            ["--model"],
            id="export",
        ),
    ],
)
def test_command_help_gives_the_default_of_every_option(
    command, defaults, without_default, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "80")
    outcome = invoke(command, "--help")
    assert outcome.code == 0
    documented = option_help(outcome.out)
    assert sorted(documented) == sorted(["-h", *defaults, *without_default])
    for option, default in defaults.items():
        assert default in documented[option], documented[option]


def test_installed_script_lists_the_commands(tmp_path):
    script = shutil.which("scratchnet", path=sysconfig.get_path("scripts"))
    assert script, f"no scratchnet script in {sysconfig.get_path('scripts')}"
    outcome = run_process(script, "--help", cwd=tmp_path)
    assert outcome.code == 0, outcome
    for command in (
        "train",
        "evaluate",
        "report",
        "figures",
        "predict",
        "serve",
        "export",
        "--version",
    ):
        assert command in outcome.out
    assert "(default: the tutorial's experiment)" in outcome.out


def test_version_is_the_installed_version():
    outcome = invoke("--version")
    assert (outcome.code, outcome.out) == (0, f"scratchnet {version('scratchnet')}\n")


def test_figures_writes_the_two_explanatory_figures(tmp_path):
    out = tmp_path / "new" / "figures"
    outcome = invoke("figures", "--out", out)
    assert outcome.code == 0, outcome
    assert sorted(path.name for path in out.iterdir()) == ["cross_entropy.png", "sigmoid.png"]
    assert_png(out / "sigmoid.png")
    assert_png(out / "cross_entropy.png")
    assert str(out / "sigmoid.png") in outcome.out
    assert str(out / "cross_entropy.png") in outcome.out


def test_figures_replace_their_own_files_and_never_the_users(tmp_path):
    """A second run replaces the figures of the first; a sigmoid.png of the user's (or a
    link named so) stops the command before either figure is written, unless --force."""
    out = tmp_path / "figures"
    assert invoke("figures", "--out", out).code == 0
    assert invoke("figures", "--out", out).code == 0
    mine = out / "sigmoid.png"
    mine.write_bytes(PNG_MAGIC + b"my own figure")
    (out / "cross_entropy.png").unlink()
    outcome = invoke("figures", "--out", out)
    assert_one_line_error(
        outcome, f"--out: {mine} already exists and is not a figure scratchnet wrote", "--force"
    )
    assert mine.read_bytes() == PNG_MAGIC + b"my own figure"
    assert not (out / "cross_entropy.png").exists()
    assert invoke("figures", "--out", out, "--force").code == 0
    assert_png(mine)
    thesis = tmp_path / "thesis.png"
    thesis.write_bytes(b"a figure of the user's thesis")
    mine.unlink()
    mine.symlink_to(thesis)
    for force in ([], ["--force"]):  # --force wrote through the link, into the thesis
        assert_one_line_error(invoke("figures", "--out", out, *force), f"{mine} is a link")
        assert thesis.read_bytes() == b"a figure of the user's thesis" and mine.is_symlink()


def test_figures_replace_both_files_or_neither(tmp_path):
    """A folder where cross_entropy.png goes: sigmoid.png was replaced first, leaving a
    new figure beside an old one."""
    out = tmp_path / "f"
    assert invoke("figures", "--out", out).code == 0
    old = (out / "sigmoid.png").read_bytes()
    (out / "cross_entropy.png").unlink()
    (out / "cross_entropy.png").mkdir()
    (out / "sigmoid.png").write_bytes(old[:-1] + bytes([old[-1] ^ 1]))  # marked, and told apart
    before = (out / "sigmoid.png").read_bytes()
    outcome = invoke("figures", "--out", out)
    assert_one_line_error(outcome, f"cannot write {out / 'cross_entropy.png'} (it is a folder)")
    assert (out / "sigmoid.png").read_bytes() == before


def test_a_run_folder_whose_name_is_not_utf8_gets_its_report(mnist_dir, tmp_path):
    """The folder's name went into report.html with its undecodable byte, and writing the
    page failed with a UnicodeEncodeError traceback (status 1), for train and report."""
    out = tmp_path / os.fsdecode(b"run \xff")
    outcome = invoke("train", "--preset", "one-two-fast", "--quiet", "--data-dir", mnist_dir,
                     "--out", out)  # fmt: skip
    assert outcome.code == 0, outcome
    assert f"<code>{tmp_path}/run \\xff</code>" in (out / "report.html").read_text()
    (out / "report.html").unlink()
    assert invoke("report", out, "--data-dir", mnist_dir).code == 0


def test_figures_refuse_an_empty_folder_name(tmp_path, monkeypatch):
    """An unset shell variable ($DIR) would otherwise write into the current folder."""
    monkeypatch.chdir(tmp_path)
    outcome = invoke("figures", "--out", "")
    assert outcome.code == 2 and "an empty path" in outcome.err
    assert list(tmp_path.iterdir()) == []


# -- user errors: one line on stderr, status 2, nothing left behind ----------------------


BAD_TRAIN_OPTIONS = [
    (["--learning-rate", "-0.5"], ["--learning-rate", "positive", "-0.5"]),
    (["--learning-rate", "0"], ["--learning-rate", "positive", "got 0"]),
    (["--learning-rate", "inf"], ["--learning-rate", "finite", "inf"]),
    (["--learning-rate", "fast"], ["--learning-rate", "a number", "'fast'"]),
    (["--iterations", "0"], ["--iterations", ">= 1", "got 0"]),
    (["--iterations", "2.5"], ["--iterations", "'2.5'"]),
    (["--hidden", "0"], ["--hidden", ">= 1", "got 0"]),
    (["--hidden", "64", "-3"], ["--hidden", "got -3"]),
    (["--dtype", "float16"], ["--dtype", "'float16'", "float32"]),
    (["--activation", "softsign"], ["--activation", "'softsign'"]),
    (["--preset", "fancy"], ["--preset", "'fancy'"]),
    (["--digits", "1", "1"], ["digits given more than once: [1]"]),
    (["--digits", "1", "11"], ["unknown digits [11]", "0 to 9"]),
    (["--digits", "1", "x"], ["--digits", "got 1 x"]),
    (["--digits", "4"], ["at least two digits", "[4]"]),
    (["--bogus"], ["unrecognized arguments: --bogus"]),
    (["--optimizer", "rmsprop"], ["--optimizer", "'rmsprop'", "adam"]),
    (["--schedule", "linear"], ["--schedule", "'linear'", "cosine"]),
    (["--init", "zeros"], ["--init", "'zeros'", "glorot"]),
    (["--dropout", "1"], ["--dropout", "[0, 1)", "1.0"]),
    (["--dropout", "-0.2"], ["--dropout", "[0, 1)", "-0.2"]),
    (["--batch-size", "0"], ["--batch-size", ">= 1", "got 0"]),
    (["--epochs", "0"], ["--epochs", ">= 1", "got 0"]),
    (["--weight-decay", "-1"], ["--weight-decay", "non-negative", "-1.0"]),
    (["--validation-fraction", "0"], ["--validation-fraction", "(0, 1)", "0.0"]),
    (["--validation-fraction", "1.5"], ["--validation-fraction", "(0, 1)", "1.5"]),
    (["--patience", "0"], ["--patience", ">= 1", "got 0"]),
    (["--patience", "3"], ["--patience needs validation data (--validation-fraction)", "test set"]),
    (
        ["--batch-size", "64", "--iterations", "5"],
        ["--iterations", "with --batch-size", "--epochs"],
    ),
    (["--epochs", "5"], ["give --iterations or --epochs, not both"]),
    (["--shift", "2"], ["--shift only works with --augment affine or elastic", "is none"]),
    (["--elastic-alpha", "3"], ["--elastic-alpha only works with --augment elastic", "is none"]),
    (
        ["--augment", "affine", "--elastic-alpha", "30", "--elastic-sigma", "4"],
        ["--elastic-alpha, --elastic-sigma only work with --augment elastic", "is affine"],
    ),
    (["--seed", "-1"], ["--seed", "0 to 2**32 - 1", "got -1"]),
    (["--seed", "4294967296"], ["--seed", "0 to 2**32 - 1", "got 4294967296"]),
    (["--seed", "1.5"], ["--seed", "an integer", "'1.5'"]),
]


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        pytest.param(options, fragments, id=" ".join(options))
        for options, fragments in BAD_TRAIN_OPTIONS
    ],
)
def test_bad_train_option_is_one_line_error(options, fragments, tmp_path, empty_dir, no_downloads):
    out = tmp_path / "run"
    base = ["train", "--quiet", "--iterations", "1", "--data-dir", empty_dir, "--out", out]
    assert_one_line_error(invoke(*base, *options), *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["train", "--lerning-rate", "0.1"], "unrecognized arguments: --lerning-rate 0.1; did you "
         "mean --learning-rate? (see scratchnet train --help)"),
        (["serve", "--prot", "8000"], "unrecognized arguments: --prot 8000; did you mean --port? "
         "(see scratchnet serve --help)"),
        (["evaluate", "m.npz", "--epochz=3"], "unrecognized arguments: --epochz=3 (see scratchnet "
         "evaluate --help)"),  # nothing close in evaluate's options
        (["train", "--foo"], "unrecognized arguments: --foo (see scratchnet train --help)"),
    ],
    ids=["train", "serve", "nothing close", "not --force"],
)  # fmt: skip
def test_a_mistyped_option_names_the_closest_and_the_commands_help(argv, line):
    """The top parser's --help, which it pointed to, does not list a command's options."""
    outcome = invoke(*argv)
    assert outcome.code == 2 and outcome.out == ""
    assert outcome.err == f"scratchnet: error: {line}\n"


@pytest.mark.parametrize(
    "argv",
    [pytest.param([], id="no command"), pytest.param(["evaluate"], id="evaluate without model")],
)
def test_missing_required_argument_is_one_line_error(argv):
    assert_one_line_error(invoke(*argv), "required" if not argv else "give the model file")


@pytest.mark.parametrize(
    ("out", "fragments"),
    [("taken", ["--out {tmp}/taken is a file, not a folder"]),
     ("taken/figures", ["cannot create the folder {tmp}/taken/figures for --out",
                        "(a part of its path is a file, not a folder)"])],
    ids=["a file", "under a file"],
)  # fmt: skip
def test_figures_into_a_file_is_one_line_error(tmp_path, out, fragments):
    (tmp_path / "taken").write_text("mine")
    outcome = invoke("figures", "--out", tmp_path / out)
    assert_one_line_error(outcome, *(fragment.format(tmp=tmp_path) for fragment in fragments))
    assert (tmp_path / "taken").read_text() == "mine"


def test_evaluate_of_a_model_that_does_not_read_digit_images_says_so(tmp_path):
    rng = np.random.default_rng(0)
    NeuralNet([4, 10], random_state=0).fit(
        rng.random((50, 64)), np.arange(50) % 10, n_iterations=1
    ).save(tmp_path / "digits.npz")
    outcome = invoke("evaluate", tmp_path / "digits.npz")
    assert_one_line_error(outcome, "digits.npz reads 64 inputs, not the 28x28 = 784 pixels")


def train_with_data_dir(data_dir: Path, out: Path) -> Outcome:
    return invoke("train", "--quiet", "--iterations", "1", "--data-dir", data_dir, "--out", out)


def test_data_dir_that_does_not_exist_is_one_line_error(tmp_path, no_downloads):
    nowhere = tmp_path / "nowhere"
    outcome = train_with_data_dir(nowhere, tmp_path / "run")
    assert_one_line_error(outcome, str(nowhere), "does not exist")
    assert not (tmp_path / "run").exists()


def test_data_missing_and_no_download_possible_is_one_line_error(tmp_path, empty_dir, no_downloads):
    outcome = train_with_data_dir(empty_dir, tmp_path / "run")
    line = assert_one_line_error(outcome, "MNIST files not found", "--data-dir", str(empty_dir))
    for name in MNIST_NAMES:
        assert f"{name}.gz" in line
    assert "data_dir" not in line  # worded for the command line, not for Python
    assert len(line) < 400
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("truncated", MNIST_NAMES)
def test_truncated_data_file_is_one_line_error_naming_it(
    truncated, mnist_dir, tmp_path, no_downloads
):
    copy = tmp_path / "mnist"
    copy.mkdir()
    for name in MNIST_NAMES:
        for source in mnist_dir.glob(f"{name}*"):
            shutil.copyfile(source, copy / source.name)
    (damaged,) = copy.glob(f"{truncated}*")
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    outcome = train_with_data_dir(copy, tmp_path / "run")
    assert_one_line_error(outcome, str(damaged), "truncated")
    assert not (tmp_path / "run").exists()


def test_diverging_run_is_one_line_error_and_leaves_nothing(mnist_dir, tmp_path):
    out = tmp_path / "new" / "run"
    outcome = invoke(
        "train", "--quiet", "--data-dir", mnist_dir, "--out", out,
        "--learning-rate", "1e308", "--iterations", "5",
    )  # fmt: skip
    line = assert_one_line_error(outcome, "diverged", "smaller learning rate")
    assert re.search(r"\b(nan|inf)\b", line), line
    assert re.search(r"iteration \d+", line), line
    assert not out.exists() or not any(out.iterdir())
    assert leftover_temporaries(tmp_path) == []


def test_diverging_run_prints_nothing_but_the_error(mnist_dir, tmp_path):
    """Through a real interpreter, where NumPy's overflow warnings would reach stderr."""
    argv = ["train", "--quiet", "--data-dir", mnist_dir, "--out", tmp_path / "run"]
    argv += ["--learning-rate", "1e308", "--iterations", "5"]
    outcome = run_process(sys.executable, "-m", "scratchnet", *argv, cwd=tmp_path)
    assert_one_line_error(outcome, "diverged")


@pytest.mark.parametrize(
    ("options", "unit"),
    [([], "iteration"), (["--preset", "all-digits"], "epoch")],
    ids=["full batch", "mini-batches"],
)
def test_interrupted_run_removes_its_new_output_folder(tmp_path, monkeypatch, options, unit):
    """And says there is nothing to resume (it said only 'interrupted', which left a user
    trying --resume on a folder that is gone)."""

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("scratchnet.app.experiment.load_mnist", interrupt)
    out = tmp_path / "run"
    outcome = invoke("train", "--quiet", "--out", out, *options)
    assert (outcome.code, outcome.err) == (
        130,
        f"scratchnet: interrupted; stopped before its first {unit} ended, so no checkpoint.npz "
        "was written: run the command again\n",
    )
    assert not out.exists()


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_a_run_failing_while_writing_its_outputs_leaves_the_folder_as_it_was(
    mnist_dir, tmp_path, monkeypatch, existing
):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("scratchnet.app.plots.plot_accuracy", fail)
    out = tmp_path / "run"
    force = []
    if existing:
        out.mkdir()
        (out / "model.npz").write_bytes(b"previous run")
        force = ["--force"]
    outcome = invoke(
        "train", "--quiet", "--data-dir", mnist_dir, "--out", out, "--iterations", 1, *force
    )
    assert_one_line_error(outcome, "disk full")
    if existing:
        assert sorted(p.name for p in out.iterdir()) == ["model.npz"]
        assert (out / "model.npz").read_bytes() == b"previous run"
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["run"] if existing else [])


@pytest.mark.parametrize("preset", ["tutorial", "one-two", "one-two-fast", "all-digits"])
def test_every_preset_runs_with_its_own_settings(preset, mnist_dir, tmp_path):
    recipe = PRESETS[preset]
    shorten = ["--iterations", "1"] if recipe.batch_size is None else ["--epochs", "1"]
    outcome = invoke("train", "--preset", preset, *shorten, "--quiet",
                     "--data-dir", mnist_dir, "--out", tmp_path / "run")  # fmt: skip
    assert outcome.code == 0, outcome
    config = json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]
    assert config["name"] == preset and config["hidden"] == list(recipe.hidden)
    assert NeuralNet.load(tmp_path / "run" / "model.npz").classes.tolist() == list(recipe.digits)


def test_multi_class_mini_batch_run_end_to_end(mnist_dir, tmp_path):
    out = tmp_path / "run"
    outcome = invoke(
        "train", "--digits", "7", "0", "3", "--hidden", "32", "16", "--activation", "relu",
        "--init", "he", "--optimizer", "adam", "--learning-rate", "0.003", "--batch-size", "256",
        "--epochs", "3", "--dropout", "0.1", "--weight-decay", "1e-5", "--schedule", "cosine",
        "--validation-fraction", "0.1", "--patience", "2", "--dtype", "float32",
        "--data-dir", mnist_dir, "--out", out,
    )  # fmt: skip
    assert outcome.code == 0, outcome
    assert "784 -> 32" in outcome.out and "16 -> 3" in outcome.out and "softmax" in outcome.out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cost_axis"] == "epoch" and metrics["monitored_set"] == "validation"
    held, trained = metrics["counts"]["validation"][1], metrics["counts"]["train"][1]
    assert held + trained == metrics["train_shape"][0]  # the shape line said all were trained
    assert outcome.out.startswith(f"train_x shape: ({held + trained}, 784) ({held:,} of its "
                                  "rows held out for validation), test_x shape: ")  # fmt: skip
    assert [step for step, _ in metrics["costs"]] == [1, 2, 3]
    records = metrics["history"]["records"]
    assert all(r["val_loss"] is not None and r["val_accuracy"] is not None for r in records)
    assert metrics["test_accuracy"] > 0.9
    assert metrics["config"]["digits"] == [7, 0, 3] and metrics["config"]["dropout"] == 0.1
    model = NeuralNet.load(out / "model.npz")
    assert model.classes.tolist() == [7, 0, 3]
    X_test, labels = official_split(mnist_dir, "t10k", (7, 0, 3))
    assert metrics["test_accuracy"] == pytest.approx(reference.accuracy(model, X_test, labels))
    evaluated = invoke("evaluate", "--model", out / "model.npz", "--data-dir", mnist_dir)
    assert f"{metrics['test_accuracy']:.4%}" in evaluated.out


def write_random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(300))


def write_single_array(path: Path) -> None:
    with path.open("wb") as file:
        np.save(file, np.arange(6.0))


def write_archive_without_metadata(path: Path) -> None:
    with path.open("wb") as file:
        np.savez(file, weight_0=np.zeros((784, 2)), bias_0=np.zeros(2))


def write_model_of_non_digit_classes(path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice([10, 20], size=40)
    NeuralNet([1], random_state=0).fit(rng.normal(size=(40, 784)), labels, n_iterations=1).save(
        path
    )


def write_regression_model(path: Path) -> None:
    rng = np.random.default_rng(0)
    NeuralNetRegressor([1]).fit(rng.normal(size=(40, 784)), rng.normal(size=40),
                                   n_iterations=1).save(path)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "write", "fragments"),
    [
        pytest.param("model.npz", lambda path: None, ["no such model file"], id="missing"),
        pytest.param(  # was Python's advice: read it with NeuralNetRegressor.load
            "model.npz",
            write_regression_model,
            ["a regression model (identity output), not a classifier of digits"],
            id="regressor",
        ),
        pytest.param("model.npz", write_random_bytes, ["not a scratchnet model"], id="bytes"),
        pytest.param("model.npy", write_single_array, ["not a scratchnet model"], id="npy"),
        pytest.param(
            "model.npz", write_archive_without_metadata, ["no readable metadata"], id="no-meta"
        ),
        pytest.param(
            "model.npz", write_model_of_non_digit_classes, ["not MNIST digits"], id="classes"
        ),
        pytest.param("run", Path.mkdir, ["a folder, not a model file"], id="a folder"),
    ],
)
def test_evaluate_on_a_bad_model_file_is_one_line_error(
    name, write, fragments, tmp_path, empty_dir, no_downloads
):
    model = tmp_path / name
    write(model)
    outcome = invoke("evaluate", "--model", model, "--data-dir", empty_dir)
    assert_one_line_error(outcome, str(model), *fragments)
    assert outcome.out == ""


# -- which errors become one line -----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (sn_errors.InvalidArgumentError("bad value"), "bad value"),
        (sn_errors.InvalidTypeError("bad type"), "bad type"),
        (sn_errors.DataFileError("bad file"), "bad file"),
        (sn_errors.TrainingDivergedError("diverged"), "diverged"),
        (sn_errors.NotFittedError("not fitted"), "not fitted"),
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (PermissionError(13, "Permission denied", "run/x.png"), "run/x.png: Permission denied"),
    ],
    ids=["InvalidArgumentError", "InvalidTypeError", "DataFileError", "TrainingDivergedError",
         "NotFittedError", "PermissionError", "PermissionError with its file"],
)  # fmt: skip
def test_user_errors_become_one_line_and_status_2(error, said, monkeypatch):
    """The system's errors are said without their "[Errno 13]"."""

    def fail(args):
        raise error

    monkeypatch.setattr("scratchnet.app.commands.figures.run", fail)
    outcome = invoke("figures")
    assert (outcome.code, outcome.err) == (EXIT_USAGE, f"scratchnet: error: {said}\n")


@pytest.mark.parametrize("error", [ValueError("shapes (3,4) and (5,6) not aligned"), KeyError(3)])
def test_a_bug_keeps_its_traceback(error, monkeypatch):
    """An internal NumPy error is not disguised as a user error."""

    def fail(args):
        raise error

    monkeypatch.setattr("scratchnet.app.commands.figures.run", fail)
    with pytest.raises(type(error)):
        main(["figures"])


# A Ctrl-C stops the command; more signals in a burst, or while the cleanup it started
# runs, do not cut that short; once the cleanup is done a signal stops again.
SECOND_SIGNAL = """
import os, signal, time
from scratchnet.app.interrupts import STOP_GRACE, stop_on_signals, uninterrupted

stop_on_signals()
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
except KeyboardInterrupt:
    os.kill(os.getpid(), signal.SIGINT)  # a burst: the same request
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.2)  # either would be raised in here
    with uninterrupted():
        time.sleep(STOP_GRACE)
        os.kill(os.getpid(), signal.SIGINT)  # during the cleanup
        time.sleep(0.2)
        print("cleaned up")
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
except KeyboardInterrupt as stop:
    print("stopped again by", type(stop).__name__)
"""


def test_a_second_signal_does_not_cut_the_cleanup_short_and_later_ones_still_stop(tmp_path):
    outcome = run_process(sys.executable, "-c", SECOND_SIGNAL, cwd=tmp_path)
    said = "cleaned up\nstopped again by Terminated\n"
    assert (outcome.code, outcome.out, outcome.err) == (0, said, "")


# A signal whose handler runs inside a weakref callback (matplotlib's caches have them):
# Python prints "Exception ignored in" and drops the KeyboardInterrupt raised there.
# Scripts in which a weakref callback sends a stop to its own process: the signal's
# handler runs in the callback, where Python drops the KeyboardInterrupt it raises.
LOSING_A_STOP = """
import os, signal, sys, threading, time, weakref
from scratchnet.app import cli
from scratchnet.app.commands import figures
from scratchnet.app.interrupts import stop_on_signals, uninterrupted


class Cached:
    pass


def losing(signum):
    def callback(ref):
        os.kill(os.getpid(), signum)
        sum(range(10**5))  # the handler runs in here

    return callback
"""


def run_losing_a_stop(body: str, cwd: Path):
    return run_process(sys.executable, "-c", LOSING_A_STOP + body, cwd=cwd)


SWALLOWED_SIGNAL = """
stop_on_signals()
thing = Cached()
ref = weakref.ref(thing, losing(signal.SIGTERM))
try:
    del thing
    time.sleep(5)
    print("went on")
except KeyboardInterrupt as stop:
    print("stopped by", type(stop).__name__)
"""


def test_a_stop_python_cannot_raise_in_a_weakref_callback_still_stops_the_command(tmp_path):
    """A SIGTERM while a report was built was printed as "Exception ignored in" with a
    traceback, and the command went on to end with status 0 (found in 2 of 20 trials)."""
    outcome = run_losing_a_stop(SWALLOWED_SIGNAL, tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (0, "stopped by Terminated\n", "")


SWALLOWED_AS_THE_COMMAND_ENDS = """
def command(args):  # its last object goes, and its weakref callback gets the signal
    thing = Cached()
    ref = weakref.ref(thing, losing(signal.SIGTERM))
    del thing
    return 0


figures.run = command
status = cli.main(["figures"])
print("status", status, "handler back", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
"""


def test_a_stop_swallowed_as_the_command_ends_still_ends_it_as_stopped(tmp_path):
    """The stop was sent again 10 ms later, after the command had returned 0: lost (a
    review); in a program that called cli.main, it then met the caller's handlers."""
    outcome = run_losing_a_stop(SWALLOWED_AS_THE_COMMAND_ENDS, tmp_path)
    assert (outcome.code, outcome.out) == (0, "status 143 handler back True\n")
    assert outcome.err == "scratchnet: terminated\n"


TWO_SWALLOWED = """
def command(args):  # two stops lost within the 10 ms before the first is sent again
    first, second = Cached(), Cached()
    refs = weakref.ref(first, losing(signal.SIGTERM)), weakref.ref(second, losing(signal.SIGINT))
    del first
    del second
    return 0


figures.run = command
print("status", cli.main(["figures"]), flush=True)
time.sleep(0.2)
print("the caller goes on")
"""


def test_two_stops_swallowed_at_once_end_the_command_and_never_reach_its_caller(tmp_path):
    """The second replaced the first's timer without cancelling it: the first was sent
    after cli.main had returned, and killed the program that called it (status 143)."""
    outcome = run_losing_a_stop(TWO_SWALLOWED, tmp_path)
    assert outcome.code == 0, outcome
    assert outcome.out in ("status 130\nthe caller goes on\n", "status 143\nthe caller goes on\n")


LOST_WHILE_THREADING_IS_LOCKED = """
stop_on_signals()
first, second = Cached(), Cached()
refs = weakref.ref(first, losing(signal.SIGINT)), weakref.ref(second, losing(signal.SIGINT))
try:
    with threading._active_limbo_lock:  # held by threading.enumerate() when GC runs
        del first  # finalizers
        time.sleep(0.05)
        del second
    time.sleep(5)
    print("went on")
except KeyboardInterrupt as stop:
    print("stopped by", type(stop).__name__)
"""


def test_stops_lost_while_threading_holds_its_lock_neither_hang_nor_go(tmp_path):
    """The hook joined the earlier sender, a threading.Timer, whose end needs the lock
    the finalizers ran under: the process hung, deaf to SIGTERM (a review)."""
    outcome = run_losing_a_stop(LOST_WHILE_THREADING_IS_LOCKED, tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (0, "stopped by KeyboardInterrupt\n", "")


LOST_IN_A_FORKED_CHILD = """
got = []
signal.signal(signal.SIGINT, lambda *_: got.append("parent"))
child = os.fork()
if child == 0:
    stop_on_signals()
    thing = Cached()
    ref = weakref.ref(thing, losing(signal.SIGINT))
    try:
        del thing
        time.sleep(2)
        os._exit(1)
    except KeyboardInterrupt:
        os._exit(0)
_, status = os.waitpid(child, 0)
time.sleep(0.1)
print("child stopped:", os.waitstatus_to_exitcode(status) == 0, "parent signalled:", got)
"""


def test_a_stop_lost_in_a_forked_child_stops_the_child_not_its_parent(tmp_path):
    """The sending again took the process id at import: a child forked after it sent
    its lost stop to its parent (a review)."""
    outcome = run_losing_a_stop(LOST_IN_A_FORKED_CHILD, tmp_path)
    assert (outcome.code, outcome.out) == (0, "child stopped: True parent signalled: []\n")


A_STOP_AS_THE_HANDLERS_ARE_PUT_BACK = """
import os, signal, sys
from scratchnet.app import cli, interrupts
from scratchnet.app.commands import figures

forget = interrupts.forget_lost_stop


def forget_then_a_stop():
    if sys._getframe(1).f_code.co_name == "stopping_on_signals":  # putting things back
        os.kill(os.getpid(), signal.SIGTERM)
    return forget()


interrupts.forget_lost_stop = forget_then_a_stop
figures.run = lambda args: 0
print("status", cli.main(["figures"]), signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
"""


def test_a_stop_as_the_callers_handlers_are_put_back_does_not_escape_halfway(tmp_path):
    """Terminated escaped cli.main from its finally, with the caller's SIGTERM handler
    and unraisable hook still scratchnet's (a review)."""
    outcome = run_process(sys.executable, "-c", A_STOP_AS_THE_HANDLERS_ARE_PUT_BACK, cwd=tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (0, "status 0 True\n", "")


SWALLOWED_BEFORE_A_CLEANUP = """
stop_on_signals()
thing = Cached()
ref = weakref.ref(thing, losing(signal.SIGTERM))
try:
    del thing
    with uninterrupted():  # the stop is sent again in here, and ignored
        time.sleep(0.5)
    cleaned = time.monotonic()
    time.sleep(5)
    print("went on")
except KeyboardInterrupt as stop:
    print(type(stop).__name__, "within a second of the cleanup:", time.monotonic() - cleaned < 1)
"""


def test_a_lost_stop_sent_again_during_a_cleanup_comes_once_it_is_done(tmp_path):
    """It was ignored there, and only the command's end raised it (a run finished,
    printed its results, then said 'interrupted')."""
    outcome = run_losing_a_stop(SWALLOWED_BEFORE_A_CLEANUP, tmp_path)
    assert (outcome.code, outcome.err) == (0, "")
    assert outcome.out == "Terminated within a second of the cleanup: True\n"


IGNORED_FROM_THE_START = """
import os, signal, time
from scratchnet.app.interrupts import stop_on_signals

stop_on_signals()
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.2)
print("still here")
"""


def test_a_ctrl_c_the_process_was_started_ignoring_stays_ignored(tmp_path):
    """As in a background job of a script (its shell starts it ignoring SIGINT)."""
    completed = subprocess.run(
        [sys.executable, "-c", IGNORED_FROM_THE_START], cwd=tmp_path, capture_output=True,
        text=True, timeout=60, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "still here\n", "")


def run_scratchnet(*arguments, cwd: Path, **streams) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scratchnet", *map(str, arguments)], cwd=cwd,
                          timeout=120, **streams)  # fmt: skip


@pytest.mark.parametrize("stderr", ["full disk", "closed"])
def test_a_run_whose_messages_cannot_be_written_is_published_all_the_same(
    mnist_dir, tmp_path, stderr
):
    """stderr on a full disk (here /dev/full), or closed (2>&-): the first progress line
    that could not be written ended the run with status 1, nothing published."""
    with open("/dev/full", "w") as full:
        streams = {"stderr": full} if stderr == "full disk" else {"preexec_fn": lambda: os.close(2)}
        completed = run_scratchnet("train", "--preset", "one-two-fast", "--data-dir", mnist_dir,
                                   "--out", "run", cwd=tmp_path, stdout=subprocess.PIPE,
                                   text=True, **streams)  # fmt: skip
    assert completed.returncode == 0
    assert "fit time: " in completed.stdout
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == MINI_BATCH_RUN_FILES


@pytest.mark.parametrize("command", ["train", "figures"])
def test_output_that_cannot_be_written_is_named(mnist_dir, tmp_path, command):
    """It said 'No space left on device', as if the run's folder were full."""
    options = ["--preset", "one-two-fast", "--data-dir", mnist_dir] if command == "train" else []
    with open("/dev/full", "w") as full:
        completed = run_scratchnet(command, *options, "--out", "out", cwd=tmp_path, stdout=full,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert (completed.returncode, completed.stderr) == (
        2,
        "scratchnet: error: the command's output (stdout): No space left on device\n",
    )


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_command_started_with_stdout_closed_says_it_cannot_give_its_output(
    digits_model, mnist_dir, tmp_path, command
):
    """>&-: predict crashed with a traceback (AttributeError on None.flush), evaluate
    ended with status 0 and nothing said: the answer was lost unnoticed."""
    image = tmp_path / "seven.png"
    image.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    argv = {"predict": ["predict", "--model", digits_model, image],
            "evaluate": ["evaluate", digits_model, "--data-dir", mnist_dir]}[command]  # fmt: skip
    completed = run_scratchnet(*argv, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: os.close(1))  # fmt: skip
    assert (completed.returncode, completed.stderr) == (
        2,
        "scratchnet: error: the command's output (stdout): closed since the command started\n",
    )


@pytest.mark.parametrize("command", ["figures", "export", "report"])
def test_a_command_whose_work_is_its_files_writes_them_with_stdout_closed(
    digits_model, mnist_dir, tmp_path, command
):
    """Only predict and evaluate answer on stdout: the rest write their files (a first
    fix had every command fail at its first line)."""
    run = tmp_path / "run"
    if command == "report":
        assert invoke("train", "--preset", "one-two-fast", "--quiet", "--data-dir", mnist_dir,
                      "--out", run).code == 0  # fmt: skip
        (run / "report.html").unlink()
    argv, made = {"figures": (["figures", "--out", "f"], tmp_path / "f" / "sigmoid.png"),
                  "export": (["export", "--model", digits_model, "--out", "m.onnx"],
                             tmp_path / "m.onnx"),
                  "report": (["report", run, "--data-dir", mnist_dir],
                             run / "report.html")}[command]  # fmt: skip
    completed = run_scratchnet(*argv, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: os.close(1))  # fmt: skip
    assert (completed.returncode, completed.stderr) == (0, "")
    assert made.is_file()


@pytest.mark.parametrize("quiet", [False, True], ids=["progress", "quiet"])
def test_a_run_started_with_stdout_closed_writes_its_files_all_the_same(mnist_dir, tmp_path, quiet):
    """Its work is its files: a closed stdout (>&-) must neither stop it at its first
    line nor, once published, cost it its report."""
    completed = run_scratchnet("train", "--preset", "one-two-fast", *(["--quiet"] * quiet),
                               "--data-dir", mnist_dir, "--out", "run", cwd=tmp_path,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: os.close(1))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == MINI_BATCH_RUN_FILES


@pytest.mark.parametrize("command", ["figures", "export"])
def test_sigterm_stops_any_command_in_one_line(command, tmp_path, blobs):
    """A command that runs for a while (figures; export of a model) gets SIGTERM as its
    work begins: it ends as a Ctrl-C would, with 'terminated' and status 143."""
    NeuralNet([4, 1], random_state=0).fit(*blobs, n_iterations=1).save(tmp_path / "m.npz")
    argv = {"figures": ["figures", "--out", "figures"],
            "export": ["export", "--model", "m.npz", "--out", "m.onnx"]}[command]  # fmt: skip
    script = TERMINATED_AS_WORK_BEGINS.replace("ARGV", repr(argv))
    outcome = run_process(sys.executable, "-c", script, cwd=tmp_path)
    assert (outcome.code, outcome.out, outcome.err) == (143, "", "scratchnet: terminated\n")
    left = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    assert left in (["m.npz"], ["figures", "m.npz"])  # no output, no temporary file


# SIGTERM arrives as the command's first file is about to be written (atomic_write
# names its temporary file with secrets.token_hex).
TERMINATED_AS_WORK_BEGINS = """
import os, secrets, signal, sys
from scratchnet.app import entry

real_token = secrets.token_hex

def terminated_first(*args):
    os.kill(os.getpid(), signal.SIGTERM)
    return real_token(*args)

secrets.token_hex = terminated_first
sys.argv = ["scratchnet", *ARGV]
entry.entry_point()
"""


@pytest.mark.parametrize("folder", ["-dash", "runs/a b", "it's"])
def test_a_pasted_resume_command_gives_the_folder_back(folder):
    from scratchnet.app.arguments import pasteable
    from scratchnet.app.cli import build_parser

    words = shlex.split(f"train --resume {pasteable(Path(folder))}")
    assert build_parser().parse_args(words).resume.resolve() == Path(folder).resolve()


def test_notes_added_to_an_error_are_all_said_in_order():
    from scratchnet.app.arguments import add_note, error_message

    interruption = KeyboardInterrupt()
    add_note(interruption, "the earlier run's report is kept in X")
    add_note(interruption, "checkpoint.npz kept after 2 epochs")
    assert error_message(interruption) == (
        "the earlier run's report is kept in X; checkpoint.npz kept after 2 epochs"
    )


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_reader_that_leaves_during_training_still_gets_the_run_its_report(
    unbuffered, mnist_dir, tmp_path
):
    """'scratchnet train | head -1': buffered, the run was published, then its results'
    lines met the closed pipe and the report was never written; unbuffered, the next
    progress line met it and the whole run was removed. Nothing said so either way."""
    command = [sys.executable, "-m", "scratchnet", "train", "--preset", "one-two-fast",
               "--epochs", "1", "--hidden", "16", "--data-dir", str(mnist_dir),
               "--out", str(tmp_path / "run")]  # fmt: skip
    environment = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=environment)  # fmt: skip
    assert process.stdout.readline().startswith(b"train_x shape")
    process.stdout.close()  # as head -1 does
    # buffered, the rest may all reach the pipe at the end before the reader closes it
    assert process.wait(timeout=300) in ((0, 141) if not unbuffered else (141,))
    assert (tmp_path / "run" / "report.html").is_file()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é ü 7", "plain é ü 7"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("esc\x1b[31m", "esc\\x1b[31m"),
        ("next\x85line", "next\\x85line"),  # C1 control (NEL)
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),  # str.splitlines splits at them
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),  # right-to-left override
        ("caf\udce9", "caf\\xe9"),  # a byte that is not UTF-8, as os.fsdecode gives it
    ],
)
def test_printable_writes_out_what_would_break_the_line_or_drive_the_terminal(text, shown):
    from scratchnet.app.arguments import printable

    assert printable(text) == shown
    assert len(printable(text).splitlines()) == 1


def test_json_documents_are_valid_unicode_with_the_bytes_of_names_written_out():
    """A lone surrogate ("\\udce9", os.fsdecode's stand-in for a byte that is not UTF-8)
    is valid to Python's json but refused by strict parsers and by UTF-8 itself."""
    from scratchnet.app.arguments import json_document

    document = {"caf\udce9": ["x\udcff", ("é", 1.5)], "n": None}
    text = json_document(document)
    text.encode("utf-8")  # strict: no lone surrogate
    assert json.loads(text) == {"caf\\xe9": ["x\\xff", ["é", 1.5]], "n": None}


def test_a_bad_number_of_threads_is_one_line_before_any_work(monkeypatch, tmp_path):
    """serve started, then answered every prediction with a 500 and a traceback in its
    log; the figures were made though the setting was wrong. Every command now says so
    first (here before it finds that the model is missing)."""
    monkeypatch.setenv("SCRATCHNET_THREADS", "two")
    for argv in (["evaluate", tmp_path / "model.npz"], ["figures", "--out", tmp_path / "figures"]):
        outcome = invoke(*argv)
        assert_one_line_error(outcome, "SCRATCHNET_THREADS must be a whole number of at least 1, "
                              "got 'two'")  # fmt: skip
    assert list(tmp_path.iterdir()) == []
