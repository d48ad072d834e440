"""Every figure, drawn headless (no display, no pyplot state) and saved as PNG.

The learning curves are drawn from a run's metrics (what metrics.json holds), so a
figure and the file always show the same numbers. Each ``*_figure`` function returns
the matplotlib Figure; ``plot_*`` saves it atomically.
"""

from __future__ import annotations

import io
import os
import textwrap

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    Formatter,
    MaxNLocator,
    MultipleLocator,
    PercentFormatter,
)

from ..atomic import atomic_write
from ..data.image_files import SOFTWARE
from ..metrics import Reliability
from ..nn.activations import sigmoid, sigmoid_derivative
from ..nn.losses import binary_cross_entropy

DPI = 110
MAX_LABELLED_TICKS = 12  # up to this many logged points, each gets its own tick
ZOOM_SHARE = 0.5  # the accuracy inset shows the last half of the run
ZOOM_RECORDS = 6  # and only for a run of at least this many records
MIN_MAGNIFICATION = 2  # an inset whose y range is not this many times narrower adds nothing
# where the inset may go (axes fractions: left, bottom, width, height), in order of
# preference, and the room its tick labels (left, below) and title (above) take
INSET_PLACES = ((0.56, 0.1, 0.42, 0.45), (0.56, 0.3, 0.42, 0.45), (0.3, 0.1, 0.42, 0.45))
INSET_MARGINS = (0.09, 0.07, 0.07)
TITLE_CHARACTERS = 64  # a line of a title at the default size fits the 6.4-inch figure
MAX_DECIMALS = 6  # of a percentage on an axis
IMAGE_SIDE = 28  # MNIST images are 28x28 pixels
UNIT_COLUMNS = 8  # hidden units per row of their mosaic
UNIT_GAP, UNIT_CAPTION = 3, 9  # pixels between the units' images, and under each for its name
UNITS_MIN_SIZE = (9.4, 4.6)  # inches: the two-line title and the colour bar's label fit


def plot_cost(metrics: dict, path: str | os.PathLike, title: str) -> None:
    save(cost_figure(metrics, title), path)


def plot_accuracy(metrics: dict, path: str | os.PathLike, title: str) -> None:
    save(accuracy_figure(metrics, title), path)


def plot_sigmoid(path: str | os.PathLike) -> None:
    save(sigmoid_figure(), path)


def plot_cross_entropy(path: str | os.PathLike) -> None:
    save(cross_entropy_figure(), path)


# -- learning curves ---------------------------------------------------------------------------


def curves(metrics: dict, key: str) -> list[tuple[str, list[float], list[float]]]:
    """(label, x, y) of each curve of ``key`` ('loss' or 'accuracy'): the training
    curve, then the monitored set's. The training curve is the measurement of all
    training rows where the run made one, else what the batches saw while training."""
    records = metrics["history"]["records"]
    x = [record["epoch"] for record in records]
    measured = all(record[f"train_{key}"] is not None for record in records)
    if measured:
        training = ("training", [record[f"train_{key}"] for record in records])
    else:
        training = (_unmeasured_label(metrics), [record[key] for record in records])
    lines = [(training[0], x, training[1])]
    if records and records[0][f"val_{key}"] is not None:
        lines.append((metrics["monitored_set"], x, [record[f"val_{key}"] for record in records]))
    return lines


def _unmeasured_label(metrics: dict) -> str:
    """What a training curve that is not a measurement shows: with mini-batches, a
    running mean of the batches; in full-batch training, each pass over every row with
    dropped-out units or distorted images (the last point, after the last update, is
    measured without them, unless early stopping ended the run on such a pass)."""
    config = metrics["config"]
    conditions = []
    if config["dropout"]:
        conditions.append("dropout on")
    if config["augment"] != "none":
        conditions.append("images distorted")
    if metrics["cost_axis"] == "iteration":
        last = "; the last point without" if last_point_measured(metrics) else ""
        return f"training set ({', '.join(conditions)}{last})"
    return f"training batches ({', '.join(['running mean', *conditions])})"


def last_point_measured(metrics: dict) -> bool:
    """Whether the last record measures the training rows themselves (a full-batch run
    measures its final weights so, but not when early stopping ended it)."""
    return metrics["history"]["records"][-1]["train_loss"] is not None


def cost_figure(metrics: dict, title: str) -> Figure:
    """Training cost and the monitored set's against iteration or epoch."""
    figure, axes = _figure()
    for label, x, y in curves(metrics, "loss"):
        axes.plot(x, y, marker="o", markersize=3, label=label)
    axes.set(xlabel=metrics["cost_axis"], ylabel="cost (mean cross-entropy, nats)")
    axes.set_title(f"Cost during training\n{_wrapped(title)}")
    _mark_best_epoch(axes, metrics)
    _logged_ticks(axes, curves(metrics, "loss")[0][1])
    _legend_below(figure, axes)
    return figure


def accuracy_figure(metrics: dict, title: str) -> Figure:
    """Training and monitored accuracy in percent, with an inset magnifying the last
    half of the run, where the curves lie close together near 100%."""
    figure, axes = _figure()
    lines = [(label, x, 100 * np.asarray(y)) for label, x, y in curves(metrics, "accuracy")]
    for label, x, y in lines:
        axes.plot(x, y, marker="o", markersize=3, label=label)
    axes.set(xlabel=metrics["cost_axis"], ylabel="accuracy (%)")
    axes.set_title(f"Accuracy during training\n{_wrapped(title)}")
    axes.yaxis.set_major_formatter(TickPercent())
    _mark_best_epoch(axes, metrics)
    _logged_ticks(axes, lines[0][1])
    _legend_below(figure, axes)
    _zoom_on_the_end(axes, lines, metrics["history"].get("best_epoch"))
    return figure


class TickPercent(Formatter):
    """Percent tick labels with the fewest decimals that write every tick exactly:
    98.6%, 98.8%, 99%... (with none, ticks 99.0 to 99.8 all read 99% or 100%)."""

    decimals = 0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        locs = np.asarray(locs, dtype=float)
        self.decimals = next(
            (
                d
                for d in range(MAX_DECIMALS)
                if np.allclose(np.round(locs, d), locs, rtol=0, atol=1e-9)
            ),
            MAX_DECIMALS,
        )

    def __call__(self, x, pos=None) -> str:
        return f"{x:.{self.decimals}f}%"


def _wrapped(title: str) -> str:
    """A title in lines of at most TITLE_CHARACTERS (a run's title with its changed
    options runs past the figure's edges on one line)."""
    return "\n".join(textwrap.fill(line, TITLE_CHARACTERS) for line in title.split("\n"))


def _zoom_on_the_end(axes, lines, best_epoch: int | None) -> None:
    """An inset with the last ZOOM_SHARE of the records, its y range fitted to them, at
    the first place of INSET_PLACES where it covers no curve (nor the best epoch's
    marker, unless the inset shows the marker itself). None where it would
    magnify less than MIN_MAGNIFICATION times, where every place covers a curve, or for
    a run of fewer than ZOOM_RECORDS records, whose points are few enough to read."""
    x = lines[0][1]
    start = int(len(x) * (1 - ZOOM_SHARE))
    if len(x) < ZOOM_RECORDS:
        return
    tail = np.concatenate([y[start:] for _, _, y in lines])
    low, high = float(tail.min()), float(tail.max())
    pad = max(0.05, 0.15 * (high - low))
    shown_low, shown_high = axes.get_ylim()
    if MIN_MAGNIFICATION * (high - low + 2 * pad) > shown_high - shown_low:
        return
    marker = []  # the best epoch's, unless the inset shows it
    if best_epoch is not None and best_epoch < x[start]:
        marker.append((None, [best_epoch] * 2, [shown_low, shown_high]))
    place = _free_place(axes, lines + marker)
    if place is None:
        return
    inset = axes.inset_axes(place)
    for _, x_values, y in lines:
        inset.plot(x_values[start:], y[start:], marker="o", markersize=2)
    if best_epoch is not None and best_epoch >= x[start]:
        inset.axvline(best_epoch, color="grey", linestyle=":")
    inset.set_ylim(low - pad, high + pad)
    inset.yaxis.set_major_formatter(TickPercent())
    inset.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    inset.tick_params(labelsize=7)
    inset.set_title(f"last {len(x) - start} records, magnified", fontsize=7)
    inset.grid(alpha=0.3)


def _free_place(axes, lines) -> tuple[float, ...] | None:
    """The first of INSET_PLACES (axes fractions) whose box, with room for the inset's
    tick labels and title around it, no curve of ``lines`` passes through."""
    to_fractions = axes.transScale + axes.transLimits
    points = np.concatenate([to_fractions.transform(_along(x, y)) for _, x, y in lines])
    left, below, above = INSET_MARGINS
    for place in INSET_PLACES:
        x0, y0, width, height = place
        across = (points[:, 0] >= x0 - left) & (points[:, 0] <= x0 + width)
        up = (points[:, 1] >= y0 - below) & (points[:, 1] <= y0 + height + above)
        if not (across & up).any():
            return place
    return None


def _along(x, y, steps: int = 20) -> np.ndarray:
    """Points along the polyline through (x, y), ``steps`` to a segment, as (n, 2)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    share = np.linspace(0, 1, steps, endpoint=False)
    xs = (x[:-1, None] + np.diff(x)[:, None] * share).ravel()
    ys = (y[:-1, None] + np.diff(y)[:, None] * share).ravel()
    return np.column_stack([np.append(xs, x[-1:]), np.append(ys, y[-1:])])


def _legend_below(figure: Figure, axes) -> None:
    """The legend under the plot, where it hides no curve."""
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=3,
                  fontsize=8, frameon=False)  # fmt: skip


def _mark_best_epoch(axes, metrics: dict) -> None:
    best = metrics["history"].get("best_epoch")
    if best is not None:
        axes.axvline(
            best, color="grey", linestyle=":", label=f"best ({metrics['cost_axis']} {best})"
        )


def _logged_ticks(axes, x: list[int]) -> None:
    """Ticks on the logged iterations or epochs themselves, when there are few."""
    if 0 < len(x) <= MAX_LABELLED_TICKS:
        axes.xaxis.set_major_locator(FixedLocator(x))
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))


# -- augmentation -------------------------------------------------------------------------------


def augmentation_figure(
    images: np.ndarray, augment, rng, distortions: int, subject: str = "Images"
) -> Figure:
    """Each image (a row: the original, then ``distortions`` fresh distortions of it),
    as the network sees them: light digits on a dark ground, pixel values 0 to 1.
    ``subject`` names the images in the title."""
    rows, columns = len(images), 1 + distortions
    figure = Figure(figsize=(1.1 * columns, 1.15 * rows + 0.5), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    distorted = np.empty((distortions, images.shape[1]), images.dtype)
    for row, image in enumerate(images):
        augment.distort(np.repeat(image[None], distortions, axis=0), rng, distorted)
        for column, pixels in enumerate([image, *distorted]):
            axes = grid[row, column]
            axes.imshow(pixels.reshape(augment.shape), cmap="gray", vmin=0, vmax=1)
            axes.set_xticks([])
            axes.set_yticks([])
            if row == 0:
                axes.set_title("original" if column == 0 else f"distortion {column}", fontsize=7)
    figure.suptitle(f"{subject} and {augment.kind} distortions of them", fontsize=9)
    return figure


# -- the tutorial's explanatory figures ---------------------------------------------------------


def sigmoid_figure() -> Figure:
    """sigma(z) = 1 / (1 + e^-z) and its derivative sigma(z) (1 - sigma(z))."""
    figure, axes = _figure()
    z = np.linspace(-10, 10, 401)
    axes.plot(z, sigmoid(z), label=r"$\sigma(z) = 1 / (1 + e^{-z})$")
    axes.plot(z, sigmoid_derivative(z), label=r"$\sigma'(z) = \sigma(z)(1 - \sigma(z))$")
    axes.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    axes.annotate(
        r"$\sigma(0) = 0.5$: the decision threshold", (0, 0.5), xytext=(-9.5, 0.56), color="grey"
    )
    axes.set(
        xlabel="z (pre-activation)", ylabel="value", title="Sigmoid activation and its derivative"
    )
    axes.xaxis.set_major_locator(MultipleLocator(2))
    axes.legend(loc="upper left", bbox_to_anchor=(0, 0.92))
    return figure


def cross_entropy_figure(classes: tuple[str, str] | None = None) -> Figure:
    """Binary cross-entropy as a function of the predicted probability p, for y = 1 and 0;
    ``classes`` names what y = 0 and y = 1 stand for (("digit 1", "digit 2"), say)."""
    figure, axes = _figure()
    p = np.linspace(0.001, 0.999, 999)
    z = np.log(p) - np.log1p(-p)  # the logit whose sigmoid is p
    named = [f" ({name})" for name in classes] if classes else ["", ""]
    axes.plot(p, binary_cross_entropy(z, 1.0), label=rf"$y = 1${named[1]}: $-\log p$")
    axes.plot(p, binary_cross_entropy(z, 0.0), label=rf"$y = 0${named[0]}: $-\log(1 - p)$")
    axes.set(
        xlabel=f"predicted probability p that y = 1{named[1]}",
        ylabel="loss (nats)",
        title="Binary cross-entropy loss",
        xlim=(0, 1),
        ylim=(0, 7),
    )
    axes.xaxis.set_major_locator(FixedLocator(np.linspace(0, 1, 11)))
    axes.legend(loc="upper center")
    return figure


# -- inside a trained network ------------------------------------------------------------------


def hidden_units_figure(weight: np.ndarray, units: np.ndarray, title: str) -> Figure:
    """The incoming weights of each of ``units`` (columns of the first layer's
    ``weight`` (784, H)) as a 28x28 image, in the order given, on one diverging colour
    scale centred on zero: red pulls the unit's pre-activation up where the pixel is
    ink, blue pulls it down, white is no effect. Colours saturate beyond the 99th
    percentile of |w| over the units shown (the colour bar's pointed ends)."""
    columns = min(UNIT_COLUMNS, len(units))
    rows = -(-len(units) // columns)
    height, width = IMAGE_SIDE + UNIT_CAPTION, IMAGE_SIDE + UNIT_GAP
    mosaic = np.full((rows * height, columns * width - UNIT_GAP), np.nan)
    size = (max(1.0 * columns + 1.4, UNITS_MIN_SIZE[0]), max(1.1 * rows + 0.9, UNITS_MIN_SIZE[1]))
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    for index, unit in enumerate(units):
        top, left = (index // columns) * height, (index % columns) * width
        mosaic[top : top + IMAGE_SIDE, left : left + IMAGE_SIDE] = weight[:, unit].reshape(
            IMAGE_SIDE, IMAGE_SIDE
        )
        axes.text(left + IMAGE_SIDE / 2, top + IMAGE_SIDE + 1, f"unit {unit}", ha="center",
                  va="top", fontsize=7)  # fmt: skip
    limit = float(np.percentile(np.abs(weight[:, units]), 99)) or 1.0
    colours = colormaps["RdBu_r"].with_extremes(bad="white")
    image = axes.imshow(mosaic, cmap=colours, vmin=-limit, vmax=limit, interpolation="nearest")
    axes.set_axis_off()
    figure.suptitle(title)  # over the figure, not the mosaic: a few units make it narrow
    bar = figure.colorbar(image, ax=axes, extend="both", shrink=min(1.0, 3 / rows), aspect=30)
    bar.set_label("weight (pre-activation per unit of pixel intensity, 0 to 1)")
    return figure


def reliability_figure(bins: Reliability, probability: str, outcome: str, title: str) -> Figure:
    """A reliability diagram: each bin's mean ``probability`` against the observed
    ``outcome`` frequency (on the diagonal: calibrated), and how many rows each bin
    holds, both in percent of the probability axis."""
    figure = Figure(figsize=(6.4, 5.6), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    filled = bins.count > 0
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    top.plot(bins.mean_probability[filled], bins.frequency[filled], marker="o",
             label="test images, one point per non-empty bin")  # fmt: skip
    top.set(ylabel=f"{outcome} (%)", xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    top.set_title(f"{_wrapped(title)}\nexpected calibration error {bins.ece:.4f}")
    _legend_below(figure, top)  # a point can be anywhere in the plot
    widths = np.diff(bins.edges)
    bottom.bar(bins.edges[:-1], bins.count, width=widths, align="edge", edgecolor="white")
    bottom.set_yscale("log")
    bottom.set_ylim(bottom=0.5)  # a bin of one image still shows
    bottom.set(xlabel=f"{probability} (%), bins of {widths[0]:.0%}",
               ylabel="images (log scale)")  # fmt: skip
    for axes in (top, bottom):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        axes.xaxis.set_major_locator(FixedLocator(bins.edges))
    top.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    figure.align_ylabels((top, bottom))
    return figure


# -- drawing --------------------------------------------------------------------------------------


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    axes.grid(alpha=0.3)
    return figure, axes


def png(figure: Figure) -> bytes:
    """``figure`` as the bytes of a PNG file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": SOFTWARE})
    return buffer.getvalue()


def save(figure: Figure, path: str | os.PathLike) -> None:
    """Write ``figure`` as a PNG at ``path``, atomically."""
    data = png(figure)
    with atomic_write(path) as file:
        file.write(data)
