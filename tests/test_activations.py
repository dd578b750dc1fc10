"""Activations: reference values, gradients, extreme inputs, dtype and errors."""

from __future__ import annotations

import numpy as np
import pytest
from support import REF, STRICT, numeric_gradient, rel_error

from mynn.activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh

ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": lambda: LeakyReLU(alpha=float(REF["leaky_relu.alpha"])),
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "linear": Linear,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_backward_match_reference(name):
    activation = ACTIVATIONS[name]()
    out = activation.forward(REF["activation.inputs"])
    np.testing.assert_allclose(out, REF[f"{name}.output"], rtol=1e-12, atol=1e-15)
    dX = activation.backward(REF["activation.dvalues"])
    np.testing.assert_allclose(dX, REF[f"{name}.dinputs"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradient_matches_central_differences(name):
    rng = np.random.default_rng(5)
    # magnitudes in [0.1, 2]: ReLU's and LeakyReLU's kink at 0 is far beyond the 1e-6 step
    X = rng.uniform(0.1, 2.0, size=(6, 4)) * rng.choice([-1.0, 1.0], size=(6, 4))
    R = rng.normal(size=X.shape)
    activation = ACTIVATIONS[name]()

    def scalar() -> float:
        return float(np.sum(activation.forward(X) * R))

    activation.forward(X)
    analytic = activation.backward(R).copy()
    error = rel_error(analytic, numeric_gradient(scalar, X))
    assert error < 1e-6, (name, error)


def test_hand_values():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    assert ReLU().forward(x).tolist() == [[0.0, 0.0, 0.0, 0.5, 2.0]]
    assert LeakyReLU(0.1).forward(x).tolist() == [[-0.2, -0.05, 0.0, 0.5, 2.0]]
    assert Sigmoid().forward(np.array([[0.0]])).tolist() == [[0.5]]
    assert Sigmoid().forward(np.array([[np.log(3.0)]]))[0, 0] == pytest.approx(0.75, rel=1e-15)
    assert Tanh().forward(np.array([[np.log(2.0)]]))[0, 0] == pytest.approx(
        0.6, rel=1e-15
    )  # (4-1)/(4+1)
    p = Softmax().forward(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(p, [[0.25, 0.75]], rtol=1e-15)
    relu = ReLU()
    relu.forward(x)
    assert relu.backward(np.ones_like(x)).tolist() == [[0.0, 0.0, 0.0, 1.0, 1.0]]  # f'(0) = 0


def test_softmax_rows_sum_to_one_and_shift_invariance():
    X = np.random.default_rng(0).normal(size=(5, 4))
    p = Softmax().forward(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(Softmax().forward(X + 100.0), p, rtol=1e-12)


def test_extreme_inputs_are_finite_without_warnings():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    with np.errstate(**STRICT):
        p = Softmax().forward(logits)
        s = Sigmoid().forward(np.array([[1e3, -1e3, 0.0]]))
        s32 = Sigmoid().forward(np.array([[1e3, -1e3, 100.0, -100.0]], dtype=np.float32))
        t = Tanh().forward(np.array([[1e3, -1e3]]))
        softmax = Softmax()
        softmax.forward(logits)
        grad = softmax.backward(np.ones_like(logits))
        sigmoid = Sigmoid()
        sigmoid.forward(np.array([[1e3, -1e3]]))
        sgrad = sigmoid.backward(np.ones((1, 2)))
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], rtol=1e-15)
    assert s.tolist() == [[1.0, 0.0, 0.5]]
    assert s32.dtype == np.float32 and s32[0, :3].tolist() == [1.0, 0.0, 1.0]
    assert 0 < s32[0, 3] < 1e-43  # sigmoid(-100) = e**-100 / (1 + e**-100), a float32 subnormal
    assert t.tolist() == [[1.0, -1.0]]
    assert np.isfinite(grad).all() and np.isfinite(sgrad).all()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_preserved_and_inputs_not_mutated(name):
    X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    G = np.ones_like(X)
    X0 = X.copy()
    activation = ACTIVATIONS[name]()
    out = activation.forward(X)
    dX = activation.backward(G)
    assert out.dtype == np.float32 and dX.dtype == np.float32, (out.dtype, dX.dtype)
    assert out.shape == X.shape and dX.shape == X.shape
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(G, 1.0)


def test_integer_inputs_become_float64():
    out = Sigmoid().forward(np.array([[0, 1]]))
    assert out.dtype == np.float64


def test_predictions():
    outputs = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    assert Softmax().predictions(outputs).tolist() == [1, 0]
    assert Sigmoid().predictions(np.array([[0.2], [0.5], [0.51]])).tolist() == [[0], [0], [1]]
    np.testing.assert_array_equal(Linear().predictions(outputs), outputs)
    np.testing.assert_array_equal(ReLU().predictions(outputs), outputs)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_backward_before_forward_raises(name):
    activation = ACTIVATIONS[name]()
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        activation.backward(np.ones((2, 3)))


@pytest.mark.parametrize("alpha", [-0.1, 1.0, float("nan")])
def test_leaky_relu_alpha_out_of_range(alpha):
    with pytest.raises(ValueError, match=r"alpha must be .* Received: alpha="):
        LeakyReLU(alpha)


def test_softmax_needs_a_batch_of_rows():
    with pytest.raises(ValueError, match=r"Softmax expects scores of shape \(n_samples, n_class"):
        Softmax().forward(np.array([1.0, 2.0, 3.0]))
