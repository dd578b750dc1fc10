"""Write tests/data/reference.json: inputs and expected results for every mynn component.

The expected values come from the formulas written out below in the plainest numpy (loops
where they make the math easier to read), without importing mynn, so a regression in mynn
cannot change both sides of the comparison. The tests load the JSON and need nothing but numpy.

Run from the repository root after changing a formula on purpose:

    python tests/data/make_reference.py

The file is a flat JSON object ``{"component.field": value}``; arrays are nested lists of
floats, written with Python's shortest round-tripping repr, so they load back bit for bit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).with_name("reference.json")
CLIP = 1e-7  # mynn clips probabilities to [CLIP, 1 - CLIP] before logarithms


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-2, -0.2] or [0.2, 2]: no ReLU kink within reach of a finite difference."""
    magnitude = rng.uniform(0.2, 2.0, size=shape)
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return sign * magnitude


def dense(ref: dict, rng: np.random.Generator) -> None:
    X = rng.normal(size=(4, 3))
    W = rng.normal(size=(3, 2))
    b = rng.normal(size=2)
    G = rng.normal(size=(4, 2))
    out = np.zeros((4, 2))
    for i in range(4):
        for j in range(2):
            out[i, j] = sum(X[i, k] * W[k, j] for k in range(3)) + b[j]
    dW = np.zeros((3, 2))
    for k in range(3):
        for j in range(2):
            dW[k, j] = sum(X[i, k] * G[i, j] for i in range(4))
    db = np.array([sum(G[i, j] for i in range(4)) for j in range(2)])
    dX = np.zeros((4, 3))
    for i in range(4):
        for k in range(3):
            dX[i, k] = sum(G[i, j] * W[k, j] for j in range(2))
    ref.update(
        {
            "dense.inputs": X,
            "dense.weights": W,
            "dense.biases": b,
            "dense.dvalues": G,
            "dense.output": out,
            "dense.dweights": dW,
            "dense.dbiases": db,
            "dense.dinputs": dX,
        }
    )
    # The same layer with every penalty switched on.
    l1w, l2w, l1b, l2b = 0.01, 0.02, 0.03, 0.04
    penalty = (
        l1w * np.abs(W).sum() + l2w * (W**2).sum() + l1b * np.abs(b).sum() + l2b * (b**2).sum()
    )
    ref.update(
        {
            "dense_regularized.factors": np.array([l1w, l2w, l1b, l2b]),
            "dense_regularized.penalty": penalty,
            "dense_regularized.dweights": dW + l1w * np.sign(W) + 2 * l2w * W,
            "dense_regularized.dbiases": db + l1b * np.sign(b) + 2 * l2b * b,
        }
    )


def activations(ref: dict, rng: np.random.Generator) -> None:
    X = away_from_zero(rng, (4, 3))
    G = rng.normal(size=(4, 3))
    ref["activation.inputs"] = X
    ref["activation.dvalues"] = G
    alpha = 0.1
    relu = np.array([[x if x > 0 else 0.0 for x in row] for row in X])
    relu_d = np.array([[1.0 if x > 0 else 0.0 for x in row] for row in X])
    leaky = np.array([[x if x > 0 else alpha * x for x in row] for row in X])
    leaky_d = np.array([[1.0 if x > 0 else alpha for x in row] for row in X])
    sig = np.array([[1.0 / (1.0 + math.exp(-x)) for x in row] for row in X])
    tanh = np.array([[math.tanh(x) for x in row] for row in X])
    ref.update(
        {
            "relu.output": relu,
            "relu.dinputs": G * relu_d,
            "leaky_relu.alpha": alpha,
            "leaky_relu.output": leaky,
            "leaky_relu.dinputs": G * leaky_d,
            "sigmoid.output": sig,
            "sigmoid.dinputs": G * sig * (1 - sig),
            "tanh.output": tanh,
            "tanh.dinputs": G * (1 - tanh**2),
            "linear.output": X.copy(),
            "linear.dinputs": G.copy(),
        }
    )
    # Softmax and its full Jacobian, row by row.
    soft = np.zeros_like(X)
    dsoft = np.zeros_like(X)
    for i, row in enumerate(X):
        e = np.array([math.exp(x) for x in row])
        s = e / e.sum()
        jacobian = np.diag(s) - np.outer(s, s)  # d s_j / d x_k
        soft[i] = s
        dsoft[i] = jacobian.T @ G[i]
    ref["softmax.output"] = soft
    ref["softmax.dinputs"] = dsoft


def losses(ref: dict, rng: np.random.Generator) -> None:
    n, k = 4, 2
    y_pred = rng.normal(size=(n, k))
    y_true = y_pred + away_from_zero(rng, (n, k))  # MAE's kink kept away
    ref["regression.y_pred"] = y_pred
    ref["regression.y_true"] = y_true
    mse = np.array(
        [sum((y_true[i, j] - y_pred[i, j]) ** 2 for j in range(k)) / k for i in range(n)]
    )
    mae = np.array([sum(abs(y_true[i, j] - y_pred[i, j]) for j in range(k)) / k for i in range(n)])
    ref.update(
        {
            "mse.per_sample": mse,
            "mse.mean": mse.mean(),
            "mse.gradient": -2.0 * (y_true - y_pred) / (n * k),
            "mae.per_sample": mae,
            "mae.mean": mae.mean(),
            "mae.gradient": np.sign(y_pred - y_true) / (n * k),
        }
    )

    p = rng.uniform(0.1, 0.9, size=(n, k))
    t = (rng.random((n, k)) < 0.5).astype(float)
    bce = np.array(
        [
            -sum(
                t[i, j] * math.log(p[i, j]) + (1 - t[i, j]) * math.log(1 - p[i, j])
                for j in range(k)
            )
            / k
            for i in range(n)
        ]
    )
    ref.update(
        {
            "bce.y_pred": p,
            "bce.y_true": t,
            "bce.per_sample": bce,
            "bce.mean": bce.mean(),
            "bce.gradient": -(t / p - (1 - t) / (1 - p)) / (n * k),
        }
    )

    classes = 3
    raw = rng.uniform(0.2, 1.0, size=(n, classes))
    probs = raw / raw.sum(axis=1, keepdims=True)
    labels = np.array([0, 2, 1, 2])
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), labels] = 1.0
    cce = np.array([-math.log(probs[i, labels[i]]) for i in range(n)])
    grad = np.zeros((n, classes))
    for i in range(n):
        grad[i, labels[i]] = -1.0 / (n * probs[i, labels[i]])
    ref.update(
        {
            "cce.y_pred": probs,
            "cce.labels": labels.astype(float),
            "cce.onehot": onehot,
            "cce.per_sample": cce,
            "cce.mean": cce.mean(),
            "cce.gradient": grad,
        }
    )

    logits = rng.normal(size=(n, classes))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    ref.update(
        {
            "softmax_cce.logits": logits,
            "softmax_cce.probabilities": s,
            "softmax_cce.gradient": (s - onehot) / n,
            # extreme cases: probabilities exactly 0 and 1 are clipped before the logarithm
            "cce_clipped.y_pred": np.array([[0.0, 1.0], [1.0, 0.0]]),
            "cce_clipped.labels": np.array([0.0, 0.0]),
            "cce_clipped.per_sample": np.array([-math.log(CLIP), -math.log(1 - CLIP)]),
        }
    )


def optimizers(ref: dict, rng: np.random.Generator) -> None:
    """Three steps from the same start with the same gradients, for every optimizer."""
    start = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(3)]
    ref["optimizer.start"] = start
    ref["optimizer.gradients"] = np.stack(grads)
    decay = 0.01

    def rate(lr: float, t: int) -> float:  # t = steps already taken
        return lr / (1 + decay * t)

    def run(update) -> np.ndarray:
        theta = start.copy()
        path = []
        for t, g in enumerate(grads):
            theta = update(theta, g, t)
            path.append(theta.copy())
        return np.stack(path)

    ref["sgd.path"] = run(lambda th, g, t: th - rate(0.1, t) * g)

    velocity = np.zeros_like(start)

    def sgd_momentum(th, g, t):
        nonlocal velocity
        velocity = 0.9 * velocity - rate(0.1, t) * g
        return th + velocity

    ref["sgd_momentum.path"] = run(sgd_momentum)

    cache = np.zeros_like(start)

    def adagrad(th, g, t):
        nonlocal cache
        cache = cache + g**2
        return th - rate(0.1, t) * g / (np.sqrt(cache) + 1e-7)

    ref["adagrad.path"] = run(adagrad)

    cache2 = np.zeros_like(start)

    def rmsprop(th, g, t):
        nonlocal cache2
        cache2 = 0.9 * cache2 + 0.1 * g**2
        return th - rate(0.01, t) * g / (np.sqrt(cache2) + 1e-7)

    ref["rmsprop.path"] = run(rmsprop)

    m = np.zeros_like(start)
    v = np.zeros_like(start)

    def adam(th, g, t):
        nonlocal m, v
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        m_hat = m / (1 - 0.9 ** (t + 1))
        v_hat = v / (1 - 0.999 ** (t + 1))
        return th - rate(0.01, t) * m_hat / (np.sqrt(v_hat) + 1e-7)

    ref["adam.path"] = run(adam)
    ref["optimizer.learning_rates"] = np.array([rate(1.0, t) for t in range(3)])


def build() -> dict[str, np.ndarray]:
    """Every reference value, as float64 arrays (scalars as 0-d arrays)."""
    rng = np.random.default_rng(20261128)
    ref: dict = {}
    dense(ref, rng)
    activations(ref, rng)
    losses(ref, rng)
    optimizers(ref, rng)
    return {key: np.asarray(value, dtype=np.float64) for key, value in ref.items()}


def main() -> None:
    lines = [
        f"{json.dumps(key)}: {json.dumps(value.tolist())}" for key, value in sorted(build().items())
    ]
    OUTPUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"wrote {len(lines)} entries to {OUTPUT}")


if __name__ == "__main__":
    main()
