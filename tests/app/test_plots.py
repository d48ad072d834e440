"""Figures: what they show (values, units, ticks, titles), complete PNG files written
atomically, drawn without pyplot."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text

from scratchnet.app.plots import (
    accuracy_figure,
    augmentation_figure,
    cost_figure,
    cross_entropy_figure,
    hidden_units_figure,
    plot_accuracy,
    plot_cost,
    plot_cross_entropy,
    plot_sigmoid,
    reliability_figure,
    sigmoid_figure,
)
from scratchnet.app.report import _training_curve
from scratchnet.data.augment import Augment
from scratchnet.metrics import reliability

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE_SHAPE = (462, 704, 4)  # 4.2 x 6.4 inches at 110 dpi, RGBA
SECOND_CURVE_RGB = (1.0, 127 / 255, 14 / 255)  # matplotlib's second default colour, C1
TITLE = "tutorial preset, digits 1 and 2"

# the tutorial run's shape: iterations 0, 100, ..., 1000, accuracy climbing to 97-99%
ITERATIONS = list(range(0, 1001, 100))
TRAIN_ACCURACY = [0.4691, 0.93, 0.96, 0.972, 0.978, 0.981, 0.983, 0.985, 0.986, 0.9874, 0.9887]
TEST_ACCURACY = [0.5238, 0.94, 0.97, 0.980, 0.985, 0.987, 0.988, 0.989, 0.990, 0.9917, 0.9926]


def record(epoch, loss, accuracy, val=None, train=None):
    return {
        "epoch": epoch, "step": epoch, "lr": 0.1, "loss": loss, "accuracy": accuracy,
        "train_loss": None if train is None else train[0],
        "train_accuracy": None if train is None else train[1],
        "val_loss": None if val is None else val[0],
        "val_accuracy": None if val is None else val[1],
    }  # fmt: skip


def metrics(records, axis="iteration", monitored="test", best=None, **config):
    return {
        "config": {"dropout": 0.0, "augment": "none", **config},
        "history": {"records": records, "best_epoch": best, "stopped_early": False},
        "cost_axis": axis,
        "monitored_set": monitored,
    }


def tutorial_metrics(with_test=True):
    """Full-batch records: loss and accuracy are the measurement of the weights."""
    records = []
    for i, (train, test) in enumerate(zip(TRAIN_ACCURACY, TEST_ACCURACY, strict=True)):
        loss = 0.75 / (1 + i)
        val = (loss * 0.9, test) if with_test else None
        records.append(record(ITERATIONS[i], loss, train, val, train=(loss, train)))
    return metrics(records)


def mini_batch_metrics(measured: bool, best=None, **config):
    """Three epochs; the training metrics are batch means unless ``measured``."""
    records = [
        record(e, 0.5 / e, 0.9 + e / 100, (0.4 / e, 0.92 + e / 100),
               train=(0.45 / e, 0.91 + e / 100) if measured else None)
        for e in (1, 2, 3)
    ]  # fmt: skip
    return metrics(records, "epoch", "validation", best, **config)


def lines_of(axes) -> dict[str, tuple[list, list]]:
    return {
        line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
        for line in axes.get_lines()
        if not line.get_label().startswith("_")
    }


# -- what the learning curves show ----------------------------------------------------------


def test_accuracy_is_shown_in_percent_with_the_values_of_the_run():
    figure = accuracy_figure(tutorial_metrics(), TITLE)
    axes = figure.axes[0]
    shown = lines_of(axes)
    assert shown["training"] == (ITERATIONS, pytest.approx([100 * a for a in TRAIN_ACCURACY]))
    assert shown["test"] == (ITERATIONS, pytest.approx([100 * a for a in TEST_ACCURACY]))
    assert axes.get_ylabel() == "accuracy (%)"
    figure.canvas.draw()
    assert all(label.get_text().endswith("%") for label in axes.get_yticklabels())


@pytest.mark.parametrize(
    "spread",
    [(0.986, 0.9995), (0.47, 0.985), (0.999, 0.9994), (0.999992, 1.0)],
    ids=["within 1.4 points", "from 47%", "within 0.04 points", "within 0.0008 points"],
)
def test_every_accuracy_tick_label_reads_its_own_value(spread):
    """With no decimals, ticks at 99.0, 99.2, ... 99.8 read 99% 99% 99% 100% 100%: a
    curve at 99.95% showed above a '100%' that stood at 99.6%."""
    values = np.linspace(*spread, 8)
    below = (spread[1] - spread[0]) / 7  # the validation curve, a step under the training's
    records = [record(e, 0.1, a, (0.1, a - below)) for e, a in enumerate(values, start=1)]
    figure = accuracy_figure(metrics(records, "epoch", "validation"), TITLE)
    figure.canvas.draw()
    for axes in (figure.axes[0], *figure.axes[0].child_axes):
        low, high = axes.get_ylim()
        ticks = zip(axes.get_yticks(), axes.get_yticklabels(), strict=True)
        shown = [(tick, label.get_text()) for tick, label in ticks if low <= tick <= high]
        assert len(shown) >= 3
        for tick, text in shown:
            assert text.endswith("%") and float(text[:-1]) == pytest.approx(tick, abs=1e-9)
        assert len({text for _, text in shown}) == len(shown)


def test_the_end_of_the_run_is_magnified_so_train_and_test_can_be_told_apart():
    figure = accuracy_figure(tutorial_metrics(), TITLE)
    (inset,) = figure.axes[0].child_axes
    low, high = inset.get_ylim()
    tail = [100 * a for a in TRAIN_ACCURACY[5:] + TEST_ACCURACY[5:]]
    assert low <= min(tail) and max(tail) <= high
    assert high - low < 3  # 98.1-99.3% spread over the inset, not squashed into 0-100%
    assert [list(line.get_xdata()) for line in inset.get_lines()] == [ITERATIONS[5:]] * 2


def test_cost_ticks_fall_on_the_logged_iterations_and_titles_name_the_run():
    for figure in (
        cost_figure(tutorial_metrics(), TITLE),
        accuracy_figure(tutorial_metrics(), TITLE),
    ):
        axes = figure.axes[0]
        assert list(axes.get_xticks()) == ITERATIONS
        assert TITLE in axes.get_title()
        assert axes.get_xlabel() == "iteration"


def test_cost_curves_are_the_recorded_costs():
    data = tutorial_metrics()
    shown = lines_of(cost_figure(data, TITLE).axes[0])
    records = data["history"]["records"]
    assert shown["training"][1] == [r["train_loss"] for r in records]
    assert shown["test"][1] == [r["val_loss"] for r in records]


@pytest.mark.parametrize(
    ("config", "label"),
    [
        ({}, "training batches (running mean)"),
        ({"dropout": 0.3}, "training batches (running mean, dropout on)"),
        (
            {"dropout": 0.2, "augment": "elastic"},
            "training batches (running mean, dropout on, images distorted)",
        ),
    ],
)
def test_mini_batch_training_curve_says_what_it_averages(config, label):
    shown = lines_of(cost_figure(mini_batch_metrics(measured=False, **config), TITLE).axes[0])
    assert shown[label] == ([1, 2, 3], pytest.approx([0.5, 0.25, 0.5 / 3]))


@pytest.mark.parametrize(
    ("config", "label"),
    [
        ({"dropout": 0.2}, "training set (dropout on; the last point without)"),
        ({"augment": "affine"}, "training set (images distorted; the last point without)"),
    ],
)
def test_a_full_batch_curve_with_dropout_is_no_running_mean(config, label):
    """Each point is one pass over every row (was: 'training batches (running mean...)');
    the last, after the last update, is measured without dropout or distortion."""
    records = [record(i, 0.5 / (1 + i), 0.9) for i in (0, 10, 20)]
    records[-1] = record(20, 0.2, 0.95, train=(0.2, 0.95))
    shown = lines_of(cost_figure(metrics(records, "iteration", **config), TITLE).axes[0])
    assert shown[label] == ([0, 10, 20], pytest.approx([0.5, 0.5 / 11, 0.2]))


def test_a_full_batch_curve_stopped_early_does_not_claim_its_last_point_measured():
    """Early stopping ends a full-batch run on a pass with dropout on (its final weights
    are never measured without it): the legend said 'the last point without' all the
    same, and so did the report's words for the curve."""
    records = [record(i, 0.5 / (1 + i), 0.9) for i in (0, 1, 2, 3)]
    stopped = metrics(records, "iteration", dropout=0.2)
    shown = lines_of(cost_figure(stopped, TITLE).axes[0])
    assert list(shown) == ["training set (dropout on)"]
    assert "last point" not in _training_curve("training set (dropout on)", stopped)


def test_a_measured_training_curve_is_plain_training():
    measured = lines_of(cost_figure(mini_batch_metrics(measured=True), TITLE).axes[0])
    assert measured["training"] == ([1, 2, 3], pytest.approx([0.45, 0.225, 0.15]))


def test_the_best_epoch_is_marked_when_early_stopping_chose_it():
    figure = cost_figure(mini_batch_metrics(True, best=2), TITLE)
    axes = figure.axes[0]
    (marker,) = [line for line in axes.get_lines() if line.get_label() == "best (epoch 2)"]
    assert list(marker.get_xdata()) == [2, 2]
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == [
        "training",
        "validation",
        "best (epoch 2)",
    ]


def test_without_a_monitored_set_only_the_training_curve_is_drawn():
    shown = lines_of(cost_figure(tutorial_metrics(with_test=False), TITLE).axes[0])
    assert list(shown) == ["training"]


# -- the tutorial's explanatory figures -----------------------------------------------------


def test_cross_entropy_has_ticks_between_zero_and_one():
    axes = cross_entropy_figure().axes[0]
    np.testing.assert_allclose(axes.get_xticks(), np.linspace(0, 1, 11), atol=1e-12)
    assert axes.get_xlim() == (0, 1)


def test_the_half_line_of_the_sigmoid_is_labelled():
    axes = sigmoid_figure().axes[0]
    texts = [text.get_text() for text in axes.texts]
    assert any("0.5" in text for text in texts), texts
    assert [line.get_ydata()[0] for line in axes.get_lines()][-1] == 0.5


# -- inside a trained network --------------------------------------------------------------


def test_hidden_units_are_drawn_in_the_given_order_on_a_scale_centred_on_zero():
    rng = np.random.default_rng(5)
    weight = rng.normal(scale=0.1, size=(784, 12))
    units = np.array([7, 2, 11, 0, 5, 9, 1, 3, 10])  # 9 units: 8 in the first row, 1 below
    figure = hidden_units_figure(weight, units, "First hidden layer")
    axes = figure.axes[0]
    mosaic = axes.images[0].get_array()
    for index, unit in enumerate(units):  # tiles of 28 pixels, 3 apart, 9 free below each
        top, left = (index // 8) * (28 + 9), (index % 8) * (28 + 3)
        tile = mosaic[top : top + 28, left : left + 28]
        np.testing.assert_array_equal(tile, weight[:, unit].reshape(28, 28))
    assert [text.get_text() for text in axes.texts] == [f"unit {unit}" for unit in units]
    low, high = axes.images[0].get_clim()
    assert low == -high == -np.percentile(np.abs(weight[:, units]), 99)
    assert axes.images[0].get_cmap().name.startswith("RdBu")  # diverging, white at zero
    assert (
        "weight" in figure.axes[1].get_ylabel() and "pixel intensity" in figure.axes[1].get_ylabel()
    )
    assert figure.get_suptitle() == "First hidden layer"


LONG_TITLE = (
    "one-two-fast preset with --epochs 4, --validation-fraction 0.2 and 1 more change, "
    "digits 9, 3 and 7"
)


def assert_inside(figure, texts) -> None:
    FigureCanvasAgg(figure).draw()
    renderer, edge = figure.canvas.get_renderer(), figure.bbox
    for text in texts:
        box = text.get_window_extent(renderer)
        assert edge.x0 - 1 <= box.x0 and box.x1 <= edge.x1 + 1, (text.get_text(), box, edge)
        assert edge.y0 - 1 <= box.y0 and box.y1 <= edge.y1 + 1, (text.get_text(), box, edge)


def test_a_long_run_title_is_wrapped_inside_every_figure():
    """A run with several changed options: its title ran past both edges on one line."""
    bins = reliability(np.linspace(0.01, 0.99, 50), np.arange(50) % 2)
    for figure in (
        cost_figure(tutorial_metrics(), LONG_TITLE),
        accuracy_figure(tutorial_metrics(), LONG_TITLE),
        reliability_figure(bins, "p", "frequency", LONG_TITLE),
    ):
        title = figure.axes[0].title
        assert LONG_TITLE in title.get_text().replace("\n", " ")  # all of it, in lines
        assert_inside(figure, [title])


def epochs_of(train: list[float], validation: list[float], best=None) -> dict:
    """A mini-batch run's metrics from its accuracies in percent, epoch by epoch."""
    pairs = enumerate(zip(train, validation, strict=True), start=1)
    records = [record(epoch, 0.1, a / 100, (0.1, v / 100)) for epoch, (a, v) in pairs]
    return metrics(records, "epoch", "validation", best)


# a run of `train --preset one-two-fast --epochs 25 --validation-fraction 0.1 --patience 3
# --measure-training`, stopped after epoch 9: batch means, training set, validation set
CLOSE_TO_THE_END = metrics([
    record(epoch, 0.1, batch / 100, (0.1, validation / 100), train=(0.1, train / 100))
    for epoch, (batch, train, validation) in enumerate(zip(
        [98.714, 99.641, 99.738, 99.834, 99.886, 99.895, 99.93, 99.948, 99.983],
        [99.668, 99.816, 99.878, 99.921, 99.93, 99.895, 99.86, 99.983, 99.991],
        [99.213, 99.134, 99.291, 99.37, 99.528, 99.213, 99.685, 99.37, 99.449], strict=True),
        start=1)
], "epoch", "validation", best=6)  # fmt: skip
FALLING_TO_A_FLOOR = epochs_of(  # the end lies along the bottom, where the inset goes first
    [99, 85, 70, 55, 40, 30.5, 30.2, 30.4, 30.1, 30.3, 30.2, 30.4],
    [98.7, 84.7, 69.7, 54.7, 39.7, 30.2, 29.9, 30.1, 29.8, 30, 29.9, 30.1],
)
RISING = [100 - 10 * np.exp(-epoch / 3) for epoch in range(1, 21)]  # 20 epochs to 99.9%


def test_an_inset_that_would_magnify_nothing_is_left_out():
    """Its y range was the plot's own (99.1-100%), and it hid the curves after the best
    epoch."""
    assert accuracy_figure(CLOSE_TO_THE_END, TITLE).axes[0].child_axes == []


def assert_the_inset_covers_nothing(figure) -> None:
    """Measured on the drawn figure: no point along a curve of the plot, nor the best
    epoch's marker (a vertical line across the plot), falls inside the box of the inset
    and its labels."""
    FigureCanvasAgg(figure).draw()
    axes = figure.axes[0]
    for inset in axes.child_axes:
        box = inset.get_tightbbox(figure.canvas.get_renderer())
        for line in axes.get_lines():
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            if line.get_label().startswith("best"):  # y in axes fractions: 0 to 1
                left = axes.transData.transform([[x[0], 0]])[0, 0]
                assert not box.x0 <= left <= box.x1, line.get_label()
                continue
            share = np.linspace(0, 1, 50)[:, None]
            along = np.column_stack([(x[:-1] + np.diff(x) * share).ravel(),
                                     (y[:-1] + np.diff(y) * share).ravel()])  # fmt: skip
            points = axes.transData.transform(along)
            assert not np.any(
                (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
            ), line.get_label()  # fmt: skip


@pytest.mark.parametrize("run", ["tutorial", "falling to a floor"])
def test_the_inset_covers_no_curve_with_its_ticks_or_title(run):
    """The tutorial's curves leave the lower right free; a run whose accuracy ends
    along the bottom gets its inset higher up."""
    metrics = tutorial_metrics() if run == "tutorial" else FALLING_TO_A_FLOOR
    figure = accuracy_figure(metrics, TITLE)
    assert len(figure.axes[0].child_axes) == 1
    assert_the_inset_covers_nothing(figure)


@pytest.mark.parametrize("best", range(1, 11))
def test_the_inset_leaves_the_best_epochs_marker_in_sight_where_it_does_not_show_it(best):
    """Epochs 11-20 are magnified: a best epoch before them is marked on the plot alone,
    which the inset covered; where every place covers it (epoch 10), none is drawn."""
    validation = [accuracy - 1.5 for accuracy in RISING]
    assert len(accuracy_figure(epochs_of(RISING, validation), TITLE).axes[0].child_axes) == 1
    figure = accuracy_figure(epochs_of(RISING, validation, best=best), TITLE)
    assert_the_inset_covers_nothing(figure)
    assert len(figure.axes[0].child_axes) == (best < 10)


def test_a_short_run_gets_no_magnifying_inset_over_its_few_points():
    metrics = tutorial_metrics()
    metrics["history"]["records"] = metrics["history"]["records"][:4]
    assert accuracy_figure(metrics, TITLE).axes[0].child_axes == []


@pytest.mark.parametrize("count", [1, 5, 8, 16, 17, 64])
def test_the_hidden_units_figure_holds_its_title_and_colour_bar_label_whole(count):
    """However few units a network has (the report's title names them and the run), no
    text is cut off at the figure's edges."""
    weight = np.random.default_rng(1).normal(size=(784, count))
    title = (f"First hidden layer: incoming weights of {count} of its {count} units, "
             "largest weight norm first\ntutorial preset, digits 3 and 8")  # fmt: skip
    figure = hidden_units_figure(weight, np.arange(count), title)
    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    edge = figure.bbox
    titles = [text for text in figure.findobj(Text) if text.get_text() == title]
    assert len(titles) == 1
    texts = [*titles, figure.axes[1].yaxis.label]  # the colour bar's
    for text in texts:
        box = text.get_window_extent(renderer)
        assert edge.x0 - 1 <= box.x0 and box.x1 <= edge.x1 + 1, (text.get_text(), box, edge)
        assert edge.y0 - 1 <= box.y0 and box.y1 <= edge.y1 + 1, (text.get_text(), box, edge)


def test_reliability_diagram_shows_each_bin_against_the_diagonal_and_its_count():
    bins = reliability([0.05, 0.05, 0.8, 0.8, 0.8, 0.95], [0, 1, 1, 1, 0, 1])
    figure = reliability_figure(bins, "predicted probability of digit 2",
                                "observed frequency of digit 2", "a run")  # fmt: skip
    top, bottom = figure.axes
    lines = lines_of(top)
    assert lines["perfectly calibrated"] == ([0, 1], [0, 1])
    x, y = lines["test images, one point per non-empty bin"]
    np.testing.assert_allclose(x, [0.05, 0.8, 0.95])
    np.testing.assert_allclose(y, [0.5, 2 / 3, 1.0])
    assert [patch.get_height() for patch in bottom.patches] == [2, 0, 0, 0, 0, 0, 0, 3, 0, 1]
    assert top.get_ylabel() == "observed frequency of digit 2 (%)"
    assert bottom.get_xlabel() == "predicted probability of digit 2 (%), bins of 10%"
    assert bottom.get_ylabel() == "images (log scale)"
    ece = 2 / 6 * 0.45 + 3 / 6 * abs(2 / 3 - 0.8) + 1 / 6 * 0.05  # by hand
    assert top.get_title() == f"a run\nexpected calibration error {ece:.4f}"


def test_no_bin_of_the_reliability_diagram_hides_under_its_legend():
    """A bin in every corner (the trial's hidden one was at 25%, 100%): the legend
    covers none of the points, nor the title, nor the axis labels."""
    probabilities = [0.02, 0.25, 0.25, 0.5, 0.75, 0.98, 0.98]
    bins = reliability(probabilities, [0, 1, 1, 1, 0, 0, 1])
    figure = reliability_figure(bins, "p", "frequency", "a run")
    figure.canvas.draw()  # lays the figure out
    top = figure.axes[0]
    (legend,) = figure.legends
    legend = legend.get_window_extent()
    filled = bins.count > 0
    points = top.transData.transform(
        np.column_stack([bins.mean_probability[filled], bins.frequency[filled]])
    )
    assert len(points) == 5 and not any(legend.contains(x, y) for x, y in points)
    labels = [top.title, top.yaxis.label, figure.axes[1].xaxis.label, figure.axes[1].yaxis.label]
    assert not any(legend.overlaps(label.get_window_extent()) for label in labels)


def test_the_cross_entropy_figure_names_what_y_stands_for():
    axes = cross_entropy_figure(("digit 1", "digit 2")).axes[0]
    assert axes.get_xlabel() == "predicted probability p that y = 1 (digit 2)"
    labels = [line.get_label() for line in axes.get_lines()]
    assert labels == [r"$y = 1$ (digit 2): $-\log p$", r"$y = 0$ (digit 1): $-\log(1 - p)$"]
    assert cross_entropy_figure().axes[0].get_xlabel() == "predicted probability p that y = 1"


# -- the files -------------------------------------------------------------------------------


def second_curve_pixels(path: Path) -> int:
    """How many pixels have the colour of a second plotted curve."""
    rgb = imread(path)[..., :3]
    return int(np.sum(np.all(np.abs(rgb - SECOND_CURVE_RGB) < 0.02, axis=-1)))


FIGURES = {
    "cost with test": (lambda p: plot_cost(tutorial_metrics(), p, TITLE), True),
    "cost without test": (lambda p: plot_cost(tutorial_metrics(False), p, TITLE), False),
    "accuracy with test": (lambda p: plot_accuracy(tutorial_metrics(), p, TITLE), True),
    "accuracy without test": (lambda p: plot_accuracy(tutorial_metrics(False), p, TITLE), False),
    "sigmoid": (plot_sigmoid, True),
    "cross entropy": (plot_cross_entropy, True),
}


@pytest.mark.parametrize(("draw", "two_curves"), list(FIGURES.values()), ids=list(FIGURES))
def test_figure_is_a_complete_png_and_nothing_else(draw, two_curves, tmp_path):
    path = tmp_path / "figure.png"
    draw(path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > 10_000
    image = imread(path)
    assert image.shape == IMAGE_SHAPE
    assert image.std() > 0.05  # not a blank canvas
    assert (second_curve_pixels(path) > 100) == two_curves
    assert [entry.name for entry in tmp_path.iterdir()] == ["figure.png"]


@pytest.mark.parametrize("draw", [draw for draw, _ in FIGURES.values()], ids=list(FIGURES))
def test_figure_accepts_a_string_path_and_replaces_an_older_file(draw, tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(b"an older figure")
    draw(str(path))
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [entry.name for entry in tmp_path.iterdir()] == ["figure.png"]


def test_failed_drawing_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "cost.png"
    path.write_bytes(b"the previous figure")

    def savefig_failing_midway(self, file, **options):
        file.write(PNG_MAGIC)
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", savefig_failing_midway)
    with pytest.raises(OSError, match="disk full"):
        plot_cost(tutorial_metrics(), path, TITLE)
    assert path.read_bytes() == b"the previous figure"
    assert [entry.name for entry in tmp_path.iterdir()] == ["cost.png"]


def test_drawing_never_imports_pyplot(tmp_path):
    """pyplot holds global state and may pick a GUI backend; a fresh interpreter shows
    whether importing scratchnet and drawing every figure pulls it in."""
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import scratchnet
        import scratchnet.app.cli
        from scratchnet.app.plots import plot_accuracy, plot_cost, plot_cross_entropy, plot_sigmoid

        folder = Path(sys.argv[1])
        record = dict(epoch=0, step=1, lr=0.1, loss=0.7, accuracy=0.5, train_loss=0.7,
                      train_accuracy=0.5, val_loss=0.6, val_accuracy=0.6)
        metrics = {"history": {"records": [record], "best_epoch": None},
                   "cost_axis": "iteration", "monitored_set": "test"}
        plot_cost(metrics, folder / "cost.png", "a run")
        plot_accuracy(metrics, folder / "accuracy.png", "a run")
        plot_sigmoid(folder / "sigmoid.png")
        plot_cross_entropy(folder / "cross_entropy.png")
        # the report's own figures and digit images
        import numpy as np
        from scratchnet.app.html import digit_png
        from scratchnet.app.plots import (augmentation_figure, hidden_units_figure,
                                          reliability_figure, save)
        from scratchnet.data.augment import Augment
        from scratchnet.metrics import reliability
        weight = np.random.default_rng(0).normal(size=(784, 3))
        save(hidden_units_figure(weight, np.arange(3), "units"), folder / "units.png")
        bins = reliability([0.2, 0.9], [0, 1])
        save(reliability_figure(bins, "p", "frequency", "a run"), folder / "reliability.png")
        digit_png(np.zeros((28, 28), np.uint8))
        images, rng = np.zeros((1, 784)), np.random.default_rng(0)
        save(augmentation_figure(images, Augment("affine"), rng, 2), folder / "augment.png")
        print("matplotlib.pyplot" in sys.modules)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert len(list(tmp_path.glob("*.png"))) == 7
    assert completed.stdout == "False\n"


# -- augmentation ------------------------------------------------------------------------------


def test_the_augmentation_figure_shows_each_image_then_fresh_distortions_of_it():
    rng = np.random.default_rng(3)
    images = rng.random((2, 784)).astype(np.float32)
    augment = Augment("affine")
    figure = augmentation_figure(images, augment, np.random.default_rng(8), 3, "Test digits")
    grid = np.array(figure.axes).reshape(2, 4)
    expected_draws = np.random.default_rng(8)  # the same draws, image after image
    for image, row in zip(images, grid, strict=True):
        distorted = np.empty((3, 784), np.float32)
        augment.distort(np.repeat(image[None], 3, axis=0), expected_draws, distorted)
        for axes, pixels in zip(row, [image, *distorted], strict=True):
            np.testing.assert_array_equal(axes.get_images()[0].get_array(), pixels.reshape(28, 28))
    assert [axes.get_title() for axes in grid[0]] == [
        "original", "distortion 1", "distortion 2", "distortion 3"
    ]  # fmt: skip
    assert figure.get_suptitle() == "Test digits and affine distortions of them"
