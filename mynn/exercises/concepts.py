"""The exercises of the Concepts chapters: the neuron, the layer, activation functions,
feed forward and loss functions (plus accuracy, which no page asks for yet).

Each function builds one exercise: how its inputs are drawn, the right answer (``reference``)
and the mistakes learners make, each a function named after the mistake with the hint that
fixes it.
"""

from __future__ import annotations

import math

import numpy as np

from ..loss import CategoricalCrossentropy, MeanSquaredError
from .engine import Exercise
from .helpers import (
    FIRST_OF_TIES,
    LARGE,
    SMALLEST,
    TINY,
    classification,
    large_or_tiny,
    log_uniform,
    mynn_sigmoid,
    mynn_softmax,
    phase,
    probabilities_with_ties,
    scaled_to,
    size,
    sizes,
    with_zeros,
)

__all__ = [
    "neuron",
    "neuron_batch",
    "count_parameters",
    "layer_forward",
    "relu",
    "sigmoid_derivative",
    "softmax",
    "two_layer_forward",
    "predicted_classes",
    "mse",
    "categorical_crossentropy",
    "accuracy",
]

SAMPLES_ARE_ROWS = "{}: each row of X is a sample, so X comes first and is not transposed"


# --- Concepts: the neuron ----------------------------------------------------------------------


def neuron() -> Exercise:
    def inputs(rng, trial):
        n = size(rng, trial, 1, 8)
        x, w, b = rng.normal(size=n), rng.normal(size=n), float(rng.normal() * 2)
        if phase(trial) in (LARGE, TINY):  # the output below 0 on the second trial, above
            wanted = -1.0 if phase(trial) == LARGE else 1.0  # 0 on the fourth
            if np.sign(x @ w + b) != wanted:
                w, b = -w, -b
        return {"x": x, "w": w, "b": b}

    def reference(x, w, b):
        return float(x @ w + b)

    def no_bias(x, w, b):
        return float(x @ w)

    def sums_not_products(x, w, b):
        return float(np.sum(x + w) + b)

    def bias_per_input(x, w, b):
        return float(np.sum(x * w + b))

    def products_not_summed(x, w, b):
        return x * w + b

    return Exercise(
        "neuron",
        "neuron(x, w, b) -> float: the output w·x + b of one neuron for an input vector x",
        inputs,
        reference,
        "number",
        mistakes=(
            (no_bias, "the bias b is missing: a neuron adds it after the weighted sum"),
            (sums_not_products, "add the products x_i * w_i, not the sums x_i + w_i"),
            (bias_per_input, "add b once, after the sum: np.sum(x * w + b) adds it once per input"),
            (products_not_summed, "add up the products: w·x is one number, np.dot(x, w)"),
        ),
    )


def neuron_batch() -> Exercise:
    def inputs(rng, trial):
        k, n = sizes(rng, trial, 2, 1, 8)
        return {"X": rng.normal(size=(k, n)), "w": rng.normal(size=n), "b": float(rng.normal())}

    def reference(X, w, b):
        return X @ w + b

    def first_row_only(X, w, b):
        return np.full(len(X), X[0] @ w + b)

    def column(X, w, b):
        return (X @ w + b).reshape(-1, 1)

    def no_bias(X, w, b):
        return X @ w

    def one_number(X, w, b):
        return float(np.sum(X @ w + b))

    def weights_first(X, w, b):
        return w @ X + b

    def transposed(X, w, b):
        return X.T @ w + b

    return Exercise(
        "neuron_batch",
        "neuron_batch(X, w, b) -> array (k,): one neuron's output for each row of X (k, n)",
        inputs,
        reference,
        "array",
        mistakes=(
            (first_row_only, "compute every row, not only the first: X @ w + b"),
            (column, "return shape (k,), one number per sample, not a column (k, 1)"),
            (no_bias, "the bias b is missing: add it to every sample's weighted sum"),
            (one_number, "return one output per sample, an array of shape (k,), not their sum"),
            (weights_first, SAMPLES_ARE_ROWS.format("X @ w")),
            (transposed, SAMPLES_ARE_ROWS.format("X @ w")),
        ),
    )


# --- Concepts: the layer -----------------------------------------------------------------------


def count_parameters() -> Exercise:
    def inputs(rng, trial):
        return {"n_inputs": size(rng, trial, 1, 64), "n_neurons": size(rng, trial, 1, 64)}

    def reference(n_inputs, n_neurons):
        return n_inputs * n_neurons + n_neurons

    def weights_only(n_inputs, n_neurons):
        return n_inputs * n_neurons

    def bias_per_input(n_inputs, n_neurons):
        return n_inputs * n_neurons + n_inputs

    def one_weight_per_neuron(n_inputs, n_neurons):
        return n_inputs + n_neurons

    return Exercise(
        "count_parameters",
        "count_parameters(n_inputs, n_neurons) -> int: how many numbers a dense layer learns",
        inputs,
        reference,
        "count",
        mistakes=(
            (weights_only, "the biases count too: one per neuron"),
            (bias_per_input, "there is one bias per NEURON, not per input"),
            (one_weight_per_neuron, "each neuron has one weight per input: n_inputs * n_neurons"),
        ),
    )


def layer_forward() -> Exercise:
    def inputs(rng, trial):
        k, n, m = sizes(rng, trial, 3, 1, 8)
        return {"X": rng.normal(size=(k, n)), "W": rng.normal(size=(n, m)), "b": rng.normal(size=m)}

    def reference(X, W, b):
        return X @ W + b

    def no_bias(X, W, b):
        return X @ W

    def bias_per_sample(X, W, b):
        return X @ W + b[:, None]

    def transposed_weights(X, W, b):
        return X @ W.T + b

    def weights_first(X, W, b):
        return W @ X + b

    return Exercise(
        "layer_forward",
        "layer_forward(X, W, b) -> array (k, m): a dense layer for X (k, n), W (n, m), b (m,)",
        inputs,
        reference,
        "array",
        mistakes=(
            (no_bias, "the biases are missing: add b, one per neuron, to every row"),
            (bias_per_sample, "b holds one bias per neuron (a column of the output): add b as "
             "it is"),
            (transposed_weights, "W already has the shape (n, m): X @ W, no transpose"),
            (weights_first, SAMPLES_ARE_ROWS.format("X @ W")),
        ),
    )


# --- Concepts: activation functions ------------------------------------------------------------


def relu() -> Exercise:
    def inputs(rng, trial):
        shape = (size(rng, trial, 1, 8), size(rng, trial, 3, 8))
        x = with_zeros(rng, rng.normal(size=shape))
        if phase(trial) == SMALLEST:  # one row, in increasing order: from a negative entry
            x = np.sort(x, axis=1)
        return {"x": large_or_tiny(rng, trial, x)}

    def reference(x):
        return np.maximum(x, 0)

    def absolute_value(x):
        return np.abs(x)

    def negatives_kept(x):
        return np.minimum(x, 0)

    def mask_only(x):
        return x > 0

    def capped(x):
        return np.clip(x, 0, 1)

    def largest_along_axis(x):
        return np.max(x, 0)

    def python_max(x):
        return max(x, 0)

    return Exercise(
        "relu",
        "relu(x) -> array: max(0, x) element-wise, a new array of x's shape",
        inputs,
        reference,
        "array",
        mistakes=(
            (absolute_value, "negative inputs must become 0, not positive"),
            (negatives_kept, "keep the positive inputs and set the negative ones to 0: max, "
             "not min"),
            (mask_only, "return the values where x > 0 (and 0 elsewhere), not the mask x > 0"),
            (capped, "ReLU has no upper limit: np.maximum(x, 0), or np.clip(x, 0, None)"),
            (largest_along_axis, "np.max(x, 0) is the largest entry along axis 0; "
             "np.maximum(x, 0) compares each entry with 0"),
            (python_max, "Python's max compares whole arrays; np.maximum(x, 0) compares each "
             "entry with 0"),
        ),
    )


def sigmoid_derivative() -> Exercise:
    def inputs(rng, trial):
        shape = (size(rng, trial, 1, 8), size(rng, trial, 3, 8))
        x = with_zeros(rng, rng.normal(size=shape) * log_uniform(rng, 0.5, 10))
        if phase(trial) == LARGE:  # out to where s(x) rounds to 1 and s'(x) is below 1e-8
            x = scaled_to(x, rng.uniform(20, 40))
        return {"x": x}

    def reference(x):
        s = mynn_sigmoid(x)
        return s * (1 - s)

    def sigmoid_itself(x):
        return mynn_sigmoid(x)

    def formula_on_x(x):
        return x * (1 - x)

    def one_minus_sigmoid(x):
        return 1 - mynn_sigmoid(x)

    def tanh_derivative(x):
        return 1 - np.tanh(x) ** 2

    def math_exp(x):
        s = 1 / (1 + math.exp(-x))
        return s * (1 - s)

    def precedence(x):
        s = 1 / 1 + np.exp(-x)
        return s * (1 - s)

    return Exercise(
        "sigmoid_derivative",
        "sigmoid_derivative(x) -> array: s(x) * (1 - s(x)) element-wise, s the sigmoid",
        inputs,
        reference,
        "array",
        mistakes=(
            (sigmoid_itself, "that is the sigmoid itself; its derivative is s(x) * (1 - s(x))"),
            (formula_on_x, "apply the formula to s(x), the sigmoid's output, not to x"),
            (one_minus_sigmoid, "that is 1 - s(x) (also e^-x / (1 + e^-x)): multiply it by s(x)"),
            (tanh_derivative, "1 - tanh(x)**2 is tanh's derivative; the sigmoid's is "
             "s(x) * (1 - s(x))"),
            (math_exp, "math.exp takes one number; np.exp works on a whole array"),
            (precedence, "1 / 1 + np.exp(-x) is 1 + e^-x: write s = 1 / (1 + np.exp(-x))"),
        ),
    )


def softmax() -> Exercise:
    def inputs(rng, trial):
        k, c = size(rng, trial, 1, 8), size(rng, trial, 2, 7)
        if trial % 2 == 0:  # ordinary scores
            return {"x": rng.normal(size=(k, c)) * log_uniform(rng, 0.1, 5)}
        return {"x": far_scores(rng, trial, k, c)}

    def reference(x):
        return mynn_softmax(x)

    def global_sum(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    def row_shift_global_sum(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum()

    def no_keepdims(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1)

    def columns(x):
        e = np.exp(x - x.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    def not_normalized(x):
        return np.exp(x - x.max(axis=1, keepdims=True))

    def no_shift(x):
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)

    def global_shift(x):
        e = np.exp(x - x.max())
        return e / e.sum(axis=1, keepdims=True)

    def minimum_shift(x):
        e = np.exp(x - x.min(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def mean_shift(x):
        e = np.exp(x - x.mean(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def log_softmax(x):
        shifted = x - x.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    per_row = "divide each row by its own sum, e.sum(axis=1, keepdims=True)"
    by_the_maximum = (
        "subtract the row's maximum, not its minimum or mean: then every exponent is <= 0 and "
        "cannot overflow"
    )
    return Exercise(
        "softmax",
        "softmax(x) -> array (k, c): row-wise probabilities for scores x (k, c); some trials have "
        "scores near +-1000",
        inputs,
        reference,
        "array",
        mistakes=(
            (global_sum, f"{per_row}, not by the sum of the whole batch"),
            (row_shift_global_sum, f"the shift is per row but the sum is global: {per_row}"),
            (no_keepdims, "without keepdims=True the k row sums line up with the columns, not "
             "the rows: e.sum(axis=1, keepdims=True)"),
            (columns, "each ROW is one sample's probabilities: work along axis=1, not axis=0"),
            (not_normalized, "divide by the row sums, so that each row adds up to 1"),
            (no_shift, "np.exp overflows for scores above about 709: subtract each row's "
             "maximum before np.exp"),
            (global_shift, "subtract each ROW's maximum: after one maximum for the whole batch, "
             "rows far below it become 0 / 0"),
            (minimum_shift, by_the_maximum),
            (mean_shift, by_the_maximum),
            (log_softmax, "that is the log of the softmax: take np.exp of it, or divide e by "
             "its row sums"),
        ),
    )


# --- Concepts: feed forward --------------------------------------------------------------------


def two_layer_forward() -> Exercise:
    def inputs(rng, trial):
        k, n, h = sizes(rng, trial, 3, 1, 8)
        c = size(rng, trial, 2, 6)
        X, W1, b1 = rng.normal(size=(k, n)), rng.normal(size=(n, h)), rng.normal(size=h)
        W2, b2 = rng.normal(size=(h, c)), rng.normal(size=c)
        if trial % 2 == 1:  # scores near +-1000 and rows far apart, as the softmax's trials
            hidden = np.maximum(X @ W1 + b1, 0)
            low, high = hidden.min(axis=0), hidden.max(axis=0)
            unit = int(np.argmax(high - low))  # the hidden unit that differs most between rows
            if high[unit] - low[unit] > 1e-3:
                # the same amount added to every score of a row (the softmax does not change),
                # 1600 to 2000 more for one row than for another
                scale = rng.choice([-1, 1]) * rng.uniform(1600, 2000) / (high[unit] - low[unit])
                W2[unit] += scale
                b2 -= scale * (high[unit] + low[unit]) / 2
            b2 += rng.choice([-1, 1]) * rng.uniform(800, 1000)
        return {"X": X, "W1": W1, "b1": b1, "W2": W2, "b2": b2}

    def reference(X, W1, b1, W2, b2):
        return mynn_softmax(np.maximum(X @ W1 + b1, 0) @ W2 + b2)

    def no_relu(X, W1, b1, W2, b2):
        return mynn_softmax((X @ W1 + b1) @ W2 + b2)

    def no_softmax(X, W1, b1, W2, b2):
        return np.maximum(X @ W1 + b1, 0) @ W2 + b2

    def sigmoid_hidden(X, W1, b1, W2, b2):
        return mynn_softmax(mynn_sigmoid(X @ W1 + b1) @ W2 + b2)

    def softmax_over_columns(X, W1, b1, W2, b2):
        return mynn_softmax((np.maximum(X @ W1 + b1, 0) @ W2 + b2).T).T

    def no_biases(X, W1, b1, W2, b2):
        return mynn_softmax(np.maximum(X @ W1, 0) @ W2)

    def relu_on_scores(X, W1, b1, W2, b2):
        return mynn_softmax(np.maximum(np.maximum(X @ W1 + b1, 0) @ W2 + b2, 0))

    return Exercise(
        "two_layer_forward",
        "two_layer_forward(X, W1, b1, W2, b2) -> array (k, c): "
        "softmax(relu(X @ W1 + b1) @ W2 + b2)",
        inputs,
        reference,
        "array",
        mistakes=(
            (no_relu, "the ReLU between the layers is missing"),
            (no_softmax, "finish with a softmax, so that each row is probabilities"),
            (sigmoid_hidden, "the hidden layer's activation is a ReLU, not a sigmoid"),
            (softmax_over_columns, "the softmax runs along each row (axis=1), one per sample"),
            (no_biases, "the biases b1 and b2 are missing"),
            (relu_on_scores, "no ReLU after the second layer: its scores go straight into the "
             "softmax"),
        ),
    )


def predicted_classes() -> Exercise:
    def inputs(rng, trial):
        return {"probabilities": probabilities_with_ties(rng, trial)}

    def reference(probabilities):
        return np.argmax(probabilities, axis=1)

    def largest_value(probabilities):
        return np.max(probabilities, axis=1)

    def last_of_ties(probabilities):
        c = probabilities.shape[1]
        return c - 1 - np.argmax(probabilities[:, ::-1], axis=1)

    def over_columns(probabilities):
        return np.argmax(probabilities, axis=0)

    def flat(probabilities):
        return int(np.argmax(probabilities))

    def where_equal_max(probabilities):
        return np.where(probabilities == probabilities.max(axis=1, keepdims=True))[1]

    return Exercise(
        "predicted_classes",
        "predicted_classes(probabilities) -> int array (k,): the index of each row's largest "
        "probability; on a tie the first such index",
        inputs,
        reference,
        "indices",
        mistakes=(
            (largest_value, "return the INDEX of the largest probability (argmax), not the "
             "probability"),
            (last_of_ties, FIRST_OF_TIES),
            (over_columns, "one class per row: argmax over axis=1"),
            (flat, "one class per row: argmax over axis=1, not over the whole array"),
            (where_equal_max, "np.where gives every tied index; np.argmax(probabilities, "
             "axis=1) gives one per row"),
        ),
    )


# --- Concepts: loss functions ------------------------------------------------------------------


def mse() -> Exercise:
    def inputs(rng, trial):
        shape = (size(rng, trial, 1, 8), size(rng, trial, 1, 6))
        return {"y_pred": rng.normal(size=shape), "y_true": rng.normal(size=shape)}

    def reference(y_pred, y_true):
        return MeanSquaredError().calculate(y_pred, y_true)

    def half(y_pred, y_true):
        return float(0.5 * np.mean((y_true - y_pred) ** 2))

    def per_sample_divisor(y_pred, y_true):
        return float(np.sum((y_true - y_pred) ** 2) / len(y_true))

    def total(y_pred, y_true):
        return float(np.sum((y_true - y_pred) ** 2))

    def absolute(y_pred, y_true):
        return float(np.mean(np.abs(y_true - y_pred)))

    def root(y_pred, y_true):
        return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))

    def square_of_mean(y_pred, y_true):
        return float(np.mean(y_true - y_pred) ** 2)

    def per_sample(y_pred, y_true):
        return np.mean((y_true - y_pred) ** 2, axis=1)

    return Exercise(
        "mse",
        "mse(y_pred, y_true) -> float: the mean of the squared differences over samples and "
        "outputs, arrays (k, m); no 1/2 in front",
        inputs,
        reference,
        "number",
        mistakes=(
            (half, "this chapter's MSE has no 1/2 in front (some books add one to tidy the "
             "derivative)"),
            (per_sample_divisor, "divide by k*m, the number of entries, not by k: the mean runs "
             "over samples and outputs"),
            (total, "take the mean, not the sum"),
            (absolute, "square the differences; absolute values give the mean absolute error"),
            (root, "no square root: that is the root of the MSE"),
            (square_of_mean, "square each difference, then average: not the square of the "
             "average difference"),
            (per_sample, "average over the samples too: the loss is one number"),
        ),
    )


def categorical_crossentropy() -> Exercise:
    def reference(probabilities, labels):
        return CategoricalCrossentropy().calculate(probabilities, labels)

    def picked(probabilities, labels):
        return probabilities[np.arange(len(labels)), labels]

    def total(probabilities, labels):
        return float(-np.log(picked(probabilities, labels)).sum())

    def no_minus(probabilities, labels):
        return float(np.mean(np.log(picked(probabilities, labels))))

    def whole_columns(probabilities, labels):
        return float(np.mean(-np.log(probabilities[:, labels])))

    def every_class(probabilities, labels):
        return float(np.mean(-np.log(probabilities)))

    def log10(probabilities, labels):
        return float(np.mean(-np.log10(picked(probabilities, labels))))

    def log_of_mean(probabilities, labels):
        return float(-np.log(np.mean(picked(probabilities, labels))))

    def rows_by_labels(probabilities, labels):
        return float(np.mean(-np.log(probabilities[labels])))

    def swapped_indices(probabilities, labels):
        return float(np.mean(-np.log(probabilities[labels, np.arange(len(labels))])))

    return Exercise(
        "categorical_crossentropy",
        "categorical_crossentropy(probabilities, labels) -> float: the mean over rows i of "
        "-log p[i, labels[i]]",
        classification,
        reference,
        "number",
        mistakes=(
            (total, "take the mean over the samples, not the sum"),
            (no_minus, "the sign: the loss is the NEGATIVE log of the probability"),
            (whole_columns, "p[:, labels] takes whole columns (a (k, k) table); pick one entry "
             "per row: p[np.arange(len(labels)), labels]"),
            (every_class, "only each row's true class enters the loss: "
             "p[np.arange(len(labels)), labels]"),
            (log10, "the natural logarithm, np.log, not np.log10"),
            (log_of_mean, "average the logs, not the log of the average probability"),
            (rows_by_labels, "probabilities[labels] picks whole ROWS; pick one entry per row: "
             "probabilities[np.arange(len(labels)), labels]"),
            (swapped_indices, "the row comes first: probabilities[np.arange(len(labels)), "
             "labels]"),
        ),
    )


# --- Implementation: metrics (no page asks for it yet) ------------------------------------------


def accuracy() -> Exercise:
    def inputs(rng, trial):
        probabilities = probabilities_with_ties(rng, trial)
        k, c = probabilities.shape
        predicted = np.argmax(probabilities, axis=1)
        labels = np.where(rng.random(k) < 0.5, predicted, rng.integers(0, c, k))
        top = probabilities.max(axis=1, keepdims=True)
        # Rows whose two largest classes are (nearly) tied are labelled so that an answer that
        # takes the wrong one of the two is wrong on every such row (two errors that cancel
        # would give the right share): a near-tie with its largest class, an exact tie with
        # its second, which argmax (the first) gets wrong.
        tied = (probabilities == top).sum(axis=1) > 1
        near = (probabilities >= top * (1 - 1e-3)).sum(axis=1) > 1
        for row in np.flatnonzero(near & ~tied):
            labels[row] = predicted[row]
        for row in np.flatnonzero(tied):
            labels[row] = np.flatnonzero(probabilities[row] == top[row])[-1]
        if k == 1:  # one sample, answered right: an accuracy of 1
            labels[0] = predicted[0]
        else:  # and at least one right answer besides
            right = int(rng.choice(np.flatnonzero(~tied)))
            labels[right] = predicted[right]
        return {"probabilities": probabilities, "labels": labels}

    def reference(probabilities, labels):
        return float(np.mean(np.argmax(probabilities, axis=1) == labels))

    def count(probabilities, labels):
        return float(np.sum(np.argmax(probabilities, axis=1) == labels))

    def largest_value(probabilities, labels):
        return float(np.mean(np.max(probabilities, axis=1) == labels))

    def percentage(probabilities, labels):
        return 100 * reference(probabilities, labels)

    def last_of_ties(probabilities, labels):
        c = probabilities.shape[1]
        return float(np.mean(c - 1 - np.argmax(probabilities[:, ::-1], axis=1) == labels))

    return Exercise(
        "accuracy",
        "accuracy(probabilities, labels) -> float: the share of rows whose largest probability "
        "is at the true class; on a tie the first such index counts",
        inputs,
        reference,
        "number",
        mistakes=(
            (count, "that is the count of right answers; divide by the number of samples "
             "(take the mean)"),
            (largest_value, "compare the INDEX of the largest probability (argmax) with the "
             "label, not its value"),
            (percentage, "a share between 0 and 1, not a percentage"),
            (last_of_ties, FIRST_OF_TIES),
        ),
    )


def far_scores(rng: np.random.Generator, trial: int, k: int, c: int) -> np.ndarray:
    """Scores (k, c) centred anywhere from -1000 to +1000 by row, so that exp overflows and one
    maximum for all rows is not enough, and one row spread over 1600 (shifting it by its
    minimum, its mean or its first score overflows too): in random order on trial 1, 5, ...,
    from the lowest score to the highest on trial 3, 7, ..."""
    offsets = rng.permutation(np.linspace(-1000, 1000, k)) + rng.uniform(-20, 20, size=k)
    x = offsets[:, None] + rng.normal(size=(k, c)) * rng.uniform(1, 10)
    row = rng.integers(k)
    spread = np.linspace(-800, 800, c)
    if phase(trial) == LARGE:
        spread = rng.permutation(spread)
    x[row] = offsets[row] + spread + rng.normal(size=c)
    return x
