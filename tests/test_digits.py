"""The bundled UCI digits file and ``mynn.datasets.load_digits``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import mynn
from mynn.datasets import load_digits

DIGITS_FILE = Path(mynn.__file__).parent / "data" / "digits.npz"
# Written by scripts/make_digits.py; the script gives this same file again when re-run.
DIGITS_SHA256 = "aa64e930663d6e9271e1566601d65e70236553f73ec6cb041a4ab37167cf1d04"
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
PIXEL_SUM = 561718  # sum of all raw pixel values (0..16) in the file


def test_file_checksum_and_size():
    data = DIGITS_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == DIGITS_SHA256
    assert 20_000 < len(data) < 100_000, len(data)


def test_file_contents_are_uint8_arrays():
    with np.load(DIGITS_FILE, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        images, labels = archive["images"], archive["labels"]
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert int(images.max()) == 16 and int(images.min()) == 0
    assert int(images.sum(dtype=np.int64)) == PIXEL_SUM
    assert np.bincount(labels, minlength=10).tolist() == CLASS_COUNTS


def test_load_digits_flat_float64():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert float(X.min()) == 0.0 and float(X.max()) == 1.0
    assert np.bincount(y).tolist() == CLASS_COUNTS
    # every value is one of the 17 levels k/16
    np.testing.assert_array_equal(X * 16, np.round(X * 16))
    assert int(round(float(X.sum()) * 16)) == PIXEL_SUM


def test_load_digits_images_and_float32():
    flat, y_flat = load_digits()
    images, y = load_digits(as_images=True, dtype=np.float32)
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    np.testing.assert_array_equal(y, y_flat)
    # row-major flattening: pixel (r, c) is column 8 r + c
    np.testing.assert_allclose(images.reshape(1797, 64), flat, rtol=0, atol=1e-7)
    assert images[0, 3, 5] == np.float32(flat[0, 8 * 3 + 5])


def test_load_digits_returns_fresh_arrays():
    X, y = load_digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = load_digits()
    assert float(X2.min()) == 0.0 and int(y2.min()) == 0


def test_load_digits_rejects_non_float_dtype():
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        load_digits(dtype=np.int32)


def test_reexported():
    assert mynn.load_digits is load_digits
