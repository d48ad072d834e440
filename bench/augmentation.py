"""What data augmentation costs: the share of an epoch of the best recipe spent
distorting images, and NumPy's bilinear sampling against SciPy's map_coordinates."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import scratchnet as sn
from scratchnet.app.experiment import fit_options
from scratchnet.app.presets import PRESETS
from scratchnet.data.augment import bilinear

from .common import mnist_data, peak_rss_mb, repeated

BATCH = 128


@dataclass(frozen=True)
class TimedAugment(sn.Augment):
    """An Augment that adds up the seconds spent distorting."""

    seconds: list = field(default_factory=list, compare=False)

    def distort(self, images, rng, out):
        start = time.perf_counter()
        super().distort(images, rng, out)
        self.seconds.append(time.perf_counter() - start)


def augment_share(preset: str, epochs: int, threads: int) -> dict:
    """Epoch seconds of the preset's training and the part of them spent distorting."""
    recipe = PRESETS[preset]
    X, y, X_test, y_test = mnist_data(tuple(range(10)), recipe.dtype)
    base = recipe.augmentation()
    timed = TimedAugment(**{name: getattr(base, name) for name in base.__dataclass_fields__})
    options = {**fit_options(recipe.updated(epochs=epochs), X_test, y_test), "augment": timed}
    net = sn.NeuralNet([*recipe.hidden, 10], activation=recipe.activation, init=recipe.init,
                       dropout=recipe.dropout, random_state=recipe.seed)  # fmt: skip
    start = time.perf_counter()
    net.fit(X, y, **options)
    total = time.perf_counter() - start
    return {
        "epoch_seconds": total / epochs,
        "augment_seconds": sum(timed.seconds) / epochs,
        "share": sum(timed.seconds) / total,
        "peak_rss_mb": peak_rss_mb(),
    }


def sampling_seconds(impl: str, repeats: int, threads: int) -> dict:
    """Seconds to sample a batch of 128 images at random coordinates, bilinearly."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    images = rng.random((BATCH, 28, 28), dtype=np.float32)
    rows, cols = rng.uniform(-3, 30, (2, BATCH, 28, 28)).astype(np.float32)
    batch = np.broadcast_to(np.arange(BATCH, dtype=np.float32)[:, None, None], rows.shape)
    out = np.empty_like(images)

    def numpy_sampling():
        bilinear(images, rows, cols, out)

    def scipy_sampling():
        ndimage.map_coordinates(images, [batch, rows, cols], order=1, mode="grid-constant",
                                output=out)  # fmt: skip

    run = {"scratchnet": numpy_sampling, "scipy": scipy_sampling}[impl]
    times = [t / 20 for t in repeated(lambda: [run() for _ in range(20)], repeats)]
    return {"seconds": float(np.median(times)), "runs": times, "peak_rss_mb": peak_rss_mb()}
