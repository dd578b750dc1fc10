"""What the exercises share: inputs an answer cannot hard-code, and mynn's softmax and sigmoid.

``size`` draws each size (batch, width, classes) from the lower half
of its range on even trials and from the upper half on odd ones, so two trials in a row never
share one and an answer written for one shape fails on the next trial.
"""

from __future__ import annotations

import numpy as np

from ..activations import Sigmoid, Softmax

__all__ = [
    "FIRST_OF_TIES",
    "classification",
    "log_uniform",
    "mynn_sigmoid",
    "mynn_softmax",
    "probabilities_with_ties",
    "size",
    "vector_or_matrix",
    "with_zeros",
]


def size(rng: np.random.Generator, trial: int, low: int, high: int) -> int:
    """A size in ``[low, high]``: from the lower half on even trials, the upper half on odd ones.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> [size(rng, trial, 1, 8) <= 4 for trial in range(4)]
        [True, False, True, False]
    """
    middle = (low + high + 1) // 2
    if trial % 2 == 0:
        return int(rng.integers(low, middle))
    return int(rng.integers(middle, high + 1))


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def with_zeros(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """``x`` with about a quarter of its entries set to exactly 0 and, in any case, at least one
    zero, one positive and one negative entry (``x`` needs 3 entries or more)."""
    x[rng.random(x.shape) < 0.25] = 0.0
    zero, positive, negative = rng.choice(x.size, size=3, replace=False)
    x.flat[zero] = 0.0
    x.flat[positive] = abs(x.flat[positive]) + 0.1
    x.flat[negative] = -abs(x.flat[negative]) - 0.1
    return x


def vector_or_matrix(rng: np.random.Generator, trial: int) -> tuple[int, ...]:
    """A 1-D shape on even trials, a 2-D one on odd trials."""
    if trial % 2 == 0:
        return (size(rng, trial, 1, 8),)
    return (size(rng, trial, 1, 8), size(rng, trial, 1, 8))


def mynn_softmax(z: np.ndarray) -> np.ndarray:
    return Softmax().forward(z)


def mynn_sigmoid(z):
    return Sigmoid().forward(np.asarray(z, dtype=np.float64))


def probabilities_with_ties(rng: np.random.Generator, trial: int) -> np.ndarray:
    """Rows of probabilities, at least one row with two classes tied for the largest."""
    k, c = size(rng, trial, 1, 8), size(rng, trial, 2, 7)
    logits = rng.normal(size=(k, c)) * 2
    tied = rng.random(k) < 0.5
    tied[rng.integers(k)] = True
    for row in np.flatnonzero(tied):
        best = int(np.argmax(logits[row]))
        other = int(rng.choice([j for j in range(c) if j != best]))
        logits[row, other] = logits[row, best]
    return mynn_softmax(logits)


def classification(rng: np.random.Generator, trial: int) -> dict:
    """Probabilities (no entry below 1e-5, so no clipping matters) and integer labels."""
    k, c = size(rng, trial, 1, 8), size(rng, trial, 2, 7)
    probabilities = mynn_softmax(np.clip(rng.normal(size=(k, c)), -4, 4))
    return {"probabilities": probabilities, "labels": rng.integers(0, c, size=k)}


FIRST_OF_TIES = (
    "on a tie the FIRST index of the largest value wins, as np.argmax says; a loop that "
    "updates on >= keeps the last"
)
"""The hint for an answer that picks the last of tied classes."""
