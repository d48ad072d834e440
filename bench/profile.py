"""Where the time of a training step goes, from py-spy samples of the main thread.

Each sample taken inside the training loop is put in one bucket by its native stack:
matrix products (BLAS: anything under a gemm or matmul call), element-wise work (the
inner loops of NumPy ufuncs, casts, gathers and reductions), waiting (on a lock: for
the other part's thread to finish, or to take back the interpreter lock after NumPy
released it) or Python and NumPy overhead (the interpreter, argument parsing, dispatch
and handing a task or the interpreter lock to the other thread: everything else).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scratchnet as sn

from .common import mnist_data, tutorial_data

PRODUCTS = re.compile(r"gemm|matmul|exec_blas|inner_thread|blas_thread")
ELEMENTWISE = re.compile(
    r"^(FLOAT|DOUBLE|BOOL|LONG|LONGLONG|INT|UBYTE|BYTE|HALF)_|_cast_|take|pairwise_sum|"
    r"reduce_loop|memcpy|memmove|memset|mapiter|npyv|_contig_"
)
WAITING = re.compile(r"PyThread_acquire_lock|pthread_cond_(timed)?wait|sem_(timed)?wait|take_gil")
TRAINING_FRAME = "_epoch"
TIMINGS = 3  # runs behind each step time
BUCKETS = ("matrix products", "element-wise", "waiting", "Python and NumPy overhead")
WORKLOADS = {
    "mini-batch step, 784-256-10, batch 128, Adam, float32": {"workload": "minibatch"},
    "full-batch step, tutorial network, float64": {"workload": "fullbatch"},
}


def profile_workload(workload: str, threads: int) -> dict:
    """The training the profiler watches (run inside bench.worker); seconds per step."""
    if workload == "minibatch":
        X, y, _, _ = mnist_data(tuple(range(10)), "float32")
        net = sn.NeuralNet([256, 10], activation="relu", init="he", random_state=0)
        start = time.perf_counter()
        net.fit(X, y, epochs=3, batch_size=128, optimizer="adam", learning_rate=1e-3)
        steps = 3 * -(-len(X) // 128)
    else:
        X, y, _, _ = tutorial_data("float64")
        net = sn.NeuralNet([196, 1], random_state=sn.tutorial_random_state(42))
        start = time.perf_counter()
        net.fit(X, y, learning_rate=0.1, n_iterations=40)
        steps = 40
    return {"seconds_per_step": (time.perf_counter() - start) / steps}


def profile(workload: str, threads: int, env: dict, cwd: Path) -> dict | None:
    """Seconds per step (the median of TIMINGS runs without the sampler, each in a fresh
    process) and the share of each bucket; None when py-spy is not installed."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        return None
    spec = {"job": "profile_workload", "workload": workload, "threads": threads}
    job = [sys.executable, "-m", "bench.worker", json.dumps(spec)]
    seconds = [_seconds_per_step(job, env, cwd) for _ in range(TIMINGS)]
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "samples.txt"
        sampler = [spy, "record", "--native", "--rate", "200", "--format", "raw", "--output"]
        subprocess.run([*sampler, str(raw), "--", *job], cwd=cwd, env=env, capture_output=True,
                       check=True)  # fmt: skip
        shares = classify(raw.read_text())
    return {"seconds_per_step": statistics.median(seconds)} | shares


def _seconds_per_step(job: list[str], env: dict, cwd: Path) -> float:
    timing = subprocess.run(job, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return json.loads(timing.stdout.strip().splitlines()[-1])["seconds_per_step"]


def classify(raw: str) -> dict:
    """The share of each of BUCKETS among the training loop's samples in py-spy's raw
    output (one folded stack and its sample count per line), and their number."""
    counts = {name: 0 for name in BUCKETS}
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(TRAINING_FRAME in frame for frame in frames):
            continue
        leaf = frames[-1].split(" (")[0]
        if any(PRODUCTS.search(frame) for frame in frames):
            counts["matrix products"] += int(count)
        elif any(WAITING.search(frame) for frame in frames):
            counts["waiting"] += int(count)
        elif ELEMENTWISE.search(leaf):
            counts["element-wise"] += int(count)
        else:
            counts["Python and NumPy overhead"] += int(count)
    total = sum(counts.values()) or 1
    return {name: count / total for name, count in counts.items()} | {"samples": total}
