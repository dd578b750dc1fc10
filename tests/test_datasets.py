"""Data sets and helpers: shapes, dtypes, seeds, the functions they promise, and errors."""

from __future__ import annotations

import numpy as np
import pytest

from mynn.datasets import (
    linear,
    one_hot,
    sine,
    spiral_classification,
    standardize,
    train_test_split,
    vertical,
)


@pytest.mark.parametrize("make", [spiral_classification, vertical])
def test_classification_shapes_labels_and_seeds(make):
    X, y = make(100, 3, rng=0)
    assert X.shape == (300, 2) and y.shape == (300,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 100, 100]
    X2, y2 = make(100, 3, rng=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(100, 3, rng=np.random.default_rng(0))  # a Generator and its seed agree
    np.testing.assert_array_equal(X, X3)
    assert not np.array_equal(X, make(100, 3, rng=1)[0])


def test_spiral_geometry():
    X, y = spiral_classification(50, 2, noise=0.0, rng=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    for c in range(2):  # each arm: radii evenly spaced from 0 to 1, in some order
        np.testing.assert_allclose(np.sort(radius[y == c]), np.linspace(0, 1, 50), atol=1e-12)
    # without noise, arm c at radius r has angle 4c + 4r, placed at (r sin 2.5t, r cos 2.5t)
    r, c = radius, y
    theta = 4.0 * c + 4.0 * r
    np.testing.assert_allclose(
        X, np.column_stack([r * np.sin(2.5 * theta), r * np.cos(2.5 * theta)]), atol=1e-12
    )


@pytest.mark.parametrize("make", [spiral_classification, vertical])
def test_rows_come_in_random_order(make):
    # A head/tail split (the first 80% to train, the rest to validate) must hold every class
    # in both parts, in about its share: the rows are not grouped by class.
    X, y = make(1000, 3, rng=0)
    head, tail = y[:2400], y[2400:]
    assert np.bincount(head, minlength=3).min() >= 700, np.bincount(head)
    assert np.bincount(tail, minlength=3).min() >= 150, np.bincount(tail)
    # (test_spiral_geometry checks that each row keeps its own label)
    # the order comes from rng: another seed, another order
    assert not np.array_equal(y, make(1000, 3, rng=1)[1])


def test_vertical_centres():
    X, y = vertical(2000, 3, spread=0.05, rng=0)
    for c in range(3):
        np.testing.assert_allclose(X[y == c].mean(axis=0), [(c + 1) / 4, 0.5], atol=0.01)


def test_sine():
    X, y = sine(9, periods=2.0)
    assert X.shape == y.shape == (9, 1)
    np.testing.assert_allclose(X[:, 0], np.linspace(0, 1, 9))
    np.testing.assert_allclose(y[:, 0], np.sin(4 * np.pi * X[:, 0]), atol=1e-15)


def test_linear_given_and_drawn_weights():
    X, y, (w, b) = linear(3, 20, weights=[1.0, -2.0, 0.5], bias=0.25, rng=0)
    assert X.shape == (20, 3) and y.shape == (20, 1)
    assert np.abs(X).max() <= 1.0
    np.testing.assert_allclose(y[:, 0], X @ np.array([1.0, -2.0, 0.5]) + 0.25, rtol=1e-14)
    assert w.tolist() == [1.0, -2.0, 0.5] and b == 0.25
    X1, y1, (w1, b1) = linear(4, 10, rng=3)
    X2, y2, (w2, b2) = linear(4, 10, rng=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(w1, w2)
    assert b1 == b2 and w1.shape == (4,)
    np.testing.assert_allclose(y1[:, 0], X1 @ w1 + b1, rtol=1e-14)
    _, noisy, _ = linear(1, 5000, weights=[0.0], bias=0.0, noise=0.5, rng=0)
    assert abs(noisy.std() - 0.5) < 0.02


def test_train_test_split_partitions_the_samples():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, rng=0)
    assert len(X_test) == 5 and len(X_train) == 15
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(20))
    np.testing.assert_array_equal(X_test[:, 0] // 2, y_test)  # rows stay paired
    again = train_test_split(X, y, test_size=0.25, rng=0)
    np.testing.assert_array_equal(again[1], X_test)
    assert y.tolist() == list(range(20))  # not shuffled in place


def test_one_hot():
    assert one_hot([1, 0]).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    result = one_hot(np.array([2]), n_classes=4, dtype=np.float32)
    assert result.dtype == np.float32 and result.tolist() == [[0, 0, 1, 0]]


def test_standardize_train_then_test():
    X = np.array([[1.0, 10.0, 3.0], [3.0, 30.0, 3.0], [5.0, 20.0, 3.0]])
    scaled, mean, std = standardize(X)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(scaled.std(axis=0)[:2], 1.0, rtol=1e-14)
    assert scaled[:, 2].tolist() == [0.0, 0.0, 0.0]  # a constant feature is only centred
    test_scaled, _, _ = standardize(np.array([[3.0, 20.0, 4.0]]), mean, std)
    np.testing.assert_allclose(test_scaled, [[0.0, 0.0, 1.0]], atol=1e-15)
    assert standardize(X.astype(np.float32))[0].dtype == np.float32
    assert X[0].tolist() == [1.0, 10.0, 3.0]  # input unchanged


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: spiral_classification(0, 3),
            ValueError,
            r"samples must be a positive integer\. Received: samples=0",
        ),
        (lambda: spiral_classification(10, 2.0), ValueError, r"Received: classes=2\.0"),
        (lambda: spiral_classification(10, 3, noise=-1), ValueError, r"Received: noise=-1"),
        (lambda: vertical(10, 2, spread=float("inf")), ValueError, r"Received: spread=inf"),
        (
            lambda: spiral_classification(10, 3, rng=1.5),
            TypeError,
            r"rng must be a numpy\.random\.Generator, an int seed or None\. Received: rng=1\.5",
        ),
        (lambda: sine(0), ValueError, r"Received: samples=0"),
        (
            lambda: linear(2, 10, weights=[1.0]),
            ValueError,
            r"weights must have shape \(2,\)\. Received: weights of shape \(1,\)",
        ),
        (
            lambda: linear(2, 10, weights=[1.0, np.nan]),
            ValueError,
            r"weights must contain only finite numbers",
        ),
        (
            lambda: train_test_split(np.ones((5, 2)), np.ones(4)),
            ValueError,
            r"X and y must have the same number of samples",
        ),
        (
            lambda: train_test_split(np.ones((5, 2)), np.ones(5), test_size=1.0),
            ValueError,
            r"Received: test_size=1\.0",
        ),
        (
            lambda: train_test_split(np.ones((5, 2)), np.ones(5), test_size=0.01),
            ValueError,
            r"at least one of the 5 samples on each side\. Received: test_size=0\.01",
        ),
        (
            lambda: one_hot([0, 3], n_classes=3),
            ValueError,
            r"labels must hold class labels in \[0, 3\)",
        ),
        (
            lambda: one_hot([[0, 1]]),
            ValueError,
            r"labels must be 1-D class indices\. Received: labels of shape \(1, 2\)",
        ),
        (lambda: one_hot([0.5]), ValueError, r"whole numbers"),
        (
            lambda: standardize(np.ones(3)),
            ValueError,
            r"X must be a 2-D array\. Received: X of shape \(3,\)",
        ),
        (
            lambda: standardize(np.array([[1.0, np.inf]])),
            ValueError,
            r"found inf at index \(0, 1\)",
        ),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
