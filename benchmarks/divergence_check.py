"""What the divergence check of ``Model.train`` costs, against one MNIST-shaped epoch.

After every optimizer step ``Model.train`` calls ``mynn.model.non_finite_parameter`` on the
parameters (one sum per parameter array). This script measures it two ways on the workload of
``run.py`` (60,000 x 784 synthetic data, 784-256-128-10, Adam, batch 128):

1. directly: the time of the check on the trained model's parameters, times the steps of an
   epoch, divided by the median epoch;
2. as a difference: epochs with the check against epochs with it replaced by a no-op,
   alternated, medians compared (noisier: two medians of a busy machine).

It times process CPU time with one BLAS thread (set before numpy loads), which a busy shared
machine disturbs far less than wall time. Not part of the tests. Run from the repository root:

    python benchmarks/divergence_check.py            # float32, 5 epochs per variant
    python benchmarks/divergence_check.py --dtype float64 --epochs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import MNIST_SIZES, build_model, mnist_like  # noqa: E402

import mynn.model  # noqa: E402

clock = time.process_time


def epoch_seconds(model, X, y, generator) -> float:
    started = clock()
    model.train(X, y, epochs=1, batch_size=128, verbose=0, rng=generator)
    return clock() - started


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per variant")
    parser.add_argument("--samples", type=int, default=60_000)
    args = parser.parse_args(argv)

    X, y = mnist_like(args.samples, np.dtype(args.dtype))
    model = build_model(MNIST_SIZES, X.dtype)
    generator = np.random.default_rng(0)
    steps = -(-len(X) // 128)
    real_check = mynn.model.non_finite_parameter

    def without_check(parameters):
        return None

    epoch_seconds(model, X, y, generator)  # warm-up: caches, optimizer state
    with_check, no_check = [], []
    for _ in range(args.epochs):
        with_check.append(epoch_seconds(model, X, y, generator))
        mynn.model.non_finite_parameter = without_check
        try:
            no_check.append(epoch_seconds(model, X, y, generator))
        finally:
            mynn.model.non_finite_parameter = real_check

    parameters = model.parameters()
    calls = 2000
    started = clock()
    for _ in range(calls):
        assert real_check(parameters) is None
    per_call = (clock() - started) / calls

    epoch = statistics.median(with_check)
    result = {
        "dtype": args.dtype,
        "samples": len(X),
        "steps_per_epoch": steps,
        "parameters": sum(value.size for _, value, _ in parameters),
        "check_seconds_per_call": per_call,
        "epoch_seconds_median": epoch,
        "direct_share_of_epoch": per_call * steps / epoch,
        "epoch_seconds_without_check_median": statistics.median(no_check),
        "difference_share_of_epoch": (epoch - statistics.median(no_check)) / epoch,
        "epochs_with_check": with_check,
        "epochs_without_check": no_check,
    }
    print(f"{args.dtype}: {result['parameters']:,} parameters, {steps} steps per epoch")
    print(f"check: {per_call * 1e6:.1f} us per step, {per_call * steps:.3f} s per epoch")
    print(f"epoch (median of {args.epochs}, CPU time, 1 BLAS thread): {epoch:.3f} s")
    print(f"direct share of the epoch:     {result['direct_share_of_epoch']:.2%}")
    print(
        f"with vs without the check:     {result['difference_share_of_epoch']:+.2%} "
        f"(medians {epoch:.3f} s and {result['epoch_seconds_without_check_median']:.3f} s)"
    )
    return result


if __name__ == "__main__":
    main()
