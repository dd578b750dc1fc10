r"""Activation functions, applied element-wise (Softmax: row-wise) to a layer's output.

Each class documents its function $a(z)$ of an input entry $z$ and the derivative $a'(z)$ its
``backward`` uses. Every
activation also has ``predictions(outputs)``, which turns the network's final outputs into
what [Model.predict][mynn.model.Model.predict] returns.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_number
from .layers import Layer, as_real_input

__all__ = ["Activation", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear"]


class Activation(Layer):
    """Base class of activations: a [Layer][mynn.layers.Layer] without parameters."""

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        inputs = as_real_input(inputs)
        self.inputs = inputs
        self.output = self._function(inputs)
        return self.output

    def backward(self, dvalues: np.ndarray) -> np.ndarray:
        dvalues = self._check_backward(dvalues)
        self.dinputs = self._gradient(dvalues)
        return self.dinputs

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """Turn final outputs into predictions; the identity unless a subclass says otherwise."""
        return outputs

    def _function(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _gradient(self, dvalues: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class ReLU(Activation):
    r"""Rectified linear unit.

    $$
    a(z) = \max(0, z),\qquad a'(z) = \begin{cases}1 & z > 0\\ 0 & z \le 0\end{cases}
    $$

    The derivative at exactly 0 is taken as 0.

    Examples:
        >>> import numpy as np
        >>> from mynn.activations import ReLU
        >>> relu = ReLU()
        >>> relu.forward(np.array([[-2.0, 0.0, 3.0]])).tolist()
        [[0.0, 0.0, 3.0]]
        >>> relu.backward(np.array([[5.0, 5.0, 5.0]])).tolist()
        [[0.0, 0.0, 5.0]]
    """

    def _function(self, x):
        return np.maximum(x, 0)

    def _gradient(self, dvalues):
        return dvalues * (self.inputs > 0)


class LeakyReLU(Activation):
    r"""ReLU with a small slope ``alpha`` for negative inputs instead of 0.

    With ``alpha`` > 0 a unit whose inputs $z$ (the outputs of the layer before it) are negative
    for every sample still gets a gradient from the data, where a ReLU unit gets none (then only
    momentum or a penalty moves the weights that feed it, or a change in the earlier layers
    changes its inputs and can make it fire again);
    ``alpha=0`` is ReLU itself.

    $$
    a(z) = \begin{cases}z & z > 0\\ \alpha z & z \le 0\end{cases},\qquad
    a'(z) = \begin{cases}1 & z > 0\\ \alpha & z \le 0\end{cases}
    $$

    Args:
        alpha: Slope for non-positive inputs, in ``[0, 1)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.activations import LeakyReLU
        >>> leaky = LeakyReLU(alpha=0.1)
        >>> leaky.forward(np.array([[-2.0, 3.0]])).tolist()
        [[-0.2, 3.0]]
        >>> leaky.backward(np.ones((1, 2))).tolist()  # the negative input gets a gradient too
        [[0.1, 1.0]]
    """

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_number("alpha", alpha, low=0.0, high=1.0, high_open=True)

    def _function(self, x):
        return np.where(x > 0, x, self.alpha * x)

    def _gradient(self, dvalues):
        return np.where(self.inputs > 0, dvalues, dvalues * self.alpha)  # stays in dtype

    def get_config(self) -> dict:
        return {"alpha": self.alpha}


class Sigmoid(Activation):
    r"""Logistic sigmoid, squashing any real number into (0, 1).

    $$
    \sigma(z) = \frac{1}{1 + e^{-z}},\qquad \sigma'(z) = \sigma(z)\,(1 - \sigma(z))
    $$

    Computed without overflow: for $z < 0$ it uses the equal form $e^{z} / (1 + e^{z})$, so
    only $e^{-|z|} \le 1$ is ever evaluated. ``predictions`` thresholds at 0.5 and returns
    integer 0/1 labels.

    In floating point the output does reach the ends of the interval: it rounds to exactly 1.0
    from $z \approx 36.7$ in float64 ($16.6$ in float32) and to exactly 0.0 below about $-745$
    ($-104$ in float32), where its derivative is exactly 0. That is why the losses clip
    probabilities before a logarithm.

    Examples:
        >>> import numpy as np
        >>> from mynn.activations import Sigmoid
        >>> s = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
        >>> s.tolist()  # the ends of (0, 1), reached in floating point
        [[0.0, 0.5, 1.0]]
        >>> s = Sigmoid().forward(np.array([[30.0, 40.0, -700.0, -750.0]]))
        >>> (s == 1.0).tolist(), (s == 0.0).tolist()
        ([[False, True, False, False]], [[False, False, False, True]])
        >>> Sigmoid().predictions(np.array([[0.2], [0.7]])).tolist()
        [[0], [1]]
    """

    def _function(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def _gradient(self, dvalues):
        s = self.output
        return dvalues * s * (1 - s)

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """0/1 labels: 1 where the output is above 0.5."""
        return (outputs > 0.5).astype(np.int64)


class Tanh(Activation):
    r"""Hyperbolic tangent, squashing into (-1, 1).

    $$
    a(z) = \tanh(z),\qquad a'(z) = 1 - \tanh^2(z)
    $$

    In floating point the output rounds to exactly $\pm 1.0$ from $|z| \approx 19$ in float64
    and from about 9 in float32 (correctly rounded; numpy builds with a faster float32 tanh reach
    it only at 10), where the derivative is exactly 0.

    Examples:
        >>> import numpy as np
        >>> from mynn.activations import Tanh
        >>> Tanh().forward(np.array([[0.0]])).tolist()
        [[0.0]]
        >>> (Tanh().forward(np.array([[18.0, 20.0, -20.0]])) == [[1.0, 1.0, -1.0]]).tolist()
        [[False, True, True]]
        >>> z32 = np.array([[8.5, 10.5, -10.5]], dtype=np.float32)
        >>> (Tanh().forward(z32) == [[1.0, 1.0, -1.0]]).tolist()
        [[False, True, True]]
    """

    def _function(self, x):
        return np.tanh(x)

    def _gradient(self, dvalues):
        return dvalues * (1 - self.output**2)


class Softmax(Activation):
    r"""Turn each row of scores into probabilities that sum to 1.

    $$
    s_{i,j} = \frac{e^{z_{i,j} - \max_q z_{i,q}}}{\sum_q e^{z_{i,q} - \max_q z_{i,q}}}
    $$

    Subtracting the row maximum changes nothing mathematically and keeps ``exp`` from
    overflowing. The Jacobian of one row is $\partial s_j/\partial z_q = s_j(\delta_{jq} - s_q)$,
    so the backward pass needs no per-sample matrix:

    $$
    \frac{\partial C}{\partial z_{i,q}} = s_{i,q}\Big(G_{i,q} - \sum_j G_{i,j}\,s_{i,j}\Big)
    $$

    with $G$ the incoming ``dvalues``. When Softmax feeds a
    [CategoricalCrossentropy][mynn.loss.CategoricalCrossentropy] loss, the model skips this and
    uses the simpler combined gradient (see
    [softmax_crossentropy_gradient][mynn.loss.softmax_crossentropy_gradient]).
    ``predictions`` returns the index of the largest probability of each row.

    Examples:
        >>> import numpy as np
        >>> from mynn.activations import Softmax
        >>> p = Softmax().forward(np.array([[1.0, 1.0], [1e4, 0.0]]))
        >>> p.tolist()
        [[0.5, 0.5], [1.0, 0.0]]
        >>> Softmax().predictions(p).tolist()
        [0, 0]
    """

    def _function(self, x):
        if x.ndim != 2:
            raise ValueError(
                "Softmax expects scores of shape (n_samples, n_classes). "
                f"Received: inputs of shape {x.shape}"
            )
        shifted = x - x.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        return shifted

    def _gradient(self, dvalues):
        s = self.output
        return s * (dvalues - (dvalues * s).sum(axis=1, keepdims=True))

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """Class indices of shape ``(n_samples,)``: the argmax of each row."""
        return np.argmax(outputs, axis=1)


class Linear(Activation):
    r"""The identity, for regression outputs.

    $$
    a(z) = z,\qquad a'(z) = 1
    $$

    Examples:
        >>> import numpy as np
        >>> from mynn.activations import Linear
        >>> Linear().forward(np.array([[-3.5]])).tolist()
        [[-3.5]]
    """

    def _function(self, x):
        return x

    def _gradient(self, dvalues):
        return dvalues
