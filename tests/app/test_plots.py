"""Figures: complete PNG files, written atomically, drawn without pyplot."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from scratchnet.app.plots import plot_accuracy, plot_cost, plot_cross_entropy, plot_sigmoid
from scratchnet.training.history import History

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE_SHAPE = (462, 704, 4)  # 4.2 x 6.4 inches at 110 dpi, RGBA
SECOND_CURVE_RGB = (1.0, 127 / 255, 14 / 255)  # matplotlib's second default colour, C1


X_VALUES = [0, 100, 200]


def history(with_validation: bool) -> History:
    """Three logged iterations, with or without validation metrics."""
    records = []
    for epoch, loss, accuracy in [(0, 0.76, 0.47), (100, 0.21, 0.93), (200, 0.12, 0.97)]:
        records.append(
            {
                "epoch": epoch,
                "step": epoch + 1,
                "lr": 0.1,
                "loss": loss,
                "accuracy": accuracy,
                "val_loss": loss + 0.05 if with_validation else None,
                "val_accuracy": accuracy - 0.02 if with_validation else None,
            }
        )
    return History(records)


def second_curve_pixels(path: Path) -> int:
    """How many pixels have the colour of a second plotted curve."""
    rgb = imread(path)[..., :3]
    return int(np.sum(np.all(np.abs(rgb - SECOND_CURVE_RGB) < 0.02, axis=-1)))


FIGURES = {
    "cost with validation": (
        lambda p: plot_cost(X_VALUES, history(True), p, "iteration", "test"),
        True,
    ),
    "cost without validation": (
        lambda p: plot_cost(X_VALUES, history(False), p, "epoch", "val"),
        False,
    ),
    "accuracy with validation": (
        lambda p: plot_accuracy(X_VALUES, history(True), p, "iteration", "test"),
        True,
    ),
    "accuracy without validation": (
        lambda p: plot_accuracy(X_VALUES, history(False), p, "epoch", "val"),
        False,
    ),
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
        plot_cost(X_VALUES, history(True), path, "iteration", "test")
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
        from scratchnet.training.history import History

        folder = Path(sys.argv[1])
        record = dict(epoch=0, step=1, lr=0.1, loss=0.7, accuracy=0.5,
                      val_loss=0.6, val_accuracy=0.6)
        plot_cost([0], History([record]), folder / "cost.png", "iteration", "test")
        plot_accuracy([0], History([record]), folder / "accuracy.png", "iteration", "test")
        plot_sigmoid(folder / "sigmoid.png")
        plot_cross_entropy(folder / "cross_entropy.png")
        print("matplotlib.pyplot" in sys.modules)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert len(list(tmp_path.glob("*.png"))) == 4
    assert completed.stdout == "False\n"
