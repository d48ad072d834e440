"""The run report: report.html in a run folder, one self-contained page that shows what
the run learned: the run itself, its learning curves, the test set's confusion matrix and
per-class scores, the digits it gets most confidently wrong and least confidently right,
the first hidden layer's weights, calibration, and for a network of the tutorial's kind
(sigmoid units, two digits) the tutorial's own figures.

Built from the folder's model.npz and metrics.json and the official test images only,
so ``scratchnet report`` rebuilds exactly what ``scratchnet train`` wrote. Figures are
embedded as PNG data URIs and also written as PNG files beside the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import __version__
from ..data.preprocessing import preprocess
from ..errors import DataFileError, InvalidArgumentError
from ..metrics import percent, probability
from .arguments import pasteable
from .console import share
from .evaluation import (
    Evaluation,
    TestSet,
    calibration_subject,
    evaluate,
    load_test_set,
    model_digits,
)
from .experiment import (
    AUGMENTATION_FILE,
    DISTORTIONS,
    EXAMPLES,
    METRICS_FILE,
    MODEL_FILE,
    REPORT_FILE,
    SavedRun,
    distortions_figure,
    first_of_each,
    read_run,
    run_title,
)
from .html import digit_png, image, page, readable_on, table, text
from .overwrite import carries_mark, replace_together
from .plots import (
    accuracy_figure,
    cost_figure,
    cross_entropy_figure,
    curves,
    hidden_units_figure,
    last_point_measured,
    png,
    reliability_figure,
    sigmoid_figure,
)
from .presets import applied_settings, command_line

GALLERY_SIZE = 32  # digits shown in each gallery
NEAR_TIES = 0.001  # of the test set: how many answers the run's count and the report's may
# differ by (another machine's arithmetic differs in the last bits; a near-tie may flip)
MAX_UNITS = 64  # hidden units drawn; the rest are summarised
CONFUSION_BLUE = np.array([31, 119, 180])  # a cell's colour, as opaque as its share of the row


def write_report(
    folder: Path, data_dir: str | os.PathLike | None = None, force: bool = False
) -> list[Path]:
    """Build ``folder/report.html`` and its figures from the run in ``folder``; the
    test images are read from ``data_dir``, by default the folder the run read them
    from (if it still exists), then the usual places. A file of those names that carries
    no scratchnet mark is replaced only with ``force``. Returns the report's path, then
    its figures'."""
    run = read_run(folder)
    digits = model_digits(run.net, folder / MODEL_FILE)
    test = load_test_set(digits, data_dir if data_dir is not None else recorded_data_dir(run))
    result = evaluate(run.net, test)
    _check_test_count(run, result)
    figures = draw_figures(run, test, result)
    html = page(
        f"scratchnet report: {run_title(run.recipe)}", report_body(run, test, result, figures)
    )
    files = {folder / REPORT_FILE: html.encode()}
    files |= {folder / name: data for name, data in figures.items()}
    _write_all(files, force)  # only now, when everything is drawn
    return list(files)


def draw_figures(run: SavedRun, test: TestSet, result: Evaluation) -> dict[str, bytes]:
    """Each figure's file name and its PNG bytes."""
    return {name: png(draw()) for name, draw in _figures(run, test, result).items()}


def report_body(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    """The report's sections, in order, as HTML (``figures``: ``draw_figures``'s)."""
    return "\n".join(
        section(run, test, result, figures)
        for section in (_header, _run_section, _curves_section, _test_section,
                        _mistakes_section, _unsure_section, _units_section,
                        _calibration_section, _tutorial_section, _footer)
    )  # fmt: skip


def _check_test_count(run: SavedRun, result: Evaluation) -> None:
    """The run's own count of right test answers is the model's, but for a few near-ties
    (NEAR_TIES of the test set) that another machine's arithmetic, different in its last
    bits, may decide the other way: the report shows both, and says so."""
    correct, total = run.metrics["counts"]["test"]
    near_ties = max(1, int(NEAR_TIES * total))
    if total != len(result.labels) or abs(correct - result.n_correct) > near_ties:
        raise DataFileError(
            f"{run.folder / METRICS_FILE}: counts.test says {correct:,} of {total:,} test "
            f"images right, but its model gets {result.n_correct:,} of {len(result.labels):,}; "
            "the file was changed after the run"
        )


def _write_all(files: dict[Path, bytes], force: bool) -> None:
    """``replace_together``, a link among the files refused first (the report writes
    into its run folder only, not into the file a link points to), and unless ``force``
    a file that carries no scratchnet mark (a user's own, of a figure's name)."""
    for path in files:
        if path.is_symlink():
            raise InvalidArgumentError(
                f"{path} is a link; the report writes plain files into its run folder "
                "only: remove the link and build the report again"
            )
        if not force and path.is_file() and not carries_mark(path):
            raise InvalidArgumentError(
                f"{path} already exists and carries no scratchnet mark (another program's "
                "file, or a figure from a scratchnet without the mark); move it away, or "
                "pass --force to replace it"
            )
    replace_together(files)


def recorded_data_dir(run: SavedRun) -> Path | None:
    """The folder the run read its test images from, if it still exists."""
    for name in run.metrics["data_files"]:
        path = Path(name)
        if path.name.startswith("t10k-images") and path.parent.is_dir():
            return path.parent
    return None


def unit_order(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first layer's units by the L2 norm of their incoming weights
    ||w_j|| = sqrt(sum_i W[i, j]^2), largest first, and those norms."""
    norms = np.linalg.norm(weight.astype(np.float64), axis=0)  # (H,)
    return np.argsort(-norms, kind="stable"), norms


# -- figures ------------------------------------------------------------------------------------


def _figures(run: SavedRun, test: TestSet, result: Evaluation) -> dict[str, Callable[[], Figure]]:
    """Each figure's file name and how to draw it."""
    title = run_title(run.recipe)
    weight = run.net.layers[0].weight
    shown = unit_order(weight)[0][:MAX_UNITS]
    units_title = (f"First hidden layer: incoming weights of {len(shown)} of its "
                   f"{weight.shape[1]} units, largest weight norm first\n{title}")  # fmt: skip
    figures = {
        "cost.png": lambda: cost_figure(run.metrics, title),
        "accuracy.png": lambda: accuracy_figure(run.metrics, title),
        "hidden_units.png": lambda: hidden_units_figure(weight, shown, units_title),
        "reliability.png": lambda: reliability_figure(
            result.calibration,
            *calibration_subject(result.digits),
            f"Calibration on the test set, {title}",
        ),
    }
    if _is_the_tutorials_kind(run.net):
        classes = tuple(f"digit {digit}" for digit in run.recipe.digits)  # y = 0, y = 1
        figures["sigmoid.png"] = sigmoid_figure
        figures["cross_entropy.png"] = lambda: cross_entropy_figure(classes)
    augment = run.recipe.augmentation()
    if augment is not None:
        examples = preprocess(test.images[first_of_each(test.labels, EXAMPLES)], run.net.dtype)
        figures[AUGMENTATION_FILE] = lambda: distortions_figure(examples, augment)
    return figures


def _is_the_tutorials_kind(net) -> bool:
    """Sigmoid hidden units and one sigmoid output for two digits, as the tutorial's
    network has: what its figures of the sigmoid and the binary cross-entropy explain."""
    return net.activation == "sigmoid" and len(net.classes) == 2


def _plot(figures: dict[str, bytes], name: str, alt: str) -> str:
    return f'<figure class="plot">{image(figures[name], alt)}</figure>'


# -- sections -----------------------------------------------------------------------------------


def _header(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    n = len(result.labels)
    trained = run.metrics["counts"]["train"]
    boxes = [
        ("test accuracy", share(result.n_correct / n, n)),
        ("train accuracy", share(trained[0] / trained[1], trained[1])),
        ("expected calibration error", f"{result.calibration.ece:.4f}"),
        (
            "fit time",
            f"{run.metrics['fit_seconds']:.1f} s"
            + (" (resumed)" if run.metrics["seconds_before_resuming"] else ""),
        ),
    ]
    headline = "".join(f"<div>{text(label)}<b>{text(value)}</b></div>" for label, value in boxes)
    links = [("run", "The run"), ("curves", "Learning curves"), ("test", "Test set"),
             ("mistakes", "Confident mistakes"), ("unsure", "Unsure but right"),
             ("units", "Hidden units"), ("calibration", "Calibration")]  # fmt: skip
    if "sigmoid.png" in figures:
        links.append(("tutorial", "The tutorial's figures"))
    nav = "".join(f'<a href="#{anchor}">{text(name)}</a>' for anchor, name in links)
    return (f"<header><h1>What the network learned</h1>"
            f'<p class="lead">{text(run_title(run.recipe))}: run folder '
            f"<code>{text(run.folder)}</code></p>"
            f'<div class="headline">{headline}</div><nav>{nav}</nav></header>')  # fmt: skip


def _run_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    metrics, recipe = run.metrics, run.recipe
    command = command_line(recipe)
    as_is = command == f"scratchnet train --preset {recipe.name}"
    changes = "" if as_is else ", with the changes in the command below"
    settings = [
        (text(name.replace("_", " ")), f"<code>{text(_setting(value))}</code>")
        for name, value in applied_settings(recipe).items()
    ]
    names = {"train": "train (rows trained on)", "validation": "validation (held out)",
             "test": "test"}  # fmt: skip
    scores = [
        (names[name], f"{total:,}", f"{correct:,}", text(percent(correct / total, 4)))
        for name in names
        if name in metrics["counts"]
        for correct, total in [metrics["counts"][name]]
    ]
    files = "".join(f"<li><code>{text(name)}</code></li>" for name in metrics["data_files"])
    versions = ", ".join(f"{name} {version}" for name, version in metrics["versions"].items())
    return f"""<section id="run"><h2>The run</h2>
<p>Preset <b>{text(recipe.name)}</b> (on its own: {text(recipe.description)}){changes}.
The command that runs it again (with <code>--data-dir</code> where the MNIST files are not
found by default):</p>
<pre class="command">{text(command)}</pre>
<h3>Settings</h3>
{table(["setting", "value"], settings, 'id="settings" class="settings"')}
<h3>Data</h3>
<p>Training images: <code>{tuple(metrics["train_shape"])}</code>{_held_out(metrics)}, test
images: <code>{tuple(metrics["test_shape"])}</code> (images, pixels). Accuracy of the saved weights
on each set, as the run measured it{_recount(metrics, result)}:</p>
{table(["set", "images", "right", "accuracy"], scores, 'id="scores"')}
<p>Files the run read:</p><ul>{files}</ul>
<h3>Model</h3>
<pre>{text(run.net.summary())}</pre>
<h3>Training</h3>
<p>{_training_story(run)} Fit time (training, with the checkpoints it writes as it
goes, without loading data or writing the run's files):
<b>{metrics["fit_seconds"]:.2f} s</b>{_resumed(metrics)}. Random seed:
<b>{text(recipe.seed)}</b>. Trained with {text(versions)}; this report was built by
scratchnet {text(__version__)}.</p>
</section>"""


def _setting(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return str(value)


def _recount(metrics: dict, result: Evaluation) -> str:
    """What the report says when its count of the test set differs from the run's."""
    correct, total = metrics["counts"]["test"]
    if correct == result.n_correct:
        return ""
    return (f" (here the test set scores {result.n_correct:,} of {total:,}, the figure at the "
            f"top; the run counted {correct:,}: arithmetic differs in its last bits between "
            "machines, and a near-tie can fall either way)")  # fmt: skip


def _training_story(run: SavedRun) -> str:
    """How far the run went and which weights it kept, in words."""
    history, unit = run.metrics["history"], run.metrics["cost_axis"]
    last = history["records"][-1]
    updates = f"{last['step']:,} update" + ("" if last["step"] == 1 else "s")
    story = f"The run ended after {unit} {last['epoch']} ({updates})."
    if history["best_epoch"] is not None:
        how = "patience ran out" if history["stopped_early"] else "it ran to the end"
        story += (f" Early stopping kept the weights of {unit} {history['best_epoch']}, the "
                  f"lowest validation cost ({how}).")  # fmt: skip
    return story


def _curves_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    metrics = run.metrics
    unit = metrics["cost_axis"]
    steps = ("full-batch gradient-descent steps: point i shows the weights after i steps"
             if unit == "iteration" else
             "passes over the training set: point e shows the weights after e epochs")  # fmt: skip
    monitored = ("the test set, watched for these curves only and never used to decide anything"
                 if metrics["monitored_set"] == "test" else
                 "the validation rows held out of training")  # fmt: skip
    training = curves(metrics, "loss")[0][0]
    return (
        _augmentation_section(run, figures)
        + f"""<section id="curves"><h2>Learning curves</h2>
<p>The x-axis counts {unit}s, {steps}. The curve labelled <i>{text(training)}</i> is
{_training_curve(training, metrics)}; the other is {monitored}.</p>
<div class="figures">
{_plot(figures, "cost.png", f"cost against {unit}")}
{_plot(figures, "accuracy.png", f"accuracy against {unit}")}
</div></section>"""
    )


def _resumed(metrics: dict) -> str:
    """' (N s of it before the run was stopped and resumed)', for a resumed run."""
    earlier = metrics["seconds_before_resuming"]
    return f" ({earlier:.2f} s of it before the run was stopped and resumed)" if earlier else ""


def _held_out(metrics: dict) -> str:
    """', of which N held out for validation and M trained on', when some were."""
    if "validation" not in metrics["counts"]:
        return ""
    held, trained = metrics["counts"]["validation"][1], metrics["counts"]["train"][1]
    return f", of which {held:,} held out for validation and {trained:,} trained on"


def _training_curve(label: str, metrics: dict) -> str:
    """What the training curve of ``label`` (``plots.curves``) shows, in words."""
    if label == "training":
        return "the training rows, measured on the weights of each point"
    if metrics["cost_axis"] == "iteration":  # full batch, with dropout or distortions
        last = "; its last point is measured without them" if last_point_measured(metrics) else ""
        return ("each pass over every training row as the step that followed saw it, with "
                f"dropout or distortions on{last}")  # fmt: skip
    return ("not a measurement of the weights of each point: it is the mean over the "
            "epoch's batches of what each batch scored just before its own update, while the "
            "weights were changing (and with any dropout or distortions on), so it trails "
            "the weights that point shows; train with --measure-training to measure the "
            "training rows themselves at every point")  # fmt: skip


def _augmentation_section(run: SavedRun, figures) -> str:
    if AUGMENTATION_FILE not in figures:
        return ""
    augment = run.recipe.augmentation()
    return f"""<section id="augmentation"><h2>The distorted digits it trained on</h2>
<p>Every epoch the run trained on fresh {augment.kind} distortions of its images, never the
same twice: shifts up to {augment.shift:g} pixels, rotations and shears up to
{augment.rotation:g} and {augment.shear:g} degrees, zooms within {augment.scale:.0%}{
        f", and an elastic field (alpha {augment.alpha:g}, sigma {augment.sigma:g} pixels)"
        if augment.kind == "elastic"
        else ""
    }. Here are a few test digits (never trained on) and
{DISTORTIONS} such distortions of each.</p>
{_plot(figures, AUGMENTATION_FILE, "test digits and distortions of them")}
</section>
"""


def _test_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    n = len(result.labels)
    return f"""<section id="test"><h2>Test set: which digits are confused</h2>
<p>{result.n_correct:,} of {n:,} test images classified right:
{text(percent(result.n_correct / n, 4))}. Each row of the confusion matrix holds the test
images of one true digit, spread over the digits the network predicted; the shading is the
share of the row, so the diagonal is each digit's recall.</p>
{_confusion_table(result)}
<h3>Per-class scores</h3>
<p>Precision: of the images predicted as the digit, the share that are it. Recall: of the
images of the digit, the share predicted as it. F1: their harmonic mean. Support: the
digit's test images. <i>n/a</i>: undefined (0/0), e.g. the precision of a digit never
predicted.</p>
{_class_table(result)}
</section>"""


def _confusion_table(result: Evaluation) -> str:
    digits, confusion = result.digits, result.confusion
    header = "".join(f'<th scope="col">{digit}</th>' for digit in digits)
    rows = []
    for digit, row in zip(digits, confusion, strict=True):
        total = int(row.sum())
        cells = "".join(_confusion_cell(int(count), total) for count in row)
        rows.append(f'<tr><th scope="row">{digit}</th>{cells}<td>{total:,}</td></tr>')
    return (f'<div class="scroll"><table class="confusion" id="confusion-matrix"><thead>'
            f'<tr><th rowspan="2" class="left">true digit</th>'
            f'<th colspan="{len(digits)}">predicted digit</th>'
            f'<th rowspan="2">test images</th></tr><tr>{header}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')  # fmt: skip


def _confusion_cell(count: int, row_total: int) -> str:
    """A count shaded by its share of the row: the darker, the more of the true digit's
    images went there."""
    shade = round(count / row_total if row_total else 0.0, 3)
    if count == 0:
        return '<td class="zero" data-count="0">0</td>'
    background = (1 - shade) * 255 + shade * CONFUSION_BLUE  # over the page's white
    red, green, blue = CONFUSION_BLUE
    style = (
        f"background: rgba({red}, {green}, {blue}, {shade:.3f}); color: {readable_on(background)}"
    )
    return f'<td style="{style}" data-count="{count}">{count:,}</td>'


def _class_table(result: Evaluation) -> str:
    scores = result.scores
    rows = [
        (
            str(digit),
            _ratio(scores.precision[i], scores.correct[i], scores.predicted[i]),
            _ratio(scores.recall[i], scores.correct[i], scores.support[i]),
            text(percent(scores.f1[i])),
            f"{scores.support[i]:,}",
        )
        for i, digit in enumerate(scores.labels)
    ]
    return table(["digit", "precision", "recall", "F1", "support"], rows, 'id="class-scores"')


def _ratio(value: float, numerator: int, denominator: int) -> str:
    return f"{text(percent(value))} <small>({numerator:,}/{denominator:,})</small>"


def _mistakes_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    wrong = np.flatnonzero(~result.correct)
    rows = wrong[np.argsort(-result.confidence[wrong], kind="stable")][:GALLERY_SIZE]
    which = ("The one test digit the network gets wrong" if len(wrong) == 1 else
             f"The test digits the network gets wrong, all {len(wrong)}, most confident first"
             if len(wrong) <= GALLERY_SIZE else
             f"The test digits the network gets wrong, the {len(rows)} most confident of the "
             f"{len(wrong):,}, most confident first")  # fmt: skip
    body = (f"<p>{which}. Each card: the true digit → the predicted digit, the probability "
            f"the network gave its prediction, and the image's row in the official test file "
            f"(t10k, from 0).</p>"
            + _gallery(test, result, rows, wrong=True)) if len(wrong) else (
            "<p>The network classifies every test image right.</p>")  # fmt: skip
    return f'<section id="mistakes"><h2>Confident mistakes</h2>{body}</section>'


def _unsure_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    right = np.flatnonzero(result.correct)
    rows = right[np.argsort(result.confidence[right], kind="stable")][:GALLERY_SIZE]
    which = ("The one test digit the network gets right: the digit, the probability for its "
             "answer" if len(rows) == 1 else
             f"The {len(rows)} test digits the network gets right with the lowest probability "
             "for its answer: the digit, that probability")  # fmt: skip
    body = (f"<p>{which}, and the image's row in t10k.</p>"
            + _gallery(test, result, rows, wrong=False)) if len(right) else (
            "<p>The network classifies no test image right.</p>")  # fmt: skip
    return f'<section id="unsure"><h2>Unsure but right</h2>{body}</section>'


def _gallery(test: TestSet, result: Evaluation, rows: np.ndarray, wrong: bool) -> str:
    cards = []
    for row in rows:
        true, predicted = int(result.labels[row]), int(result.predicted[row])
        p, index = float(result.confidence[row]), int(test.rows[row])
        label = f"{true} → {predicted}" if wrong else f"{true}"
        shown = probability(p)
        alt = (f"test image {index}: the digit {true}, predicted {predicted} "
               f"with probability {shown}")  # fmt: skip
        cards.append(
            f'<li><figure class="digit" data-row="{index}" data-true="{true}" '
            f'data-predicted="{predicted}" data-probability="{p!r}">'
            f"{image(digit_png(test.images[row]), alt, 28, 28)}"
            f"<figcaption><b>{label}</b><br>{text(shown)}<br><small>#{index}</small>"
            f"</figcaption></figure></li>"
        )
    return f'<ul class="gallery">{"".join(cards)}</ul>'


BLANK_PIXELS = """Pixels that are blank in every training image, around the border, never
receive a gradient: their weights keep their random starting values (unless weight decay
shrinks them), the noise at the edges of each image."""
BLANK_PIXELS_DISTORTED = """Distortions can move ink into pixels that are blank in every stored
training image, so weights there can be learned too; pixels no distorted image reached keep
their random starting values (unless weight decay shrinks them)."""


def _units_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    weight = run.net.layers[0].weight
    order, norms = unit_order(weight)
    shown, rest = order[:MAX_UNITS], order[MAX_UNITS:]
    summary = (f"All {len(shown)} units are shown." if not len(rest) else
               f"The {len(shown)} shown have norms from {norms[shown[-1]]:.3g} to "
               f"{norms[shown[0]]:.3g}; the other {len(rest)} units, not drawn, have norms from "
               f"{norms[rest].min():.3g} to {norms[rest].max():.3g} (median "
               f"{np.median(norms[rest]):.3g}).")  # fmt: skip
    blank_pixels = BLANK_PIXELS_DISTORTED if run.recipe.augment != "none" else BLANK_PIXELS
    return f"""<section id="units"><h2>What the first hidden layer learned</h2>
<p>Each image is one unit of the first hidden layer: its {weight.shape[0]} incoming weights
laid out as the 28x28 pixels they multiply. Red: ink there raises the unit's
pre-activation; blue: lowers it; white: no effect. One colour scale for all units,
centred on zero. Units are ordered by the L2 norm of their incoming weights, largest
first; unit j is column j of the first layer's weight matrix, counted from 0. {summary}
{blank_pixels}</p>
{_plot(figures, "hidden_units.png", "incoming weights of the first hidden layer's units")}
</section>"""


def _calibration_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    bins = result.calibration
    probability, outcome = calibration_subject(result.digits)
    rows = [
        (f"{low:.0%} to {high:.0%}", f"{count:,}", text(percent(mean)), text(percent(freq)))
        for low, high, count, mean, freq in zip(
            bins.edges[:-1], bins.edges[1:], bins.count, bins.mean_probability, bins.frequency,
            strict=True,
        )
    ]  # fmt: skip
    return f"""<section id="calibration"><h2>Can its probabilities be trusted?</h2>
<p>The test images are put in 10 bins by the {text(probability)}; a calibrated network's
{text(outcome)} in each bin matches the bin's mean probability (the diagonal). Expected
calibration error (ECE): the gap between the two, averaged over the bins weighted by their
images: <b>{bins.ece:.4f}</b> (0 is perfect). A bin holds probabilities above its lower
edge up to its upper edge.</p>
{_plot(figures, "reliability.png", "reliability diagram")}
{table(["bin", "images", "mean probability", outcome], rows, 'id="calibration-bins"')}
</section>"""  # fmt: skip


def _tutorial_section(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    if "sigmoid.png" not in figures:
        return ""
    return f"""<section id="tutorial"><h2>The tutorial's figures</h2>
<p>The tutorial's network passes every unit's pre-activation z through the sigmoid
&sigma;(z) = 1 / (1 + e<sup>-z</sup>); its derivative &sigma;(z)(1 - &sigma;(z)) is what
backpropagation multiplies by, at most 0.25. The output unit's &sigma;(z) is the
probability of digit {run.recipe.digits[1]}, and training lowers the binary cross-entropy
between it and the true label.</p>
<div class="figures">
{_plot(figures, "sigmoid.png", "the sigmoid and its derivative")}
{_plot(figures, "cross_entropy.png", "binary cross-entropy against the predicted probability")}
</div></section>"""


def _footer(run: SavedRun, test: TestSet, result: Evaluation, figures) -> str:
    files = ", ".join(f"<code>{text(Path(name).name)}</code>" for name in test.files)
    return (f"<footer>Built by scratchnet {text(__version__)} from <code>{MODEL_FILE}</code>, "
            f"<code>metrics.json</code> and {files}. Rebuild it with "
            f"<code>scratchnet report {text(pasteable(run.folder))}</code>.</footer>")  # fmt: skip
