"""What differs between an answer and the right result, in words.

[differences][mynn.exercises.compare.differences] returns ``[]`` for a right answer, else the
lines of a message, checked in this order: the type (a number, an integer, a numpy array, a
tuple), the shape, the dtype, NaN or infinity, then the values. Values are right within
``RTOL`` and ``ATOL``: far tighter than float32 can get, far looser than the rounding of two
float64 computations that are written differently (a loop, ``einsum``, a closed form).

An answer computed in float32 is wrong, whatever its values: mynn keeps the dtype of the data,
and the inputs are float64. The message says so and how far off float32 made it. An answer that
rounded the right result (to a number of decimals or of significant digits), or computed it in
float32 and returned it as float64, is told which; a small error of any other kind (an epsilon
added, a finite difference) is not called rounding. The look at an array in a message always
shows the first entry that differs, with the digits that tell the two apart.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["RTOL", "ATOL", "KINDS", "differences", "same"]

RTOL = 1e-9
"""Relative tolerance: float64 rounding stays near 1e-15, float32's near 1e-7."""
ATOL = 1e-12
"""Absolute tolerance, for results near 0 (a softmax entry of 1e-300, a gradient of 1e-13)."""

KINDS = {
    "number": "a number",
    "count": "an integer",
    "array": "a numpy array of float64",
    "indices": "a numpy array of integers",
}
"""What an exercise can ask for, and how a message names it."""


def _type_name(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return f"the number {float(value):.6g}"
    return type(value).__name__ if value is not None else "None"


def _type_problem(value, kind: str) -> str | None:
    """Why ``value`` is not of ``kind``, or None if it is."""
    wanted = KINDS[kind]
    if value is None:
        return f"expected {wanted}, received None: is a `return` missing?"
    if isinstance(value, (bool, np.bool_)):
        return f"expected {wanted}, received the bool {value}"
    if kind == "number":
        if isinstance(value, numbers.Real):
            return None
        if isinstance(value, np.ndarray):
            fix = "float(...) turns a one-element array into a number" if value.size == 1 else (
                "the answer is one number"
            )
            return f"expected a number, received {_type_name(value)}: {fix}"
    elif kind == "count":
        if isinstance(value, numbers.Integral):
            return None
        if isinstance(value, numbers.Real):
            return (
                f"expected an integer, received the {type(value).__name__} {value!r}: a count is "
                "an int (use // rather than /, or int(...))"
            )
    elif isinstance(value, np.ndarray):
        return None
    elif isinstance(value, (list, tuple)):
        return (
            f"expected {wanted}, received {_type_name(value)}: build it with numpy operations "
            "or np.array(...)"
        )
    if isinstance(value, str):
        return f"expected {wanted}, received the str {value[:40]!r}: return the value, not its text"
    return f"expected {wanted}, received {_type_name(value)}"


def _dtype_problem(value, kind: str) -> str | None:
    dtype = getattr(value, "dtype", None)
    if dtype is None:  # a Python int or float
        return None
    if kind == "indices":
        if np.issubdtype(dtype, np.integer):
            return None
        return f"expected integer class indices, received an array of {dtype}"
    if kind == "count" or (kind == "number" and np.issubdtype(dtype, np.integer)):
        return None  # an integer is a number: its value decides
    if dtype == np.float64:
        return None
    if np.issubdtype(dtype, np.floating):
        digits = round(-np.log10(np.finfo(dtype).eps))
        return (
            f"the answer is {dtype} but the inputs are float64, and mynn keeps the dtype of the "
            f"data: compute in float64 (no astype({dtype.name}) or dtype={dtype.name}); {dtype} "
            f"keeps about {digits} significant digits"
        )
    text = f"expected float64 numbers, received {dtype}"
    if np.issubdtype(dtype, np.integer):
        text += ": were they built from Python ints (0 rather than 0.0), or made with astype(int)?"
    return text


def _index(flat: int, shape: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _pair(expected: float, received: float) -> tuple[str, str, int]:
    """Both numbers with as many digits as it takes to tell them apart (4 at least), and how
    many that is."""
    for digits in range(4, 18):
        e, r = f"{expected:.{digits}g}", f"{received:.{digits}g}"
        if e != r:
            break
    return e, r, digits


def _kept(length: int, focus: int | None, first: int, last: bool, around: int) -> list[int]:
    """The indices a one-line look shows: the first ``first``, the last (if ``last``), and
    ``focus`` with ``around`` neighbours on each side, in order."""
    kept = set(range(min(first, length)))
    if last:
        kept.add(length - 1)
    if focus is not None:
        kept |= set(range(max(focus - around, 0), min(focus + around + 1, length)))
    return sorted(kept)


def _with_gaps(parts: list[str], kept: list[int]) -> list[str]:
    """``parts`` (one per kept index) with ``...`` where indices were skipped."""
    out, previous = [], -1
    for index, part in zip(kept, parts):
        if index > previous + 1:
            out.append("...")
        out.append(part)
        previous = index
    return out


def _short(array: np.ndarray, focus: tuple[int, ...] | None = None, digits: int = 4) -> str:
    """A one-line look at an array: its first rows and entries, its last, and the entry at
    ``focus`` (an index) with its neighbours in its row, ``digits`` significant digits each,
    ``...`` where entries are left out; so that the entry that differs is always in sight."""
    if array.ndim == 0:
        return f"{array:.{digits}g}"
    rows = array.reshape(len(array), -1) if array.ndim > 1 else array.reshape(1, -1)
    if focus is not None:
        flat = int(np.ravel_multi_index(focus, array.shape))
        row_focus, column_focus = divmod(flat, rows.shape[1])
    else:
        row_focus = column_focus = None

    def row(values: np.ndarray) -> str:
        kept = _kept(len(values), column_focus, 3, len(values) > 3, 1)
        entries = [f"{values[i]:.{digits}g}" for i in kept]
        return "[" + " ".join(_with_gaps(entries, kept)) + "]"

    if array.ndim == 1:
        return row(rows[0])
    kept = _kept(len(rows), row_focus, 2, len(rows) > 2, 0)
    return "[" + " ".join(_with_gaps([row(rows[i]) for i in kept], kept)) + "]"


def _nonfinite(received: np.ndarray, expected: np.ndarray) -> list[str]:
    bad = ~np.isfinite(received) & np.isfinite(expected)
    if not bad.any():
        return []
    found = []
    for name, mask in (("nan", np.isnan(received) & bad), ("inf", np.isinf(received) & bad)):
        if not mask.any():
            continue
        if received.ndim == 0:
            found.append(name)
            continue
        first = _index(int(np.flatnonzero(mask)[0]), received.shape)
        count = int(mask.sum())
        found.append(f"{name} at {count} of {received.size} entries (the first at {first})")
    return [
        f"received {' and '.join(found)} where finite numbers were expected",
        "NaN and inf usually come from np.exp overflowing on a large input (above about 709), "
        "a log of 0, or a division 0/0",
    ]


def _wrong(received: np.ndarray, expected: np.ndarray, exact: bool = False) -> np.ndarray:
    """Where ``received`` is not ``expected`` within the tolerances (NaN matches NaN)."""
    if exact:
        return received != expected
    if np.isfinite(received).all() and np.isfinite(expected).all():
        return np.abs(received - expected) > ATOL + RTOL * np.abs(expected)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf
        close = np.abs(received - expected) <= ATOL + RTOL * np.abs(expected)
    return ~(close | (received == expected) | (np.isnan(received) & np.isnan(expected)))


def _shortest(value: float) -> tuple[int, int]:
    """How many decimals, and how many significant digits, it takes to write ``value``
    exactly (``0.125``: 3 and 3; ``1200.0``: 0 and 2; ``0.1 + 0.2``: 17 and 17)."""
    mantissa, _, exponent = repr(float(abs(value))).partition("e")
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0")
    decimals = max(0, len(fraction) - int(exponent or 0))
    digits = (whole + fraction).lstrip("0").rstrip("0")
    return decimals, max(1, len(digits))


def _rounding(received: np.ndarray, expected: np.ndarray, wrong: np.ndarray) -> str | None:
    """What the answer did to the right result, if it rounded it (to a number of decimals or
    of significant digits) or computed it in float32; None for any other error.

    Rounding is recognised when every entry of the answer is the right result rounded the
    same way (a coincidence on one entry says nothing), with at least 1 decimal or 2
    significant digits (3.0 for 3.0000001 is no sign of rounding); float32 when every entry is
    a float32 number written in float64, one of those that differ needs more than 8 digits (as
    float32 numbers do, in float64: 0.1 in float32 is 0.10000000149011612), and the error is
    below float32's 1e-5.
    """
    if not (wrong & (received != 0)).any() or not np.isfinite(expected).all():
        return None
    shortest = [_shortest(r) for r in received.flat]
    decimals = max(d for d, _ in shortest)
    digits = max(s for _, s in shortest)
    if 1 <= decimals <= 12:
        rounded = np.array([round(float(e), decimals) for e in expected.flat])
        if np.allclose(received.ravel(), rounded, rtol=1e-15, atol=0):
            places = f"{decimals} decimal place{'s' * (decimals != 1)}"
            return (
                f"these are the right values rounded to {places}: return the result as it "
                "is, unrounded"
            )
    if 2 <= digits <= 12:
        rounded = np.array([float(f"{e:.{digits}g}") for e in expected.flat])
        if np.allclose(received.ravel(), rounded, rtol=1e-15, atol=0):
            return (
                f"these are the right values rounded to {digits} significant digits: return "
                "the result as it is, unrounded"
            )
    as_float32 = received.astype(np.float32).astype(np.float64)
    relative = np.abs(received - expected)[wrong] / np.maximum(np.abs(expected[wrong]), ATOL)
    if (
        np.array_equal(as_float32, received)
        and max(shortest[i][1] for i in np.flatnonzero(wrong.ravel())) > 8
        and relative.max() < 1e-5
    ):
        return (
            "these are float32 numbers (about 7 significant digits), written as float64: was "
            "the result computed in float32? Compute in float64 and return it as it is"
        )
    return None


def _value_lines(received: np.ndarray, expected: np.ndarray, kind: str) -> list[str]:
    wrong = _wrong(received, expected, exact=kind in ("count", "indices"))
    if not wrong.any():
        return []
    error = np.abs(received - expected).astype(np.float64)
    if received.ndim == 0:
        e, r, _ = _pair(float(expected), float(received))
        lines = [f"expected {e}, received {r}"]
        if kind == "number":
            relative = error / abs(expected) if expected else np.inf
            lines[0] += f" (absolute error {error:.2g}, relative error {relative:.2g})"
    else:
        first = int(np.flatnonzero(wrong)[0])
        e, r, digits = _pair(float(expected.flat[first]), float(received.flat[first]))
        index = np.unravel_index(first, wrong.shape)
        lines = [
            f"{int(wrong.sum())} of {wrong.size} entries differ; the first at index "
            f"{_index(first, wrong.shape)}: expected {e}, received {r}"
        ]
        if kind == "array":
            worst = int(np.argmax(np.where(wrong, error, -1.0)))
            text = f"largest absolute error {error.flat[worst]:.2g} at {_index(worst, wrong.shape)}"
            nonzero = wrong & (expected != 0)
            if nonzero.any():
                relative = np.where(nonzero, error / np.where(nonzero, np.abs(expected), 1), -1.0)
                worst = int(np.argmax(relative))
                text += (
                    f"; largest relative error {relative.flat[worst]:.2g} at "
                    f"{_index(worst, wrong.shape)}"
                )
            lines.append(text)
        lines += [
            f"expected: {_short(expected, index, digits)}",
            f"received: {_short(received, index, digits)}",
        ]
    if kind in ("number", "array"):
        rounding = _rounding(received, expected, wrong)
        if rounding:
            lines.append(rounding)
    return lines


def _single(received, expected, kind: str) -> list[str]:
    if (  # the usual case of a right array, quickly
        kind == "array"
        and type(received) is np.ndarray
        and received.dtype == np.float64
        and received.shape == np.shape(expected)
        and (np.abs(received - expected) <= ATOL + RTOL * np.abs(expected)).all()
    ):
        return []
    problem = _type_problem(received, kind)
    if problem:
        return [problem]
    expected = np.asarray(expected)
    received_shape = np.shape(received)
    if kind in ("array", "indices") and received_shape != expected.shape:
        text = f"expected shape {expected.shape}, received {received_shape}"
        if received_shape == expected.shape[::-1]:
            text += ": the transpose"
        return [text]
    problem = _dtype_problem(received, kind)
    if problem:
        lines = [problem]
        if kind == "indices" and np.array_equal(received, expected):
            lines.append("the values are right: return them as integers, as np.argmax does")
        elif np.issubdtype(received.dtype, np.floating) and kind != "indices":
            off = np.abs(np.asarray(received, dtype=np.float64) - expected)
            worst = np.max(off / np.maximum(np.abs(expected), ATOL))
            if worst > 0:
                lines.append(f"{received.dtype} put it off by up to {worst:.2g} relative")
        return lines
    integer = isinstance(received, numbers.Integral)
    received = np.asarray(received, dtype=np.float64 if kind != "indices" else None)
    lines = _nonfinite(received.astype(np.float64), expected.astype(np.float64))
    lines = lines or _value_lines(received, expected, kind)
    if lines and kind == "number" and integer and expected != np.floor(expected):
        lines.append(
            f"the answer is an integer, {int(received)}, and the right result is not: // "
            "(integer division) and int(...) drop the fraction; divide with /"
        )
    return lines


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def differences(
    received: object, expected: object, kind: str, parts: tuple[str, ...] = ()
) -> list[str]:
    """The lines that say how ``received`` differs from ``expected``; ``[]`` if it is right.

    Args:
        received: What the answer returned.
        expected: The right result.
        kind: One of [KINDS][mynn.exercises.compare.KINDS]: what the result (or each element
            of a tuple result) must be.
        parts: For a tuple result, the name of each element.

    Examples:
        >>> import numpy as np
        >>> differences(np.array([1.0, 2.0]), np.array([1.0, 2.0]), "array")
        []
        >>> received, expected = np.array([1.0, 2.5, 3.0]), np.array([1.0, 2.0, 3.0])
        >>> for line in differences(received, expected, "array"):
        ...     print(line)
        1 of 3 entries differ; the first at index [1]: expected 2, received 2.5
        largest absolute error 0.5 at [1]; largest relative error 0.25 at [1]
        expected: [1 2 3]
        received: [1 2.5 3]
        >>> for line in differences((1.0, 2.5), (1.0, 2.0), "number", parts=("a", "b")):
        ...     print(line)
        element b (2 of 2) is wrong; a is right
        b: expected 2, received 2.5 (absolute error 0.5, relative error 0.25)
    """
    if not parts:
        return _single(received, expected, kind)
    wanted = f"a tuple of {len(parts)} ({', '.join(parts)})"
    if not isinstance(received, tuple):
        text = f"expected {wanted}, received {_type_name(received)}"
        if isinstance(received, list):
            text += f": `return {', '.join(parts)}` returns a tuple"
        elif received is None:
            text += ": is a `return` missing?"
        else:
            text += f": return all of them, `return {', '.join(parts)}`"
        return [text]
    if len(received) != len(parts):
        return [f"expected {wanted}, received a tuple of {len(received)}"]
    found = {
        name: _single(r, e, kind) for name, r, e in zip(parts, received, expected)
    }
    wrong = [name for name in parts if found[name]]
    if not wrong:
        return []
    right = [name for name in parts if not found[name]]
    positions = _and([f"{name} ({parts.index(name) + 1} of {len(parts)})" for name in wrong])
    head = f"element {positions} is wrong" if len(wrong) == 1 else f"elements {positions} are wrong"
    if right:
        head += f"; {_and(right)} {'is' if len(right) == 1 else 'are'} right"
    lines = [head]
    for name in wrong:
        lines += [f"{name}: {line}" for line in found[name]]
    return lines


def same(a: object, b: object) -> bool:
    """Whether two results agree, within the tolerances (NaN agrees with NaN).

    Used to recognise a known mistake in an answer: ``a`` is the answer, ``b`` the mistake's
    result.
    """
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b))
        )
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and not _wrong(a, b).any()
