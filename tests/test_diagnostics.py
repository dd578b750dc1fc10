"""Diagnostics report the expected signal on a healthy network and on four broken ones."""

import math

import numpy as np
import pytest

from mynn.activations import ReLU, Sigmoid, Softmax, Tanh
from mynn.datasets import spiral_classification
from mynn.diagnostics import diagnose, expected_initial_loss, overfit_one_batch
from mynn.layers import Dense
from mynn.loss import BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError
from mynn.model import Model
from mynn.optimizers import Adam

X, Y = spiral_classification(100, 3, rng=0)


def network(learning_rate=0.01, activation=ReLU, scale=1.0):
    first = Dense(2, 64, weight_initializer="he", rng=0)
    second = Dense(64, 3, weight_initializer="he", rng=1)
    first.weights *= scale
    second.weights *= scale
    model = Model([first, activation(), second, Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(learning_rate=learning_rate))
    return model


def test_healthy_network_has_no_problem_and_is_not_changed():
    model = network()
    before = [layer.weights.copy() for layer in model.layers if isinstance(layer, Dense)]
    diagnosis = diagnose(model, X, Y)
    assert diagnosis.ok, diagnosis.table()
    assert model.optimizer.iterations == 0
    after = [layer.weights for layer in model.layers if isinstance(layer, Dense)]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert abs(diagnosis.get("initial_loss").value - math.log(3)) < 0.3


def test_learning_rate_too_high():
    diagnosis = diagnose(network(learning_rate=5.0), X, Y)
    signal = diagnosis.get("update_ratio", 0)
    assert not signal.ok and signal.value > 1, diagnosis.table()
    assert "learning rate is too high" in signal.message


def test_learning_rate_too_low():
    diagnosis = diagnose(network(learning_rate=1e-7), X, Y)
    signal = diagnosis.get("update_ratio", 2)
    assert not signal.ok and signal.value < 1e-5, diagnosis.table()
    assert "too low" in signal.message


def test_all_zero_initialization():
    diagnosis = diagnose(network(scale=0.0), X, Y)
    assert not diagnosis.get("symmetry", 0).ok
    assert diagnosis.get("dead_relu", 1).value == 1.0
    assert diagnosis.get("gradient_norm", 0).value == 0.0
    assert "identical weights" in diagnosis.get("symmetry", 0).message


def test_saturating_initialization():
    diagnosis = diagnose(network(activation=Tanh, scale=30.0), X, Y)
    saturation = diagnosis.get("saturation", 1)
    assert not saturation.ok and saturation.value > 0.5, diagnosis.table()
    initial = diagnosis.get("initial_loss")
    assert not initial.ok and initial.value > 3 * math.log(3)


def test_sigmoid_saturation_and_binary_expected_loss():
    model = Model([Dense(2, 8, rng=0), Sigmoid(), Dense(8, 1, rng=1), Sigmoid()])
    model.set_loss(BinaryCrossentropy())
    assert expected_initial_loss(model) == pytest.approx(math.log(2))
    model.layers[0].weights *= 100
    diagnosis = diagnose(model, X * 10, (Y == 1).astype(float))
    assert not diagnosis.get("saturation", 1).ok


def test_forward_only_without_targets_and_regression_has_no_expected_loss():
    model = Model([Dense(2, 4, rng=0), ReLU(), Dense(4, 1, rng=0)])
    model.set_loss(MeanSquaredError())
    assert expected_initial_loss(model) is None
    names = {signal.name for signal in diagnose(model, X).signals}
    assert names == {"symmetry", "dead_relu"}


def test_table_and_dict():
    diagnosis = diagnose(network(learning_rate=5.0), X, Y)
    table = diagnosis.table()
    assert table.splitlines()[0].split()[:3] == ["signal", "layer", "value"]
    assert "!!" in table
    values = diagnosis.to_dict()
    assert values["update_ratio[0]"] == diagnosis.get("update_ratio", 0).value
    with pytest.raises(KeyError, match="no signal 'nope'"):
        diagnosis.get("nope")


def test_overfit_one_batch():
    passed, first, final = overfit_one_batch(network(), X[::30], Y[::30])
    assert passed and final < 0.1 * first, (first, final)
    passed, first, final = overfit_one_batch(network(learning_rate=1e-7), X[::30], Y[::30])
    assert not passed and final > 0.9 * first, (first, final)


def test_history_records_diagnostics_per_epoch():
    model = network()
    history = model.train(X, Y, epochs=3, batch_size=64, verbose=0, rng=0, diagnostics=True)
    assert len(history["diagnostics"]) == 3
    assert set(history["diagnostics"][0]) >= {"initial_loss", "dead_relu[1]", "update_ratio[0]"}
    assert history["diagnostics"][-1]["initial_loss"] < history["diagnostics"][0]["initial_loss"]
    assert "diagnostics" not in model.train(X, Y, epochs=1, verbose=0, rng=0)
