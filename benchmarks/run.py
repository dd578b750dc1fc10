"""Benchmark mynn against the matmul floor, in one process.

The floor of any numpy implementation of an MLP is the time numpy needs for the matrix products
of one epoch alone: per batch and per layer the forward product ``X @ W``, the weight gradient
``X.T @ dY`` and the input gradient ``dY @ W.T`` (except for the first layer, whose input gradient
nobody needs), on the same shapes, dtype and batches. Every result is reported as a ratio to that
floor measured in the same run: mynn's timed runs alternate with floor runs, so the load of a busy
shared machine slows both alike. Not entirely: in CPU time too, the floor runs of one run can
differ by tens of percent, at times by more than half, and so can the paired ratios of one
workload. The
scikit-learn and PyTorch runs alternate with floor runs of their own in the same way, and their
ratio is over those floor runs, never over mynn's. The float32 MNIST model is also trained
without the optimizers' subnormal flush, to show what the flush saves.

Run from the repository root (about one to two minutes on a quiet 2-core machine):

    python benchmarks/run.py                 # writes benchmarks/results/<date>.json and latest.json
    python benchmarks/run.py --quick --no-save   # a smoke run

scikit-learn and PyTorch rows are added when those packages are installed (never required).
This script is not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mynn  # noqa: E402
from mynn import (  # noqa: E402
    Adam,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    Dense,
    Model,
    ReLU,
    Softmax,
    count_subnormal,
    spiral_classification,
)

MNIST_SIZES = (784, 256, 128, 10)
SPIRAL_SIZES = (2, 64, 3)
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
#: The clock every measurement reads: wall time by default; ``--cpu`` switches to process CPU
#: time with one BLAS thread, which a busy shared machine disturbs far less (it does not hold
#: the core's speed still).
clock = time.perf_counter

GOALS = {
    "mnist-float32": 1.5,
    "mnist-float64": 1.5,
    "spiral-float64": 5.0,
    "predict-float32": 1.1,
    "predict-float64": 1.1,
}


# ------------------------------------------------------------------ workloads
def mnist_like(n: int, dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: ``n`` rows of 784 values in [0, 1], 10 learnable classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    prototypes = rng.random((10, 784))
    X = 0.5 * prototypes[y] + 0.5 * rng.random((n, 784))
    return X.astype(dtype), y


def build_model(sizes, dtype, seed: int = 0, learning_rate: float = 0.001) -> Model:
    """Dense/ReLU stack with a Softmax output, CCE loss, Adam and accuracy."""
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, weight_initializer="he", rng=seed + index, dtype=dtype))
        layers.append(ReLU() if index < len(sizes) - 2 else Softmax())
    model = Model(layers)
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(learning_rate=learning_rate))
    model.set_accuracy(CategoricalAccuracy())
    return model


# ---------------------------------------------------------------------- floors
def floor_weights(sizes, dtype, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(dtype)
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


def matmul_floor_epoch(
    X: np.ndarray, weights: list[np.ndarray], batch_size: int, first_input_gradient: bool = False
) -> float:
    """Seconds for one epoch of the matrix products alone (see the module docstring).

    ``first_input_gradient=True`` adds the first layer's ``dY @ W.T``, which training skips:
    the difference shows what that skipped product would cost.
    """
    n = len(X)
    last = len(weights) - 1
    started = clock()
    for start in range(0, n, batch_size):
        inputs = [X[start : start + batch_size]]
        for W in weights:  # forward: X @ W per layer
            inputs.append(inputs[-1] @ W)
        grad = inputs[-1]  # a gradient of the output's shape
        for index in range(last, -1, -1):
            inputs[index].T @ grad  # dW = X.T @ dY
            if index or first_input_gradient:  # dX = dY @ W.T, except for the first layer
                grad = grad @ weights[index].T
    return clock() - started


def forward_floor(X: np.ndarray, weights: list[np.ndarray]) -> float:
    """Seconds for the forward products ``X @ W`` of every layer on the whole of ``X``."""
    started = clock()
    out = X
    for W in weights:
        out = out @ W
    return clock() - started


def interleaved(first, second, repeats: int) -> tuple[list[float], list[float]]:
    """Call ``first`` and ``second`` alternately (after one warm-up each); their timings."""
    first(), second()
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return a, b


def row(workload, system, dtype, seconds, floor_seconds, samples, **extra) -> dict:
    median, floor = statistics.median(seconds), statistics.median(floor_seconds)
    return {
        "workload": workload,
        "system": system,
        "dtype": np.dtype(dtype).name,
        "samples": samples,
        "seconds": round(median, 5),
        "floor_seconds": round(floor, 5),
        "ratio": round(median / floor, 3),
        "runs": [round(s, 5) for s in seconds],
        "floor_runs": [round(s, 5) for s in floor_seconds],
        **extra,
    }


# ----------------------------------------------------------------------- mynn
def bench_mynn_training(name, X, y, sizes, batch_size, epochs_per_run, repeats, lr=0.001):
    dtype = X.dtype
    model = build_model(sizes, dtype, learning_rate=lr)
    generator = np.random.default_rng(0)

    def train():
        started = clock()
        model.train(X, y, epochs=epochs_per_run, batch_size=batch_size, verbose=0, rng=generator)
        return (clock() - started) / epochs_per_run

    floor = floor_runner(X, sizes, batch_size, epochs_per_run)
    seconds, floors = interleaved(train, floor, repeats)
    loss, accuracy = model.evaluate(X[:2000], y[:2000])
    return model, row(
        name,
        "mynn",
        dtype,
        seconds,
        floors,
        len(X),
        final_train_accuracy=round(float(accuracy), 4),
        final_loss=round(loss, 4),
    )


def state_subnormal(optimizer) -> int:
    """Subnormal numbers in an optimizer's state (its scratch space left out)."""
    return sum(
        count_subnormal(array)
        for buffers in optimizer.state.values()
        for kind, array in buffers.items()
        if kind != "scratch"
    )


def bench_mynn_epochs(name, X, y, sizes, batch_size, epochs):
    """One model trained for ``epochs`` epochs, each timed alone and followed by a floor epoch.

    Each epoch is compared with the floor epoch timed right after it (``epoch_ratios``): on a
    shared machine the two see much the same load, where a median floor over minutes would
    not; one epoch's ratio still moves by tens of percent. The row's ``ratio`` is the
    *last* epoch's: a model trained for a while, not a fresh one. ``drift`` is the mean ratio
    of the last two epochs over the first epoch's, and ``subnormal_state`` counts the subnormal
    numbers in the optimizer's state after each epoch (counted, not timed: a count does not
    depend on how fast a CPU handles them, but it is the count of one training run, whose last
    bits depend on the BLAS kernel).
    """
    dtype = X.dtype
    model = build_model(sizes, dtype)
    weights = floor_weights(sizes, dtype)
    generator = np.random.default_rng(0)
    matmul_floor_epoch(X, weights, batch_size)  # warm-up; the model's first epoch is measured
    seconds, floors, subnormal = [], [], []
    for _ in range(epochs):
        started = clock()
        model.train(X, y, epochs=1, batch_size=batch_size, verbose=0, rng=generator)
        seconds.append(clock() - started)
        floors.append(matmul_floor_epoch(X, weights, batch_size))
        subnormal.append(state_subnormal(model.optimizer))
    ratios = [s / f for s, f in zip(seconds, floors)]
    loss, accuracy = model.evaluate(X[:2000], y[:2000])
    result = row(name, "mynn", dtype, seconds, floors, len(X))
    result.update(
        seconds=round(seconds[-1], 5),
        floor_seconds=round(floors[-1], 5),
        ratio=round(ratios[-1], 3),
        measured_on=f"epoch {epochs} of one model",
        epoch_ratios=[round(r, 3) for r in ratios],
        drift=round(statistics.mean(ratios[-2:]) / ratios[0], 3),
        subnormal_state=subnormal,
        state_values=sum(
            value.size * len(model.optimizer.buffers) for _, value, _ in model.parameters()
        ),
        final_train_accuracy=round(float(accuracy), 4),
        final_loss=round(loss, 4),
    )
    return model, result


@contextlib.contextmanager
def flush_every(steps: int):
    """Optimizers flush their state every ``steps`` steps inside the block (mynn's is 16)."""
    import mynn.optimizers

    saved = mynn.optimizers.FLUSH_EVERY
    mynn.optimizers.FLUSH_EVERY = steps
    try:
        yield
    finally:
        mynn.optimizers.FLUSH_EVERY = saved


def bench_mynn_epochs_without_flush(name, X, y, sizes, batch_size, epochs) -> dict:
    """The same model as bench_mynn_epochs, trained the same way, but never flushing the
    optimizer's state: what the flush saves, in subnormal numbers and in time."""
    with flush_every(10**12):
        _, result = bench_mynn_epochs(name, X, y, sizes, batch_size, epochs)
    result["system"] = "mynn without the subnormal flush"
    return result


def bench_mynn_predict(name, model, X_test, repeats):
    weights = [layer.weights for layer in model.layers if isinstance(layer, Dense)]

    def predict():
        started = clock()
        model.predict(X_test)
        return clock() - started

    seconds, floors = interleaved(predict, lambda: forward_floor(X_test, weights), repeats)
    return row(name, "mynn", X_test.dtype, seconds, floors, len(X_test))


@contextlib.contextmanager
def timers(timings: list[tuple[object, str, str]], parts: dict[str, float]):
    """Time calls of ``(owner, method, part)``: each adds its seconds to ``parts[part]``.

    The timer goes on the object itself as an instance attribute that shadows the class's
    method, for the duration of the block; the class code is untouched.
    """
    for owner, method, part in timings:
        original = getattr(owner, method)

        def run(*args, _original=original, _part=part, **kwargs):
            started = clock()
            try:
                return _original(*args, **kwargs)
            finally:
                parts[_part] += clock() - started

        setattr(owner, method, run)
    try:
        yield parts
    finally:
        for owner, method, _ in timings:
            delattr(owner, method)


def _kind(layer) -> str:
    return "dense" if isinstance(layer, Dense) else "activation"


def profile_epoch(model: Model, X, y, batch_size: int, rng=0) -> dict[str, float]:
    """Seconds per part of one epoch of the real ``Model.train``, and the epoch's total.

    A timer is wrapped around each method the training loop calls on this model's objects
    (its layers, loss, metric and optimizer), then ``Model.train`` runs one epoch. Its
    ``on_epoch_end`` hook takes the reading: the epoch from the call of ``train`` to the end of
    its last step, checks of the data included. What no timer covers (shuffling and gathering
    the batches, the check after each step that no parameter became NaN or infinite, the loop
    itself) is ``other``.
    """
    names = ["data checks", "dense forward", "activation forward", "loss", "accuracy"]
    names += ["backward start (loss gradient)", "dense backward", "activation backward"]
    parts = dict.fromkeys([*names, "optimizer"], 0.0)
    timings = [(model, "prepare", "data checks")]
    for layer in model.layers:
        timings.append((layer, "forward", f"{_kind(layer)} forward"))
        timings.append((layer, "backward", f"{_kind(layer)} backward"))
    timings += [
        (model.loss, "per_sample", "loss"),
        (model, "predictions", "accuracy"),
        (model.accuracy, "update", "accuracy"),
        (model, "backward", "backward start (loss gradient)"),  # the layers' share comes off
        (model.optimizer, "step_flat", "optimizer"),
    ]

    def take_reading(model, record):
        total = clock() - started
        parts["backward start (loss gradient)"] -= parts["dense backward"]
        parts["backward start (loss gradient)"] -= parts["activation backward"]
        record["profile"] = {**parts, "other": total - sum(parts.values()), "total": total}

    with timers(timings, parts):
        started = clock()
        history = model.train(
            X, y, epochs=1, batch_size=batch_size, verbose=0, rng=rng, on_epoch_end=take_reading
        )
    return history["profile"][0]


def profile_predict(model: Model, X) -> dict[str, float]:
    """Seconds per part of one ``Model.predict(X)``, timed as ``profile_epoch`` times training."""
    parts = dict.fromkeys(["data checks", "dense forward", "activation forward"], 0.0)
    parts["predictions"] = 0.0
    timings = [(model, "prepare_inputs", "data checks"), (model, "predictions", "predictions")]
    timings += [(layer, "forward", f"{_kind(layer)} forward") for layer in model.layers]
    with timers(timings, parts):
        started = clock()
        model.predict(X)
        total = clock() - started
    return {**parts, "other": total - sum(parts.values()), "total": total}


def measure_memory(sizes, X, y, batch_size) -> dict:
    """Peak numpy memory (tracemalloc) of building a model and training it for one epoch.

    ``X`` and ``y`` are allocated before tracing starts, so the peak counts what training adds
    on top of the data: parameters, gradients, optimizer state, one batch's activations and
    gradients, the epoch's permutation. The batch part also counts a gradient of the batch's
    inputs, which training skips, so the budget is a little generous.
    """
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    model = build_model(sizes, X.dtype)
    model.train(X, y, epochs=1, batch_size=batch_size, verbose=0, rng=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = sum(value.nbytes for _, value, _ in model.parameters())
    itemsize = X.dtype.itemsize
    widths = sizes
    # one batch: every layer's output and its gradient, the batch copy of X and a gradient of
    # it (which training never computes: the first layer's input gradient is skipped)
    batch = batch_size * itemsize * (2 * widths[0] + 2 * 2 * sum(widths[1:]))
    budget = {
        "parameters": params,
        "gradients": params,
        "optimizer_state": 3 * params,  # Adam: momentum, cache and one scratch buffer
        "one_batch": batch,
        "permutation": len(X) * 8,
    }
    return {
        "data_bytes": int(X.nbytes + y.nbytes),
        "peak_bytes_above_data": int(peak - base),
        "budget_bytes": budget,
        "budget_total_bytes": int(sum(budget.values())),
        "peak_over_budget": round((peak - base) / sum(budget.values()), 3),
    }


# ---------------------------------------------------------------------- peers
def floor_runner(X, sizes, batch_size, epochs_per_run):
    """A function that times the floor of ``epochs_per_run`` epochs; seconds per epoch."""
    weights = floor_weights(sizes, X.dtype)

    def floor():
        return (
            sum(matmul_floor_epoch(X, weights, batch_size) for _ in range(epochs_per_run))
            / epochs_per_run
        )

    return floor


def bench_sklearn(name, X, y, sizes, batch_size, epochs_per_run, repeats, lr=0.001):
    try:
        import sklearn
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    import warnings

    _limit_new_pools()

    clf = MLPClassifier(
        hidden_layer_sizes=sizes[1:-1],
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=lr,
        shuffle=True,
        random_state=0,
    )
    classes = np.arange(sizes[-1])

    def fit():
        started = clock()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(epochs_per_run):
                clf.partial_fit(X, y, classes=classes)
        return (clock() - started) / epochs_per_run

    # alternating with floor runs of its own, as mynn's runs do (after one warm-up each)
    seconds, floors = interleaved(fit, floor_runner(X, sizes, batch_size, epochs_per_run), repeats)
    return row(
        name,
        f"scikit-learn {sklearn.__version__} MLPClassifier (adam)",
        X.dtype,
        seconds,
        floors,
        len(X),
        dtype_kept=str(clf.coefs_[0].dtype),
    )


def bench_torch(name, X, y, sizes, batch_size, epochs_per_run, repeats, lr=0.001):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    if clock is time.process_time:
        torch.set_num_threads(1)
        _limit_new_pools()
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[X.dtype]
    layers = []
    for index, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=dtype))
        if index < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    n = len(X)

    def fit():
        started = clock()
        for _ in range(epochs_per_run):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch_size):
                index = order[start : start + batch_size]
                optimizer.zero_grad()
                loss = loss_fn(net(Xt[index]), yt[index])
                loss.backward()
                optimizer.step()
        return (clock() - started) / epochs_per_run

    # alternating with floor runs of its own, as mynn's runs do (after one warm-up each)
    seconds, floors = interleaved(fit, floor_runner(X, sizes, batch_size, epochs_per_run), repeats)
    return row(
        name,
        f"PyTorch {torch.__version__} eager",
        X.dtype,
        seconds,
        floors,
        len(X),
        torch_threads=torch.get_num_threads(),
    )


def _limit_new_pools() -> None:
    """In ``--cpu`` mode, hold thread pools that a peer library just loaded to one thread too."""
    if clock is time.process_time:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)


# ---------------------------------------------------------------- machine info
def machine_info() -> dict:
    info = {
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mynn": getattr(mynn, "__version__", "unknown"),
        "env": {name: os.environ.get(name) for name in BLAS_ENV},
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {
                key: pool.get(key)
                for key in (
                    "internal_api",
                    "version",
                    "architecture",
                    "num_threads",
                    "threading_layer",
                    "filepath",
                )
            }
            for pool in threadpool_info()
        ]
    except ImportError:
        config = np.show_config(mode="dicts")
        info["blas"] = config.get("Build Dependencies", {}).get("blas")
    for package in ("sklearn", "torch"):
        try:
            module = __import__(package)
            info[package] = module.__version__
        except ImportError:
            info[package] = None
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------------------ main
def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=60_000, help="MNIST-shaped training rows")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="sets the timed runs: predict max(5, N), spiral max(7, N), peers max(2, N - 1)",
    )
    parser.add_argument(
        "--epochs", type=int, default=5, help="epochs of the one MNIST-shaped model, each timed"
    )
    parser.add_argument("--quick", action="store_true", help="10,000 samples, 2 repeats")
    parser.add_argument("--no-peers", action="store_true", help="skip scikit-learn and PyTorch")
    parser.add_argument("--no-save", action="store_true", help="print only; write no JSON")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="measure process CPU time with one BLAS thread (for a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.repeats = 10_000, 2
    global clock
    limiter = None
    if args.cpu:
        from threadpoolctl import threadpool_limits  # the --cpu mode needs threadpoolctl

        limiter = threadpool_limits(limits=1)
        clock = time.process_time
    began = time.perf_counter()
    result = {
        "schema": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "mnist_samples": args.samples,
            "repeats": args.repeats,
            "mnist_epochs": args.epochs,
            "batch_size": 128,
            "clock": "process CPU time, 1 BLAS thread" if args.cpu else "wall time",
            "spiral_batch_size": 32,
            "predict_samples": 10_000,
        },
        "loadavg_start": loadavg(),
        "results": [],
        "goals": GOALS,
    }
    rows = result["results"]
    mnist_models = {}
    for dtype in (np.float32, np.float64):
        name = f"mnist-{np.dtype(dtype).name}"
        X, y = mnist_like(args.samples, dtype)
        model, r = bench_mynn_epochs(name, X, y, MNIST_SIZES, 128, args.epochs)
        rows.append(r)
        mnist_models[name] = (model, X, y)
        print(
            f"  {name}: mynn {r['ratio']:.2f}x floor on epoch {args.epochs}; epochs "
            f"{r['epoch_ratios']}x, drift {r['drift']:.2f}, subnormal state values "
            f"{r['subnormal_state']} of {r['state_values']}",
            file=sys.stderr,
            flush=True,
        )
        X_test, _ = mnist_like(10_000, dtype, seed=1)
        rows.append(
            bench_mynn_predict(
                f"predict-{np.dtype(dtype).name}", model, X_test, max(5, args.repeats)
            )
        )

    X_s, y_s = spiral_classification(1000, 3, rng=0)
    # a spiral epoch takes milliseconds: time 20 epochs per run and more runs, for a steady median
    epochs = 20
    spiral_model, r = bench_mynn_training(
        "spiral-float64", X_s, y_s, SPIRAL_SIZES, 32, epochs, max(7, args.repeats), lr=0.02
    )
    rows.append(r)
    # its profile: the median of 9 epochs (a timer costs about what a tiny numpy call does)
    spiral_weights = floor_weights(SPIRAL_SIZES, X_s.dtype)
    runs, floors = interleaved(
        lambda: profile_epoch(spiral_model, X_s, y_s, 32),
        lambda: matmul_floor_epoch(X_s, spiral_weights, 32),
        9,
    )
    result["spiral_profile"] = {
        "workload": "spiral-float64",
        "floor_seconds": round(statistics.median(floors), 6),
        "seconds": {
            k: round(v, 6)
            for k, v in sorted(runs, key=lambda parts: parts["total"])[len(runs) // 2].items()
        },
    }

    # where an epoch's time goes (float32 MNIST), against a real Model.train epoch
    model, X, y = mnist_models["mnist-float32"]
    profile = profile_epoch(model, X, y, 128)
    weights = floor_weights(MNIST_SIZES, X.dtype)
    floors, with_first = interleaved(
        lambda: matmul_floor_epoch(X, weights, 128),
        lambda: matmul_floor_epoch(X, weights, 128, True),
        5,
    )
    result["profile"] = {
        "workload": "mnist-float32",
        "floor_seconds": round(statistics.median(floors), 5),
        "floor_with_first_input_gradient_seconds": round(statistics.median(with_first), 5),
        # the pairs, for the spread of what the skipped product would add
        "floor_runs": [round(f, 5) for f in floors],
        "floor_with_first_input_gradient_runs": [round(f, 5) for f in with_first],
        "seconds": {k: round(v, 5) for k, v in profile.items()},
    }
    X_test, _ = mnist_like(10_000, X.dtype, seed=1)
    weights = [layer.weights for layer in model.layers if isinstance(layer, Dense)]
    runs, floors = interleaved(
        lambda: profile_predict(model, X_test), lambda: forward_floor(X_test, weights), 5
    )
    median = sorted(runs, key=lambda parts: parts["total"])[len(runs) // 2]
    result["predict_profile"] = {
        "workload": "predict-float32",
        "floor_seconds": round(statistics.median(floors), 5),
        "seconds": {k: round(v, 5) for k, v in median.items()},
    }
    result["memory"] = measure_memory(MNIST_SIZES, X, y, 128)
    # the float32 model again, without the flush (not a row: no goal, no peer compares)
    r = bench_mynn_epochs_without_flush("mnist-float32", X, y, MNIST_SIZES, 128, args.epochs)
    result["without_flush"] = r
    print(
        f"  mnist-float32 without the flush: epochs {r['epoch_ratios']}x, drift "
        f"{r['drift']:.2f}, subnormal state values {r['subnormal_state']}",
        file=sys.stderr,
        flush=True,
    )

    if not args.no_peers:
        # each peer's runs alternate with floor runs of their own (see bench_sklearn)
        for name, (_, X, y) in mnist_models.items():
            for bench in (bench_sklearn, bench_torch):
                r = bench(name, X, y, MNIST_SIZES, 128, 1, max(2, args.repeats - 1))
                if r:
                    rows.append(r)
                    print(f"  {name}: {r['system']} {r['ratio']:.2f}x", file=sys.stderr, flush=True)
        for bench in (bench_sklearn, bench_torch):
            r = bench(
                "spiral-float64",
                X_s,
                y_s,
                SPIRAL_SIZES,
                32,
                2,
                max(2, args.repeats - 1),
                lr=0.02,
            )
            if r:
                rows.append(r)
    if limiter is not None:
        from threadpoolctl import threadpool_info

        result["machine"]["blas_during_run"] = [
            {key: pool.get(key) for key in ("internal_api", "architecture", "num_threads")}
            for pool in threadpool_info()
        ]
    result["loadavg_end"] = loadavg()
    result["total_seconds"] = round(time.perf_counter() - began, 1)
    print(format_report(result))
    if not args.no_save:
        args.output.mkdir(parents=True, exist_ok=True)
        text = json.dumps(result, indent=1) + "\n"
        (args.output / f"{result['date'][:10]}.json").write_text(text)
        (args.output / "latest.json").write_text(text)
        print(f"wrote {args.output / 'latest.json'}")
    return result


def format_report(result: dict) -> str:
    """The results as a plain-text table (also used by docs/performance.md)."""
    lines = []
    header = f"{'workload':<16} {'system':<44} {'s/epoch':>9} {'floor s':>9} {'x floor':>8}  goal"
    lines += [header, "-" * len(header)]
    for r in result["results"]:
        goal = result["goals"].get(r["workload"]) if r["system"] == "mynn" else None
        mark = "" if goal is None else f"<= {goal}  {'met' if r['ratio'] <= goal else 'NOT met'}"
        lines.append(
            f"{r['workload']:<16} {r['system'][:44]:<44} {r['seconds']:>9.4f} "
            f"{r['floor_seconds']:>9.4f} {r['ratio']:>8.2f}  {mark}".rstrip()
        )
    m = result["machine"]
    blas = m.get("blas") or []
    kernel = ", ".join(
        f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')} "
        f"x{p.get('num_threads')}"
        for p in blas
        if isinstance(p, dict)
    )
    lines.append("")
    lines.append(
        f"machine: {m['processor']}, {m['cpu_count']} cores; numpy {m['numpy']}; "
        f"BLAS: {kernel or blas}"
    )
    lines.append(
        f"env: {m['env']}; load average {result.get('loadavg_start')} -> "
        f"{result.get('loadavg_end')}"
    )
    for key in ("profile", "spiral_profile", "predict_profile"):
        if key in result:
            profile = result[key]
            p = profile["seconds"]
            parts = ", ".join(f"{k} {v / p['total']:.0%}" for k, v in p.items() if k != "total")
            lines.append(
                f"{key} ({profile['workload']}: {p['total'] * 1000:.1f} ms, floor "
                f"{profile['floor_seconds'] * 1000:.1f} ms): {parts}"
            )
    if "memory" in result:
        mem = result["memory"]
        lines.append(
            f"memory: peak {mem['peak_bytes_above_data'] / 2**20:.1f} MiB above the data "
            f"({mem['data_bytes'] / 2**20:.0f} MiB); budget "
            f"{mem['budget_total_bytes'] / 2**20:.1f} MiB "
            f"(x{mem['peak_over_budget']})"
        )
    lines.append(f"total benchmark time {result.get('total_seconds')} s")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
