"""The benchmarks' own logic: the step profile's buckets (bench/profile.py) on
hand-written py-spy samples, and the worker's command line."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.profile import classify

ROOT = Path(__file__).resolve().parents[1]  # where bench/ is
LIB = "numpy/_core/_multiarray_umath.so"
SAMPLES = "\n".join(
    [
        # a product: anything under a gemm, however deep
        "_Loop._mini_batch_epoch (loop.py:200);forward (propagation.py:320);"
        "cblas_sgemm (libopenblas.so);sgemm_kernel_SKYLAKEX (libopenblas.so) 5",
        # an element-wise inner loop
        f"_Loop._mini_batch_epoch (loop.py:200);Adam.update_span_ (optimizers.py:130);"
        f"ufunc_generic_fastcall ({LIB});FLOAT_sqrt ({LIB}) 3",
        # the main thread waiting for the other part's thread
        "_Loop._mini_batch_epoch (loop.py:200);Team.run (parallel.py:95);"
        "_Worker.outcome_when_done (parallel.py:150);PyThread_acquire_lock_timed (libpython);"
        "0x7f0000000010 (libc.so.6) 2",
        # waiting to take back the interpreter lock after an element-wise loop
        f"_Loop._mini_batch_epoch (loop.py:200);add_parts (propagation.py:380);"
        f"ufunc_generic_fastcall ({LIB});pthread_cond_timedwait (libc.so.6) 4",
        # handing a task over: overhead, not waiting
        "_Loop._mini_batch_epoch (loop.py:200);_Worker.start (parallel.py:140);"
        "PyThread_release_lock (libpython);sem_post (libc.so.6) 6",
        # outside the training loop: not counted
        "<module> (run.py:1);load_mnist (mnist.py:80);FLOAT_add (numpy) 100",
        "<module> (run.py:1);PyThread_acquire_lock_timed (libpython) 50",
    ]
)


def test_each_sample_of_the_training_loop_goes_to_one_bucket():
    shares = classify(SAMPLES)
    assert shares["samples"] == 20
    assert shares["matrix products"] == pytest.approx(5 / 20)
    assert shares["element-wise"] == pytest.approx(3 / 20)
    assert shares["waiting"] == pytest.approx((2 + 4) / 20)
    assert shares["Python and NumPy overhead"] == pytest.approx(6 / 20)


@pytest.mark.parametrize("argv", [[], ["not json"], ['{"job": "nope"}'], ["[1]"]])
def test_the_worker_without_a_job_it_knows_says_how_to_call_it(argv):
    """It gave an IndexError's traceback."""
    done = subprocess.run([sys.executable, "-m", "bench.worker", *argv], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("usage: python -m bench.worker '{\"job\": NAME, ...}', NAME ")
