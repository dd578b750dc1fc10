"""Accuracy metrics: the share of samples the network gets right.

A metric compares *predictions* (what [Model.predict][mynn.model.Model.predict] returns: class
indices, 0/1 labels or values) with the targets. ``calculate`` scores one batch; for a whole
epoch the model calls ``reset``, then ``update`` per batch, then ``result``, which counts every
sample once: a short last batch weighs as much as its samples, not as much as a full batch.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_array,
    as_float_array,
    check_bool,
    check_number,
    check_real,
    check_same_length,
)

__all__ = ["Accuracy", "CategoricalAccuracy", "BinaryAccuracy", "RegressionAccuracy"]


class Accuracy:
    """Base class: subclasses implement ``_correct``, a boolean per answer: per sample for
    ``CategoricalAccuracy``, per output of each sample for the others."""

    def __init__(self) -> None:
        self.correct = 0
        self.count = 0

    def calculate(self, predictions: np.ndarray, y_true: np.ndarray) -> float:
        """Share of correct predictions in one batch, in ``[0, 1]``."""
        correct = self._check_and_compare(predictions, y_true)
        return float(np.mean(correct))

    def reset(self) -> None:
        """Forget the counts accumulated by ``update``."""
        self.correct = 0
        self.count = 0

    def update(self, predictions: np.ndarray, y_true: np.ndarray) -> None:
        """Add one batch to the running counts."""
        correct = self._check_and_compare(predictions, y_true)
        self.correct += int(np.count_nonzero(correct))
        self.count += correct.size

    def result(self) -> float:
        """Accuracy over every sample passed to ``update`` since the last ``reset``."""
        if self.count == 0:
            raise RuntimeError("result() needs at least one update() since the last reset().")
        return self.correct / self.count

    def init(self, y_true: np.ndarray, reinit: bool = False) -> None:
        """Prepare the metric for a training set (used by RegressionAccuracy)."""

    def get_config(self) -> dict:
        return {}

    def _check_and_compare(self, predictions, y_true) -> np.ndarray:
        predictions, y_true = as_array("predictions", predictions), as_array("y_true", y_true)
        for name, array in (("predictions", predictions), ("y_true", y_true)):
            check_real(name, array)
            if array.ndim == 0 or array.size == 0:
                raise ValueError(
                    f"{name} must be an array of one or more samples. "
                    f"Received: {name} of shape {array.shape}"
                )
        check_same_length("predictions", predictions, "y_true", y_true)
        return self._correct(predictions, y_true)

    def _correct(self, predictions: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class CategoricalAccuracy(Accuracy):
    """Share of samples whose predicted class index equals the true class.

    ``y_true`` may be class indices ``(n_samples,)`` or one-hot rows ``(n_samples, n_classes)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.metrics import CategoricalAccuracy
        >>> CategoricalAccuracy().calculate(np.array([0, 2, 1, 1]), np.array([0, 2, 2, 1]))
        0.75
    """

    def _correct(self, predictions, y_true):
        if y_true.ndim == 2:
            y_true = np.argmax(y_true, axis=1)
        if predictions.shape != y_true.shape:
            raise ValueError(
                "predictions must be class indices of the shape of the labels "
                f"{y_true.shape}. Received: predictions of shape {predictions.shape}"
            )
        return predictions == y_true


class BinaryAccuracy(Accuracy):
    """Share of 0/1 predictions equal to the 0/1 targets (every output counts).

    Examples:
        >>> import numpy as np
        >>> from mynn.metrics import BinaryAccuracy
        >>> BinaryAccuracy().calculate(np.array([[1], [0], [1]]), np.array([1, 1, 1]))
        0.6666666666666666
    """

    def _correct(self, predictions, y_true):
        y_true = _same_shape(predictions, y_true)
        return predictions == y_true


class RegressionAccuracy(Accuracy):
    r"""Share of predictions within a tolerance of the target: $|\hat y - y| < \text{precision}$.

    When ``precision`` is not given, ``init(y)`` sets it from the training targets to
    $\operatorname{std}(y)/250$, one tolerance for all outputs. The 250 is not in the seed
    document (its Metrics section is empty): it comes from the code of the seed's repository,
    which follows the book *Neural Networks from Scratch in Python*.
    [Model.train][mynn.model.Model.train] calls ``init(y, reinit=True)`` with its training
    targets at every call, so the tolerance always follows the data being trained on.

    Args:
        precision: Fixed tolerance, positive; ``None`` to derive it from the data.

    Examples:
        >>> import numpy as np
        >>> from mynn.metrics import RegressionAccuracy
        >>> acc = RegressionAccuracy(precision=0.1)
        >>> acc.calculate(np.array([[1.05], [2.5]]), np.array([[1.0], [2.0]]))
        0.5
        >>> derived = RegressionAccuracy()
        >>> derived.init(np.array([1.0, 3.0]))  # std 1
        >>> derived.precision
        0.004
        >>> derived.init(np.ones(3), reinit=True)  # std exactly 0
        >>> float(derived.precision)  # float64's machine epsilon, np.finfo(np.float64).eps
        2.220446049250313e-16
    """

    def __init__(self, precision: float | None = None) -> None:
        super().__init__()
        if precision is not None:
            precision = check_number("precision", precision, low=0.0, low_open=True)
        self.fixed_precision = precision
        self.precision = precision

    def init(self, y_true: np.ndarray, reinit: bool = False) -> None:
        """Set ``precision`` to ``std(y_true) / 250``, unless it is fixed or already set.

        When the standard deviation comes out as exactly 0 it is float64's machine epsilon
        instead, so that exact predictions still count as correct. Equal targets do not always
        give 0: their mean can differ from their value in the last bit, and then the standard
        deviation is that rounding residue, tiny but positive, and exact predictions count as
        well.

        Args:
            y_true: Training targets.
            reinit: Recompute a derived precision even when one is already set.
        """
        reinit = check_bool("reinit", reinit)
        if self.fixed_precision is None and (self.precision is None or reinit):
            y = as_float_array("y_true", y_true)
            self.precision = float(np.std(y)) / 250 or np.finfo(np.float64).eps

    def _correct(self, predictions, y_true):
        if self.precision is None:
            raise RuntimeError(
                "RegressionAccuracy has no precision yet: pass precision= or call init(y) first."
            )
        y_true = _same_shape(predictions, y_true)
        return np.abs(predictions - y_true) < self.precision

    def get_config(self) -> dict:
        return {"precision": self.fixed_precision}


def _same_shape(predictions: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """``y_true`` in the shape of ``predictions`` (a 1-D target becomes one column)."""
    if y_true.ndim == 1 and predictions.ndim == 2 and predictions.shape[1] == 1:
        y_true = y_true[:, None]
    if predictions.shape != y_true.shape:
        raise ValueError(
            f"predictions and y_true must have one shape. Received: predictions of shape "
            f"{predictions.shape}, y_true of shape {y_true.shape}"
        )
    return y_true
