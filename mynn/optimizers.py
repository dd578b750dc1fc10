r"""Optimizers: turn the gradients stored by ``backward`` into parameter updates.

All optimizers share one learning-rate decay (from the code of the seed's repository; the seed
document has none),

$$
\eta_t = \frac{\eta}{1 + \text{decay}\cdot t}
$$

where $t$ counts the steps taken so far (``iterations``) and $\eta_t$ is exposed as
``current_learning_rate``. An optimizer owns its state (momentums, caches, moments): it is
created the first time a parameter is seen and made anew when its shape changes (by
``init_state`` in ``step``; as views into one array per buffer in ``step_flat``); it is kept in
``state`` keyed by the parameter's name, never attached to the layers.

Updates are made in place in preallocated buffers (``out=`` arguments), so a step allocates no
arrays that grow with the number of parameters (the flush below included).

Every rule here works element by element: each number of a parameter is updated from its own
gradient and its own state, with the same scalar factors for all. So the rule gives the same
numbers, bit for bit, whether it runs once per parameter array (``step``, as the chapters
teach) or once over all the parameters laid end to end
([FlatParameters][mynn.optimizers.FlatParameters] and ``step_flat``, what
[Model.train][mynn.model.Model.train] does): the second makes the rule's numpy calls (2 for
plain SGD, 12 for Adam, up to 6 more on a flush step) once per step instead of once per
parameter array.

Every ``FLUSH_EVERY`` steps, values of the state smaller in magnitude than
[flush_threshold][mynn.optimizers.flush_threshold] (a float32 $2^{-102}$, a float64 $2^{-998}$) are
set to zero. Without it, the momentum of a unit whose gradient stays zero (a dead ReLU) shrinks
by $\beta$ at every step until it becomes a *subnormal* number, and stays one (a few steps
of $2^{-149}$ above zero in float32, 0.9 times it rounds back to the same number), and
arithmetic on subnormal numbers is many times slower on many CPUs. The values set to zero are
far too small to change any update as long as ``epsilon`` is far above their square root
($2^{-51} \approx 4 \cdot 10^{-16}$ in float32, $2^{-499} \approx 6 \cdot 10^{-151}$ in
float64), as the default $10^{-7}$ is; with a smaller ``epsilon`` and gradients of about that
square root, a flushed cache does change the steps that follow. (The Performance page of the
site measures the slowdown and the flush.)
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from ._validation import FLOAT_DTYPES, as_array, check_dtype, check_number

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSProp",
    "Adam",
    "FlatParameters",
    "flush_threshold",
    "count_subnormal",
]

#: How often (in steps) an optimizer sets the tiny values of its state to zero.
FLUSH_EVERY = 16


def flush_threshold(dtype: npt.DTypeLike) -> float:
    """Magnitude below which an optimizer sets a value of its state to zero.

    $2^{24}$ times the smallest normal number of ``dtype``: $2^{-102} \\approx 2 \\cdot 10^{-31}$
    in float32, $2^{-998} \\approx 4 \\cdot 10^{-301}$ in float64. A value above it that shrinks
    by a factor of 0.36 or more per step (Adam's 0.9 and 0.999, RMSProp's 0.9, usual momentums)
    is still a normal number ``FLUSH_EVERY`` (16) steps later, when the next flush looks at it.

    Args:
        dtype: float32 or float64 (anything ``np.dtype`` accepts).

    Raises:
        TypeError: If ``dtype`` is not float32 or float64.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import flush_threshold
        >>> flush_threshold(np.float32) == 2.0**-102, flush_threshold("float64") == 2.0**-998
        (True, True)
    """
    return float(np.finfo(check_dtype(dtype)).smallest_normal) * 2.0**24


def count_subnormal(array: np.ndarray) -> int:
    """How many entries of a float array are subnormal: nonzero, below the smallest normal.

    Subnormal numbers fill the gap between zero and the smallest normal number of a dtype
    (about $1.2 \\cdot 10^{-38}$ in float32, $2.2 \\cdot 10^{-308}$ in float64) with less precision,
    and many CPUs do arithmetic on them many times more slowly. A count, unlike a timing, does
    not depend on how fast a CPU handles subnormal numbers, which makes it a portable measure
    (unless the process flushes subnormal numbers itself, as ``torch.set_flush_denormal(True)``
    makes the CPU do). The arrays a training run ends with can still differ between machines in
    their last bits (BLAS kernels round differently), and so can their counts.

    Args:
        array: An array of float32 or float64 numbers.

    Raises:
        TypeError: If ``array`` is not a float32 or float64 array.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import count_subnormal
        >>> count_subnormal(np.array([0.0, 1e-40, -1e-40, 1e-30], dtype=np.float32))
        2
    """
    if not isinstance(array, np.ndarray) or array.dtype not in FLOAT_DTYPES:
        kind = f"dtype {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
        raise TypeError(f"array must be a float32 or float64 numpy array. Received: {kind}")
    magnitude = np.abs(array)
    return int(
        np.count_nonzero((magnitude < np.finfo(array.dtype).smallest_normal) & (magnitude > 0))
    )


Parameter = tuple[str, np.ndarray, np.ndarray]
"""``(name, value, gradient)``: what ``Optimizer.step`` updates. ``value`` is changed in place."""


class FlatParameters:
    """Parameters of one dtype laid end to end in one array, their gradients in another.

    The layers' own ``weights``, ``biases``, ``dweights`` and ``dbiases`` become views into
    ``values`` and ``gradients`` (see [Model.train][mynn.model.Model.train]), so an optimizer
    makes its numpy calls once per buffer instead of once per parameter array, each a pass over
    all the parameters ([Optimizer.step_flat][mynn.optimizers.Optimizer.step_flat]).

    Args:
        parameters: ``(name, value, gradient)`` triples as for
            [Optimizer.step][mynn.optimizers.Optimizer.step], with distinct names and values
            of one dtype; a gradient may be ``None`` (zeros stand in for it until ``backward``
            writes it).

    Raises:
        TypeError: If ``parameters`` or a triple has the wrong form, or the values have more
            than one dtype.
        ValueError: If ``parameters`` is empty, two share a name, a value is read-only, or a
            gradient's shape differs from its value's.

    Attributes:
        names: The parameters' names, in order.
        values: 1-D array holding a copy of every value, in order.
        gradients: 1-D array of the same size holding the gradients.
        value_views: ``{name: view}``, each parameter's piece of ``values`` in its shape.
        gradient_views: ``{name: view}``, the same pieces of ``gradients``.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import FlatParameters
        >>> w, b = np.ones((2, 3)), np.zeros(3)
        >>> flat = FlatParameters([("w", w, None), ("b", b, None)])
        >>> flat.values.shape, flat.value_views["b"].shape
        ((9,), (3,))
        >>> flat.value_views["w"][0, 0] = 5.0  # a view: the buffer changes with it
        >>> flat.values[:4].tolist()
        [5.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        parameters = _check_parameters(parameters, gradients_required=False)
        if not parameters:
            raise ValueError(
                "parameters must hold at least one (name, value, gradient) triple. Received: none"
            )
        dtypes = sorted({value.dtype.name for _, value, _ in parameters})
        if len(dtypes) > 1:
            raise TypeError(
                "the values of parameters laid end to end must all have one dtype. "
                f"Received: values of dtypes {dtypes}"
            )
        self.names = [name for name, _, _ in parameters]
        if len(set(self.names)) < len(self.names):
            repeated = sorted({name for name in self.names if self.names.count(name) > 1})
            raise ValueError(f"parameter names must be distinct. Received: {repeated} repeated")
        sizes = [value.size for _, value, _ in parameters]
        self._pieces = {
            name: (start, start + value.size, value.shape)
            for (name, value, _), start in zip(parameters, itertools.accumulate([0, *sizes]))
        }
        self.values = np.concatenate([value.ravel() for _, value, _ in parameters])
        self.gradients = np.zeros_like(self.values)
        self.value_views = {name: self.view(self.values, name) for name in self.names}
        self.gradient_views = {name: self.view(self.gradients, name) for name in self.names}
        for name, _, gradient in parameters:
            if gradient is not None:
                self.gradient_views[name][...] = gradient

    @property
    def dtype(self) -> np.dtype:
        """The dtype of every parameter in the buffer."""
        return self.values.dtype

    def view(self, flat: np.ndarray, name: str) -> np.ndarray:
        """The piece of ``flat`` (any array of the buffer's size) that belongs to ``name``."""
        start, stop, shape = self._pieces[name]
        return flat[start:stop].reshape(shape)

    def holds(self, name: str, value: np.ndarray, gradient: np.ndarray | None) -> bool:
        """Whether ``value`` and ``gradient`` are still this buffer's views of ``name``.

        Not so after an array was assigned anew, or in a copy of the model (a copied view is
        an array of its own); a gradient not computed yet (``None``) counts as held.
        """
        if value is not self.value_views.get(name) or value.base is not self.values:
            return False
        if gradient is None:
            return True
        return gradient is self.gradient_views[name] and gradient.base is self.gradients


class Optimizer:
    """Base class: learning rate, decay, step counter and per-parameter state.

    Args:
        learning_rate: Initial step size $\\eta$, positive.
        decay: Factor of the $1/t$ decay, non-negative (0 disables it).

    Attributes:
        iterations: Number of steps taken.
        state: ``{parameter name: {buffer name: array}}``. After ``step_flat`` the arrays are
            views into one array per buffer name (which ``step`` updates as well).
    """

    #: Names of the per-parameter buffers a subclass keeps (besides its scratch space).
    buffers: tuple[str, ...] = ()

    def __init__(self, learning_rate: float, decay: float = 0.0) -> None:
        self.learning_rate = check_number("learning_rate", learning_rate, low=0.0, low_open=True)
        self.decay = check_number("decay", decay, low=0.0)
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        # the Model this optimizer trains (a weak reference: Model.set_optimizer), so that a
        # second model cannot silently start from the first one's state
        self._model: weakref.ref | None = None
        # (epsilon, dtype) pairs already checked by _check_step
        self._checked: set[tuple[float, np.dtype]] = set()
        # step_flat's state of each dtype: the FlatParameters' names and one array per buffer
        # name, whose pieces are the arrays in ``state``
        # and the state dicts handed out (``state[name]``, whose arrays are views into them)
        self._flat_state: dict[
            np.dtype, tuple[list[str], dict[str, np.ndarray], dict[str, dict]]
        ] = {}

    @property
    def current_learning_rate(self) -> float:
        r"""The step size used by the next step: $\eta / (1 + \text{decay}\cdot t)$."""
        return self.learning_rate / (1.0 + self.decay * self.iterations)

    def step(self, parameters: Iterable[Parameter]) -> None:
        """Update every ``(name, value, gradient)`` in place, then count one iteration.

        Args:
            parameters: ``(name, value, gradient)`` triples, as
                [Model.parameters][mynn.model.Model.parameters] returns them: ``name`` a str,
                ``value`` a writable float32 or float64 array (changed in place) and
                ``gradient`` an array of real numbers of the same shape.

        Raises:
            TypeError: If ``parameters`` or one of its triples has the wrong form (then no
                parameter is changed).
            ValueError: If a value is read-only or a gradient's shape differs from its value's,
                or if the learning rate of this step is not a positive finite number or
                ``epsilon`` is not a positive normal number of the values' dtype: both are
                checked again at every step, before any parameter changes, since they may have
                been changed after the constructor checked them.
            RuntimeError: If a gradient is ``None`` (``backward`` has not run).
        """
        checked = _check_parameters(parameters)  # all, before any update
        learning_rate = self._check_step({value.dtype for _, value, _ in checked})
        for name, value, gradient in checked:
            state = self.state.get(name)
            if state is None or state["scratch"].shape != value.shape:
                state = self.state[name] = self.init_state(value)
            self._update(value, gradient, state, learning_rate)
            if self._flushing():
                self._flush(state)
        self.iterations += 1

    def step_flat(self, flats: Iterable[FlatParameters] | FlatParameters) -> None:
        """The update of ``step``, made once over each buffer of parameters laid end to end.

        The same numbers as ``step`` with each parameter in turn, bit for bit: every rule
        works element by element (see [mynn.optimizers][]). The state stays in ``state``,
        keyed by parameter name, as views into one array per buffer name; state that ``step``
        or [load_model][mynn.saving.load_model] left there is taken over. The gradients'
        values are not checked (their shapes were, when the buffer was made): ``Model.train``
        checks that ``backward`` wrote every one of them.

        Raises:
            TypeError: If ``flats`` holds anything but
                [FlatParameters][mynn.optimizers.FlatParameters] (then no parameter changes).
            ValueError: If the learning rate of this step or ``epsilon`` is out of range, as
                for ``step`` (then no parameter changes either).

        Examples:
            >>> import numpy as np
            >>> from mynn.optimizers import SGD, FlatParameters
            >>> w, b = np.ones((2, 2)), np.zeros(2)
            >>> flat = FlatParameters([("w", w, np.full((2, 2), 0.5)), ("b", b, np.ones(2))])
            >>> SGD(learning_rate=0.1).step_flat([flat])
            >>> flat.value_views["w"].tolist(), flat.value_views["b"].tolist()
            ([[0.95, 0.95], [0.95, 0.95]], [-0.1, -0.1])
        """
        flats = list(flats) if not isinstance(flats, FlatParameters) else [flats]
        for flat in flats:
            if not isinstance(flat, FlatParameters):
                raise TypeError(
                    "step_flat takes FlatParameters (parameters laid end to end); for "
                    "(name, value, gradient) triples use step(). "
                    f"Received: {type(flat).__name__}"
                )
        learning_rate = self._check_step({flat.dtype for flat in flats})
        for flat in flats:
            state = self._state_of(flat)
            self._update(flat.values, flat.gradients, state, learning_rate)
            if self._flushing():
                self._flush(state)
        self.iterations += 1

    def _check_step(self, dtypes: Iterable[np.dtype]) -> float:
        """The learning rate of this step, after checking it and ``epsilon`` (both may have
        been changed since the constructor checked them: by hand, or by a hook)."""
        learning_rate = self.current_learning_rate
        if not (learning_rate > 0 and math.isfinite(learning_rate)):
            raise ValueError(
                "the learning rate must be a positive finite number at every step. Received: "
                f"current_learning_rate={learning_rate!r} (learning_rate="
                f"{self.learning_rate!r}, decay={self.decay!r}; changed after the optimizer "
                "was made?)"
            )
        epsilon = getattr(self, "epsilon", None)
        if epsilon is not None:
            for dtype in dtypes:
                if (epsilon, dtype) in self._checked:
                    continue
                if not (epsilon > 0 and dtype.type(epsilon) >= np.finfo(dtype).smallest_normal):
                    raise ValueError(
                        f"epsilon must be a positive normal {dtype.name} number, at least "
                        f"{np.finfo(dtype).smallest_normal:.3g}: smaller, it rounds to 0 (or "
                        f"loses its precision) in the {dtype.name} parameters, and a zero "
                        "gradient then divides 0 by 0. "
                        f"Received: epsilon={epsilon!r} for {dtype.name} parameters"
                    )
                self._checked.add((epsilon, dtype))
        return learning_rate

    def _state_of(self, flat: FlatParameters) -> dict[str, np.ndarray]:
        """The state of a whole buffer; made again when ``state`` no longer holds its views."""
        kept = self._flat_state.get(flat.dtype)
        if (
            kept is not None
            and kept[0] == flat.names
            and kept[1]["scratch"].size == flat.values.size
        ):
            names, arrays, handed_out = kept
            scratch = arrays["scratch"]
            # the same dicts, still holding views of these arrays (a copied model's are not)
            if all(
                self.state.get(name) is handed_out[name]
                and handed_out[name]["scratch"].base is scratch
                for name in names
            ):
                return arrays
        arrays = {kind: np.zeros_like(flat.values) for kind in (*self.buffers, "scratch")}
        for name in flat.names:
            earlier = self.state.get(name, {})
            views = {kind: flat.view(array, name) for kind, array in arrays.items()}
            for kind in self.buffers:
                if kind in earlier and earlier[kind].shape == views[kind].shape:
                    views[kind][...] = earlier[kind]
            self.state[name] = views
        handed_out = {name: self.state[name] for name in flat.names}
        self._flat_state[flat.dtype] = (list(flat.names), arrays, handed_out)
        return arrays

    def _flushing(self) -> bool:
        """Whether the step being taken ends with a flush (every ``FLUSH_EVERY``-th step)."""
        return (self.iterations + 1) % FLUSH_EVERY == 0

    def _flush(self, state: dict[str, np.ndarray]) -> None:
        """Set to zero the values of each buffer below ``flush_threshold`` in magnitude.

        Element by element, like the update, so ``step`` and ``step_flat`` stay bit-identical.
        """
        scratch = state["scratch"]
        for kind in self.buffers:
            buffer = state[kind]
            np.abs(buffer, out=scratch)
            # 1 where the value stays, 0 where it goes: no mask array is made
            np.greater_equal(scratch, flush_threshold(buffer.dtype), out=scratch)
            buffer *= scratch

    def init_state(self, value: np.ndarray) -> dict[str, np.ndarray]:
        """Create the buffers of one parameter: zeros of its shape and dtype.

        ``step`` calls it the first time it sees a parameter; [load_model][mynn.saving.load_model]
        calls it to make room for the saved buffers. ``value`` is not checked.
        """
        names = (*self.buffers, "scratch")
        return {name: np.zeros_like(value) for name in names}

    def _update(self, value, gradient, state, learning_rate) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate, "decay": self.decay}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_parameters(parameters, *, gradients_required: bool = True) -> list[Parameter]:
    """The ``(name, value, gradient)`` triples of ``Optimizer.step``, all checked."""
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError(
            "parameters must be an iterable of (name, value, gradient) triples. "
            f"Received: parameters={parameters!r}"
        )
    return [_check_parameter(item, gradients_required) for item in parameters]


def _check_parameter(item, gradient_required: bool) -> tuple[str, np.ndarray, np.ndarray]:
    """One ``(name, value, gradient)`` triple, checked."""
    if not isinstance(item, (tuple, list)) or len(item) != 3:
        raise TypeError(
            f"each parameter must be a (name, value, gradient) triple. Received: {item!r}"
        )
    name, value, gradient = item
    if not isinstance(name, str):
        raise TypeError(f"a parameter's name must be a str. Received: name={name!r}")
    if not isinstance(value, np.ndarray) or value.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"the value of parameter {name!r} must be a float32 or float64 numpy array, which "
            f"the step changes in place. Received: value={value!r}"
        )
    if not value.flags.writeable:
        raise ValueError(
            f"the value of parameter {name!r} must be writable: the step changes it in place. "
            "Received: a read-only array"
        )
    if gradient is None:
        if not gradient_required:
            return name, value, None
        raise RuntimeError(f"parameter {name!r} has no gradient; run backward() before step().")
    if not isinstance(gradient, np.ndarray):
        gradient = as_array("gradient", gradient)
    if gradient.dtype.kind not in "biuf":
        raise TypeError(
            f"the gradient of parameter {name!r} must be an array of real numbers. "
            f"Received: gradient with dtype {gradient.dtype}"
        )
    if gradient.shape != value.shape:
        raise ValueError(
            f"the gradient of parameter {name!r} must have the shape of its value {value.shape}. "
            f"Received: gradient of shape {gradient.shape}"
        )
    return name, value, gradient


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum.

    $$
    v \leftarrow \mu v - \eta_t\,g,\qquad \theta \leftarrow \theta + v
    $$

    With ``momentum`` $\mu = 0$ this is the plain update $\theta \leftarrow \theta - \eta_t g$.

    Args:
        learning_rate: Step size $\eta$ (default 0.01; the code of the seed's repository
            defaults to 1.0, while the seed document gives no value, only that the rate lies
            between 0 and 1).
        decay: $1/t$ decay factor.
        momentum: $\mu$ in ``[0, 1)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import SGD
        >>> w, g = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> SGD(learning_rate=0.1).step([("w", w, g)])
        >>> w.tolist()
        [0.95, 2.05]
    """

    def __init__(self, learning_rate: float = 0.01, decay: float = 0.0, momentum: float = 0.0):
        super().__init__(learning_rate, decay)
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.buffers = ("momentum",) if self.momentum else ()

    def _update(self, value, gradient, state, learning_rate):
        scratch = state["scratch"]
        np.multiply(gradient, learning_rate, out=scratch)
        if self.momentum:
            velocity = state["momentum"]
            velocity *= self.momentum
            velocity -= scratch
            value += velocity
        else:
            value -= scratch

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum}


class Adagrad(Optimizer):
    r"""Adagrad: each parameter's step shrinks with the sum of its squared gradients.

    $$
    \begin{aligned}
    \text{cache} &\leftarrow \text{cache} + g^2, \\
    \theta &\leftarrow \theta - \eta_t\,\frac{g}{\sqrt{\text{cache}} + \epsilon}
    \end{aligned}
    $$

    Args:
        learning_rate: $\eta$ (default 0.01).
        decay: $1/t$ decay factor.
        epsilon: Small positive constant that keeps the division finite. A step refuses one
            below the smallest normal number of the parameters' dtype (about
            $1.2 \cdot 10^{-38}$ in float32), which would round to 0 or lose its precision.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import Adagrad
        >>> w = np.array([1.0])
        >>> Adagrad(learning_rate=0.1, epsilon=0.0 + 1e-12).step([("w", w, np.array([2.0]))])
        >>> round(float(w[0]), 6)
        0.9
    """

    buffers = ("cache",)

    def __init__(self, learning_rate: float = 0.01, decay: float = 0.0, epsilon: float = 1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)

    def _update(self, value, gradient, state, learning_rate):
        cache, scratch = state["cache"], state["scratch"]
        self._accumulate(cache, gradient, scratch)
        np.sqrt(cache, out=scratch)
        scratch += self.epsilon
        np.divide(gradient, scratch, out=scratch)
        scratch *= learning_rate
        value -= scratch

    def _accumulate(self, cache, gradient, scratch):
        """Add this step's squared gradient to the cache: ``c += g**2``."""
        np.multiply(gradient, gradient, out=scratch)
        cache += scratch

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}


class RMSProp(Adagrad):
    r"""RMSProp: like Adagrad, but the cache is a moving average, so steps do not vanish.

    $$
    \begin{aligned}
    \text{cache} &\leftarrow \rho\,\text{cache} + (1-\rho) g^2, \\
    \theta &\leftarrow \theta - \eta_t\,\frac{g}{\sqrt{\text{cache}} + \epsilon}
    \end{aligned}
    $$

    Args:
        learning_rate: $\eta$ (default 0.001).
        decay: $1/t$ decay factor.
        epsilon: Small positive constant that keeps the division finite. A step refuses one
            below the smallest normal number of the parameters' dtype (about
            $1.2 \cdot 10^{-38}$ in float32), which would round to 0 or lose its precision.
        rho: Decay rate $\rho$ of the cache, in ``[0, 1)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import RMSProp
        >>> w = np.array([1.0])
        >>> RMSProp(learning_rate=0.01, rho=0.9).step([("w", w, np.array([3.0]))])
        >>> round(float(w[0]), 4)
        0.9684
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ):
        super().__init__(learning_rate, decay, epsilon)
        self.rho = check_number("rho", rho, low=0.0, high=1.0, high_open=True)

    def _accumulate(self, cache, gradient, scratch):
        """Move the cache towards this step's squared gradient: ``c = rho*c + (1-rho)*g**2``."""
        cache *= self.rho
        np.multiply(gradient, gradient, out=scratch)
        scratch *= 1 - self.rho
        cache += scratch

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho}


class Adam(Optimizer):
    r"""Adam: momentum on the gradient plus an RMSProp-style cache, both bias-corrected.

    With $t$ the steps taken so far (``iterations``, as in the decay), each step updates the
    moving averages $\bar g$ of the gradient and $\overline{g^2}$ of its square (papers call
    them $m$ and $v$; ``state[name]["momentum"]`` and ``state[name]["cache"]``):

    $$
    \begin{aligned}
    \bar g &\leftarrow \beta_1 \bar g + (1-\beta_1) g, \\
    \overline{g^2} &\leftarrow \beta_2 \overline{g^2} + (1-\beta_2) g^2
    \end{aligned}
    $$

    $$
    \theta \leftarrow \theta - \eta_t\,
    \frac{\bar g / (1-\beta_1^{t+1})}{\sqrt{\overline{g^2} / (1-\beta_2^{t+1})} + \epsilon}
    $$

    The corrections undo the pull of the zero initial averages towards 0 in early steps.

    Args:
        learning_rate: $\eta$ (default 0.001; the code of the seed's repository defaults to
            1.0, a far too large step for Adam, whose first step moves every parameter by
            about $\eta$, as the example shows).
        decay: $1/t$ decay factor.
        epsilon: Small positive constant that keeps the division finite. A step refuses one
            below the smallest normal number of the parameters' dtype (about
            $1.2 \cdot 10^{-38}$ in float32), which would round to 0 or lose its precision.
        beta_1: Share $\beta_1$ of $\bar g$ kept at each step, in ``[0, 1)``.
        beta_2: Share $\beta_2$ of $\overline{g^2}$ kept at each step, in ``[0, 1)``.

    Examples:
        >>> import numpy as np
        >>> from mynn.optimizers import Adam
        >>> w = np.array([1.0, 1.0])
        >>> Adam(learning_rate=0.1).step([("w", w, np.array([5.0, -0.01]))])
        >>> np.round(w, 4).tolist()  # the first step moves each weight by about the learning rate
        [0.9, 1.1]
    """

    buffers = ("momentum", "cache")

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ):
        super().__init__(learning_rate, decay)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
        self.beta_1 = check_number("beta_1", beta_1, low=0.0, high=1.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, low=0.0, high=1.0, high_open=True)

    def _update(self, value, gradient, state, learning_rate):
        m, v, scratch = state["momentum"], state["cache"], state["scratch"]
        t = self.iterations + 1
        m *= self.beta_1
        np.multiply(gradient, 1 - self.beta_1, out=scratch)
        m += scratch
        v *= self.beta_2
        np.multiply(gradient, gradient, out=scratch)
        scratch *= 1 - self.beta_2
        v += scratch
        # m_hat / (sqrt(v_hat) + eps) with numerator and denominator times r = sqrt(1 - beta_2**t):
        # r / (1 - beta_1**t) * m / (sqrt(v) + eps * r), the same number with no pass dividing v.
        root = (1 - self.beta_2**t) ** 0.5
        np.sqrt(v, out=scratch)
        scratch += self.epsilon * root
        np.divide(m, scratch, out=scratch)
        scratch *= learning_rate * root / (1 - self.beta_1**t)
        value -= scratch

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
        }
