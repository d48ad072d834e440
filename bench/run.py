"""Run the benchmark suite and write BENCHMARKS.md.

    python -m bench.run                      # the whole suite
    python -m bench.run --sections full_batch --output -   # one section, print only

Every measurement runs in its own process (python -m bench.worker) with the same
thread count for NumPy's BLAS, PyTorch and scikit-learn. Times are medians of repeated
runs; ratios compare medians measured in this same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def run_job(job: str, threads: int, **spec) -> dict:
    """Run one job in a fresh interpreter; return its JSON result (or its error)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    payload = json.dumps({"job": job, "threads": threads, **spec})
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", payload],
        cwd=REPOSITORY, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def ms(result: dict, key: str = "seconds_per_step") -> str:
    return "n/a" if "error" in result else f"{result[key] * 1e3:.1f}"


def ratio(numerator: dict, denominator: dict, key: str = "seconds_per_step") -> str:
    if "error" in numerator or "error" in denominator:
        return "n/a"
    return f"{numerator[key] / denominator[key]:.2f}x"


# -- sections -----------------------------------------------------------------------------


def section_full_batch(args) -> list[str]:
    """Full-batch step of the tutorial network in every implementation."""
    impls = ["scratchnet", "torch", "sklearn", "products", "tutorial"]
    lines = [
        "## Full-batch step of the tutorial network (784-196-1, 12,700 images)",
        "",
        f"Median time per iteration over {args.repeats} runs of {args.iterations} "
        "iterations, after one warm-up run. *floor*: the two essential products "
        "X @ W1 and X.T @ dZ1 alone, done bare in NumPy over all 784 columns.",
        "",
        "| dtype | scratchnet ms | PyTorch ms | scikit-learn ms | tutorial ms | floor ms "
        "| scratchnet / PyTorch | scratchnet / tutorial | floor / scratchnet | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dtype in ("float64", "float32"):
        results = {}
        for impl in impls:
            if impl == "tutorial" and dtype == "float32":
                results[impl] = {"error": "the tutorial runs in float64 only"}
                continue
            results[impl] = run_job(
                "step_seconds", args.threads, impl=impl, dtype=dtype,
                iterations=args.iterations, repeats=args.repeats,
            )  # fmt: skip
            _progress(f"full batch {dtype} {impl}", results[impl])
        r = results
        rss = "n/a" if "error" in r["scratchnet"] else f"{r['scratchnet']['peak_rss_mb']:.0f}"
        lines.append(
            f"| {dtype} | {ms(r['scratchnet'])} | {ms(r['torch'])} | {ms(r['sklearn'])} "
            f"| {ms(r['tutorial'])} | {ms(r['products'])} | {ratio(r['scratchnet'], r['torch'])} "
            f"| {ratio(r['scratchnet'], r['tutorial'])} | {ratio(r['products'], r['scratchnet'])} "
            f"| {rss} |"
        )
    return lines


def section_tutorial_runs(args) -> list[str]:
    """The complete tutorial run, 1000 iterations, once each."""
    runs = {
        ("tutorial", "float64"): None,
        ("scratchnet", "float64"): None,
        ("scratchnet", "float32"): None,
    }
    for impl, dtype in runs:
        runs[impl, dtype] = run_job(
            "full_run", args.threads, impl=impl, dtype=dtype, iterations=1000
        )
        _progress(f"full tutorial run {impl} {dtype}", runs[impl, dtype], key="seconds")
    lines = [
        "## The tutorial's run end to end (1000 iterations, one run each)",
        "",
        "| implementation | dtype | fit s | vs tutorial | cost @0 | cost @900 "
        "| train correct | test correct | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = runs["tutorial", "float64"]
    for (impl, dtype), result in runs.items():
        if "error" in result:
            lines.append(f"| {impl} | {dtype} | error: {result['error']} |||||||")
            continue
        lines.append(
            f"| {impl} | {dtype} | {result['seconds']:.1f} | {ratio(result, base, 'seconds')} "
            f"| {result['costs'][0]:.15g} | {result['costs'][9]:.15g} "
            f"| {result['train_correct']}/12700 | {result['test_correct']}/2167 "
            f"| {result['peak_rss_mb']:.0f} |"
        )
    return lines


def section_recipes(args) -> list[str]:
    """The documented recipes against the same networks in PyTorch and scikit-learn."""
    from scratchnet.presets import PRESETS

    lines = [
        "## Recipes: accuracy and training time",
        "",
        "Each recipe once per implementation, with the preset's seed. scratchnet runs "
        "exactly what the command runs (including measuring the test set after every epoch "
        "for the curves); PyTorch trains the same layers, initialisation, dropout, optimizer, "
        "batch size, schedule and epochs; scikit-learn's MLPClassifier the same layers, "
        "optimizer, batch size and epochs (it has no dropout and no cosine schedule).",
        "",
        "| recipe | command | scratchnet | PyTorch | scikit-learn | time scratchnet / PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    for preset in args.recipes:
        results = {}
        for impl in ("scratchnet", "torch", "sklearn"):
            results[impl] = run_job("recipe", args.threads, impl=impl, preset=preset)
            _progress(f"recipe {preset} {impl}", results[impl], key="fit_seconds")
        cells = [_accuracy_and_time(results[impl]) for impl in ("scratchnet", "torch", "sklearn")]
        speed = ratio(results["scratchnet"], results["torch"], "fit_seconds")
        lines.append(
            f"| {PRESETS[preset].description} | `scratchnet train --preset {preset}` "
            f"| {' | '.join(cells)} | {speed} |"
        )
    return lines


def _accuracy_and_time(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    return f"{result['test_accuracy']:.2%} in {result['fit_seconds']:.1f} s"


SECTIONS = {
    "full_batch": section_full_batch,
    "tutorial_runs": section_tutorial_runs,
    "recipes": section_recipes,
}


def _progress(label: str, result: dict, key: str = "seconds_per_step") -> None:
    shown = result.get("error") or f"{result[key]:.4g} s"
    print(f"  {label}: {shown}", file=sys.stderr, flush=True)


def machine_description(threads: int) -> list[str]:
    versions = {}
    for module in ("numpy", "torch", "sklearn", "scratchnet"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = "not installed"
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; {threads} threads for every library",
        f"- Python {platform.python_version()}, "
        + ", ".join(f"{name} {number}" for name, number in versions.items()),
        f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--recipes", nargs="+", default=["one-two", "all-digits"])
    parser.add_argument("--output", default="BENCHMARKS.md", help="file to write, or - for stdout")
    args = parser.parse_args(argv)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.perf_counter()
    body = []
    for name in args.sections:
        print(f"{name}:", file=sys.stderr, flush=True)
        body += [*SECTIONS[name](args), ""]
    elapsed = time.perf_counter() - started
    report = [
        "# Benchmarks",
        "",
        f"Command: `{command.strip()}` (took {elapsed / 60:.1f} min)",
        "",
        *machine_description(args.threads),
        "",
        *body,
    ]
    text = "\n".join(report)
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
