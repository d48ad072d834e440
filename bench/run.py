"""Run the benchmark suite and write BENCHMARKS.md.

    python -m bench.run                     # the whole suite, rewrites BENCHMARKS.md
    python -m bench.run --sections minibatch predict --output -    # some sections, print only

Every measurement runs in a fresh process (python -m bench.worker) with the same thread
count for NumPy's BLAS, PyTorch and scikit-learn; times are medians of repeated runs and
every ratio compares measurements taken in this same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import profile as step_profile
from .sections import SECTIONS

REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass
class Suite:
    """Options, the summary rows collected so far, and the job runner."""

    threads: int
    repeats: int
    full: bool
    before: str | None = None  # scratchnet sources to profile as "before"
    summary: list[list[str]] = field(default_factory=list)

    def environment(self, pythonpath: str | None = None, unset: tuple[str, ...] = ()) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in unset} | {"MPLBACKEND": "Agg"}
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(self.threads)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        return env

    def job(self, name: str, unset: tuple[str, ...] = (), **spec) -> dict:
        """Run one job in a fresh interpreter (without the environment variables in
        ``unset``); its JSON result, or {"error": ...}. The implementation "before" is
        scratchnet's job run against the sources of the --before checkout."""
        pythonpath = None
        if spec.get("impl") == "before":
            spec, pythonpath = {**spec, "impl": "scratchnet"}, str(Path(self.before) / "src")
        payload = json.dumps({"job": name, "threads": self.threads, **spec})
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", payload], cwd=REPOSITORY,
            env=self.environment(pythonpath, unset), capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            result = {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
        else:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        label = " ".join(f"{value}" for value in spec.values())
        print(f"  {name} {label}: {result.get('error', 'done')}", file=sys.stderr, flush=True)
        return result

    def profile(self, workload: str, pythonpath: str | None = None) -> dict | None:
        return step_profile.profile(workload, self.threads, self.environment(pythonpath),
                                    REPOSITORY)  # fmt: skip


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
    blas = os.environ.get("OPENBLAS_CORETYPE")
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; {threads} threads for every library",
        f"- Python {platform.python_version()}, "
        + ", ".join(f"{name} {number}" for name, number in versions.items()),
        f"- NumPy's OpenBLAS kernels: {'OPENBLAS_CORETYPE=' + blas if blas else 'autodetected'}",
    ]


def summary_table(rows: list[list[str]]) -> list[str]:
    header = ["benchmark", "scratchnet", "PyTorch", "scikit-learn", "scratchnet / PyTorch",
              "floor / scratchnet", "target", "met"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5, help="runs behind each median")
    parser.add_argument("--full", action="store_true",
                        help="also run the float64 tutorial run in full, and the tutorial's own "
                        "code over its 1000 iterations (about 9 min more: 3 interleaved "
                        "rounds of both)")  # fmt: skip
    parser.add_argument("--before", metavar="CHECKOUT",
                        help="also time the scratchnet in CHECKOUT (a git worktree of an older "
                        "commit) in the full-batch and mini-batch sections, interleaved with "
                        "this one, and profile it as the 'before' of the step profile")  # fmt: skip
    parser.add_argument("--output", help="file to write, or - (default: BENCHMARKS.md for "
                        "the whole suite; a part, with --sections, is only printed)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.output is None:  # a partial report never replaces the whole one
        args.output = "-" if args.sections != list(SECTIONS) else "BENCHMARKS.md"
    suite = Suite(args.threads, args.repeats, args.full, args.before)
    command = " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    started = time.perf_counter()
    body = []
    for name in args.sections:
        print(f"{name}:", file=sys.stderr, flush=True)
        try:
            body += [*SECTIONS[name](suite), ""]
        except Exception as error:  # one broken section must not lose the others
            body += [f"## {name}", "", f"section failed: {error!r}", ""]
    minutes = (time.perf_counter() - started) / 60
    report = [
        "# Benchmarks",
        "",
        f"Command: `{command}` (took {minutes:.1f} min). Every number below comes from that "
        "one run, on this machine:",
        "",
        *machine_description(args.threads),
        "",
        "## Summary",
        "",
        "Times are medians of repeated runs, except the recipes, the float32 tutorial run and "
        "augmentation's share, which run once each. *floor*: the essential matrix products "
        "of the same work done bare in NumPy. Ratios below 1 mean scratchnet is faster.",
        "",
        *summary_table(suite.summary),
        "",
        *body,
    ]
    text = "\n".join(report)
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
