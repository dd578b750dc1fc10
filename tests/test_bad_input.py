"""Bad input at every public entry point: the right exception, naming the right argument.

``CASES`` holds, for every name in ``mynn.__all__``, calls that must fail, the exception type
each must raise and a pattern its message must match: the argument's name (``Received:
name=...`` where the convention applies) and, where it matters, the value as the user gave it.
A coverage test makes sure no public name lacks a case. The property-based tests below draw
many more values from ``hypothesis`` with a fixed, database-less profile (``FUZZ``), so every
run draws the same examples.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mynn
from mynn import (
    SGD,
    Accuracy,
    Activation,
    Adagrad,
    Adam,
    BinaryAccuracy,
    BinaryCrossentropy,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    Dense,
    Diagnosis,
    Dropout,
    Layer,
    LeakyReLU,
    Linear,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    Model,
    Optimizer,
    RegressionAccuracy,
    ReLU,
    RMSProp,
    Sigmoid,
    Signal,
    Softmax,
    Tanh,
    blobs,
    circles,
    curve,
    diagnose,
    expected_initial_loss,
    gradient_check,
    linear,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_model,
    numerical_gradient,
    one_hot,
    overfit_one_batch,
    relative_error,
    save_model,
    sine,
    softmax_crossentropy_gradient,
    spiral_classification,
    standardize,
    train_test_split,
    vertical,
    xor,
)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples at every run: failures are reproducible in CI
    database=None,  # nothing written to .hypothesis/
    suppress_health_check=[HealthCheck.too_slow],
)

X3 = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.8], [0.9, 0.1], [0.3, 0.3]])
Y3 = np.array([0, 1, 1, 0, 1, 0])


def classifier(dtype=np.float64) -> Model:
    model = Model(
        [Dense(2, 4, rng=0, dtype=dtype), ReLU(), Dense(4, 2, rng=1, dtype=dtype), Softmax()]
    )
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(0.1))
    model.set_accuracy(CategoricalAccuracy())
    return model


def regressor() -> Model:
    model = Model([Dense(2, 1, rng=0), Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(0.1))
    return model


def after_forward(layer, inputs):
    layer.forward(inputs)
    return layer


def read_only(shape) -> np.ndarray:
    array = np.zeros(shape)
    array.flags.writeable = False
    return array


def ready(model: Model, loss) -> Model:
    model.set_loss(loss)
    model.set_optimizer(SGD(0.1))
    return model


def second_owner() -> None:
    first = classifier()
    Model([Dense(2, 2, rng=0), Softmax()]).set_optimizer(first.optimizer)


def poison(model: Model, record: dict) -> None:
    model.layers[0].weights[0, 0] = np.inf


def changed_learning_rate(optimizer, value) -> None:
    model = classifier()
    model.set_optimizer(optimizer)
    optimizer.learning_rate = value  # after the constructor's check
    model.train(X3, Y3, epochs=1, verbose=0)


def float32_step(optimizer) -> None:
    optimizer.step([("w", np.ones(2, np.float32), np.zeros(2, np.float32))])


class NotMynn(Layer):
    """A layer of the user's own: works in a model, cannot be saved (a file rebuilds mynn's)."""

    def forward(self, inputs, training=False):
        self.output = np.asarray(inputs)
        return self.output

    def backward(self, dvalues):
        return dvalues


_SCRATCH = tempfile.TemporaryDirectory(prefix="mynn-bad-input-")


def scratch(kind: str) -> str:
    """A fresh ``model.npz`` in a folder of its own: a model file (``"read-only"``, or with an
    ``"extra entry"``), or a named pipe (``"fifo"``)."""
    path = os.path.join(tempfile.mkdtemp(dir=_SCRATCH.name), "model.npz")
    if kind == "fifo":
        os.mkfifo(path)
        return path
    save_model(Model([Dense(2, 2, rng=0)]), path)
    if kind == "read-only":
        os.chmod(path, 0o444)
    elif kind == "extra entry":
        with np.load(path) as archive:
            arrays = {name: archive[name] for name in archive.files}
        np.savez(path, **arrays, junk=np.zeros(2))
    return path


# (public name, call, exception type, pattern the message must match)
CASES = [
    # ---------------------------------------------------------------- layers
    (
        "Layer",
        lambda: Model([Layer]),
        TypeError,
        r"layers\[0\] must be an instance, not a class: write Layer\(\)",
    ),
    (
        "Layer",
        lambda: Layer()._check_backward(np.ones(1)),
        RuntimeError,
        r"Layer\.backward\(\) was called before forward\(\)",
    ),
    (
        "Dense",
        lambda: Dense(0, 2),
        ValueError,
        r"n_inputs must be a positive integer\. Received: n_inputs=0",
    ),
    ("Dense", lambda: Dense(2, 2.5), ValueError, r"Received: n_neurons=2\.5"),
    ("Dense", lambda: Dense(True, 2), ValueError, r"Received: n_inputs=True"),
    (
        "Dense",
        lambda: Dense(2, 2, dtype="foo"),
        TypeError,
        r"dtype must be float32 or float64\. Received: dtype='foo'",
    ),
    (
        "Dense",
        lambda: Dense(2, 2, dtype=np.int32),
        TypeError,
        r"Received: dtype=<class 'numpy\.int32'>",
    ),
    ("Dense", lambda: Dense(2, 2, dtype=None), TypeError, r"Received: dtype=None"),
    ("Dense", lambda: Dense(2, 2, dtype=">f8"), TypeError, r"Received: dtype='>f8'"),
    (
        "Dense",
        lambda: Dense(2, 2, weight_initializer="zeros"),
        ValueError,
        r"Received: weight_initializer='zeros'",
    ),
    (
        "Dense",
        lambda: Dense(2, 2, weight_regularizer_l2=-1),
        ValueError,
        r"Received: weight_regularizer_l2=-1\.0",
    ),
    (
        "Dense",
        lambda: Dense(2, 2, bias_regularizer_l1=math.nan),
        ValueError,
        r"Received: bias_regularizer_l1=nan",
    ),
    (
        "Dense",
        lambda: Dense(2, 2, weight_regularizer_l1="0.1"),
        TypeError,
        r"Received: weight_regularizer_l1='0\.1'",
    ),
    ("Dense", lambda: Dense(2, 2, rng="seed"), TypeError, r"Received: rng='seed'"),
    ("Dense", lambda: Dense(2, 2, rng=-1), ValueError, r"Received: rng=-1"),
    (
        "Dense",
        lambda: Dense(2**40, 2**40),
        ValueError,
        r"Received: n_inputs=1099511627776, n_neurons=",
    ),
    (
        "Dense",
        lambda: Dense(2, 2).forward([["a", "b"]]),
        TypeError,
        r"inputs must hold real numbers\. Received: inputs with dtype <U1",
    ),
    (
        "Dense",
        lambda: Dense(2, 2).forward(np.ones((3, 3))),
        ValueError,
        r"Received: inputs of shape \(3, 3\)",
    ),
    (
        "Dense",
        lambda: Dense(2, 2).forward([[1.0], [1.0, 2.0]]),
        ValueError,
        r"inputs must be an array of numbers",
    ),
    (
        "Dense",
        lambda: Dense(2, 2).forward(np.ones((1, 2), dtype=complex)),
        TypeError,
        r"Received: inputs with dtype complex128",
    ),
    (
        "Dense",
        lambda: Dense(2, 2).backward(np.ones((1, 2))),
        RuntimeError,
        r"Dense\.backward\(\) was called before forward\(\)",
    ),
    (
        "Dense",
        lambda: after_forward(Dense(2, 2), np.ones((4, 2))).backward(np.ones((5, 2))),
        ValueError,
        r"Received: dvalues of shape \(5, 2\)",
    ),
    (
        "Dense",
        lambda: after_forward(Dense(2, 2), np.ones((1, 2))).backward([["a", "b"]]),
        TypeError,
        r"dvalues must hold real numbers",
    ),
    (
        "Dropout",
        lambda: Dropout(1.0),
        ValueError,
        r"rate must be a finite number in \[0, 1\)\. Received: rate=1\.0",
    ),
    ("Dropout", lambda: Dropout("0.5"), TypeError, r"Received: rate='0\.5'"),
    ("Dropout", lambda: Dropout(0.5, rng=1.5), TypeError, r"Received: rng=1\.5"),
    (
        "Dropout",
        lambda: Dropout(0.5).forward(np.ones((2, 2)), training="yes"),
        TypeError,
        r"training must be True or False\. Received: training='yes'",
    ),
    ("Dropout", lambda: Dropout(0.5).forward(["x"]), TypeError, r"Received: inputs with dtype <U1"),
    # ----------------------------------------------------------- activations
    (
        "Activation",
        lambda: Model().add(Activation),
        TypeError,
        r"layer must be an instance, not a class: write Activation\(\)",
    ),
    (
        "Activation",
        lambda: Activation().backward(np.ones(1)),
        RuntimeError,
        r"Activation\.backward\(\) was called before forward\(\)",
    ),
    ("ReLU", lambda: ReLU().forward("abc"), TypeError, r"Received: inputs with dtype <U3"),
    (
        "ReLU",
        lambda: after_forward(ReLU(), np.ones((2, 2))).backward(np.ones((2, 3))),
        ValueError,
        r"Received: dvalues of shape \(2, 3\)",
    ),
    ("LeakyReLU", lambda: LeakyReLU(alpha=1.5), ValueError, r"Received: alpha=1\.5"),
    ("LeakyReLU", lambda: LeakyReLU(alpha=True), TypeError, r"Received: alpha=True"),
    (
        "Sigmoid",
        lambda: Sigmoid().forward([1 + 2j]),
        TypeError,
        r"Received: inputs with dtype complex128",
    ),
    (
        "Tanh",
        lambda: Tanh().backward(np.ones((1, 1))),
        RuntimeError,
        r"Tanh\.backward\(\) was called before forward\(\)",
    ),
    ("Tanh", lambda: Tanh().forward(object()), TypeError, r"Received: inputs with dtype object"),
    (
        "Softmax",
        lambda: Softmax().forward(np.ones(3)),
        ValueError,
        r"Received: inputs of shape \(3,\)",
    ),
    (
        "Linear",
        lambda: Linear().forward([[1, None]]),
        TypeError,
        r"Received: inputs with dtype object",
    ),
    # ----------------------------------------------------------------- losses
    ("Loss", lambda: Model().set_loss(Loss), TypeError, r"loss must be an instance, not a class"),
    (
        "Loss",
        lambda: Loss().forward("x", [1]),
        ValueError,
        r"y_pred must have shape \(n_samples, n_outputs\)\. Received: y_pred of shape \(\)",
    ),
    (
        "MeanSquaredError",
        lambda: MeanSquaredError().calculate(np.ones((2, 1)), [[math.nan], [0.0]]),
        ValueError,
        r"y_true must contain only finite numbers; found nan at index \(0, 0\)",
    ),
    (
        "MeanSquaredError",
        lambda: MeanSquaredError().calculate([[math.inf]], [[0.0]]),
        ValueError,
        r"y_pred must contain only finite numbers; found inf",
    ),
    (
        "MeanSquaredError",
        lambda: MeanSquaredError().calculate(np.ones((2, 1)), np.ones((3, 1))),
        ValueError,
        r"Received: y_pred with 2 samples, y_true with 3 samples",
    ),
    (
        "MeanSquaredError",
        lambda: MeanSquaredError().check_targets(np.ones(3), 0),
        ValueError,
        r"Received: n_outputs=0",
    ),
    (
        "MeanSquaredError",
        lambda: MeanSquaredError().check_targets(np.ones(3), 1, np.int8),
        TypeError,
        r"Received: dtype=<class 'numpy\.int8'>",
    ),
    (
        "MeanAbsoluteError",
        lambda: MeanAbsoluteError().calculate(np.ones((2, 2)), np.ones((2, 3))),
        ValueError,
        r"y_true must have shape \(n_samples, 2\).*Received: y_true of shape \(2, 3\)",
    ),
    (
        "MeanAbsoluteError",
        lambda: MeanAbsoluteError().calculate(np.ones((2, 1)), ["a", "b"]),
        TypeError,
        r"Received: y_true with dtype <U1",
    ),
    (
        "BinaryCrossentropy",
        lambda: BinaryCrossentropy().calculate(np.full((2, 1), 0.5), [0, 2]),
        ValueError,
        r"Received: y_true with values \[0\.0, 2\.0\]",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(np.full((1, 2), 0.5), np.array([1e20])),
        ValueError,
        r"Received: y_true with values from 1e\+20 to 1e\+20",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(
            np.full((1, 2), 0.5), np.array([2**64 - 1], dtype=np.uint64)
        ),
        ValueError,
        r"from 18446744073709551615 to 18446744073709551615",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(np.full((2, 2), 0.5), np.array([-1, 3])),
        ValueError,
        r"Received: y_true with values from -1 to 3",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(np.full((1, 2), 0.5), np.ones((1, 1, 2))),
        ValueError,
        r"Received: y_true of shape \(1, 1, 2\)",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(np.full((1, 2), 0.5), [[[0], [1]]]),
        ValueError,
        r"Received: y_true of shape \(1, 2, 1\)",
    ),
    # -------------------------------------------- targets and outputs of the wrong kind
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(
            np.full((2, 3), 1 / 3), np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        ),
        ValueError,
        r"must hold non-negative numbers that sum to 1 in every row.*"
        r"Received: y_true row 0 = \[1\.0, 1\.0, 0\.0\], summing to 2",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(np.full((1, 2), 0.5), np.array([[1.5, -0.5]])),
        ValueError,
        r"Received: y_true row 0 = \[1\.5, -0\.5\], summing to 1",
    ),
    (
        "CategoricalCrossentropy",
        lambda: CategoricalCrossentropy().calculate(np.array([[4.0, -2.0]]), np.array([0])),
        ValueError,
        r"reads probabilities in \[0, 1\].*Received: y_pred with values from -2 to 4",
    ),
    (
        "BinaryCrossentropy",
        lambda: BinaryCrossentropy().calculate(np.array([[5.0]]), np.array([1])),
        ValueError,
        r"reads probabilities in \[0, 1\], the outputs of a Sigmoid or Softmax\. "
        r"Received: y_pred with values from 5 to 5",
    ),
    (
        "softmax_crossentropy_gradient",
        lambda: softmax_crossentropy_gradient(np.full((1, 2), 0.5), np.array([[0.0, 0.0]])),
        ValueError,
        r"Received: y_true row 0 = \[0\.0, 0\.0\], summing to 0",
    ),
    (
        "Model",
        lambda: ready(Model([Dense(2, 2, rng=0)]), CategoricalCrossentropy()).train(
            X3, Y3, verbose=0
        ),
        ValueError,
        r"CategoricalCrossentropy reads probabilities, which the model's last layer does not "
        r"make: end the model with Softmax\(\).*Received: a model whose last layer is Dense",
    ),
    (
        "Model",
        lambda: ready(Model([Dense(2, 1, rng=0), Linear()]), BinaryCrossentropy()).evaluate(X3, Y3),
        ValueError,
        r"end the model with Sigmoid\(\) or Softmax\(\).*last layer is Linear\(\)",
    ),
    # ------------------------------------------------------- one object in two places
    (
        "Model",
        lambda: Model([shared_dense := Dense(2, 2, rng=0), ReLU(), shared_dense]),
        ValueError,
        r"this Dense is already layer 0 of the model.*Received: layer=Dense\(n_inputs=2",
    ),
    (
        "Model",
        lambda: Model([shared_relu := ReLU(), Dense(2, 2, rng=0), shared_relu]),
        ValueError,
        r"this ReLU is already layer 0 of the model",
    ),
    (
        "Model",
        lambda: second_owner(),
        ValueError,
        r"this optimizer already trains another model.*Give each model its own, such as "
        r"SGD\(\*\*optimizer\.get_config\(\)\)\. Received: optimizer=SGD\(",
    ),
    # --------------------------------------------------------- numbers at the edge
    (
        "Model",
        lambda: classifier().train(X3, Y3, epochs=2, verbose=0, on_epoch_end=lambda model: None),
        TypeError,
        r"on_epoch_end must accept two arguments, \(model, record\).*"
        r"Received: on_epoch_end='<lambda>' with parameters \(model\)",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, epochs=2, verbose=0, on_epoch_end=poison),
        FloatingPointError,
        r"parameter '0\.weights' became inf in on_epoch_end after epoch 1",
    ),
    (
        "SGD",
        lambda: changed_learning_rate(SGD(0.1), -0.1),
        ValueError,
        r"the learning rate must be a positive finite number at every step\. "
        r"Received: current_learning_rate=-0\.1",
    ),
    (
        "Adam",
        lambda: changed_learning_rate(Adam(0.1), float("inf")),
        ValueError,
        r"Received: current_learning_rate=inf",
    ),
    (
        "Adam",
        lambda: Adam(epsilon=1e-50).step([("w", np.ones(2, np.float32), np.zeros(2, np.float32))]),
        ValueError,
        r"epsilon must be a positive normal float32 number, at least 1\.18e-38.*"
        r"Received: epsilon=1e-50 for float32 parameters",
    ),
    (
        "RMSProp",
        lambda: (
            classifier(np.float32).set_optimizer(RMSProp(epsilon=1e-40))
            or float32_step(RMSProp(epsilon=1e-40))
        ),
        ValueError,
        r"Received: epsilon=1e-40 for float32 parameters",
    ),
    (
        "softmax_crossentropy_gradient",
        lambda: softmax_crossentropy_gradient("a", [0]),
        TypeError,
        r"Received: probabilities with dtype <U1",
    ),
    (
        "softmax_crossentropy_gradient",
        lambda: softmax_crossentropy_gradient(np.ones(3), [0]),
        ValueError,
        r"probabilities must be a 2-D array\. Received: probabilities of shape \(3,\)",
    ),
    (
        "softmax_crossentropy_gradient",
        lambda: softmax_crossentropy_gradient(np.full((2, 2), 0.5), [0]),
        ValueError,
        r"Received: probabilities with 2 samples, y_true with 1 samples",
    ),
    (
        "softmax_crossentropy_gradient",
        lambda: softmax_crossentropy_gradient(np.full((1, 2), 0.5), [2]),
        ValueError,
        r"Received: y_true with values from 2 to 2",
    ),
    # ------------------------------------------------------------- optimizers
    (
        "Optimizer",
        lambda: Optimizer(0),
        ValueError,
        r"learning_rate must be a finite number in \(0, inf\]\. Received: learning_rate=0\.0",
    ),
    ("Optimizer", lambda: Optimizer(0.1, decay=-1), ValueError, r"Received: decay=-1\.0"),
    (
        "Optimizer",
        lambda: SGD().step_flat([("w", np.ones(2), np.ones(2))]),
        TypeError,
        r"step_flat takes FlatParameters .*use step\(\)\. Received: tuple",
    ),
    (
        "Optimizer",
        lambda: Optimizer(0.1).step(5),
        TypeError,
        r"parameters must be an iterable of \(name, value, gradient\) triples\. "
        r"Received: parameters=5",
    ),
    ("SGD", lambda: SGD(10**400), ValueError, r"Received: learning_rate=1000000000"),
    ("SGD", lambda: SGD(momentum=1), ValueError, r"Received: momentum=1\.0"),
    ("SGD", lambda: SGD().step("abc"), TypeError, r"Received: parameters='abc'"),
    (
        "SGD",
        lambda: SGD().step([("w", [1.0], [1.0])]),
        TypeError,
        r"the value of parameter 'w' must be a float32 or float64 numpy array.*"
        r"Received: value=\[1\.0\]",
    ),
    (
        "SGD",
        lambda: SGD().step([("w", np.ones(2), np.ones(3))]),
        ValueError,
        r"the gradient of parameter 'w' must have the shape of its value \(2,\)\. "
        r"Received: gradient of shape \(3,\)",
    ),
    (
        "SGD",
        lambda: SGD().step([(1, np.ones(2), np.ones(2))]),
        TypeError,
        r"a parameter's name must be a str\. Received: name=1",
    ),
    (
        "SGD",
        lambda: SGD().step([("w", np.ones(2))]),
        TypeError,
        r"each parameter must be a \(name, value, gradient\) triple",
    ),
    (
        "SGD",
        lambda: SGD().step([("w", np.ones(2, dtype=int), np.ones(2))]),
        TypeError,
        r"the value of parameter 'w'",
    ),
    (
        "SGD",
        lambda: SGD().step([("w", read_only(2), np.ones(2))]),
        ValueError,
        r"the value of parameter 'w' must be writable",
    ),
    (
        "SGD",
        lambda: SGD().step([("w", np.ones(2), ["a", "b"])]),
        TypeError,
        r"the gradient of parameter 'w' must be an array of real numbers",
    ),
    (
        "SGD",
        lambda: SGD().step([("w", np.ones(2), None)]),
        RuntimeError,
        r"parameter 'w' has no gradient",
    ),
    ("Adagrad", lambda: Adagrad(epsilon=0), ValueError, r"Received: epsilon=0\.0"),
    ("RMSProp", lambda: RMSProp(rho=1), ValueError, r"Received: rho=1\.0"),
    ("Adam", lambda: Adam(beta_1=-0.1), ValueError, r"Received: beta_1=-0\.1"),
    ("Adam", lambda: Adam(beta_2="0.9"), TypeError, r"Received: beta_2='0\.9'"),
    (
        "Adam",
        lambda: Adam().step([("w", np.ones((2, 2)), np.ones((2, 2, 1)))]),
        ValueError,
        r"Received: gradient of shape \(2, 2, 1\)",
    ),
    # ---------------------------------------------------------------- metrics
    (
        "Accuracy",
        lambda: Accuracy().calculate("a", [1]),
        TypeError,
        r"Received: predictions with dtype <U1",
    ),
    (
        "Accuracy",
        lambda: Accuracy().result(),
        RuntimeError,
        r"result\(\) needs at least one update\(\)",
    ),
    (
        "CategoricalAccuracy",
        lambda: CategoricalAccuracy().calculate(np.array(1), np.array(1)),
        ValueError,
        r"predictions must be an array of one or more samples\. "
        r"Received: predictions of shape \(\)",
    ),
    (
        "CategoricalAccuracy",
        lambda: CategoricalAccuracy().calculate(np.zeros((2, 3)), np.zeros(2)),
        ValueError,
        r"Received: predictions of shape \(2, 3\)",
    ),
    (
        "CategoricalAccuracy",
        lambda: CategoricalAccuracy().calculate([], []),
        ValueError,
        r"Received: predictions of shape \(0,\)",
    ),
    (
        "BinaryAccuracy",
        lambda: BinaryAccuracy().calculate(np.ones(3), np.ones(2)),
        ValueError,
        r"Received: predictions with 3 samples, y_true with 2 samples",
    ),
    (
        "BinaryAccuracy",
        lambda: BinaryAccuracy().calculate(np.ones((3, 1)), [None, 1, 2]),
        TypeError,
        r"Received: y_true with dtype object",
    ),
    (
        "RegressionAccuracy",
        lambda: RegressionAccuracy(precision=0),
        ValueError,
        r"Received: precision=0\.0",
    ),
    (
        "RegressionAccuracy",
        lambda: RegressionAccuracy(precision="x"),
        TypeError,
        r"Received: precision='x'",
    ),
    (
        "RegressionAccuracy",
        lambda: RegressionAccuracy().calculate(np.ones((2, 1)), np.ones(2)),
        RuntimeError,
        r"pass precision= or call init\(y\) first",
    ),
    (
        "RegressionAccuracy",
        lambda: RegressionAccuracy().init([math.nan]),
        ValueError,
        r"y_true must contain only finite numbers; found nan",
    ),
    # ------------------------------------------------------------------ model
    (
        "Model",
        lambda: Model(Dense(2, 3)),
        TypeError,
        r"layers must be a list of mynn layers.*Received: layers=Dense\(n_inputs=2, n_neurons=3\)",
    ),
    ("Model", lambda: Model("abc"), TypeError, r"Received: layers='abc'"),
    ("Model", lambda: Model(5), TypeError, r"Received: layers=5"),
    (
        "Model",
        lambda: Model([Dense(2, 3), "relu"]),
        TypeError,
        r"layers\[1\] must be a mynn Layer\. Received: layers\[1\]='relu'",
    ),
    (
        "Model",
        lambda: Model([Dense(2, 3, dtype=np.float32), Dense(3, 1)]),
        ValueError,
        r"model's dtype float32.*Received: layer=Dense\(n_inputs=3, n_neurons=1\) of dtype float64",
    ),
    (
        "Model",
        lambda: Model([Dense(2, 3), Dense(4, 1)]),
        ValueError,
        r"expects 4 inputs but the previous Dense layer has 3 neurons",
    ),
    (
        "Model",
        lambda: Model().set_optimizer(Adam),
        TypeError,
        r"optimizer must be an instance, not a class: write Adam\(\)",
    ),
    (
        "Model",
        lambda: Model().set_accuracy(5),
        TypeError,
        r"accuracy must be a mynn Accuracy\. Received: accuracy=5",
    ),
    (
        "Model",
        lambda: Model([Dense(2, 2)]).train(X3, Y3),
        RuntimeError,
        r"no loss is set; call Model\.set_loss\(\) first",
    ),
    (
        "Model",
        lambda: Model([Dense(2, 2)]).backward(np.ones((1, 2)), np.ones((1, 2))),
        RuntimeError,
        r"no loss is set",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, epochs=0, verbose=0),
        ValueError,
        r"Received: epochs=0",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, batch_size=-1, verbose=0),
        ValueError,
        r"Received: batch_size=-1",
    ),
    ("Model", lambda: classifier().train(X3, Y3, verbose=2), ValueError, r"Received: verbose=2"),
    (
        "Model",
        lambda: classifier().train(X3, Y3, shuffle="yes", verbose=0),
        TypeError,
        r"shuffle must be True or False\. Received: shuffle='yes'",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, diagnostics=1, verbose=0),
        TypeError,
        r"Received: diagnostics=1",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, validation_data=X3, verbose=0),
        ValueError,
        r"Received: validation_data of type ndarray",
    ),
    (
        "Model",
        lambda: classifier().train(
            X3, Y3, validation_data=(X3, [0, 1, 0, 1, 0, math.nan]), verbose=0
        ),
        ValueError,
        r"y_val must hold class labels that are whole numbers\. "
        r"Received: y_val with values such as \[nan\]",
    ),
    (
        "Model",
        lambda: regressor().train(
            X3, np.ones(6), validation_data=(X3, [0, 1, 0, 1, 0, math.nan]), verbose=0
        ),
        ValueError,
        r"y_val must contain only finite numbers; found nan at index \(5,\)",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, validation_data=(X3[:, :1], Y3), verbose=0),
        ValueError,
        r"X_val must have 2 features.*Received: X_val of shape \(6, 1\)",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3, validation_data=(X3, Y3[:4]), verbose=0),
        ValueError,
        r"Received: X_val with 6 samples, y_val with 4 samples",
    ),
    (
        "Model",
        lambda: classifier().train(X3, [0, 1, 0, 1, 0, 1e20], verbose=0),
        ValueError,
        r"Received: y with values from 0 to 1e\+20",
    ),
    (
        "Model",
        lambda: classifier().train(X3, Y3[:5], verbose=0),
        ValueError,
        r"Received: X with 6 samples, y with 5 samples",
    ),
    (
        "Model",
        lambda: classifier(np.float32).train(np.full((6, 2), 1e300), Y3, verbose=0),
        ValueError,
        r"X must hold numbers that float32 can represent.*"
        r"Received: X with 1e\+300 at index \(0, 0\)",
    ),
    ("Model", lambda: classifier().predict("abc"), TypeError, r"Received: X with dtype <U3"),
    (
        "Model",
        lambda: classifier().predict(X3, batch_size=0),
        ValueError,
        r"Received: batch_size=0",
    ),
    (
        "Model",
        lambda: classifier().evaluate(X3, Y3[:-1]),
        ValueError,
        r"Received: X with 6 samples, y with 5 samples",
    ),
    (
        "Model",
        lambda: classifier().save(5),
        TypeError,
        r"path must be a file path \(str or pathlib\.Path\)\. Received: path=5",
    ),
    (
        "Model",
        lambda: Model.load("/nonexistent/nowhere.npz"),
        FileNotFoundError,
        r"no model file at '/nonexistent/nowhere\.npz'",
    ),
    (
        "save_model",
        lambda: save_model("model", "m.npz"),
        TypeError,
        r"model must be a mynn Model\. Received: model='model'",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), b"m.npz"),
        TypeError,
        r"Received: path=b'm\.npz'",
    ),
    (
        "save_model",
        lambda: save_model(Model([NotMynn()]), "/nonexistent/m.npz"),
        ValueError,
        r"layer 0 is a .*NotMynn, not one of mynn's own classes",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), "/nonexistent-folder/m.npz"),
        FileNotFoundError,
        r"the folder of path does not exist: '/nonexistent-folder'",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), "/"),
        IsADirectoryError,
        r"path is a folder, not a file\. Received: path='/'",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), ""),
        ValueError,
        r"path is empty; give a file name such as 'model\.npz'\. Received: path=''",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), "m\x00.npz"),
        ValueError,
        r"path holds a NUL character, .*Received: path='m\\x00\.npz'",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), "/nonexistent-folder/m.npz/"),
        IsADirectoryError,
        r"path ends with '/', which names a folder.*Received: path='/nonexistent-folder/m\.npz/'",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), scratch("read-only")),
        PermissionError,
        r"path is a read-only file \(mode -r--r--r--, no write permission\); save_model leaves",
    ),
    (
        "save_model",
        lambda: save_model(Model([Dense(2, 2)]), scratch("fifo")),
        ValueError,
        r"path is a named pipe \(FIFO\), not a regular file.*Received: path='.*model\.npz'",
    ),
    ("load_model", lambda: load_model(5), TypeError, r"Received: path=5"),
    (
        "load_model",
        lambda: load_model(""),
        ValueError,
        r"path is empty; give a file name such as 'model\.npz'\. Received: path=''",
    ),
    (
        "load_model",
        lambda: load_model(scratch("fifo")),
        ValueError,
        r"is a named pipe \(FIFO\), not a model file: load_model reads only regular files",
    ),
    (
        "load_model",
        lambda: load_model(scratch("model"), strict="yes"),
        TypeError,
        r"strict must be True or False\. Received: strict='yes'",
    ),
    (
        "load_model",
        lambda: load_model(scratch("extra entry")),
        ValueError,
        r"holds 1 entry the model does not use: 'junk'\..* pass strict=False to ignore them\. "
        r"Received: strict=True",
    ),
    (
        "Model",
        lambda: Model.load(scratch("model"), strict=1),
        TypeError,
        r"strict must be True or False\. Received: strict=1",
    ),
    (
        "load_model",
        lambda: load_model("/nonexistent/nowhere.npz"),
        FileNotFoundError,
        r"no model file at '/nonexistent/nowhere\.npz'",
    ),
    (
        "load_model",
        lambda: load_model("/"),
        IsADirectoryError,
        r"'/' is a folder, not a model file",
    ),
    # ------------------------------------------------------ gradcheck, diagnostics
    ("gradient_check", lambda: gradient_check("relu", X3), TypeError, r"Received: target='relu'"),
    (
        "gradient_check",
        lambda: gradient_check(ReLU(), X3, epsilon=0),
        ValueError,
        r"Received: epsilon=0\.0",
    ),
    (
        "gradient_check",
        lambda: gradient_check(ReLU(), [[math.nan]]),
        ValueError,
        r"inputs must contain only finite numbers; found nan",
    ),
    (
        "gradient_check",
        lambda: gradient_check(MeanSquaredError(), X3),
        ValueError,
        r"needs y_true\. Received: y_true=None",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(3, np.ones(2)),
        TypeError,
        r"function must be callable \(a function\)\. Received: function=3",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: 1.0, [1.0, 2.0]),
        TypeError,
        r"values must be a float numpy array.*Received: values=\[1\.0, 2\.0\]",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: 1.0, np.ones(2, dtype=int)),
        TypeError,
        r"Received: values=array\(\[1, 1\]\)",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: 1.0, np.ones(2), epsilon=-1),
        ValueError,
        r"Received: epsilon=-1\.0",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: "x", np.ones(2)),
        TypeError,
        r"function must return a real number\. Received: function\(\) returning 'x'",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: np.ones(2), np.ones(2)),
        TypeError,
        r"function must return a real number",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: 1.0, read_only(2)),
        ValueError,
        r"values must be a writable, non-empty array",
    ),
    (
        "numerical_gradient",
        lambda: numerical_gradient(lambda: 1.0, np.ones((2, 3)).T),
        ValueError,
        r"values must be a C-contiguous array",
    ),
    (
        "relative_error",
        lambda: relative_error("a", "b"),
        TypeError,
        r"Received: analytic with dtype <U1",
    ),
    (
        "relative_error",
        lambda: relative_error(np.ones(2), np.ones(3)),
        ValueError,
        r"Received: analytic of shape \(2,\), numeric of shape \(3,\)",
    ),
    (
        "diagnose",
        lambda: diagnose("model", X3),
        TypeError,
        r"model must be a mynn Model\. Received: model='model'",
    ),
    (
        "diagnose",
        lambda: diagnose(classifier(), X3, Y3[:4]),
        ValueError,
        r"Received: X with 6 samples, y with 4 samples",
    ),
    (
        "diagnose",
        lambda: diagnose(classifier(), X3[:, :1]),
        ValueError,
        r"Received: X of shape \(6, 1\)",
    ),
    (
        "diagnose",
        lambda: diagnose(classifier(), X3, [0, 1, 0, 1, 0, 7]),
        ValueError,
        r"Received: y with values from 0 to 7",
    ),
    (
        "Diagnosis",
        lambda: Diagnosis(signals=5),
        TypeError,
        r"signals must be a list of Signal objects\. Received: signals=5",
    ),
    ("Diagnosis", lambda: Diagnosis().get("nope"), KeyError, r"no signal 'nope'"),
    (
        "Signal",
        lambda: Signal(1, None, 1.0, True, "m"),
        TypeError,
        r"name must be a str\. Received: name=1",
    ),
    ("Signal", lambda: Signal("a", "0", 1.0, True, "m"), TypeError, r"Received: layer='0'"),
    ("Signal", lambda: Signal("a", None, "1", True, "m"), TypeError, r"Received: value='1'"),
    ("Signal", lambda: Signal("a", None, 1.0, "yes", "m"), TypeError, r"Received: ok='yes'"),
    (
        "expected_initial_loss",
        lambda: expected_initial_loss("model"),
        TypeError,
        r"Received: model='model'",
    ),
    (
        "overfit_one_batch",
        lambda: overfit_one_batch("model", X3, Y3),
        TypeError,
        r"Received: model='model'",
    ),
    (
        "overfit_one_batch",
        lambda: overfit_one_batch(classifier(), X3, Y3, steps=0),
        ValueError,
        r"Received: steps=0",
    ),
    (
        "overfit_one_batch",
        lambda: overfit_one_batch(classifier(), X3, Y3, tolerance=-1),
        ValueError,
        r"Received: tolerance=-1\.0",
    ),
    (
        "overfit_one_batch",
        lambda: overfit_one_batch(classifier(), [[math.inf, 0]] * 6, Y3),
        ValueError,
        r"X must contain only finite numbers; found inf at index \(0, 0\)",
    ),
    # ---------------------------------------------------------------- datasets
    (
        "spiral_classification",
        lambda: spiral_classification(0, 3),
        ValueError,
        r"Received: samples=0",
    ),
    (
        "spiral_classification",
        lambda: spiral_classification(10, 3, noise=-1),
        ValueError,
        r"Received: noise=-1\.0",
    ),
    (
        "spiral_classification",
        lambda: spiral_classification(10, 3, rng="x"),
        TypeError,
        r"Received: rng='x'",
    ),
    ("vertical", lambda: vertical(10, 2, spread=math.nan), ValueError, r"Received: spread=nan"),
    ("vertical", lambda: vertical(10, -1), ValueError, r"Received: classes=-1"),
    ("sine", lambda: sine(0), ValueError, r"Received: samples=0"),
    ("sine", lambda: sine(10, periods=0), ValueError, r"Received: periods=0\.0"),
    ("circles", lambda: circles(0), ValueError, r"Received: samples=0"),
    ("circles", lambda: circles(10, noise=-1), ValueError, r"Received: noise=-1\.0"),
    ("circles", lambda: circles(10, rng="x"), TypeError, r"Received: rng='x'"),
    ("xor", lambda: xor(-2), ValueError, r"Received: samples=-2"),
    ("xor", lambda: xor(10, noise=math.nan), ValueError, r"Received: noise=nan"),
    ("blobs", lambda: blobs(10, 0), ValueError, r"Received: classes=0"),
    ("blobs", lambda: blobs(10, 3, spread=-0.1), ValueError, r"Received: spread=-0\.1"),
    ("curve", lambda: curve(0), ValueError, r"Received: samples=0"),
    ("curve", lambda: curve(10, noise="a"), TypeError, r"noise must be a real number"),
    ("linear", lambda: linear(0, 10), ValueError, r"Received: nfeatures=0"),
    (
        "linear",
        lambda: linear(2, 10, weights=[1.0]),
        ValueError,
        r"Received: weights of shape \(1,\)",
    ),
    ("linear", lambda: linear(2, 10, bias="x"), TypeError, r"Received: bias='x'"),
    (
        "train_test_split",
        lambda: train_test_split(1, 1),
        ValueError,
        r"X must be an array whose first axis is the samples\. Received: X=array\(1\)",
    ),
    (
        "train_test_split",
        lambda: train_test_split(np.ones(3), np.ones(4)),
        ValueError,
        r"Received: X with 3 samples, y with 4 samples",
    ),
    (
        "train_test_split",
        lambda: train_test_split(np.ones(3), np.ones(3), test_size=0),
        ValueError,
        r"Received: test_size=0\.0",
    ),
    (
        "train_test_split",
        lambda: train_test_split([[1], [1, 2]], [1, 2]),
        ValueError,
        r"X must be an array of numbers",
    ),
    (
        "train_test_split",
        lambda: train_test_split(np.ones(5), np.ones(5), test_size=0.01),
        ValueError,
        r"Received: test_size=0\.01",
    ),
    ("one_hot", lambda: one_hot([[0, 1]]), ValueError, r"Received: labels of shape \(1, 2\)"),
    ("one_hot", lambda: one_hot([0, 1], n_classes=0), ValueError, r"Received: n_classes=0"),
    ("one_hot", lambda: one_hot([0, 1], dtype="foo"), TypeError, r"Received: dtype='foo'"),
    (
        "one_hot",
        lambda: one_hot(np.array([0.0, 1e20])),
        ValueError,
        r"Received: labels with values from 0 to 1e\+20",
    ),
    (
        "one_hot",
        lambda: one_hot([0, 3], n_classes=3),
        ValueError,
        r"labels must hold class labels in \[0, 3\).*from 0 to 3",
    ),
    ("standardize", lambda: standardize(np.ones(3)), ValueError, r"Received: X of shape \(3,\)"),
    (
        "standardize",
        lambda: standardize(np.ones((2, 3)), mean=np.zeros(2)),
        ValueError,
        r"mean must have one value per feature of X, shape \(3,\)\. Received: mean of shape \(2,\)",
    ),
    (
        "standardize",
        lambda: standardize(np.ones((2, 2)), std=[1.0, -1.0]),
        ValueError,
        r"std must hold standard deviations, 0 or more\. Received: std with -1\.0",
    ),
    (
        "standardize",
        lambda: standardize(np.ones((2, 2)), mean=[0.0, math.nan]),
        ValueError,
        r"mean must contain only finite numbers; found nan at index \(1,\)",
    ),
    ("standardize", lambda: standardize([["a"]]), TypeError, r"Received: X with dtype <U1"),
    ("load_digits", lambda: load_digits(dtype="foo"), TypeError, r"Received: dtype='foo'"),
    (
        "load_digits",
        lambda: load_digits(as_images="yes"),
        TypeError,
        r"as_images must be True or False\. Received: as_images='yes'",
    ),
    # ---------------------------------------------- datasets: numbers at the edge
    (
        "spiral_classification",
        lambda: spiral_classification(10**9, 3),
        ValueError,
        r"would return arrays of 72,000,000,000 bytes in all, more than the limit of "
        r"1,073,741,824 bytes \(mynn\.datasets\.MAX_BYTES\).*"
        r"Received: samples=1000000000, classes=3",
    ),
    (
        "spiral_classification",
        lambda: spiral_classification(50, 2, noise=1e308, rng=0),
        ValueError,
        r"noise is so large that the angles overflow.*Received: noise=1e\+308",
    ),
    (
        "vertical",
        lambda: vertical(10**9, 3),
        ValueError,
        r"72,000,000,000 bytes.*Received: samples=1000000000, classes=3",
    ),
    (
        "vertical",
        lambda: vertical(50, 2, spread=1e308, rng=0),
        ValueError,
        r"Received: spread=1e\+308",
    ),
    ("sine", lambda: sine(10**9), ValueError, r"16,000,000,000 bytes.*Received: samples=10+$"),
    ("circles", lambda: circles(10**9), ValueError, r"48,000,000,000 bytes.*samples=10+$"),
    (
        "circles",
        lambda: circles(50, noise=1e308, rng=0),
        ValueError,
        r"points of circles overflow float64.*Received: noise=1e\+308",
    ),
    ("xor", lambda: xor(10**9), ValueError, r"48,000,000,000 bytes.*samples=10+$"),
    (
        "xor",
        lambda: xor(50, noise=1e308, rng=0),
        ValueError,
        r"points of xor overflow float64.*Received: noise=1e\+308",
    ),
    ("blobs", lambda: blobs(10**9, 3), ValueError, r"72,000,000,000 bytes.*classes=3$"),
    ("blobs", lambda: blobs(50, 3, spread=1e308, rng=0), ValueError, r"spread=1e\+308"),
    ("curve", lambda: curve(10**10), ValueError, r"160,000,000,000 bytes.*samples=10+$"),
    (
        "curve",
        lambda: curve(50, noise=1e308, rng=0),
        ValueError,
        r"targets overflow float64.*Received: noise=1e\+308",
    ),
    ("sine", lambda: sine(5, periods=1e308), ValueError, r"Received: periods=1e\+308"),
    (
        "linear",
        lambda: linear(10**5, 10**5),
        ValueError,
        r"80,001,600,000 bytes.*Received: nfeatures=100000, nsamples=100000",
    ),
    (
        "linear",
        lambda: linear(2, 50, weights=[1e308, 1e308], rng=0),
        ValueError,
        r"y = X w \+ b \+ noise overflows float64.*Received: largest \|weight\| 1e\+308",
    ),
    (
        "one_hot",
        lambda: one_hot([0, 1], n_classes=10**12),
        ValueError,
        r"16,000,000,000,000 bytes.*Received: 2 labels, n_classes=1000000000000",
    ),
    (
        "one_hot",
        lambda: one_hot(np.array([0, 10**9])),
        ValueError,
        r"np\.unique\(labels, return_inverse=True\).*"
        r"Received: 2 labels, n_classes=1000000001 \(the largest label plus one\)",
    ),
    (
        "train_test_split",
        lambda: train_test_split(np.ones((1, 2)), [0]),
        ValueError,
        r"X and y must hold at least 2 samples, one for each part\. Received: X with 1 sample$",
    ),
    (
        "train_test_split",
        lambda: train_test_split(np.ones((7, 2)), np.ones(7), test_size=3),
        ValueError,
        r"not a count: for 3 of the 7 samples, pass test_size=3/7\. Received: test_size=3$",
    ),
    (
        "standardize",
        lambda: standardize(np.array([[1e10]]), np.zeros(1), np.array([1e-300])),
        ValueError,
        r"X\[0, 0\] is too far from its feature's mean.*Received: X\[0, 0\]=10000000000\.0",
    ),
    ("load_digits", lambda: load_digits(dtype=np.float16), TypeError, r"Received: dtype=<class"),
    ("load_digits", lambda: load_digits(as_images=1), TypeError, r"Received: as_images=1"),
    # ------------------------------------------------------------------ mnist
    # (download=False or a bad argument: none of these touches the network)
    (
        "load_mnist",
        lambda: load_mnist(dtype="foo", download=False),
        TypeError,
        r"Received: dtype='foo'",
    ),
    (
        "load_mnist",
        lambda: load_mnist(download="no", cache_dir="/nonexistent"),
        TypeError,
        r"download must be True or False\. Received: download='no'",
    ),
    (
        "load_mnist",
        lambda: load_mnist(timeout=0, download=False),
        ValueError,
        r"Received: timeout=0\.0",
    ),
    (
        "load_mnist",
        lambda: load_mnist(time_limit=-1, download=False),
        ValueError,
        r"time_limit must be a finite number in \(0, inf\]\. Received: time_limit=-1\.0",
    ),
    (
        "load_mnist",
        lambda: load_mnist(cache_dir=5, download=False),
        TypeError,
        r"Received: cache_dir=5",
    ),
    (
        "load_mnist",
        lambda: load_mnist(as_images=1, download=False),
        TypeError,
        r"Received: as_images=1",
    ),
    (
        "load_fashion_mnist",
        lambda: load_fashion_mnist(mirrors="http://127.0.0.1/", download=False),
        TypeError,
        r"mirrors must be a sequence of base URLs \(str\)\. Received: mirrors='http://127\.0\.0\.1/'",
    ),
    (
        "load_fashion_mnist",
        lambda: load_fashion_mnist(time_limit=math.inf, download=False),
        ValueError,
        r"Received: time_limit=inf",
    ),
    (
        "load_fashion_mnist",
        lambda: load_fashion_mnist(system_dirs="/usr/share", download=False),
        TypeError,
        r"system_dirs must be a sequence",
    ),
    # ------------------------------------------------ the data files and the training loop
    (
        "fetch",
        lambda: mynn.fetch("digits"),
        ValueError,
        r"dataset must be one of \['fashion-mnist', 'mnist'\]\. Received: dataset='digits'",
    ),
    (
        "load_fashion_mnist",
        lambda: load_fashion_mnist(cache="x"),
        TypeError,
        r"load_fashion_mnist takes as_images, dtype and the keyword arguments of fetch: "
        r"cache_dir, .*\. Received: unknown keyword arguments \['cache'\]",
    ),
    (
        "read_idx",
        lambda: mynn.read_idx(5),
        TypeError,
        r"path must be a file path \(str or pathlib\.Path\)\. Received: path=5",
    ),
    (
        "parse_idx",
        lambda: mynn.parse_idx("x"),
        TypeError,
        r"data must be bytes \(the content of an IDX file\)\. Received: data='x'",
    ),
    (
        "size_limit",
        lambda: mynn.size_limit(1.5),
        TypeError,
        r"size must be a whole number of bytes\. Received: size=1\.5",
    ),
    (
        "size_limit",
        lambda: mynn.size_limit(-1),
        ValueError,
        r"size must be a number of bytes, 0 or more\. Received: size=-1",
    ),
    (
        "record_diagnostics",
        lambda: mynn.record_diagnostics(np.ones((3, 2)), [0, 1]),
        ValueError,
        r"X and y must have the same number of samples",
    ),
    (
        "record_diagnostics",
        lambda: mynn.record_diagnostics(np.ones((3, 2)), [0, 1, 2], n_samples=0),
        ValueError,
        r"n_samples must be a positive integer\. Received: n_samples=0",
    ),
    (
        "FlatParameters",
        lambda: mynn.FlatParameters([]),
        ValueError,
        r"parameters must hold at least one \(name, value, gradient\) triple\. Received: none",
    ),
    (
        "FlatParameters",
        lambda: mynn.FlatParameters([("w", np.ones(2), None), ("b", np.ones(2, np.float32), None)]),
        TypeError,
        r"must all have one dtype\. Received: values of dtypes \['float32', 'float64'\]",
    ),
    (
        "FlatParameters",
        lambda: mynn.FlatParameters([("w", np.ones(2), None), ("w", np.ones(3), None)]),
        ValueError,
        r"parameter names must be distinct\. Received: \['w'\] repeated",
    ),
    (
        "FlatParameters",
        lambda: mynn.FlatParameters([("w", np.ones(2), np.ones(3))]),
        ValueError,
        r"the gradient of parameter 'w' must have the shape of its value \(2,\)",
    ),
    (
        "flush_threshold",
        lambda: mynn.flush_threshold(np.int64),
        TypeError,
        r"dtype must be float32 or float64\. Received: dtype=<class 'numpy\.int64'>",
    ),
    (
        "flush_threshold",
        lambda: mynn.flush_threshold("no such type"),
        TypeError,
        r"dtype must be float32 or float64\. Received: dtype='no such type'",
    ),
    (
        "count_subnormal",
        lambda: mynn.count_subnormal([1e-40]),
        TypeError,
        r"array must be a float32 or float64 numpy array\. Received: list",
    ),
    (
        "count_subnormal",
        lambda: mynn.count_subnormal(np.ones(3, dtype=np.float16)),
        TypeError,
        r"array must be a float32 or float64 numpy array\. Received: dtype float16",
    ),
]


def case_id(case) -> str:
    name, _, error, pattern = case
    return f"{name}-{error.__name__}-{pattern[:40]}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_bad_input_is_refused_by_name(case):
    _, call, error, pattern = case
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error, (type(caught.value), caught.value)  # not a subclass
    message = str(caught.value)
    assert re.search(pattern, message), message
    assert "allow_pickle" not in message


# Public names that take no argument a user could get wrong: constants, the exception
# class mynn raises, and a function of no arguments.
NO_ARGUMENTS = {"DATASETS", "FORMAT_VERSION", "INITIALIZERS", "DownloadError", "default_cache_dir"}


def test_every_public_name_has_bad_input_cases():
    covered = {name for name, *_ in CASES}
    assert NO_ARGUMENTS <= set(mynn.__all__), sorted(NO_ARGUMENTS - set(mynn.__all__))
    for name in NO_ARGUMENTS:
        obj = getattr(mynn, name)
        takes_nothing = (
            callable(obj) and not isinstance(obj, type) and not inspect.signature(obj).parameters
        )
        assert not callable(obj) or takes_nothing or issubclass(obj, Exception), name
    expected = set(mynn.__all__) - NO_ARGUMENTS
    assert expected <= covered, sorted(expected - covered)
    assert covered <= set(mynn.__all__), sorted(covered - set(mynn.__all__))


def test_argument_errors_end_with_what_was_received():
    # The house convention: a ValueError or TypeError about an argument quotes what it got.
    # The messages below say it otherwise, each for a reason.
    exempt = (
        "but the previous Dense layer has",  # names both layers and their sizes
        "must be an array of numbers",  # quotes numpy's reason
        "must contain only finite numbers",  # names the bad value and its index
    )
    for _, call, error, _ in CASES:
        if error not in (TypeError, ValueError):
            continue
        with pytest.raises(error) as caught:
            call()
        message = str(caught.value)
        assert "Received:" in message or any(part in message for part in exempt), message


# ---------------------------------------------------------------- properties
FLOAT_SPELLINGS = ["float32", "float64", "f4", "f8", np.float32, np.float64, "<f4", "=f8"]
NOT_DTYPES = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.sampled_from(
        [
            np.int8,
            np.int64,
            np.uint8,
            np.float16,
            np.complex64,
            np.bool_,
            object,
            str,
            "O",
            "i4,i4",
            ">f4",
            ">f8",
            "datetime64[s]",
            np.dtype("V8"),
            float,
            int,
        ]
    ),
)


@FUZZ
@given(dtype=NOT_DTYPES)
def test_any_dtype_but_float32_or_float64_is_refused(dtype):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # aliases such as "a"
            accepted = np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float64))
    except Exception:  # numpy's own reasons vary: then it is no dtype at all
        accepted = False
    accepted = (
        accepted and dtype is not None and not (isinstance(dtype, str) and dtype.startswith(">"))
    )
    if accepted:  # e.g. the text "d" or the type float: spellings numpy reads as float64
        assert Dense(2, 2, dtype=dtype).dtype in (np.float32, np.float64)
        return
    for build in (
        lambda: Dense(2, 2, dtype=dtype),
        lambda: load_digits(dtype=dtype),
        lambda: MeanSquaredError().check_targets(np.ones(2), 1, dtype),
    ):
        with pytest.raises(TypeError) as caught:
            build()
        assert "dtype must be float32 or float64. Received: dtype=" in str(caught.value)


@pytest.mark.parametrize("dtype", FLOAT_SPELLINGS)
def test_every_spelling_of_a_float_dtype_is_accepted(dtype):
    layer = Dense(2, 2, dtype=dtype)
    assert layer.dtype == np.dtype(dtype) and layer.weights.dtype == np.dtype(dtype)


HYPERPARAMETERS = [
    # (constructor, argument, low, high, low_open, high_open)
    (
        lambda v: Dense(2, 2, weight_regularizer_l1=v),
        "weight_regularizer_l1",
        0.0,
        math.inf,
        False,
        True,
    ),
    (lambda v: Dropout(v), "rate", 0.0, 1.0, False, True),
    (lambda v: LeakyReLU(alpha=v), "alpha", 0.0, 1.0, False, True),
    (lambda v: SGD(learning_rate=v), "learning_rate", 0.0, math.inf, True, True),
    (lambda v: SGD(momentum=v), "momentum", 0.0, 1.0, False, True),
    (lambda v: Adagrad(epsilon=v), "epsilon", 0.0, math.inf, True, True),
    (lambda v: RMSProp(rho=v), "rho", 0.0, 1.0, False, True),
    (lambda v: Adam(beta_2=v), "beta_2", 0.0, 1.0, False, True),
    (lambda v: Adam(decay=v), "decay", 0.0, math.inf, False, True),
    (lambda v: RegressionAccuracy(precision=v), "precision", 0.0, math.inf, True, True),
    (lambda v: spiral_classification(3, 2, noise=v), "noise", 0.0, math.inf, False, True),
]


@FUZZ
@given(
    index=st.integers(0, len(HYPERPARAMETERS) - 1),
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**400), 10**400),
        st.sampled_from([0, 1, -1, 0.999999, 1.0, 1e-300, -0.0]),
    ),
)
def test_numbers_outside_their_interval_are_refused_by_name(index, value):
    build, name, low, high, low_open, high_open = HYPERPARAMETERS[index]
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf
    inside = math.isfinite(number)
    inside = inside and (number > low if low_open else number >= low)
    inside = inside and (number < high if high_open else number <= high)
    if inside:
        built = build(value)
        assert built is not None
        return
    with pytest.raises(ValueError) as caught:
        build(value)
    message = str(caught.value)
    assert f"{name} must be a finite number in" in message and f"Received: {name}=" in message


@FUZZ
@given(
    value=st.one_of(
        st.text(max_size=5),
        st.booleans(),
        st.none(),
        st.complex_numbers(),
        st.lists(st.floats(), max_size=2),
    )
)
def test_numbers_that_are_not_real_are_a_type_error(value):
    for build, name, *_ in HYPERPARAMETERS:
        if value is None and name == "precision":
            continue  # None is valid there: the precision is then derived from the data
        with pytest.raises(TypeError) as caught:
            build(value)
        assert f"{name} must be a real number. Received: {name}=" in str(caught.value)


@FUZZ
@given(
    where=st.sampled_from(["X", "y", "X_val", "y_val"]),
    row=st.integers(0, 5),
    column=st.integers(0, 1),
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_a_non_finite_value_is_reported_in_the_argument_that_holds_it(where, row, column, bad):
    data = {"X": X3.copy(), "y": np.stack([Y3, 1 - Y3], axis=1).astype(float)}
    data["X_val"], data["y_val"] = data["X"].copy(), data["y"].copy()
    data[where][row, column] = bad
    model = Model([Dense(2, 2, rng=0), Softmax()])
    model.set_loss(CategoricalCrossentropy())  # one-hot targets: checked as floats
    model.set_optimizer(SGD(0.1))
    with pytest.raises(ValueError) as caught:
        model.train(data["X"], data["y"], validation_data=(data["X_val"], data["y_val"]), verbose=0)
    expected = f"{where} must contain only finite numbers; found {bad} at index ({row}, {column})"
    assert str(caught.value).startswith(expected), str(caught.value)


@FUZZ
@given(
    labels=st.lists(
        st.one_of(
            st.integers(-(2**70), 2**70),
            st.floats(allow_nan=True, allow_infinity=True, width=64),
        ),
        min_size=1,
        max_size=6,
    ),
    n_classes=st.integers(1, 5),
)
def test_class_labels_are_refused_with_the_values_as_given(labels, n_classes):
    as_floats = any(isinstance(label, float) for label in labels)
    try:
        array = np.array(labels, dtype=np.float64 if as_floats else None)
    except OverflowError:  # ints beyond int64 and uint64: numpy makes them objects
        array = np.array(labels, dtype=object)
    loss = CategoricalCrossentropy()
    valid = all(
        isinstance(label, (int, float))
        and math.isfinite(label)
        and float(label).is_integer()
        and 0 <= label < n_classes
        for label in labels
    )
    if array.dtype == object:
        with pytest.raises(TypeError, match=r"y_true must hold integer class labels"):
            loss.check_targets(array, n_classes)
        return
    if valid:
        result = loss.check_targets(array, n_classes)
        assert result.dtype == np.int64 and result.tolist() == [int(v) for v in labels]
        return
    with pytest.raises(ValueError) as caught:
        loss.check_targets(array, n_classes)
    message = str(caught.value)
    assert message.startswith("y_true must hold class labels"), message
    if "from" in message:  # a range problem: the extremes are quoted as the user wrote them
        low, high = array.min(), array.max()
        assert _as_written(low) in message and _as_written(high) in message, message


def _as_written(value) -> str:
    value = value.item()
    if isinstance(value, float) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


@FUZZ
@given(
    item=st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=3),
        st.tuples(st.one_of(st.text(max_size=3), st.integers()), st.just(np.ones(2))),
        st.tuples(
            st.one_of(st.text(max_size=3), st.none()),
            st.one_of(st.just(np.ones(2)), st.just([1.0, 2.0]), st.just(np.ones(2, dtype=int))),
            st.one_of(st.just(np.ones(2)), st.just(np.ones(3)), st.just("ab"), st.just([1, 2])),
        ),
    )
)
def test_optimizer_step_checks_every_triple(item):
    value_before = None
    if isinstance(item, tuple) and len(item) == 3 and isinstance(item[1], np.ndarray):
        value_before = item[1].copy()
    try:
        Adam(0.1).step([item])
    except (TypeError, ValueError) as error:
        message = str(error)
        assert message.startswith(
            (
                "each parameter",
                "a parameter's name",
                "the value of",
                "the gradient of",
                "gradient must",
            )
        ), message
        if value_before is not None:  # a refused step changes nothing
            np.testing.assert_array_equal(item[1], value_before)
        return
    # accepted: a name, a float array and a gradient of its shape
    name, value, gradient = item
    assert isinstance(name, str) and value.dtype == np.float64
    assert np.asarray(gradient).shape == value.shape


def test_a_refused_step_changes_no_parameter():
    first, second = np.ones(2), np.ones(3)
    optimizer = Adam(0.1)
    with pytest.raises(ValueError, match=r"the gradient of parameter 'b'"):
        optimizer.step([("a", first, np.ones(2)), ("b", second, np.ones(2))])
    assert first.tolist() == [1.0, 1.0] and optimizer.iterations == 0 and not optimizer.state


MAKERS = {
    "spiral_classification": (lambda a, b: spiral_classification(a, b, rng=0), 24),
    "vertical": (lambda a, b: vertical(a, b, rng=0), 24),
    "sine": (lambda a, b: sine(a * b), 16),
    "linear": (lambda a, b: linear(b, a, rng=0), None),  # X, y and the weights
    "one_hot": (lambda a, b: one_hot(np.arange(a) % b, n_classes=b), None),
}


@FUZZ
@given(
    name=st.sampled_from(sorted(MAKERS)),
    a=st.integers(1, 3000),
    b=st.integers(1, 3000),
    limit=st.integers(8, 200_000),
)
def test_a_generator_either_stays_within_max_bytes_or_names_the_bytes(name, a, b, limit):
    # drawn with a small limit, so that nothing large is made on the way
    make, per_row = MAKERS[name]
    saved = mynn.datasets.MAX_BYTES
    mynn.datasets.MAX_BYTES = limit
    try:
        result = make(a, b)
    except ValueError as error:
        found = re.search(r"would return arrays of ([\d,]+) bytes in all", str(error))
        assert found, error
        assert int(found[1].replace(",", "")) > limit
        if per_row is not None:
            assert int(found[1].replace(",", "")) == per_row * a * b
        assert f"more than the limit of {limit:,} bytes (mynn.datasets.MAX_BYTES)" in str(error)
        return
    finally:
        mynn.datasets.MAX_BYTES = saved
    arrays = result if isinstance(result, tuple) else (result,)
    assert sum(part.nbytes for part in arrays if isinstance(part, np.ndarray)) <= limit


@FUZZ
@given(n=st.integers(1, 12), m=st.integers(1, 12), test_size=st.floats(0.0, 1.0))
def test_train_test_split_either_splits_or_names_the_problem(n, m, test_size):
    X, y = np.arange(2 * n).reshape(n, 2), np.arange(m)
    try:
        parts = train_test_split(X, y, test_size=test_size, rng=0)
    except ValueError as error:
        message = str(error)
        assert (
            (n != m and "Received: X with" in message)
            or (n == m == 1 and "Received: X with 1 sample" in message)
            or "Received: test_size=" in message
        ), message
        return
    assert (
        n == m and len(parts[0]) + len(parts[1]) == n and len(parts[1]) >= 1 and len(parts[0]) >= 1
    )


def test_names_outside_mynn_all_check_their_input_too():
    from mynn.mnist import fetch, parse_idx, read_idx

    with pytest.raises(TypeError, match=r"data must be bytes.*Received: data='abc'"):
        parse_idx("abc")
    with pytest.raises(TypeError, match=r"Received: path=None"):
        read_idx(None)
    with pytest.raises(ValueError, match=r"dataset must be one of.*Received: dataset='cifar'"):
        fetch("cifar")
    with pytest.raises(TypeError, match=r"reinit must be True or False\. Received: reinit='yes'"):
        RegressionAccuracy().init(np.ones(3), reinit="yes")


# ------------------------------------------------------------- the dtype rule
# A Dense layer computes in its parameters' dtype: inputs of another real dtype are converted,
# so output and gradients keep the layer's dtype; layers without parameters keep their input's
# dtype; backward converts dvalues to the last output's dtype; a model holds one dtype.
@pytest.mark.parametrize(
    "inputs",
    [
        np.ones((3, 2)),
        np.ones((3, 2), dtype=np.int64),
        np.ones((3, 2), dtype=bool),
        [[1, 2]] * 3,
        np.ones((3, 2), dtype=np.float16),
    ],
)
def test_a_float32_layer_converts_other_inputs_to_float32(inputs):
    layer = Dense(2, 4, rng=0, dtype=np.float32)
    output = layer.forward(inputs)
    assert output.dtype == np.float32 and layer.inputs.dtype == np.float32
    dinputs = layer.backward(np.ones((3, 4)))  # float64 dvalues: converted as well
    assert dinputs.dtype == layer.dweights.dtype == layer.dbiases.dtype == np.float32
    # the same numbers as converting by hand first (same operation, same shapes: exact)
    twin = Dense(2, 4, rng=0, dtype=np.float32)
    np.testing.assert_array_equal(output, twin.forward(np.asarray(inputs).astype(np.float32)))


def test_a_float64_layer_converts_float32_inputs_up():
    layer = Dense(2, 4, rng=0)
    assert layer.forward(np.ones((3, 2), dtype=np.float32)).dtype == np.float64
    assert layer.backward(np.ones((3, 4), dtype=np.float32)).dtype == np.float64


@pytest.mark.parametrize(
    "activation", [ReLU(), LeakyReLU(), Sigmoid(), Tanh(), Softmax(), Linear()]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_without_parameters_keep_their_input_dtype(activation, dtype):
    output = activation.forward(np.linspace(-1, 1, 6).reshape(3, 2).astype(dtype))
    assert output.dtype == dtype
    assert activation.backward(np.ones((3, 2))).dtype == dtype  # float64 dvalues converted
    assert activation.forward(np.ones((3, 2), dtype=np.int32)).dtype == np.float64


def test_a_float32_model_stays_float32_whatever_the_data():
    model = classifier(np.float32)
    history = model.train(X3, Y3.astype(np.float64), epochs=2, verbose=0)
    assert all(value.dtype == np.float32 for _, value, _ in model.parameters())
    assert all(isinstance(loss, float) for loss in history["loss"])
    assert model.forward(X3).dtype == np.float32  # float64 data, float32 model
    assert model.predict(X3.tolist()).dtype == np.int64


# ------------------------------------------------------------- divergence
def test_weights_that_overflow_stop_training_at_that_step():
    # the example: one step of SGD(1e300) on 1e5 makes the weight -inf; no loss is
    # computed after the last step, so only a check of the parameters can see it
    model = Model([Dense(1, 1, rng=0), Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(1e300))
    with pytest.raises(FloatingPointError) as caught:
        model.train(np.full((4, 1), 1e5), np.full((4, 1), 1e5), epochs=1, verbose=0)
    message = str(caught.value)
    assert re.match(r"parameter '0\.weights' became -?inf at epoch 1, step 1", message), message
    assert "training diverged" in message


def test_inf_weights_behind_a_sigmoid_are_caught_though_the_loss_stays_finite():
    # A Sigmoid turns an inf weight into an output of 1 and a gradient of 0: the loss stays
    # finite and the weights stay inf, so the loss check alone would let training go on.
    def build():
        model = Model([Dense(1, 1, rng=0), Sigmoid()])
        model.set_loss(BinaryCrossentropy())
        model.set_optimizer(SGD(1e308))
        return model

    X, y = np.full((8, 1), 10.0), np.zeros(8)  # a gradient near 10: 1e308 * 10 overflows
    with pytest.raises(FloatingPointError, match=r"parameter '0\.weights' became -?inf at epoch 1"):
        build().train(X, y, epochs=3, batch_size=4, verbose=0)
    # what training would have done without the check: finite losses over inf weights
    model = build()
    with np.errstate(over="ignore", invalid="ignore"):
        model.forward(X)
        model.backward(model.layers[-1].output, y[:, None])
        model.optimizer.step(model.parameters())
        assert np.isinf(model.layers[0].weights).all()
        assert math.isfinite(model.loss.calculate(model.forward(X), y))


def test_the_parameter_check_names_nan_and_accepts_huge_finite_values():
    from mynn.model import non_finite_parameter

    weights = np.full((300, 300), 1e30, dtype=np.float32)  # squares overflow, values finite
    biases = np.zeros(300, dtype=np.float32)
    assert non_finite_parameter([("0.weights", weights, None), ("0.biases", biases, None)]) is None
    biases[17] = np.nan
    name, value = non_finite_parameter([("0.weights", weights, None), ("0.biases", biases, None)])
    assert name == "0.biases" and math.isnan(value)
