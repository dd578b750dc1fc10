"""Argument checks shared by every module.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the argument,
states what was expected and ends with ``Received: name=value`` (the Keras convention), so the
user sees the culprit without reading a traceback.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``np.random.Generator`` from a Generator, an int random seed or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None. Received: rng={rng!r}"
    )


def check_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a numpy float dtype (float32 or float64)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64. Received: dtype={dtype!r}")
    return resolved


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a finite real number inside the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number. Received: {name}={value!r}")
    value = float(value)
    ok = math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(
            f"{name} must be a finite number in {left}{lo}, {hi}{right}. Received: {name}={value!r}"
        )
    return value


def as_float_array(name: str, values, dtype=None, *, ndim: int | None = None) -> np.ndarray:
    """Convert ``values`` to a float array, rejecting non-numeric, empty or non-finite data.

    Integer and boolean data become ``dtype`` (float64 when ``dtype`` is None); float32 and
    float64 data keep their dtype unless ``dtype`` is given.
    """
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers. Received: {name} with dtype {array.dtype}"
        )
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype not in FLOAT_DTYPES:
        array = array.astype(np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array. Received: {name} of shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty. Received: {name} of shape {array.shape}")
    # A NaN or inf makes the sum NaN or inf, so a finite sum proves every value finite without
    # a boolean copy of the data; only a non-finite sum (or an overflow) needs the exact check.
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf or an overflow: no warning
        total = array.sum()
    if not np.isfinite(total) and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} must contain only finite numbers; found {array[tuple(bad)]} at index "
            f"{tuple(int(i) for i in bad)}. Remove or impute NaN and inf values first."
        )
    return array


def check_same_length(x_name: str, x: np.ndarray, y_name: str, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples. "
            f"Received: {x_name} with {len(x)} samples, {y_name} with {len(y)} samples"
        )
