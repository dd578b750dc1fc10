"""Training diagnostics: the signals practitioners check when a network will not learn.

[diagnose][mynn.diagnostics.diagnose] looks at a model and a batch and returns a
[Diagnosis][mynn.diagnostics.Diagnosis]: a list of [Signal][mynn.diagnostics.Signal]s, each a
measured value, whether it looks healthy, and a plain-language reading of what it means and what
to try. Nothing is printed unless you ask (``print(diagnosis.table())``), and the model you pass
is never changed: anything that needs a training step runs on a copy.
[record_diagnostics][mynn.diagnostics.record_diagnostics] measures them after every epoch of
[Model.train][mynn.model.Model.train].

The functions take a [Model][mynn.model.Model] and use only its public methods. This module has
no top-level import of ``mynn.model`` (``model.py`` imports it, for ``train(diagnostics=True)``),
so their ``model`` arguments are typed in the docstrings rather than in the signatures.
"""

from __future__ import annotations

import copy
import math
import numbers
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    as_array,
    as_float_array,
    check_number,
    check_positive_int,
    check_same_length,
)
from .activations import ReLU, Sigmoid, Softmax, Tanh
from .layers import Dense, Dropout
from .loss import EPSILON, BinaryCrossentropy, CategoricalCrossentropy

__all__ = [
    "Signal",
    "Diagnosis",
    "diagnose",
    "expected_initial_loss",
    "overfit_one_batch",
    "record_diagnostics",
]

DEAD_RELU_LIMIT = 0.5
"""Share of ReLU units that never fire above which a layer is reported as dying."""
SATURATION_LIMIT = 0.5
"""Share of saturated sigmoid/tanh outputs above which a layer is reported as saturated.

For a Sigmoid that ends a model trained with binary cross-entropy the share counts only the
outputs beyond the loss's clip $[10^{-7}, 1 - 10^{-7}]$ (see
[diagnose][mynn.diagnostics.diagnose]).
"""
UPDATE_RATIO_RANGE = (1e-5, 0.5)
"""Healthy range of one step's update size relative to the weights' size."""
UNSCALED_INPUTS = 10.0
"""Inputs larger than this in absolute value are named first by a high initial loss's reading."""
TABLE_WIDTH = 79
"""The longest line of [Diagnosis.table][mynn.diagnostics.Diagnosis.table], in characters."""


@dataclass(frozen=True)
class Signal:
    """One measured signal.

    Attributes:
        name: What was measured (``"initial_loss"``, ``"dead_relu"``, ``"update_ratio"``,
            ``"gradient_norm"``, ``"saturation"``, ``"symmetry"``).
        layer: Index of the layer in ``model.layers`` it concerns, or ``None`` for the model.
        value: The measured number.
        ok: Whether the value is in its healthy range.
        message: A plain-language reading, with a suggestion when it is not ok.
    """

    name: str
    layer: int | None
    value: float
    ok: bool
    message: str

    def __post_init__(self) -> None:
        for attribute in ("name", "message"):
            if not isinstance(getattr(self, attribute), str):
                raise TypeError(
                    f"{attribute} must be a str. Received: {attribute}={getattr(self, attribute)!r}"
                )
        if self.layer is not None and (
            isinstance(self.layer, bool) or not isinstance(self.layer, numbers.Integral)
        ):
            raise TypeError(
                f"layer must be a layer index (int) or None. Received: layer={self.layer!r}"
            )
        if isinstance(self.value, bool) or not isinstance(self.value, numbers.Real):
            raise TypeError(f"value must be a real number. Received: value={self.value!r}")
        if not isinstance(self.ok, (bool, np.bool_)):
            raise TypeError(f"ok must be True or False. Received: ok={self.ok!r}")


@dataclass
class Diagnosis:
    """The signals of one [diagnose][mynn.diagnostics.diagnose] call."""

    signals: list[Signal] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.signals, list) or not all(
            isinstance(signal, Signal) for signal in self.signals
        ):
            raise TypeError(
                f"signals must be a list of Signal objects. Received: signals={self.signals!r}"
            )

    @property
    def ok(self) -> bool:
        """True when every signal is healthy."""
        return all(signal.ok for signal in self.signals)

    @property
    def problems(self) -> list[Signal]:
        """The signals that are not healthy."""
        return [signal for signal in self.signals if not signal.ok]

    def get(self, name: str, layer: int | None = None) -> Signal:
        """The signal called ``name`` (for ``layer``, when given)."""
        for signal in self.signals:
            if signal.name == name and (layer is None or signal.layer == layer):
                return signal
        raise KeyError(f"no signal {name!r}" + ("" if layer is None else f" for layer {layer}"))

    def to_dict(self) -> dict[str, float]:
        """``{"name" or "name[layer]": value}`` for logging or a history."""
        return {
            (s.name if s.layer is None else f"{s.name}[{s.layer}]"): s.value for s in self.signals
        }

    def table(self) -> str:
        """The signals as a text table, one per signal.

        For the signals [diagnose][mynn.diagnostics.diagnose] makes, no line is longer than 79
        characters (an 80-column terminal, and the documentation's column): a long reading
        continues on the next line, in its column. A signal made by hand with a long name or a
        long unbroken word can make a line longer.
        """
        rows = [("signal", "layer", "value", "", "reading")]
        for s in self.signals:
            layer = "-" if s.layer is None else str(s.layer)
            rows.append((s.name, layer, f"{s.value:.4g}", "ok" if s.ok else "!!", s.message))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        indent = sum(widths) + 2 * len(widths)  # where the reading column starts
        lines = []
        for row in rows:
            first, *more = textwrap.wrap(
                row[4], max(TABLE_WIDTH - indent, 20), break_long_words=False
            ) or [""]
            cells = "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths))
            lines.append(cells + "  " + first)
            lines += [" " * indent + line for line in more]
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self) -> str:
        return self.table()


def expected_initial_loss(model) -> float | None:
    r"""The loss an untrained classifier should start near, or ``None`` when there is none.

    A network that knows nothing yet spreads its probability evenly: for a Softmax over $m$
    classes each class gets $1/m$ and the cross-entropy is $-\log(1/m) = \log m$ (natural log);
    for a Sigmoid output with binary cross-entropy it is $\log 2$. A first loss far above it
    means the scores are too large: weights too large for the inputs, or inputs that are not
    scaled (pixels from 0 to 255, say), which gives the same symptom with glorot weights.

    Examples:
        >>> from mynn.model import Model
        >>> from mynn.layers import Dense
        >>> from mynn.activations import Softmax
        >>> from mynn.loss import CategoricalCrossentropy
        >>> model = Model([Dense(4, 10), Softmax()])
        >>> model.set_loss(CategoricalCrossentropy())
        >>> round(expected_initial_loss(model), 4)
        2.3026
    """
    _check_model(model)
    if not model.layers:
        return None
    last = model.layers[-1]
    if isinstance(model.loss, CategoricalCrossentropy) and isinstance(last, Softmax):
        return math.log(model.n_outputs)
    if isinstance(model.loss, BinaryCrossentropy) and isinstance(last, Sigmoid):
        return math.log(2.0)
    return None


def diagnose(model, X: np.ndarray, y: np.ndarray | None = None) -> Diagnosis:
    """Measure the health signals of ``model`` on the batch ``(X, y)``.

    Without ``y`` only the forward signals are measured (dead ReLUs, saturation, symmetry).
    With ``y`` (and a loss set), also the loss against its expected initial value (for a
    Softmax with categorical cross-entropy or a Sigmoid with binary cross-entropy, see
    [expected_initial_loss][mynn.diagnostics.expected_initial_loss]), each Dense layer's
    gradient norm and, with an optimizer set, the ratio of one step's update to the weights,
    measured on a copy of the model so the original is not changed.

    What the signals measure, and what their readings say:

    - ``symmetry``: the largest spread, over a Dense layer's inputs, of the weights across its
      units; 0 means every unit has the same weights (not ok). Identical units stay identical
      as long as they get identical gradients: when their biases and their outgoing weights
      (the next Dense layer's rows for them) are identical too, with no Dropout in between (a
      constant initialization everywhere), or when their weights get no gradient at all (dead
      ReLUs after them, or inputs that are all 0). The reading says which case it sees;
      otherwise each unit usually gets its own gradient and training pulls them apart, slowly
      at first (see the example).
      (Outgoing weights that differ by the same constant for every class of a Softmax give
      identical gradients too, a case the reading does not tell apart.) Weights or biases
      that hold inf or NaN give the value NaN and a reading of their own.
    - ``saturation``: the share of Sigmoid outputs below 0.01 or above 0.99 (Tanh: beyond
      +-0.99), where the derivative almost vanishes. A Sigmoid that ends the model under
      binary cross-entropy is measured differently: there a saturated output is what a trained
      classifier gives, and the gradient at the Sigmoid's input is $(p - y)/(km)$ for $k$
      samples and $m$ outputs, which does not vanish on a wrong prediction while $p$ stays
      inside the loss's clip $[10^{-7}, 1 - 10^{-7}]$. For that layer the share counts the
      outputs beyond the clip, where a wrong answer's gradient does shrink (see the example).
    - ``initial_loss``: the loss against 1.5 times the expected one plus 0.1. Above it the
      scores are too large, from inputs that are not scaled or from weights too large for the
      inputs; the reading names the inputs first when they reach more than
      [UNSCALED_INPUTS][mynn.diagnostics.UNSCALED_INPUTS] (10) in size, the weights otherwise.
      A NaN or infinite loss has a reading of its own.
    - ``gradient_norm``: not ok when the norm is 0 (no gradient reaches the layer), and when
      it is NaN or infinite, with a reading of its own: the layer (this or an earlier one)
      whose weights hold inf or NaN, or else a gradient that overflowed.
    - ``update_ratio``: one step's change of a Dense layer's weights over their size, healthy
      in [UPDATE_RATIO_RANGE][mynn.diagnostics.UPDATE_RATIO_RANGE].

    Args:
        model (mynn.model.Model): A [Model][mynn.model.Model].
        X: A batch of inputs, ``(n_samples, n_inputs)``; a few hundred samples is plenty.
        y: The batch's targets, optional.

    Returns:
        A [Diagnosis][mynn.diagnostics.Diagnosis].

    Examples:
        >>> import numpy as np
        >>> from mynn.model import Model
        >>> from mynn.layers import Dense
        >>> from mynn.activations import ReLU, Softmax
        >>> from mynn.loss import CategoricalCrossentropy
        >>> from mynn.optimizers import Adam
        >>> from mynn.datasets import spiral_classification
        >>> X, y = spiral_classification(100, 3, rng=0)
        >>> model = Model([Dense(2, 32, rng=0), ReLU(), Dense(32, 3, rng=1), Softmax()])
        >>> model.set_loss(CategoricalCrossentropy())
        >>> model.set_optimizer(Adam(learning_rate=0.01))
        >>> diagnosis = diagnose(model, X, y)
        >>> diagnosis.ok
        True
        >>> sorted({signal.name for signal in diagnosis.signals})
        ['dead_relu', 'gradient_norm', 'initial_loss', 'symmetry', 'update_ratio']

        Identical first-layer units come apart when the next layer's weights differ:

        >>> from mynn.activations import Tanh
        >>> from mynn.optimizers import SGD
        >>> twins = Model([Dense(2, 4, rng=0), Tanh(), Dense(4, 3, rng=1), Softmax()])
        >>> twins.layers[0].weights[:] = 0.5
        >>> twins.set_loss(CategoricalCrossentropy())
        >>> twins.set_optimizer(SGD(learning_rate=0.5))
        >>> diagnose(twins, X).get("symmetry", 0).ok
        False
        >>> _ = twins.train(X, y, epochs=5, verbose=0)
        >>> spread = float(np.ptp(twins.layers[0].weights, axis=1).max())
        >>> assert spread > 1e-3, spread  # no longer identical

        A confident, right binary classifier has every output saturated (0.0025 and 0.9975)
        and is healthy: with the labels flipped, its gradient does not vanish:

        >>> from mynn.activations import Sigmoid
        >>> from mynn.loss import BinaryCrossentropy
        >>> sure = Model([Dense(1, 1, rng=0), Sigmoid()])
        >>> sure.layers[0].weights[:], sure.layers[0].biases[:] = 6.0, 0.0
        >>> sure.set_loss(BinaryCrossentropy())
        >>> X_two = np.array([[-1.0], [1.0]])
        >>> [round(p, 4) for p in sure.forward(X_two).ravel().tolist()]
        [0.0025, 0.9975]
        >>> right = diagnose(sure, X_two, np.array([[0.0], [1.0]]))
        >>> right.get("saturation").ok, round(right.get("initial_loss").value, 4)
        (True, 0.0025)
        >>> wrong = diagnose(sure, X_two, np.array([[1.0], [0.0]]))
        >>> round(wrong.get("gradient_norm", 0).value, 4)  # not small
        0.9975

        With a weight of 20 the outputs pass the loss's clip, and the gradient of the same
        wrong answers shrinks to 0.0206:

        >>> sure.layers[0].weights[:] = 20.0
        >>> wrong = diagnose(sure, X_two, np.array([[1.0], [0.0]]))
        >>> wrong.get("saturation").ok, round(wrong.get("gradient_norm", 0).value, 4)
        (False, 0.0206)
    """
    _check_model(model)
    X = model.prepare_inputs(X)
    diagnosis = Diagnosis()
    probe = copy.deepcopy(model)
    # Overflow and NaN are what the signals report: numpy's warnings would only repeat it.
    with np.errstate(all="ignore"):
        output = probe.forward(X)
    _forward_signals(probe, diagnosis)
    if y is None or probe.loss is None:
        return diagnosis

    y = probe.loss.check_targets(y, probe.n_outputs, probe.dtype, name="y")
    check_same_length("X", X, "y", y)
    with np.errstate(all="ignore"):
        loss = float(np.mean(probe.loss.per_sample(output, y)))
    expected = expected_initial_loss(probe)
    if expected is not None:
        diagnosis.signals.append(_initial_loss(probe, loss, expected, X))

    with np.errstate(all="ignore"):
        probe.backward(output, y)
    for index, layer in enumerate(probe.layers):
        if isinstance(layer, Dense):
            with np.errstate(all="ignore"):
                norm = float(np.linalg.norm(layer.dweights))
            ok = norm > 0.0 and math.isfinite(norm)
            message = f"|dW| = {norm:.3g}"
            if not math.isfinite(norm):
                message += ": " + _not_finite(probe, index, X)
            elif not ok:
                message += (
                    ": no gradient reaches this layer; check for all-zero weights or dead units"
                )
            diagnosis.signals.append(Signal("gradient_norm", index, norm, ok, message))

    if probe.optimizer is not None:
        before = [
            (index, layer.weights.copy())
            for index, layer in enumerate(probe.layers)
            if isinstance(layer, Dense)
        ]
        with np.errstate(all="ignore"):
            probe.optimizer.step(probe.parameters())
        low, high = UPDATE_RATIO_RANGE
        for index, old in before:
            with np.errstate(all="ignore"):
                size = float(np.linalg.norm(old))
                change = float(np.linalg.norm(probe.layers[index].weights - old))
                ratio = change / size if size > 0 else (math.inf if change > 0 else 0.0)
            if not math.isfinite(ratio) and size > 0:
                message = (
                    f"one step changes the weights by {ratio:.2g} of their size: the step is "
                    "not finite, because the weights or the gradient are not (see gradient_norm)"
                )
            elif size == 0:
                message = "the weights are all zero, so no ratio exists; initialize them randomly"
            elif ratio > high:
                message = (
                    f"one step changes the weights by {ratio:.2g} of their size: the learning "
                    "rate is too high, expect the loss to jump or diverge"
                )
            elif ratio < low:
                message = (
                    f"one step changes the weights by {ratio:.2g} of their size: the learning "
                    "rate is too low, training will crawl"
                )
            else:
                message = f"update/weight ratio {ratio:.2g} (1e-3 to 1e-1 is typical)"
            ok = size > 0 and low <= ratio <= high
            diagnosis.signals.append(Signal("update_ratio", index, ratio, ok, message))
    return diagnosis


def _initial_loss(model, loss: float, expected: float, X: np.ndarray) -> Signal:
    """The loss against the one an untrained classifier should start near, and why it is not."""
    ok = loss <= 1.5 * expected + 0.1
    message = f"loss {loss:.3g} against {expected:.3g} expected before training"
    largest = float(np.abs(X).max())
    if not math.isfinite(loss):
        message += (
            ": the loss is not finite, so the outputs are not (weights or inputs that hold inf "
            "or NaN, or scores that overflowed); see gradient_norm"
        )
    elif not ok and largest > UNSCALED_INPUTS:
        message += (
            ": outputs are confidently wrong, the scores are too large. The inputs are not "
            f"scaled (they reach {largest:.3g} in size): scale them to about unit size (with "
            "standardize); or the initial weights are too large (use glorot or he "
            "initialization)"
        )
    elif not ok:
        message += (
            ": outputs are confidently wrong, the scores are too large. With inputs of at most "
            f"{largest:.3g} in size, the initial weights are too large: use glorot or he "
            "initialization"
        )
    return Signal("initial_loss", None, loss, ok, message)


def _not_finite(model, index: int, X: np.ndarray) -> str:
    """Why the gradient of Dense layer ``index`` is NaN or infinite, as far as can be seen."""
    for earlier, layer in enumerate(model.layers[: index + 1]):
        if isinstance(layer, Dense) and not (
            np.isfinite(layer.weights).all() and np.isfinite(layer.biases).all()
        ):
            return (
                f"the gradient is not finite because layer {earlier}'s weights or biases hold "
                "inf or NaN; start again from finite weights (a learning rate too high can "
                "blow them up)"
            )
    return (
        "the gradient is not finite: it overflowed on the way back, with scores or inputs "
        f"too large (these inputs reach {float(np.abs(X).max()):.3g} in size); scale the "
        "inputs and use smaller initial weights"
    )


def _symmetry(model, index: int, layer: Dense) -> Signal:
    """Whether the units of Dense layer ``index`` differ, and if not, whether they will."""
    if not (np.isfinite(layer.weights).all() and np.isfinite(layer.biases).all()):
        return Signal(
            "symmetry",
            index,
            math.nan,
            False,
            "the weights or biases hold inf or NaN; start again from finite weights (a "
            "learning rate too high can blow them up)",
        )
    spread = float(np.ptp(layer.weights, axis=1).max()) if layer.n_neurons > 1 else 1.0
    if spread > 0.0:
        return Signal("symmetry", index, spread, True, "units differ")
    # Identical units get identical gradients only if everything else about them is the same
    # too: their biases, and the weights that carry their outputs to the next Dense layer,
    # with no Dropout (whose random masks differ from unit to unit) in between.
    after = model.layers[index + 1 :]
    following = next((i for i, other in enumerate(after) if isinstance(other, Dense)), None)
    stay = (
        np.ptp(layer.biases) == 0
        and following is not None
        and not any(isinstance(other, Dropout) for other in after[:following])
        and float(np.ptp(after[following].weights, axis=0).max()) == 0
    )
    # Their weights get no gradient at all when the layer's inputs are all 0, or when the
    # ReLU after them never fires (its derivative is 0 there).
    no_inputs = layer.inputs is not None and not layer.inputs.any()
    silent = (
        bool(after)
        and isinstance(after[0], ReLU)
        and after[0].output is not None
        and not (after[0].output > 0).any()
    )
    if stay:
        message = (
            f"all {layer.n_neurons} units have identical weights, biases and outgoing weights, "
            "so they get identical gradients and stay identical; initialize with random "
            "weights (glorot or he), not a constant"
        )
    elif no_inputs:
        message = (
            f"all {layer.n_neurons} units have identical weights, and the layer's inputs are "
            "all 0 on this batch, so the weights get no gradient and stay as they are (see "
            "gradient_norm); initialize with random weights (glorot or he), not a constant"
        )
    elif silent:
        message = (
            f"all {layer.n_neurons} units have identical weights, and the ReLU after them "
            "never fires on this batch, so they get no gradient and stay as they are (see "
            "dead_relu); initialize with random weights (he), not a constant"
        )
    else:
        why = (
            "they are the model's outputs, which their targets pull apart"
            if following is None
            else "their biases or outgoing weights differ, so training pulls them apart"
        )
        message = (
            f"all {layer.n_neurons} units start with identical weights; {why}, slowly at "
            "first; initialize with random weights (glorot or he), not a constant"
        )
    return Signal("symmetry", index, spread, False, message)


def _forward_signals(model, diagnosis: Diagnosis) -> None:
    last = len(model.layers) - 1
    for index, layer in enumerate(model.layers):
        if isinstance(layer, Dense):
            diagnosis.signals.append(_symmetry(model, index, layer))
        elif isinstance(layer, ReLU):
            dead = float(np.mean(~(layer.output > 0).any(axis=0)))
            ok = dead <= DEAD_RELU_LIMIT
            message = f"{dead:.0%} of ReLU units never fired on this batch" + (
                "" if ok else ": lower the learning rate or use he initialization"
            )
            diagnosis.signals.append(Signal("dead_relu", index, dead, ok, message))
        elif (
            isinstance(layer, Sigmoid)
            and index == last
            and isinstance(model.loss, BinaryCrossentropy)
        ):
            # With binary cross-entropy the gradient at the Sigmoid's input is (p - y)/(km), which
            # does not vanish on a wrong answer however saturated p is, as long as p stays
            # inside the loss's clip; beyond it the gradient of a wrong answer shrinks.
            out = layer.output
            share = float(np.mean((out < EPSILON) | (out > 1 - EPSILON)))
            ok = share <= SATURATION_LIMIT
            message = (
                f"{share:.0%} of the output Sigmoid's outputs are beyond the clip of binary "
                "cross-entropy [1e-7, 1 - 1e-7]"
            )
            message += (
                " (a saturated output is fine here: its gradient p - y does not vanish)"
                if ok
                else ": there a wrong answer's gradient shrinks, by the factor d / 1e-7 for an "
                "output d away from 0 or 1; the scores are too large: scale the inputs or use "
                "smaller weights"
            )
            diagnosis.signals.append(Signal("saturation", index, share, ok, message))
        elif isinstance(layer, (Sigmoid, Tanh)):
            out = layer.output
            if isinstance(layer, Sigmoid):
                saturated = (out < 0.01) | (out > 0.99)
            else:
                saturated = np.abs(out) > 0.99
            share = float(np.mean(saturated))
            ok = share <= SATURATION_LIMIT
            message = f"{share:.0%} of {type(layer).__name__} outputs are saturated" + (
                ""
                if ok
                else ": their gradients vanish; use smaller initial weights or scale the inputs"
            )
            diagnosis.signals.append(Signal("saturation", index, share, ok, message))


def overfit_one_batch(
    model, X: np.ndarray, y: np.ndarray, *, steps: int = 300, tolerance: float = 0.05
) -> tuple[bool, float, float]:
    """Sanity check: can a copy of ``model`` drive the loss on one small batch towards zero?

    A network big enough for the task should memorize a dozen samples. When it cannot, look
    for a bug (a wrong gradient, targets in the wrong form) or a learning rate or number of
    steps far off, which more data will not fix; but a network too small for the batch (a
    linear model on points that no straight boundary separates), or samples that contradict
    each other (the same input with two labels, as at the centre of
    [spiral_classification][mynn.datasets.spiral_classification]), fail too without any bug.
    Passing does not prove that the labels are right: a network memorizes wrong labels as
    easily (see the example).

    Args:
        model (mynn.model.Model): A model with loss and optimizer set (it is copied, not changed).
        X: A small batch, e.g. 10-50 samples.
        y: Its targets.
        steps: Optimizer steps on that batch.
        tolerance: The final loss must fall below this, or below a tenth of the first loss.

    Returns:
        ``(passed, first_loss, final_loss)``: ``first_loss`` is the loss before the first step.

    Examples:
        >>> from mynn import Adam, CategoricalCrossentropy, Dense, Model, ReLU, Softmax
        >>> from mynn.datasets import spiral_classification
        >>> X, y = spiral_classification(5, 3, rng=0)
        >>> away = X.any(axis=1)  # leave out the 3 points at the origin, one per class
        >>> X, y = X[away], y[away]
        >>> def passes(layers, labels):
        ...     model = Model(layers + [Softmax()])
        ...     model.set_loss(CategoricalCrossentropy())
        ...     model.set_optimizer(Adam(learning_rate=0.05))
        ...     return overfit_one_batch(model, X, labels)[0]
        >>> def hidden():
        ...     return [Dense(2, 64, rng=0), ReLU(), Dense(64, 3, rng=1)]
        >>> passes(hidden(), y)
        True
        >>> passes(hidden(), (y + 1) % 3)  # every label wrong
        True
        >>> passes([Dense(2, 3, rng=0)], y)  # a linear model: too small, no bug
        False
    """
    _check_model(model)
    steps = check_positive_int("steps", steps)
    tolerance = check_number("tolerance", tolerance, low=0.0, low_open=True)
    probe = copy.deepcopy(model)
    probe.optimizer = copy.deepcopy(model.optimizer)
    history = probe.train(X, y, epochs=steps, batch_size=None, verbose=0, shuffle=False)
    first, final = history["loss"][0], history["loss"][-1]
    return (final < tolerance or final < 0.1 * first), first, final


def _check_model(model) -> None:
    from .model import Model

    if not isinstance(model, Model):
        raise TypeError(f"model must be a mynn Model. Received: model={model!r}")


def record_diagnostics(
    X: np.ndarray, y: np.ndarray, *, n_samples: int = 256
) -> Callable[..., None]:
    """A hook that records the signals of ``diagnose`` after every epoch of training.

    For [Model.train][mynn.model.Model.train]'s ``on_epoch_end``: after each epoch it adds
    ``record["diagnostics"]``, the ``diagnose(model, X_probe, y_probe).to_dict()`` of
    ``n_samples`` rows spread evenly over ``(X, y)`` (all of them when there are fewer), so that
    a set sorted by class still gives every class that has at least
    ``ceil((len(X) - 1) / (n_samples - 1))`` rows (a smaller class can fall between two probed
    rows). ``train(diagnostics=True)``
    attaches it with the training data.

    Args:
        X: Inputs, ``(n_samples, n_inputs)``.
        y: Their targets.
        n_samples: Rows to probe.

    Returns:
        ``hook(model, record)``.

    Examples:
        >>> from mynn import Adam, CategoricalCrossentropy, Dense, Model, ReLU, Softmax, vertical
        >>> X, y = vertical(100, 3, rng=0)
        >>> model = Model([Dense(2, 8, rng=0), ReLU(), Dense(8, 3, rng=1), Softmax()])
        >>> model.set_loss(CategoricalCrossentropy())
        >>> model.set_optimizer(Adam(learning_rate=0.01))
        >>> hook = record_diagnostics(X[::2], y[::2])  # watch half the data, every epoch
        >>> history = model.train(X, y, epochs=2, verbose=0, on_epoch_end=hook)
        >>> len(history["diagnostics"]), "dead_relu[1]" in history["diagnostics"][-1]
        (2, True)
    """
    n_samples = check_positive_int("n_samples", n_samples)
    X = as_float_array("X", X, ndim=2)
    y = as_array("y", y)
    check_same_length("X", X, "y", y)
    rows = np.linspace(0, len(X) - 1, min(len(X), n_samples)).astype(np.int64)
    X_probe, y_probe = X[rows], y[rows]

    def hook(model, record: dict) -> None:
        record["diagnostics"] = diagnose(model, X_probe, y_probe).to_dict()

    return hook
