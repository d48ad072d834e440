"""Runs one benchmark job in a fresh process and prints its result as JSON.

Usage: python -m bench.worker '{"job": "step_seconds", "impl": "torch", ...}'
Each job runs alone in its own process so that its peak memory is its own and no
library's thread pool lingers into another's measurement. Only the job's own module is
imported, so a job also runs against an older scratchnet (the profile's "before").
"""

from __future__ import annotations

import importlib
import json
import sys

JOBS = {
    "step_seconds": "full_batch",
    "full_run": "full_batch",
    "recipe": "recipes",
    "epoch_seconds": "minibatch",
    "scaling": "minibatch",
    "predict_seconds": "predict",
    "time_to_accuracy": "speed_to_accuracy",
    "profile_workload": "profile",
    "baseline_rss": "common",
    "busy_epoch_seconds": "busy",
    "augment_share": "augmentation",
    "sampling_seconds": "augmentation",
    "time_to_98": "time_to_98",
    "cv_score": "estimators",
    "blas_bits": "limits",
}


def main() -> None:
    try:
        spec = json.loads(sys.argv[1])
        name = spec.pop("job")
        module_name = JOBS[name]
    except (IndexError, ValueError, AttributeError, TypeError, KeyError):
        print(f"usage: python -m bench.worker '{{\"job\": NAME, ...}}', NAME one of "
              f"{', '.join(JOBS)}", file=sys.stderr)  # fmt: skip
        sys.exit(2)
    module = importlib.import_module(f"bench.{module_name}")
    job = getattr(module, name)
    print(json.dumps(job(**spec)))


if __name__ == "__main__":
    main()
