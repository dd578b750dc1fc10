"""Model: a network worked out by hand, whole-model gradients, training behaviour and errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from support import STRICT, numeric_gradient, rel_error

from mynn.activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from mynn.datasets import linear, spiral_classification, vertical
from mynn.layers import Dense, Dropout
from mynn.loss import BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError
from mynn.metrics import BinaryAccuracy, CategoricalAccuracy, RegressionAccuracy
from mynn.model import Model
from mynn.optimizers import SGD, Adagrad, Adam, Optimizer, RMSProp


# ------------------------------------------------------------------ worked out by hand
def hand_network() -> Model:
    """2 inputs -> 2 ReLU -> 1 linear output, with round weights chosen for mental arithmetic."""
    hidden, output = Dense(2, 2), Dense(2, 1)
    hidden.weights = np.array([[0.5, -1.0], [0.25, 0.5]])
    hidden.biases = np.array([0.0, -0.5])
    output.weights = np.array([[2.0], [1.0]])
    output.biases = np.array([0.5])
    model = Model([hidden, ReLU(), output, Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(learning_rate=0.1))
    return model


# Two samples; every number below was derived by hand (see the comments), not by mynn.
X_HAND = np.array([[1.0, 2.0], [0.0, 2.0]])
Y_HAND = np.array([[1.0], [0.0]])


def test_hand_worked_network_forward_backward_and_sgd_step():
    model = hand_network()
    hidden, relu, output, _ = model.layers

    # forward
    # z1 = X W1 + b1: sample 1 [1*0.5 + 2*0.25 + 0, 1*-1 + 2*0.5 - 0.5] = [1.0, -0.5]
    #                 sample 2 [0*0.5 + 2*0.25 + 0, 0*-1 + 2*0.5 - 0.5] = [0.5, 0.5]
    # a1 = relu(z1) = [[1.0, 0.0], [0.5, 0.5]]
    # y_hat = a1 W2 + b2 = [1*2 + 0*1 + 0.5, 0.5*2 + 0.5*1 + 0.5] = [2.5, 2.0]
    # MSE = ((2.5 - 1)^2 + (2.0 - 0)^2) / 2 = (2.25 + 4) / 2 = 3.125
    y_hat = model.forward(X_HAND)
    np.testing.assert_allclose(hidden.output, [[1.0, -0.5], [0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(relu.output, [[1.0, 0.0], [0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(y_hat, [[2.5], [2.0]], rtol=1e-15)
    assert model.loss.calculate(y_hat, Y_HAND) == 3.125

    # backward
    # dL/dy_hat = 2 (y_hat - y) / n = [2*1.5/2, 2*2/2] = [1.5, 2.0]
    # dW2 = a1^T g = [1*1.5 + 0.5*2, 0*1.5 + 0.5*2] = [2.5, 1.0]; db2 = 1.5 + 2 = 3.5
    # da1 = g W2^T = [[3.0, 1.5], [4.0, 2.0]]; ReLU gate (z1 > 0) zeroes sample 1's unit 2:
    # dz1 = [[3.0, 0.0], [4.0, 2.0]]
    # dW1 = X^T dz1 = [[1*3 + 0*4, 1*0 + 0*2], [2*3 + 2*4, 2*0 + 2*2]] = [[3, 0], [14, 4]]
    # db1 = [3 + 4, 0 + 2] = [7, 2]; dX = dz1 W1^T = [[1.5, 0.75], [0.0, 2.0]]
    dX = model.backward(y_hat, Y_HAND)
    np.testing.assert_allclose(model.loss.gradient(y_hat, Y_HAND), [[1.5], [2.0]], rtol=1e-15)
    np.testing.assert_allclose(output.dweights, [[2.5], [1.0]], rtol=1e-15)
    np.testing.assert_allclose(output.dbiases, [3.5], rtol=1e-15)
    np.testing.assert_allclose(relu.dinputs, [[3.0, 0.0], [4.0, 2.0]], rtol=1e-15)
    np.testing.assert_allclose(hidden.dweights, [[3.0, 0.0], [14.0, 4.0]], rtol=1e-15)
    np.testing.assert_allclose(hidden.dbiases, [7.0, 2.0], rtol=1e-15)
    np.testing.assert_allclose(dX, [[1.5, 0.75], [0.0, 2.0]], rtol=1e-15)

    # one SGD step with learning rate 0.1: w <- w - 0.1 dw
    model.optimizer.step(model.parameters())
    np.testing.assert_allclose(hidden.weights, [[0.2, -1.0], [-1.15, 0.1]], rtol=1e-14)
    np.testing.assert_allclose(hidden.biases, [-0.7, -0.7], rtol=1e-14)
    np.testing.assert_allclose(output.weights, [[1.75], [0.9]], rtol=1e-14)
    np.testing.assert_allclose(output.biases, [0.15], rtol=1e-14)

    # after the step both hidden units are negative for both samples, so y_hat = b2 = 0.15:
    # MSE = ((0.15 - 1)^2 + 0.15^2) / 2 = (0.7225 + 0.0225) / 2 = 0.3725
    np.testing.assert_allclose(model.forward(X_HAND), [[0.15], [0.15]], rtol=1e-14)
    assert model.evaluate(X_HAND, Y_HAND)[0] == pytest.approx(0.3725, rel=1e-14)


def test_hand_worked_network_through_train():
    model = hand_network()
    history = model.train(X_HAND, Y_HAND, epochs=1, verbose=0)
    assert history["loss"] == [3.125]  # the loss of the batch before the step
    assert history["learning_rate"] == [0.1]
    np.testing.assert_allclose(model.layers[0].weights, [[0.2, -1.0], [-1.15, 0.1]], rtol=1e-14)
    np.testing.assert_allclose(model.layers[2].biases, [0.15], rtol=1e-14)


# ------------------------------------------------------------------ whole-model gradients
def check_model(model: Model, X: np.ndarray, y) -> dict[str, float]:
    target = model.loss.check_targets(y, model.n_outputs)

    def scalar() -> float:
        return model.loss.calculate(model.forward(X), y) + model.regularization_loss()

    dX = model.backward(model.forward(X), target).copy()
    analytic = {name: grad.copy() for name, _, grad in model.parameters()}
    errors = {"inputs": rel_error(dX, numeric_gradient(scalar, X))}
    for name, value, _ in model.parameters():
        errors[name] = rel_error(analytic[name], numeric_gradient(scalar, value))
    return errors


def classifier(hidden_activation, **regularizers) -> Model:
    model = Model(
        [Dense(3, 5, rng=1, **regularizers), hidden_activation, Dense(5, 4, rng=2), Softmax()]
    )
    model.set_loss(CategoricalCrossentropy())
    return model


@pytest.mark.parametrize("one_hot", [False, True], ids=["indices", "one_hot"])
def test_model_gradient_fused_softmax_crossentropy(one_hot):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    labels = np.array([0, 1, 2, 3, 1, 2])
    y = np.eye(4)[labels] if one_hot else labels
    model = classifier(Tanh(), weight_regularizer_l2=0.01, bias_regularizer_l1=0.01)
    model.layers[0].biases = np.full(5, 0.3)  # off the L1 kink at 0
    assert model._uses_fused_gradient()
    errors = check_model(model, X, y)
    assert max(errors.values()) < 1e-6, errors


def test_model_gradient_without_fused_path():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 3))
    # Softmax followed by MSE: the gradient must go through the Softmax Jacobian
    model = Model([Dense(3, 4, rng=1), LeakyReLU(0.1), Dense(4, 3, rng=2), Softmax()])
    model.set_loss(MeanSquaredError())
    assert not model._uses_fused_gradient()
    errors = check_model(model, X, rng.uniform(size=(6, 3)))
    assert max(errors.values()) < 1e-6, errors
    # Sigmoid + binary cross-entropy, with L1 and L2 on the weights
    model = Model(
        [
            Dense(3, 4, rng=3, weight_regularizer_l1=0.01),
            ReLU(),
            Dense(4, 2, rng=4, weight_regularizer_l2=0.02),
            Sigmoid(),
        ]
    )
    model.set_loss(BinaryCrossentropy())
    errors = check_model(model, X, (rng.random((6, 2)) < 0.5).astype(float))
    assert max(errors.values()) < 1e-6, errors


def test_fused_gradient_equals_the_chained_one():
    rng = np.random.default_rng(2)
    X, labels = rng.normal(size=(5, 3)), np.array([0, 3, 1, 2, 0])
    model = classifier(ReLU())
    output = model.forward(X)
    fused = model.backward(output, labels)
    fused_weights = model.layers[0].dweights.copy()
    dvalues = model.layers[3].backward(CategoricalCrossentropy().backward(output, labels))
    for layer in reversed(model.layers[:3]):
        dvalues = layer.backward(dvalues)
    np.testing.assert_allclose(fused, dvalues, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(fused_weights, model.layers[0].dweights, rtol=1e-9, atol=1e-15)


def test_confidently_wrong_softmax_still_gets_a_gradient():
    # Probability 0 for the true class: the chained passes would clip it to 1e-7 and then
    # multiply by s = 0, losing the signal; the fused gradient (s - y) / n keeps it.
    model = Model([Dense(2, 2), Softmax()])
    model.layers[0].weights = np.array([[1e4, -1e4], [0.0, 0.0]])
    model.set_loss(CategoricalCrossentropy())
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    with np.errstate(**STRICT):
        output = model.forward(X)
        model.backward(output, np.array([1, 1]))
    np.testing.assert_array_equal(output, [[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(model.layers[1].dinputs, [[0.5, -0.5], [0.5, -0.5]], rtol=1e-15)
    np.testing.assert_allclose(model.layers[0].dbiases, [1.0, -1.0], rtol=1e-15)


# ------------------------------------------------------------------ training behaviour
def spiral_model(dtype=np.float64, accuracy=True) -> tuple[Model, np.ndarray, np.ndarray]:
    X, y = spiral_classification(40, 3, rng=0)
    model = Model()
    model.add(Dense(2, 16, rng=0, dtype=dtype))
    model.add(ReLU())
    model.add(Dense(16, 3, rng=1, dtype=dtype))
    model.add(Softmax())
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(learning_rate=0.02))
    if accuracy:
        model.set_accuracy(CategoricalAccuracy())
    return model, X.astype(dtype), y


def test_history_keys_and_lengths():
    model, X, y = spiral_model()
    history = model.train(X, y, epochs=4, batch_size=32, verbose=0, rng=0)
    assert set(history) == {"loss", "accuracy", "learning_rate"}
    assert all(len(values) == 4 for values in history.values())
    history = model.train(
        X, y, epochs=3, batch_size=32, validation_data=(X[:30], y[:30]), verbose=0, rng=0
    )
    assert set(history) == {"loss", "accuracy", "learning_rate", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.values())
    assert all(type(v) is float for values in history.values() for v in values)
    model.accuracy = None
    assert set(model.train(X, y, epochs=2, verbose=0)) == {"loss", "learning_rate"}


def test_validation_history_matches_evaluate():
    model, X, y = spiral_model()
    X_val, y_val = spiral_classification(10, 3, noise=0.3, rng=5)
    history = model.train(
        X, y, epochs=3, batch_size=25, validation_data=(X_val, y_val), verbose=0, rng=0
    )
    loss, accuracy = model.evaluate(X_val, y_val, batch_size=25)
    assert history["val_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert history["val_accuracy"][-1] == accuracy


def test_short_last_batch_counts_every_sample_once():
    # 10 samples in batches of 4: sizes 4, 4, 2. A learning rate of 1e-300 leaves the weights as
    # they are, so the epoch's numbers can be compared with the samples' own.
    X = np.random.default_rng(0).normal(size=(10, 2))
    model = Model([Dense(2, 3, rng=0), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(learning_rate=1e-300))
    model.set_accuracy(CategoricalAccuracy())
    y = model.predict(X)
    y[8:] = (y[8:] + 1) % 3  # the short batch is all wrong: batches score 1, 1, 0
    history = model.train(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert history["accuracy"] == [0.8]  # 8 of 10 samples; a mean of batch scores would be 2/3
    per_sample = CategoricalCrossentropy().forward(model.forward(X), y)
    assert history["loss"][0] == pytest.approx(per_sample.mean(), rel=1e-12)
    assert model.evaluate(X, y, batch_size=4) == (pytest.approx(per_sample.mean(), rel=1e-12), 0.8)


def test_training_and_validation_accuracy_are_kept_apart():
    # Frozen weights again: the epoch's accuracy must be the training set's, untouched by the
    # validation pass that follows it (which uses the same metric object).
    X = np.random.default_rng(1).normal(size=(12, 2))
    model = Model([Dense(2, 3, rng=0), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(learning_rate=1e-300))
    model.set_accuracy(CategoricalAccuracy())
    y = model.predict(X)
    y_val = (y[:4] + 1) % 3  # validation set: all wrong
    history = model.train(X, y, epochs=2, batch_size=5, validation_data=(X[:4], y_val), verbose=0)
    assert history["accuracy"] == [1.0, 1.0]
    assert history["val_accuracy"] == [0.0, 0.0]
    assert model.evaluate(X[:4], y_val)[1] == 0.0 and model.evaluate(X, y)[1] == 1.0


def test_batch_size_none_is_one_step_per_epoch():
    model, X, y = spiral_model()
    model.train(X, y, epochs=5, verbose=0)
    assert model.optimizer.iterations == 5
    model.train(X, y, epochs=2, batch_size=50, verbose=0, rng=0)  # 120 samples: 50, 50, 20
    assert model.optimizer.iterations == 5 + 2 * 3
    model.train(X, y, epochs=1, batch_size=10_000, verbose=0, rng=0)  # larger than the data
    assert model.optimizer.iterations == 12


def test_evaluate_returns_loss_and_accuracy():
    model, X, y = spiral_model()
    loss, accuracy = model.evaluate(X, y)
    assert type(loss) is float and type(accuracy) is float
    assert loss == pytest.approx(
        CategoricalCrossentropy().calculate(model.forward(X), y), rel=1e-12
    )
    assert accuracy == pytest.approx(np.mean(model.predict(X) == y), rel=1e-15)
    assert model.evaluate(X, y, batch_size=7)[0] == pytest.approx(loss, rel=1e-12)
    model.accuracy = None
    assert model.evaluate(X, y)[1] is None


def test_predict_returns_indices_labels_or_values():
    X = np.random.default_rng(0).normal(size=(7, 2))
    softmax = Model([Dense(2, 3, rng=0), Softmax()])
    p = softmax.predict(X)
    assert p.shape == (7,) and p.dtype.kind == "i"
    np.testing.assert_array_equal(p, np.argmax(softmax.forward(X), axis=1))
    sigmoid = Model([Dense(2, 1, rng=0), Sigmoid()])
    labels = sigmoid.predict(X)
    assert labels.shape == (7, 1) and set(labels.ravel().tolist()) <= {0, 1}
    np.testing.assert_array_equal(labels, (sigmoid.forward(X) > 0.5).astype(int))
    regression = Model([Dense(2, 2, rng=0), Linear()])
    # the same product on the same shapes (zero biases add nothing): exact
    np.testing.assert_array_equal(regression.predict(X), X @ regression.layers[0].weights)
    # Batches of 3 rows against one product of 7: BLAS picks its kernel and blocking by CPU
    # and shape, so the two may differ in the last bit (seen: one element, 1.1e-16, under
    # OpenBLAS's Haswell and Zen kernels). rtol=1e-12 allows rounding and still catches a real
    # fault: a missing bias or a row out of place changes values by 1e-2 or more.
    np.testing.assert_allclose(
        regression.predict(X, batch_size=3), regression.predict(X), rtol=1e-12, atol=1e-15
    )


def test_summary_parameter_counts():
    model = Model(
        [Dense(2, 64), ReLU(), Dense(64, 64), ReLU(), Dropout(0.1), Dense(64, 3), Softmax()]
    )
    text = model.summary()
    # 2*64 + 64 = 192, 64*64 + 64 = 4160, 64*3 + 3 = 195; total 4547
    rows = text.splitlines()
    assert rows[2].split()[-1] == "192" and rows[3].split()[-1] == "0"
    assert rows[4].split()[-1] == "4,160" and rows[7].split()[-1] == "195"
    assert "total parameters: 4,547 (float64)" in text
    assert "(n_samples, 64)" in rows[3] and "(n_samples, 3)" in rows[8]
    assert sum(value.size for _, value, _ in model.parameters()) == 4547


def test_loss_falls_on_a_known_problem():
    X, y = vertical(50, 3, rng=0)
    model = Model([Dense(2, 8, rng=0), ReLU(), Dense(8, 3, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(learning_rate=0.02))
    model.set_accuracy(CategoricalAccuracy())
    history = model.train(X, y, epochs=60, batch_size=32, verbose=0, rng=0)
    # the clusters overlap (the best possible accuracy is about 0.85); chance is 1/3
    assert history["loss"][-1] < 0.4 * history["loss"][0]
    assert history["accuracy"][0] < 0.5 and history["accuracy"][-1] >= 0.8


def test_binary_classifier_learns():
    X, y = vertical(40, 2, spread=0.05, rng=1)
    model = Model([Dense(2, 4, rng=0), Tanh(), Dense(4, 1, rng=1), Sigmoid()])
    model.set_loss(BinaryCrossentropy())
    model.set_optimizer(Adam(learning_rate=0.05))
    model.set_accuracy(BinaryAccuracy())
    history = model.train(X, y, epochs=50, verbose=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0] and history["accuracy"][-1] >= 0.95


def test_same_seed_same_training():
    def run(seed):
        model, X, y = spiral_model()
        model.layers.insert(2, Dropout(0.2, rng=3))
        history = model.train(X, y, epochs=3, batch_size=16, verbose=0, rng=seed)
        return model, history

    (a, ha), (b, hb), (c, _) = run(7), run(7), run(8)
    for (_, wa, _), (_, wb, _) in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(wa, wb)
    assert ha == hb
    assert not np.array_equal(a.layers[0].weights, c.layers[0].weights)  # shuffling did matter


def test_one_hot_targets_train_like_class_indices():
    (a, X, y), (b, _, _) = spiral_model(), spiral_model()
    ha = a.train(X, y, epochs=2, batch_size=32, verbose=0, rng=0)
    hb = b.train(X, np.eye(3)[y], epochs=2, batch_size=32, verbose=0, rng=0)
    assert ha["accuracy"] == hb["accuracy"]
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)
    np.testing.assert_allclose(a.layers[0].weights, b.layers[0].weights, rtol=1e-9)


def test_float32_through_a_whole_training():
    model, X, y = spiral_model(dtype=np.float32)
    model.layers.insert(2, Dropout(0.1, rng=0))
    history = model.train(X, y, epochs=2, batch_size=32, validation_data=(X, y), verbose=0, rng=0)
    assert all(np.isfinite(v) for values in history.values() for v in values)
    assert model.forward(X).dtype == np.float32
    for name, value, grad in model.parameters():
        assert value.dtype == np.float32 and grad.dtype == np.float32, name
    for buffers in model.optimizer.state.values():
        assert all(b.dtype == np.float32 for b in buffers.values())
    assert model.dtype == np.float32
    # float64 data is converted to the model's dtype, not the other way around
    model.train(X.astype(np.float64), y, epochs=1, verbose=0)
    assert model.layers[0].weights.dtype == np.float32
    regression = Model([Dense(2, 1, rng=0, dtype="float32"), Linear()])
    assert regression.predict(X).dtype == np.float32


def test_inputs_not_mutated():
    model, X, y = spiral_model()
    X_val, y_val = X[:20].copy(), y[:20].copy()
    X0, y0 = X.copy(), y.copy()
    model.train(X, y, epochs=2, batch_size=16, validation_data=(X_val, y_val), verbose=0, rng=0)
    model.evaluate(X, y)
    model.predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(X_val, X0[:20])
    Xr, yr, _ = linear(2, 30, rng=0)
    Xr0, yr0 = Xr.copy(), yr.copy()
    reg = Model([Dense(2, 1, rng=0), Linear()])
    reg.set_loss(MeanSquaredError())
    reg.set_optimizer(SGD(0.1))
    reg.train(Xr, yr, epochs=2, verbose=0)
    np.testing.assert_array_equal(Xr, Xr0)
    np.testing.assert_array_equal(yr, yr0)


def test_extreme_logits_train_without_warnings():
    X = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    model = Model([Dense(2, 2, rng=0), Softmax()])
    model.layers[0].weights = np.array([[1e4, -1e4], [-1e4, 1e4]])  # logits of +-2e4
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(learning_rate=0.1))
    model.set_accuracy(CategoricalAccuracy())
    with np.errstate(**STRICT):
        history = model.train(X, [1, 0, 1], epochs=2, verbose=0)
        loss, accuracy = model.evaluate(X, [1, 0, 1])
    assert np.isfinite(history["loss"]).all() and np.isfinite(loss)
    # two confident misses (probability clipped to 1e-7) and one tie (probability 1/2)
    assert history["loss"][0] == pytest.approx((-2 * np.log(1e-7) + np.log(2)) / 3, rel=1e-6)


def test_verbose_prints_progress(capsys):
    model, X, y = spiral_model()
    model.train(X, y, epochs=10, print_every=5, verbose=1, rng=0)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["1/10", "5/10", "10/10"]
    assert "loss" in lines[0] and "accuracy" in lines[0]
    model.train(X, y, epochs=3, verbose=0)
    assert capsys.readouterr().out == ""


def test_regression_accuracy_is_initialized_by_train():
    X, y, _ = linear(2, 40, rng=0)
    model = Model([Dense(2, 1, rng=0), Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(learning_rate=0.1))
    model.set_accuracy(RegressionAccuracy())
    model.train(X, y, epochs=1, verbose=0)
    assert model.accuracy.precision == pytest.approx(np.std(y) / 250)


def test_layers_default_is_not_shared():
    a, b = Model(), Model()
    a.add(Dense(2, 2))
    assert b.layers == [] and a.layers is not b.layers


# ------------------------------------------------------------------ errors
def ready_model() -> Model:
    model = Model([Dense(3, 4, rng=0), ReLU(), Dense(4, 2, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(0.1))
    model.set_accuracy(CategoricalAccuracy())
    return model


X3 = np.random.default_rng(0).normal(size=(6, 3))
Y3 = np.array([0, 1, 1, 0, 1, 0])


def test_feature_count_mismatch_names_layer_and_shapes():
    model = ready_model()
    pattern = (
        r"X must have 3 features \(columns\) for the first layer "
        r"Dense\(n_inputs=3, n_neurons=4\)\. Received: X of shape \(6, 5\)"
    )
    with pytest.raises(ValueError, match=pattern):
        model.train(np.ones((6, 5)), Y3, verbose=0)
    with pytest.raises(ValueError, match=r"Received: X of shape \(6, 5\)"):
        model.predict(np.ones((6, 5)))
    with pytest.raises(
        ValueError, match=r"X_val must have 3 features.*Received: X_val of shape \(2, 2\)"
    ):
        model.train(X3, Y3, validation_data=(np.ones((2, 2)), [0, 1]), verbose=0)
    with pytest.raises(
        ValueError,
        match=(
            r"Dense\(n_inputs=5, n_neurons=2\) expects 5 inputs "
            r"but the previous Dense layer has 4 neurons"
        ),
    ):
        Model([Dense(3, 4), ReLU(), Dense(5, 2)])
    with pytest.raises(ValueError, match=r"X must be a 2-D array\. Received: X of shape \(3,\)"):
        model.predict(np.ones(3))


def test_length_mismatch():
    with pytest.raises(
        ValueError,
        match=(
            r"X and y must have the same number of samples\. "
            r"Received: X with 6 samples, y with 5 samples"
        ),
    ):
        ready_model().train(X3, Y3[:5], verbose=0)
    with pytest.raises(ValueError, match=r"X_val and y_val must have the same number of samples"):
        ready_model().train(X3, Y3, validation_data=(X3, Y3[:4]), verbose=0)


def test_empty_data():
    with pytest.raises(ValueError, match=r"X must not be empty\. Received: X of shape \(0, 3\)"):
        ready_model().train(np.ones((0, 3)), np.array([], dtype=int), verbose=0)


@pytest.mark.parametrize(
    ("y", "error", "message"),
    [
        (
            [0, 1, 2, 0, 1, 0],
            ValueError,
            r"y must hold class labels in \[0, 2\) for 2 outputs\. "
            r"Received: y with values from 0 to 2",
        ),
        ([0, 1, 1, 0, 1, -1], ValueError, r"Received: y with values from -1 to 1"),
        (
            [0, 1, 1, 0, 1, 0.5],
            ValueError,
            r"y must hold class labels that are whole numbers\. "
            r"Received: y with values such as \[0\.5\]",
        ),
        (["a", "b", "a", "b", "a", "b"], TypeError, r"y must hold integer class labels"),
    ],
)
def test_bad_labels(y, error, message):
    with pytest.raises(error, match=message):
        ready_model().train(X3, y, verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs(bad):
    X = X3.copy()
    X[2, 1] = bad
    with pytest.raises(
        ValueError, match=rf"X must contain only finite numbers; found {bad} at index \(2, 1\)"
    ):
        ready_model().train(X, Y3, verbose=0)
    with pytest.raises(ValueError, match=r"at index \(2, 1\)"):
        ready_model().predict(X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, r"epochs must be a positive integer\. Received: epochs=0"),
        ({"epochs": 2.5}, r"Received: epochs=2\.5"),
        ({"batch_size": 0}, r"batch_size must be a positive integer\. Received: batch_size=0"),
        ({"batch_size": -32}, r"Received: batch_size=-32"),
        ({"print_every": 0}, r"Received: print_every=0"),
        ({"verbose": 3}, r"verbose must be 0 or 1\. Received: verbose=3"),
        (
            {"validation_data": (X3,)},
            r"validation_data must be a pair \(X_val, y_val\)\. "
            r"Received: validation_data of type tuple of 1 item",
        ),
    ],
)
def test_train_arguments_out_of_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ready_model().train(X3, Y3, **{"verbose": 0, **kwargs})


def test_evaluate_and_predict_batch_size_out_of_range():
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        ready_model().evaluate(X3, Y3, batch_size=0)
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        ready_model().predict(X3, batch_size=0)


def test_training_without_loss_or_optimizer():
    model = Model([Dense(3, 2), Softmax()])
    with pytest.raises(RuntimeError, match=r"no loss is set; call Model\.set_loss\(\) first"):
        model.train(X3, Y3, verbose=0)
    model.set_loss(CategoricalCrossentropy())
    with pytest.raises(
        RuntimeError, match=r"no optimizer is set; call Model\.set_optimizer\(\) first"
    ):
        model.train(X3, Y3, verbose=0)
    model.evaluate(X3, Y3)  # evaluating needs no optimizer
    with pytest.raises(RuntimeError, match=r"no Dense layer"):
        Model([ReLU()]).predict(X3)


def test_class_instead_of_instance():
    model = Model()
    with pytest.raises(
        TypeError, match=r"loss must be an instance, not a class: write CategoricalCrossentropy\(\)"
    ):
        model.set_loss(CategoricalCrossentropy)
    with pytest.raises(
        TypeError, match=r"optimizer must be an instance, not a class: write Adam\(\)"
    ):
        model.set_optimizer(Adam)
    with pytest.raises(
        TypeError, match=r"accuracy must be an instance, not a class: write CategoricalAccuracy\(\)"
    ):
        model.set_accuracy(CategoricalAccuracy)
    with pytest.raises(
        TypeError,
        match=r"layer must be an instance, not a class: write ReLU\(\)\. Received: layer=ReLU",
    ):
        model.add(ReLU)
    with pytest.raises(
        TypeError, match=r"layer must be a mynn Layer\. Received: layer='relu'"
    ):
        model.add("relu")
    with pytest.raises(TypeError, match=r"loss must be a mynn Loss\. Received: loss='mse'"):
        model.set_loss("mse")


@pytest.mark.parametrize("validation", [False, True])
def test_divergence_raises_floating_point_error_naming_epoch_and_step(validation):
    X, y, _ = linear(2, 50, rng=0)
    model = Model(
        [Dense(2, 4, rng=0), ReLU(), Dense(4, 1, rng=0, weight_regularizer_l2=0.1), Linear()]
    )
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(learning_rate=1e8))
    extra = {"validation_data": (X, y)} if validation else {}
    with pytest.raises(
        FloatingPointError, match=r"became (inf|nan) .*epoch \d+.*step \d+.*training diverged"
    ):
        model.train(X, y, epochs=100, batch_size=10, verbose=0, rng=0, **extra)


def test_regression_tolerance_follows_the_training_targets():
    X, y = np.linspace(0, 1, 50)[:, None], np.linspace(0, 1, 50)[:, None]
    model = Model([Dense(1, 1, rng=0), Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(learning_rate=0.1))
    model.set_accuracy(RegressionAccuracy())
    model.train(X, y, epochs=1, verbose=0, rng=0)
    first = model.accuracy.precision
    model.train(X, 1000 * y, epochs=1, verbose=0, rng=0)
    assert model.accuracy.precision == pytest.approx(1000 * first)
    model.evaluate(X, y)  # evaluating keeps the tolerance of the last training run
    assert model.accuracy.precision == pytest.approx(1000 * first)


def test_verbose_takes_0_or_1():
    model = Model([Dense(1, 1, rng=0), Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD())
    with pytest.raises(ValueError, match=r"verbose must be 0 or 1. Received: verbose=2"):
        model.train(np.zeros((4, 1)), np.zeros((4, 1)), verbose=2)


def test_diagnostics_probe_is_spread_over_the_set():
    X, y = vertical(200, 3, rng=0)  # sorted by class: the first 256 rows would miss a class
    model = Model([Dense(2, 8, rng=0), ReLU(), Dense(8, 3, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(learning_rate=0.01))
    seen = []
    import mynn.diagnostics as diagnostics

    original = diagnostics.diagnose

    def spy(model, X_probe, y_probe=None):
        seen.append(np.bincount(y_probe, minlength=3))
        return original(model, X_probe, y_probe)

    diagnostics.diagnose = spy
    try:
        model.train(X, y, epochs=1, verbose=0, rng=0, diagnostics=True)
    finally:
        diagnostics.diagnose = original
    assert seen[0].sum() == 256 and seen[0].min() >= 80, seen


def vertical_classifier() -> tuple[Model, np.ndarray, np.ndarray]:
    X, y = vertical(30, 3, rng=0)
    model = Model([Dense(2, 8, rng=0), ReLU(), Dense(8, 3, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(learning_rate=0.01))
    return model, X, y


def test_on_epoch_end_sees_each_record_and_adds_to_the_history():
    model, X, y = vertical_classifier()
    model.set_accuracy(CategoricalAccuracy())
    seen = []

    def hook(hooked, record):
        assert hooked is model
        seen.append(dict(record))
        record["steps"] = hooked.optimizer.iterations

    history = model.train(
        X, y, epochs=3, batch_size=32, validation_data=(X, y), verbose=0, rng=0, on_epoch_end=hook
    )
    keys = ["loss", "learning_rate", "accuracy", "val_loss", "val_accuracy", "steps"]
    assert list(history) == keys
    assert [record["loss"] for record in seen] == history["loss"]
    assert history["steps"] == [3, 6, 9]  # 90 samples in batches of 32: 3 steps per epoch
    with pytest.raises(TypeError, match=r"on_epoch_end must be a function.* on_epoch_end=3"):
        model.train(X, y, verbose=0, on_epoch_end=3)


def test_diagnostics_are_recorded_before_the_users_hook():
    model, X, y = vertical_classifier()
    keys = []
    model.train(
        X, y, epochs=1, verbose=0, diagnostics=True,
        on_epoch_end=lambda _, record: keys.append(sorted(record)),
    )
    assert keys == [["diagnostics", "learning_rate", "loss"]]


# ------------------------------------------------------------------ one buffer, fused step
def per_parameter_training(model, X, y, *, epochs, batch_size, rng):
    """Model.train's batches, stepped one parameter at a time as the chapters teach."""
    generator = np.random.default_rng(rng)
    X, y = model.prepare(X, y)
    size = min(batch_size, len(X))
    for _ in range(epochs):
        order = generator.permutation(len(X)) if size < len(X) else np.arange(len(X))
        for start in range(0, len(X), size):
            index = order[start : start + size]
            output = model.forward(X[index], training=True)
            model.backward(output, y[index], input_gradient=False)
            model.optimizer.step(model.parameters())


def assert_same_numbers(model, reference):
    """Parameters and optimizer state equal to the last bit (same operations, same shapes)."""
    for (name, a, _), (_, b, _) in zip(model.parameters(), reference.parameters(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name, buffers in reference.optimizer.state.items():
        for buffer, value in buffers.items():
            if buffer != "scratch":
                assert np.array_equal(model.optimizer.state[name][buffer], value), (name, buffer)
    assert model.optimizer.iterations == reference.optimizer.iterations


FUSED_OPTIMIZERS = [
    lambda: SGD(learning_rate=0.1, decay=0.01),
    lambda: SGD(learning_rate=0.1, momentum=0.9),
    lambda: Adagrad(learning_rate=0.1),
    lambda: RMSProp(learning_rate=0.01, decay=1e-3),
    lambda: Adam(learning_rate=0.01, decay=1e-3),
]


@pytest.mark.parametrize("optimizer", FUSED_OPTIMIZERS, ids=lambda make: repr(make()))
def test_training_gives_the_numbers_of_the_per_parameter_step(optimizer):
    X, y = spiral_classification(40, 3, rng=0)
    model = Model(
        [
            Dense(2, 16, rng=0, weight_regularizer_l2=1e-3, bias_regularizer_l1=1e-4),
            ReLU(),
            Dropout(0.1, rng=2),
            Dense(16, 3, rng=1),
            Softmax(),
        ]
    )
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(optimizer())
    reference = copy.deepcopy(model)
    model.train(X, y, epochs=4, batch_size=32, verbose=0, rng=0)
    per_parameter_training(reference, X, y, epochs=4, batch_size=32, rng=0)
    assert_same_numbers(model, reference)
    # the layers' arrays are views into one buffer of parameters and one of gradients
    first, second = model.layers[0], model.layers[3]
    assert first.weights.base is not None and first.weights.base is second.biases.base
    assert first.dweights.base is not None and first.dweights.base is second.dbiases.base
    assert first.weights.base is not first.dweights.base


def regression_model(dtype=np.float64):
    model = Model([Dense(1, 8, rng=0, dtype=dtype), Tanh(), Dense(8, 4, rng=1, dtype=dtype)])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(Adam(learning_rate=0.01))
    return model


def test_adding_a_layer_after_training_lays_the_buffers_out_again():
    X, y, _ = linear(1, 64, rng=0)
    model = regression_model()
    reference = copy.deepcopy(model)
    model.train(X, y.repeat(4, axis=1), epochs=2, batch_size=16, verbose=0, rng=0)
    per_parameter_training(reference, X, y.repeat(4, axis=1), epochs=2, batch_size=16, rng=0)
    for net in (model, reference):
        net.add(ReLU())
        net.add(Dense(4, 1, rng=5))
        net.add(Linear())
    model.train(X, y, epochs=2, batch_size=16, verbose=0, rng=1)
    per_parameter_training(reference, X, y, epochs=2, batch_size=16, rng=1)
    assert_same_numbers(model, reference)
    assert model.layers[4].weights.base is model.layers[0].weights.base


def test_arrays_assigned_anew_or_cast_to_another_dtype_are_trained():
    X, y, _ = linear(1, 64, rng=0)
    y = y.repeat(4, axis=1)
    model = regression_model()
    model.train(X, y, epochs=1, batch_size=16, verbose=0, rng=0)
    layer = model.layers[2]
    layer.weights = np.zeros_like(layer.weights)  # a new array, not a view into the buffer
    reference = copy.deepcopy(model)
    model.train(X, y, epochs=2, batch_size=16, verbose=0, rng=1)
    per_parameter_training(reference, X, y, epochs=2, batch_size=16, rng=1)
    assert_same_numbers(model, reference)
    assert np.abs(layer.weights).sum() > 0 and layer.weights.base is model.layers[0].weights.base
    # every Dense cast to float32 (a user's cast): float32 buffers from then on
    for net in (model, reference):
        for dense in (net.layers[0], net.layers[2]):
            dense.dtype = np.dtype(np.float32)
            dense.weights = dense.weights.astype(np.float32)
            dense.biases = dense.biases.astype(np.float32)
            dense.dweights = dense.dbiases = None
        for buffers in net.optimizer.state.values():
            for buffer in list(buffers):
                buffers[buffer] = buffers[buffer].astype(np.float32)
    model.train(X, y, epochs=2, batch_size=16, verbose=0, rng=2)
    per_parameter_training(reference, X, y, epochs=2, batch_size=16, rng=2)
    assert_same_numbers(model, reference)
    assert model.layers[0].weights.dtype == model.layers[0].weights.base.dtype == np.float32


def test_a_copy_trains_on_its_own_buffers():
    X, y, _ = linear(1, 64, rng=0)
    y = y.repeat(4, axis=1)
    model = regression_model()
    model.train(X, y, epochs=1, batch_size=16, verbose=0, rng=0)
    before = [value.copy() for _, value, _ in model.parameters()]
    twin = copy.deepcopy(model)
    reference = copy.deepcopy(model)
    twin.train(X, y, epochs=2, batch_size=16, verbose=0, rng=1)
    per_parameter_training(reference, X, y, epochs=2, batch_size=16, rng=1)
    assert_same_numbers(twin, reference)
    for value, (name, now, _) in zip(before, model.parameters()):
        assert np.array_equal(value, now), f"training the copy changed the original's {name}"
    assert twin.layers[0].weights.base is not model.layers[0].weights.base


def test_an_array_assigned_by_a_hook_between_epochs_is_trained_from_there():
    X, y, _ = linear(1, 64, rng=0)
    y = y.repeat(4, axis=1)

    def halve(model, record):
        model.layers[2].weights = model.layers[2].weights / 2  # a new array, every epoch

    hooked, twice = regression_model(), regression_model()
    hooked.train(X, y, epochs=2, batch_size=16, verbose=0, rng=np.random.default_rng(3),
                 on_epoch_end=halve)
    generator = np.random.default_rng(3)
    for _ in range(2):
        twice.train(X, y, epochs=1, batch_size=16, verbose=0, rng=generator)
        halve(twice, {})
    assert_same_numbers(hooked, twice)


# --------------------------------------------- issue 25: no silent wrong numbers
class PlainStep(Optimizer):
    """An optimizer of the user's own that overrides step() alone, as the SGD chapter shows."""

    def __init__(self, learning_rate=0.1):
        super().__init__(learning_rate)
        self.calls = 0

    def step(self, parameters):
        self.calls += 1
        for _, value, gradient in parameters:
            value -= self.learning_rate * gradient
        self.iterations += 1


def test_an_optimizer_that_overrides_step_alone_is_the_one_train_calls():
    X, y = spiral_classification(20, 3, rng=0)
    mine, builtin = PlainStep(0.1), SGD(0.1)
    models = []
    for optimizer in (mine, builtin):
        model = Model([Dense(2, 8, rng=0), ReLU(), Dense(8, 3, rng=1), Softmax()])
        model.set_loss(CategoricalCrossentropy())
        model.set_optimizer(optimizer)
        model.train(X, y, epochs=3, batch_size=16, verbose=0, rng=0)
        models.append(model)
    assert mine.calls == 3 * 4 == builtin.iterations  # ceil(60 / 16) = 4 steps an epoch
    for (name, a, _), (_, b, _) in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=name)  # the same rule


def test_one_optimizer_moves_to_a_new_model_once_the_old_one_lets_it_go():
    first = Model([Dense(2, 3, rng=0), Softmax()])
    optimizer = Adam()
    first.set_optimizer(optimizer)
    first.set_optimizer(Adam())  # the first model lets it go
    second = Model([Dense(2, 3, rng=1), Softmax()])
    second.set_optimizer(optimizer)  # allowed now
    second.set_loss(CategoricalCrossentropy())
    copied = copy.deepcopy(second)  # a copy trains with its own copy of the optimizer
    copied.train(np.ones((4, 2)), np.array([0, 1, 2, 0]), verbose=0)
    second.train(np.ones((4, 2)), np.array([0, 1, 2, 0]), verbose=0)
    assert copied.optimizer is not optimizer and optimizer.iterations == 1
    third = Model([Dense(2, 3, rng=2), Softmax()])
    third.set_loss(CategoricalCrossentropy())
    third.optimizer = optimizer  # assigned by hand: caught when it trains
    with pytest.raises(ValueError, match="this optimizer already trains another model"):
        third.train(np.ones((4, 2)), np.array([0, 1, 2, 0]), verbose=0)
    assert optimizer.iterations == 1  # not a single step taken for the third model


def test_a_layer_resized_between_train_calls_starts_its_state_afresh():
    X, y = spiral_classification(20, 3, rng=0)

    def model_of(hidden, seed):
        model = Model(
            [Dense(2, hidden, rng=seed), ReLU(), Dense(hidden, 3, rng=seed + 1), Softmax()]
        )
        model.set_loss(CategoricalCrossentropy())
        return model

    model = model_of(8, 0)
    model.set_optimizer(Adam(0.01))
    model.train(X, y, epochs=2, batch_size=20, verbose=0, rng=0)
    model.layers[0], model.layers[2] = Dense(2, 16, rng=5), Dense(16, 3, rng=6)
    model.train(X, y, epochs=1, batch_size=20, verbose=0, rng=1)
    # the same as a fresh Adam that has already counted those 6 steps
    fresh = model_of(16, 5)
    fresh.set_optimizer(Adam(0.01))
    fresh.optimizer.iterations = 6
    fresh.train(X, y, epochs=1, batch_size=20, verbose=0, rng=1)
    for (name, a, _), (_, b, _) in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=name)
    assert model.optimizer.state["0.weights"]["momentum"].shape == (2, 16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_labels_are_accepted_and_rows_that_are_no_distribution_refused(dtype):
    rng = np.random.default_rng(0)
    soft = rng.dirichlet(np.ones(5), size=40).astype(dtype)  # rows sum to 1 up to rounding
    probabilities = rng.dirichlet(np.ones(5), size=40).astype(dtype)
    loss = CategoricalCrossentropy()
    assert np.isfinite(loss.calculate(probabilities, soft))
    for bad in (soft * 1.01, soft - 0.5 * soft[:, :1], np.vstack([soft[:-1], np.zeros(5)])):
        with pytest.raises(ValueError, match="sum to 1 in every row"):
            loss.calculate(probabilities, bad.astype(dtype))


def test_a_gradient_check_near_a_probability_of_zero_is_not_refused():
    from mynn.gradcheck import gradient_check

    errors = gradient_check(BinaryCrossentropy(), np.array([[1e-7], [0.5]]), np.array([1, 0]))
    assert set(errors) == {"inputs"}



def test_a_layer_that_moves_takes_its_own_optimizer_state_along():
    X, y = spiral_classification(20, 3, rng=0)

    def trained():
        model = Model(
            [Dense(2, 16, rng=0), ReLU(), Dense(16, 16, rng=1), ReLU(), Dense(16, 16, rng=2),
             ReLU(), Dense(16, 3, rng=3), Softmax()]
        )
        model.set_loss(CategoricalCrossentropy())
        model.set_optimizer(Adam(0.01))
        model.train(X, y, epochs=2, batch_size=20, verbose=0, rng=0)
        return model

    swapped = trained()  # the two hidden layers change places
    swapped.layers[2], swapped.layers[4] = swapped.layers[4], swapped.layers[2]
    by_hand = trained()  # the same, done by hand: weights and state exchanged in place
    first, second = by_hand.layers[2], by_hand.layers[4]
    first.weights, second.weights = second.weights.copy(), first.weights.copy()
    first.biases, second.biases = second.biases.copy(), first.biases.copy()
    state = by_hand.optimizer.state
    for name in ("weights", "biases"):
        a, b = state[f"2.{name}"], state[f"4.{name}"]
        state[f"2.{name}"] = {kind: array.copy() for kind, array in b.items()}
        state[f"4.{name}"] = {kind: array.copy() for kind, array in a.items()}
    for model in (swapped, by_hand):
        model.train(X, y, epochs=2, batch_size=20, verbose=0, rng=1)
    for (name, a, _), (_, b, _) in zip(swapped.parameters(), by_hand.parameters()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    for name in state:
        for kind in by_hand.optimizer.buffers:
            np.testing.assert_array_equal(
                swapped.optimizer.state[name][kind], state[name][kind], err_msg=name
            )
