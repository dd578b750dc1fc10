"""The Model: a list of layers with a loss, an optimizer and a metric, that trains and predicts.

A training step is the whole of the method: *feed forward* through every layer, measure the
loss, *feed backward* from the loss to the first layer, and let the optimizer update every
parameter from its gradient.
"""

from __future__ import annotations

import inspect
import math
import os
import textwrap
import time
import weakref
from collections.abc import Callable, Iterable

import numpy as np

from ._validation import (
    as_float_array,
    as_generator,
    check_bool,
    check_positive_int,
    check_same_length,
    first_non_finite,
)
from .activations import Activation, Softmax
from .diagnostics import record_diagnostics
from .layers import Dense, Layer
from .loss import CategoricalCrossentropy, Loss, softmax_crossentropy_gradient
from .metrics import Accuracy
from .optimizers import FlatParameters, Optimizer

__all__ = ["Model"]

SUMMARY_WIDTH = 79
"""The longest line of [Model.summary][mynn.model.Model.summary], in characters, unless one
argument of a layer is too long for its column (see ``summary``)."""


class Model:
    """A feed-forward network: layers applied in order, trained by backpropagation.

    Args:
        layers: A list (or other iterable) of layers and activations to add in order, or
            ``None`` (add them later with ``add``). Every Dense layer must have the same
            ``dtype``: the model runs in one dtype.

    Attributes:
        layers: The layers, in order.
        loss: The [Loss][mynn.loss.Loss] set by ``set_loss``.
        optimizer: The [Optimizer][mynn.optimizers.Optimizer] set by ``set_optimizer``.
        accuracy: The [Accuracy][mynn.metrics.Accuracy] set by ``set_accuracy`` (optional).

    Shape:
        Inputs ``(n_samples, n_inputs)``; outputs ``(n_samples, n_outputs)`` where
        ``n_inputs`` is the first Dense layer's and ``n_outputs`` the last one's.

    Examples:
        >>> import numpy as np
        >>> from mynn.model import Model
        >>> from mynn.layers import Dense
        >>> from mynn.activations import Linear
        >>> from mynn.loss import MeanSquaredError
        >>> from mynn.optimizers import SGD
        >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
        >>> y = 3 * X + 0.5
        >>> model = Model([Dense(1, 1, rng=0), Linear()])
        >>> model.set_loss(MeanSquaredError())
        >>> model.set_optimizer(SGD(learning_rate=0.1))
        >>> history = model.train(X, y, epochs=300, verbose=0, rng=0)
        >>> history["loss"][-1] < 1e-6
        True
        >>> np.round(model.predict(np.array([[2.0]])), 3).tolist()
        [[6.5]]
    """

    def __init__(self, layers: Iterable[Layer] | None = None) -> None:
        self.layers: list[Layer] = []
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.accuracy: Accuracy | None = None
        # every parameter in one buffer per dtype, once training starts (_flat_parameters),
        # and the (layer, attribute, view) pairs it handed out
        self._flat: list[FlatParameters] = []
        self._views: list[tuple[Layer, str, np.ndarray]] = []
        # the layers in their places at that layout (to tell a moved or new layer)
        self._laid_out: list[Layer] = []
        if layers is None:
            return
        if isinstance(layers, (Layer, str, bytes)) or not isinstance(layers, Iterable):
            raise TypeError(
                "layers must be a list of mynn layers, such as [Dense(2, 3), ReLU()], or None. "
                f"Received: layers={layers!r}"
            )
        for index, layer in enumerate(layers):
            _check_type(f"layers[{index}]", layer, Layer)
            self.add(layer)

    # ----------------------------------------------------------------- building
    def add(self, layer: Layer) -> None:
        """Append a layer or activation.

        Raises:
            TypeError: If ``layer`` is not a mynn layer.
            ValueError: If this layer object is already in the model (a layer keeps the inputs
                and gradients of one place), if a Dense layer's inputs do not match the
                previous Dense layer's neurons, or its dtype differs from the model's Dense
                layers.
        """
        _check_type("layer", layer, Layer)
        for index, present in enumerate(self.layers):
            if present is layer:
                raise ValueError(
                    f"this {type(layer).__name__} is already layer {index} of the model. A layer "
                    "keeps the inputs and gradients of its one place in the network, so one "
                    "object in two places computes wrong gradients; add a layer of its own "
                    "(copy.deepcopy(layer) for a copy of its weights). "
                    f"Received: layer={layer!r}"
                )
        if isinstance(layer, Dense):
            previous = self._dense_layers()
            if previous and previous[-1].n_neurons != layer.n_inputs:
                raise ValueError(
                    f"{layer!r} expects {layer.n_inputs} inputs but the previous Dense layer "
                    f"has {previous[-1].n_neurons} neurons."
                )
            if previous and previous[0].dtype != layer.dtype:
                raise ValueError(
                    f"every Dense layer of a model must have the model's dtype "
                    f"{previous[0].dtype.name}: build them all with the same dtype=. "
                    f"Received: layer={layer!r} of dtype {layer.dtype.name}"
                )
        self.layers.append(layer)

    def set_loss(self, loss: Loss) -> None:
        """Set the loss that training minimizes.

        A loss that reads probabilities needs a model that ends with an activation that makes
        them (``loss.output_activations``: a Softmax for CategoricalCrossentropy, a Sigmoid or a
        Softmax for BinaryCrossentropy); ``train`` and ``evaluate`` check that.
        """
        self.loss = _check_type("loss", loss, Loss)

    def set_optimizer(self, optimizer: Optimizer) -> None:
        """Set the optimizer that updates the parameters.

        An optimizer belongs to one model: its state (momentums, caches) is kept by parameter
        name, names that every model shares (``"0.weights"``), so a second model would start
        from the first one's state.

        Raises:
            TypeError: If ``optimizer`` is not a mynn optimizer.
            ValueError: If ``optimizer`` already trains another model.
        """
        _check_type("optimizer", optimizer, Optimizer)
        self._claim(optimizer)
        self.optimizer = optimizer

    def _claim(self, optimizer: Optimizer) -> None:
        """Make ``optimizer`` this model's; refuse it if another model still uses it."""
        owner = optimizer._model() if optimizer._model is not None else None
        if owner is not None and owner is not self and owner.optimizer is optimizer:
            raise ValueError(
                "this optimizer already trains another model, and an optimizer keeps its state "
                "(momentums, caches) by parameter names that both models share: the second "
                "would start from the first one's state. Give each model its own, such as "
                f"{type(optimizer).__name__}(**optimizer.get_config()). "
                f"Received: optimizer={optimizer!r}, set on a model of "
                f"{len(owner.layers)} layers"
            )
        optimizer._model = weakref.ref(self)

    def set_accuracy(self, accuracy: Accuracy) -> None:
        """Set the accuracy metric reported by ``train`` and ``evaluate``."""
        self.accuracy = _check_type("accuracy", accuracy, Accuracy)

    # ------------------------------------------------------------- properties
    def _dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (the first Dense layer's; float64 without one)."""
        dense = self._dense_layers()
        return dense[0].dtype if dense else np.dtype(np.float64)

    @property
    def n_inputs(self) -> int | None:
        """Features the model expects (``None`` when it has no Dense layer)."""
        dense = self._dense_layers()
        return dense[0].n_inputs if dense else None

    @property
    def n_outputs(self) -> int | None:
        """Width of the model's output (``None`` when it has no Dense layer)."""
        dense = self._dense_layers()
        return dense[-1].n_neurons if dense else None

    def parameters(self) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
        """Every trainable parameter as ``(name, value, gradient)``, names like ``"0.weights"``."""
        return [
            (f"{index}.{name}", value, gradient)
            for index, layer in enumerate(self.layers)
            for name, (value, gradient) in layer.parameters().items()
        ]

    def _flat_parameters(self, *, stepping: bool = False) -> list[FlatParameters]:
        """The parameters laid end to end, one buffer per dtype, as the optimizer steps them.

        Each layer's ``weights``, ``biases``, ``dweights`` and ``dbiases`` are views into these
        buffers (see [Layer.use_buffers][mynn.layers.Layer.use_buffers]). They are laid out
        again, from the layers' current arrays, whenever those are not the views any more: a
        layer added or replaced, an array assigned anew, a copy of the model. ``train`` checks
        that fully before every epoch; before every step (``stepping``) it only compares the
        layers' attributes with the views handed out, and every gradient must be there.
        """
        views = self._views
        if stepping and views and all(getattr(layer, name) is view for layer, name, view in views):
            return self._flat
        parameters = self.parameters()
        for name, _, gradient in parameters if stepping else ():
            if gradient is None:
                raise RuntimeError(
                    f"parameter {name!r} has no gradient; run backward() before step()."
                )
        flat_of = {name: flat for flat in self._flat for name in flat.names}
        if len(flat_of) == len(parameters) and all(
            name in flat_of and flat_of[name].holds(name, value, gradient)
            for name, value, gradient in parameters
        ):
            return self._flat
        self._forget_replaced_layers()
        by_dtype: dict[np.dtype, list] = {}
        for parameter in parameters:
            by_dtype.setdefault(parameter[1].dtype, []).append(parameter)
        self._flat = [FlatParameters(group) for group in by_dtype.values()]
        flat_of = {name: flat for flat in self._flat for name in flat.names}
        self._views = []
        self._laid_out = list(self.layers)
        for index, layer in enumerate(self.layers):
            names = {name: f"{index}.{name}" for name in layer.parameters()}
            if names:
                values = {name: flat_of[key].value_views[key] for name, key in names.items()}
                gradients = {name: flat_of[key].gradient_views[key] for name, key in names.items()}
                layer.use_buffers(values, gradients)
                for name in names:
                    self._views.append((layer, name, values[name]))
                    self._views.append((layer, f"d{name}", gradients[name]))
        return self._flat

    def _forget_replaced_layers(self) -> None:
        """Keep the optimizer's state with the layers it belongs to, whatever their places.

        State is kept by parameter name (``"2.weights"``), and the name follows a layer's place
        in ``layers``. Since the last layout, a layer may have been replaced by a new object, or
        moved (a swap, an insert): a moved layer takes its own state to its new names, and a
        new layer starts with none (zero momentums and caches; the step count, and with it
        Adam's bias correction and the learning-rate decay, is the optimizer's and goes on). A
        layer that stays, with new arrays assigned to its ``weights``, keeps its state.
        """
        state = self.optimizer.state if self.optimizer is not None else {}
        for key, buffers in self._state_moves().items():
            if buffers is None:
                state.pop(key, None)
            else:
                state[key] = dict(buffers)  # a new dict: step_flat lays it out again

    def _state_moves(self) -> dict[str, dict | None]:
        """The optimizer state each changed place should hold now, without changing any.

        For every parameter name of a layer that is new or has moved since the last layout:
        the state its layer had under its old name, or None for a new layer. ``save_model``
        writes the state through this, so that a file holds what the next ``train`` would use.
        """
        if self.optimizer is None or not self._laid_out:
            return {}
        state = self.optimizer.state
        before = {id(layer): (index, layer) for index, layer in enumerate(self._laid_out)}
        moved: dict[str, dict | None] = {}
        for index, layer in enumerate(self.layers):
            old_index, old_layer = before.get(id(layer), (None, None))
            if old_layer is layer and old_index == index:
                continue
            for name in layer.parameters():
                old = state.get(f"{old_index}.{name}") if old_layer is layer else None
                moved[f"{index}.{name}"] = old  # None: a new layer, no state
        return moved

    def regularization_loss(self) -> float:
        """Sum of the layers' L1/L2 penalties."""
        return sum(layer.regularization_loss() for layer in self.layers)

    # -------------------------------------------------------- forward/backward
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Run ``X`` through every layer and return the last layer's output."""
        output = X
        for layer in self.layers:
            output = layer.forward(output, training)
        return output

    def _uses_fused_gradient(self) -> bool:
        return (
            isinstance(self.loss, CategoricalCrossentropy)
            and bool(self.layers)
            and isinstance(self.layers[-1], Softmax)
        )

    # --8<-- [start:backward]
    def backward(
        self, output: np.ndarray, y: np.ndarray, *, input_gradient: bool = True
    ) -> np.ndarray | None:
        """Backpropagate the loss of ``output`` against targets ``y`` through every layer.

        ``y`` must already be in the loss's normal form (see
        [Loss.check_targets][mynn.loss.Loss.check_targets]). When a Softmax output meets
        CategoricalCrossentropy, the combined gradient (softmax output minus one-hot labels,
        divided by the batch size) starts the pass at the Softmax's input. Returns the
        gradient w.r.t. the model input, or ``None`` with ``input_gradient=False`` when the
        first layer is a Dense layer: training needs only the parameters' gradients, so that
        layer skips its input gradient.
        """
        if self.loss is None:
            raise RuntimeError("no loss is set; call Model.set_loss() first.")
        layers = self.layers
        if self._uses_fused_gradient():
            dvalues = softmax_crossentropy_gradient(output, y, check_input=False)
            layers[-1].dinputs = dvalues
            layers = layers[:-1]
        else:
            dvalues = self.loss.gradient(output, y)
        for layer in reversed(layers):
            if layer is self.layers[0] and not input_gradient and isinstance(layer, Dense):
                return layer.backward(dvalues, input_gradient=False)
            dvalues = layer.backward(dvalues)
        return dvalues

    # --8<-- [end:backward]

    def predictions(self, output: np.ndarray) -> np.ndarray:
        """What ``predict`` returns for the network ``output`` (not checked): see ``predict``."""
        last = self.layers[-1]
        return last.predictions(output) if isinstance(last, Activation) else output

    # ------------------------------------------------------------ data checks
    def _check_ready(self, need_optimizer: bool) -> None:
        if not self._dense_layers():
            raise RuntimeError("the model has no Dense layer; add layers with Model.add().")
        if self.loss is None:
            raise RuntimeError("no loss is set; call Model.set_loss() first.")
        if need_optimizer and self.optimizer is None:
            raise RuntimeError("no optimizer is set; call Model.set_optimizer() first.")
        wanted = self.loss.output_activations
        if wanted and not isinstance(self.layers[-1], wanted):
            names = " or ".join(f"{cls.__name__}()" for cls in wanted)
            raise ValueError(
                f"{type(self.loss).__name__} reads probabilities, which the model's last layer "
                f"does not make: end the model with {names} (a network that ends in raw "
                "scores, logits, needs one). "
                f"Received: a model whose last layer is {self.layers[-1]!r}"
            )
        if need_optimizer:
            self._claim(self.optimizer)

    def prepare_inputs(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """Check inputs for this model; return them as a float array of the model's dtype.

        The check every entry point runs once (``train``, ``evaluate``, ``predict``,
        [diagnose][mynn.diagnostics.diagnose]): a 2-D array of finite numbers, not empty, with
        ``n_inputs`` columns; ``name`` is what the error messages call it.
        """
        if not self._dense_layers():
            raise RuntimeError("the model has no Dense layer; add layers with Model.add().")
        X = as_float_array(name, X, self.dtype, ndim=2)
        if X.shape[1] != self.n_inputs:
            raise ValueError(
                f"{name} must have {self.n_inputs} features (columns) for the first layer "
                f"{self._dense_layers()[0]!r}. Received: {name} of shape {X.shape}"
            )
        return X

    def prepare(
        self, X: np.ndarray, y: np.ndarray, names: tuple[str, str] = ("X", "y")
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check inputs and targets together; return them ready for training or evaluation.

        ``X`` as ``prepare_inputs`` returns it, ``y`` in the loss's normal form (see
        [Loss.check_targets][mynn.loss.Loss.check_targets]), both of one length; ``names``
        are what the error messages call them (``("X_val", "y_val")`` for validation data).
        """
        X = self.prepare_inputs(X, names[0])
        y = self.loss.check_targets(y, self.n_outputs, self.dtype, name=names[1])
        check_same_length(names[0], X, names[1], y)
        return X, y

    # ---------------------------------------------------------------- training
    def train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        shuffle: bool = True,
        rng: np.random.Generator | int | None = None,
        verbose: int = 1,
        print_every: int | None = None,
        diagnostics: bool = False,
        on_epoch_end: Callable[[Model, dict], None] | None = None,
    ) -> dict[str, list]:
        """Train on ``(X, y)`` for ``epochs`` passes over the data.

        Each epoch visits the samples in a new random order (when ``shuffle``), in batches of
        ``batch_size``; each batch is one forward pass, one backward pass and one optimizer
        step. When one batch holds the whole set, a new order would change only rounding and
        which row meets which Dropout mask, so no shuffling is done.

        Args:
            X: Inputs of shape ``(n_samples, n_inputs)``.
            y: Targets in the form the loss expects (class indices, one-hot rows or values).
            epochs: Number of passes over the data.
            batch_size: Samples per step; ``None`` uses the whole set in each step.
            validation_data: Optional ``(X_val, y_val)`` evaluated after every epoch.
            shuffle: Visit the samples in a new random order each epoch.
            rng: Source of the shuffling order: a Generator, an int random seed or ``None``.
            verbose: 0 prints nothing; 1 prints a line for the first epoch, every
                ``print_every``-th and the last.
            print_every: Epochs between printed lines (default: ``epochs // 10``, at least 1:
                a line per epoch below 20 epochs, 11 to 16 lines from 20 on).
            diagnostics: Also record, after every epoch, the health signals of
                [diagnose][mynn.diagnostics.diagnose] on 256 training samples spread evenly
                over the set (all of them when there are fewer), in ``history["diagnostics"]``,
                one dict per epoch (see [record_diagnostics][mynn.diagnostics.record_diagnostics]).
                Costs a copy of the model per epoch.
            on_epoch_end: Called as ``on_epoch_end(model, record)`` after every epoch, with
                the dict of that epoch's numbers before it joins the history; entries it adds
                become lists of the history like the others. With ``diagnostics`` it runs
                after the diagnostics are recorded.

        Returns:
            The history, a dict of per-epoch lists ``"loss"`` (the data loss averaged over all
            samples of the epoch, plus the regularization penalty of the weights and biases at
            the epoch's end), ``"accuracy"`` (when a metric is set),
            ``"learning_rate"`` (of the epoch's last step) and, with ``validation_data``,
            ``"val_loss"`` and ``"val_accuracy"``; with ``diagnostics``, ``"diagnostics"``.

            The epoch's loss and accuracy are gathered batch by batch while the weights
            change (and Dropout is active), so they differ from ``evaluate(X, y)`` after the
            epoch: by a lot while the model still learns fast (in the first epochs, say), and
            the loss also by the regularization penalty, which ``evaluate`` leaves out. A
            RegressionAccuracy without a fixed ``precision`` derives its tolerance from ``y``
            at every call.

        Raises:
            RuntimeError: If the model has no Dense layer, or no loss or optimizer is set.
            ValueError: If the data is empty, non-finite, mis-shaped or of unequal lengths, an
                argument is out of range, the loss reads probabilities that the last layer
                does not make (see ``set_loss``), or the optimizer trains another model (see
                ``set_optimizer``).
            TypeError: If the data are not numbers, or ``shuffle``, ``diagnostics``, ``rng``
                or ``on_epoch_end`` has the wrong type.
            FloatingPointError: If the loss or a parameter becomes NaN or infinite (the
                message names the epoch and step, and the parameter).
        """
        self._check_ready(need_optimizer=True)
        epochs = check_positive_int("epochs", epochs)
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        if verbose not in (0, 1):
            raise ValueError(f"verbose must be 0 or 1. Received: verbose={verbose!r}")
        if print_every is None:
            print_every = max(1, epochs // 10)
        print_every = check_positive_int("print_every", print_every)
        shuffle = check_bool("shuffle", shuffle)
        diagnostics = check_bool("diagnostics", diagnostics)
        if on_epoch_end is not None:
            _check_hook(on_epoch_end)
        X, y = self.prepare(X, y)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                size = ""
                if isinstance(validation_data, (tuple, list)):
                    count = len(validation_data)
                    size = f" of {count} item{'' if count == 1 else 's'}"
                raise ValueError(
                    "validation_data must be a pair (X_val, y_val). "
                    f"Received: validation_data of type {type(validation_data).__name__}{size}"
                )
            validation_data = self.prepare(*validation_data, names=("X_val", "y_val"))
        if self.accuracy is not None:
            self.accuracy.init(y, reinit=True)
        hooks = [record_diagnostics(X, y)] if diagnostics else []
        if on_epoch_end is not None:
            hooks.append(on_epoch_end)
        generator = as_generator(rng)
        size = len(X) if batch_size is None else min(batch_size, len(X))
        steps = math.ceil(len(X) / size)

        history: dict[str, list] = {}
        started = time.perf_counter()
        for epoch in range(1, epochs + 1):
            order = generator.permutation(len(X)) if shuffle and size < len(X) else None
            self._flat_parameters()  # laid out before the first backward writes its gradients
            # A diverging run overflows somewhere; the losses are checked instead of warning.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                record = self._train_epoch(X, y, order, size, epoch)
                if validation_data is not None:
                    record["val_loss"], val_accuracy = self._evaluate(*validation_data, batch_size)
                    if val_accuracy is not None:
                        record["val_accuracy"] = val_accuracy
            for key in ("loss", "val_loss"):
                if not math.isfinite(record.get(key, 0.0)):
                    raise self._diverged(
                        f"the {key} became {record[key]} at the end of epoch {epoch} "
                        f"(after step {steps})"
                    )
            for hook in hooks:
                hook(self, record)
            diverged = non_finite_parameter(self.parameters()) if hooks else None
            if diverged is not None:
                raise FloatingPointError(
                    f"parameter {diverged[0]!r} became {diverged[1]} in on_epoch_end after "
                    f"epoch {epoch}: the hook wrote a NaN or an infinity into the model"
                )
            for key, value in record.items():
                history.setdefault(key, []).append(value)
            if verbose and (epoch % print_every == 0 or epoch == epochs or epoch == 1):
                seconds = time.perf_counter() - started
                print(_format_epoch(epoch, epochs, record, seconds), flush=True)
        return history

    def _train_epoch(
        self, X: np.ndarray, y: np.ndarray, order: np.ndarray | None, size: int, epoch: int
    ) -> dict[str, float]:
        """One pass over the data: per batch, forward, loss, backward and one optimizer step.

        Returns the epoch's record: ``"loss"`` (the per-sample losses averaged, plus the
        weights' penalty at the end), ``"learning_rate"`` (of the last step) and, when a metric
        is set, ``"accuracy"``, accumulated over every batch's predictions.
        """
        if self.accuracy is not None:
            self.accuracy.reset()
        kind = type(self.optimizer)
        stepped_by_step = kind.step is not Optimizer.step and kind.step_flat is Optimizer.step_flat
        loss_sum = 0.0
        # The shuffled batches are gathered into one array made once (np.take with out=).
        gathered = None if order is None else np.empty((size, *X.shape[1:]), X.dtype)
        for step, start in enumerate(range(0, len(X), size), start=1):
            if order is None:
                X_batch, y_batch = X[start : start + size], y[start : start + size]
            else:
                index = order[start : start + size]
                X_batch = np.take(X, index, axis=0, out=gathered[: len(index)], mode="clip")
                y_batch = y[index]
            output = self.forward(X_batch, training=True)
            batch_loss = float(self.loss.per_sample(output, y_batch).sum())
            if not math.isfinite(batch_loss):
                raise self._diverged(f"the loss became {batch_loss} at epoch {epoch}, step {step}")
            loss_sum += batch_loss
            if self.accuracy is not None:
                self.accuracy.update(self.predictions(output), y_batch)
            self.backward(output, y_batch, input_gradient=False)
            learning_rate = self.optimizer.current_learning_rate
            flats = self._flat_parameters(stepping=True)
            if stepped_by_step:  # a subclass that overrides step() alone: its own rule
                self.optimizer.step(self.parameters())
            else:
                self.optimizer.step_flat(flats)
            if not self._parameters_finite():
                diverged = non_finite_parameter(self.parameters())
                if diverged is not None:
                    raise self._diverged(
                        f"parameter {diverged[0]!r} became {diverged[1]} at epoch {epoch}, "
                        f"step {step}"
                    )
        record = {"loss": loss_sum / len(X) + self.regularization_loss()}
        record["learning_rate"] = learning_rate
        if self.accuracy is not None:
            record["accuracy"] = self.accuracy.result()
        return record

    def _parameters_finite(self) -> bool:
        """One dot product per buffer (``train`` runs it under ``np.errstate``): a NaN or an
        infinity makes a sum of squares non-finite; only then is each parameter looked at."""
        return all(math.isfinite(np.dot(flat.values, flat.values)) for flat in self._flat)

    def _diverged(self, what: str) -> FloatingPointError:
        return FloatingPointError(
            f"{what}: training diverged. Try a lower learning rate (now "
            f"{self.optimizer.current_learning_rate:g}), standardized inputs or a smaller "
            "initialization."
        )

    # ------------------------------------------------------ evaluate/predict
    def evaluate(
        self, X: np.ndarray, y: np.ndarray, *, batch_size: int | None = None
    ) -> tuple[float, float | None]:
        """Loss and accuracy on ``(X, y)``, without training.

        The loss is the data loss averaged over all samples (regularization penalties are a
        property of the weights, not of the data, and are left out); the accuracy is ``None``
        when no metric is set. A RegressionAccuracy keeps its fixed ``precision``, or the
        tolerance derived in the last ``train``. One that has none yet (on a model never
        trained, or a metric set after training) takes it from the ``y`` of its first
        ``evaluate`` and keeps it: set the metric before training, so that test targets never
        choose it.

        Returns:
            ``(loss, accuracy)``.
        """
        self._check_ready(need_optimizer=False)
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        X, y = self.prepare(X, y)
        if self.accuracy is not None:
            self.accuracy.init(y)
        return self._evaluate(X, y, batch_size)

    def _evaluate(self, X, y, batch_size) -> tuple[float, float | None]:
        n = len(X)
        size = n if batch_size is None else min(batch_size, n)
        if self.accuracy is not None:
            self.accuracy.reset()
        loss_sum = 0.0
        for start in range(0, n, size):
            X_batch, y_batch = X[start : start + size], y[start : start + size]
            output = self.forward(X_batch, training=False)
            loss_sum += float(self.loss.per_sample(output, y_batch).sum())
            if self.accuracy is not None:
                self.accuracy.update(self.predictions(output), y_batch)
        accuracy = self.accuracy.result() if self.accuracy is not None else None
        return loss_sum / n, accuracy

    def predict(self, X: np.ndarray, *, batch_size: int | None = None) -> np.ndarray:
        """Predictions for ``X``: class indices after Softmax, 0/1 after Sigmoid, else values.

        Args:
            X: Inputs of shape ``(n_samples, n_inputs)``.
            batch_size: Samples per forward pass (``None``: all at once).

        Returns:
            What the last activation's ``predictions`` returns, ``(n_samples,)`` class
            indices for Softmax and ``(n_samples, n_outputs)`` otherwise.
        """
        X = self.prepare_inputs(X)
        if batch_size is None:
            return self.predictions(self.forward(X))
        batch_size = check_positive_int("batch_size", batch_size)
        parts = [
            self.predictions(self.forward(X[start : start + batch_size]))
            for start in range(0, len(X), batch_size)
        ]
        return np.concatenate(parts)

    # ------------------------------------------------------------------ report
    def summary(self) -> str:
        """A table of the layers, their output shapes and parameter counts.

        Lines stay within 79 characters (an 80-column terminal, and the documentation's
        column): a long layer or optimizer description continues on the next line, broken
        after a comma. One argument too long for the layer column (a float of 17 digits
        beside a wide shape and count, say) is not broken, and then the table is wider.
        """
        rows = [("#", "layer", "output shape", "parameters")]
        width = None
        total = 0
        for index, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                width = layer.n_neurons
            count = sum(value.size for value, _ in layer.parameters().values())
            total += count
            shape = f"(n_samples, {width})" if width is not None else "(n_samples, ?)"
            rows.append((str(index), repr(layer), shape, f"{count:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        # the layer column gets what the others leave (two spaces between columns)
        room = SUMMARY_WIDTH - (widths[0] + widths[2] + widths[3] + 6)
        layers = [_wrap_call(row[1], max(room, len("layer"))) for row in rows]
        widths[1] = max(len(line) for wrapped in layers for line in wrapped)
        lines = []
        for (number, _, shape, count), (first, *more) in zip(rows, layers):
            cells = (
                number.ljust(widths[0]),
                first.ljust(widths[1]),
                shape.ljust(widths[2]),
                count.rjust(widths[3]),
            )
            lines.append("  ".join(cells).rstrip())
            lines += [" " * (widths[0] + 2) + line for line in more]
        lines.insert(1, "-" * max(len(line) for line in lines))
        lines.append(f"total parameters: {total:,} ({self.dtype.name})")
        for name in ("loss", "optimizer", "accuracy"):
            lines += _wrap_call(f"{name}: {getattr(self, name)!r}", SUMMARY_WIDTH)
        return "\n".join(lines)

    # ------------------------------------------------------------------- files
    def save(self, path: str | os.PathLike) -> None:
        """Save architecture, parameters, loss, metric and optimizer state to ``path``.

        The file is a numpy ``.npz`` archive with the metadata as JSON; it is written to a
        temporary file beside ``path`` and renamed over it, so an interrupted save never leaves
        a half-written model. A symbolic link is written through to its target; a read-only
        file, a folder, a pipe or a device is refused and left as it is. See
        [save_model][mynn.saving.save_model].
        """
        from .saving import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, strict: bool = True) -> Model:
        """Load a model saved with ``save``; executes no code from the file (no pickle).

        With ``strict=True`` a file holding entries the model does not use is refused by
        their names; ``strict=False`` ignores them (see
        [load_model][mynn.saving.load_model]).
        """
        from .saving import load_model

        return load_model(path, strict=strict)

    def __repr__(self) -> str:
        return f"Model({len(self.layers)} layers, loss={self.loss!r}, optimizer={self.optimizer!r})"


def non_finite_parameter(
    parameters: Iterable[tuple[str, np.ndarray, np.ndarray | None]],
) -> tuple[str, float] | None:
    """The first parameter holding a NaN or inf, as ``(name, bad value)``; ``None`` if none.

    [Model.train][mynn.model.Model.train] looks for one after every optimizer step (one dot
    product per buffer, and this function only when that is not finite): the loss of the
    next batch misses a weight that became inf behind a saturating activation (a Sigmoid turns
    inf into 1), and after the last step there is no next batch. It costs one dot product per
    parameter array: a NaN or inf makes the sum of squares non-finite (no term is negative, so
    nothing cancels); only then, or when the squares of huge values overflow, is each value
    looked at. ``benchmarks/divergence_check.py`` measures what it adds to an epoch.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # one context for all: it is not free
        for name, value, _ in parameters:
            flat = value.reshape(-1)  # parameters are contiguous: a view, not a copy
            if not math.isfinite(np.dot(flat, flat)):
                bad = first_non_finite(value)
                if bad is not None:
                    return name, bad[0]
    return None


def _wrap_call(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken after commas where possible.

    A repr such as ``Adam(learning_rate=0.01, decay=0.0, ...)`` continues under the first
    character after its opening parenthesis.
    """
    if len(text) <= width:
        return [text]
    indent = " " * (text.find("(") + 1 if 0 <= text.find("(") < width // 2 else 4)
    return textwrap.wrap(
        text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


def _check_hook(hook) -> None:
    """Refuse an ``on_epoch_end`` that cannot be called as ``hook(model, record)``, before the
    first epoch rather than after it."""
    if not callable(hook):
        raise TypeError(
            f"on_epoch_end must be a function of (model, record). Received: on_epoch_end={hook!r}"
        )
    try:
        signature = inspect.signature(hook)
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return
    try:
        signature.bind(None, {})
    except TypeError:
        raise TypeError(
            "on_epoch_end must accept two arguments, (model, record), and is called after "
            f"every epoch. Received: on_epoch_end={getattr(hook, '__name__', hook)!r} "
            f"with parameters {signature}"
        ) from None


def _check_type(name: str, value, expected: type):
    if isinstance(value, type) and issubclass(value, expected):
        raise TypeError(
            f"{name} must be an instance, not a class: write {value.__name__}(). "
            f"Received: {name}={value.__name__}"
        )
    if not isinstance(value, expected):
        raise TypeError(f"{name} must be a mynn {expected.__name__}. Received: {name}={value!r}")
    return value


def _format_epoch(epoch: int, epochs: int, record: dict, seconds: float) -> str:
    parts = [f"epoch {epoch:>{len(str(epochs))}}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in record:
            parts.append(f"{key} {record[key]:.4f}")
    parts.append(f"lr {record['learning_rate']:.3g}")
    parts.append(f"{seconds:.1f}s")
    return "  ".join(parts)
