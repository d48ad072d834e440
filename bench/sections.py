"""The sections of the benchmark suite. Each runs its jobs through the suite, adds its
rows to the summary table and returns its own detailed markdown."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
from pathlib import Path

from scratchnet.app.presets import PRESETS

from .minibatch import SCALING_SAMPLES, SCALING_WIDTHS

TUTORIAL_COSTS = (0.756223980626531, 0.039859413110109314)  # published, iterations 0 and 900
TUTORIAL_CORRECT = (12557, 2151)  # of 12700 training and 2167 test images
TRAINING_MATRIX_MIB = 12700 * 784 * 8 / 2**20  # the tutorial's float64 training matrix


# -- formatting ------------------------------------------------------------------------------


def seconds(result: dict, key: str) -> str:
    if "error" in result:
        return "n/a"
    value = result[key]
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def ratio(numerator: dict, denominator: dict, key: str) -> float | None:
    if "error" in numerator or "error" in denominator:
        return None
    return numerator[key] / denominator[key]


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def rss(results: dict, impls=("scratchnet", "torch", "sklearn")) -> str:
    """Peak resident memory of each implementation's process, in MiB."""
    return " / ".join(
        f"{results[impl]['peak_rss_mb']:.0f}" if "peak_rss_mb" in results.get(impl, {}) else "n/a"
        for impl in impls
    )


def accuracy_in(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    return f"{result['test_accuracy']:.2%} in {result['fit_seconds']:.2f} s"


ROUNDS = 3  # implementations take turns, so a drift of the machine reaches them all


def interleaved(
    suite,
    job: str,
    key: str,
    impls: tuple[str, ...],
    rounds: int = ROUNDS,
    unset: tuple[str, ...] = (),
    reference: str = "scratchnet",
    **spec,
) -> tuple[dict[str, dict], dict[str, float]]:
    """The implementations in turn over ``rounds`` rounds of fresh processes, so that a
    drift of the machine reaches them all. Returns each one's median over all its runs
    (with the other fields of its last result), and for each other implementation the
    median over rounds of the ``reference`` implementation's time divided by its time."""
    results: dict[str, dict] = {}
    runs: dict[str, list] = {impl: [] for impl in impls}
    per_round: dict[str, list] = {impl: [] for impl in impls if impl != reference}
    for _ in range(rounds):
        current = {}
        for impl in impls:
            if "error" in results.get(impl, {}):
                continue
            current[impl] = result = suite.job(job, impl=impl, unset=unset, **spec)
            if "error" in result:
                results[impl] = result
                continue
            runs[impl] += result["runs"]
            results[impl] = {k: v for k, v in result.items() if k not in (key, "runs")}
        ours = current.get(reference, {"error": "missing"})
        for impl, result in current.items():
            if impl in per_round and "error" not in result and "error" not in ours:
                per_round[impl].append(ours[key] / result[key])
    failed = {impl for impl, result in results.items() if "error" in result}
    for impl, values in runs.items():
        if impl not in failed:
            results[impl] |= {key: statistics.median(values), "runs": values}
    ratios = {impl: statistics.median(v) for impl, v in per_round.items()
              if impl not in failed and v}  # fmt: skip
    return results, ratios


# -- full-batch step -------------------------------------------------------------------------


def before(suite) -> tuple[str, ...]:
    """The older checkout given with --before, as one more implementation to interleave."""
    return ("before",) if suite.before else ()


def versus_before(label: str, results: dict, ratios: dict, key: str) -> str | None:
    """A row comparing this scratchnet with the --before checkout, or None without one."""
    if "before" not in results:
        return None
    return (f"| {label} | {seconds(results['scratchnet'], key)} "
            f"| {seconds(results['before'], key)} | {times(ratios.get('before'))} |")  # fmt: skip


def before_table(rows: list[str | None]) -> list[str]:
    rows = [row for row in rows if row]
    if not rows:
        return []
    return [
        "",
        "Against the --before checkout, timed in the same rounds (scratchnet / before: the "
        "median over rounds of the ratio of the two in each round):",
        "",
        "| work | scratchnet | before | scratchnet / before |",
        "|---|---|---|---|",
        *rows,
    ]


STEP_ITERATIONS = 20  # per timed run: a fit's setup (for scratchnet, planning and copying
# its column groups: 61 ms against a 65 ms float64 step, measured with cProfile) weighs on
# short runs, never on the tutorial's 1000


def full_batch(suite) -> list[str]:
    lines_before: list[str | None] = []
    lines = [
        "## Full-batch step of the tutorial network (784-196-1 sigmoid, 12,700 images)",
        "",
        f"Time per iteration: scratchnet, PyTorch, the floor and the tutorial's code take "
        f"turns over {ROUNDS} rounds of fresh processes, each timing 3 runs of "
        f"{STEP_ITERATIONS} iterations after a warm-up run (for scratchnet, scikit-learn and "
        "the tutorial's code each run is a whole fit, its setup included); times are "
        "medians over all runs, ratios medians over the "
        "rounds. PyTorch does the same full-batch updates from the same initial "
        "weights; scikit-learn's MLPClassifier runs SGD with one batch of all rows; "
        "*tutorial* is the tutorial's own code, loaded from its text; *floor* is X @ W1 and "
        "X.T @ dZ1 done bare in NumPy over all 784 columns.",
        "",
        "| dtype | scratchnet | PyTorch | scikit-learn | tutorial | floor "
        "| scratchnet / PyTorch | scratchnet / tutorial | floor / scratchnet "
        "| peak RSS MiB (scratchnet / PyTorch / scikit-learn / tutorial) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    key = "seconds_per_step"
    for dtype in ("float64", "float32"):
        impls = ("scratchnet", "torch", "products") + (("tutorial",) if dtype == "float64" else ())
        spec = {"dtype": dtype, "iterations": STEP_ITERATIONS, "repeats": 3}
        r, ratios = interleaved(suite, "step_seconds", key, impls + before(suite), **spec)
        lines_before.append(versus_before(f"full-batch step, {dtype}", r, ratios, key))
        r["sklearn"] = suite.job("step_seconds", impl="sklearn", **spec)
        r.setdefault("tutorial", {"error": "float64 only"})
        vs_torch, vs_tutorial = ratios.get("torch"), ratios.get("tutorial")
        floor_share = 1 / ratios["products"] if "products" in ratios else None
        lines.append(
            f"| {dtype} | {seconds(r['scratchnet'], key)} | {seconds(r['torch'], key)} "
            f"| {seconds(r['sklearn'], key)} | {seconds(r['tutorial'], key)} "
            f"| {seconds(r['products'], key)} | {times(vs_torch)} | {times(vs_tutorial)} "
            f"| {times(floor_share)} | {rss(r, ('scratchnet', 'torch', 'sklearn', 'tutorial'))} |"
        )
        if dtype == "float64":
            target = "≤ 1.0x PyTorch; ≤ 0.65x the tutorial's code"
            met = at_most(vs_torch, 1.0) and at_most(vs_tutorial, 0.65)
        else:
            target = "≤ 0.8x PyTorch"
            met = at_most(vs_torch, 0.8)
        suite.summary.append([
            f"full-batch step, tutorial network, {dtype}", seconds(r["scratchnet"], key),
            seconds(r["torch"], key), seconds(r["sklearn"], key), times(vs_torch),
            times(floor_share), target, verdict(met),
        ])  # fmt: skip
    return lines + before_table(lines_before)


# -- the tutorial's run and its memory --------------------------------------------------------


def tutorial_run(suite) -> list[str]:
    """The float32 run in full; the float64 run for its memory (its exact numbers are in
    the test suite, its speed in the full-batch section), in full with --full."""
    long = 1000 if suite.full else 20
    runs = {("scratchnet", "float32"): 1000, ("scratchnet", "float64"): long}
    if suite.full:
        runs["tutorial", "float64"] = 1000
    results = {("scratchnet", "float32"): suite.job("full_run", impl="scratchnet",
                                                    dtype="float32", iterations=1000)}  # fmt: skip
    doubles, ratio_to_tutorial = _float64_runs(suite, long)
    results |= doubles
    baseline = suite.job("baseline_rss")
    lines = [
        "## The tutorial's run end to end",
        "",
        f"The float64 runs of scratchnet and of the tutorial's code take turns over {ROUNDS} "
        "rounds of fresh processes (with --full; without it scratchnet's runs once): times "
        "are medians, peak RSS the highest of the rounds. The float32 run runs once.",
        "",
        "| implementation | dtype | iterations | fit time | cost @ 0 | cost @ 900 "
        "| train correct | test correct | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (impl, dtype), result in results.items():
        if "error" in result:
            lines.append(f"| {impl} | {dtype} | error: {result['error']} |||||||")
            continue
        costs = result["costs"]
        late = f"{costs[9]:.15g}" if len(costs) > 9 else "(not reached)"
        lines.append(
            f"| {impl} | {dtype} | {runs[impl, dtype]} | {result['seconds']:.1f} s "
            f"| {costs[0]:.15g} | {late} | {result['train_correct']}/12700 "
            f"| {result['test_correct']}/2167 | {result['peak_rss_mb']:.0f} MiB |"
        )
    single, double = results["scratchnet", "float32"], results["scratchnet", "float64"]
    if "error" not in single:
        gap = max(abs(single["train_correct"] - TUTORIAL_CORRECT[0]) / 12700,
                  abs(single["test_correct"] - TUTORIAL_CORRECT[1]) / 2167)  # fmt: skip
        suite.summary.append([
            "tutorial run in float32, 1000 iterations",
            f"{single['seconds']:.1f} s, {single['train_correct']}/12700 and "
            f"{single['test_correct']}/2167 correct", "", "", "", "",
            "within 0.1 points of float64's 12557 and 2151", verdict(gap <= 0.001),
        ])  # fmt: skip
    if suite.full and "error" not in double:
        exact = (
            all(
                math.isclose(got, want, rel_tol=1e-9)
                for got, want in zip(
                    (double["costs"][0], double["costs"][9]), TUTORIAL_COSTS, strict=True
                )
            )
            and (double["train_correct"], double["test_correct"]) == TUTORIAL_CORRECT
        )
        tutorial = results["tutorial", "float64"]
        against = (
            ""
            if "error" in tutorial or ratio_to_tutorial is None
            else f" (the tutorial's code: {tutorial['seconds']:.1f} s, "
            f"{ratio_to_tutorial:.2f}x; medians of {ROUNDS} interleaved runs each)"
        )
        suite.summary.append([
            "tutorial run in float64, 1000 iterations", f"{double['seconds']:.1f} s{against}",
            "", "", "", "", "the tutorial's costs and accuracies", verdict(exact),
        ])  # fmt: skip
    if "error" not in double and "error" not in baseline:
        used = double["peak_rss_mb"] - baseline["peak_rss_mb"]
        bare = double["peak_rss_mb"] - baseline["bare_peak_rss_mb"]
        share = used / TRAINING_MATRIX_MIB
        suite.summary.append([
            "peak memory of the float64 tutorial run, above interpreter and libraries",
            f"{used:.0f} MiB ({share:.2f}x the {TRAINING_MATRIX_MIB:.0f} MiB training matrix; "
            f"above NumPy alone {bare:.0f} MiB, {bare / TRAINING_MATRIX_MIB:.2f}x)",
            "", "", "", "", "≤ 2.0x the training matrix", verdict(share <= 2.0),
        ])  # fmt: skip
        lines += [
            "",
            f"The interpreter with NumPy and the modules of scratchnet the run uses imported "
            f"(with the libraries they import: NumPy's random generators among them) peaks "
            f"at {baseline['peak_rss_mb']:.0f} MiB, with NumPy alone at "
            f"{baseline['bare_peak_rss_mb']:.0f} MiB; the float64 training matrix is "
            f"{TRAINING_MATRIX_MIB:.1f} MiB. Peak RSS covers loading and decompressing the "
            "files, preprocessing, training and scoring.",
        ]
    return lines


def _float64_runs(suite, iterations: int) -> tuple[dict, float | None]:
    """The float64 run of scratchnet and (with --full) the tutorial's code, taking turns
    over ROUNDS rounds: each one's result with its median time and its highest peak RSS,
    and the median over rounds of scratchnet's time over the tutorial's (None without)."""
    impls = ("scratchnet", "tutorial") if suite.full else ("scratchnet",)
    runs: dict[str, list[dict]] = {impl: [] for impl in impls}
    for _ in range(ROUNDS if suite.full else 1):
        for impl in impls:
            runs[impl].append(suite.job("full_run", impl=impl, dtype="float64",
                                        iterations=iterations))  # fmt: skip
    results = {(impl, "float64"): _median_of_runs(done) for impl, done in runs.items()}
    paired = [a["seconds"] / b["seconds"] for a, b in zip(*runs.values(), strict=True)
              if "error" not in a and "error" not in b] if suite.full else []  # fmt: skip
    return results, statistics.median(paired) if paired else None


def _median_of_runs(runs: list[dict]) -> dict:
    """The last run with the median time of all and the highest peak RSS of all (or the
    first error)."""
    errors = [run for run in runs if "error" in run]
    if errors:
        return errors[0]
    return runs[-1] | {"seconds": statistics.median(run["seconds"] for run in runs),
                       "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}  # fmt: skip


# -- mini-batch training ----------------------------------------------------------------------

MINIBATCH_TARGETS = {(256,): 0.7, (512, 256): 1.0}


def minibatch(suite) -> list[str]:
    lines = [
        "## Mini-batch training: one epoch over all 60,000 images",
        "",
        "Batch 128, Adam (lr 0.001), ReLU, He initialisation, float32. scratchnet and PyTorch "
        f"alternate over {ROUNDS} rounds of fresh processes, 3 epochs each after a warm-up "
        "epoch; the times are medians over all those epochs and the ratio is the median of "
        "the rounds' ratios. PyTorch draws batches by indexing a preloaded tensor with a "
        "fresh permutation (faster than a DataLoader). scikit-learn's MLPClassifier (one "
        "process) is timed by its fit time over its epochs. *floor*: each layer's forward, "
        "weight-gradient and (above the first) gradient-carrying products of every batch, "
        "bare in NumPy.",
        "",
        "| network | scratchnet | PyTorch | scikit-learn | floor | scratchnet / PyTorch "
        "| floor / scratchnet | peak RSS MiB (scratchnet / PyTorch / scikit-learn) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    key = "seconds_per_epoch"
    lines_before: list[str | None] = []
    for hidden, limit in MINIBATCH_TARGETS.items():
        spec = {"hidden": list(hidden), "epochs": 3}
        impls = ("scratchnet", "torch", "floor", *before(suite))
        r, ratios = interleaved(suite, "epoch_seconds", key, impls, **spec)
        r["sklearn"] = suite.job("epoch_seconds", impl="sklearn", **spec)
        name = "784-" + "-".join(map(str, hidden)) + "-10"
        lines_before.append(versus_before(f"mini-batch epoch, {name}", r, ratios, key))
        vs_torch = ratios.get("torch")
        floor_share = 1 / ratios["floor"] if "floor" in ratios else None
        lines.append(
            f"| {name} | {seconds(r['scratchnet'], key)} | {seconds(r['torch'], key)} "
            f"| {seconds(r['sklearn'], key)} | {seconds(r['floor'], key)} | {times(vs_torch)} "
            f"| {times(floor_share)} | {rss(r)} |"
        )
        suite.summary.append([
            f"mini-batch epoch, {name}, batch 128, Adam", seconds(r["scratchnet"], key),
            seconds(r["torch"], key), seconds(r["sklearn"], key), times(vs_torch),
            times(floor_share), f"≤ {limit}x PyTorch", verdict(at_most(vs_torch, limit)),
        ])  # fmt: skip
    return lines + before_table(lines_before)


def blas_kernels(suite) -> list[str]:
    """The same mini-batch comparison with OpenBLAS choosing its kernels for this CPU."""
    configured = os.environ.get("OPENBLAS_CORETYPE")
    if not configured:
        return []
    lines = [
        "## With OpenBLAS's own kernels for this CPU",
        "",
        f"This machine's environment sets OPENBLAS_CORETYPE={configured}, which pins NumPy's "
        "OpenBLAS to those kernels even on a CPU with AVX-512 (PyTorch's MKL is not affected). "
        "Here the mini-batch comparison runs again with the variable unset, so OpenBLAS picks "
        "the kernels it would pick on its own; every other section keeps the environment as "
        "it is.",
        "",
        "| network | scratchnet | PyTorch | scratchnet / PyTorch |",
        "|---|---|---|---|",
    ]
    key = "seconds_per_epoch"
    for hidden in MINIBATCH_TARGETS:
        r, ratios = interleaved(
            suite, "epoch_seconds", key, ("scratchnet", "torch"), rounds=2,
            unset=("OPENBLAS_CORETYPE",), hidden=list(hidden), epochs=3,
        )  # fmt: skip
        name = "784-" + "-".join(map(str, hidden)) + "-10"
        lines.append(f"| {name} | {seconds(r['scratchnet'], key)} | {seconds(r['torch'], key)} "
                     f"| {times(ratios.get('torch'))} |")  # fmt: skip

    return lines


# -- time to accuracy -------------------------------------------------------------------------


def time_to_accuracy(suite) -> list[str]:
    recipe = PRESETS["one-two-fast"]
    r = {impl: suite.job("time_to_accuracy", impl=impl, repeats=3)
         for impl in ("scratchnet", "torch", "sklearn")}  # fmt: skip
    ok = None
    if "error" not in r["scratchnet"]:
        ok = r["scratchnet"]["test_accuracy"] >= 0.996 and r["scratchnet"]["fit_seconds"] <= 0.5
    suite.summary.append([
        "time to accuracy, digits 1 vs 2", accuracy_in(r["scratchnet"]), accuracy_in(r["torch"]),
        accuracy_in(r["sklearn"]), times(ratio(r["scratchnet"], r["torch"], "fit_seconds")), "",
        "≥ 99.6% in ≤ 0.5 s", verdict(ok),
    ])  # fmt: skip
    return [
        "## Time to accuracy, digits 1 vs 2",
        "",
        f"`scratchnet train --preset one-two-fast`: {recipe.description}. PyTorch trains the "
        "same recipe; scikit-learn runs MLPClassifier with its default settings (100 ReLU units, "
        "Adam, batches of 200, until its loss stops improving). Median fit time of 3 runs.",
        "",
        "| | scratchnet | PyTorch | scikit-learn |",
        "|---|---|---|---|",
        "| test accuracy and fit time | "
        + " | ".join(accuracy_in(r[i]) for i in ("scratchnet", "torch", "sklearn"))
        + " |",
    ]


# -- prediction -------------------------------------------------------------------------------


def predict(suite) -> list[str]:
    lines = [
        "## Prediction: labels of the 10,000 test images",
        "",
        f"float32; {suite.repeats + 2} calls after a warm-up call in each process, scratchnet "
        f"and PyTorch alternating over {ROUNDS} rounds (medians as for mini-batch training). "
        "PyTorch runs the same network in inference mode and takes the argmax.",
        "",
        "| network | scratchnet | PyTorch | scikit-learn | scratchnet / PyTorch "
        "| peak RSS MiB (scratchnet / PyTorch / scikit-learn) |",
        "|---|---|---|---|---|---|",
    ]
    for hidden in ([256], [512, 256]):
        spec = {"hidden": hidden, "dtype": "float32", "repeats": suite.repeats + 2}
        r, ratios = interleaved(
            suite, "predict_seconds", "seconds", ("scratchnet", "torch"), **spec
        )
        r["sklearn"] = suite.job("predict_seconds", impl="sklearn", **spec)
        name = "784-" + "-".join(map(str, hidden)) + "-10"
        vs_torch = ratios.get("torch")
        lines.append(
            f"| {name} | {seconds(r['scratchnet'], 'seconds')} | {seconds(r['torch'], 'seconds')} "
            f"| {seconds(r['sklearn'], 'seconds')} | {times(vs_torch)} | {rss(r)} |"
        )
        suite.summary.append([
            f"predict 10,000 images, {name}", seconds(r["scratchnet"], "seconds"),
            seconds(r["torch"], "seconds"), seconds(r["sklearn"], "seconds"), times(vs_torch), "",
            "≤ 1.0x PyTorch", verdict(at_most(vs_torch, 1.0)),
        ])  # fmt: skip
    return lines


# -- scaling ----------------------------------------------------------------------------------


def scaling(suite) -> list[str]:
    ours, floor = (suite.job("scaling", impl=impl, epochs=1) for impl in ("scratchnet", "floor"))
    if "error" in ours or "error" in floor:
        return ["## Scaling", "", f"error: {ours.get('error') or floor.get('error')}"]
    cells = {(c["samples"], c["width"]): c["seconds"] for c in ours["cells"]}
    floors = {(c["samples"], c["width"]): c["seconds"] for c in floor["cells"]}
    lines = [
        "## Scaling: seconds per epoch (784-h-10, batch 128, Adam, float32)",
        "",
        "One epoch after a warm-up epoch. *per 1000 samples* stays flat when the cost "
        "is linear in the number of samples. *floor* is the bare matrix products of the same "
        "epoch and *floor share* their part of it; the rest is the optimizer, the element-wise "
        "work and Python's per-step overhead. Where the share passes one half, the products "
        "dominate.",
        "",
        "| samples | hidden | epoch | per 1000 samples | floor | floor share |",
        "|---|---|---|---|---|---|",
    ]
    grid = [(n, 256) for n in SCALING_SAMPLES] + [(60_000, w) for w in SCALING_WIDTHS if w != 256]
    for samples, width in grid:
        epoch, bare = cells[samples, width], floors[samples, width]
        lines.append(
            f"| {samples:,} | {width} | {epoch * 1e3:.1f} ms | {epoch / samples * 1e6:.2f} ms "
            f"| {bare * 1e3:.1f} ms | {bare / epoch:.0%} |"
        )
    lines += ["", f"Peak RSS of the whole grid: {ours['peak_rss_mb']:.0f} MiB (scratchnet), "
              f"{floor['peak_rss_mb']:.0f} MiB (floor)."]  # fmt: skip
    per_sample = [cells[n, 256] / n for n in SCALING_SAMPLES]
    crossover = next(
        (w for w in SCALING_WIDTHS if floors[60_000, w] / cells[60_000, w] >= 0.5), None
    )
    suite.summary.append([
        "scaling with samples (1k to 60k) and width (64 to 2048)",
        f"{min(per_sample) * 1e6:.2f}-{max(per_sample) * 1e6:.2f} ms per 1000 samples; "
        f"products dominate from width {crossover}", "", "", "", "",
        "linear in samples; table below", verdict(max(per_sample) / min(per_sample) < 1.5),
    ])  # fmt: skip
    return lines


# -- recipes ----------------------------------------------------------------------------------

RECIPE_TARGETS = {"one-two": 0.997, "all-digits": 0.985}


def recipes(suite) -> list[str]:
    lines = [
        "## Recipes: accuracy and training time",
        "",
        "Each recipe once per implementation, with the preset's seed. scratchnet runs exactly "
        "what the command runs (including measuring the test set after every epoch for the "
        "curves); PyTorch trains the same layers, initialisation, dropout, optimizer, batch "
        "size, schedule and epochs; scikit-learn's MLPClassifier the same layers, optimizer, "
        "batch size and epochs (it has no dropout and no cosine schedule).",
        "",
        "| recipe | command | scratchnet | PyTorch | scikit-learn | time scratchnet / PyTorch "
        "| peak RSS MiB (scratchnet / PyTorch / scikit-learn) |",
        "|---|---|---|---|---|---|---|",
    ]
    for preset, goal in RECIPE_TARGETS.items():
        r = {impl: suite.job("recipe", impl=impl, preset=preset)
             for impl in ("scratchnet", "torch", "sklearn")}  # fmt: skip
        speed = ratio(r["scratchnet"], r["torch"], "fit_seconds")
        lines.append(
            f"| {PRESETS[preset].description} | `scratchnet train --preset {preset}` "
            f"| {accuracy_in(r['scratchnet'])} | {accuracy_in(r['torch'])} "
            f"| {accuracy_in(r['sklearn'])} | {times(speed)} | {rss(r)} |"
        )
        ok = None if "error" in r["scratchnet"] else r["scratchnet"]["test_accuracy"] >= goal
        if preset == "all-digits" and ok is not None:
            ok = ok and at_most(speed, 1.0)
        target = f"≥ {goal:.1%} test accuracy" + (
            ", time ≤ PyTorch's" if preset == "all-digits" else ""
        )
        suite.summary.append([
            f"recipe `{preset}`", accuracy_in(r["scratchnet"]), accuracy_in(r["torch"]),
            accuracy_in(r["sklearn"]), times(speed), "", target, verdict(ok),
        ])  # fmt: skip
    return lines


# -- issue 13: a busy machine, augmentation, time to 98%, the best recipe ----------------------

BUSY_LIMIT = 2.0


def idle_and_busy(suite, impls: tuple[str, ...]) -> tuple[dict, dict]:
    """For each implementation, the 784-256-10 epoch's median time idle and beside a busy
    core ({"idle", "busy"}, or its error), and its slowdown: the median over rounds of
    busy over idle."""
    key = "seconds_per_epoch"
    results, ratios = {}, {}
    for impl in impls:
        idle_runs, busy_runs = [], []
        for _ in range(ROUNDS):  # idle and busy take turns, so a drift reaches both
            idle = suite.job("busy_epoch_seconds", impl=impl, hidden=[256], epochs=3, busy=False)
            busy = suite.job("busy_epoch_seconds", impl=impl, hidden=[256], epochs=3, busy=True)
            if "error" in idle or "error" in busy:
                results[impl] = idle if "error" in idle else busy
                break
            idle_runs.append(idle[key])
            busy_runs.append(busy[key])
        else:
            results[impl] = {"idle": statistics.median(idle_runs),
                             "busy": statistics.median(busy_runs)}  # fmt: skip
            pairs = zip(busy_runs, idle_runs, strict=True)
            ratios[impl] = statistics.median(busy / idle for busy, idle in pairs)
    return results, ratios


def idle_and_busy_row(label: str, result: dict | None, slowdown: float | None) -> str:
    """A table row of ``idle_and_busy``'s result for one implementation: idle, busy and
    slowdown, or its error."""
    result = result or {"error": "missing"}
    if "error" in result:
        return f"| {label} | error: {result['error']} | | |"
    return (f"| {label} | {result['idle'] * 1e3:.1f} ms | {result['busy'] * 1e3:.1f} ms "
            f"| {times(slowdown)} |")  # fmt: skip


def busy_machine(suite) -> list[str]:
    """The 784-256-10 Adam epoch idle and beside a process spinning on one core."""
    results, ratios = idle_and_busy(suite, ("scratchnet", "torch"))
    lines = [
        "## Training beside a busy process",
        "",
        "One epoch of 784-256-10, batch 128, Adam, float32: idle, and while another process "
        "spins on one core (`python -c 'while True: pass'`). Idle and busy runs take turns "
        f"over {ROUNDS} rounds of fresh processes; *slowdown* is the median over rounds of "
        "busy over idle.",
        "",
        "| implementation | idle | busy | slowdown |",
        "|---|---|---|---|",
    ]
    for impl, label in (("scratchnet", "scratchnet"), ("torch", "PyTorch")):
        lines.append(idle_and_busy_row(label, results.get(impl), ratios.get(impl)))
    ours, theirs = ratios.get("scratchnet"), ratios.get("torch")
    suite.summary.append([
        "784-256-10 epoch beside a busy core, slowdown over idle", times(ours), times(theirs),
        "", "", "", f"≤ {BUSY_LIMIT}x its idle time", verdict(at_most(ours, BUSY_LIMIT)),
    ])  # fmt: skip
    return lines


# -- what the missed targets would need ------------------------------------------------------

STEPS_PER_EPOCH = math.ceil(60_000 / 128)  # the 784-256-10 epoch's batches of 128


def limits(suite) -> list[str]:
    """The two missed speed targets against the work they cannot skip, timed bare in the
    same rounds as PyTorch."""
    return [
        "## What the two missed targets would need",
        "",
        "The 784-256-10 Adam epoch misses 0.7x PyTorch's time and time to 98.0% misses "
        "half of PyTorch's. Here each is set against the work it cannot skip, done bare and "
        "timed in the same rounds as PyTorch.",
        "",
        *_epoch_limits(suite),
        "",
        *_time_to_98_limits(suite),
    ]


EPOCH_WORK = {
    "torch": "PyTorch: the whole epoch",
    "scratchnet": "scratchnet: the whole epoch",
    "parts_update_floor": "the products in scratchnet's fixed parts, then the parts' "
    "gradients added and the Adam update",
    "parts_floor": "the products alone, in scratchnet's fixed parts: two row halves side by "
    "side, one BLAS thread each",
    "floor": "the products alone, on two BLAS threads over whole batches",
}


def _epoch_limits(suite) -> list[str]:
    key = "seconds_per_epoch"
    limit = MINIBATCH_TARGETS[(256,)]
    r, ratios = interleaved(suite, "epoch_seconds", key, tuple(EPOCH_WORK), reference="torch",
                            hidden=[256], epochs=3)  # fmt: skip
    lines = [
        "### The 784-256-10 epoch",
        "",
        f"Batch 128, Adam, float32, as in the mini-batch section; the five take turns over "
        f"{ROUNDS} rounds of fresh processes, 3 epochs each after a warm-up epoch. The "
        "products are each batch's forward, weight-gradient and gradient-carrying products "
        "on random weights; */ PyTorch* is the median over rounds of the ratio to PyTorch's "
        "epoch in the same round.",
        "",
        "| work | per epoch | per step | / PyTorch |",
        "|---|---|---|---|",
    ]
    for impl, label in EPOCH_WORK.items():
        if "error" in r.get(impl, {"error": "missing"}):
            lines.append(f"| {label} | error: {r.get(impl, {}).get('error', 'missing')} | | |")
            continue
        share = 1.0 if impl == "torch" else 1 / ratios[impl]
        per_step = r[impl][key] / STEPS_PER_EPOCH
        lines.append(f"| {label} | {seconds(r[impl], key)} | {per_step * 1e3:.2f} ms "
                     f"| {times(share)} |")  # fmt: skip
    if not any("error" in r[impl] for impl in ("torch", "scratchnet", "parts_update_floor")):
        budget = (limit * r["torch"][key] - r["parts_update_floor"][key]) / STEPS_PER_EPOCH
        spent = (r["scratchnet"][key] - r["parts_update_floor"][key]) / STEPS_PER_EPOCH
        left = (f"would leave {budget * 1e3:.2f} ms per step" if budget > 0 else
                f"already takes {-budget * 1e3:.2f} ms per step more, leaving nothing")  # fmt: skip
        lines += [
            "",
            f"At {limit}x PyTorch's median epoch, {limit * r['torch'][key] * 1e3:.0f} ms, the "
            f"median of the fixed parts' products and update {left} for everything else: "
            "gathering the batch, the activations, the loss and its gradient, the bias "
            f"gradients and the loop itself, on which scratchnet spends {spent * 1e3:.2f} ms "
            "per step. By the median of the rounds' ratios, the products and update take "
            f"{times(1 / ratios['parts_update_floor'])} of PyTorch's epoch.",
        ]
    return [*lines, "", *_two_blas_threads(suite)]


def _two_blas_threads(suite) -> list[str]:
    """Why the faster products on two BLAS threads are not the answer: a busy core stalls
    them, and their bits depend on the thread count."""
    results, slowdowns = idle_and_busy(suite, ("floor", "parts_floor"))
    bits = suite.job("blas_bits")
    lines = [
        "The products are faster on two BLAS threads, but scratchnet cuts batches into fixed "
        "parts for two other promises: an epoch beside a busy core takes at most twice its "
        "idle time, and the bits do not depend on the number of threads. The same products "
        "idle and beside a process spinning on one core (as in the busy-machine section):",
        "",
        "| products | idle | busy | slowdown |",
        "|---|---|---|---|",
    ]
    for impl in ("floor", "parts_floor"):
        label = EPOCH_WORK[impl].removeprefix("the products alone, ")
        lines.append(idle_and_busy_row(label, results.get(impl), slowdowns.get(impl)))
    if "error" in bits:
        return [*lines, "", f"Bits on one and two BLAS threads: error: {bits['error']}"]
    same = {True: "the same bits", False: "different bits"}
    return [
        *lines,
        "",
        "One part's products (64 MNIST rows, 784-256) on one BLAS thread and on two: "
        f"x @ W_1 gives {same[bits['forward_same']]}, x.T @ delta gives "
        f"{same[bits['gradient_same']]}.",
    ]


BARE_WORK = ("products", "updates")  # the time_to_98 jobs of the bare work


def _time_to_98_limits(suite) -> list[str]:
    from .time_to_98 import GOAL, TORCH_SETTINGS

    per_round = {(part, setting): [] for part in (*BARE_WORK, "both") for setting in TORCH_SETTINGS}
    last: dict[tuple[str, str], dict] = {}
    for _ in range(ROUNDS):  # PyTorch and the bare work take turns
        for setting in TORCH_SETTINGS:
            for impl in ("torch", *BARE_WORK):
                last[impl, setting] = suite.job("time_to_98", impl=impl, setting=setting)
            runs = [last[impl, setting] for impl in ("torch", *BARE_WORK)]
            if any("error" in run for run in runs):
                continue
            theirs, products, updates = (run["fit_seconds"] for run in runs)
            per_round["products", setting].append(products / theirs)
            per_round["updates", setting].append(updates / theirs)
            per_round["both", setting].append((products + updates) / theirs)
    columns = next((r["columns"] for r in last.values() if "columns" in r), "active")
    lines = [
        "### Time to 98.0%",
        "",
        "PyTorch always tries the preset's own setting, so whatever setting a preset uses, "
        "scratchnet's time over PyTorch's fastest is at least the time of that setting's "
        "bare work over PyTorch's time on it. *products*: the whole training's essential "
        "matrix products in NumPy on two BLAS threads, over only the "
        f"{columns} input columns that are not zero in every training image; *Adam "
        "updates*: scratchnet's Adam update after every batch (every setting uses Adam), "
        "alone: its element-wise work over flat halves side by side, as in training, from "
        "one gradient (training first adds its parts') that stays zero. The two follow each "
        "other at every step, so with NumPy's products and scratchnet's Adam a step takes at "
        "least their sum. PyTorch's settings as in the "
        f"time-to-98% section; PyTorch and the bare work take turns over {ROUNDS} rounds; "
        "times are of the last round, ratios medians over rounds.",
        "",
        "| setting | PyTorch | products | Adam updates | products / PyTorch "
        "| (products + Adam updates) / PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    reaching = []
    for setting in TORCH_SETTINGS:
        runs = [last[impl, setting] for impl in ("torch", *BARE_WORK)]
        if not per_round["both", setting] or any("error" in run for run in runs):
            error = next((run["error"] for run in runs if "error" in run), "no round completed")
            lines.append(f"| {setting} | error: {error} | | | | |")
            continue
        products, both = (statistics.median(per_round[part, setting])
                          for part in ("products", "both"))  # fmt: skip
        if runs[0]["test_accuracy"] >= GOAL:
            reaching.append(both)
        lines.append(f"| {setting} | {accuracy_in(runs[0])} | {runs[1]['fit_seconds']:.2f} s "
                     f"| {runs[2]['fit_seconds']:.2f} s | {times(products)} "
                     f"| {times(both)} |")  # fmt: skip
    if reaching:
        lines += [
            "",
            "Of the settings on which PyTorch reaches 98.0%, the bare products and Adam "
            f"updates take at least {times(min(reaching))} of PyTorch's time; the goal is "
            "0.5x.",
        ]
    return lines


AUGMENT_LIMIT = 0.30


def augmentation(suite) -> list[str]:
    """Augmentation's share of the best recipe's epoch, and NumPy against SciPy."""
    share = suite.job("augment_share", preset="best", epochs=2)
    sampled, ratios = interleaved(suite, "sampling_seconds", "seconds",
                                  ("scratchnet", "scipy"), repeats=5)  # fmt: skip
    lines = [
        "## Data augmentation: its cost",
        "",
        "Two epochs of the `best` recipe with its distortions, timing every call that "
        "distorts a batch (drawing the affine maps and the elastic field, and sampling the "
        "images). And the bilinear sampling of a batch of 128 images at random points, "
        "scratchnet's NumPy code against SciPy's `ndimage.map_coordinates(order=1, "
        "mode='grid-constant')`, which computes the same values.",
        "",
    ]
    if "error" in share:
        lines.append(f"augment_share: error: {share['error']}")
    else:
        lines += [
            "| epoch | distorting | share |",
            "|---|---|---|",
            f"| {share['epoch_seconds']:.2f} s | {share['augment_seconds']:.2f} s "
            f"| {share['share']:.1%} |",
        ]
        suite.summary.append([
            "augmentation's share of a `best` epoch", f"{share['share']:.1%}", "", "", "", "",
            f"≤ {AUGMENT_LIMIT:.0%}", verdict(share["share"] <= AUGMENT_LIMIT),
        ])  # fmt: skip
    lines += [
        "",
        "| sampling 128 images | NumPy (scratchnet) | SciPy map_coordinates | NumPy / SciPy |",
        "|---|---|---|---|",
        f"| median of {ROUNDS} rounds | {seconds(sampled['scratchnet'], 'seconds')} "
        f"| {seconds(sampled['scipy'], 'seconds')} | {times(ratios.get('scipy'))} |",
    ]
    return lines


def time_to_98(suite) -> list[str]:
    from .time_to_98 import GOAL, PRESET, SKLEARN_SETTINGS, TORCH_SETTINGS

    entries = [("scratchnet", "preset"), *(("torch", s) for s in TORCH_SETTINGS),
               *(("sklearn", s) for s in SKLEARN_SETTINGS)]  # fmt: skip
    rounds = _rounds_of_time_to_98(suite, entries)
    lines = [
        "## Time to 98.0% test accuracy, all ten digits",
        "",
        f"`scratchnet train --preset {PRESET}` ({PRESETS[PRESET].description}), as the command "
        "runs it. PyTorch and scikit-learn each try a few reasonable settings, the preset's "
        "own among them (PyTorch's with its dropout). Every run takes its turn in each of "
        f"{ROUNDS} rounds of fresh processes; a setting reaches 98.0% when it does in every "
        "round (*test accuracy*: its lowest), and its time is the median over rounds. In each "
        "round an implementation's fastest run of the settings that reach 98.0% counts; "
        "*scratchnet / PyTorch* is the median over rounds of the ratio of the two.",
        "",
        "| implementation | setting | test accuracy | fit time | reaches 98.0% |",
        "|---|---|---|---|---|",
    ]
    reaching = set()
    for impl, setting in entries:
        runs = rounds[impl, setting]
        if any("error" in run for run in runs):
            error = next(run["error"] for run in runs if "error" in run)
            lines.append(f"| {impl} | {setting} | error: {error} | | |")
            continue
        lowest = min(run["test_accuracy"] for run in runs)
        median = statistics.median(run["fit_seconds"] for run in runs)
        if lowest >= GOAL:
            reaching.add((impl, setting))
        lines.append(f"| {impl} | {setting} | {lowest:.2%} | {median:.2f} s "
                     f"| {'yes' if lowest >= GOAL else 'no'} |")  # fmt: skip
    fastest = {}
    for impl in ("scratchnet", "torch", "sklearn"):
        mine = [entry for entry in entries if entry in reaching and entry[0] == impl]
        fastest[impl] = _fastest_by_round(rounds, mine)
    ours, theirs = fastest["scratchnet"], fastest["torch"]
    per_round = [a["fit_seconds"] / b["fit_seconds"]
                 for a, b in zip(ours, theirs, strict=True)] if ours and theirs else []  # fmt: skip
    speed = statistics.median(per_round) if per_round else None
    shown = {impl: _median_run(runs) for impl, runs in fastest.items()}
    suite.summary.append([
        "time to 98.0%, all ten digits", accuracy_in(shown["scratchnet"]),
        accuracy_in(shown["torch"]), accuracy_in(shown["sklearn"]), times(speed), "",
        "≥ 98.0%; goal: ≤ 0.5x PyTorch's time", verdict(at_most(speed, 0.5)),
    ])  # fmt: skip
    return lines


def _rounds_of_time_to_98(suite, entries: list[tuple[str, str]]) -> dict:
    """Each (implementation, setting) run once per round, in turn: their results by round."""
    rounds: dict[tuple[str, str], list[dict]] = {entry: [] for entry in entries}
    for _ in range(ROUNDS):
        for impl, setting in entries:
            spec = "" if impl == "scratchnet" else setting
            rounds[impl, setting].append(suite.job("time_to_98", impl=impl, setting=spec))
    return rounds


def _fastest_by_round(rounds: dict, entries: list[tuple[str, str]]) -> list[dict]:
    """In each round, the fastest run of ``entries`` (settings that reach the goal in
    every round); no rounds when there are none."""
    if not entries:
        return []
    return [min((rounds[entry][k] for entry in entries), key=lambda run: run["fit_seconds"])
            for k in range(ROUNDS)]  # fmt: skip


def _median_run(runs: list[dict]) -> dict:
    """The run of median time among ``runs`` (the lower middle one), or an error when
    there are none."""
    if not runs:
        return {"error": "no setting reached 98.0%"}
    return sorted(runs, key=lambda run: run["fit_seconds"])[(len(runs) - 1) // 2]


BEST_SEEDS = (0, 1, 2)
BEST_GOAL, BEST_MINUTES = 0.993, 15


def best(suite) -> list[str]:
    """The best recipe over three seeds, and the same network without augmentation."""
    recipe = PRESETS["best"]
    runs = {seed: suite.job("recipe", impl="scratchnet", preset="best", seed=seed)
            for seed in BEST_SEEDS}  # fmt: skip
    plain = suite.job("recipe", impl="scratchnet", preset="best", augment="none",
                      seed=BEST_SEEDS[0])  # fmt: skip
    lines = [
        "## The best recipe: all ten digits with a plain MLP",
        "",
        f"`scratchnet train --preset best --seed S`: {recipe.description}. Validation comes "
        "from a held-out part of the training set; the test set decides nothing. Three seeds, "
        f"and the same network without augmentation (`--augment none`, seed {BEST_SEEDS[0]}).",
        "",
        "| run | test accuracy | fit time |",
        "|---|---|---|",
    ]
    accuracies, times_taken = [], []
    for seed, result in runs.items():
        lines.append(f"| seed {seed} | {accuracy_in(result)} |")
        if "error" not in result:
            accuracies.append(result["test_accuracy"])
            times_taken.append(result["fit_seconds"])
    lines.append(f"| seed {BEST_SEEDS[0]}, no augmentation | {accuracy_in(plain)} |")
    if len(accuracies) == len(BEST_SEEDS):
        mean = statistics.mean(accuracies)
        slowest = max(times_taken) / 60
        lines += ["", f"Mean {mean:.2%}, from {min(accuracies):.2%} to {max(accuracies):.2%}; "
                  f"the slowest run took {slowest:.1f} min."]  # fmt: skip
        suite.summary.append([
            "recipe `best`, 3 seeds", f"{mean:.2%} mean ({min(accuracies):.2%}-"
            f"{max(accuracies):.2%}), up to {slowest:.1f} min", "", "", "", "",
            f"≥ {BEST_GOAL:.1%} test accuracy in ≤ {BEST_MINUTES} min",
            verdict(min(accuracies) >= BEST_GOAL and slowest <= BEST_MINUTES),
        ])  # fmt: skip
    return lines


# -- scikit-learn estimators ------------------------------------------------------------------


def estimators(suite) -> list[str]:
    from .estimators import DATASETS, FOLDS

    lines = [
        "## scikit-learn estimators against MLPClassifier and MLPRegressor",
        "",
        f"`ScratchNetClassifier` / `ScratchNetRegressor` and scikit-learn's MLPs, {FOLDS}-fold "
        "cross-validated (shuffled folds, the same for both) on data no one here made: "
        "scikit-learn's bundled digits (1,797 8x8 images, ten classes) and diabetes (442 "
        "patients, a disease-progression score), and the 60,000 MNIST training images (ten "
        "digits, float32). Both train the same hidden layers for the same epochs with their "
        "own defaults otherwise (both ReLU, Adam lr 0.001, batches of 200); MLP*'s stop on a "
        "stalled training loss is switched off so that both run every epoch. Digits and "
        "diabetes features are standardised in the pipeline, the diabetes target too "
        "(TransformedTargetRegressor), the same way for both. *fit time*: the folds' fit "
        f"times summed, median over {ROUNDS} rounds in which the two take turns in fresh "
        "processes; the ratio is the median of the rounds' ratios.",
        "",
        "| data | task | hidden, epochs | scratchnet score | scikit-learn score "
        "| scratchnet fit time | scikit-learn fit time | time scratchnet / scikit-learn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    key = "fit_seconds"
    for dataset, (task, hidden, epochs) in DATASETS.items():
        r, ratios = interleaved(suite, "cv_score", key, ("scratchnet", "sklearn"), dataset=dataset)
        metric = "accuracy" if task == "classification" else "R²"
        scores = [_score(r[impl], metric) for impl in ("scratchnet", "sklearn")]
        speed = ratios.get("sklearn")
        lines.append(
            f"| {dataset} | {task} | {hidden}, {epochs} | {scores[0]} | {scores[1]} "
            f"| {seconds(r['scratchnet'], key)} | {seconds(r['sklearn'], key)} | {times(speed)} |"
        )
        ok = None
        if "error" not in r["scratchnet"] and "error" not in r["sklearn"] and speed is not None:
            ok = r["scratchnet"]["score"] >= r["sklearn"]["score"] and speed < 1
        suite.summary.append([
            f"{FOLDS}-fold CV, {dataset} ({task}), estimators vs MLP*",
            f"{scores[0]}, {seconds(r['scratchnet'], key)}", "",
            f"{scores[1]}, {seconds(r['sklearn'], key)}", "", "",
            "score ≥ scikit-learn's, time < scikit-learn's", verdict(ok),
        ])  # fmt: skip
    return lines


def _score(result: dict, metric: str) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    return f"{result['score']:.2%}" if metric == "accuracy" else f"{metric} {result['score']:.4f}"


# -- profile ----------------------------------------------------------------------------------


def profile(suite) -> list[str]:
    from .profile import BUCKETS, WORKLOADS

    lines = [
        "## Where one training step spends its time",
        "",
        "py-spy samples of the main thread during training (`--native`), each put in a bucket by "
        "its native stack: under a BLAS product, in a NumPy inner loop (element-wise work, "
        "casts, gathers, reductions), waiting on a lock (for the other part's thread to "
        "finish, or to take back the interpreter lock after NumPy released it), or elsewhere "
        "(the interpreter, argument parsing, dispatch, and handing a task or the interpreter "
        "lock to the other thread). Step times are the median of three runs of the same "
        "workload without the sampler, each in a fresh process (the mini-batch section "
        "compares the two versions' speed in interleaved rounds).",
        "",
        "| step | code | ms per step | " + " | ".join(BUCKETS) + " |",
        "|---|---|---|" + "---|" * len(BUCKETS),
    ]
    versions = [("after (this code)", None)]
    if suite.before:
        commit = _commit_of(suite.before)
        versions.insert(0, (f"before (commit {commit})", str(Path(suite.before) / "src")))
    for label, spec in WORKLOADS.items():
        for version, source in versions:
            shares = suite.profile(spec["workload"], pythonpath=source)
            if shares is None:
                empty_cells = "|" * (len(BUCKETS) + 1)
                lines.append(f"| {label} | {version} | py-spy not installed {empty_cells}")
                continue
            lines.append(
                f"| {label} | {version} | {shares['seconds_per_step'] * 1e3:.2f} | "
                + " | ".join(f"{shares[b]:.0%}" for b in BUCKETS)
                + " |"
            )
    return lines


def _commit_of(checkout: str) -> str:
    done = subprocess.run(["git", "-C", checkout, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip() or "unknown"


SECTIONS = {
    "full_batch": full_batch,
    "minibatch": minibatch,
    "blas_kernels": blas_kernels,
    "time_to_accuracy": time_to_accuracy,
    "predict": predict,
    "scaling": scaling,
    "tutorial_run": tutorial_run,
    "recipes": recipes,
    "profile": profile,
    "busy_machine": busy_machine,
    "augmentation": augmentation,
    "time_to_98": time_to_98,
    "best": best,
    "estimators": estimators,
    "limits": limits,
}
