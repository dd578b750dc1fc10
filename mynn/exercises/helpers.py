"""What the exercises share: inputs an answer cannot hard-code, and mynn's softmax and sigmoid.

The trials (numbered from 0 here, from 1 in the messages) follow a cycle of four, so that the
default five reach every edge an exercise has:

- ``size`` draws each size (batch, width, classes) from the lower half of its range on even
  trials and from the upper half on odd ones, except on trials 2, 6, 10, ... (``SMALLEST``),
  where every size is the smallest of its range: 1 wherever 1 is allowed, where an
  ``np.squeeze`` or a lost dimension shows. So two trials in a row never share a size, and an
  answer written for one shape fails on the next trial.
- ``LARGE`` (trials 1, 5, ...) and ``TINY`` (trials 3, 7, ...) are where an exercise puts its
  large and tiny values, ``REPEAT`` (trials 4, 8, ...) where an exercise whose answer could keep
  state between calls repeats the shapes of the trial before
  (``same_shape_as_before``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..activations import Sigmoid, Softmax

__all__ = [
    "FIRST_OF_TIES",
    "LARGE",
    "REPEAT",
    "SMALLEST",
    "TINY",
    "classification",
    "large_or_tiny",
    "log_uniform",
    "mynn_sigmoid",
    "mynn_softmax",
    "phase",
    "probabilities_with_ties",
    "same_shape_as_before",
    "scaled_to",
    "size",
    "sizes",
    "vector_or_matrix",
    "with_zeros",
]

LARGE, SMALLEST, TINY, REPEAT = 1, 2, 3, 0
"""The trial's place in the cycle of four (``phase``) where each edge is drawn; ``REPEAT``
applies from trial 4 on (trial 0 has no trial before it)."""


def phase(trial: int) -> int:
    """The trial's place in the cycle of four: compare it with ``LARGE``, ``SMALLEST``, ..."""
    return trial % 4


def size(rng: np.random.Generator, trial: int, low: int, high: int) -> int:
    """A size in ``[low, high]``: from the lower half on even trials, the upper half on odd
    ones, and ``low`` itself on the trials of the ``SMALLEST`` phase.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> [size(rng, trial, 1, 8) for trial in range(4)][2]
        1
        >>> [size(rng, trial, 1, 8) <= 4 for trial in range(4)]
        [True, False, True, False]
    """
    if phase(trial) == SMALLEST:
        return low
    middle = (low + high + 1) // 2
    if trial % 2 == 0:
        return int(rng.integers(low, middle))
    return int(rng.integers(middle, high + 1))


def sizes(rng: np.random.Generator, trial: int, count: int, low: int, high: int) -> list[int]:
    """``count`` sizes drawn as ``size`` draws one, but different
    from each other (except on the ``SMALLEST`` trials, where all are ``low``): the sizes that
    meet in a product, so that one taken the wrong way round fails rather than fits.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> [len(set(sizes(rng, trial, 3, 1, 8))) for trial in range(4)]
        [3, 3, 1, 3]
    """
    if phase(trial) == SMALLEST:
        return [low] * count
    middle = (low + high + 1) // 2
    start, stop = (low, middle) if trial % 2 == 0 else (middle, high + 1)
    return [int(n) for n in rng.choice(np.arange(start, stop), size=count, replace=False)]


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def scaled_to(x: np.ndarray, largest: float) -> np.ndarray:
    """``x`` scaled so that its largest magnitude is ``largest`` (zeros stay zeros)."""
    return x * (largest / np.abs(x).max())


def large_or_tiny(rng: np.random.Generator, trial: int, x: np.ndarray) -> np.ndarray:
    """``x`` as it is, but with its largest entry 10 to 1000 on the LARGE trials (past any cap,
    such as ReLU6's) and its largest magnitude 1e-9 to 1e-7 on the TINY ones (below any
    threshold, such as x > 1e-6); zeros stay zeros."""
    if phase(trial) == LARGE:
        return x * (log_uniform(rng, 10, 1000) / x.max())
    if phase(trial) == TINY:
        return scaled_to(x, log_uniform(rng, 1e-9, 1e-7))
    return x


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


# The shape each Generator drew last, for the REPEAT trials. A trial's inputs come from the
# Generator alone, and the trial before used the same one, so this keeps the draws a function
# of the seed. Keyed by id() with the Generator itself kept (so the id is not reused), and
# bounded: only the check under way needs its entry.
_LAST_SHAPE: OrderedDict[int, tuple[np.random.Generator, tuple[int, ...]]] = OrderedDict()
_LAST_SHAPE_LOCK = threading.Lock()


def same_shape_as_before(rng: np.random.Generator, trial: int, draw) -> tuple[int, ...]:
    """``draw(rng, trial)``, a new shape (another than the trial before's), except on the
    ``REPEAT`` trials (4, 8, ...), which take the shape of the trial before: an answer that
    keeps state between calls (a velocity, Adam's moments) in a global, reset when the shape
    changes, then uses it where it should use its arguments.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> shapes = [same_shape_as_before(rng, t, vector_or_matrix) for t in range(5)]
        >>> shapes[4] == shapes[3], shapes[2]
        (True, (1,))
    """
    with _LAST_SHAPE_LOCK:
        kept = _LAST_SHAPE.get(id(rng))
    before = kept[1] if kept is not None and kept[0] is rng and trial > 0 else None
    if before is not None and phase(trial) == REPEAT:
        shape = before
    else:
        shape = draw(rng, trial)
        # after a repeat, the next trial has shapes of its own again; a few tries only, since
        # a trial drawn out of order (the smallest sizes twice, say) may allow no other shape
        for _ in range(20):
            if shape != before:
                break
            shape = draw(rng, trial)
    with _LAST_SHAPE_LOCK:
        _LAST_SHAPE[id(rng)] = (rng, shape)
        _LAST_SHAPE.move_to_end(id(rng))
        while len(_LAST_SHAPE) > 32:
            _LAST_SHAPE.popitem(last=False)
    return shape


def mynn_softmax(z: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # underflow to 0 is what a softmax of far scores gives
        return Softmax().forward(z)


def mynn_sigmoid(z):
    with np.errstate(all="ignore"):
        return Sigmoid().forward(np.asarray(z, dtype=np.float64))


def probabilities_with_ties(rng: np.random.Generator, trial: int) -> np.ndarray:
    """Rows of probabilities: at least one row with two classes tied for the largest and, with
    two rows or more, at least one near-tie: the largest probability a relative 1e-11 to 1e-9
    above an earlier class's, so close that float32 (almost always), or rounding to a few
    decimals, makes them a tie. Other rows are ties, near-ties (up to 1e-4 apart) or ordinary."""
    k, c = size(rng, trial, 1, 8), size(rng, trial, 2, 7)
    logits = rng.normal(size=(k, c)) * 2
    kinds = rng.integers(0, 3, size=k)  # 0: ordinary, 1: a tie, 2: a near-tie
    rows = rng.permutation(k)
    kinds[rows[0]] = 1
    if k > 1:
        kinds[rows[1]] = 2
    closest = rows[1] if k > 1 else -1
    for row in range(k):
        if kinds[row] == 0:
            continue
        later = int(rng.integers(1, c))  # the largest, after the class it (nearly) ties with
        earlier = int(rng.integers(0, later))
        logits[row, later] = logits[row].max() + rng.uniform(0.05, 1)
        if kinds[row] == 1:
            logits[row, earlier] = logits[row, later]
        else:
            gap = log_uniform(rng, 1e-11, 1e-9) if row == closest else log_uniform(rng, 1e-9, 1e-4)
            logits[row, earlier] = logits[row, later] + np.log1p(-gap)
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
