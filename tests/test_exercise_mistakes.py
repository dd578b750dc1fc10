"""Natural mistakes the checker's catalogue does not name are rejected all the same.

``tests/test_exercises.py`` checks the mistakes each exercise knows (and hints at). A learner
makes others: an ``np.squeeze`` that only bites when a size is 1, a softmax that only
overflows on large scores, ``argmax`` of rounded probabilities that only errs on a near-tie,
state kept in a global that only shows when the same shape comes twice, Adam's bias correction
dropped once ``t`` is large, a loop that stops at a tolerance near the minimum. Such an answer
is right on ordinary inputs, so it is rejected only if the trials reach the edge where it is
wrong. ``WRONG`` lists, for every exercise, plausible wrong answers outside its catalogue (each
with what it does); ``RIGHT`` lists right answers written in other ways, which must pass
however far the trials reach.
"""

import math

import numpy as np
import pytest

from mynn.exercises import EXERCISES, ExerciseError, check

SEEDS = range(20)
"""Each wrong answer is checked with these seeds (5 trials each, the default) and must be
rejected on every one of them, each right answer accepted on every one. Every edge the wrong
answers need is drawn by a fixed trial of each check (a size of 1, large or tiny values, a
near-tie, a shape repeated from the trial before, a late Adam step, a start near or below the
minimum), not by chance, so "every seed" is the bound to hold: a rejection that depended on
luck would show here as a seed that passes. (Over 200 seeds, measured when the draws were
changed, none of these answers passed once.)"""


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _forward_difference(f, z, h=1e-6):
    return (f(z + h) - f(z)) / h


# --- Concepts: the neuron ----------------------------------------------------------------------


def _neuron_relu(x, w, b):
    return max(0.0, float(x @ w + b))


def _neuron_product_of_sums(x, w, b):
    return float(np.sum(x) * np.sum(w) + b)


def _neuron_mean(x, w, b):
    return float(np.mean(x * w) + b)


def _neuron_bias_in_weights(x, w, b):
    return float(x @ (w + b))


def _neuron_rounded(x, w, b):
    return round(float(x @ w + b), 4)


def _neuron_batch_squeezed_input(X, w, b):
    return np.squeeze(X) @ w + b


def _neuron_batch_squeezed_column(X, w, b):
    return np.squeeze(X @ w[:, None] + b)


def _neuron_batch_relu(X, w, b):
    return np.maximum(X @ w + b, 0)


def _neuron_batch_loop_over_inputs(X, w, b):
    return np.array([X[i] @ w + b for i in range(X.shape[1])])


def _neuron_batch_mean(X, w, b):
    return np.mean(X * w, axis=1) + b


# --- Concepts: the layer -----------------------------------------------------------------------


def _count_one_bias(n_inputs, n_neurons):
    return n_inputs * n_neurons + 1


def _count_bias_everywhere(n_inputs, n_neurons):
    return n_inputs * n_neurons + n_inputs + n_neurons


def _count_extra_row_and_column(n_inputs, n_neurons):
    return (n_inputs + 1) * (n_neurons + 1)


def _count_with_arrays(n_inputs, n_neurons):
    return np.ones((n_inputs, n_neurons)).sum() + np.ones(n_neurons).sum()


def _count_weights_twice(n_inputs, n_neurons):
    return 2 * n_inputs * n_neurons + n_neurons


def _layer_squeezed(X, W, b):
    return np.squeeze(X @ W + b)


def _layer_first_bias(X, W, b):
    return X @ W + b[0]


def _layer_summed_biases(X, W, b):
    return X @ W + b.sum()


def _layer_relu(X, W, b):
    return np.maximum(X @ W + b, 0)


def _layer_bias_in_weights(X, W, b):
    return X @ (W + b)


def _layer_squeezed_input(X, W, b):
    return np.squeeze(X) @ W + b


# --- Concepts: activation functions ------------------------------------------------------------


def _relu6(x):
    return np.clip(x, 0, 6)


def _relu_squeezed(x):
    return np.maximum(np.squeeze(x), 0)


def _relu_threshold(x):
    return np.where(x > 1e-6, x, 0.0)


def _relu_vectorized_python_max(x):
    return np.vectorize(lambda v: max(v, 0))(x)


def _relu_leaky(x):
    return np.where(x > 0, x, 0.01 * x)


def _relu_rounded(x):
    return np.round(np.maximum(x, 0), 8)


def _sigmoid_derivative_clipped_inputs(x):
    s = _sigmoid(np.clip(x, -10, 10))
    return s * (1 - s)


def _sigmoid_derivative_central_difference(x):
    h = 1e-5
    return (_sigmoid(x + h) - _sigmoid(x - h)) / (2 * h)


def _sigmoid_derivative_squeezed(x):
    s = _sigmoid(np.squeeze(x))
    return s * (1 - s)


def _sigmoid_derivative_tanh_without_halves(x):
    s = 0.5 * (1 + np.tanh(x))
    return s * (1 - s)


def _sigmoid_derivative_floored(x):
    s = _sigmoid(x)
    return np.maximum(s * (1 - s), 1e-7)


def _softmax_squeezed(x):
    return np.squeeze(_softmax(x))


def _softmax_first_column_shift(x):
    e = np.exp(x - x[:, :1])
    return e / e.sum(axis=1, keepdims=True)


def _softmax_clipped_scores(x):
    e = np.exp(np.clip(x, -500, 500))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_epsilon(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / (e.sum(axis=1, keepdims=True) + 1e-8)


def _softmax_column_shift(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_log_sum_exp_unshifted(x):
    return np.exp(x - np.log(np.exp(x).sum(axis=1, keepdims=True)))


def _softmax_rounded(x):
    return np.round(_softmax(x), 6)


# --- Concepts: feed forward --------------------------------------------------------------------


def _two_layer_unshifted(X, W1, b1, W2, b2):
    e = np.exp(np.maximum(X @ W1 + b1, 0) @ W2 + b2)
    return e / e.sum(axis=1, keepdims=True)


def _two_layer_global_shift(X, W1, b1, W2, b2):
    scores = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    e = np.exp(scores - scores.max())
    return e / e.sum(axis=1, keepdims=True)


def _two_layer_squeezed(X, W1, b1, W2, b2):
    return np.squeeze(_softmax(np.maximum(X @ W1 + b1, 0) @ W2 + b2))


def _two_layer_leaky(X, W1, b1, W2, b2):
    z = X @ W1 + b1
    return _softmax(np.where(z > 0, z, 0.01 * z) @ W2 + b2)


def _two_layer_bias_after_relu(X, W1, b1, W2, b2):
    return _softmax((np.maximum(X @ W1, 0) + b1) @ W2 + b2)


def _two_layer_clipped_scores(X, W1, b1, W2, b2):
    e = np.exp(np.clip(np.maximum(X @ W1 + b1, 0) @ W2 + b2, -500, 500))
    return e / e.sum(axis=1, keepdims=True)


def _classes_rounded(probabilities):
    return np.argmax(np.round(probabilities, 2), axis=1)


def _classes_rounded_4(probabilities):
    return np.argmax(np.round(probabilities, 4), axis=1)


def _classes_float32(probabilities):
    return np.argmax(probabilities.astype(np.float32), axis=1)


def _classes_squeezed(probabilities):
    return np.argmax(np.squeeze(probabilities), axis=-1)


def _classes_argsort(probabilities):
    return np.argsort(probabilities, axis=1)[:, -1]


def _classes_from_one(probabilities):
    return np.argmax(probabilities, axis=1) + 1


# --- Concepts: loss functions ------------------------------------------------------------------


def _mse_per_output(y_pred, y_true):
    return float(np.sum((y_true - y_pred) ** 2) / y_true.shape[1])


def _mse_variance(y_pred, y_true):
    return float(np.var(y_true - y_pred))


def _mse_first_sample(y_pred, y_true):
    return float(np.mean((y_true[0] - y_pred[0]) ** 2))


def _mse_bessel(y_pred, y_true):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum((y_true - y_pred) ** 2) / (y_true.size - 1))


def _mse_norm(y_pred, y_true):
    return float(np.linalg.norm(y_true - y_pred) / y_true.size)


def _mse_rounded(y_pred, y_true):
    return round(float(np.mean((y_true - y_pred) ** 2)), 6)


def _cce_squeezed(probabilities, labels):
    p = np.squeeze(probabilities)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


def _cce_epsilon(probabilities, labels):
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(picked + 1e-7)))


def _cce_predicted_class(probabilities, labels):
    return float(-np.mean(np.log(probabilities.max(axis=1))))


def _cce_per_class(probabilities, labels):
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.sum(np.log(picked)) / probabilities.shape[1])


def _cce_mean_of_every_entry(probabilities, labels):
    one_hot = np.eye(probabilities.shape[1])[labels]
    return float(-np.mean(one_hot * np.log(probabilities)))


def _cce_binary(probabilities, labels):
    y = np.eye(probabilities.shape[1])[labels]
    p = probabilities
    return float(-np.mean(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)))


# --- Optimization: gradient descent ------------------------------------------------------------


def _step_squeezed(w, grad, learning_rate):
    return np.squeeze(w - learning_rate * grad)


def _step_clipped_gradient(w, grad, learning_rate):
    return w - learning_rate * np.clip(grad, -1, 1)


def _step_sign(w, grad, learning_rate):
    return w - learning_rate * np.sign(grad)


def _step_normalized(w, grad, learning_rate):
    return w - learning_rate * grad / np.linalg.norm(grad)


def _step_mean_gradient(w, grad, learning_rate):
    return w - learning_rate * grad.mean()


def _step_weight_decay(w, grad, learning_rate):
    return w - learning_rate * (grad + 0.01 * w)


def _steps_gradient_tolerance(w, learning_rate, steps):
    for _ in range(steps):
        gradient = 2 * (w - 3)
        if abs(gradient) < 1e-6:  # converged
            break
        w = w - learning_rate * gradient
    return w


def _steps_change_tolerance(w, learning_rate, steps):
    for _ in range(steps):
        change = learning_rate * 2 * (w - 3)
        w = w - change
        if abs(change) < 1e-4:  # converged
            break
    return w


def _steps_never_past_the_minimum(w, learning_rate, steps):
    for _ in range(steps):
        w = max(w - learning_rate * 2 * (w - 3), 3.0)
    return w


def _steps_only_above_the_minimum(w, learning_rate, steps):
    for _ in range(steps):
        if w > 3:
            w = w - learning_rate * 2 * (w - 3)
    return w


def _steps_distance(w, learning_rate, steps):
    for _ in range(steps):
        w = w - learning_rate * 2 * abs(w - 3)
    return w


def _steps_forward_difference(w, learning_rate, steps):
    for _ in range(steps):
        w = w - learning_rate * _forward_difference(lambda v: (v - 3) ** 2, w)
    return w


# --- Optimization: the chain rule --------------------------------------------------------------


def _square_forward_difference(w, x, b, y):
    return _forward_difference(lambda v: (v * x + b - y) ** 2, w)


def _square_no_bias(w, x, b, y):
    return 2 * (w * x - y) * x


def _square_kept(w, x, b, y):
    return 2 * (w * x + b - y) ** 2 * x


def _square_sign_of_y(w, x, b, y):
    return 2 * (w * x + b + y) * x


def _square_expanded_wrong(w, x, b, y):
    return 2 * w * x**2 + 2 * b * x - 2 * y


def _square_total_derivative(w, x, b, y):
    return 2 * (w * x + b - y) * (x + w + 1)


def _chain_forward_difference(w, x, b):
    return _forward_difference(lambda v: 1 / (1 + math.exp(-(v * x + b))), w)


def _chain_no_bias(w, x, b):
    s = 1 / (1 + math.exp(-w * x))
    return s * (1 - s) * x


def _chain_one_minus_s(w, x, b):
    s = 1 / (1 + math.exp(-(w * x + b)))
    return (1 - s) * x


def _chain_tanh(w, x, b):
    return (1 - math.tanh(w * x + b) ** 2) * x


def _chain_inner_x_plus_b(w, x, b):
    s = 1 / (1 + math.exp(-(w * x + b)))
    return s * (1 - s) * (x + b)


# --- Optimization: partial derivatives ---------------------------------------------------------


def _weights_squeezed(X, W, dvalues):
    return np.squeeze(X.T @ dvalues)


def _weights_reshaped(X, W, dvalues):
    return (dvalues.T @ X).reshape(W.shape)


def _weights_first_sample(X, W, dvalues):
    return np.outer(X[0], dvalues[0])


def _weights_sums(X, W, dvalues):
    return np.outer(X.sum(axis=0), dvalues.sum(axis=0))


def _weights_times_w(X, W, dvalues):
    return X.T @ dvalues * W


def _bias_squeezed(dvalues):
    return np.squeeze(dvalues.sum(axis=0, keepdims=True))


def _bias_squeezed_input(dvalues):
    return np.squeeze(dvalues).sum(axis=0)


def _bias_per_neuron_count(dvalues):
    return dvalues.sum(axis=0) / dvalues.shape[1]


def _bias_max(dvalues):
    return dvalues.max(axis=0)


def _bias_first_sample(dvalues):
    return dvalues[0].copy()


def _inputs_squeezed(X, W, dvalues):
    return np.squeeze(dvalues @ W.T)


def _inputs_reshaped(X, W, dvalues):
    return (W @ dvalues.T).reshape(X.shape)


def _inputs_times_x(X, W, dvalues):
    return dvalues @ W.T * X


def _inputs_relu_mask(X, W, dvalues):
    return dvalues @ W.T * (X > 0)


def _inputs_sums(X, W, dvalues):
    return dvalues.sum(axis=1, keepdims=True) * W.sum(axis=1)


def _relu_backward_squeezed(dvalues, inputs):
    return np.squeeze(dvalues * (inputs > 0))


def _relu_backward_heaviside_half(dvalues, inputs):
    return dvalues * np.heaviside(inputs, 0.5)


def _relu_backward_sign(dvalues, inputs):
    return dvalues * np.sign(inputs)


def _relu_backward_relu6(dvalues, inputs):
    return dvalues * ((inputs > 0) & (inputs < 6))


def _relu_backward_threshold(dvalues, inputs):
    return dvalues * (inputs > 1e-6)


def _relu_backward_leaky(dvalues, inputs):
    return np.where(inputs > 0, dvalues, 0.01 * dvalues)


# --- Optimization: SGD and beyond --------------------------------------------------------------


def _decay_exponential(learning_rate, decay, iterations):
    return learning_rate * math.exp(-decay * iterations)


def _decay_compounded(learning_rate, decay, iterations):
    return learning_rate / (1 + decay) ** iterations


def _decay_precedence(learning_rate, decay, iterations):
    return learning_rate / 1 + decay * iterations


def _decay_floored(learning_rate, decay, iterations):
    return max(learning_rate / (1 + decay * iterations), 1e-6)


def _decay_integer_division(learning_rate, decay, iterations):
    return learning_rate // (1 + decay * iterations)


def _decay_rounded(learning_rate, decay, iterations):
    return round(learning_rate / (1 + decay * iterations), 6)


_VELOCITY = {"shape": None, "value": None}


def _momentum_global_velocity(w, grad, velocity, learning_rate, momentum):
    # keeps the velocity between calls, as a training loop would; starts again on a new shape
    if _VELOCITY["shape"] != w.shape:
        _VELOCITY["shape"], _VELOCITY["value"] = w.shape, velocity
    _VELOCITY["value"] = momentum * _VELOCITY["value"] - learning_rate * grad
    return w + _VELOCITY["value"], _VELOCITY["value"]


_VELOCITIES: dict = {}


def _momentum_velocity_per_shape(w, grad, velocity, learning_rate, momentum):
    kept = _VELOCITIES.get(w.shape, velocity)
    kept = momentum * kept - learning_rate * grad
    _VELOCITIES[w.shape] = kept
    return w + kept, kept


def _momentum_squeezed(w, grad, velocity, learning_rate, momentum):
    velocity = np.squeeze(momentum * velocity - learning_rate * grad)
    return np.squeeze(w) + velocity, velocity


def _momentum_nesterov(w, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * grad
    return w + momentum * velocity - learning_rate * grad, velocity


def _momentum_old_velocity_returned(w, grad, velocity, learning_rate, momentum):
    new_velocity = momentum * velocity - learning_rate * grad
    return w + new_velocity, velocity


def _momentum_outside(w, grad, velocity, learning_rate, momentum):
    velocity = momentum * (velocity - learning_rate * grad)
    return w + velocity, velocity


def _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon, correct=True, root=None):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat, v_hat = (m / (1 - beta_1**t), v / (1 - beta_2**t)) if correct else (m, v)
    denominator = np.sqrt(v_hat) + epsilon if root is None else root(v_hat, epsilon)
    return w - learning_rate * m_hat / denominator, m, v


def _adam_correction_dropped_late(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    # "beta**t is 0 by then": true of beta_1 = 0.9, not of beta_2 = 0.999
    return _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon, correct=t < 1000)


_MOMENTS: dict = {}


def _adam_moments_per_shape(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m, v = _MOMENTS.get(w.shape, (m, v))
    w, m, v = _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon)
    _MOMENTS[w.shape] = m, v
    return w, m, v


def _adam_squeezed(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    w, m, v = _adam(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon)
    return np.squeeze(w), np.squeeze(m), np.squeeze(v)


def _adam_epsilon_squared_inside(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    return _adam(
        w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon,
        root=lambda v_hat, eps: np.sqrt(v_hat + eps**2),
    )


def _adam_only_m_corrected(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat = m / (1 - beta_1**t)
    return w - learning_rate * m_hat / (np.sqrt(v) + epsilon), m, v


_STEPS = {"t": 0}


def _adam_own_step_counter(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    _STEPS["t"] += 1
    return _adam(w, grad, m, v, _STEPS["t"], learning_rate, beta_1, beta_2, epsilon)


def fresh_state() -> None:
    """Forget what the answers that keep state kept, as a new Python session would."""
    _VELOCITY.update(shape=None, value=None)
    _VELOCITIES.clear()
    _MOMENTS.clear()
    _STEPS["t"] = 0


def _accuracy_integer_division(probabilities, labels):
    return np.sum(np.argmax(probabilities, axis=1) == labels) // len(labels)


def _accuracy_rounded(probabilities, labels):
    return float(np.mean(np.argmax(np.round(probabilities, 2), axis=1) == labels))


def _accuracy_float32(probabilities, labels):
    return float(np.mean(np.argmax(probabilities.astype(np.float32), axis=1) == labels))


def _accuracy_squeezed(probabilities, labels):
    return float(np.mean(np.argmax(np.squeeze(probabilities), axis=1) == labels))


def _accuracy_any_tied_class(probabilities, labels):
    picked = probabilities[np.arange(len(labels)), labels]
    return float(np.mean(picked == probabilities.max(axis=1)))


def _accuracy_half(probabilities, labels):
    return float(np.mean(probabilities[np.arange(len(labels)), labels] >= 0.5))


WRONG = {
    "neuron": [
        ("a ReLU applied to the output", _neuron_relu),
        ("the product of the sums, not the sum of the products", _neuron_product_of_sums),
        ("the mean of the products", _neuron_mean),
        ("the bias added to every weight", _neuron_bias_in_weights),
        ("rounded to 4 decimals", _neuron_rounded),
    ],
    "neuron_batch": [
        ("np.squeeze on X", _neuron_batch_squeezed_input),
        ("np.squeeze on a column result", _neuron_batch_squeezed_column),
        ("a ReLU applied to the outputs", _neuron_batch_relu),
        ("a loop over the inputs instead of the samples", _neuron_batch_loop_over_inputs),
        ("the mean of the products", _neuron_batch_mean),
    ],
    "count_parameters": [
        ("one bias for the whole layer", _count_one_bias),
        ("a bias per input and per neuron", _count_bias_everywhere),
        ("an extra row and column", _count_extra_row_and_column),
        ("counted by summing arrays of ones (a float)", _count_with_arrays),
        ("the weights counted twice", _count_weights_twice),
    ],
    "layer_forward": [
        ("np.squeeze on the result", _layer_squeezed),
        ("only the first bias", _layer_first_bias),
        ("the sum of the biases", _layer_summed_biases),
        ("a ReLU applied to the output", _layer_relu),
        ("the biases added to the weights", _layer_bias_in_weights),
        ("np.squeeze on X", _layer_squeezed_input),
    ],
    "relu": [
        ("ReLU6, capped at 6", _relu6),
        ("np.squeeze on x", _relu_squeezed),
        ("a threshold of 1e-6 instead of 0", _relu_threshold),
        ("np.vectorize of Python's max (int 0 when the first entry is negative)",
         _relu_vectorized_python_max),
        ("leaky ReLU", _relu_leaky),
        ("rounded to 8 decimals", _relu_rounded),
    ],
    "sigmoid_derivative": [
        ("x clipped to [-10, 10] against overflow", _sigmoid_derivative_clipped_inputs),
        ("a central difference", _sigmoid_derivative_central_difference),
        ("np.squeeze on x", _sigmoid_derivative_squeezed),
        ("the sigmoid written with tanh(x), not tanh(x / 2)",
         _sigmoid_derivative_tanh_without_halves),
        ("floored at 1e-7 against vanishing gradients", _sigmoid_derivative_floored),
    ],
    "softmax": [
        ("np.squeeze on the result", _softmax_squeezed),
        ("shifted by the first score of each row", _softmax_first_column_shift),
        ("scores clipped to [-500, 500], no shift", _softmax_clipped_scores),
        ("1e-8 added to the row sums", _softmax_epsilon),
        ("shifted by the maximum of each column", _softmax_column_shift),
        ("log-sum-exp without the shift", _softmax_log_sum_exp_unshifted),
        ("rounded to 6 decimals", _softmax_rounded),
    ],
    "two_layer_forward": [
        ("a softmax without the shift", _two_layer_unshifted),
        ("a softmax shifted by the batch's maximum", _two_layer_global_shift),
        ("np.squeeze on the result", _two_layer_squeezed),
        ("a leaky ReLU in the hidden layer", _two_layer_leaky),
        ("b1 added after the ReLU", _two_layer_bias_after_relu),
        ("scores clipped to [-500, 500], no shift", _two_layer_clipped_scores),
    ],
    "predicted_classes": [
        ("argmax of probabilities rounded to 2 decimals", _classes_rounded),
        ("argmax of probabilities rounded to 4 decimals", _classes_rounded_4),
        ("argmax in float32", _classes_float32),
        ("np.squeeze on the probabilities", _classes_squeezed),
        ("the last column of argsort", _classes_argsort),
        ("classes counted from 1", _classes_from_one),
    ],
    "mse": [
        ("divided by the number of outputs", _mse_per_output),
        ("the variance of the differences", _mse_variance),
        ("the first sample only", _mse_first_sample),
        ("divided by n - 1", _mse_bessel),
        ("the norm, not squared, over the count", _mse_norm),
        ("rounded to 6 decimals", _mse_rounded),
    ],
    "categorical_crossentropy": [
        ("np.squeeze on the probabilities", _cce_squeezed),
        ("1e-7 added inside the log", _cce_epsilon),
        ("the predicted class instead of the label", _cce_predicted_class),
        ("divided by the number of classes", _cce_per_class),
        ("the mean over every entry of one-hot * log p", _cce_mean_of_every_entry),
        ("binary cross-entropy on one-hot labels", _cce_binary),
    ],
    "gradient_descent_step": [
        ("np.squeeze on the result", _step_squeezed),
        ("the gradient clipped to [-1, 1]", _step_clipped_gradient),
        ("the sign of the gradient", _step_sign),
        ("the gradient normalized", _step_normalized),
        ("the mean gradient", _step_mean_gradient),
        ("weight decay added", _step_weight_decay),
    ],
    "gradient_descent_steps": [
        ("stops once the gradient is below 1e-6", _steps_gradient_tolerance),
        ("stops once a step is below 1e-4", _steps_change_tolerance),
        ("never steps past the minimum", _steps_never_past_the_minimum),
        ("steps only while above the minimum", _steps_only_above_the_minimum),
        ("steps by the distance |w - 3|", _steps_distance),
        ("a forward-difference gradient", _steps_forward_difference),
    ],
    "chain_rule_square": [
        ("a forward difference", _square_forward_difference),
        ("the bias left out", _square_no_bias),
        ("the square kept in the derivative", _square_kept),
        ("+ y instead of - y", _square_sign_of_y),
        ("expanded, with the last x lost", _square_expanded_wrong),
        ("the derivatives by w, x and b added up", _square_total_derivative),
    ],
    "chain_rule": [
        ("a forward difference", _chain_forward_difference),
        ("the bias left out", _chain_no_bias),
        ("(1 - s) * x", _chain_one_minus_s),
        ("tanh's derivative", _chain_tanh),
        ("the inner derivative taken as x + b", _chain_inner_x_plus_b),
    ],
    "weights_gradient": [
        ("np.squeeze on the result", _weights_squeezed),
        ("reshaped instead of transposed", _weights_reshaped),
        ("the first sample only", _weights_first_sample),
        ("the outer product of the sums", _weights_sums),
        ("multiplied by W", _weights_times_w),
    ],
    "bias_gradient": [
        ("np.squeeze on a kept dimension", _bias_squeezed),
        ("np.squeeze on dvalues", _bias_squeezed_input),
        ("divided by the number of neurons", _bias_per_neuron_count),
        ("the maximum", _bias_max),
        ("the first sample only", _bias_first_sample),
    ],
    "inputs_gradient": [
        ("np.squeeze on the result", _inputs_squeezed),
        ("reshaped instead of transposed", _inputs_reshaped),
        ("multiplied by X", _inputs_times_x),
        ("a ReLU mask on X", _inputs_relu_mask),
        ("products of sums", _inputs_sums),
    ],
    "relu_backward": [
        ("np.squeeze on the result", _relu_backward_squeezed),
        ("np.heaviside(inputs, 0.5)", _relu_backward_heaviside_half),
        ("times the sign of the inputs", _relu_backward_sign),
        ("ReLU6's mask", _relu_backward_relu6),
        ("a threshold of 1e-6 instead of 0", _relu_backward_threshold),
        ("leaky ReLU's slope", _relu_backward_leaky),
    ],
    "decayed_learning_rate": [
        ("exponential decay", _decay_exponential),
        ("divided by (1 + decay) ** iterations", _decay_compounded),
        ("learning_rate / 1 + decay * iterations", _decay_precedence),
        ("floored at 1e-6", _decay_floored),
        ("integer division", _decay_integer_division),
        ("rounded to 6 decimals", _decay_rounded),
    ],
    "momentum_step": [
        ("the velocity kept in a global, reset on a new shape", _momentum_global_velocity),
        ("the velocity kept per shape", _momentum_velocity_per_shape),
        ("np.squeeze on the results", _momentum_squeezed),
        ("Nesterov's look-ahead", _momentum_nesterov),
        ("the old velocity returned", _momentum_old_velocity_returned),
        ("momentum times the whole step", _momentum_outside),
    ],
    "adam_step": [
        ("bias correction dropped from t = 1000", _adam_correction_dropped_late),
        ("the moments kept per shape", _adam_moments_per_shape),
        ("np.squeeze on the results", _adam_squeezed),
        ("sqrt(v_hat + epsilon**2)", _adam_epsilon_squared_inside),
        ("only m corrected", _adam_only_m_corrected),
        ("its own step counter instead of t", _adam_own_step_counter),
    ],
    "accuracy": [
        ("integer division", _accuracy_integer_division),
        ("argmax of probabilities rounded to 2 decimals", _accuracy_rounded),
        ("argmax in float32", _accuracy_float32),
        ("np.squeeze on the probabilities", _accuracy_squeezed),
        ("a tie counts for every tied class", _accuracy_any_tied_class),
        ("right when the true class has p >= 0.5", _accuracy_half),
    ],
}


# --- right answers, written in other ways ------------------------------------------------------


def _adam_right_in_place(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = m * beta_1
    m += (1 - beta_1) * grad
    v = v * beta_2
    v += (1 - beta_2) * grad * grad
    m_hat = m / (1 - np.power(beta_1, t))
    v_hat = v / (1 - np.power(beta_2, t))
    return w - learning_rate * m_hat / (v_hat**0.5 + epsilon), m, v


def _classes_python_max(probabilities):
    return np.array([max(range(len(row)), key=row.__getitem__) for row in probabilities])


RIGHT = {
    "neuron": [
        ("np.sum of the products", lambda x, w, b: float(np.sum(x * w) + b)),
        ("a Python loop", lambda x, w, b: sum(xi * wi for xi, wi in zip(x, w)) + b),
    ],
    "neuron_batch": [
        ("a sum over axis 1", lambda X, w, b: np.sum(X * w, axis=1) + b),
        ("np.squeeze of a column, kept 1-D", lambda X, w, b: (X @ w[:, None]).reshape(-1) + b),
    ],
    "count_parameters": [
        ("the sizes of the arrays", lambda n_inputs, n_neurons: int(
            np.zeros((n_inputs, n_neurons)).size + np.zeros(n_neurons).size)),
        ("factored", lambda n_inputs, n_neurons: n_neurons * (n_inputs + 1)),
    ],
    "layer_forward": [
        ("np.dot", lambda X, W, b: np.dot(X, W) + b),
        ("through the transpose", lambda X, W, b: (W.T @ X.T).T + b),
    ],
    "relu": [
        ("multiplied by the mask", lambda x: x * (x > 0)),
        ("np.clip with no upper bound", lambda x: np.clip(x, 0, None)),
        ("np.vectorize of Python's max with a float 0", lambda x: np.vectorize(
            lambda v: max(v, 0.0))(x)),
    ],
    "sigmoid_derivative": [
        ("through tanh", lambda x: 0.25 * (1 - np.tanh(x / 2) ** 2)),
        ("one fraction", lambda x: 1 / (2 + np.exp(x) + np.exp(-x))),
        ("s(x) * s(-x)", lambda x: _sigmoid(x) * _sigmoid(-x)),
    ],
    "softmax": [
        ("exp of the log-softmax", lambda x: np.exp(
            x - x.max(axis=1, keepdims=True)
            - np.log(np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)))),
        ("row by row", lambda x: np.array([np.exp(r - r.max()) / np.exp(r - r.max()).sum()
                                           for r in x])),
    ],
    "two_layer_forward": [
        ("a mask for the ReLU", lambda X, W1, b1, W2, b2: _softmax(
            (X @ W1 + b1) * (X @ W1 + b1 > 0) @ W2 + b2)),
        ("mynn's layers", lambda X, W1, b1, W2, b2: _mynn_two_layer(X, W1, b1, W2, b2)),
    ],
    "predicted_classes": [
        ("argmax of the logs", lambda probabilities: np.argmax(np.log(probabilities), axis=1)),
        ("Python's max over the indices", _classes_python_max),
        ("argmax of the difference to the row maximum", lambda probabilities: np.argmax(
            probabilities - probabilities.max(axis=1, keepdims=True), axis=1)),
    ],
    "mse": [
        ("mean and variance", lambda y_pred, y_true: float(
            np.mean(y_true - y_pred) ** 2 + np.var(y_true - y_pred))),
        ("mean of the per-sample means", lambda y_pred, y_true: float(
            np.mean(np.mean(np.square(y_pred - y_true), axis=1)))),
    ],
    "categorical_crossentropy": [
        ("the log of the product", lambda probabilities, labels: float(
            -np.log(np.prod(probabilities[np.arange(len(labels)), labels])) / len(labels))),
        ("np.choose", lambda probabilities, labels: float(
            -np.mean(np.log(np.choose(labels, probabilities.T))))),
        ("clipped as mynn does", lambda probabilities, labels: float(-np.mean(np.log(
            np.clip(probabilities, 1e-7, 1 - 1e-7)[np.arange(len(labels)), labels])))),
    ],
    "gradient_descent_step": [
        ("np.subtract", lambda w, grad, learning_rate: np.subtract(w, learning_rate * grad)),
        ("plus the negative", lambda w, grad, learning_rate: w + (-learning_rate) * grad),
    ],
    "gradient_descent_steps": [
        ("the closed form", lambda w, learning_rate, steps: 3 + (w - 3) * (
            1 - 2 * learning_rate) ** steps),
        ("a gradient 2 * (3 - w) added", lambda w, learning_rate, steps: _steps_added(
            w, learning_rate, steps)),
    ],
    "chain_rule_square": [
        ("expanded", lambda w, x, b, y: 2 * x * x * w + 2 * x * (b - y)),
        ("numpy", lambda w, x, b, y: float(np.multiply(2 * (w * x + b - y), x))),
    ],
    "chain_rule": [
        ("through tanh", lambda w, x, b: 0.25 * (1 - math.tanh((w * x + b) / 2) ** 2) * x),
        ("s(z) * s(-z)", lambda w, x, b: float(_sigmoid(w * x + b) * _sigmoid(-(w * x + b)) * x)),
    ],
    "weights_gradient": [
        ("np.dot", lambda X, W, dvalues: np.dot(X.T, dvalues)),
        ("transpose of the other product", lambda X, W, dvalues: (dvalues.T @ X).T),
    ],
    "bias_gradient": [
        ("summed rows, kept, then the first", lambda dvalues: dvalues.sum(
            axis=0, keepdims=True)[0]),
        ("a loop", lambda dvalues: sum(row for row in dvalues) + 0.0),
    ],
    "inputs_gradient": [
        ("np.dot", lambda X, W, dvalues: np.dot(dvalues, W.T)),
        ("einsum", lambda X, W, dvalues: np.einsum("km,nm->kn", dvalues, W)),
    ],
    "relu_backward": [
        ("np.heaviside(inputs, 0)", lambda dvalues, inputs: dvalues * np.heaviside(inputs, 0)),
        ("a mask from the ReLU's output", lambda dvalues, inputs: dvalues * (
            np.maximum(inputs, 0) > 0)),
    ],
    "decayed_learning_rate": [
        ("a power of -1", lambda learning_rate, decay, iterations: learning_rate * (
            1 + decay * iterations) ** -1),
        ("np.divide", lambda learning_rate, decay, iterations: float(
            np.divide(learning_rate, 1 + decay * iterations))),
    ],
    "momentum_step": [
        ("w updated first, the same way", lambda w, grad, velocity, learning_rate, momentum: (
            w + momentum * velocity - learning_rate * grad,
            momentum * velocity - learning_rate * grad)),
    ],
    "adam_step": [
        ("updated in place on copies, np.power", _adam_right_in_place),
    ],
    "accuracy": [
        ("np.count_nonzero", lambda probabilities, labels: np.count_nonzero(
            np.argmax(probabilities, axis=1) == labels) / labels.size),
        ("a loop", lambda probabilities, labels: sum(
            int(np.argmax(row) == label) for row, label in zip(probabilities, labels))
            / len(labels)),
    ],
}


def _mynn_two_layer(X, W1, b1, W2, b2):
    from mynn.activations import ReLU, Softmax

    return Softmax().forward(ReLU().forward(X @ W1 + b1) @ W2 + b2)


def _steps_added(w, learning_rate, steps):
    for _ in range(steps):
        w += learning_rate * 2 * (3 - w)
    return w


def _cases(answers):
    return [
        pytest.param(name, function, id=f"{name}-{description}")
        for name in sorted(answers)
        for description, function in answers[name]
    ]


def test_every_exercise_has_five_wrong_answers_and_right_ones():
    assert sorted(WRONG) == sorted(EXERCISES) == sorted(RIGHT)
    assert min(len(answers) for answers in WRONG.values()) >= 5
    assert min(len(answers) for answers in RIGHT.values()) >= 1


def _results(name, function, seeds=range(3)):
    """What ``function`` gives (or the type of error it raises) on 5 trials of a few seeds."""
    exercise = EXERCISES[name]
    found = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for trial in range(5):
            inputs = exercise.make_inputs(rng, trial)
            with np.errstate(all="ignore"):
                try:
                    found.append(function(**inputs))
                except Exception as error:
                    found.append(type(error))
    return found


def _agree(a, b) -> bool:
    if isinstance(a, type) or isinstance(b, type):
        return a is b
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(_agree(x, y) for x, y in zip(a, b)))
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


@pytest.mark.parametrize(("name", "wrong"), _cases(WRONG))
def test_the_wrong_answer_is_not_one_of_the_known_mistakes(name, wrong):
    # else it belongs to tests/test_exercises.py, which checks the catalogue and its hints
    if wrong.__name__.startswith(("_momentum_global", "_momentum_velocity", "_adam_moments",
                                  "_adam_own")):
        return  # they keep state: what they give depends on the calls before
    ours = _results(name, wrong)
    for known, _ in EXERCISES[name].mistakes:
        theirs = _results(name, known)
        assert not all(_agree(a, b) for a, b in zip(ours, theirs)), known.__name__


@pytest.mark.parametrize(("name", "wrong"), _cases(WRONG))
def test_a_wrong_answer_is_rejected_on_every_seed(name, wrong):
    passed = []
    for seed in SEEDS:
        fresh_state()
        try:
            check(name, wrong, rng=seed)
        except ExerciseError:
            continue
        passed.append(seed)
    assert not passed, f"passes on seeds {passed}"


@pytest.mark.parametrize(("name", "right"), _cases(RIGHT))
def test_a_right_answer_is_accepted_on_every_seed(name, right):
    for seed in SEEDS:
        check(name, right, rng=seed)
