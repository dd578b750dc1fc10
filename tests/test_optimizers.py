"""Optimizers: single steps computed here, multi-step reference paths, decay, owned state, dtype."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mynn import optimizers
from mynn.activations import ReLU, Softmax
from mynn.datasets import spiral_classification
from mynn.layers import Dense
from mynn.loss import CategoricalCrossentropy
from mynn.model import Model
from mynn.optimizers import (
    SGD,
    Adagrad,
    Adam,
    FlatParameters,
    RMSProp,
    count_subnormal,
    flush_threshold,
)
from mynn.saving import load_model, save_model

REF = {
    k: np.asarray(v)
    for k, v in json.loads((Path(__file__).parent / "data" / "reference.json").read_text()).items()
}

W0 = np.array([[1.0, -2.0], [0.5, 3.0]])
G0 = np.array([[0.5, -1.0], [2.0, 0.25]])


def one_step(optimizer, w=W0, g=G0):
    w = w.copy()
    optimizer.step([("w", w, g)])
    return w


# ------------------------------------------------------------------ one step, by hand
def test_sgd_one_step():
    np.testing.assert_allclose(one_step(SGD(learning_rate=0.1)), W0 - 0.1 * G0, rtol=1e-15)
    assert one_step(SGD(learning_rate=1.0), np.array([3.0]), np.array([0.5])).tolist() == [2.5]


def test_sgd_momentum_two_steps():
    opt = SGD(learning_rate=0.1, momentum=0.9)
    w = W0.copy()
    opt.step([("w", w, G0)])
    v1 = -0.1 * G0
    np.testing.assert_allclose(w, W0 + v1, rtol=1e-15)
    opt.step([("w", w, G0)])
    v2 = 0.9 * v1 - 0.1 * G0  # the velocity remembers step 1
    np.testing.assert_allclose(w, W0 + v1 + v2, rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["momentum"], v2, rtol=1e-14)


def test_adagrad_one_step():
    # c = g**2, so the first step is lr * g / (|g| + eps): lr * sign(g) up to eps
    expected = W0 - 0.1 * G0 / (np.abs(G0) + 1e-7)
    np.testing.assert_allclose(one_step(Adagrad(learning_rate=0.1)), expected, rtol=1e-15)


def test_rmsprop_one_step():
    cache = 0.1 * G0**2  # (1 - rho) g**2 with rho = 0.9
    expected = W0 - 0.01 * G0 / (np.sqrt(cache) + 1e-7)
    np.testing.assert_allclose(one_step(RMSProp(learning_rate=0.01, rho=0.9)), expected, rtol=1e-15)
    # by hand: g = 3, cache = 0.1 * 9 = 0.9, step = 0.01 * 3 / (sqrt(0.9) + 1e-7) = 0.0316227733...
    w = one_step(RMSProp(learning_rate=0.01), np.array([1.0]), np.array([3.0]))
    assert w[0] == pytest.approx(1 - 0.03 / (np.sqrt(0.9) + 1e-7), rel=1e-15)
    assert w[0] == pytest.approx(0.96837722673, abs=1e-11)


def test_adam_one_step():
    # after one step m_hat = g and v_hat = g**2, so the step is lr * g / (|g| + eps)
    expected = W0 - 0.001 * G0 / (np.abs(G0) + 1e-7)
    np.testing.assert_allclose(one_step(Adam()), expected, rtol=1e-12)
    opt = Adam(learning_rate=0.02, beta_1=0.5, beta_2=0.75, epsilon=1e-3)
    m = 0.5 * G0
    v = 0.25 * G0**2
    expected = W0 - 0.02 * (m / 0.5) / (np.sqrt(v / 0.25) + 1e-3)
    np.testing.assert_allclose(one_step(opt), expected, rtol=1e-12)


# ------------------------------------------------------------------ reference paths
@pytest.mark.parametrize(
    ("name", "optimizer"),
    [
        ("sgd", lambda: SGD(learning_rate=0.1, decay=0.01)),
        ("sgd_momentum", lambda: SGD(learning_rate=0.1, decay=0.01, momentum=0.9)),
        ("adagrad", lambda: Adagrad(learning_rate=0.1, decay=0.01, epsilon=1e-7)),
        ("rmsprop", lambda: RMSProp(learning_rate=0.01, decay=0.01, epsilon=1e-7, rho=0.9)),
        (
            "adam",
            lambda: Adam(learning_rate=0.01, decay=0.01, epsilon=1e-7, beta_1=0.9, beta_2=0.999),
        ),
    ],
)
def test_three_steps_match_reference(name, optimizer):
    # the paths need state kept across steps: a reset of momentum/cache/moments breaks steps 2-3
    opt = optimizer()
    w = REF["optimizer.start"].copy()
    for t, g in enumerate(REF["optimizer.gradients"]):
        opt.step([("layer.weights", w, g)])
        np.testing.assert_allclose(w, REF[f"{name}.path"][t], rtol=1e-12, err_msg=f"step {t + 1}")
    assert opt.iterations == 3


def test_decay_current_learning_rate():
    opt = SGD(learning_rate=1.0, decay=0.01)
    rates = []
    for _ in range(3):
        rates.append(opt.current_learning_rate)
        opt.step([("w", np.zeros(2), np.ones(2))])
    np.testing.assert_allclose(rates, REF["optimizer.learning_rates"], rtol=1e-15)
    assert opt.current_learning_rate == pytest.approx(1 / 1.03, rel=1e-15)
    assert Adam(learning_rate=0.5).current_learning_rate == 0.5  # no decay: constant
    opt = Adam(learning_rate=0.01, decay=0.5)
    for _ in range(4):
        opt.step([("w", np.zeros(1), np.ones(1))])
    assert opt.current_learning_rate == pytest.approx(0.01 / 3.0, rel=1e-15)


# ------------------------------------------------------------------ owned state
def small_model(optimizer, dtype=np.float64) -> tuple[Model, np.ndarray, np.ndarray]:
    X, y = spiral_classification(20, 3, rng=0)
    model = Model(
        [Dense(2, 8, rng=0, dtype=dtype), ReLU(), Dense(8, 3, rng=1, dtype=dtype), Softmax()]
    )
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(optimizer)
    return model, X.astype(dtype), y


OPTIMIZERS = {
    "sgd": lambda: SGD(learning_rate=0.1),
    "sgd_momentum": lambda: SGD(learning_rate=0.1, momentum=0.9),
    "adagrad": lambda: Adagrad(learning_rate=0.1),
    "rmsprop": lambda: RMSProp(learning_rate=0.01),
    "adam": lambda: Adam(learning_rate=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_is_owned_by_the_optimizer_and_persists(name):
    model, X, y = small_model(OPTIMIZERS[name]())
    attributes = [set(vars(layer)) for layer in model.layers]
    model.train(X, y, epochs=1, batch_size=20, verbose=0, rng=0)  # 3 steps
    assert [set(vars(layer)) for layer in model.layers] == attributes  # nothing pasted onto layers
    opt = model.optimizer
    assert set(opt.state) == {"0.weights", "0.biases", "2.weights", "2.biases"}
    snapshot = {
        (param, buffer): (id(array), array.copy())
        for param, buffers in opt.state.items()
        for buffer, array in buffers.items()
    }
    model.train(X, y, epochs=2, batch_size=20, verbose=0, rng=1)
    assert opt.iterations == 9
    after = {
        (param, buffer): array
        for param, buffers in opt.state.items()
        for buffer, array in buffers.items()
    }
    assert set(after) == set(snapshot)  # no new buffers after the first step
    for key, array in after.items():
        assert id(array) == snapshot[key][0], f"{key} was replaced by a new array"
        if key[1] != "scratch":  # accumulated, not reset: still moving after more steps
            assert not np.array_equal(array, snapshot[key][1]), f"{key} did not change"
            assert np.abs(array).sum() > 0


def test_adam_moments_are_not_reset_between_steps():
    # a constant gradient: with moments kept, m_hat stays g and every step is lr * g/|g|; with the
    # moments reset each step, v_hat = g**2 too, so the steps agree. Alternate the gradient
    # instead: kept moments average +1 and -1 and the step shrinks, reset moments do not.
    opt = Adam(learning_rate=0.1)
    w = np.zeros(1)
    opt.step([("w", w, np.array([1.0]))])
    first = w.copy()
    opt.step([("w", w, np.array([-1.0]))])
    second_step = w - first
    m = 0.9 * 0.1 * 1.0 + 0.1 * -1.0  # = -0.01
    v = 0.999 * 0.001 + 0.001  # = 0.001999
    expected = -0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-7)
    assert second_step[0] == pytest.approx(expected, rel=1e-12)
    assert abs(second_step[0]) < 0.01  # a reset would have stepped by 0.1
    assert opt.state["w"]["momentum"][0] == pytest.approx(m, rel=1e-12)
    assert opt.state["w"]["cache"][0] == pytest.approx(v, rel=1e-12)


def test_one_state_per_parameter_name():
    opt = Adam(learning_rate=0.1)
    a, b = np.ones(2), np.ones(3)
    opt.step([("a", a, np.ones(2)), ("b", b, -np.ones(3))])
    assert set(opt.state) == {"a", "b"}
    assert set(opt.state["a"]) == {"momentum", "cache", "scratch"}
    assert opt.state["a"]["momentum"].shape == (2,) and opt.state["b"]["cache"].shape == (3,)
    assert set(SGD().state) == set() and opt.iterations == 1


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_parameters_stay_float32(name):
    opt = OPTIMIZERS[name]()
    w = np.ones((2, 2), dtype=np.float32)
    for g in (np.full((2, 2), 0.5, np.float32), np.full((2, 2), -0.25, np.float32)):
        opt.step([("w", w, g)])
    assert w.dtype == np.float32
    assert all(buffer.dtype == np.float32 for buffer in opt.state["w"].values())
    assert not np.array_equal(w, np.ones((2, 2)))
    # float64 gradients on float32 parameters: the parameter keeps its dtype
    opt.step([("w", w, np.full((2, 2), 0.5))])
    assert w.dtype == np.float32


def test_gradient_not_mutated_and_update_in_place():
    g = G0.copy()
    w = W0.copy()
    Adam(learning_rate=0.1).step([("w", w, g)])
    np.testing.assert_array_equal(g, G0)
    assert not np.array_equal(w, W0)


def test_step_without_gradient_names_parameter():
    with pytest.raises(
        RuntimeError, match=r"parameter '0\.weights' has no gradient; run backward\(\)"
    ):
        SGD().step([("0.weights", np.ones(2), None)])


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: SGD(learning_rate=0),
            r"learning_rate must be .*\(0, inf\]\. Received: learning_rate=0\.0",
        ),
        (lambda: Adam(learning_rate=-1), r"Received: learning_rate=-1\.0"),
        (lambda: Adam(learning_rate=float("nan")), r"Received: learning_rate=nan"),
        (lambda: SGD(decay=-0.1), r"Received: decay=-0\.1"),
        (lambda: SGD(momentum=1.0), r"momentum must be .*\[0, 1\)\. Received: momentum=1\.0"),
        (lambda: SGD(momentum=-0.5), r"Received: momentum=-0\.5"),
        (lambda: Adam(beta_1=1.0), r"beta_1 must be .*\[0, 1\)\. Received: beta_1=1\.0"),
        (lambda: Adam(beta_2=-0.1), r"beta_2 must be .* Received: beta_2=-0\.1"),
        (lambda: Adam(epsilon=0), r"epsilon must be .* Received: epsilon=0\.0"),
        (lambda: RMSProp(rho=1.5), r"rho must be .* Received: rho=1\.5"),
        (lambda: Adagrad(epsilon=-1e-7), r"Received: epsilon=-1e-07"),
    ],
)
def test_out_of_range_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_number_argument_is_type_error():
    with pytest.raises(
        TypeError, match=r"learning_rate must be a real number\. Received: learning_rate='0\.1'"
    ):
        SGD(learning_rate="0.1")


def test_config_round_trips():
    for opt in (
        SGD(0.5, 0.1, 0.9),
        Adagrad(0.2, epsilon=1e-5),
        RMSProp(rho=0.8),
        Adam(0.3, 0.1, 1e-6, 0.8, 0.99),
    ):
        clone = type(opt)(**opt.get_config())
        assert clone.get_config() == opt.get_config()


# ------------------------------------------------------------------ the fused step
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_flat_gives_the_numbers_of_step_bit_for_bit(name, dtype):
    # The same elementwise operations on the same numbers, only laid out end to end: exact.
    rng = np.random.default_rng(0)
    shapes = {"0.weights": (3, 4), "0.biases": (4,), "2.weights": (4, 2), "2.biases": (2,)}
    start = {key: rng.normal(size=shape).astype(dtype) for key, shape in shapes.items()}
    each, fused = OPTIMIZERS[name](), OPTIMIZERS[name]()
    fused.decay = each.decay = 0.05
    values = {key: value.copy() for key, value in start.items()}
    flat = FlatParameters([(key, value, None) for key, value in start.items()])
    for _ in range(4):
        gradients = {key: rng.normal(size=shape).astype(dtype) for key, shape in shapes.items()}
        each.step([(key, values[key], gradients[key]) for key in shapes])
        for key in shapes:
            flat.gradient_views[key][...] = gradients[key]
        fused.step_flat([flat])
    assert fused.iterations == each.iterations == 4
    for key in shapes:
        assert flat.value_views[key].dtype == dtype
        np.testing.assert_array_equal(flat.value_views[key], values[key], err_msg=key)
        for buffer in each.state[key]:
            if buffer != "scratch":
                np.testing.assert_array_equal(fused.state[key][buffer], each.state[key][buffer])


def test_step_flat_takes_over_state_left_by_step():
    w, g = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    one, two = Adam(learning_rate=0.1), Adam(learning_rate=0.1)
    one.step([("w", w.copy(), g)])
    one.step([("w", w.copy(), g)])
    two.step([("w", w.copy(), g)])
    flat = FlatParameters([("w", w.copy(), g)])
    two.step_flat([flat])  # carries on from the moments of the first step
    np.testing.assert_array_equal(two.state["w"]["momentum"], one.state["w"]["momentum"])
    assert two.state["w"]["cache"].base is not None  # now a view into the flat state
    two.state = {}  # state thrown away: the next flat step starts from zeros again
    two.step_flat([flat])
    assert set(two.state) == {"w"} and two.state["w"]["momentum"].base is not None


# ------------------------------------------------------------------ subnormal numbers
def test_flush_threshold_and_count_subnormal():
    assert flush_threshold(np.float32) == np.finfo(np.float32).smallest_normal * 2.0**24
    assert flush_threshold(np.float64) == np.finfo(np.float64).smallest_normal * 2.0**24
    tiny32 = np.finfo(np.float32).smallest_normal
    values = np.array([0.0, tiny32, tiny32 / 2, -tiny32 / 4, 1.0, -0.0], dtype=np.float32)
    assert count_subnormal(values) == 2
    assert count_subnormal(values.astype(np.float64)) == 0  # normal numbers in float64


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_flush_keeps_step_and_step_flat_bit_identical(name, dtype):
    # Gradients that stop after 3 steps leave momentums and caches decaying, some of them from
    # tiny starting values, through the flushes of steps 16 and 32.
    shapes = {"w": (5, 3), "b": (3,)}
    rng = np.random.default_rng(1)
    scale = float(flush_threshold(dtype)) * np.array([1e6, 1e2, 2.0, 0.5, 1e-3])
    start = {key: rng.normal(size=shape).astype(dtype) for key, shape in shapes.items()}
    each, fused = OPTIMIZERS[name](), OPTIMIZERS[name]()
    values = {key: value.copy() for key, value in start.items()}
    flat = FlatParameters([(key, value, None) for key, value in start.items()])
    for step in range(40):
        gradients = {
            key: (rng.choice(scale, size=shape) if step < 3 else np.zeros(shape)).astype(dtype)
            for key, shape in shapes.items()
        }
        each.step([(key, values[key], gradients[key]) for key in shapes])
        for key in shapes:
            flat.gradient_views[key][...] = gradients[key]
        fused.step_flat([flat])
    for key in shapes:
        np.testing.assert_array_equal(flat.value_views[key], values[key], err_msg=key)
        for buffer in each.buffers:
            np.testing.assert_array_equal(fused.state[key][buffer], each.state[key][buffer])
            assert count_subnormal(each.state[key][buffer]) == 0, (key, buffer)


def test_the_flush_sets_only_values_below_the_threshold_to_zero():
    threshold = flush_threshold(np.float64)
    momentum = np.array([threshold * 0.99, threshold * 1.01, -threshold * 0.5, 1e-3, -2e-300])
    sgd = SGD(learning_rate=0.1, momentum=0.5)
    w = np.zeros(5)
    sgd.step([("w", w, np.zeros(5))])  # creates the state
    sgd.state["w"]["momentum"][...] = momentum
    for _ in range(optimizers.FLUSH_EVERY - 2):  # up to the step before the flush
        sgd.step([("w", w, np.zeros(5))])
    kept = sgd.state["w"]["momentum"].copy()
    assert np.count_nonzero(kept) == 5, kept  # nothing flushed yet
    sgd.step([("w", w, np.zeros(5))])  # step FLUSH_EVERY: flushes
    assert sgd.iterations == optimizers.FLUSH_EVERY
    after = sgd.state["w"]["momentum"]
    expected = np.where(np.abs(kept * 0.5) < threshold, 0.0, kept * 0.5)
    np.testing.assert_array_equal(after, expected)
    assert after[3] != 0 and after[0] == 0, after


SUBNORMAL_OPTIMIZERS = {
    "adam": lambda: Adam(learning_rate=0.01),
    "rmsprop": lambda: RMSProp(learning_rate=0.01),
    "sgd_momentum": lambda: SGD(learning_rate=0.05, momentum=0.9),
}


def subnormal_in_saved_state(model, path) -> int:
    save_model(model, path)
    loaded = load_model(path)
    return sum(
        count_subnormal(array)
        for buffers in loaded.optimizer.state.values()
        for kind, array in buffers.items()
        if kind != "scratch"
    )


@pytest.mark.parametrize("name", sorted(SUBNORMAL_OPTIMIZERS))
def test_saved_state_of_dead_units_holds_no_subnormal_number(name, tmp_path, monkeypatch):
    # Train a little, then kill every hidden unit: their gradients become exactly zero and
    # their momentums (caches for RMSProp) shrink by 0.9 per step, from the first Dense layer
    # on. 1,600 steps take a float32 0.9**1600 ~ 1e-73 below 1: far into (and, without the
    # flush, stuck in) the subnormal range.
    def run(flush_every):
        monkeypatch.setattr(optimizers, "FLUSH_EVERY", flush_every)
        model, X, y = small_model(SUBNORMAL_OPTIMIZERS[name](), np.float32)
        model.train(X, y, epochs=5, batch_size=8, verbose=0, rng=0)
        model.layers[0].biases[...] = -1e3  # every hidden unit dead from here on
        model.train(X, y, epochs=200, batch_size=8, verbose=0, rng=0)
        assert model.optimizer.iterations == 8 * 205  # 60 samples, batches of 8
        first = model.optimizer.state["0.weights"]
        assert not np.any(model.layers[0].dweights), "the hidden units should be dead"
        return model, first

    model, _ = run(optimizers.FLUSH_EVERY)
    assert subnormal_in_saved_state(model, tmp_path / "flushed.npz") == 0
    # The same training without the flush leaves subnormal numbers: the test reaches them.
    model, first = run(10**9)
    assert subnormal_in_saved_state(model, tmp_path / "kept.npz") > 0, first
