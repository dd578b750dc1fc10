"""The exercises of the Optimization chapters: gradient descent, the chain rule, partial
derivatives, and SGD with its variants.

Each function builds one exercise: how its inputs are drawn, the right answer (``reference``)
and the mistakes learners make, each a function named after the mistake with the hint that
fixes it.
"""

from __future__ import annotations

import numpy as np

from .engine import Exercise
from .helpers import (
    LARGE,
    SMALLEST,
    TINY,
    large_or_tiny,
    log_uniform,
    mynn_sigmoid,
    phase,
    same_shape_as_before,
    size,
    sizes,
    vector_or_matrix,
    with_zeros,
)

__all__ = [
    "gradient_descent_step",
    "gradient_descent_steps",
    "chain_rule_square",
    "chain_rule",
    "weights_gradient",
    "bias_gradient",
    "inputs_gradient",
    "relu_backward",
    "decayed_learning_rate",
    "momentum_step",
    "adam_step",
]


# --- Optimization: gradient descent ------------------------------------------------------------


def gradient_descent_step() -> Exercise:
    def inputs(rng, trial):
        shape = vector_or_matrix(rng, trial)
        return {
            "w": rng.normal(size=shape),
            "grad": rng.normal(size=shape),
            "learning_rate": log_uniform(rng, 1e-3, 1),
        }

    def reference(w, grad, learning_rate):
        return w - learning_rate * grad

    def uphill(w, grad, learning_rate):
        return w + learning_rate * grad

    def no_rate(w, grad, learning_rate):
        return w - grad

    def step_only(w, grad, learning_rate):
        return -learning_rate * grad

    return Exercise(
        "gradient_descent_step",
        "gradient_descent_step(w, grad, learning_rate) -> array: w after one step of gradient "
        "descent",
        inputs,
        reference,
        "array",
        mistakes=(
            (uphill, "step AGAINST the gradient: subtract it"),
            (no_rate, "scale the gradient by learning_rate"),
            (step_only, "return the new weights w - learning_rate * grad, not only the step"),
        ),
    )


def gradient_descent_steps() -> Exercise:
    def inputs(rng, trial):
        side = 1 if trial % 2 == 0 else -1  # above the minimum 3 on even trials, below on odd
        if phase(trial) == SMALLEST:
            # within 4e-7 of the minimum, where a loop that stops at a tolerance stops, with
            # steps enough for it to matter
            distance = log_uniform(rng, 1e-7, 4e-7)
            rate, steps = rng.uniform(0.05, 0.45), int(rng.integers(2, 7))
        else:
            distance = rng.uniform(0.5, 10)
            # above 0.5, each step goes past the minimum, to its other side
            rate = rng.uniform(0.55, 0.95) if phase(trial) == LARGE else rng.uniform(0.01, 0.3)
            steps = size(rng, trial, 1, 12)
        return {"w": float(3 + side * distance), "learning_rate": float(rate), "steps": steps}

    def reference(w, learning_rate, steps):
        return 3 + (w - 3) * (1 - 2 * learning_rate) ** steps

    def no_factor_two(w, learning_rate, steps):
        return 3 + (w - 3) * (1 - learning_rate) ** steps

    def uphill(w, learning_rate, steps):
        return 3 + (w - 3) * (1 + 2 * learning_rate) ** steps

    def one_step_too_many(w, learning_rate, steps):
        return reference(w, learning_rate, steps + 1)

    def one_step_too_few(w, learning_rate, steps):
        return reference(w, learning_rate, steps - 1)

    def gradient_not_updated(w, learning_rate, steps):
        return w - steps * learning_rate * 2 * (w - 3)

    def the_minimum(w, learning_rate, steps):
        return 3.0

    def gradient_of_w_squared(w, learning_rate, steps):
        return w * (1 - 2 * learning_rate) ** steps

    def return_in_the_loop(w, learning_rate, steps):
        return reference(w, learning_rate, 1)

    return Exercise(
        "gradient_descent_steps",
        "gradient_descent_steps(w, learning_rate, steps) -> float: w after `steps` steps of "
        "gradient descent on C(w) = (w - 3)**2",
        inputs,
        reference,
        "number",
        mistakes=(
            (no_factor_two, "the derivative of (w - 3)**2 is 2 * (w - 3): the factor 2 is "
             "missing"),
            (uphill, "step AGAINST the gradient: subtract it"),
            (one_step_too_many, "one step too many: for _ in range(steps) runs exactly `steps` "
             "steps"),
            (one_step_too_few, "one step too few: for _ in range(steps) runs exactly `steps` "
             "steps"),
            (gradient_not_updated, "compute the gradient again at the new w on every step"),
            (the_minimum, "return where the steps end, not the minimum 3 they head for"),
            (gradient_of_w_squared, "the gradient of (w - 3)**2 is 2 * (w - 3), not 2 * w"),
            (return_in_the_loop, "only one step was taken: is the return inside the loop? "
             "Dedent it to after the loop"),
        ),
    )


# --- Optimization: the chain rule --------------------------------------------------------------


def chain_rule_square() -> Exercise:
    def inputs(rng, trial):
        return {key: float(rng.normal() * 2) for key in ("w", "x", "b", "y")}

    def reference(w, x, b, y):
        return 2 * (w * x + b - y) * x

    def no_inner(w, x, b, y):
        return 2 * (w * x + b - y)

    def no_factor_two(w, x, b, y):
        return (w * x + b - y) * x

    def inner_is_w(w, x, b, y):
        return 2 * (w * x + b - y) * w

    def sign(w, x, b, y):
        return 2 * (y - w * x - b) * x

    def the_square_itself(w, x, b, y):
        return (w * x + b - y) ** 2

    return Exercise(
        "chain_rule_square",
        "chain_rule_square(w, x, b, y) -> float: d/dw of (w*x + b - y)**2 for numbers",
        inputs,
        reference,
        "number",
        mistakes=(
            (no_inner, "multiply by the inner derivative d(w*x + b - y)/dw = x"),
            (no_factor_two, "the derivative of u**2 is 2*u: the factor 2 is missing"),
            (inner_is_w, "the inner derivative d(w*x + b - y)/dw is x, not w"),
            (sign, "the sign: the outer derivative is 2 * (w*x + b - y), prediction minus target"),
            (the_square_itself, "that is the squared error itself; return its derivative with "
             "respect to w"),
        ),
    )


def chain_rule() -> Exercise:
    def inputs(rng, trial):
        return {key: float(rng.normal() * 1.5) for key in ("w", "x", "b")}

    def derivative(z):
        s = mynn_sigmoid(z)
        return s * (1 - s)

    def reference(w, x, b):
        return float(derivative(w * x + b) * x)

    def no_inner(w, x, b):
        return float(derivative(w * x + b))

    def inner_is_w(w, x, b):
        return float(derivative(w * x + b) * w)

    def at_w(w, x, b):
        return float(derivative(w) * x)

    def sigmoid_not_derivative(w, x, b):
        return float(mynn_sigmoid(w * x + b) * x)

    def the_output_itself(w, x, b):
        return float(mynn_sigmoid(w * x + b))

    return Exercise(
        "chain_rule",
        "chain_rule(w, x, b) -> float: d/dw of sigmoid(w*x + b) for numbers",
        inputs,
        reference,
        "number",
        mistakes=(
            (no_inner, "multiply by the inner derivative d(w*x + b)/dw = x"),
            (inner_is_w, "the inner derivative d(w*x + b)/dw is x, not w"),
            (at_w, "evaluate the sigmoid's derivative at the neuron's input w*x + b, not at w"),
            (sigmoid_not_derivative, "use the sigmoid's derivative s * (1 - s), not the sigmoid "
             "s itself"),
            (the_output_itself, "that is the neuron's output sigmoid(w*x + b); return its "
             "derivative with respect to w"),
        ),
    )


# --- Optimization: partial derivatives ---------------------------------------------------------


def _dense_gradient_inputs(rng, trial):
    k, n, m = sizes(rng, trial, 3, 1, 8)
    return {
        "X": rng.normal(size=(k, n)),
        "W": rng.normal(size=(n, m)),
        "dvalues": rng.normal(size=(k, m)),
    }


_NOT_AVERAGED = (
    "do not divide by the batch size: dvalues already carries the loss's 1/k, and the "
    "gradient adds up the samples"
)


def weights_gradient() -> Exercise:
    def reference(X, W, dvalues):
        return X.T @ dvalues

    def transposed(X, W, dvalues):
        return dvalues.T @ X

    def averaged(X, W, dvalues):
        return X.T @ dvalues / len(X)

    def the_inputs_gradient(X, W, dvalues):
        return dvalues @ W.T

    def untransposed(X, W, dvalues):
        return X @ dvalues

    def elementwise(X, W, dvalues):
        return X.T * dvalues

    return Exercise(
        "weights_gradient",
        "weights_gradient(X, W, dvalues) -> array (n, m): dC/dW of a dense layer, for inputs "
        "X (k, n) and dvalues = dC/dZ (k, m)",
        _dense_gradient_inputs,
        reference,
        "array",
        mistakes=(
            (transposed, "the result is transposed: X.T @ dvalues has the shape (n, m) of W"),
            (averaged, _NOT_AVERAGED),
            (the_inputs_gradient, "dvalues @ W.T is the gradient for the INPUTS; the weights' is "
             "X.T @ dvalues"),
            (untransposed, "transpose X: X.T @ dvalues, (n, k) @ (k, m)"),
            (elementwise, "use the matrix product @, not the element-wise *"),
        ),
    )


def bias_gradient() -> Exercise:
    def inputs(rng, trial):
        return {"dvalues": rng.normal(size=(size(rng, trial, 2, 8), size(rng, trial, 1, 8)))}

    def reference(dvalues):
        return dvalues.sum(axis=0)

    def over_neurons(dvalues):
        return dvalues.sum(axis=1)

    def row(dvalues):
        return dvalues.sum(axis=0, keepdims=True)

    def averaged(dvalues):
        return dvalues.mean(axis=0)

    def everything(dvalues):
        return float(dvalues.sum())

    return Exercise(
        "bias_gradient",
        "bias_gradient(dvalues) -> array (m,): dC/db of a dense layer, for dvalues (k, m)",
        inputs,
        reference,
        "array",
        mistakes=(
            (over_neurons, "sum over the samples (axis=0), one number per neuron, not over "
             "the neurons"),
            (row, "the shape must be (m,), like the biases, not a row (1, m)"),
            (averaged, _NOT_AVERAGED),
            (everything, "sum over the samples only (axis=0): one number per neuron"),
        ),
    )


def inputs_gradient() -> Exercise:
    def reference(X, W, dvalues):
        return dvalues @ W.T

    def transposed(X, W, dvalues):
        return W @ dvalues.T

    def averaged(X, W, dvalues):
        return dvalues @ W.T / len(X)

    def the_weights_gradient(X, W, dvalues):
        return X.T @ dvalues

    def untransposed(X, W, dvalues):
        return dvalues @ W

    return Exercise(
        "inputs_gradient",
        "inputs_gradient(X, W, dvalues) -> array (k, n): dC/dX of a dense layer",
        _dense_gradient_inputs,
        reference,
        "array",
        mistakes=(
            (transposed, "the result is transposed: it must have the shape (k, n) of X; use "
             "dvalues @ W.T"),
            (averaged, _NOT_AVERAGED),
            (the_weights_gradient, "X.T @ dvalues is the WEIGHTS' gradient; the inputs' is "
             "dvalues @ W.T"),
            (untransposed, "multiply by W.T: (k, m) @ (m, n) gives the (k, n) of X"),
        ),
    )


def relu_backward() -> Exercise:
    def inputs(rng, trial):
        shape = (size(rng, trial, 1, 8), size(rng, trial, 3, 8))
        inputs = with_zeros(rng, rng.normal(size=shape))
        dvalues = rng.normal(size=shape)
        return {"dvalues": dvalues, "inputs": large_or_tiny(rng, trial, inputs)}

    def reference(dvalues, inputs):
        return dvalues * (inputs > 0)

    def where_gradient_positive(dvalues, inputs):
        return np.maximum(dvalues, 0)

    def kink_passes(dvalues, inputs):
        return dvalues * (inputs >= 0)

    def times_inputs(dvalues, inputs):
        return dvalues * np.maximum(inputs, 0)

    def mask_only(dvalues, inputs):
        return (inputs > 0).astype(np.float64)

    return Exercise(
        "relu_backward",
        "relu_backward(dvalues, inputs) -> array: the gradient through a ReLU whose forward "
        "input was `inputs`; at an input of exactly 0 the gradient is 0",
        inputs,
        reference,
        "array",
        mistakes=(
            (kink_passes, "at an input of exactly 0 the gradient is 0 (ReLU's kink, mynn's "
             "convention): inputs > 0, not >= 0"),
            (where_gradient_positive, "zero the gradient where the forward INPUT was <= 0, not "
             "where the gradient is negative"),
            (times_inputs, "multiply dvalues by the mask (inputs > 0), not by the inputs: the "
             "ReLU's slope is 1"),
            (mask_only, "multiply dvalues by the mask: the mask alone is the ReLU's derivative, "
             "not the gradient"),
        ),
    )


# --- Optimization: SGD and beyond --------------------------------------------------------------


AS_IT_IS = "iterations counts the steps already taken: use it as it is, neither + 1 nor - 1"


def decayed_learning_rate() -> Exercise:
    def inputs(rng, trial):
        if phase(trial) == TINY:  # late and strongly decayed: a rate of 1e-10 to 1e-6
            return {
                "learning_rate": log_uniform(rng, 1e-4, 1e-2),
                "decay": log_uniform(rng, 0.1, 1),
                "iterations": int(rng.integers(100_000, 1_000_001)),
            }
        low, high = (0, 20) if trial % 2 == 0 else (21, 10_000)
        return {
            "learning_rate": log_uniform(rng, 1e-4, 1),
            "decay": log_uniform(rng, 1e-4, 1),
            "iterations": 0 if phase(trial) == SMALLEST else int(rng.integers(low, high + 1)),
        }

    def reference(learning_rate, decay, iterations):
        return learning_rate / (1 + decay * iterations)

    def linear(learning_rate, decay, iterations):
        return learning_rate * (1 - decay * iterations)

    def exponential(learning_rate, decay, iterations):
        return learning_rate * (1 - decay) ** iterations

    def no_one(learning_rate, decay, iterations):
        return learning_rate / (decay * iterations)

    def one_iteration_late(learning_rate, decay, iterations):
        return learning_rate / (1 + decay * (iterations + 1))

    def one_iteration_early(learning_rate, decay, iterations):
        return learning_rate / (1 + decay * (iterations - 1))

    return Exercise(
        "decayed_learning_rate",
        "decayed_learning_rate(learning_rate, decay, iterations) -> float: the 1/t decay, "
        "learning_rate / (1 + decay * iterations)",
        inputs,
        reference,
        "number",
        mistakes=(
            (linear, "it is a division: learning_rate / (1 + decay * iterations)"),
            (exponential, "the 1/t decay divides by 1 + decay * iterations; it is not exponential"),
            (no_one, "keep the 1 + : without it the rate is infinite at iteration 0"),
            (one_iteration_late, AS_IT_IS),
            (one_iteration_early, AS_IT_IS),
        ),
    )


def momentum_step() -> Exercise:
    def inputs(rng, trial):
        shape = same_shape_as_before(rng, trial, vector_or_matrix)
        return {
            "w": rng.normal(size=shape),
            "grad": rng.normal(size=shape),
            "velocity": rng.normal(size=shape),
            "learning_rate": log_uniform(rng, 1e-3, 1),
            "momentum": float(rng.uniform(0.5, 0.99)),
        }

    def reference(w, grad, velocity, learning_rate, momentum):
        velocity = momentum * velocity - learning_rate * grad
        return w + velocity, velocity

    def old_velocity(w, grad, velocity, learning_rate, momentum):
        return w + velocity, momentum * velocity - learning_rate * grad

    def plain_step(w, grad, velocity, learning_rate, momentum):
        return w - learning_rate * grad, momentum * velocity - learning_rate * grad

    def opposite_sign(w, grad, velocity, learning_rate, momentum):
        velocity = momentum * velocity + learning_rate * grad
        return w - velocity, velocity

    def rate_outside(w, grad, velocity, learning_rate, momentum):
        velocity = momentum * velocity + grad
        return w - learning_rate * velocity, velocity

    def moving_average(w, grad, velocity, learning_rate, momentum):
        velocity = momentum * velocity + (1 - momentum) * grad
        return w - learning_rate * velocity, velocity

    def swapped(w, grad, velocity, learning_rate, momentum):
        new_w, new_velocity = reference(w, grad, velocity, learning_rate, momentum)
        return new_velocity, new_w

    return Exercise(
        "momentum_step",
        "momentum_step(w, grad, velocity, learning_rate, momentum) -> (w, velocity): one SGD "
        "step with momentum, velocity = momentum * velocity - learning_rate * grad, w + velocity",
        inputs,
        reference,
        "array",
        parts=("w", "velocity"),
        mistakes=(
            (old_velocity, "update w with the NEW velocity: compute velocity first, then "
             "w + velocity"),
            (plain_step, "w moves by the new velocity (w + velocity), not by the plain gradient "
             "step"),
            (opposite_sign, "here the velocity is the step itself, momentum * velocity - "
             "learning_rate * grad, added to w; yours has the opposite sign"),
            (rate_outside, "the learning rate goes inside the velocity: momentum * velocity - "
             "learning_rate * grad"),
            (moving_average, "this chapter's velocity adds the whole step, momentum * velocity "
             "- learning_rate * grad, with no (1 - momentum) factor"),
            (swapped, "return (w, velocity) in this order"),
        ),
    )


def adam_step() -> Exercise:
    def inputs(rng, trial):
        shape = same_shape_as_before(rng, trial, vector_or_matrix)
        grad = rng.normal(size=shape) * 10.0 ** rng.uniform(-4, 0, size=shape)
        low, high = (1, 5) if trial % 2 == 0 else (6, 100)
        w, m = rng.normal(size=shape), grad * rng.uniform(-1, 2, size=shape)
        v = (grad * rng.uniform(0.1, 2, size=shape)) ** 2
        if phase(trial) == SMALLEST:
            t = 1
        elif phase(trial) == TINY:  # a late step, when beta_2**t is still far from 0
            t = int(log_uniform(rng, 1000, 20_000))
        else:
            t = int(rng.integers(low, high + 1))
        learning_rate, beta_1 = log_uniform(rng, 1e-4, 0.1), float(rng.uniform(0.5, 0.95))
        if phase(trial) == TINY:  # beta_2**t from 0.007 to 0.9: its correction still counts
            beta_2 = 1 - log_uniform(rng, 1e-4, 5 / t)
        else:
            beta_2 = float(rng.uniform(0.9, 0.9999))
        return {
            "w": w,
            "grad": grad,
            "m": m,
            "v": v,
            "t": t,
            "learning_rate": learning_rate,
            "beta_1": beta_1,
            "beta_2": beta_2,
            "epsilon": log_uniform(rng, 1e-8, 1e-3),
        }

    def reference(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon)

    def no_bias_correction(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        m, v = beta_1 * m + (1 - beta_1) * grad, beta_2 * v + (1 - beta_2) * grad**2
        return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v

    def t_plus_one(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return _adam(w, grad, m, v, t + 1, learning_rate, beta_1, beta_2, epsilon)

    def t_minus_one(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return _adam(w, grad, m, v, t - 1, learning_rate, beta_1, beta_2, epsilon)

    def epsilon_inside(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon, inside=True)

    def corrected_moments_returned(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        w, m, v = _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon)
        return w, m / (1 - beta_1**t), v / (1 - beta_2**t)

    def gradient_not_squared(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        m, v = beta_1 * m + (1 - beta_1) * grad, beta_2 * v + (1 - beta_2) * grad
        with np.errstate(invalid="ignore"):
            step = m / (1 - beta_1**t) / (np.sqrt(v / (1 - beta_2**t)) + epsilon)
        return w - learning_rate * step, m, v

    def betas_swapped(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return _adam(w, grad, m, v, t, learning_rate, beta_2, beta_1, epsilon)

    def no_epsilon(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, 0.0)

    def uphill(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        new_w, m, v = _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon)
        return 2 * w - new_w, m, v

    def old_moments_in_step(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        _, new_m, new_v = _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon)
        m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
        return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), new_m, new_v

    def paper_efficient_form(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        m, v = beta_1 * m + (1 - beta_1) * grad, beta_2 * v + (1 - beta_2) * grad**2
        rate = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        return w - rate * m / (np.sqrt(v) + epsilon), m, v

    return Exercise(
        "adam_step",
        "adam_step(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon) -> (w, m, v): "
        "Adam's step number t (from 1), as in the chapter's formula",
        inputs,
        reference,
        "array",
        parts=("w", "m", "v"),
        mistakes=(
            (no_bias_correction, "the bias correction is missing: divide m by 1 - beta_1**t "
             "and v by 1 - beta_2**t"),
            (t_plus_one, "t already counts from 1 at the first step: beta**t, not "
             "beta**(t + 1)"),
            (t_minus_one, "t already counts from 1 at the first step: beta**t, not "
             "beta**(t - 1)"),
            (epsilon_inside, "add epsilon after the square root: np.sqrt(v_hat) + epsilon"),
            (corrected_moments_returned, "return the moments m and v themselves, not m_hat "
             "and v_hat: the next step needs the uncorrected ones"),
            (gradient_not_squared, "v averages the SQUARED gradient: (1 - beta_2) * grad**2"),
            (betas_swapped, "beta_1 goes with m (the gradients), beta_2 with v (their squares)"),
            (paper_efficient_form, "that moves epsilon (the Adam paper's 'efficient' form): "
             "add epsilon to np.sqrt(v_hat), as in the chapter's formula"),
            (no_epsilon, "epsilon is missing: divide by np.sqrt(v_hat) + epsilon"),
            (uphill, "step AGAINST the gradient: w - learning_rate * m_hat / "
             "(np.sqrt(v_hat) + epsilon)"),
            (old_moments_in_step, "update m and v first, then step with the NEW moments"),
        ),
    )


def _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon, inside=False):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    root = np.sqrt(v_hat + epsilon) if inside else np.sqrt(v_hat) + epsilon
    return w - learning_rate * m_hat / root, m, v
