r"""Loss functions: how wrong the network's outputs ``y_pred`` are for the targets ``y_true``.

Every loss has the same three methods:

- ``forward(y_pred, y_true)``: the loss of each sample, shape ``(n_samples,)``;
- ``calculate(y_pred, y_true)``: their mean, a float (the [Model][mynn.model.Model] adds the
  layers' regularization penalties to it in the training loss of its history; ``evaluate``
  leaves them out);
- ``backward(y_pred, y_true)``: the gradient of that mean with respect to ``y_pred``, shape of
  ``y_pred``.

``y_pred`` has shape ``(n_samples, n_outputs)``. Probabilities are clipped to
``[1e-7, 1 - 1e-7]`` before any logarithm, so a confident wrong answer gives a large but finite
loss. Where a probability is clipped, ``backward`` is the gradient of the unclipped formula at
the clipped value, which keeps pushing, while the clipped loss is flat there (its derivative
is 0). Predictions outside ``[0, 1]`` by more than ``PROBABILITY_SLACK`` (``1e-3``) are
refused rather than clipped.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_array,
    as_float_array,
    check_dtype,
    check_positive_int,
    check_same_length,
)
from .activations import Sigmoid, Softmax

__all__ = [
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "softmax_crossentropy_gradient",
]

EPSILON = 1e-7
"""Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before a logarithm or a division."""


class Loss:
    """Base class of losses. Subclasses implement ``per_sample`` and ``gradient``.

    ``forward``, ``calculate`` and ``backward`` check their arguments and call those two; the
    [Model][mynn.model.Model] checks its targets once per ``train`` call and then calls
    ``per_sample`` and ``gradient`` directly, batch after batch.
    """

    #: The activations whose outputs this loss can read (a loss of probabilities needs a
    #: Sigmoid or a Softmax); a [Model][mynn.model.Model] whose last layer is none of them is
    #: refused before it trains or evaluates. Empty: any output will do.
    output_activations: tuple[type, ...] = ()

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Loss of each sample, shape ``(n_samples,)``."""
        y_pred, y_true = self._check(y_pred, y_true)
        return self.per_sample(y_pred, y_true)

    def calculate(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        """Mean loss over the samples."""
        return float(np.mean(self.forward(y_pred, y_true)))

    def backward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Gradient of the mean loss with respect to ``y_pred``.

        Where a loss clips a probability (outside ``[1e-7, 1 - 1e-7]``), it is the gradient of
        the unclipped formula at the clipped value, not the derivative of the clipped loss
        (which is 0 there).

        Examples:
            >>> import numpy as np
            >>> from mynn.gradcheck import numerical_gradient
            >>> from mynn.loss import BinaryCrossentropy
            >>> bce, p, y = BinaryCrossentropy(), np.array([[1e-8]]), np.array([1])
            >>> round(float(bce.backward(p, y)[0, 0]))  # -1/p at p clipped to 1e-7
            -10000000
            >>> numerical_gradient(lambda: bce.calculate(p, y), p, 1e-9).tolist()  # flat
            [[0.0]]
        """
        y_pred, y_true = self._check(y_pred, y_true)
        self.dinputs = self.gradient(y_pred, y_true)
        return self.dinputs

    def check_targets(
        self,
        y_true: np.ndarray,
        n_outputs: int,
        dtype: type | str | np.dtype = np.float64,
        *,
        name: str = "y_true",
    ) -> np.ndarray:
        """Validate targets for a network with ``n_outputs`` outputs; return them normalized.

        Regression-style losses accept ``(n_samples, n_outputs)`` or, for one output,
        ``(n_samples,)``, and return a float array of shape ``(n_samples, n_outputs)``.

        Args:
            y_true: The targets.
            n_outputs: Width of the network's output.
            dtype: Float dtype of the returned targets (float32 or float64).
            name: What to call the targets in error messages (``"y_val"``, say).
        """
        n_outputs = check_positive_int("n_outputs", n_outputs)
        y = as_float_array(name, y_true, check_dtype(dtype))
        if y.ndim == 1 and n_outputs == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ValueError(
                f"{name} must have shape (n_samples, {n_outputs}) to match the network's "
                f"{n_outputs} output(s). Received: {name} of shape {y.shape}"
            )
        return y

    def check_predictions(self, y_pred: np.ndarray, *, name: str = "y_pred") -> None:
        """Refuse predictions this loss cannot read (``forward`` and ``backward`` call it).

        The base class accepts any float array; a loss of probabilities refuses values
        outside $[0, 1]$ by more than ``PROBABILITY_SLACK`` (``1e-3``), which no Sigmoid or
        Softmax produces: clipping them would report a meaningless loss (tiny, capped at
        16.12, or anything between, depending on the raw score).

        Raises:
            ValueError: If ``y_pred`` holds values this loss cannot read.

        Examples:
            >>> import numpy as np
            >>> from mynn.loss import CategoricalCrossentropy
            >>> raw = np.array([[2.5, -1.0, 0.3]])  # scores, no Softmax
            >>> clipped = -np.log(np.clip(raw[0], 1e-7, 1 - 1e-7))  # for true class 0, 1, 2
            >>> [f"{value:.4g}" for value in clipped]
            ['1e-07', '16.12', '1.204']
            >>> CategoricalCrossentropy().check_predictions(np.array([[1.0005, 0.0, 0.0]]))
            >>> CategoricalCrossentropy().check_predictions(raw)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            ValueError: CategoricalCrossentropy reads probabilities in [0, 1], ...
        """

    def get_config(self) -> dict:
        """Constructor arguments, JSON-serializable, so ``type(self)(**config)`` rebuilds it
        (what [save_model][mynn.saving.save_model] stores). A loss that takes arguments
        overrides it; ``repr`` shows them."""
        return {}

    def _check(self, y_pred, y_true) -> tuple[np.ndarray, np.ndarray]:
        y_pred = as_array("y_pred", y_pred)
        if y_pred.ndim != 2:
            raise ValueError(
                "y_pred must have shape (n_samples, n_outputs). "
                f"Received: y_pred of shape {y_pred.shape}"
            )
        y_pred = as_float_array("y_pred", y_pred)
        self.check_predictions(y_pred)
        y_true = self.check_targets(y_true, y_pred.shape[1], y_pred.dtype)
        check_same_length("y_pred", y_pred, "y_true", y_true)
        return y_pred, y_true

    def per_sample(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Loss of each sample, shape ``(n_samples,)``, **without checking the arguments**.

        ``y_pred`` must be a float array ``(n_samples, n_outputs)`` and ``y_true`` the targets as
        [check_targets][mynn.loss.Loss.check_targets] returns them, of the same length.
        ``forward`` is the checked version.
        """
        raise NotImplementedError

    def gradient(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Gradient of the mean loss w.r.t. ``y_pred``, **without checking the arguments**.

        Takes what ``per_sample`` takes; ``backward`` is the checked version.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MeanSquaredError(Loss):
    r"""Mean squared error, for regression.

    For $k$ samples with $m$ outputs each, the mean runs over samples *and* outputs:

    $$
    \begin{aligned}
    C &= \frac{1}{k}\sum_{i=1}^{k}\frac{1}{m}\sum_{j=1}^{m}(y_{ij} - \hat y_{ij})^2, \\
    \frac{\partial C}{\partial \hat y_{ij}} &= -\frac{2}{km}(y_{ij} - \hat y_{ij})
    \end{aligned}
    $$

    Examples:
        >>> import numpy as np
        >>> from mynn.loss import MeanSquaredError
        >>> mse = MeanSquaredError()
        >>> mse.calculate(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
        2.5
        >>> mse.backward(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])).tolist()
        [[1.0], [2.0]]
    """

    def per_sample(self, y_pred, y_true):
        return np.mean((y_true - y_pred) ** 2, axis=1)

    def gradient(self, y_pred, y_true):
        return (y_pred - y_true) * (2.0 / y_pred.size)


class MeanAbsoluteError(Loss):
    r"""Mean absolute error, for regression; less swayed by outliers than MSE.

    $$
    \begin{aligned}
    C &= \frac{1}{k}\sum_{i}\frac{1}{m}\sum_{j}|y_{ij} - \hat y_{ij}|, \\
    \frac{\partial C}{\partial \hat y_{ij}} &= \frac{\operatorname{sign}(\hat y_{ij} - y_{ij})}{km}
    \end{aligned}
    $$

    Examples:
        >>> import numpy as np
        >>> from mynn.loss import MeanAbsoluteError
        >>> MeanAbsoluteError().calculate(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
        1.5
    """

    def per_sample(self, y_pred, y_true):
        return np.mean(np.abs(y_true - y_pred), axis=1)

    def gradient(self, y_pred, y_true):
        return np.sign(y_pred - y_true) / y_pred.size


PROBABILITY_SLACK = 1e-3
"""How far outside $[0, 1]$ a loss of probabilities lets a prediction lie (it clips them
anyway): room for rounding and for the small steps of a gradient check, none for raw scores."""


def _check_probabilities(loss: Loss, y_pred: np.ndarray, name: str) -> None:
    """Refuse values outside [0, 1] (beyond PROBABILITY_SLACK) for a loss of probabilities."""
    low, high = float(y_pred.min()), float(y_pred.max())
    if low < -PROBABILITY_SLACK or high > 1 + PROBABILITY_SLACK:
        outputs = " or ".join(cls.__name__ for cls in loss.output_activations)
        raise ValueError(
            f"{type(loss).__name__} reads probabilities in [0, 1], the outputs of a {outputs}. "
            f"Received: {name} with values from {low:g} to {high:g}; end the network with "
            f"{loss.output_activations[0].__name__}() (a network that ends in raw scores, "
            "logits, needs one)"
        )


class BinaryCrossentropy(Loss):
    r"""Binary cross-entropy, for one or more independent yes/no outputs (after a Sigmoid).

    With $p$ the predicted probability clipped to $[\epsilon, 1-\epsilon]$ ($\epsilon = 10^{-7}$,
    ``EPSILON``), for $k$ samples with $m$ outputs each and $\log$ the natural logarithm:

    $$
    \begin{aligned}
    C &= -\frac{1}{k}\sum_i\frac{1}{m}\sum_j\big(y_{ij}\log p_{ij} \\
    &\qquad + (1-y_{ij})\log(1-p_{ij})\big), \\
    \frac{\partial C}{\partial p_{ij}} &= -\frac{1}{km}\Big(\frac{y_{ij}}{p_{ij}}
        - \frac{1-y_{ij}}{1-p_{ij}}\Big)
    \end{aligned}
    $$

    Targets are 0/1 values of shape ``(n_samples, n_outputs)`` (or ``(n_samples,)`` for one
    output).

    Examples:
        >>> import numpy as np
        >>> from mynn.loss import BinaryCrossentropy
        >>> loss = BinaryCrossentropy().calculate(np.array([[0.9], [0.2]]), np.array([1, 0]))
        >>> round(loss, 4)
        0.1643
        >>> bool(np.isfinite(BinaryCrossentropy().calculate(np.array([[0.0]]), np.array([1]))))
        True
    """

    output_activations = (Sigmoid, Softmax)

    def check_predictions(self, y_pred, *, name="y_pred"):
        _check_probabilities(self, y_pred, name)

    def check_targets(self, y_true, n_outputs, dtype=np.float64, *, name="y_true"):
        y = super().check_targets(y_true, n_outputs, dtype, name=name)
        if ((y != 0) & (y != 1)).any():
            raise ValueError(
                "BinaryCrossentropy targets must be 0 or 1. "
                f"Received: {name} with values {np.unique(y)[:10].tolist()}"
            )
        return y

    def per_sample(self, y_pred, y_true):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p), axis=1)

    def gradient(self, y_pred, y_true):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -(y_true / p - (1 - y_true) / (1 - p)) / y_pred.size


class CategoricalCrossentropy(Loss):
    r"""Categorical cross-entropy, for one-of-$m$ classification (after a Softmax).

    With $p$ the predicted probabilities (clipped to $[\epsilon, 1-\epsilon]$), $c_i$ the
    true class of sample $i$, $k$ samples and $\log$ the natural logarithm:

    $$
    C = -\frac{1}{k}\sum_i \log p_{i,c_i},\qquad
    \frac{\partial C}{\partial p_{ij}} = -\frac{1}{k}\frac{y_{ij}}{p_{ij}}
    $$

    where $y_{ij}$ is the one-hot form of the labels. Targets are class indices of shape
    ``(n_samples,)`` (integers in ``[0, m)`` for $m$ classes) or one-hot rows of shape
    ``(n_samples, m)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.loss import CategoricalCrossentropy
        >>> p = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
        >>> cce = CategoricalCrossentropy()
        >>> round(cce.calculate(p, np.array([0, 1])), 4)
        0.5249
        >>> cce.calculate(p, np.array([[1, 0, 0], [0, 1, 0]])) == cce.calculate(p, np.array([0, 1]))
        True
    """

    output_activations = (Softmax,)

    def check_predictions(self, y_pred, *, name="y_pred"):
        _check_probabilities(self, y_pred, name)

    def check_targets(self, y_true, n_outputs, dtype=np.float64, *, name="y_true"):
        y = as_array(name, y_true)
        if y.ndim == 2:
            y = super().check_targets(y, n_outputs, dtype, name=name)
            _check_distributions(y, name)
            return y
        if y.ndim != 1:
            raise ValueError(
                f"{name} must be class indices of shape (n_samples,) or one-hot rows of shape "
                f"(n_samples, {n_outputs}). Received: {name} of shape {y.shape}"
            )
        check_dtype(dtype)
        return check_labels(y, check_positive_int("n_outputs", n_outputs), name=name)

    def per_sample(self, y_pred, y_true):
        if y_true.ndim == 1:  # only the true class's probabilities count: clip just those
            p = np.clip(y_pred[np.arange(len(y_pred)), y_true], EPSILON, 1 - EPSILON)
            return -np.log(p)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -np.sum(y_true * np.log(p), axis=1)

    def gradient(self, y_pred, y_true):
        n = len(y_pred)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        if y_true.ndim == 1:
            grad = np.zeros_like(p)
            rows = np.arange(n)
            grad[rows, y_true] = -1.0 / (n * p[rows, y_true])
            return grad
        return -y_true / p / n


def _check_distributions(y: np.ndarray, name: str) -> None:
    """Refuse rows of targets that are not probability distributions (one-hot or soft labels).

    The fused gradient $(s - y)/k$ of Softmax with cross-entropy holds only for rows that sum
    to 1; a row that does not would get a gradient of no loss at all.
    """
    negative = np.flatnonzero((y < 0).any(axis=1))
    # float32 one-hot rows sum to 1 exactly; soft labels may be off by a few roundings
    tolerance = max(1e-6, 8 * y.shape[1] * float(np.finfo(y.dtype).eps))
    sums = y.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > tolerance)
    if len(negative) or len(off):
        row = int(negative[0] if len(negative) else off[0])
        raise ValueError(
            f"{name} given as rows (one-hot or soft labels) must hold non-negative numbers "
            f"that sum to 1 in every row, as a probability distribution over the classes. "
            f"Received: {name} row {row} = {_short_row(y[row])}, summing to {sums[row]:g}"
        )


def _short_row(row: np.ndarray) -> str:
    values = row[:8].tolist()
    return str(values)[:-1] + (", ...]" if len(row) > 8 else "]")


def check_labels(labels: np.ndarray, n_classes: int, *, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int64 array after checking they are classes in ``[0, n_classes)``.

    Args:
        labels: Class indices, integers or whole floats.
        n_classes: Number of classes.
        name: What to call the labels in error messages (``"y_val"``, say).

    Raises:
        TypeError: If the labels are not numbers.
        ValueError: If the labels are empty, a label is not a whole number, or one is outside
            ``[0, n_classes)``; the message quotes the labels as given (``1e+20``, not what a
            cast would make of it).
    """
    y = as_array(name, labels)
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold integer class labels. Received: {name} with dtype {y.dtype}"
        )
    if y.size == 0:
        raise ValueError(f"{name} must not be empty. Received: {name} of shape {y.shape}")
    if y.dtype.kind == "f":
        if not (np.isfinite(y).all() and (y == np.round(y)).all()):
            raise ValueError(
                f"{name} must hold class labels that are whole numbers. Received: {name} with "
                f"values such as "
                f"{y[~np.isfinite(y) | (y != np.round(y))][:5].tolist()}"
            )
    # The range is checked before the cast to int64, which would wrap 1e20 or 2**64 - 1 around.
    low, high = y.min(), y.max()
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"{name} must hold class labels in [0, {n_classes}) for {n_classes} outputs. "
            f"Received: {name} with values from {_label(low)} to {_label(high)}"
        )
    return y.astype(np.int64, copy=False)


def _label(value) -> str:
    """A label as the user wrote it: ``3`` for 3.0, ``1e+20`` for 1e20, ``-1`` for -1."""
    if isinstance(value, np.floating) and abs(value) < 2**53:
        return str(int(value))
    return repr(value.item())


def softmax_crossentropy_gradient(
    probabilities: np.ndarray, y_true: np.ndarray, *, check_input: bool = True
) -> np.ndarray:
    r"""Gradient of categorical cross-entropy with respect to the *inputs* of a Softmax.

    Chaining the Softmax Jacobian with the cross-entropy gradient collapses to

    $$
    \frac{\partial C}{\partial z_{ij}} = \frac{s_{ij} - y_{ij}}{k}
    $$

    for $k$ samples, with $z_{ij}$ the Softmax's inputs and $s_{ij}$ its outputs (softmax
    output minus one-hot labels, divided by the batch size): cheaper and more exact than the two
    backward passes one after the other. [Model][mynn.model.Model] uses it whenever a Softmax
    output meets a [CategoricalCrossentropy][mynn.loss.CategoricalCrossentropy] loss.

    Args:
        probabilities: Softmax outputs, shape ``(n_samples, n_classes)``.
        y_true: Class indices ``(n_samples,)`` or one-hot rows ``(n_samples, n_classes)``.
        check_input: Check ``probabilities`` and check and normalize ``y_true`` first.
            ``False`` **skips every check**:
            ``probabilities`` must then be a float array and ``y_true`` what
            [check_targets][mynn.loss.Loss.check_targets] returns, of the same length, as in
            [Model.backward][mynn.model.Model.backward], whose targets were checked once for the
            whole training run.

    Returns:
        Array of the shape of ``probabilities``.

    Examples:
        >>> import numpy as np
        >>> from mynn.loss import softmax_crossentropy_gradient
        >>> softmax_crossentropy_gradient(np.array([[0.5, 0.5]]), np.array([1])).tolist()
        [[0.5, -0.5]]
    """
    if check_input:
        probabilities = as_float_array("probabilities", probabilities, ndim=2)
        y_true = CategoricalCrossentropy().check_targets(
            y_true, probabilities.shape[1], probabilities.dtype
        )
        check_same_length("probabilities", probabilities, "y_true", y_true)
    n = len(probabilities)
    if y_true.ndim == 1:
        grad = probabilities.copy()
        grad[np.arange(n), y_true] -= 1
    else:
        grad = probabilities - y_true
    grad /= n
    return grad
