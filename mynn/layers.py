"""Layers: the building blocks a [Model][mynn.model.Model] chains together.

Every layer follows one contract: ``forward(inputs)`` returns the output and
``backward(dvalues)`` takes the gradient of the loss with respect to that output and returns
the gradient with respect to the inputs. Layers with parameters keep each gradient next to its
parameter (``weights``/``dweights``, ``biases``/``dbiases``).

**dtype rule.** A layer with parameters computes in its parameters' dtype: a Dense layer built
with ``dtype=np.float32`` converts inputs of any other real dtype (float64, integers, booleans)
to float32, so its output and every gradient it stores or returns are float32. Layers without
parameters (activations, Dropout) keep the dtype of their input (integers and booleans become
float64). ``backward`` converts ``dvalues`` to the dtype of the layer's last output. Inputs that
are not real numbers (strings, objects, complex numbers) raise ``TypeError``. A
[Model][mynn.model.Model] refuses Dense layers of different dtypes, so a whole model runs in one
dtype, [Model.dtype][mynn.model.Model.dtype].
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_array,
    as_generator,
    check_bool,
    check_dtype,
    check_number,
    check_positive_int,
    check_real,
)

__all__ = ["Layer", "Dense", "Dropout", "INITIALIZERS"]

INITIALIZERS = ("glorot", "he", "small")
"""Names accepted by ``Dense(weight_initializer=...)``."""


class Layer:
    """Base class of layers and activations.

    Subclasses implement ``forward`` and ``backward``. The base class keeps the last input
    (``inputs``), output (``output``) and input gradient (``dinputs``) and raises a clear
    ``RuntimeError`` when ``backward`` is called before ``forward``.

    Attributes:
        inputs: The last array passed to ``forward``, or ``None`` before the first call.
        output: The last array ``forward`` returned, or ``None``.
        dinputs: The last gradient ``backward`` returned, or ``None``.
    """

    def __init__(self) -> None:
        self.inputs: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None
        # where backward writes the parameters' gradients, when a model gave arrays for them
        self._gradient_out: dict[str, np.ndarray] = {}

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Compute the layer's output for a batch of ``inputs``."""
        raise NotImplementedError

    def backward(self, dvalues: np.ndarray) -> np.ndarray:
        """Return the gradient of the loss with respect to the last inputs."""
        raise NotImplementedError

    def parameters(self) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """Trainable parameters as ``{name: (value, gradient)}``; empty for most layers.

        A layer keeps each parameter as its attribute ``name`` and the gradient as ``d<name>``
        (``weights`` and ``dweights``), which is how ``use_buffers`` finds them.
        """
        return {}

    def use_buffers(self, values: dict[str, np.ndarray], gradients: dict[str, np.ndarray]) -> None:
        """Keep the parameters in ``values`` and their gradients in ``gradients`` from now on.

        [Model.train][mynn.model.Model.train] lays every parameter of a model out in one
        array per dtype and hands each layer views into it, of its parameters' shapes and
        holding their current numbers: the attributes ``name`` and ``d<name>`` become those
        views (a gradient not computed yet stays ``None``), and ``backward`` should write into
        ``self._gradient_out[name]`` (``out=``) rather than make new arrays. A layer whose
        ``backward`` makes new arrays still trains correctly, but the model then lays its
        parameters out again at every step. Nothing is checked.
        """
        for name, array in values.items():
            setattr(self, name, array)
            if getattr(self, f"d{name}", None) is not None:
                setattr(self, f"d{name}", gradients[name])
        self._gradient_out = dict(gradients)

    def _out(self, name: str) -> np.ndarray | None:
        """The model's array for the gradient of ``name`` (see ``use_buffers``), or ``None``.

        Only while it has the parameter's dtype: a copy cast to float64 (by gradient_check,
        say) makes new arrays again.
        """
        out = self._gradient_out.get(name)
        return out if out is not None and out.dtype == getattr(self, name).dtype else None

    def regularization_loss(self) -> float:
        """The penalty this layer adds to the loss (0 for layers without regularization)."""
        return 0.0

    def get_config(self) -> dict:
        """Constructor arguments, JSON-serializable, so ``type(self)(**config)`` rebuilds it."""
        return {}

    def _check_backward(self, dvalues: np.ndarray) -> np.ndarray:
        if self.output is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(); "
                "run forward() on a batch first."
            )
        dvalues = as_array("dvalues", dvalues)
        if dvalues.dtype != self.output.dtype:  # the dtype rule: gradients keep the output's
            check_real("dvalues", dvalues)
            dvalues = dvalues.astype(self.output.dtype)
        if dvalues.shape != self.output.shape:
            raise ValueError(
                f"{type(self).__name__}.backward() expects dvalues with the shape of the last "
                f"output {self.output.shape}. Received: dvalues of shape {dvalues.shape}"
            )
        return dvalues

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    r"""A fully connected layer: every output neuron sees every input.

    $$
    \text{output} = X W + b
    $$

    with ``X`` of shape ``(n_samples, n_inputs)``, the weights ``W`` of shape
    ``(n_inputs, n_neurons)`` and the biases ``b`` of shape ``(n_neurons,)``, broadcast over
    the samples. The backward pass computes

    $$
    \begin{aligned}
    \frac{\partial C}{\partial W} &= X^\top G + \lambda_1 \operatorname{sign}(W) + 2\lambda_2 W, \\
    \frac{\partial C}{\partial b} &= \sum_{i} G_{i,:} + \lambda_1^b \operatorname{sign}(b)
    + 2\lambda_2^b b, \\
    \frac{\partial C}{\partial X} &= G W^\top
    \end{aligned}
    $$

    where ``G`` (``dvalues``) is the gradient of the loss $C$ with respect to the output, and
    $\lambda_1, \lambda_2, \lambda_1^b, \lambda_2^b$ are the penalty factors below (the terms
    of a factor that is 0, the default, vanish, leaving $X^\top G$ and $\sum_i G_{i,:}$). $C$
    includes the layer's penalty, which does not depend on the output, so ``G`` carries no
    penalty term.

    Args:
        n_inputs: Number of input features.
        n_neurons: Number of neurons (outputs).
        weight_initializer: ``"glorot"`` (uniform in $\pm\sqrt{6/(n_{in}+n_{out})}$, the
            default), ``"he"`` (normal with std $\sqrt{2/n_{in}}$, for ReLU networks) or
            ``"small"`` (normal with std 0.01, the choice of the code of the seed's repository,
            which follows the book *Neural Networks from Scratch in Python*; the seed document
            itself says nothing about initialization).
        weight_regularizer_l1: L1 penalty factor $\lambda_1$ on the weights: adds
            $\lambda_1\sum|w|$ to the loss.
        weight_regularizer_l2: L2 penalty factor $\lambda_2$ on the weights: adds
            $\lambda_2\sum w^2$.
        bias_regularizer_l1: L1 penalty factor $\lambda_1^b$ on the biases: adds
            $\lambda_1^b\sum|b|$.
        bias_regularizer_l2: L2 penalty factor $\lambda_2^b$ on the biases: adds
            $\lambda_2^b\sum b^2$.
        rng: Source of the initial weights: a ``np.random.Generator``, an int random seed or
            ``None``.
        dtype: ``float64`` (default) or ``float32``; parameters, outputs and gradients keep it:
            inputs of another dtype are converted to it (see the dtype rule in [mynn.layers][]).

    Attributes:
        weights: Array of shape ``(n_inputs, n_neurons)``.
        biases: Array of shape ``(n_neurons,)``, initialized to zeros.
        dweights: Gradient of the loss w.r.t. ``weights`` after ``backward``, same shape.
        dbiases: Gradient of the loss w.r.t. ``biases`` after ``backward``, shape ``(n_neurons,)``.

    Raises:
        ValueError: If a size or penalty is out of range, ``weight_initializer`` is not one of
            [INITIALIZERS][mynn.layers.INITIALIZERS], ``forward`` gets inputs not of shape
            ``(n_samples, n_inputs)``, ``backward`` gets ``dvalues`` not of the last
            output's shape, or ``rng`` is a negative int.
        TypeError: If ``dtype`` is not float32 or float64, a penalty is not a number, ``rng``
            is not a Generator, an int or ``None``, or ``forward`` gets inputs that are not
            real numbers.
        RuntimeError: If ``backward`` is called before ``forward``.

    Examples:
        >>> import numpy as np
        >>> from mynn.layers import Dense
        >>> layer = Dense(3, 2, rng=0)
        >>> X = np.ones((4, 3))
        >>> layer.forward(X).shape
        (4, 2)
        >>> dX = layer.backward(np.ones((4, 2)))
        >>> layer.dweights.shape, layer.dbiases.shape, dX.shape
        ((3, 2), (2,), (4, 3))
        >>> bool(np.allclose(layer.dbiases, [4.0, 4.0]))
        True
        >>> penalized = Dense(3, 2, weight_regularizer_l2=0.5, rng=0)  # lambda_2 = 0.5
        >>> G = np.ones((4, 2))
        >>> _ = penalized.forward(X)
        >>> _ = penalized.backward(G)
        >>> bool(np.allclose(penalized.dweights, X.T @ G + 2 * 0.5 * penalized.weights))
        True
        >>> bool(np.allclose(penalized.dweights, X.T @ G))  # the penalty's term is there
        False
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        weight_initializer: str = "glorot",
        weight_regularizer_l1: float = 0.0,
        weight_regularizer_l2: float = 0.0,
        bias_regularizer_l1: float = 0.0,
        bias_regularizer_l2: float = 0.0,
        rng: np.random.Generator | int | None = None,
        dtype: type | str | np.dtype = np.float64,
    ) -> None:
        super().__init__()
        self.n_inputs = check_positive_int("n_inputs", n_inputs)
        self.n_neurons = check_positive_int("n_neurons", n_neurons)
        if weight_initializer not in INITIALIZERS:
            raise ValueError(
                f"weight_initializer must be one of {INITIALIZERS}. "
                f"Received: weight_initializer={weight_initializer!r}"
            )
        self.weight_initializer = weight_initializer
        self.weight_regularizer_l1 = check_number(
            "weight_regularizer_l1", weight_regularizer_l1, low=0
        )
        self.weight_regularizer_l2 = check_number(
            "weight_regularizer_l2", weight_regularizer_l2, low=0
        )
        self.bias_regularizer_l1 = check_number("bias_regularizer_l1", bias_regularizer_l1, low=0)
        self.bias_regularizer_l2 = check_number("bias_regularizer_l2", bias_regularizer_l2, low=0)
        self.dtype = check_dtype(dtype)
        generator = as_generator(rng)
        shape = (self.n_inputs, self.n_neurons)
        if self.n_inputs * self.n_neurons > np.iinfo(np.intp).max // 8:
            raise ValueError(
                "n_inputs * n_neurons weights are more than an array can hold. "
                f"Received: n_inputs={self.n_inputs}, n_neurons={self.n_neurons}"
            )
        if weight_initializer == "glorot":
            limit = np.sqrt(6.0 / (self.n_inputs + self.n_neurons))
            weights = generator.uniform(-limit, limit, size=shape)
        elif weight_initializer == "he":
            weights = generator.standard_normal(shape) * np.sqrt(2.0 / self.n_inputs)
        else:
            weights = 0.01 * generator.standard_normal(shape)
        self.weights: np.ndarray = weights.astype(self.dtype)
        self.biases: np.ndarray = np.zeros(self.n_neurons, dtype=self.dtype)
        self.dweights: np.ndarray | None = None
        self.dbiases: np.ndarray | None = None

    @property
    def regularized(self) -> bool:
        """Whether any L1/L2 factor is non-zero."""
        return any(
            (
                self.weight_regularizer_l1,
                self.weight_regularizer_l2,
                self.bias_regularizer_l1,
                self.bias_regularizer_l2,
            )
        )

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Return ``inputs @ weights + biases`` of shape ``(n_samples, n_neurons)``.

        Inputs of another dtype than the layer's are converted to it (a copy per call: a model
        converts its data once, before the batches).
        """
        inputs = as_array("inputs", inputs)
        if inputs.dtype != self.dtype:
            check_real("inputs", inputs)
            inputs = inputs.astype(self.dtype)
        if inputs.ndim != 2 or inputs.shape[1] != self.n_inputs:
            raise ValueError(
                f"{self!r} expects inputs of shape (n_samples, {self.n_inputs}). "
                f"Received: inputs of shape {inputs.shape}"
            )
        self.inputs = inputs
        output = inputs @ self.weights
        output += self.biases
        self.output = output
        return output

    # --8<-- [start:dense-backward]
    def backward(self, dvalues: np.ndarray, *, input_gradient: bool = True) -> np.ndarray | None:
        r"""Store ``dweights`` and ``dbiases`` and return the gradient w.r.t. the inputs.

        With ``input_gradient=False`` the product $G W^\top$ is skipped and ``None`` returned:
        [Model.train][mynn.model.Model.train] does this for its first layer, whose inputs are
        the data, so nobody needs their gradient (it would cost as much as the forward pass).
        """
        dvalues = self._check_backward(dvalues)
        # out=None makes new arrays; inside a model the gradients go into its buffer instead
        self.dweights = np.matmul(self.inputs.T, dvalues, out=self._out("weights"))
        self.dbiases = np.sum(dvalues, axis=0, out=self._out("biases"))
        if self.regularized:
            self._add_regularization_gradients()
        self.dinputs = dvalues @ self.weights.T if input_gradient else None
        return self.dinputs
    # --8<-- [end:dense-backward]

    def _add_regularization_gradients(self) -> None:
        # d/dw of l1*sum|w| is l1*sign(w); d/dw of l2*sum(w**2) is 2*l2*w.
        if self.weight_regularizer_l1:
            self.dweights += self.weight_regularizer_l1 * np.sign(self.weights)
        if self.weight_regularizer_l2:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1:
            self.dbiases += self.bias_regularizer_l1 * np.sign(self.biases)
        if self.bias_regularizer_l2:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases

    def regularization_loss(self) -> float:
        r"""The L1/L2 penalty $\lambda_1\sum|w| + \lambda_2\sum w^2$ (and the same for biases)."""
        penalty = 0.0
        if self.weight_regularizer_l1:
            penalty += self.weight_regularizer_l1 * float(np.abs(self.weights).sum())
        if self.weight_regularizer_l2:
            penalty += self.weight_regularizer_l2 * float(np.square(self.weights).sum())
        if self.bias_regularizer_l1:
            penalty += self.bias_regularizer_l1 * float(np.abs(self.biases).sum())
        if self.bias_regularizer_l2:
            penalty += self.bias_regularizer_l2 * float(np.square(self.biases).sum())
        return penalty

    def parameters(self) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """``{"weights": (weights, dweights), "biases": (biases, dbiases)}``."""
        return {"weights": (self.weights, self.dweights), "biases": (self.biases, self.dbiases)}

    def get_config(self) -> dict:
        config = {"n_inputs": self.n_inputs, "n_neurons": self.n_neurons}
        if self.weight_initializer != "glorot":
            config["weight_initializer"] = self.weight_initializer
        for name in (
            "weight_regularizer_l1",
            "weight_regularizer_l2",
            "bias_regularizer_l1",
            "bias_regularizer_l2",
        ):
            if getattr(self, name):
                config[name] = getattr(self, name)
        if self.dtype != np.float64:
            config["dtype"] = self.dtype.name
        return config


class Dropout(Layer):
    r"""Randomly zero a share ``rate`` of the inputs during training (inverted dropout).

    In training each input is kept with probability $1 - \text{rate}$ and the kept values are
    divided by $1 - \text{rate}$, so the expected output equals the input; outside training the
    layer passes its input through unchanged. The backward pass multiplies the gradient by the
    same mask.

    Args:
        rate: Share of inputs to drop, in ``[0, 1)``.
        rng: Source of the dropout masks: a ``np.random.Generator``, an int random seed or ``None``.

    Shape:
        Input and output: ``(n_samples, n_features)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.layers import Dropout
        >>> drop = Dropout(0.5, rng=0)
        >>> out = drop.forward(np.ones((1000, 4)), training=True)
        >>> sorted(set(out.ravel().tolist()))
        [0.0, 2.0]
        >>> bool(np.array_equal(drop.forward(np.ones((2, 2))), np.ones((2, 2))))
        True
    """

    def __init__(self, rate: float, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.rate = check_number("rate", rate, low=0.0, high=1.0, high_open=True)
        self.rng = as_generator(rng)
        self.mask: np.ndarray | None = None

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Apply a fresh dropout mask when ``training``; otherwise return the inputs."""
        check_bool("training", training)
        inputs = as_real_input(inputs)
        self.inputs = inputs
        if not training or self.rate == 0.0:
            self.mask = None
            self.output = inputs
            return inputs
        keep = 1.0 - self.rate
        mask = (self.rng.random(inputs.shape) < keep).astype(inputs.dtype)
        mask /= keep
        self.mask = mask
        self.output = inputs * mask
        return self.output

    def backward(self, dvalues: np.ndarray) -> np.ndarray:
        """Return ``dvalues`` times the last mask (or unchanged after an inference pass)."""
        dvalues = self._check_backward(dvalues)
        self.dinputs = dvalues if self.mask is None else dvalues * self.mask
        return self.dinputs

    def get_config(self) -> dict:
        return {"rate": self.rate}


def as_real_input(inputs) -> np.ndarray:
    """The input of a layer without parameters: floats as they are, integers as float64."""
    inputs = as_array("inputs", inputs)
    if inputs.dtype.kind != "f":
        check_real("inputs", inputs)
        inputs = inputs.astype(np.float64)
    return inputs
