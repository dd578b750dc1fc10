"""Argument checks shared by every module.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the argument,
states what was expected and ends with ``Received: name=value`` (the Keras convention), so the
user sees the culprit without reading a traceback.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from pathlib import Path

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``np.random.Generator`` from a Generator, an int random seed or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"an int seed must be 0 or more. Received: rng={rng!r}")
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None. Received: rng={rng!r}"
    )


def check_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as a numpy float dtype (float32 or float64, native byte order)."""
    resolved = None
    if dtype is not None:  # np.dtype(None) is float64: None is no answer, so it is refused
        try:
            with warnings.catch_warnings():  # deprecated aliases ("a") warn, then are refused
                warnings.simplefilter("ignore", DeprecationWarning)
                resolved = np.dtype(dtype)
        except (TypeError, ValueError, KeyError, SyntaxError):
            resolved = None
    # ``resolved in FLOAT_DTYPES`` would not do: numpy compares None equal to float64.
    for allowed in FLOAT_DTYPES:
        if resolved is not None and resolved == allowed:  # big-endian '>f8' is not equal
            return allowed
    raise TypeError(f"{name} must be float32 or float64. Received: {name}={dtype!r}")


def check_bool(name: str, value) -> bool:
    """Check that ``value`` is ``True`` or ``False`` (a numpy bool too), not any truthy object."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False. Received: {name}={value!r}")
    return bool(value)


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
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number. Received: {name}={value!r}")
    try:
        number = shown = float(value)
    except OverflowError:  # an int beyond the float range: quoted as given
        number, shown = (math.inf if value > 0 else -math.inf), value
    ok = math.isfinite(number)
    if ok and low is not None:
        ok = number > low if low_open else number >= low
    if ok and high is not None:
        ok = number < high if high_open else number <= high
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(
            f"{name} must be a finite number in {left}{lo}, {hi}{right}. Received: {name}={shown!r}"
        )
    return number


def check_callable(name: str, value) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function). Received: {name}={value!r}")


def check_path(name: str, value) -> Path:
    """Return ``value`` as a ``Path``; only ``str`` and ``os.PathLike`` are paths."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a file path (str or pathlib.Path). Received: {name}={value!r}"
        )
    return Path(value)


def as_array(name: str, values) -> np.ndarray:
    """``np.asarray(values)``, with an error naming the argument when numpy cannot do it."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as error:  # ragged nested lists, odd objects
        raise ValueError(
            f"{name} must be an array of numbers, every row of one length. Received: {name} "
            f"that numpy cannot turn into an array ({error})"
        ) from None


def check_real(name: str, array: np.ndarray) -> None:
    """Refuse arrays that do not hold real numbers (strings, objects, complex numbers)."""
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers. Received: {name} with dtype {array.dtype}"
        )


def first_non_finite(array: np.ndarray) -> tuple[float, tuple[int, ...]] | None:
    """The first NaN or inf of a float ``array`` and its index, or ``None`` if all are finite.

    A NaN or inf makes the sum of squares NaN or inf (no term is negative, so nothing cancels),
    so a finite sum of squares proves every value finite without a boolean copy of the data.
    For a contiguous array it is one BLAS dot product, the fastest pass numpy has; only a
    non-finite result, or an overflow of the squares of huge values, needs the exact check.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf or an overflow: no warning
        if array.flags.c_contiguous:
            flat = array.reshape(-1)
            total = np.dot(flat, flat)
        else:  # reshape would copy: a plain sum reads the data where it is
            total = array.sum()
    if np.isfinite(total) or np.isfinite(array).all():
        return None
    bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    return array[bad], bad


def as_float_array(name: str, values, dtype=None, *, ndim: int | None = None) -> np.ndarray:
    """Convert ``values`` to a float array, rejecting non-numeric, empty or non-finite data.

    Integer and boolean data become ``dtype`` (float64 when ``dtype`` is None); float32 and
    float64 data keep their dtype unless ``dtype`` is given. A value too large for ``dtype``
    (1e300 for float32) is an error, not an inf.
    """
    array = as_array(name, values)
    check_real(name, array)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array. Received: {name} of shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty. Received: {name} of shape {array.shape}")
    if array.dtype.kind == "f":
        bad = first_non_finite(array)
        if bad is not None:
            raise ValueError(
                f"{name} must contain only finite numbers; found {bad[0]} at index {bad[1]}. "
                "Remove or impute NaN and inf values first."
            )
    if dtype is None:
        dtype = array.dtype if array.dtype in FLOAT_DTYPES else np.float64
    if array.dtype != dtype:
        try:
            with np.errstate(over="raise"):
                array = array.astype(dtype)
        except FloatingPointError:
            limit = np.finfo(dtype).max
            index = tuple(int(i) for i in np.argwhere(np.abs(array) > limit)[0])
            raise ValueError(
                f"{name} must hold numbers that {np.dtype(dtype).name} can represent (at most "
                f"{limit:.3g} in size). Received: {name} with {array[index].item()!r} "
                f"at index {index}"
            ) from None
    return array


def check_same_length(x_name: str, x: np.ndarray, y_name: str, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples. "
            f"Received: {x_name} with {len(x)} samples, {y_name} with {len(y)} samples"
        )
