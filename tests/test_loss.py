"""Losses: reference values, gradients, target forms, extreme probabilities, dtype and errors."""

from __future__ import annotations

import numpy as np
import pytest
from support import REF, STRICT, numeric_gradient, rel_error

from mynn.activations import Softmax
from mynn.loss import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    softmax_crossentropy_gradient,
)

LABELS = REF["cce.labels"].astype(np.int64)
CASES = {
    "mse": (MeanSquaredError, REF["regression.y_pred"], REF["regression.y_true"]),
    "mae": (MeanAbsoluteError, REF["regression.y_pred"], REF["regression.y_true"]),
    "bce": (BinaryCrossentropy, REF["bce.y_pred"], REF["bce.y_true"]),
    "cce": (CategoricalCrossentropy, REF["cce.y_pred"], LABELS),
    "cce_onehot": (CategoricalCrossentropy, REF["cce.y_pred"], REF["cce.onehot"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(name):
    loss_class, y_pred, y_true = CASES[name]
    key = name.removesuffix("_onehot")
    loss = loss_class()
    np.testing.assert_allclose(loss.forward(y_pred, y_true), REF[f"{key}.per_sample"], rtol=1e-12)
    value = loss.calculate(y_pred, y_true)
    assert type(value) is float
    assert value == pytest.approx(float(REF[f"{key}.mean"]), rel=1e-12)
    np.testing.assert_allclose(loss.backward(y_pred, y_true), REF[f"{key}.gradient"], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_central_differences(name):
    # reference inputs keep away from kinks: |y_pred - y_true| >= 0.2 for MAE, probabilities
    # inside [0.1, 0.9] for BCE and far above the 1e-7 clip for CCE
    loss_class, y_pred, y_true = CASES[name]
    loss = loss_class()
    y_pred = y_pred.copy()
    analytic = loss.backward(y_pred, y_true)
    numeric = numeric_gradient(lambda: loss.calculate(y_pred, y_true), y_pred)
    error = rel_error(analytic, numeric)
    assert error < 1e-6, (name, error)


def test_softmax_crossentropy_gradient_matches_reference_and_central_differences():
    logits = REF["softmax_cce.logits"].copy()
    probs = Softmax().forward(logits)
    np.testing.assert_allclose(probs, REF["softmax_cce.probabilities"], rtol=1e-12)
    for targets in (LABELS, REF["cce.onehot"]):
        fused = softmax_crossentropy_gradient(probs, targets)
        np.testing.assert_allclose(fused, REF["softmax_cce.gradient"], rtol=1e-12, atol=1e-16)

        def scalar(targets=targets) -> float:
            return CategoricalCrossentropy().calculate(Softmax().forward(logits), targets)

        assert rel_error(fused, numeric_gradient(scalar, logits)) < 1e-6
        # the fused gradient equals the two backward passes chained
        softmax = Softmax()
        softmax.forward(logits)
        chained = softmax.backward(CategoricalCrossentropy().backward(probs, targets))
        np.testing.assert_allclose(fused, chained, rtol=1e-10, atol=1e-15)


def test_hand_values():
    assert MeanSquaredError().calculate([[1.0, 2.0], [3.0, 5.0]], [[0.0, 0.0], [3.0, 1.0]]) == 5.25
    assert MeanAbsoluteError().calculate([[1.0, 2.0], [3.0, 5.0]], [[0.0, 0.0], [3.0, 1.0]]) == 1.75
    assert CategoricalCrossentropy().calculate([[0.25, 0.75]], [1]) == pytest.approx(-np.log(0.75))
    assert BinaryCrossentropy().calculate([[0.25]], [0]) == pytest.approx(-np.log(0.75))
    # the one-output shortcut: targets of shape (n,) mean (n, 1)
    assert MeanSquaredError().calculate([[1.0], [2.0]], [0.0, 0.0]) == 2.5


def test_categorical_crossentropy_accepts_indices_and_one_hot_alike():
    loss = CategoricalCrossentropy()
    p = REF["cce.y_pred"]
    assert loss.calculate(p, LABELS) == loss.calculate(p, REF["cce.onehot"])
    np.testing.assert_allclose(
        loss.backward(p, LABELS), loss.backward(p, REF["cce.onehot"]), rtol=1e-15
    )
    assert loss.calculate(p, LABELS.astype(np.float64)) == loss.calculate(
        p, LABELS
    )  # 2.0 is a class


def test_probabilities_exactly_zero_and_one_are_finite_without_warnings():
    p = REF["cce_clipped.y_pred"]
    with np.errstate(**STRICT):
        per_sample = CategoricalCrossentropy().forward(p, REF["cce_clipped.labels"])
        grad = CategoricalCrossentropy().backward(p, REF["cce_clipped.labels"])
        bce = BinaryCrossentropy().forward(p, np.array([[1.0, 0.0], [0.0, 1.0]]))
        bce_grad = BinaryCrossentropy().backward(p, np.array([[1.0, 0.0], [0.0, 1.0]]))
        perfect = BinaryCrossentropy().calculate(p, np.array([[0.0, 1.0], [1.0, 0.0]]))
        fused = softmax_crossentropy_gradient(Softmax().forward(np.array([[1e4, -1e4]])), [1])
    np.testing.assert_allclose(per_sample, REF["cce_clipped.per_sample"], rtol=1e-12)
    assert np.isfinite(grad).all() and np.isfinite(bce).all() and np.isfinite(bce_grad).all()
    assert bce.tolist() == pytest.approx([-np.log(1e-7)] * 2)
    assert 0 < perfect < 1e-6
    assert fused.tolist() == [[1.0, -1.0]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_preserved_and_inputs_not_mutated(name):
    loss_class, y_pred, y_true = CASES[name]
    y_pred32 = y_pred.astype(np.float32)
    y_true_copy = np.array(y_true, copy=True)
    y_pred_copy = y_pred32.copy()
    loss = loss_class()
    assert loss.forward(y_pred32, y_true).dtype == np.float32
    assert loss.backward(y_pred32, y_true).dtype == np.float32
    assert type(loss.calculate(y_pred32, y_true)) is float
    np.testing.assert_array_equal(y_pred32, y_pred_copy)
    np.testing.assert_array_equal(y_true, y_true_copy)


def test_shapes():
    p = REF["cce.y_pred"]
    assert CategoricalCrossentropy().forward(p, LABELS).shape == (4,)
    assert CategoricalCrossentropy().backward(p, LABELS).shape == (4, 3)
    assert MeanSquaredError().forward(np.ones((5, 2)), np.zeros((5, 2))).shape == (5,)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (
            [0, 3],
            ValueError,
            r"y_true must hold class labels in \[0, 3\) for 3 outputs\. "
            r"Received: y_true with values from 0 to 3",
        ),
        ([-1, 0], ValueError, r"Received: y_true with values from -1 to 0"),
        ([0.5, 1.0], ValueError, r"whole numbers\. Received: y_true with values such as \[0\.5"),
        ([0.0, np.nan], ValueError, r"whole numbers\. Received: y_true with values such as \[nan"),
        (
            np.array(["a", "b"]),
            TypeError,
            r"y_true must hold integer class labels\. Received: y_true with dtype <U1",
        ),
    ],
)
def test_bad_class_labels(labels, error, message):
    with pytest.raises(error, match=message):
        CategoricalCrossentropy().calculate(np.full((2, 3), 1 / 3), labels)


def test_length_mismatch_names_both():
    with pytest.raises(
        ValueError,
        match=r"y_pred and y_true must have the same number of samples.*3 samples.*2 samples",
    ):
        MeanSquaredError().calculate(np.ones((3, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"3 samples.*2 samples"):
        CategoricalCrossentropy().calculate(np.full((3, 2), 0.5), [0, 1])


def test_target_shape_mismatch():
    with pytest.raises(
        ValueError,
        match=r"y_true must have shape \(n_samples, 2\).*Received: y_true of shape \(3, 3\)",
    ):
        MeanSquaredError().calculate(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"y_true of shape \(2, 1, 1\)"):
        CategoricalCrossentropy().calculate(np.full((2, 2), 0.5), np.zeros((2, 1, 1)))
    with pytest.raises(
        ValueError,
        match=r"y_pred must have shape \(n_samples, n_outputs\)\. Received: y_pred of shape \(3,\)",
    ):
        MeanSquaredError().calculate(np.ones(3), np.ones(3))


def test_binary_targets_must_be_zero_or_one():
    with pytest.raises(
        ValueError, match=r"targets must be 0 or 1\. Received: y_true with values \[0\.0, 2\.0\]"
    ):
        BinaryCrossentropy().calculate(np.full((2, 1), 0.5), [0, 2])


def test_non_finite_and_empty_targets():
    with pytest.raises(
        ValueError, match=r"y_true must contain only finite numbers; found inf at index \(1, 0\)"
    ):
        MeanSquaredError().calculate(np.ones((2, 1)), [[0.0], [np.inf]])
    with pytest.raises(ValueError, match=r"y_pred must not be empty"):
        MeanSquaredError().calculate(np.ones((0, 1)), np.ones((0, 1)))
    with pytest.raises(ValueError, match=r"y_true must not be empty"):
        MeanSquaredError().calculate(np.ones((1, 1)), np.ones((0, 1)))
