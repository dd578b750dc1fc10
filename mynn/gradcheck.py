r"""Check analytic gradients against central differences.

For a function $F$ that returns one number and an array $U$ it depends on (a parameter, a
layer's inputs, a loss's predictions), the partial derivative with respect to each entry of $U$
in turn is approximated by

$$
\frac{F(U + h\,E) - F(U - h\,E)}{2h},
$$

where $E$ is the array of $U$'s shape that is 1 at that entry and 0 elsewhere. Its
truncation error shrinks like $h^2$ (rounding errors, which grow as $h$ shrinks, set a
floor). The comparison uses the relative error

$$
\text{err} = \frac{\lVert g_{\text{analytic}} - g_{\text{numeric}}\rVert}
{\lVert g_{\text{analytic}}\rVert + \lVert g_{\text{numeric}}\rVert}
$$

(0 when both are zero). In float64 a correct gradient usually gives errors of $10^{-7}$ or less
(about $10^{-10}$ for a Dense layer; more where the function curves sharply: about $10^{-5}$ for
a cross-entropy at a probability of $10^{-4}$). A wrong one gives far more, but not necessarily
near 1: 1 for a flipped sign, 1/3 for a gradient twice too large, and for one flipped entry that
entry's size divided by the length of the whole gradient, 0.02 among 2 500 equal entries and
less for a smaller entry: the more entries are right, the smaller the error. The examples of
[relative_error][mynn.gradcheck.relative_error] show these cases.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ._validation import (
    as_array,
    as_float_array,
    as_generator,
    check_callable,
    check_number,
    check_real,
)
from .layers import Dense, Layer
from .loss import Loss

if TYPE_CHECKING:
    from .model import Model

__all__ = ["gradient_check", "relative_error", "numerical_gradient"]


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Relative error between two gradients: ``|a - n| / (|a| + |n|)`` in the 2-norm.

    Examples:
        >>> import numpy as np
        >>> from mynn.gradcheck import relative_error
        >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
        0.0
        >>> round(relative_error(np.array([1.0]), np.array([-1.0])), 3)  # a flipped sign
        1.0
        >>> doubled = relative_error(np.array([2.0, 4.0]), np.array([1.0, 2.0]))
        >>> round(doubled, 4)  # a gradient twice too large
        0.3333
        >>> right = np.ones(2500)  # 2 500 entries, one of them flipped: 2 / (50 + 50)
        >>> one_wrong = right.copy()
        >>> one_wrong[0] = -1.0
        >>> round(relative_error(one_wrong, right), 4)
        0.02
    """
    analytic, numeric = as_array("analytic", analytic), as_array("numeric", numeric)
    check_real("analytic", analytic)
    check_real("numeric", numeric)
    if analytic.shape != numeric.shape:
        raise ValueError(
            "analytic and numeric must have one shape. Received: analytic of shape "
            f"{analytic.shape}, numeric of shape {numeric.shape}"
        )
    with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf gives a NaN, not a warning
        difference = float(np.linalg.norm(analytic - numeric))
    scale = float(np.linalg.norm(analytic) + np.linalg.norm(numeric))
    return 0.0 if difference == 0.0 else difference / scale


def numerical_gradient(
    function: Callable[[], float], values: np.ndarray, epsilon: float = 1e-6
) -> np.ndarray:
    r"""Central-difference gradient of the scalar ``function()`` with respect to ``values``.

    ``values`` is perturbed in place, one element at a time, and restored.

    Args:
        function: Called with no arguments; returns a real number that depends on ``values``.
        values: A float64 array (changed in place during the call, restored after). A float32
            array is accepted, but it cannot hold an entry plus or minus the default $h$
            exactly (its spacing near 1 is about $1.2 \cdot 10^{-7}$ and doubles at every
            power of 2), so the step taken is not $h$ and the result is off by an amount that
            grows with the entry's magnitude: a few percent up to 16 (2 % at 1, about 5 % from
            just above 1 to 16), about 90 % between 16 and 32 (other errors at the powers of 2
            themselves), and a gradient of exactly 0 above 32, where the entry plus or minus
            $h$ rounds back to the entry. Cast to float64 first, as
            [gradient_check][mynn.gradcheck.gradient_check] does.
        epsilon: The step $h$, positive (not the clipping constant $\epsilon$ of the losses).

    Raises:
        TypeError: If ``function`` is not callable or does not return a real number,
            ``values`` is not a float numpy array, or ``epsilon`` is not a number.
        ValueError: If ``values`` is read-only, empty or not C-contiguous (a transposed or
            sliced view), or ``epsilon`` is not positive.

    Examples:
        >>> import numpy as np
        >>> from mynn.gradcheck import numerical_gradient
        >>> x = np.array([1.0, -2.0])
        >>> np.round(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 6).tolist()
        [2.0, -4.0]
        >>> from mynn.gradcheck import relative_error
        >>> x32 = x.astype(np.float32)  # each entry +- h is rounded to float32
        >>> g32 = numerical_gradient(lambda: float(np.sum(x32.astype(np.float64) ** 2)), x32)
        >>> relative_error(g32, 2 * x) > 0.01  # off by more than 1 %
        True
        >>> t32 = np.array([1.0, 20.0, 40.0], dtype=np.float32)  # the error grows with the entry
        >>> g32 = numerical_gradient(lambda: float(np.sum(t32.astype(np.float64) ** 2)), t32)
        >>> np.round(g32 / (2 * t32.astype(np.float64)), 2).tolist()  # share of the exact 2 t32
        [0.98, 1.91, 0.0]
    """
    check_callable("function", function)
    if not isinstance(values, np.ndarray) or values.dtype.kind != "f":
        raise TypeError(
            "values must be a float numpy array: it is perturbed in place, so the function sees "
            f"the change. Received: values={values!r}"
        )
    if not values.flags.writeable or values.size == 0:
        raise ValueError(
            "values must be a writable, non-empty array: it is perturbed in place. "
            f"Received: values of shape {values.shape}, writable={values.flags.writeable}"
        )
    epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
    if not values.flags.c_contiguous:  # reshape(-1) would copy, and the copy is not what f sees
        raise ValueError(
            "values must be a C-contiguous array (not a transposed or sliced view). "
            f"Received: values with strides {values.strides}"
        )
    gradient = np.zeros_like(values, dtype=np.float64)
    flat_values = values.reshape(-1)
    flat_gradient = gradient.reshape(-1)
    for i in range(flat_values.size):
        original = flat_values[i]
        try:
            flat_values[i] = original + epsilon
            plus = _scalar(function)
            flat_values[i] = original - epsilon
            minus = _scalar(function)
        finally:
            flat_values[i] = original
        flat_gradient[i] = (plus - minus) / (2 * epsilon)
    return gradient


def _scalar(function) -> float:
    result = function()
    if isinstance(result, np.ndarray) and result.size == 1:
        result = result.reshape(()).item()
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, float, np.number)):
        raise TypeError(
            f"function must return a real number. Received: function() returning {result!r}"
        )
    if isinstance(result, np.complexfloating):
        raise TypeError(
            f"function must return a real number. Received: function() returning {result!r}"
        )
    return float(result)


def _to_float64(layer: Layer) -> Layer:
    layer = copy.deepcopy(layer)
    if isinstance(layer, Dense):
        layer.dtype = np.dtype(np.float64)
        layer.weights = layer.weights.astype(np.float64)
        layer.biases = layer.biases.astype(np.float64)
    return layer


def gradient_check(
    target: Layer | Loss | Model,
    inputs: np.ndarray,
    y_true: np.ndarray | None = None,
    *,
    epsilon: float = 1e-6,
    rng: np.random.Generator | int | None = None,
) -> dict[str, float]:
    r"""Compare a component's analytic gradients with central differences, in float64.

    ``target`` may be:

    - a layer or activation: the checked scalar is ``sum(forward(inputs) * V)`` (plus the
      layer's regularization penalty) for a fixed random ``V`` (the $V$ of the Partial
      Derivatives chapter), whose gradient with respect to the output is ``V``;
      ``backward(V)`` must match it;
    - a loss: the checked scalar is ``calculate(inputs, y_true)``;
    - a [Model][mynn.model.Model] with a loss: the mean loss plus regularization of
      ``forward(inputs)`` against ``y_true``, backpropagated by ``Model.backward``.

    The target is deep-copied and cast to float64, so the original is left untouched. Keep
    inputs away from kinks (ReLU at 0, MAE at ``y_pred == y_true``), where no derivative exists,
    and probabilities far enough inside $[10^{-7}, 1 - 10^{-7}]$ that $p \pm h$ stays inside:
    outside it the losses clip, so the loss is flat there while ``backward`` (the gradient of
    the unclipped formula, which keeps pushing) is not, and this intended gradient, not the
    derivative of the clipped loss, fails the check. Near 0 or 1 the logarithm also curves
    sharply: with the default $h = 10^{-6}$, $p = 10^{-5}$ still gives an error of about
    $2 \cdot 10^{-3}$.

    Args:
        target: Layer, activation, loss or model.
        inputs: The input batch (for a loss: the predictions).
        y_true: Targets, for a loss or a model.
        epsilon: Step $h$ of the central differences.
        rng: Source of the projection ``V`` (layers only).

    Returns:
        The relative error of each gradient, in a dict keyed by ``"inputs"`` and by the name
        of each parameter (``"0.weights"`` for a model).

    Raises:
        TypeError: If ``target`` is not a mynn layer, activation, loss or model.
        ValueError: If ``y_true`` is missing for a loss or a model, or an argument is out of
            range.
        RuntimeError: If ``target`` is a model without a loss.

    Examples:
        >>> import numpy as np
        >>> from mynn.layers import Dense
        >>> from mynn.gradcheck import gradient_check
        >>> X = np.random.default_rng(1).normal(size=(4, 3))
        >>> errors = gradient_check(Dense(3, 2, rng=0), X)
        >>> sorted(errors), max(errors.values()) < 1e-7
        (['biases', 'inputs', 'weights'], True)
        >>> from mynn.loss import BinaryCrossentropy, CategoricalCrossentropy
        >>> sharp = np.array([[1e-4, 1 - 1e-4], [0.3, 0.7]])  # log p is steep at 1e-4
        >>> cce = CategoricalCrossentropy()
        >>> 1e-6 < gradient_check(cce, sharp, np.array([0, 0]))["inputs"] < 1e-4
        True
        >>> clipped = np.array([[0.0], [0.5]])  # 0.0 is clipped to 1e-7
        >>> bce = BinaryCrossentropy()
        >>> gradient_check(bce, clipped, np.array([1, 0]))["inputs"] > 0.5  # intended, fails
        True
        >>> near = np.array([[5e-7]])  # inside, but 5e-7 - h is clipped
        >>> gradient_check(bce, near, np.array([1]))["inputs"] > 0.1
        True
        >>> 1e-3 < gradient_check(bce, np.array([[1e-5]]), np.array([1]))["inputs"] < 3e-3
        True
    """
    from .model import Model

    if not isinstance(target, (Model, Loss, Layer)):
        raise TypeError(
            "gradient_check takes a mynn layer, activation, loss or model. "
            f"Received: target={target!r}"
        )
    epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
    x = as_float_array("inputs", inputs, np.float64).copy()
    if isinstance(target, Model):
        return _check_model(target, x, y_true, epsilon)
    if isinstance(target, Loss):
        if y_true is None:
            raise ValueError("gradient_check of a loss needs y_true. Received: y_true=None")
        loss = copy.deepcopy(target)
        analytic = loss.backward(x, y_true)
        numeric = numerical_gradient(lambda: loss.calculate(x, y_true), x, epsilon)
        return {"inputs": relative_error(analytic, numeric)}
    if isinstance(target, Layer):
        layer = _to_float64(target)
        projection = as_generator(rng).standard_normal(layer.forward(x).shape)

        def scalar() -> float:
            return float(np.sum(layer.forward(x) * projection)) + layer.regularization_loss()

        layer.forward(x)
        analytic = layer.backward(projection)  # before the differences move layer.output
        errors = {"inputs": relative_error(analytic, numerical_gradient(scalar, x, epsilon))}
        for name, (value, gradient) in layer.parameters().items():
            errors[name] = relative_error(gradient, numerical_gradient(scalar, value, epsilon))
        return errors


def _check_model(model, x: np.ndarray, y_true, epsilon: float) -> dict[str, float]:
    if model.loss is None:
        raise RuntimeError("gradient_check of a model needs a loss; call set_loss() first.")
    if y_true is None:
        raise ValueError("gradient_check of a model needs y_true. Received: y_true=None")
    checked = copy.copy(model)
    checked.layers = [_to_float64(layer) for layer in model.layers]
    y = checked.loss.check_targets(y_true, checked.n_outputs, np.float64)

    def scalar() -> float:
        output = checked.forward(x)
        return float(np.mean(checked.loss.per_sample(output, y))) + checked.regularization_loss()

    dinputs = checked.backward(checked.forward(x), y)
    errors = {"inputs": relative_error(dinputs, numerical_gradient(scalar, x, epsilon))}
    for name, value, gradient in checked.parameters():
        errors[name] = relative_error(gradient, numerical_gradient(scalar, value, epsilon))
    return errors
