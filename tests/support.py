"""What several test modules share: the committed reference values, the floating-point traps
the extreme-value tests set, and central differences written independently of mynn.gradcheck
(so a bug there cannot hide a bug in a layer)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"

REF = {k: np.asarray(v) for k, v in json.loads((DATA / "reference.json").read_text()).items()}
"""Inputs and expected outputs/gradients from ``data/make_reference.py`` (plain numpy)."""

STRICT = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}
"""Floating-point traps that signal a real problem. Underflow (e**-20000 rounding to 0.0, the
correctly rounded answer) is not one of them, so it stays at numpy's default "ignore"."""


def numeric_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f() w.r.t. x (perturbed in place and restored)."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        plus = f()
        x.flat[i] = old - h
        minus = f()
        x.flat[i] = old
        grad.flat[i] = (plus - minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
