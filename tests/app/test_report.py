"""The run report: what ``scratchnet train`` and ``scratchnet report`` write, checked
against independent computations: scikit-learn's metrics on the predictions of
tests/reference.py, the official test files read directly, and NumPy on the saved
weights. Two short real runs are shared by the tests: the tutorial preset (binary,
float64) and a four-digit mini-batch run (softmax, float32, early stopping).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
from html import escape, unescape
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.image import imread
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from scratchnet import DataFileError, NeuralNet
from scratchnet.app import experiment, run_folder
from scratchnet.app import report as report_module
from scratchnet.app.cli import build_parser
from scratchnet.app.commands.train import recipe_from
from scratchnet.app.plots import accuracy_figure, cost_figure, png
from scratchnet.app.presets import Recipe
from scratchnet.data.idx import read_idx

from .. import reference
from .cli_helpers import RUN_FILES, assert_one_line_error, invoke, read_metrics
from .page_driver import (  # Debian's Chromium; never `playwright install`
    CHROMIUM,
    CHROMIUM_ARGS,
    require_browser,
)

TUTORIAL_FIGURES = ["accuracy.png", "cost.png", "cross_entropy.png", "hidden_units.png",
                    "reliability.png", "sigmoid.png"]  # fmt: skip
SECTIONS = ["run", "curves", "test", "mistakes", "unsure", "units", "calibration"]
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
FOUR_DIGITS = [7, 0, 3, 9]  # class order is not sorted order


# -- reading the page --------------------------------------------------------------------------


class Page(HTMLParser):
    """The elements of a report: each start tag's attributes, the text of each table
    cell by table id, and the text of each section by id."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.sections: dict[str, str] = {}
        self._table = self._section = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "section":
            self._section = attributes["id"]
            self.sections[self._section] = ""
        elif tag == "table":
            self._table = attributes.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._section:
            self.sections[self._section] += data

    def text(self, section: str) -> str:
        return " ".join(self.sections[section].split())


def cards(html: str, section: str) -> list[dict]:
    """The gallery cards (data- attributes and image) inside one section."""
    body = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S)[1]
    found = re.findall(
        r'<figure class="digit" ([^>]*)><img src="([^"]+)" alt="([^"]*)"[^>]*><figcaption>'
        r"(.*?)</figcaption>",
        body,
    )
    return [
        {**dict(re.findall(r'(data-[a-z]+)="([^"]*)"', attributes)), "src": source,
         "alt": alt, "caption": re.sub(r"<[^>]+>", " ", caption).split()}
        for attributes, source, alt, caption in found
    ]  # fmt: skip


def assert_percent(cell: str, value: float, rtol: float = 0.0) -> None:
    """``cell`` shows ``value`` in percent with 2 decimals: rounded (half a unit of the
    last digit off at most, plus ``rtol`` where the value was computed in another
    precision), or '>99.99%' / '<0.01%' where rounding would claim 100% or 0% for a
    value that is not."""
    if np.isnan(value):
        assert cell.startswith("n/a"), cell
    elif cell.startswith(">"):
        assert 0.9999 < value < 1, (cell, value)
    elif cell.startswith("<"):
        assert 0 < value < 0.0001, (cell, value)
    else:
        slack = 0.005 + 100 * value * rtol + 1e-9
        assert float(cell.split("%")[0]) == pytest.approx(100 * value, abs=slack), cell


def assert_probability(cell: str, value: float) -> None:
    """As ``assert_percent``, but a model's probability of 1.0 is '>99.99%' too (a float
    rounding of a softmax, not certainty)."""
    if value == 1:
        assert cell == ">99.99%", cell
    else:
        assert_percent(cell, value)


def rgb(css: str, over=None) -> np.ndarray:
    """A computed CSS colour 'rgb(r, g, b)' or 'rgba(r, g, b, a)' as RGB, blended over the
    colour ``over`` when translucent."""
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    colour, alpha = np.array(values[:3]), values[3] if len(values) == 4 else 1.0
    return colour if over is None else alpha * colour + (1 - alpha) * np.array(over)


def contrast(first: np.ndarray, second: np.ndarray) -> float:
    """WCAG 2's contrast ratio (lighter + 0.05) / (darker + 0.05) of relative luminances."""

    def luminance(colour):
        c = colour / 255
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4) @ [
            0.2126,
            0.7152,
            0.0722,
        ]

    lighter, darker = sorted([luminance(first), luminance(second)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def decoded(uri: str) -> np.ndarray:
    return imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")


def official_test_set(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    return images, read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz").astype(np.int64)


def reference_answers(net: NeuralNet, mnist_dir: Path):
    """Rows of the official test file holding the model's digits, their labels, the
    reference's probabilities and predictions."""
    images, labels = official_test_set(mnist_dir)
    rows = np.flatnonzero(np.isin(labels, net.classes))
    probabilities = reference.probabilities(net, images[rows].reshape(-1, 784) / 255.0)
    predicted = net.classes[probabilities.argmax(axis=1)]
    return rows, labels[rows], probabilities, predicted


# -- two real runs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial_run(mnist_dir, tmp_path_factory):
    """Ten iterations of the tutorial preset: about 86% right, so hundreds of mistakes."""
    out = tmp_path_factory.mktemp("report") / "tutorial"
    outcome = invoke("train", "--quiet", "--iterations", 10, "--data-dir", mnist_dir, "--out", out)
    assert outcome.code == 0, outcome
    return out, outcome, (out / "report.html").read_text()


@pytest.fixture(scope="module")
def four_digit_run(mnist_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "four"
    outcome = invoke(
        "train", "--quiet", "--preset", "one-two-fast", "--digits", *FOUR_DIGITS,
        "--epochs", 2, "--batch-size", 256, "--validation-fraction", 0.1, "--patience", 1,
        "--data-dir", mnist_dir, "--out", out,
    )  # fmt: skip
    assert outcome.code == 0, outcome
    return out, outcome, (out / "report.html").read_text()


@pytest.fixture(params=["tutorial", "four digits"])
def any_run(request, tutorial_run, four_digit_run):
    return tutorial_run if request.param == "tutorial" else four_digit_run


# -- the files -----------------------------------------------------------------------------------


def test_train_writes_the_report_and_its_figures_as_png_files_beside_it(tutorial_run):
    out, outcome, html = tutorial_run
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(["metrics.json", "model.npz", "report.html", *TUTORIAL_FIGURES])
    for name in TUTORIAL_FIGURES:  # each file is the very figure the page shows
        assert base64.b64encode((out / name).read_bytes()).decode() in html, name
    assert f"see {out / 'report.html'}" in outcome.out.splitlines()[-1]
    assert outcome.err == ""
    # a later --force run knows each of them as a run's file, to replace or move out
    assert set(names) <= set(experiment.RUN_FILES)


def test_the_report_has_every_section_and_the_tutorial_figures_only_for_the_tutorial(
    tutorial_run, four_digit_run
):
    tutorial, four = Page(tutorial_run[2]), Page(four_digit_run[2])
    assert list(tutorial.sections) == [*SECTIONS, "tutorial"]
    assert list(four.sections) == SECTIONS
    assert sorted(p.name for p in four_digit_run[0].glob("*.png")) == sorted(
        set(TUTORIAL_FIGURES) - {"sigmoid.png", "cross_entropy.png"}
    )
    assert "sigmoid" in tutorial.text("tutorial") and "cross-entropy" in tutorial.text("tutorial")


def test_the_tutorial_figures_need_the_tutorials_kind_of_network_and_blank_pixels_are_told_true(
    mnist_dir, tmp_path, tutorial_run
):
    """The tutorial preset with ReLU units and distorted images: no sigmoid to explain,
    and the distortions put ink into pixels that no stored image inks."""
    out = tmp_path / "relu"
    outcome = invoke("train", "--quiet", "--iterations", 2, "--activation", "relu",
                     "--augment", "affine", "--data-dir", mnist_dir, "--out", out)  # fmt: skip
    assert outcome.code == 0, outcome
    page = Page((out / "report.html").read_text())
    assert "tutorial" not in page.sections
    assert not (out / "sigmoid.png").exists()
    assert "Distortions can move ink into pixels that are blank" in page.text("units")
    assert "never receive a gradient" in Page(tutorial_run[2]).text("units")


def test_the_report_references_nothing_outside_itself(any_run):
    html = any_run[2]
    assert DATA_URI.search(html)
    outside = DATA_URI.sub("DATA", html)
    for needle in ("http:", "https:", "//", "<script", "<link", "@import", "url("):
        assert needle not in outside, needle
    for attribute, value in re.findall(r'\b(src|href)="([^"]*)"', outside):
        assert value == "DATA" if attribute == "src" else value.startswith("#"), value
    assert "default-src 'none'; img-src data:" in html  # the browser loads nothing else
    assert "form-action 'none'; base-uri 'none'" in html  # which default-src does not cover


def test_report_rebuilds_the_same_files_from_the_run_folder(tutorial_run, mnist_dir, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(tutorial_run[0], out)
    for name in ["report.html", *TUTORIAL_FIGURES]:
        (out / name).unlink()
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert outcome.code == 0, outcome
    assert outcome.out.startswith(f"wrote {out / 'report.html'} and its figures: cost.png")
    for name in TUTORIAL_FIGURES:
        assert (out / name).read_bytes() == (tutorial_run[0] / name).read_bytes(), name
    rebuilt = (out / "report.html").read_text()
    assert rebuilt == tutorial_run[2].replace(str(tutorial_run[0]), str(out))


def test_reports_line_writes_out_what_would_drive_the_terminal(tutorial_run, mnist_dir, tmp_path):
    """A folder named with an escape sequence (ESC [2J clears the screen) and a line
    break: the one line that says what was written shows them as text."""
    out = tmp_path / "run\x1b[2J\nx"
    shutil.copytree(tutorial_run[0], out)
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert outcome.code == 0, outcome
    assert outcome.out.startswith(f"wrote {tmp_path}/run\\x1b[2J\\nx/report.html and its figures")
    assert outcome.out.count("\n") == 1 and "\x1b" not in outcome.out


def test_the_reports_command_to_rebuild_it_can_be_pasted(tutorial_run, mnist_dir, tmp_path):
    out = tmp_path / "Anne's run"
    shutil.copytree(tutorial_run[0], out)
    assert invoke("report", out, "--data-dir", mnist_dir).code == 0
    (command,) = re.findall(
        r"Rebuild it with <code>(.*?)</code>", (out / "report.html").read_text()
    )
    assert shlex.split(unescape(command)) == ["scratchnet", "report", str(out)]


def test_report_finds_the_data_the_run_recorded_without_being_told(tutorial_run, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    out = tmp_path / "copy"
    shutil.copytree(tutorial_run[0], out)
    (out / "report.html").unlink()
    assert invoke("report", out).code == 0
    assert (out / "report.html").read_text() == tutorial_run[2].replace(
        str(tutorial_run[0]), str(out)
    )


def test_report_removes_and_names_what_a_killed_run_left(tutorial_run, mnist_dir, tmp_path):
    """A run killed after publishing, before its report: `report` took over its lock and
    said so, but left its staging folder without a word (a trial's kill -9)."""
    out = tmp_path / "run"
    shutil.copytree(tutorial_run[0], out)
    (out / ".staging-123-0a1b2c3d" / ".replaced").mkdir(parents=True)
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert outcome.code == 0, outcome
    assert outcome.err == (
        "scratchnet: removed what an interrupted run left behind: .staging-123-0a1b2c3d\n"
    )
    assert not (out / ".staging-123-0a1b2c3d").exists()


# -- the numbers ---------------------------------------------------------------------------------


def test_confusion_matrix_and_class_scores_are_scikit_learns(any_run, mnist_dir):
    out, _, html = any_run
    net = NeuralNet.load(out / "model.npz")
    _, labels, _, predicted = reference_answers(net, mnist_dir)
    digits = net.classes.tolist()
    page = Page(html)
    header, columns, *rows = page.tables["confusion-matrix"]
    assert header == ["true digit", "predicted digit", "test images"]
    assert columns == [str(d) for d in digits]
    assert [row[0] for row in rows] == [str(d) for d in digits]
    shown = [[int(cell.replace(",", "")) for cell in row[1:]] for row in rows]
    expected = confusion_matrix(labels, predicted, labels=digits)
    assert [row[:-1] for row in shown] == expected.tolist()
    assert [row[-1] for row in shown] == expected.sum(axis=1).tolist()
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=digits, zero_division=np.nan
    )
    header, *rows = page.tables["class-scores"]
    assert header == ["digit", "precision", "recall", "F1", "support"]
    for i, row in enumerate(rows):
        assert row[0] == str(digits[i])
        for cell, value in zip(row[1:4], (precision[i], recall[i], f1[i]), strict=True):
            assert_percent(cell, value)
        assert row[2].endswith(f"({expected[i, i]:,}/{support[i]:,})")
        assert int(row[4].replace(",", "")) == support[i]
    n_right = int(np.sum(labels == predicted))
    assert n_right / len(labels) == pytest.approx(read_metrics(out)["test_accuracy"])
    assert f"{n_right:,} of {len(labels):,} test images classified right" in page.text("test")


@pytest.mark.parametrize("section", ["mistakes", "unsure"])
def test_galleries_show_real_test_digits_with_the_stated_probabilities(section, any_run, mnist_dir):
    """Each card is the official test image of its row, truly labelled as it says,
    predicted as it says with the stated probability; the mistakes are the most
    confident ones, the right answers the least confident ones."""
    out, _, html = any_run
    net = NeuralNet.load(out / "model.npz")
    rows, labels, probabilities, predicted = reference_answers(net, mnist_dir)
    images, _ = official_test_set(mnist_dir)
    columns = np.searchsorted(net.classes, predicted, sorter=np.argsort(net.classes))
    confidence = probabilities[np.arange(len(rows)), np.argsort(net.classes)[columns]]
    wrong = section == "mistakes"
    chosen = np.flatnonzero((labels != predicted) == wrong)
    shown = cards(html, section)
    assert len(shown) == min(32, len(chosen)) >= 24
    position = {row: i for i, row in enumerate(rows)}
    rtol = 1e-12 if net.dtype == np.float64 else 1e-5  # float32 model, float64 reference
    stated = []
    for card in shown:
        i = position[int(card["data-row"])]
        assert int(card["data-true"]) == labels[i]
        assert int(card["data-predicted"]) == predicted[i]
        assert (int(card["data-predicted"]) != labels[i]) == wrong
        assert float(card["data-probability"]) == pytest.approx(confidence[i], rel=rtol)
        label = [str(labels[i]), "→", str(predicted[i])] if wrong else [str(labels[i])]
        assert card["caption"][:-2] == label and card["caption"][-1] == f"#{card['data-row']}"
        assert_probability(card["caption"][-2], float(card["data-probability"]))
        assert card["alt"] == (f"test image {card['data-row']}: the digit {labels[i]}, "
                               f"predicted {predicted[i]} with probability "
                               f"{card['caption'][-2]}")  # fmt: skip
        pixels = decoded(card["src"])[:, :, :3]  # dark ink on white: 255 - value
        np.testing.assert_array_equal(np.round(pixels * 255), np.repeat(
            255.0 - images[int(card["data-row"])][:, :, None], 3, axis=2))  # fmt: skip
        stated.append(float(card["data-probability"]))
    ordered = sorted(stated, reverse=wrong)
    assert stated == ordered
    shown_rows = {position[int(card["data-row"])] for card in shown}
    others = confidence[[i for i in chosen if i not in shown_rows]]
    edge = confidence[sorted(shown_rows)]
    if len(others):  # no card left out is more telling than one shown
        if wrong:
            assert edge.min() >= others.max() * (1 - rtol)
        else:
            assert edge.max() <= others.min() * (1 + rtol)


@pytest.mark.parametrize(
    ("section", "predicted", "lead"),
    [
        ("mistakes", [1, 1, 1, 2], "The one test digit the network gets wrong. Each card"),
        ("mistakes", [2, 1, 1, 2],
         "The test digits the network gets wrong, all 2, most confident first."),
        ("unsure", [2, 1, 1, 1], "<p>The one test digit the network gets right: the digit, "
                                 "the probability for its answer, and the image's row in t10k."),
        ("unsure", [1, 2, 2, 1], "<p>The 2 test digits the network gets right with the lowest "
                                 "probability for its answer: the digit, that probability, and"),
    ],
)  # fmt: skip
def test_the_galleries_count_their_cards_in_words_that_fit_their_number(section, predicted, lead):
    """One mistake was 'all 1, most confident first', one right answer 'The 1 test
    digits the network gets right'."""
    labels = np.array([1, 2, 1, 2])
    test = SimpleNamespace(images=np.zeros((4, 28, 28), np.uint8), rows=np.arange(4))
    result = SimpleNamespace(labels=labels, predicted=np.array(predicted),
                             correct=labels == predicted, confidence=np.full(4, 0.9))  # fmt: skip
    write = {"mistakes": report_module._mistakes_section, "unsure": report_module._unsure_section}
    html = write[section](None, test, result, {})
    shown = labels != predicted if section == "mistakes" else labels == predicted
    assert lead in html and html.count('class="digit"') == np.sum(shown)


def test_hidden_units_are_summarised_by_their_weight_norms(tutorial_run):
    out, _, html = tutorial_run
    weight = NeuralNet.load(out / "model.npz").layers[0].weight  # (784, 196)
    norms = np.sort(np.sqrt(np.sum(weight**2, axis=0)))[::-1]
    shown, rest = norms[:64], norms[64:]
    text = Page(html).text("units")
    assert "ordered by the L2 norm of their incoming weights, largest first" in text
    assert (f"The 64 shown have norms from {shown[-1]:.3g} to {shown[0]:.3g}; the other 132 "
            f"units, not drawn, have norms from {rest.min():.3g} to {rest.max():.3g} (median "
            f"{np.median(rest):.3g})") in text  # fmt: skip


def test_calibration_error_and_bins_are_computed_independently(any_run, mnist_dir):
    out, _, html = any_run
    net = NeuralNet.load(out / "model.npz")
    _, labels, probabilities, predicted = reference_answers(net, mnist_dir)
    if len(net.classes) == 2:  # the probability of the second digit
        probability, outcome = probabilities[:, 1], labels == net.classes[1]
        words = f"observed frequency of digit {net.classes[1]}"
    else:  # the top-label confidence
        probability, outcome = probabilities.max(axis=1), labels == predicted
        words = "observed accuracy"
    ece = reference.expected_calibration_error(probability, outcome)
    page = Page(html)
    shown = float(re.search(r"weighted by their images: ([\d.]+)", page.text("calibration"))[1])
    assert shown == pytest.approx(ece, abs=5e-5)
    header, *rows = page.tables["calibration-bins"]
    assert header == ["bin", "images", "mean probability", words]
    assert len(rows) == 10
    for row, (low, high) in zip(rows, pairwise(np.linspace(0, 1, 11)), strict=True):
        inside = (probability > low) & (probability <= high) | ((low == 0) & (probability == 0))
        assert row[0] == f"{low:.0%} to {high:.0%}"
        assert int(row[1].replace(",", "")) == np.sum(inside)
        if inside.any():
            rtol = 0 if net.dtype == np.float64 else 1e-5  # float32 model, float64 reference
            assert_percent(row[2], probability[inside].mean(), rtol)
            assert_percent(row[3], outcome[inside].mean())
        else:
            assert row[2:] == ["n/a", "n/a"]


def test_the_run_section_gives_the_command_settings_data_and_model(four_digit_run):
    out, _, html = four_digit_run
    metrics = read_metrics(out)
    page = Page(html)
    command = re.search(r"<pre class=\"command\">(scratchnet train [^<]*)</pre>", html)[1]
    args = build_parser().parse_args(command.split()[1:])
    assert recipe_from(args) == Recipe.from_dict(metrics["config"])  # it runs the same recipe
    settings = dict(page.tables["settings"][1:])
    unused = {"name", "description", "iterations"}  # a mini-batch run has no iterations
    unused |= {"shift", "rotation", "scale", "shear", "elastic alpha", "elastic sigma"}  # nor
    assert metrics["config"]["augment"] == "none"  # distortions
    assert set(settings) == {key.replace("_", " ") for key in metrics["config"]} - unused
    assert settings["digits"] == "7 0 3 9" and settings["hidden"] == "64"
    assert (settings["batch size"], settings["epochs"], settings["seed"]) == ("256", "2", "42")
    assert (settings["validation fraction"], settings["patience"]) == ("0.1", "1")
    assert settings["measure training"] == "off" and settings["weight decay"] == "0.0"
    text = page.text("run")
    n = metrics["train_shape"][0]
    held, trained = metrics["counts"]["validation"][1], metrics["counts"]["train"][1]
    assert held + trained == n and abs(held - 0.1 * n) <= 1  # the rows the shape counts
    shapes = (f"Training images: {tuple(metrics['train_shape'])}, of which {held:,} held out "
              f"for validation and {trained:,} trained on, test images: "
              f"{tuple(metrics['test_shape'])}")  # fmt: skip
    assert shapes in text
    assert f"{metrics['fit_seconds']:.2f} s" in text and "Random seed: 42" in text
    assert escape(NeuralNet.load(out / "model.npz").summary()) in html
    scores = page.tables["scores"]
    for row, name in zip(scores[1:], ("train", "validation", "test"), strict=True):
        correct, total = metrics["counts"][name]
        assert row[1:3] == [f"{total:,}", f"{correct:,}"]
        assert float(row[3].rstrip("%")) == pytest.approx(100 * correct / total, abs=5e-5)
    last = metrics["history"]["records"][-1]["epoch"]
    assert f"The run ended after epoch {last}" in text
    if metrics["history"]["best_epoch"] is not None:
        assert f"kept the weights of epoch {metrics['history']['best_epoch']}" in text


# -- failures ------------------------------------------------------------------------------------


def test_a_report_that_fails_leaves_the_run_folder_intact_and_says_so(
    mnist_dir, tmp_path, monkeypatch
):
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_module, "png", fail)
    out = tmp_path / "run"
    outcome = invoke("train", "--quiet", "--iterations", 1, "--data-dir", mnist_dir, "--out", out)
    line = assert_one_line_error(outcome, "report.html not written", "No space left on device",
                                 f"scratchnet report {out}")  # fmt: skip
    assert "the run's other files are complete" in line
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    assert outcome.out.splitlines()[-1] == f"fit time: {read_metrics(out)['fit_seconds']:.1f} s; " \
        f"wrote {out}/"  # fmt: skip
    NeuralNet.load(out / "model.npz")  # complete and readable


def test_a_bug_in_the_report_keeps_its_traceback_and_the_run(mnist_dir, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(report_module, "evaluate", bug)
    out = tmp_path / "run"
    with pytest.raises(KeyError, match="a bug"):
        from scratchnet.app.cli import main

        main(["train", "--quiet", "--iterations", "1", "--data-dir", str(mnist_dir),
              "--out", str(out)])  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES


def test_ctrl_c_while_the_report_is_built_keeps_the_finished_run(mnist_dir, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "png", interrupt)
    out = tmp_path / "my run"
    outcome = invoke("train", "--quiet", "--iterations", 1, "--data-dir", mnist_dir, "--out", out)
    said, command = outcome.err.split("; build it with: ")
    assert (outcome.code, said) == (130, (
        f"scratchnet: interrupted; the run's files are complete in {out}/ but its report is "
        "not"))  # fmt: skip
    assert shlex.split(command) == [  # pasteable, and reads MNIST where the run did
        "scratchnet", "report", str(out), "--data-dir", str(mnist_dir)
    ]  # fmt: skip
    # no lock, no checkpoint: the run had finished
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES


def contents(folder: Path) -> dict[str, bytes | str]:
    """Each entry of ``folder``: a file's bytes, or 'folder', or 'link to ...'."""
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            found[path.name] = f"link to {os.readlink(path)}"
        else:
            found[path.name] = "folder" if path.is_dir() else path.read_bytes()
    return found


@pytest.mark.parametrize("name", ["report.html", "accuracy.png"])
def test_report_never_writes_through_a_link_in_its_folder(tutorial_run, mnist_dir, tmp_path, name):
    """A link in the run folder named like a report file: the user's file it pointed to
    was overwritten with a figure (and a link to nothing made a file outside)."""
    out = copy_of(tutorial_run[0], tmp_path)
    thesis = tmp_path / "thesis.txt"
    thesis.write_text("my thesis draft\n")
    (out / name).unlink()
    (out / name).symlink_to(thesis)
    before = contents(out)
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert_one_line_error(outcome, f"{out / name} is a link; the report writes plain files "
                          "into its run folder only")  # fmt: skip
    assert thesis.read_text() == "my thesis draft\n"
    assert contents(out) == before


def test_report_replaces_all_its_files_or_none(tutorial_run, mnist_dir, tmp_path):
    """A folder where its last figure goes: the first figures were replaced before the
    error, leaving a folder of old and new files."""
    out = copy_of(tutorial_run[0], tmp_path)
    for name in ["report.html", *TUTORIAL_FIGURES]:
        (out / name).write_bytes(b"old")
    (out / "sigmoid.png").unlink()
    (out / "sigmoid.png").mkdir()
    before = contents(out)
    outcome = invoke("report", out, "--data-dir", mnist_dir, "--force")  # (b"old": no mark)
    assert_one_line_error(outcome, f"cannot write {out / 'sigmoid.png'} (it is a folder)")
    assert contents(out) == before


@pytest.mark.parametrize("name", ["reliability.png", "report.html"])
def test_report_replaces_a_file_without_scratchnets_mark_only_with_force(
    tutorial_run, mnist_dir, tmp_path, name
):
    """A user's own file of a figure's name in the run folder was replaced without a
    word; the run's own files, which carry the mark, are replaced without --force."""
    out = copy_of(tutorial_run[0], tmp_path)
    (out / name).write_bytes(b"the user's own")
    before = contents(out)
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert_one_line_error(outcome, f"{out / name} already exists and carries no scratchnet "
                          "mark", "--force")  # fmt: skip
    assert contents(out) == before
    forced = invoke("report", out, "--data-dir", mnist_dir, "--force")
    assert forced.code == 0, forced
    rebuilt = (out / name).read_bytes()
    original = (tutorial_run[0] / name).read_bytes()
    assert rebuilt == original.replace(bytes(tutorial_run[0]), bytes(out))
    again = invoke("report", out, "--data-dir", mnist_dir)  # its own files: no --force
    assert again.code == 0, again


def test_a_ctrl_c_during_the_reports_renames_is_ignored_and_the_report_put_in_whole(
    tutorial_run, mnist_dir, tmp_path, monkeypatch
):
    """A Ctrl-C once every file is on disk, during the renames: it is ignored, and the
    report is put in place whole (it said 'interrupted' with some files replaced)."""
    out = copy_of(tutorial_run[0], tmp_path)
    for name in ["report.html", *TUTORIAL_FIGURES]:
        (out / name).unlink()
    real_close = contextlib.ExitStack.close

    def interrupted_close(stack):
        signal.raise_signal(signal.SIGINT)  # arrives during the renames
        real_close(stack)

    monkeypatch.setattr(contextlib.ExitStack, "close", interrupted_close)
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert outcome.code == 0, outcome
    for name in TUTORIAL_FIGURES:
        assert (out / name).read_bytes() == (tutorial_run[0] / name).read_bytes(), name


@pytest.mark.parametrize("off", [-2, 2, 3])
def test_a_test_count_off_by_a_near_tie_is_shown_beside_the_reports_own(
    tutorial_run, mnist_dir, tmp_path, off
):
    """Another machine's arithmetic may decide a near-tie the other way: up to 0.1% of
    the 2,167 test images (2), the report is built (it was refused as 'changed after
    the run') and says what each count is; 3 off is refused."""
    out = copy_of(tutorial_run[0], tmp_path)
    correct, total = read_metrics(out)["counts"]["test"]
    write_metrics(out, lambda m: m.update(counts={**m["counts"], "test": [correct + off, total]},
                                          test_accuracy=(correct + off) / total))  # fmt: skip
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    if abs(off) > 2:
        assert_one_line_error(outcome, f"counts.test says {correct + off:,} of {total:,}")
        return
    assert outcome.code == 0, outcome
    said = " ".join(unescape(re.sub(r"<[^>]+>", "", (out / "report.html").read_text())).split())
    assert (f"(here the test set scores {correct:,} of {total:,}, the figure at the top; the "
            f"run counted {correct + off:,}: arithmetic differs in its last bits between machines, "
            "and a near-tie can fall either way):") in said  # fmt: skip


def write_metrics(folder: Path, change) -> None:
    metrics = read_metrics(folder)
    change(metrics)
    (folder / "metrics.json").write_text(json.dumps(metrics))


def set_in(key: str, value):
    return lambda metrics: metrics.update({key: value})


def copy_of(run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(run, out)
    return out


REPORT_ERRORS = {
    "no folder": (lambda out, other: shutil.rmtree(out), ["not a run folder", "no such folder"]),
    "a file": (lambda out, other: shutil.rmtree(out) or out.write_text("x"),
               ["not a run folder: a file"]),
    "no metrics": (lambda out, other: (out / "metrics.json").unlink(),
                   ["metrics.json: no such file"]),
    "not json": (lambda out, other: (out / "metrics.json").write_text("{"),
                 ["metrics.json: not a JSON file"]),
    "metrics a FIFO": (
        lambda out, other: ((out / "metrics.json").unlink(), os.mkfifo(out / "metrics.json")),
        ["metrics.json: cannot be read (not a regular file)"],
    ),
    "nested too deeply": (
        lambda out, other: (out / "metrics.json").write_text("[" * 100_000 + "]" * 100_000),
        ["metrics.json: not the metrics of a scratchnet run (nested too deeply)"],
    ),
    "missing keys": (lambda out, other: (out / "metrics.json").write_text('{"config": {}}'),
                     ["not the metrics of a scratchnet run", "history"]),
    "bad config": (lambda out, other: write_metrics(out, lambda m: m["config"].pop("seed")),
                   ["its config is unreadable"]),
    "unknown preset": (
        lambda out, other: write_metrics(out, lambda m: m["config"].update(name="fancy")),
        ["unknown preset 'fancy'"],
    ),
    "history not an object": (lambda out, other: write_metrics(out, set_in("history", "x")),
                              ["metrics.json: history is damaged"]),
    "history without records": (lambda out, other: write_metrics(out, set_in("history", {})),
                                ["metrics.json: history is damaged"]),
    "a record without its loss": (
        lambda out, other: write_metrics(out, lambda m: m["history"]["records"][0].pop("loss")),
        ["metrics.json: history is damaged", "records of epoch, step"],
    ),
    "a record without its validation accuracy": (  # plotted as None: a TypeError
        lambda out, other: write_metrics(
            out, lambda m: m["history"]["records"][1].update(val_accuracy=None)),
        ["metrics.json: history is damaged", "a validation in all or none"],
    ),
    "the validation in the first record only": (
        lambda out, other: write_metrics(out, unvalidated_after_the_first_record),
        ["metrics.json: history is damaged", "a validation in all or none"],
    ),
    "no accuracy in any record": (
        lambda out, other: write_metrics(
            out, lambda m: [record.update(accuracy=None) for record in m["history"]["records"]]),
        ["metrics.json: history is damaged", "each with a cost and an accuracy"],
    ),
    "a training cost without its accuracy": (
        lambda out, other: write_metrics(
            out, lambda m: m["history"]["records"][-1].update(train_accuracy=None)),
        ["metrics.json: history is damaged"],
    ),
    "counts without train": (
        lambda out, other: write_metrics(out, set_in("counts", {"test": [1, 2]})),
        ["metrics.json: counts is damaged"],
    ),
    "more right than counted": (
        lambda out, other: write_metrics(out, lambda m: m["counts"].update(test=[3, 2])),
        ["metrics.json: counts is damaged", "[correct, total > 0]"],
    ),
    "a set of no images": (
        lambda out, other: write_metrics(out, lambda m: m["counts"].update(train=[0, 0])),
        ["metrics.json: counts is damaged", "total > 0"],
    ),
    # values valid on their own that contradict another (a trial's edits: the report
    # showed two test accuracies, or "kept the weights of epoch 99" of a 4-epoch run)
    "a test count that is not its model's": (
        lambda out, other: write_metrics(out, lambda m: m.update(
            counts={**m["counts"], "test": [5, 2167]}, test_accuracy=5 / 2167)),
        ["metrics.json: counts.test says 5 of 2,167 test images right, but its model gets ",
         " of 2,167; the file was changed after the run"],
    ),
    "a test total that is not the test set's": (
        lambda out, other: write_metrics(out, lambda m: m["counts"].update(test=[50, 100])),
        ["metrics.json: test_shape has 2167 images, counts.test 100; the file was changed"],
    ),
    "a training shape that is not the counts'": (
        lambda out, other: write_metrics(out, set_in("train_shape", [123, 784])),
        ["metrics.json: train_shape has 123 images, counts.train and counts.validation 12700"],
    ),
    "validation monitored without being counted": (
        lambda out, other: write_metrics(out, set_in("monitored_set", "validation")),
        ["metrics.json: monitored_set is 'validation' but counts disagree"],
    ),
    "a best epoch of no record": (
        lambda out, other: write_metrics(out, lambda m: m["history"].update(best_epoch=99)),
        ["metrics.json: history.best_epoch 99 is not an epoch of its records"],
    ),
    "a negative cost": (
        lambda out, other: write_metrics(
            out, lambda m: m["history"]["records"][1].update(loss=-0.5)),
        ["metrics.json: a cost below 0 in the record of epoch 10"],
    ),
    "a cost no run reaches": (  # matplotlib's ticks overflowed: a traceback
        lambda out, other: write_metrics(
            out, lambda m: m["history"]["records"][1].update(loss=1e308)),
        ["metrics.json: a cost over 1e+300 in the record of epoch 10"],
    ),
    "an accuracy over 1": (
        lambda out, other: write_metrics(
            out, lambda m: m["history"]["records"][0].update(val_accuracy=1.5)),
        ["metrics.json: an accuracy outside [0, 1] in the record of epoch 0"],
    ),
    "fit time in words": (lambda out, other: write_metrics(out, set_in("fit_seconds", "fast")),
                          ["metrics.json: fit_seconds is damaged"]),
    "an interrupted run": (
        lambda out, other: only_a_checkpoint_in(out),
        ["holds the checkpoint of an interrupted run", "scratchnet train --resume"],
    ),
    "other hidden layers": (
        lambda out, other: write_metrics(out, lambda m: m["config"].update(hidden=[64])),
        ["model.npz has hidden layers [196] but metrics.json describes [64]"],
    ),
    # a received run folder is hostile: its values reach the page (the seed was printed
    # unescaped: a <meta> refresh sent the reader elsewhere on opening the report)
    "a seed holding HTML": (
        lambda out, other: write_metrics(out, lambda m: m["config"].update(
            seed='<meta http-equiv="refresh" content="0;url=http://example.com">')),
        ["its config is unreadable", "seed must be an integer >= 0"],
    ),
    "digits as booleans": (
        lambda out, other: write_metrics(out, lambda m: m["config"].update(digits=[True, 2])),
        ["its config is unreadable", "digits must be integers"],
    ),
    "a learning rate of NaN": (
        lambda out, other: write_metrics(
            out, lambda m: m["config"].update(learning_rate=float("nan"))),
        ["its config is unreadable", "learning_rate must be a positive finite number"],
    ),
    "a hidden layer of -5": (
        lambda out, other: write_metrics(out, lambda m: m["config"].update(hidden=[-5])),
        ["its config is unreadable", "a hidden layer's size must be an integer >= 1"],
    ),
    # more edits a trial found accepted: a resumed share larger than the whole, a fit
    # time printed in 309 digits, an accuracy that is not its counts'
    "more seconds before resuming than in all": (
        lambda out, other: write_metrics(out, set_in("seconds_before_resuming", 100.0)),
        ["metrics.json: seconds_before_resuming is more than fit_seconds, which include them"],
    ),
    "a fit time no run takes": (
        lambda out, other: write_metrics(out, set_in("fit_seconds", 1e308)),
        ["metrics.json: fit_seconds is damaged (expected seconds, from 0 to 1e+09)"],
    ),
    "a training accuracy that is not its counts'": (
        lambda out, other: write_metrics(out, set_in("train_accuracy", 0.5)),
        ["metrics.json: train_accuracy is 0.5 but counts.train give ", "/12700; the file"],
    ),
    "a validation accuracy of no validation": (
        lambda out, other: write_metrics(out, set_in("validation_accuracy", 0.9)),
        ["metrics.json: validation_accuracy is 0.9 but counts.validation give none"],
    ),
    "an accuracy in words": (
        lambda out, other: write_metrics(out, set_in("test_accuracy", "0.99")),
        ["metrics.json: test_accuracy is '0.99' but counts.test give "],
    ),
    "an infinite fit time": (
        lambda out, other: write_metrics(out, set_in("fit_seconds", float("inf"))),
        ["metrics.json: fit_seconds is damaged"],
    ),
    "a fit time of 401 digits": (  # no float holds it
        lambda out, other: write_metrics(out, set_in("fit_seconds", 10**400)),
        ["metrics.json: fit_seconds is damaged"],
    ),
    "a number of 5,000 digits": (  # json.loads: a plain ValueError
        lambda out, other: (out / "metrics.json").write_text('{"x": 1' + "0" * 5000 + "}"),
        ["metrics.json: not a JSON file"],
    ),
    "no model": (lambda out, other: (out / "model.npz").unlink(), ["model.npz"]),
    "another run's model": (
        lambda out, other: shutil.copyfile(other / "model.npz", out / "model.npz"),
        ["classifies [7, 0, 3, 9]", "digits [1, 2]", "not from the same run"],
    ),
    "another model of the same digits": (
        lambda out, other: retrained_in(out),
        ["model.npz is not the model metrics.json describes", "SHA-256", "not from the same run"],
    ),
}  # fmt: skip


def unvalidated_after_the_first_record(metrics: dict) -> None:
    for record in metrics["history"]["records"][1:]:
        record.update(val_loss=None, val_accuracy=None)


def only_a_checkpoint_in(out: Path) -> None:
    """The folder as an interrupted run leaves it: its checkpoint alone."""
    for path in out.iterdir():
        path.unlink()
    (out / "checkpoint.npz").write_bytes(b"a checkpoint")


def retrained_in(out: Path) -> None:
    """model.npz replaced by another model of digits 1 and 2 (the run's, trained on)."""
    net = NeuralNet.load(out / "model.npz")
    net.layers[0].weight[0, 0] += 1.0
    net.save(out / "model.npz")


@pytest.mark.parametrize(("damage", "fragments"), REPORT_ERRORS.values(), ids=REPORT_ERRORS)
def test_report_of_a_damaged_run_folder_is_one_line_error(
    damage, fragments, tutorial_run, four_digit_run, tmp_path, mnist_dir, fails_instead_of_hanging
):
    out = copy_of(tutorial_run[0], tmp_path)
    (out / "report.html").unlink()
    damage(out, four_digit_run[0])
    outcome = invoke("report", out, "--data-dir", mnist_dir)
    assert_one_line_error(outcome, str(out), *fragments)
    assert not (out / "report.html").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def json_paths(value, path=()) -> list[tuple]:
    """The key path of every value in a parsed JSON tree, the tree's own excepted."""
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return []
    return [
        step for key, child in children for step in [(*path, key), *json_paths(child, (*path, key))]
    ]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
)  # fmt: skip


@pytest.fixture(scope="module")
def four_digit_evaluation(four_digit_run, mnist_dir):
    """The four-digit run's test set, its evaluation and its figures, made once."""
    run = experiment.read_run(four_digit_run[0])
    test = report_module.load_test_set(run.recipe.digits, mnist_dir)
    result = report_module.evaluate(run.net, test)
    return test, result, report_module.draw_figures(run, test, result)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_run_whose_metrics_have_any_value_damaged_is_refused_or_reported(
    data, four_digit_run, four_digit_evaluation, tmp_path_factory
):
    """Any one value of metrics.json replaced by any JSON value: reading the run either
    refuses it (DataFileError) or gives metrics from which every section of the report
    and the figures that show them are built."""
    out = copy_of(four_digit_run[0], tmp_path_factory.mktemp("damaged"))
    metrics = read_metrics(out)
    *parents, key = data.draw(st.sampled_from(json_paths(metrics)))
    holder = metrics
    for step in parents:
        holder = holder[step]
    holder[key] = data.draw(JSON_VALUES)
    (out / "metrics.json").write_text(json.dumps(metrics))
    try:
        run = experiment.read_run(out)
    except DataFileError:
        return
    test, result, figures = four_digit_evaluation
    drawn = {"cost.png": png(cost_figure(run.metrics, "cost")),
             "accuracy.png": png(accuracy_figure(run.metrics, "accuracy"))}  # fmt: skip
    assert "<section" in report_module.report_body(run, test, result, figures | drawn)


def test_report_refuses_a_folder_a_run_holds_and_lets_go_of_it(tutorial_run, tmp_path, mnist_dir):
    """A run publishing into the folder meanwhile would mix its files with an older
    report; the report takes the folder's lock, and leaves no lock behind."""
    out = copy_of(tutorial_run[0], tmp_path)
    (out / "report.html").unlink()
    held = run_folder.FolderLock(out)
    held.acquire()
    try:
        outcome = invoke("report", out, "--data-dir", mnist_dir)
    finally:
        held.release()
    line = assert_one_line_error(outcome)
    assert line == (f"scratchnet: error: {out} is in use by scratchnet process {os.getpid()} on "
                    f"{socket.gethostname()} (lock {out / '.scratchnet.lock'}); wait for it, then "
                    "build the report again")  # fmt: skip
    assert not (out / "report.html").exists()
    assert invoke("report", out, "--data-dir", mnist_dir).code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in tutorial_run[0].iterdir()
    )


def test_report_without_the_data_is_one_line_error(tutorial_run, tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    monkeypatch.setattr("scratchnet.data.mnist.MIRRORS", ("http://127.0.0.1:9/",))
    out = copy_of(tutorial_run[0], tmp_path)
    write_metrics(out, lambda m: m.update(data_files=[str(tmp_path / "gone" / "t10k-images")]))
    outcome = invoke("report", out)
    assert_one_line_error(outcome, "MNIST files not found", "t10k-images-idx3-ubyte.gz",
                          "--data-dir")  # fmt: skip


# -- in a browser --------------------------------------------------------------------------------

VIEWPORTS = {
    "laptop": {"viewport": {"width": 1366, "height": 768}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
              "is_mobile": True, "has_touch": True},
}  # fmt: skip
# overflow: the page's width beyond the screen's (on a phone, window.innerWidth grows to
# the page's width, zoomed out, and hides it; the root's clientWidth stays the screen's)
LAYOUT = """() => ({
    images: [...document.images].map(image => image.complete && image.naturalWidth > 0),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    sections: [...document.querySelectorAll("section")].map(section => section.id),
    resources: performance.getEntriesByType("resource").map(entry => entry.name),
    confusion: [...document.querySelectorAll("table.confusion td")].map(cell =>
        [getComputedStyle(cell).color, getComputedStyle(cell).backgroundColor]),
})"""


@pytest.mark.parametrize("device", VIEWPORTS.values(), ids=VIEWPORTS)
def test_the_report_renders_in_chromium_with_no_errors_and_no_network(
    device, tutorial_run, tmp_path
):
    """Headless Chromium with a fresh profile opens the file: every request is
    recorded (anything but the report itself is aborted), every console message and
    page error too; the page must need nothing else and fit the screen's width."""
    require_browser()
    from playwright.sync_api import sync_playwright

    report = (tutorial_run[0] / "report.html").absolute().as_uri()
    requests, messages = [], []

    def only_the_report(route):
        requests.append(route.request.url)
        route.continue_() if route.request.url == report else route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "profile", executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, **device
        )
        try:
            browser.route("**/*", only_the_report)
            page = browser.new_page()
            page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
            page.goto(report, wait_until="load")
            layout = page.evaluate(LAYOUT)
            page.screenshot(path=tmp_path / "report.png")
        finally:
            browser.close()
    assert requests == [report]
    assert messages == []
    assert layout["resources"] == []
    assert layout["sections"] == [*SECTIONS, "tutorial"]
    assert len(layout["images"]) >= 2 * 24 + 4 and all(layout["images"])
    assert layout["overflow"] <= 0  # wide tables scroll inside their own box
    for colour, background in layout["confusion"]:  # WCAG AA: 4.5:1 for every count
        assert contrast(rgb(colour), rgb(background, over=(255, 255, 255))) >= 4.5, colour
    screenshot = imread(tmp_path / "report.png")
    scale = device.get("device_scale_factor", 1)
    size = device["viewport"]
    assert screenshot.shape[:2] == (size["height"] * scale, size["width"] * scale)
    assert screenshot.std() > 0.05  # something was drawn


def test_the_curves_text_says_what_the_training_curve_is(tutorial_run, four_digit_run):
    """Full batch, the training curve measures the weights of each point; with
    mini-batches it is the running mean of the batches, which the text must not call
    the training set."""
    runs = {"tutorial": tutorial_run, "four": four_digit_run}
    paragraph = {name: re.search(r'<section id="curves">.*?</p>', run[2], re.S)[0]
                 for name, run in runs.items()}  # fmt: skip
    assert "the training rows, measured on the weights of each point" in paragraph["tutorial"]
    assert "running mean" in paragraph["four"]
    assert "not a measurement of the weights of each point" in paragraph["four"]
    assert "--measure-training" in paragraph["four"]


@pytest.fixture(scope="module")
def ten_digit_run(mnist_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "ten"
    outcome = invoke("train", "--quiet", "--preset", "starter", "--epochs", 1,
                     "--data-dir", mnist_dir, "--out", out)  # fmt: skip
    assert outcome.code == 0, outcome
    return out


TABLES = """() => [...document.querySelectorAll("div.scroll")].map(box => ({
    first: box.querySelector("th").textContent,
    cut: box.scrollWidth > box.clientWidth,
    shadow: getComputedStyle(box).backgroundImage.split("radial-gradient").length - 1,
}))"""


@pytest.mark.parametrize("width", [320, 375, 1366])
def test_a_ten_digit_reports_tables_fit_a_phone_or_show_they_scroll(ten_digit_run, width):
    """At 375 pixels the per-class table scrolled sideways with nothing to tell, its
    support column cut mid-number (98 for 980). It now fits from 375 pixels; a table
    that scrolls (the ten-digit matrix on a phone) shows a shadow on each side with
    more to scroll to."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto((ten_digit_run / "report.html").as_uri(), wait_until="load")
            tables = {table.pop("first"): table for table in page.evaluate(TABLES)}
        finally:
            browser.close()
    assert all(table["shadow"] == 2 for table in tables.values())  # one for each side
    assert tables["digit"]["cut"] == (width < 375)  # the per-class table
    assert tables["true digit"]["cut"] == (width < 1366)  # the confusion matrix


def test_a_report_in_a_long_named_folder_fits_a_phone(
    tutorial_run, mnist_dir, tmp_path, monkeypatch
):
    """The folder's name given relative, one long word in the header and in the command
    that rebuilds the report, made the page scroll sideways at 390 pixels."""
    require_browser()
    from playwright.sync_api import sync_playwright

    monkeypatch.chdir(tmp_path)
    out = Path("runs_with_a_very_long_descriptive_folder_name_for_experiment_42_seed_7")
    shutil.copytree(tutorial_run[0], out)
    assert invoke("report", out, "--data-dir", mnist_dir).code == 0
    out = out.absolute()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(**VIEWPORTS["phone"])
            page.goto((out / "report.html").as_uri(), wait_until="load")
            overflow = page.evaluate(LAYOUT)["overflow"]
        finally:
            browser.close()
    assert overflow <= 0
