"""Exercises that check themselves.

Each exercise asks for a small function (the sigmoid derivative, the bias gradient, one Adam
step, ...). [check][mynn.exercises.check] calls it on several random inputs, compares the result
with mynn's own computation and, when the answer is wrong, says on which input, what was
expected, what was received and, when the answer matches a typical mistake, which one.

Examples:
    >>> import numpy as np
    >>> from mynn.exercises import check
    >>> def relu(x):
    ...     return np.maximum(x, 0)
    >>> check("relu", relu)
    'relu: correct on 5 random inputs'
    >>> def bias_gradient(dvalues):
    ...     return dvalues.sum(axis=1)          # wrong axis
    >>> try:
    ...     check("bias_gradient", bias_gradient)
    ... except AssertionError as error:
    ...     print("sum over the samples" in str(error))
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_generator, check_positive_int
from .activations import Sigmoid, Softmax
from .loss import CategoricalCrossentropy, MeanSquaredError

__all__ = ["ExerciseError", "Exercise", "EXERCISES", "check"]


class ExerciseError(AssertionError):
    """Raised by [check][mynn.exercises.check] when an answer is wrong; the message says why."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to write, how to make inputs, the right answer and typical mistakes.

    Attributes:
        name: Key in [EXERCISES][mynn.exercises.EXERCISES], passed to ``check``.
        task: What the function must compute, with its signature.
        make_inputs: Draws keyword arguments for one trial from a Generator.
        reference: The right answer, computed with mynn.
        mistakes: ``(wrong function, hint)`` pairs: when an answer matches a wrong function
            the hint names the mistake.
    """

    name: str
    task: str
    make_inputs: Callable[[np.random.Generator], dict]
    reference: Callable[..., object]
    mistakes: tuple[tuple[Callable[..., object], str], ...] = field(default_factory=tuple)


def _batch(rng, k=None, n=None):
    k = k or int(rng.integers(3, 7))
    n = n or int(rng.integers(2, 5))
    return rng.normal(size=(k, n))


def _layer_inputs(rng):
    k, n, m = (int(v) for v in rng.integers(3, 7, size=3))
    if n == m:
        m += 1
    return {"X": rng.normal(size=(k, n)), "W": rng.normal(size=(n, m)), "b": rng.normal(size=m)}


def _gradient_inputs(rng):
    k, n, m = (int(v) for v in rng.integers(3, 7, size=3))
    if len({k, n, m}) < 3:
        k, n, m = 5, 3, 4
    return {"X": rng.normal(size=(k, n)), "W": rng.normal(size=(n, m)), "dvalues": rng.normal(size=(k, m))}


def _labels_inputs(rng):
    k, c = int(rng.integers(4, 8)), int(rng.integers(3, 5))
    logits = rng.normal(size=(k, c))
    return {"probabilities": Softmax().forward(logits), "labels": rng.integers(0, c, size=k)}


def _adam_inputs(rng):
    shape = (3, 2)
    return {
        "w": rng.normal(size=shape),
        "grad": rng.normal(size=shape),
        "m": rng.normal(size=shape) * 0.1,
        "v": rng.random(shape) * 0.1,
        "t": int(rng.integers(1, 5)),
        "learning_rate": 0.01,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
    }


def _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon, correct=True):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat = m / (1 - beta_1**t) if correct else m
    v_hat = v / (1 - beta_2**t) if correct else v
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


def _sigmoid(x):
    return Sigmoid().forward(x)


def _mse(y_pred, y_true):
    return MeanSquaredError().calculate(y_pred, y_true)


def _exercises() -> dict[str, Exercise]:
    items = [
        Exercise(
            "neuron",
            "neuron(x, w, b) -> float: the output w·x + b of one neuron for one input vector x",
            lambda rng: {"x": rng.normal(size=4), "w": rng.normal(size=4), "b": float(rng.normal())},
            lambda x, w, b: float(x @ w + b),
            ((lambda x, w, b: float(x @ w), "the bias b is missing: a neuron adds it after the weighted sum"),
             (lambda x, w, b: float(np.sum(x + w) + b), "add the products x_i * w_i, not the sums x_i + w_i")),
        ),
        Exercise(
            "neuron_batch",
            "neuron_batch(X, w, b) -> array (k,): the output of one neuron for each row of a batch X (k, n)",
            lambda rng: {"X": _batch(rng, 5, 3), "w": rng.normal(size=3), "b": float(rng.normal())},
            lambda X, w, b: X @ w + b,
            ((lambda X, w, b: np.full(len(X), float(X[0] @ w + b)), "compute every row, not only the first: X @ w + b"),
             (lambda X, w, b: (X @ w + b).reshape(-1, 1), "return shape (k,), one number per sample, not a column (k, 1)")),
        ),
        Exercise(
            "count_parameters",
            "count_parameters(n_inputs, n_neurons) -> int: how many numbers a dense layer learns",
            lambda rng: {"n_inputs": int(rng.integers(2, 50)), "n_neurons": int(rng.integers(2, 50))},
            lambda n_inputs, n_neurons: n_inputs * n_neurons + n_neurons,
            ((lambda n_inputs, n_neurons: n_inputs * n_neurons, "the biases count too: one per neuron"),),
        ),
        Exercise(
            "layer_forward",
            "layer_forward(X, W, b) -> array (k, m): a dense layer for a batch X (k, n), W (n, m), b (m,)",
            _layer_inputs,
            lambda X, W, b: X @ W + b,
            ((lambda X, W, b: X @ W, "the biases are missing: add b, one per neuron, to every row"),),
        ),
        Exercise(
            "relu",
            "relu(x) -> array: max(0, x) element-wise",
            lambda rng: {"x": _batch(rng)},
            lambda x: np.maximum(x, 0),
            ((lambda x: np.abs(x), "negative inputs must become 0, not positive"),),
        ),
        Exercise(
            "sigmoid_derivative",
            "sigmoid_derivative(x) -> array: the derivative of the sigmoid at x, element-wise",
            lambda rng: {"x": _batch(rng) * 3},
            lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
            ((lambda x: _sigmoid(x), "that is the sigmoid itself; its derivative is s(x) * (1 - s(x))"),
             (lambda x: x * (1 - x), "apply the formula to s(x), the sigmoid's output, not to x")),
        ),
        Exercise(
            "softmax",
            "softmax(x) -> array (k, c): row-wise probabilities for scores x (k, c); must survive scores near 1000",
            lambda rng: {"x": _batch(rng) * 400 + 600},
            lambda x: Softmax().forward(x),
            ((lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(), "normalize each row on its own: sum over axis=1 with keepdims=True"),),
        ),
        Exercise(
            "two_layer_forward",
            "two_layer_forward(X, W1, b1, W2, b2) -> array: softmax(relu(X @ W1 + b1) @ W2 + b2)",
            lambda rng: {"X": rng.normal(size=(5, 3)), "W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
                         "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)},
            lambda X, W1, b1, W2, b2: Softmax().forward(np.maximum(X @ W1 + b1, 0) @ W2 + b2),
            ((lambda X, W1, b1, W2, b2: Softmax().forward((X @ W1 + b1) @ W2 + b2), "the ReLU between the layers is missing"),),
        ),
        Exercise(
            "predicted_classes",
            "predicted_classes(probabilities) -> array (k,): the index of the most probable class of each row",
            lambda rng: {"probabilities": _labels_inputs(rng)["probabilities"]},
            lambda probabilities: np.argmax(probabilities, axis=1),
            ((lambda probabilities: np.max(probabilities, axis=1), "return the INDEX of the largest probability (argmax), not the probability"),),
        ),
        Exercise(
            "mse",
            "mse(y_pred, y_true) -> float: mean squared error over samples and outputs, arrays (k, m)",
            lambda rng: {"y_pred": rng.normal(size=(6, 3)), "y_true": rng.normal(size=(6, 3))},
            _mse,
            ((lambda y_pred, y_true: float(np.sum((y_true - y_pred) ** 2) / len(y_true)), "divide by k*m, the number of entries, not by k: the mean runs over samples and outputs"),
             (lambda y_pred, y_true: float(np.sum((y_true - y_pred) ** 2)), "take the mean, not the sum")),
        ),
        Exercise(
            "categorical_crossentropy",
            "categorical_crossentropy(probabilities, labels) -> float: mean of -log p[i, labels[i]]",
            _labels_inputs,
            lambda probabilities, labels: CategoricalCrossentropy().calculate(probabilities, labels),
            ((lambda probabilities, labels: float(-np.log(probabilities[np.arange(len(labels)), labels]).sum()), "take the mean over the samples, not the sum"),
             (lambda probabilities, labels: float(np.mean(np.log(probabilities[np.arange(len(labels)), labels]))), "the sign: the loss is the NEGATIVE log of the probability")),
        ),
        Exercise(
            "gradient_descent_step",
            "gradient_descent_step(w, grad, learning_rate) -> array: one step of gradient descent",
            lambda rng: {"w": rng.normal(size=4), "grad": rng.normal(size=4), "learning_rate": 0.1},
            lambda w, grad, learning_rate: w - learning_rate * grad,
            ((lambda w, grad, learning_rate: w + learning_rate * grad, "step AGAINST the gradient: subtract it"),),
        ),
        Exercise(
            "gradient_descent_steps",
            "gradient_descent_steps(w, learning_rate, steps) -> float: w after `steps` steps of gradient descent on C(w) = (w - 3)**2",
            lambda rng: {"w": float(rng.normal() * 5), "learning_rate": float(rng.uniform(0.01, 0.4)), "steps": int(rng.integers(1, 20))},
            lambda w, learning_rate, steps: 3 + (w - 3) * (1 - 2 * learning_rate) ** steps,
            ((lambda w, learning_rate, steps: 3 + (w - 3) * (1 - learning_rate) ** steps, "the derivative of (w - 3)**2 is 2 * (w - 3): the factor 2 is missing"),
             (lambda w, learning_rate, steps: 3 + (w - 3) * (1 + 2 * learning_rate) ** steps, "step AGAINST the gradient: subtract it")),
        ),
        Exercise(
            "chain_rule_square",
            "chain_rule_square(w, x, b, y) -> float: d/dw of (w*x + b - y)**2 for scalars",
            lambda rng: {"w": float(rng.normal()), "x": float(rng.normal()), "b": float(rng.normal()), "y": float(rng.normal())},
            lambda w, x, b, y: 2 * (w * x + b - y) * x,
            ((lambda w, x, b, y: 2 * (w * x + b - y), "multiply by the inner derivative d(w*x + b - y)/dw = x"),),
        ),
        Exercise(
            "chain_rule",
            "chain_rule(w, x, b) -> float: d/dw of sigmoid(w*x + b) for scalars",
            lambda rng: {"w": float(rng.normal()), "x": float(rng.normal()), "b": float(rng.normal())},
            lambda w, x, b: float(_sigmoid(np.array(w * x + b)) * (1 - _sigmoid(np.array(w * x + b))) * x),
            ((lambda w, x, b: float(_sigmoid(np.array(w * x + b)) * (1 - _sigmoid(np.array(w * x + b)))), "multiply by the inner derivative d(w*x + b)/dw = x"),),
        ),
        Exercise(
            "weights_gradient",
            "weights_gradient(X, W, dvalues) -> array (n, m): dL/dW of a dense layer",
            _gradient_inputs,
            lambda X, W, dvalues: X.T @ dvalues,
            ((lambda X, W, dvalues: dvalues.T @ X, "the result is transposed: X.T @ dvalues has the shape (n, m) of W"),),
        ),
        Exercise(
            "bias_gradient",
            "bias_gradient(dvalues) -> array (m,): dL/db of a dense layer, dvalues (k, m)",
            lambda rng: {"dvalues": rng.normal(size=(5, 3))},
            lambda dvalues: dvalues.sum(axis=0),
            ((lambda dvalues: dvalues.sum(axis=1), "sum over the samples (axis=0), not over the neurons"),
             (lambda dvalues: dvalues.sum(axis=0, keepdims=True), "the shape must be (m,), like the biases; drop keepdims"),
             (lambda dvalues: dvalues.mean(axis=0), "sum, do not average: the loss already divides by the batch size")),
        ),
        Exercise(
            "inputs_gradient",
            "inputs_gradient(X, W, dvalues) -> array (k, n): dL/dX of a dense layer",
            _gradient_inputs,
            lambda X, W, dvalues: dvalues @ W.T,
            ((lambda X, W, dvalues: W @ dvalues.T, "the result is transposed: it must have the shape (k, n) of X; use dvalues @ W.T"),),
        ),
        Exercise(
            "relu_backward",
            "relu_backward(dvalues, inputs) -> array: gradient through a ReLU whose forward input was `inputs`",
            lambda rng: {"dvalues": _batch(rng, 4, 3), "inputs": _batch(rng, 4, 3)},
            lambda dvalues, inputs: dvalues * (inputs > 0),
            ((lambda dvalues, inputs: np.maximum(dvalues, 0), "zero the gradient where the forward INPUT was <= 0, not where the gradient is negative"),),
        ),
        Exercise(
            "momentum_step",
            "momentum_step(w, grad, velocity, learning_rate, momentum) -> (w, velocity): one SGD step with momentum",
            lambda rng: {"w": rng.normal(size=3), "grad": rng.normal(size=3), "velocity": rng.normal(size=3),
                         "learning_rate": 0.1, "momentum": 0.9},
            lambda w, grad, velocity, learning_rate, momentum: (
                w + momentum * velocity - learning_rate * grad, momentum * velocity - learning_rate * grad),
            ((lambda w, grad, velocity, learning_rate, momentum: (
                w - learning_rate * grad, momentum * velocity - learning_rate * grad),
              "update w with the NEW velocity: w + velocity"),),
        ),
        Exercise(
            "adam_step",
            "adam_step(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon) -> (w, m, v): one Adam step",
            _adam_inputs,
            _adam,
            ((lambda **kw: _adam(**kw, correct=False), "the bias correction is missing: divide m by 1 - beta_1**t and v by 1 - beta_2**t"),),
        ),
        Exercise(
            "decayed_learning_rate",
            "decayed_learning_rate(learning_rate, decay, iterations) -> float: the 1/t decay",
            lambda rng: {"learning_rate": float(rng.uniform(0.01, 1)), "decay": float(rng.uniform(0.01, 0.5)),
                         "iterations": int(rng.integers(1, 100))},
            lambda learning_rate, decay, iterations: learning_rate / (1 + decay * iterations),
            ((lambda learning_rate, decay, iterations: learning_rate * (1 - decay * iterations), "it is a division: learning_rate / (1 + decay * iterations)"),),
        ),
        Exercise(
            "accuracy",
            "accuracy(probabilities, labels) -> float: share of rows whose largest probability is the true class",
            _labels_inputs,
            lambda probabilities, labels: float(np.mean(np.argmax(probabilities, axis=1) == labels)),
            ((lambda probabilities, labels: float(np.sum(np.argmax(probabilities, axis=1) == labels)), "that is the count of right answers; divide by the number of samples (take the mean)"),
             (lambda probabilities, labels: float(np.mean(np.max(probabilities, axis=1) == labels)), "compare the INDEX of the largest probability (argmax) with the label, not its value")),
        ),
    ]
    return {exercise.name: exercise for exercise in items}


EXERCISES: dict[str, Exercise] = _exercises()
"""Every exercise, by name: the keys ``check`` accepts."""


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _matches(received, expected) -> bool:
    received, expected = _as_tuple(received), _as_tuple(expected)
    if len(received) != len(expected):
        return False
    for r, e in zip(received, expected):
        try:
            r = np.asarray(r, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        e = np.asarray(e, dtype=np.float64)
        if r.shape != e.shape or not np.allclose(r, e, rtol=1e-6, atol=1e-9):
            return False
    return True


def _describe(inputs: dict) -> str:
    parts = []
    for key, value in inputs.items():
        parts.append(f"{key} of shape {value.shape}" if isinstance(value, np.ndarray) else f"{key}={value!r}")
    return ", ".join(parts)


def _short(value) -> str:
    with np.printoptions(precision=4, suppress=True, threshold=12, edgeitems=2):
        return " ".join(str(np.asarray(v)) for v in _as_tuple(value)).replace("\n", " ")


def check(name: str, function: Callable, *, trials: int = 5, rng: np.random.Generator | int | None = 0) -> str:
    """Check ``function`` against the exercise ``name`` on ``trials`` random inputs.

    Args:
        name: An exercise in [EXERCISES][mynn.exercises.EXERCISES].
        function: Your answer, called with the keyword arguments the task names.
        trials: How many random inputs to try.
        rng: Generator or seed for the inputs.

    Returns:
        A one-line confirmation.

    Raises:
        KeyError: If there is no exercise ``name``.
        ExerciseError: If an answer is wrong, raises, changes its inputs or has the wrong shape;
            the message names the input, the expected and received values and, for a known
            mistake, what to fix.
    """
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}; choose one of {sorted(EXERCISES)}")
    exercise = EXERCISES[name]
    trials = check_positive_int("trials", trials)
    generator = as_generator(rng)
    for trial in range(1, trials + 1):
        inputs = exercise.make_inputs(generator)
        originals = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}
        expected = exercise.reference(**originals)
        where = f"{name}, trial {trial} ({_describe(inputs)})"
        try:
            received = function(**inputs)
        except Exception as error:  # the learner's code: report whatever it raised
            raise ExerciseError(f"{where}: your function raised {type(error).__name__}: {error}") from error
        for key, value in inputs.items():
            if isinstance(value, np.ndarray) and not np.array_equal(value, originals[key]):
                raise ExerciseError(f"{where}: your function changed its input {key!r} in place; return a new array")
        if _matches(received, expected):
            continue
        hint = ""
        for wrong, text in exercise.mistakes:
            try:
                if _matches(received, wrong(**originals)):
                    hint = f" Likely mistake: {text}."
                    break
            except Exception:  # a wrong reference that fails on these inputs simply does not match
                continue
        shapes = ""
        received_shape = [np.shape(v) for v in _as_tuple(received)]
        expected_shape = [np.shape(v) for v in _as_tuple(expected)]
        if received_shape != expected_shape:
            shapes = f" Shapes: expected {expected_shape}, received {received_shape}."
        raise ExerciseError(
            f"{where}: expected {_short(expected)}, received {_short(received)}.{shapes}{hint}"
        )
    return f"{name}: correct on {trials} random inputs"
