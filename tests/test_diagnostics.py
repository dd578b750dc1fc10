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


# --- readings that used to be wrong (issue 25, referee G10b) -------------------------------


def binary_classifier():
    model = Model([Dense(2, 16, rng=0), ReLU(), Dense(16, 1, rng=1), Sigmoid()])
    model.set_loss(BinaryCrossentropy())
    model.set_optimizer(Adam(learning_rate=0.05))
    return model


def test_a_trained_binary_classifier_is_not_reported_as_saturated():
    from mynn.datasets import vertical

    X2, y2 = vertical(200, 2, rng=0)
    y2 = y2.reshape(-1, 1).astype(float)
    model = binary_classifier()
    model.train(X2, y2, epochs=300, verbose=0)
    output = model.forward(X2)
    usual = float(np.mean((output < 0.01) | (output > 0.99)))
    assert usual > 0.5, usual  # saturated by the hidden layers' rule: it used to be "!!"
    diagnosis = diagnose(model, X2, y2)
    signal = diagnosis.get("saturation", 3)
    assert signal.ok and signal.value < 0.5, diagnosis.table()
    assert "beyond the clip of binary cross-entropy" in signal.message
    assert "does not vanish" in signal.message
    assert diagnosis.ok, diagnosis.table()


def test_an_output_sigmoid_beyond_the_clip_is_reported_and_its_gradient_does_shrink():
    model = Model([Dense(1, 1, rng=0), Sigmoid()])
    model.set_loss(BinaryCrossentropy())
    X2, wrong = np.array([[-1.0], [1.0]]), np.array([[1.0], [0.0]])
    gradients = {}
    for weight in (6.0, 20.0):
        model.layers[0].weights[:] = weight
        diagnosis = diagnose(model, X2, wrong)
        gradients[weight] = diagnosis.get("gradient_norm", 0).value
        assert diagnosis.get("saturation", 1).ok == (weight == 6.0), diagnosis.table()
    assert gradients[6.0] > 0.99 and gradients[20.0] < 0.05, gradients
    # the factor the reading names: d / 1e-7, with d = sigmoid(-20) the distance from 0 or 1
    distance = 1 / (1 + math.exp(20.0))
    assert gradients[20.0] == pytest.approx(distance / 1e-7, rel=1e-6)
    assert "by the factor d / 1e-7" in diagnose(model, X2, wrong).get("saturation", 1).message


def test_an_output_sigmoid_under_another_loss_is_still_saturated():
    # with mean squared error the gradient 2 (p - y) p (1 - p) does vanish at saturation
    model = Model([Dense(1, 1, rng=0), Sigmoid()])
    model.set_loss(MeanSquaredError())
    model.layers[0].weights[:] = 6.0
    signal = diagnose(model, np.array([[-1.0], [1.0]])).get("saturation", 1)
    assert not signal.ok and "their gradients vanish" in signal.message


def twins(constant_next=False, different_biases=False, dropout=False):
    from mynn.layers import Dropout
    from mynn.optimizers import SGD

    layers = [Dense(2, 4, rng=0), Tanh()]
    layers += [Dropout(0.5, rng=0)] if dropout else []
    layers += [Dense(4, 3, rng=1), Softmax()]
    model = Model(layers)
    model.layers[0].weights[:] = 0.5
    if different_biases:
        model.layers[0].biases[:] = [0.0, 0.1, 0.2, 0.3]
    if constant_next:
        model.layers[-2].weights[:] = 0.3
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(learning_rate=0.5))
    return model


@pytest.mark.parametrize(
    ("options", "stay"),
    [
        ({"constant_next": True}, True),
        ({}, False),
        ({"constant_next": True, "different_biases": True}, False),
        ({"constant_next": True, "dropout": True}, False),
    ],
)
def test_the_symmetry_reading_says_whether_identical_units_stay_identical(options, stay):
    model = twins(**options)
    signal = diagnose(model, X).get("symmetry", 0)
    assert not signal.ok and signal.value == 0.0
    assert ("so they get identical gradients and stay identical" in signal.message) == stay
    assert ("so training pulls them apart" in signal.message) == (not stay), signal.message
    # what the reading says is what training does
    model.train(X, Y, epochs=5, verbose=0, rng=0)
    spread = float(np.ptp(model.layers[0].weights, axis=1).max())
    assert (spread == 0.0) == stay, spread


def test_identical_output_units_are_pulled_apart_by_their_targets():
    model = Model([Dense(2, 3, rng=0), Softmax()])
    model.layers[0].weights[:] = 0.5
    model.set_loss(CategoricalCrossentropy())
    signal = diagnose(model, X).get("symmetry", 0)
    assert "they are the model's outputs, which their targets pull apart" in signal.message


def test_a_high_initial_loss_names_unscaled_inputs_or_large_weights():
    from mynn.datasets import load_digits

    digits, labels = load_digits()
    model = Model([Dense(64, 32, rng=0), ReLU(), Dense(32, 10, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    unscaled = diagnose(model, digits * 16, labels).get("initial_loss")  # pixels 0 to 16
    assert not unscaled.ok and unscaled.value > 10, unscaled
    assert "The inputs are not scaled (they reach 16 in size)" in unscaled.message
    assert diagnose(model, digits, labels).get("initial_loss").ok  # the same model, pixels 0-1
    large = diagnose(network(activation=Tanh, scale=30.0), X, Y).get("initial_loss")
    assert "With inputs of at most 0.99" in large.message, large.message
    assert "the initial weights are too large" in large.message


def test_a_nan_or_infinite_gradient_has_its_own_reading():
    model = network()
    model.layers[0].weights[0, 0] = np.inf
    diagnosis = diagnose(model, X, Y)  # no warning either (warnings are errors in the tests)
    for index in (0, 2):
        signal = diagnosis.get("gradient_norm", index)
        assert not signal.ok and math.isnan(signal.value)
        assert "layer 0's weights or biases hold inf or NaN" in signal.message, signal.message
        assert "no gradient reaches" not in signal.message
    assert "hold inf or NaN" in diagnosis.get("symmetry", 0).message
    assert "the loss is not finite" in diagnosis.get("initial_loss").message
    assert "the step is not finite" in diagnosis.get("update_ratio", 0).message


def test_a_gradient_that_overflows_from_finite_weights_says_so():
    model = network()
    diagnosis = diagnose(model, X * 1e300, Y)
    signal = diagnosis.get("gradient_norm", 0)
    assert not signal.ok and not math.isfinite(signal.value), diagnosis.table()
    assert "it overflowed on the way back" in signal.message, signal.message


def test_identical_units_behind_a_silent_relu_get_no_gradient_and_stay_as_they_are():
    # zero weights and biases: every ReLU input is 0, its derivative there is 0, so the random
    # outgoing weights cannot pull the units apart
    model = network()
    model.layers[0].weights[:] = 0.0
    model.layers[0].biases[:] = 0.0
    signal = diagnose(model, X).get("symmetry", 0)
    assert "the ReLU after them never fires on this batch, so they get no gradient" in (
        signal.message
    )
    model.train(X, Y, epochs=5, verbose=0, rng=0)
    assert float(np.ptp(model.layers[0].weights, axis=1).max()) == 0.0


def test_identical_units_whose_inputs_are_all_zero_stay_as_they_are():
    # all-zero initialization: the hidden ReLUs output 0, so the output layer's weights get
    # no gradient although its units have different targets (only its biases move)
    model = network(scale=0.0)
    model.layers[0].biases[:] = 0.0
    signal = diagnose(model, X).get("symmetry", 2)
    assert "the layer's inputs are all 0 on this batch, so the weights get no gradient" in (
        signal.message
    )
    model.train(X, Y, epochs=5, verbose=0, rng=0)
    assert float(np.ptp(model.layers[2].weights, axis=1).max()) == 0.0
    assert float(np.ptp(model.layers[2].biases)) > 0.0
