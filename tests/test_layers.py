"""Dense and Dropout: reference values, gradients, dtype, seeds and errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from support import DATA, REF, numeric_gradient, rel_error

from mynn.layers import Dense, Dropout


def reference_dense(**kwargs) -> Dense:
    layer = Dense(3, 2, **kwargs)
    layer.weights = REF["dense.weights"].copy()
    layer.biases = REF["dense.biases"].copy()
    return layer


# ------------------------------------------------------------------ reference values
def test_reference_file_matches_its_generator():
    spec = importlib.util.spec_from_file_location(
        "make_reference_check", DATA / "make_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    assert sorted(built) == sorted(REF)
    for key, value in built.items():
        np.testing.assert_allclose(REF[key], value, rtol=1e-13, atol=0, err_msg=key)


def test_dense_forward_backward_match_reference():
    layer = reference_dense()
    X, G = REF["dense.inputs"], REF["dense.dvalues"]
    np.testing.assert_allclose(layer.forward(X), REF["dense.output"], rtol=1e-12)
    dX = layer.backward(G)
    np.testing.assert_allclose(dX, REF["dense.dinputs"], rtol=1e-12)
    np.testing.assert_allclose(layer.dweights, REF["dense.dweights"], rtol=1e-12)
    np.testing.assert_allclose(layer.dbiases, REF["dense.dbiases"], rtol=1e-12)
    assert layer.dinputs is dX


def test_dense_regularized_matches_reference():
    l1w, l2w, l1b, l2b = REF["dense_regularized.factors"]
    layer = reference_dense(
        weight_regularizer_l1=l1w,
        weight_regularizer_l2=l2w,
        bias_regularizer_l1=l1b,
        bias_regularizer_l2=l2b,
    )
    layer.forward(REF["dense.inputs"])
    dX = layer.backward(REF["dense.dvalues"])
    np.testing.assert_allclose(layer.dweights, REF["dense_regularized.dweights"], rtol=1e-12)
    np.testing.assert_allclose(layer.dbiases, REF["dense_regularized.dbiases"], rtol=1e-12)
    np.testing.assert_allclose(dX, REF["dense.dinputs"], rtol=1e-12)  # penalties leave dX alone
    assert layer.regularization_loss() == pytest.approx(
        float(REF["dense_regularized.penalty"]), rel=1e-12
    )


# ------------------------------------------------------------------ gradient checks
def check_layer_gradients(layer, X: np.ndarray, *, reset=None) -> dict[str, float]:
    """Relative errors of dinputs and each parameter gradient of ``sum(forward(X) * R) + penalty``.
    """
    R = np.random.default_rng(7).normal(size=layer.forward(X, training=True).shape)

    def scalar() -> float:
        if reset is not None:
            reset()
        return float(np.sum(layer.forward(X, training=True) * R)) + layer.regularization_loss()

    if reset is not None:
        reset()
    layer.forward(X, training=True)
    analytic_inputs = layer.backward(R).copy()
    analytic = {name: grad.copy() for name, (_, grad) in layer.parameters().items()}
    errors = {"inputs": rel_error(analytic_inputs, numeric_gradient(scalar, X))}
    for name, (value, _) in layer.parameters().items():
        errors[name] = rel_error(analytic[name], numeric_gradient(scalar, value))
    return errors


@pytest.mark.parametrize(
    "regularizer",
    [
        {},
        {"weight_regularizer_l1": 0.05},
        {"weight_regularizer_l2": 0.05},
        {"bias_regularizer_l1": 0.05},
        {"bias_regularizer_l2": 0.05},
        {
            "weight_regularizer_l1": 0.01,
            "weight_regularizer_l2": 0.02,
            "bias_regularizer_l1": 0.03,
            "bias_regularizer_l2": 0.04,
        },
    ],
    ids=["plain", "w_l1", "w_l2", "b_l1", "b_l2", "all"],
)
def test_dense_gradients_match_central_differences(regularizer):
    rng = np.random.default_rng(3)
    layer = Dense(4, 3, rng=0, **regularizer)
    layer.biases = rng.uniform(0.2, 1.0, size=3) * rng.choice([-1.0, 1.0], size=3)  # off L1's kink
    X = rng.normal(size=(5, 4))
    errors = check_layer_gradients(layer, X)
    assert sorted(errors) == ["biases", "inputs", "weights"]
    assert max(errors.values()) < 1e-6, errors


def test_dropout_gradient_with_fixed_mask():
    layer = Dropout(0.4, rng=0)
    X = np.random.default_rng(1).normal(size=(6, 5))

    def same_mask():  # the same seed before every forward gives the same mask
        layer.rng = np.random.default_rng(123)

    errors = check_layer_gradients(layer, X, reset=same_mask)
    assert errors["inputs"] < 1e-6, errors


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5, rng=4)
    X = np.random.default_rng(0).uniform(1.0, 2.0, size=(50, 8))  # never 0, so zeros mean "dropped"
    out = layer.forward(X, training=True)
    dropped = out == 0
    assert 0 < dropped.mean() < 1
    np.testing.assert_array_equal(
        out[~dropped], X[~dropped] * 2.0
    )  # kept values scaled by 1/(1-0.5)
    G = np.random.default_rng(1).uniform(1.0, 2.0, size=X.shape)
    dX = layer.backward(G)
    np.testing.assert_array_equal(dX == 0, dropped)
    np.testing.assert_array_equal(dX[~dropped], G[~dropped] * 2.0)
    np.testing.assert_array_equal(layer.backward(G), dX)  # backward draws no new mask


def test_dropout_keeps_about_one_minus_rate_and_the_mean():
    out = Dropout(0.3, rng=0).forward(np.ones((200, 100)), training=True)
    assert abs((out != 0).mean() - 0.7) < 0.01
    assert abs(out.mean() - 1.0) < 0.02


def test_dropout_is_identity_outside_training_and_at_rate_zero():
    X = np.random.default_rng(0).normal(size=(3, 4))
    layer = Dropout(0.5, rng=0)
    np.testing.assert_array_equal(layer.forward(X), X)
    np.testing.assert_array_equal(layer.backward(np.ones_like(X)), np.ones_like(X))
    np.testing.assert_array_equal(Dropout(0.0).forward(X, training=True), X)


# ------------------------------------------------------------------ behaviour
def test_dense_shapes_and_initializers():
    for initializer in ("glorot", "he", "small"):
        layer = Dense(64, 32, weight_initializer=initializer, rng=0)
        assert layer.weights.shape == (64, 32) and layer.biases.shape == (32,)
        np.testing.assert_array_equal(layer.biases, 0.0)
        assert layer.dweights is None and layer.dbiases is None
    limit = np.sqrt(6.0 / (64 + 32))
    glorot = Dense(64, 32, rng=0).weights
    assert np.abs(glorot).max() <= limit and np.abs(glorot).max() > 0.9 * limit
    assert (
        abs(Dense(400, 100, weight_initializer="he", rng=0).weights.std() - np.sqrt(2 / 400))
        < 0.003
    )
    assert abs(Dense(400, 100, weight_initializer="small", rng=0).weights.std() - 0.01) < 0.001


def test_dense_same_seed_same_weights():
    np.testing.assert_array_equal(Dense(5, 4, rng=11).weights, Dense(5, 4, rng=11).weights)
    g1, g2 = np.random.default_rng(2), np.random.default_rng(2)
    np.testing.assert_array_equal(Dense(5, 4, rng=g1).weights, Dense(5, 4, rng=g2).weights)
    assert not np.array_equal(Dense(5, 4, rng=11).weights, Dense(5, 4, rng=12).weights)


def test_dropout_same_seed_same_mask():
    X = np.ones((10, 10))
    a = Dropout(0.5, rng=3).forward(X, training=True)
    b = Dropout(0.5, rng=3).forward(X, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, Dropout(0.5, rng=4).forward(X, training=True))


def test_float32_preserved_forward_and_backward():
    layer = Dense(3, 2, rng=0, dtype=np.float32, weight_regularizer_l2=0.1, bias_regularizer_l1=0.1)
    X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    out = layer.forward(X)
    dX = layer.backward(np.ones_like(out))
    assert layer.weights.dtype == layer.biases.dtype == np.float32
    assert out.dtype == dX.dtype == layer.dweights.dtype == layer.dbiases.dtype == np.float32
    drop = Dropout(0.5, rng=0)
    assert drop.forward(X, training=True).dtype == np.float32
    assert drop.backward(np.ones_like(X)).dtype == np.float32


def test_inputs_not_mutated():
    rng = np.random.default_rng(0)
    X, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    X0, G0 = X.copy(), G.copy()
    layer = Dense(3, 2, rng=0, weight_regularizer_l1=0.1)
    layer.forward(X)
    layer.backward(G)
    drop = Dropout(0.5, rng=0)
    drop.forward(X, training=True)
    drop.backward(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(G, G0)


def test_config_round_trips():
    layer = Dense(3, 2, weight_initializer="he", weight_regularizer_l2=5e-4, dtype="float32")
    clone = Dense(**layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.dtype == np.float32 and clone.weight_initializer == "he"
    assert Dropout(**Dropout(0.25).get_config()).rate == 0.25


# ------------------------------------------------------------------ errors
def test_dense_feature_count_mismatch_names_layer_and_shapes():
    layer = Dense(3, 2)
    with pytest.raises(
        ValueError, match=r"Dense\(n_inputs=3, n_neurons=2\).*\(n_samples, 3\).*\(4, 5\)"
    ):
        layer.forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        layer.forward(np.ones(3))


@pytest.mark.parametrize("layer", [Dense(3, 2), Dropout(0.5)], ids=["Dense", "Dropout"])
def test_backward_before_forward_raises(layer):
    with pytest.raises(
        RuntimeError, match=rf"{type(layer).__name__}\.backward\(\) was called before forward"
    ):
        layer.backward(np.ones((4, 2)))


def test_backward_with_wrong_shape_names_both_shapes():
    layer = Dense(3, 2)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        layer.backward(np.ones((4, 3)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"n_inputs": 0, "n_neurons": 2},
            r"n_inputs must be a positive integer. Received: n_inputs=0",
        ),
        ({"n_inputs": 2, "n_neurons": 2.5}, r"n_neurons=2.5"),
        (
            {"n_inputs": 2, "n_neurons": 2, "weight_initializer": "zeros"},
            r"weight_initializer='zeros'",
        ),
        ({"n_inputs": 2, "n_neurons": 2, "weight_regularizer_l2": -1}, r"weight_regularizer_l2=-1"),
        (
            {"n_inputs": 2, "n_neurons": 2, "bias_regularizer_l1": float("nan")},
            r"bias_regularizer_l1=nan",
        ),
    ],
)
def test_dense_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Dense(**kwargs)


def test_dense_rejects_bad_dtype_and_rng():
    with pytest.raises(TypeError, match=r"dtype=.*int32"):
        Dense(2, 2, dtype=np.int32)
    with pytest.raises(TypeError, match=r"rng="):
        Dense(2, 2, rng="seed")


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("inf")])
def test_dropout_rate_out_of_range(rate):
    with pytest.raises(ValueError, match=r"rate must be .*\[0, 1\)\. Received: rate="):
        Dropout(rate)


def test_dropout_takes_integer_inputs():
    out = Dropout(0.5, rng=0).forward(np.ones((4, 3), dtype=np.int64), training=True)
    assert out.dtype == np.float64 and set(np.unique(out).tolist()) <= {0.0, 2.0}
