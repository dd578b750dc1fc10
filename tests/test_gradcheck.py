"""mynn.gradcheck: it passes correct gradients, catches wrong ones and leaves its target alone."""

from __future__ import annotations

import numpy as np
import pytest

from mynn.activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from mynn.gradcheck import gradient_check, numerical_gradient, relative_error
from mynn.layers import Dense
from mynn.loss import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
)
from mynn.model import Model

RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 1.5, size=(5, 3)) * RNG.choice([-1.0, 1.0], size=(5, 3))  # off the kinks


def test_relative_error_values():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert relative_error(np.array([3.0]), np.array([1.0])) == 0.5  # |3-1| / (3+1)


def test_numerical_gradient_of_a_cubic_and_values_restored():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    "target",
    [
        Dense(3, 4, rng=0),
        Dense(
            3,
            4,
            rng=0,
            weight_regularizer_l1=0.1,
            weight_regularizer_l2=0.1,
            bias_regularizer_l2=0.1,
        ),
        ReLU(),
        LeakyReLU(0.2),
        Sigmoid(),
        Tanh(),
        Softmax(),
        Linear(),
    ],
    ids=repr,
)
def test_correct_layers_pass(target):
    errors = gradient_check(target, X, rng=0)
    assert errors["inputs"] < 1e-7 and max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    ("loss", "y_pred", "y_true"),
    [
        (MeanSquaredError(), X, np.zeros((5, 3))),
        (MeanAbsoluteError(), X, np.zeros((5, 3))),
        (BinaryCrossentropy(), np.full((5, 3), 0.3), np.eye(5, 3)),
        (CategoricalCrossentropy(), np.full((5, 3), 0.25), np.array([0, 1, 2, 1, 0])),
    ],
    ids=["MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy", "CategoricalCrossentropy"],
)
def test_correct_losses_pass(loss, y_pred, y_true):
    assert gradient_check(loss, y_pred, y_true)["inputs"] < 1e-7


def test_model_passes_and_is_left_untouched():
    model = Model(
        [
            Dense(3, 4, rng=0, dtype=np.float32),
            Tanh(),
            Dense(4, 3, rng=1, dtype=np.float32),
            Softmax(),
        ]
    )
    model.set_loss(CategoricalCrossentropy())
    weights = model.layers[0].weights.copy()
    errors = gradient_check(model, X, np.array([0, 1, 2, 1, 0]))
    assert sorted(errors) == ["0.biases", "0.weights", "2.biases", "2.weights", "inputs"]
    assert max(errors.values()) < 1e-6, errors  # checked in float64 although the model is float32
    assert model.layers[0].weights.dtype == np.float32
    np.testing.assert_array_equal(model.layers[0].weights, weights)
    assert model.layers[0].output is None and model.layers[0].dweights is None


class WrongReLU(ReLU):
    """A classic bug: the gate uses the incoming gradient instead of the inputs."""

    def _gradient(self, dvalues):
        return dvalues * (dvalues > 0)


class HalfDense(Dense):
    """Another one: the weight gradient misses a factor of 2."""

    def backward(self, dvalues):
        dinputs = super().backward(dvalues)
        self.dweights = self.dweights / 2
        return dinputs


def test_wrong_gradients_are_caught():
    assert gradient_check(WrongReLU(), X, rng=0)["inputs"] > 0.1
    errors = gradient_check(HalfDense(3, 2, rng=0), X, rng=0)
    assert errors["weights"] == pytest.approx(1 / 3, rel=1e-5)  # |g/2 - g| / (g/2 + g)
    assert errors["inputs"] < 1e-7 and errors["biases"] < 1e-7


def test_target_layer_left_untouched():
    layer = Dense(3, 2, rng=0, dtype=np.float32)
    before = layer.weights.copy()
    gradient_check(layer, X)
    assert layer.weights.dtype == np.float32 and layer.output is None
    np.testing.assert_array_equal(layer.weights, before)


def test_errors():
    with pytest.raises(
        TypeError,
        match=r"gradient_check takes a mynn layer, activation, loss or model\. "
        r"Received: target='relu'",
    ):
        gradient_check("relu", X)
    with pytest.raises(ValueError, match=r"gradient_check of a loss needs y_true"):
        gradient_check(MeanSquaredError(), X)
    with pytest.raises(RuntimeError, match=r"needs a loss; call set_loss\(\) first"):
        gradient_check(Model([Dense(3, 1)]), X, np.zeros(5))
    model = Model([Dense(3, 1)])
    model.set_loss(MeanSquaredError())
    with pytest.raises(ValueError, match=r"gradient_check of a model needs y_true"):
        gradient_check(model, X)
    with pytest.raises(ValueError, match=r"inputs must contain only finite numbers"):
        gradient_check(ReLU(), np.array([[np.nan]]))
