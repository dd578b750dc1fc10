"""Test set-up for the whole repository; the page-running machinery is the plugin it loads.

pytest_pages.py (beside this file) is how pytest collects and runs the code blocks of the
pages (docs/**/*.md) and of docstrings; see its docstring. It is loaded here, in the
top-level conftest, because it must apply to every file pytest-markdown-docs collects,
whichever path pytest is given (a conftest inside docs/ would itself be collected from a
testpath as a docstring and doctest module).
"""

from __future__ import annotations

import importlib.util
import os

# The tests and the build-time blocks train small networks, whose matrix products are too
# small for a second BLAS thread to pay: on a busy 2-core machine it made them 3-20x slower.
# This must be set before numpy is first imported; mkdocs builds started by the tests inherit it.
# Results are the same either way; benchmarks/ measures speed on its own terms.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# PyTorch (the bridge's tests and docs/pytorch.md) reads its thread count from OMP_NUM_THREADS
# when it is imported. Its OpenMP threads wait by spinning: on a loaded 2-core machine the
# digits network's Adam steps ran 25-60x slower with two threads than with one (measured).
os.environ.setdefault("OMP_NUM_THREADS", "1")

pytest_plugins = ["pytest_pages"]

if importlib.util.find_spec("torch") is None:
    # Importing mynn/bridge.py raises ImportError without torch (by design), so its docstring
    # examples are collected only where torch is installed; CI installs torch, and the tests
    # marked requires("torch") fail there without it.
    collect_ignore = ["mynn/bridge.py"]

