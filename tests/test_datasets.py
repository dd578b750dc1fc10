"""Data sets and helpers: shapes, dtypes, seeds, the functions they promise, and errors."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mynn.datasets
from mynn.datasets import (
    blobs,
    circles,
    curve,
    linear,
    one_hot,
    sine,
    spiral_classification,
    standardize,
    train_test_split,
    vertical,
    xor,
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


def test_a_constant_column_whose_numpy_std_is_not_zero_is_only_centred():
    # the example: np.std of seven 0.1 values is 1.4e-17, and a test value of 0.2
    # used to become 7.2e15
    column = np.full((7, 1), 0.1)
    assert column.std(axis=0)[0] == pytest.approx(1.39e-17, rel=0.01)
    scaled, mean, std = standardize(column)
    assert std.tolist() == [1.0] and mean.tolist() == [0.1]
    assert scaled.ravel().tolist() == [0.0] * 7
    assert standardize(np.array([[0.2]]), mean, std)[0].tolist() == [[0.1]]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    value=st.floats(allow_nan=False, allow_infinity=False, width=32),
    n=st.integers(1, 3000),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_every_constant_column_is_only_centred(value, n, dtype):
    column = np.full((n, 1), value, dtype=dtype)
    scaled, mean, std = standardize(column)
    assert std.tolist() == [1.0], (value, n, std)
    assert (scaled == 0).all(), scaled[:3]
    assert scaled.dtype == mean.dtype == std.dtype == dtype


def test_a_long_constant_column_is_only_centred():
    # numpy adds the rows of an axis-0 mean one by one: its error grows with the rows
    # (here 1e6 rows of 0.1: np.std about 7e-12), the corrected mean's does not
    for dtype in (np.float32, np.float64):
        column = np.full((10**6, 2), 0.1, dtype=dtype)
        assert column.std(axis=0)[0] > 0
        scaled, _, std = standardize(column)
        assert std.tolist() == [1.0, 1.0] and not scaled.any(), dtype


def test_a_spread_of_a_few_units_in_the_last_digit_counts_as_constant_and_more_does_not():
    base = 1e6
    ulp = np.spacing(base)
    few = np.array([[base], [base], [base + 2 * ulp]])  # std 0.94 ulp, far below 10 eps |mean|
    assert standardize(few)[2].tolist() == [1.0]
    many = np.array([[base], [base + 4096 * ulp]])  # 2048 ulp: a real, tiny spread
    scaled, _, std = standardize(many)
    assert std[0] == pytest.approx(2048 * ulp, rel=1e-12)
    assert scaled.ravel().tolist() == [-1.0, 1.0]


def test_a_given_std_goes_through_the_same_rule():
    X = np.array([[0.1, 2.0], [0.1, 4.0]])
    scaled, _, std = standardize(X, mean=[0.1, 3.0], std=[1.4e-17, 1.0])
    assert std.tolist() == [1.0, 1.0] and scaled[:, 0].tolist() == [0.0, 0.0]
    # a std far above the rule is kept, however small
    scaled, _, std = standardize(np.array([[0.0], [2e-300]]), mean=[1e-300], std=[1e-300])
    assert std.tolist() == [1e-300] and scaled.ravel().tolist() == [-1.0, 1.0]


def test_standardize_agrees_with_numpy_on_ordinary_data():
    X = np.random.default_rng(0).normal(5.0, 3.0, size=(500, 4))
    scaled, mean, std = standardize(X)
    # different summation orders: equal to a few units in the last place
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(std, X.std(axis=0), rtol=1e-14)
    # (values near the mean lose digits in X - mean: an absolute tolerance for them)
    np.testing.assert_allclose(scaled, (X - X.mean(axis=0)) / X.std(axis=0), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardize_of_huge_values_does_not_overflow(dtype):
    top = np.finfo(dtype).max
    X = np.array([[top], [-top], [top / 2]], dtype=dtype)
    with np.errstate(all="raise"):  # no overflow on the way either
        scaled, mean, std = standardize(X)
    expected = (X.astype(np.float64) / top - np.mean(X / top)) / np.std(X / top)
    np.testing.assert_allclose(scaled, expected, rtol=1e-5)
    assert np.isfinite(mean).all() and np.isfinite(std).all()


def test_a_scaled_value_too_large_for_the_dtype_is_an_error():
    with pytest.raises(
        ValueError,
        match=r"X\[0, 0\] is too far from its feature's mean.*"
        r"Received: X\[0, 0\]=10000000000\.0",
    ):
        standardize(np.array([[1e10]]), np.zeros(1), np.array([1e-300]))


SIZE_CASES = [
    (
        lambda: spiral_classification(10**9, 3),
        "spiral_classification",
        72 * 10**9,
        r"samples=1000000000, classes=3",
    ),
    (
        lambda: spiral_classification(1, 10**9),
        "spiral_classification",
        24 * 10**9,
        r"samples=1, classes=1000000000",
    ),
    (lambda: vertical(10**9, 2), "vertical", 48 * 10**9, r"samples=1000000000, classes=2"),
    (lambda: sine(10**9), "sine", 16 * 10**9, r"samples=1000000000"),
    (
        lambda: linear(10**5, 10**5),
        "linear",
        8 * (10**5 * (10**5 + 1) + 10**5),
        r"nfeatures=100000, nsamples=100000",
    ),
    (
        lambda: one_hot([0, 1], n_classes=10**12),
        "one_hot",
        16 * 10**12,
        r"2 labels, n_classes=1000000000000, dtype=float64",
    ),
    (
        lambda: one_hot(np.array([0, 10**9]), dtype=np.float32),
        "one_hot",
        8 * (10**9 + 1),
        r"n_classes=1000000001 \(the largest label plus one\), dtype=float32",
    ),
]


@pytest.mark.parametrize(("call", "name", "n_bytes", "received"), SIZE_CASES)
def test_a_request_too_large_is_refused_with_its_size_in_bytes(call, name, n_bytes, received):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            call()
        taken = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert taken < 10**6, taken  # refused before any array was made
    assert str(caught.value).startswith(
        f"{name} would return arrays of {n_bytes:,} bytes in all, more than the limit of "
        "1,073,741,824 bytes (mynn.datasets.MAX_BYTES)"
    ), caught.value
    assert re.search(f"Received: .*{received}", str(caught.value)), caught.value


def test_the_size_limit_is_the_module_constant_and_can_be_raised(monkeypatch):
    assert mynn.datasets.MAX_BYTES == 2**30
    monkeypatch.setattr(mynn.datasets, "MAX_BYTES", 24 * 100 * 3)
    X, y = spiral_classification(100, 3, rng=0)  # exactly at the limit: made
    assert X.nbytes + y.nbytes == mynn.datasets.MAX_BYTES
    with pytest.raises(ValueError, match=r"would return arrays of 7,272 bytes"):
        spiral_classification(101, 3, rng=0)
    with pytest.raises(ValueError, match=r"numbered with np\.unique\(labels, return_inverse"):
        one_hot(np.array([1999, 2005]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: spiral_classification(10**5, 3, rng=0),
        lambda: vertical(10**5, 3, rng=0),
        lambda: sine(10**5),
        lambda: linear(10, 10**5, noise=0.1, rng=0),
    ],
)
def test_making_the_data_takes_at_most_3_5_times_what_it_returns(make):
    # the working memory that MAX_BYTES's docstring states
    tracemalloc.start()
    try:
        result = make()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    returned = sum(part.nbytes for part in result if isinstance(part, np.ndarray))
    assert peak <= 3.5 * returned, peak / returned


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: spiral_classification(50, 2, noise=1e308, rng=0),
            r"noise is so large that the angles overflow float64.*Received: noise=1e\+308",
        ),
        (
            lambda: vertical(50, 2, spread=1e308, rng=0),
            r"spread is so large that the points overflow float64.*Received: spread=1e\+308",
        ),
        (
            lambda: sine(3, periods=1e308),
            r"periods is so large that 2 pi periods x overflows.*Received: periods=1e\+308",
        ),
        (
            lambda: linear(2, 50, weights=[1e308, 1e308], rng=0),
            r"weights, bias or noise are so large that y = X w \+ b \+ noise overflows float64.*"
            r"Received: largest \|weight\| 1e\+308",
        ),
        (lambda: linear(1, 50, noise=1e308, rng=0), r"Received: .*noise=1e\+308"),
    ],
)
def test_a_generator_never_returns_inf_or_nan(call, message):
    with np.errstate(all="raise"):  # and numpy's overflow warnings stay inside
        with pytest.raises(ValueError, match=message):
            call()


def test_generators_with_large_but_harmless_arguments_still_work():
    X, _ = spiral_classification(3, 2, noise=1e6, rng=0)
    assert np.isfinite(X).all() and np.abs(X).max() <= 1.0
    X, _ = vertical(3, 2, spread=1e300, rng=0)
    assert np.isfinite(X).all()


def test_train_test_split_needs_two_samples_and_a_share_not_a_count():
    for n in (0, 1):
        with pytest.raises(ValueError, match=rf"at least 2 samples.*Received: X with {n} sample"):
            train_test_split(np.ones((n, 2)), np.ones(n))
    with pytest.raises(
        ValueError,
        match=r"a share of the samples in \(0, 1\), not a count: for 3 of the 7 samples, pass "
        r"test_size=3/7\. Received: test_size=3",
    ):
        train_test_split(np.ones((7, 2)), np.ones(7), test_size=3)
    # the test part holds round(n * test_size) samples, a half going to the even number
    assert len(train_test_split(np.ones((5, 1)), np.ones(5), test_size=0.5)[1]) == 2
    assert len(train_test_split(np.ones((7, 1)), np.ones(7), test_size=0.5)[1]) == 4
    assert len(train_test_split(np.ones((10, 1)), np.ones(10), test_size=0.3)[1]) == 3


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


# --- the playground's data sets: circles, xor, blobs, curve ---------------------------------

PLANE_SETS = [
    lambda seed, **kw: circles(60, rng=seed, **kw),
    lambda seed, **kw: xor(60, rng=seed, **kw),
    lambda seed, **kw: blobs(60, 2, rng=seed, **kw),
]


@pytest.mark.parametrize("make", PLANE_SETS)
def test_plane_sets_shapes_balance_seeds_and_order(make):
    X, y = make(0)
    assert X.shape == (120, 2) and y.shape == (120,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [60, 60]
    X2, y2 = make(0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(np.random.default_rng(0))  # a Generator and its seed agree
    np.testing.assert_array_equal(X, X3)
    assert not np.array_equal(X, make(1)[0])
    # rows shuffled, not grouped by class: both halves hold both classes in about their share
    assert 20 <= np.bincount(y[:60], minlength=2).min(), np.bincount(y[:60])


def test_circles_radii_and_angles():
    X, y = circles(2000, rng=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    inner, outer = radius[y == 0], radius[y == 1]
    assert inner.min() >= 0 and inner.max() <= 0.5 and inner.max() > 0.49
    assert outer.min() >= 0.7 and outer.max() <= 1.0 and outer.min() < 0.71
    # angles uniform: each quarter of the circle holds about a quarter of each class
    quarter = (np.arctan2(X[:, 1], X[:, 0]) // (np.pi / 2)).astype(int)
    counts = np.array([[np.sum((quarter == q) & (y == c)) for q in range(-2, 2)] for c in (0, 1)])
    assert counts.min() > 400 and counts.max() < 600, counts
    # noise moves points off their rings: some of the disc's beyond 0.5, the ring's inside 0.7
    X_noisy, y_noisy = circles(2000, noise=0.1, rng=0)
    radius = np.hypot(X_noisy[:, 0], X_noisy[:, 1])
    assert (radius[y_noisy == 0] > 0.5).mean() > 0.05
    assert (radius[y_noisy == 1] < 0.7).mean() > 0.05


def test_xor_labels_follow_the_quadrants_signs():
    X, y = xor(1000, rng=0)
    same_sign = (X[:, 0] > 0) == (X[:, 1] > 0)
    np.testing.assert_array_equal(y, np.where(same_sign, 0, 1))
    assert np.abs(X).min() >= 0.05 and np.abs(X).max() <= 1.0
    for c, quadrants in ((0, [(1, 1), (-1, -1)]), (1, [(1, -1), (-1, 1)])):
        for sx, sy in quadrants:  # each of a class's two quadrants gets about half of it
            share = np.mean((np.sign(X[y == c, 0]) == sx) & (np.sign(X[y == c, 1]) == sy))
            assert 0.45 < share < 0.55, (c, sx, sy, share)
    X_noisy, y_noisy = xor(1000, noise=0.3, rng=0)
    # the labels are those of the points before the noise, which moves some across an axis
    wrong_side = (X_noisy[:, 0] * X_noisy[:, 1] < 0) != (y_noisy == 1)
    assert 0.01 < wrong_side.mean() < 0.5, wrong_side.mean()
    assert np.bincount(y_noisy).tolist() == [1000, 1000]


@pytest.mark.parametrize("classes", [1, 3, 5])
def test_blobs_centres_and_spread(classes):
    X, y = blobs(3000, classes, spread=0.1, rng=0)
    assert np.bincount(y).tolist() == [3000] * classes
    for c in range(classes):
        angle = 2 * np.pi * c / classes
        centre = [0.6 * np.cos(angle), 0.6 * np.sin(angle)]
        np.testing.assert_allclose(X[y == c].mean(axis=0), centre, atol=0.01)
        np.testing.assert_allclose(X[y == c].std(axis=0), [0.1, 0.1], rtol=0.05)
    # the docstring's distance between neighbouring centres for 3 classes
    assert round(1.2 * np.sin(np.pi / 3), 2) == 1.04


def test_curve_is_the_sine_of_pi_x_plus_noise():
    X, y = curve(500, rng=0)
    assert X.shape == y.shape == (500, 1) and X.dtype == y.dtype == np.float64
    assert X.min() >= -1 and X.max() <= 1 and X.min() < -0.98 and X.max() > 0.98
    np.testing.assert_allclose(y, np.sin(np.pi * X), atol=1e-15)
    assert not (np.diff(X[:, 0]) > 0).all()  # random order, not sorted
    X_noisy, y_noisy = curve(500, noise=0.2, rng=0)
    np.testing.assert_array_equal(X_noisy, X)
    assert 0.18 < (y_noisy - np.sin(np.pi * X_noisy)).std() < 0.22
    np.testing.assert_array_equal(curve(500, noise=0.2, rng=0)[1], y_noisy)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: circles(0),
            ValueError,
            r"samples must be a positive integer\. Received: samples=0",
        ),
        (lambda: circles(10, noise=-0.1), ValueError, r"Received: noise=-0\.1"),
        (lambda: xor(10, noise="a"), TypeError, r"noise must be a real number"),
        (lambda: xor(2.5), ValueError, r"Received: samples=2\.5"),
        (lambda: blobs(10, 0), ValueError, r"Received: classes=0"),
        (lambda: blobs(10, 2, spread=-1), ValueError, r"Received: spread=-1"),
        (lambda: curve(10, rng=-1), ValueError, r"an int seed must be 0 or more"),
        (lambda: curve(10, rng=1.5), TypeError, r"rng must be a numpy\.random\.Generator"),
        (
            lambda: circles(50, noise=1e308, rng=0),
            ValueError,
            r"noise is so large that the points of circles overflow.*Received: noise=1e\+308",
        ),
        (lambda: xor(50, noise=1e308, rng=0), ValueError, r"Received: noise=1e\+308"),
        (lambda: blobs(50, 2, spread=1e308, rng=0), ValueError, r"Received: spread=1e\+308"),
        (lambda: curve(50, noise=1e308, rng=0), ValueError, r"Received: noise=1e\+308"),
        (
            lambda: blobs(10**8, 3),
            ValueError,
            r"blobs would return arrays of 7,200,000,000 bytes.*Received: samples=100000000, "
            r"classes=3",
        ),
        (lambda: circles(10**8), ValueError, r"circles would return arrays of 4,800,000,000"),
        (lambda: curve(10**9), ValueError, r"curve would return arrays of 16,000,000,000"),
    ],
)
def test_playground_sets_refuse_bad_arguments_by_name(call, error, message):
    with np.errstate(all="raise"):  # overflow is refused by name, not left to numpy
        with pytest.raises(error, match=message):
            call()
