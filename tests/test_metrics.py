"""Accuracy metrics: per-batch scores, running counts, precision and errors."""

from __future__ import annotations

import numpy as np
import pytest

from mynn.metrics import BinaryAccuracy, CategoricalAccuracy, RegressionAccuracy


def test_categorical_accuracy_indices_and_one_hot():
    predictions = np.array([0, 2, 1, 1, 0])
    labels = np.array([0, 2, 2, 1, 1])
    assert CategoricalAccuracy().calculate(predictions, labels) == 0.6
    assert CategoricalAccuracy().calculate(predictions, np.eye(3)[labels]) == 0.6


def test_binary_accuracy_counts_every_output():
    predictions = np.array([[1, 0], [0, 0], [1, 1]])
    targets = np.array([[1, 1], [0, 0], [0, 1]])
    assert BinaryAccuracy().calculate(predictions, targets) == pytest.approx(4 / 6)
    assert BinaryAccuracy().calculate(np.array([[1], [0]]), np.array([1, 1])) == 0.5  # (n,) targets


def test_regression_accuracy_fixed_and_derived_precision():
    acc = RegressionAccuracy(precision=0.1)
    assert acc.calculate(
        np.array([[1.05], [2.5], [0.0]]), np.array([1.0, 2.0, -0.09])
    ) == pytest.approx(2 / 3)
    y = np.array([[0.0], [1.0], [2.0], [3.0]])  # std = sqrt(1.25)
    derived = RegressionAccuracy()
    derived.init(y)
    assert derived.precision == pytest.approx(np.sqrt(1.25) / 250, rel=1e-15)
    derived.init(y * 10)  # already set: kept
    assert derived.precision == pytest.approx(np.sqrt(1.25) / 250, rel=1e-15)
    derived.init(y * 10, reinit=True)
    assert derived.precision == pytest.approx(np.sqrt(1.25) / 25, rel=1e-15)
    acc.init(y * 100)  # a fixed precision never changes
    assert acc.precision == 0.1
    constant = RegressionAccuracy()
    constant.init(np.ones((3, 1)))
    assert constant.precision > 0  # std 0 still leaves a usable tolerance


def test_running_counts_weigh_every_sample_once():
    acc = CategoricalAccuracy()
    acc.update(np.array([0, 1, 2, 0]), np.array([0, 1, 2, 0]))  # 4/4
    acc.update(np.array([1, 1]), np.array([0, 0]))  # 0/2
    assert acc.result() == pytest.approx(4 / 6)  # not the mean of batch scores, 1/2
    assert (acc.correct, acc.count) == (4, 6)
    acc.reset()
    with pytest.raises(
        RuntimeError, match=r"result\(\) needs at least one update\(\) since the last reset\(\)"
    ):
        acc.result()
    acc.update(np.array([2]), np.array([2]))
    assert acc.result() == 1.0


def test_inputs_not_mutated():
    predictions, labels = np.array([0, 1]), np.eye(2)
    RegressionAccuracy(precision=0.5).calculate(predictions[:, None] * 1.0, labels[:, :1])
    CategoricalAccuracy().calculate(predictions, labels)
    assert predictions.tolist() == [0, 1] and labels.tolist() == [[1, 0], [0, 1]]


def test_errors_name_the_shapes():
    with pytest.raises(
        ValueError,
        match=r"predictions and y_true must have the same number of samples.*3 samples.*2 samples",
    ):
        CategoricalAccuracy().calculate(np.array([0, 1, 1]), np.array([0, 1]))
    with pytest.raises(
        ValueError,
        match=(
            r"class indices of the shape of the labels \(2,\)\. "
            r"Received: predictions of shape \(2, 3\)"
        ),
    ):
        CategoricalAccuracy().calculate(np.ones((2, 3)), np.array([0, 1]))
    with pytest.raises(
        ValueError, match=r"predictions of shape \(2, 2\), y_true of shape \(2, 3\)"
    ):
        BinaryAccuracy().calculate(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(
        RuntimeError,
        match=r"RegressionAccuracy has no precision yet: pass precision= or call init\(y\)",
    ):
        RegressionAccuracy().calculate(np.ones((2, 1)), np.ones((2, 1)))
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"precision must be .* Received: precision="):
            RegressionAccuracy(precision=bad)


def test_config_round_trips():
    assert RegressionAccuracy(**RegressionAccuracy(precision=0.3).get_config()).precision == 0.3
    assert RegressionAccuracy(**RegressionAccuracy().get_config()).precision is None
    assert CategoricalAccuracy(**CategoricalAccuracy().get_config()).count == 0
