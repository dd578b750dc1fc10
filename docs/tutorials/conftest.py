"""Fixtures for the tutorial pages whose code needs data that is not bundled with mynn.

The MNIST page's training blocks call the loaders as a reader would. Their fences name a
fixture (```` ```{.python fixture:fashion_mnist_result} ````), which the page does not show:

- before the block, it makes sure the data can be read without a download (from the cache
  or from a system folder such as Debian's ``/usr/share/datasets/fashion-mnist``). Where it
  cannot, the block is skipped with the reason (shown by ``pytest -rs``), except under CI
  (``CI=true``), where ``.ci/run`` installs Debian's ``dataset-fashion-mnist`` and a skipped
  Fashion-MNIST block would hide a broken set-up: there it fails instead;
- after the block, it compares the ``test_accuracy`` the block computed with the result
  committed in ``docs/tutorials/mnist-results.json`` (the page's results table is rendered from
  that file when the site is built) and reports both at the end of the test run. With
  ``MYNN_RECORD_RESULTS=1`` it writes the fresh result into the file instead.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import pytest

from mynn.mnist import DATASETS, fetch

RESULTS = Path(__file__).with_name("mnist-results.json")

# How far a fresh test accuracy may lie from the committed one: the "tolerance" entry of the
# results file, 0.006 in accuracy (0.6 points, 60 of the 10,000 test images). Training 7,035
# float32 Adam steps is not bit-for-bit portable: BLAS kernels round matrix products
# differently, and the rounding differences grow over the steps. Measured on one machine
# (2026-11-30) with the page's settings: 89.17% under OpenBLAS's Haswell kernel, 89.35% under
# its Prescott kernel (0.18 points apart); over the last three epochs the accuracy moved by up
# to 0.25 points. Without the learning-rate decay the two kernels ended 0.58 points apart
# (88.45% and 89.03%). The page's decay and its 15 epochs hold up on a validation part, which
# is where such settings must be chosen (2026-12-06: 50,000 training images, 10,000 split off
# for validation, seed 0): with the decay, validation accuracy over epochs 8-15 stayed within
# 89.07-89.98% (best 89.98% at epoch 14, 89.96% at 15); without it, 87.26-89.68%. 0.6 points
# is about three times the measured spread. The target (88%) is asserted in the block itself.
#
# The page's "Check yourself" on pixels x255 also names fashion_mnist_result, for its skip
# rule only: that block defines no ``test_accuracy``, so nothing is compared or recorded after
# it, and it never uses the test images. The page quotes one longer run of the same question,
# measured once and not repeated by the tests (2026-12-06, OpenBLAS, 2 threads): the page's
# network and settings, 15 epochs on training images 0-49,999, validated after each epoch on
# images 50,000-59,999; scaled pixels ended at 89.42% (epoch 15), raw bytes (x255) at 85.77%,
# their best epoch 86.06%; the raw-byte run kept its ReLUs alive (9% and 2% never fired).

IN_CI = os.environ.get("CI", "").lower() == "true"
RECORD = os.environ.get("MYNN_RECORD_RESULTS") == "1"
_reports: list[str] = []


def _require(key: str) -> None:
    """Skip (fail under CI, for Fashion-MNIST) unless ``key`` is readable with no download."""
    try:
        fetch(key, download=False)
    except FileNotFoundError as error:
        first_line = str(error).splitlines()[0]
        reason = (
            f"{first_line} (and no system copy); `python -m mynn.mnist {key}` downloads it, "
            "the error of the loader says where to put the files by hand"
        )
        if IN_CI and DATASETS[key]["system_package"]:
            pytest.fail(
                f"CI must run this block: .ci/run installs {DATASETS[key]['system_package']}.\n"
                + reason,
                pytrace=False,
            )
        pytest.skip(reason)


def _result_fixture(key: str, request: pytest.FixtureRequest):
    _require(key)
    yield
    namespace = getattr(request.node, "block_namespace", None) or {}
    accuracy = namespace.get("test_accuracy")
    if accuracy is None:  # the block failed before computing it; its failure says why
        return
    accuracy = float(accuracy)
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    title = DATASETS[key]["title"]
    if RECORD:
        results[key] = _measurement(accuracy, namespace)
        _write_atomically(RESULTS, json.dumps(results, indent=2) + "\n")
        _reports.append(f"{title}: test accuracy {accuracy:.4f}, recorded in {RESULTS.name}")
        return
    committed = results.get(key)
    if committed is None:
        _reports.append(
            f"{title}: test accuracy {accuracy:.4f}; no committed result to compare with "
            f"(run with MYNN_RECORD_RESULTS=1 to record it in {RESULTS.name})"
        )
        return
    expected, tolerance = committed["test_accuracy"], results["tolerance"]
    _reports.append(
        f"{title}: test accuracy {accuracy:.4f}, committed {expected:.4f} "
        f"(difference {accuracy - expected:+.4f}, tolerance {tolerance})"
    )
    assert abs(accuracy - expected) <= tolerance, (
        f"{title}: the block reached a test accuracy of {accuracy:.4f}, but "
        f"{RESULTS.name} says {expected:.4f} (tolerance {tolerance}). If mynn changed on "
        "purpose, record the new result with MYNN_RECORD_RESULTS=1 and commit the file."
    )


def _measurement(accuracy: float, namespace: dict) -> dict:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # optional: it only names the BLAS in the record
        threadpool_info = list
    blas = next((lib for lib in threadpool_info() if lib["user_api"] == "blas"), {})
    return {
        "test_accuracy": round(accuracy, 6),
        "epochs": len(namespace["history"]["loss"]),
        "recorded": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "blas": f"{blas.get('internal_api', '?')} {blas.get('version', '?')} "
        f"{blas.get('architecture', '?')} kernel, {blas.get('num_threads', '?')} thread(s)",
    }


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


@pytest.fixture
def fashion_mnist_result(request):
    """Fashion-MNIST readable without a download, and the block's accuracy checked after it."""
    yield from _result_fixture("fashion-mnist", request)


@pytest.fixture
def mnist_result(request):
    """MNIST readable without a download, and the block's accuracy checked after it."""
    yield from _result_fixture("mnist", request)


def pytest_terminal_summary(terminalreporter):
    if _reports:
        terminalreporter.section("MNIST page results")
        for line in _reports:
            terminalreporter.write_line(line)
