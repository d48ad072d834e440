"""Runs one benchmark job in a fresh process and prints its result as JSON.

Usage: python -m bench.worker '{"job": "step_seconds", "impl": "torch", ...}'
Each job runs alone in its own process so that its peak memory is its own and no
library's thread pool lingers into another's measurement.
"""

from __future__ import annotations

import json
import sys

from . import common, full_batch, minibatch, predict, profile, recipes, speed_to_accuracy

JOBS = {
    "step_seconds": full_batch.step_seconds,
    "full_run": full_batch.full_run,
    "recipe": recipes.recipe_run,
    "epoch_seconds": minibatch.epoch_seconds,
    "scaling": minibatch.scaling,
    "predict_seconds": predict.predict_seconds,
    "time_to_accuracy": speed_to_accuracy.time_to_accuracy,
    "profile_workload": profile.run_workload,
    "baseline_rss": common.baseline_rss,
}


def main() -> None:
    spec = json.loads(sys.argv[1])
    job = JOBS[spec.pop("job")]
    print(json.dumps(job(**spec)))


if __name__ == "__main__":
    main()
