"""The playground's Python side: runs the program the page shows, epoch by epoch, and measures.

docs/javascripts/playground.js writes a mynn program for the reader's settings (the code
panel). Its last part, from the line ``for epoch in range(``, is the training loop a reader
runs at home; everything before it (the data, the features, the model) is what
:class:`Session` runs here, in Pyodide, in the playground's Web Worker
(docs/javascripts/playground-worker.js). Each epoch then makes the same two calls as the
loop (``model.train(..., epochs=1, rng=order)`` and ``model.evaluate`` on the validation
part), so under CPython the session's losses are the program's. In the browser numpy is
Pyodide's build, whose sums can differ from the reader's numpy in the last bits: a stable run
keeps its losses the program's to the printed digits, while a run that jumps about (a learning
rate far too high) amplifies the difference until the losses part.

Between epochs the worker asks for a *frame*: the model's predictions on a grid over the
plane (the decision regions, or the fitted curve of a regression), the outputs of the hidden
units on a coarser grid, and the losses so far. :meth:`Session.advance` trains for a time
budget and then makes one frame, so the page gets pictures at a steady rate while training
goes on between them.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np

LOOP = "for epoch in range("
"""The line that starts the program's training loop: the session runs the code before it."""

GRID = 60
"""Points per side of the grid of the decision regions."""
UNIT_GRID = 20
"""Points per side of the grid of each hidden unit's map (every third point of GRID)."""
MAX_UNITS = 16
"""Hidden units drawn per layer (the first ones)."""
CURVE_POINTS = 120
"""Points of the fitted curve of a regression."""

# where each diagnostic signal is explained (docs/guides/training-goes-wrong.md)
GUIDE = {
    "dead_relu": "1-the-learning-rate-is-too-high",
    "update_ratio_high": "1-the-learning-rate-is-too-high",
    "update_ratio_low": "2-the-learning-rate-is-too-low",
    "gradient_norm": "1-the-learning-rate-is-too-high",
    "symmetry": "3-all-weights-start-at-zero",
    "saturation": "4-weights-so-large-that-tanh-saturates",
    "initial_loss": "4-weights-so-large-that-tanh-saturates",
    "diverged": "1-the-learning-rate-is-too-high",
}
BLOCKING = ("dead_relu", "saturation")
"""Signals that, when not ok, hold back the gradient on its way to earlier layers."""
RISE = 1.5
"""A training loss above this many times the first epoch's is read as having risen (a rise
of a few percent on a plateau is not)."""
UPDATE_RATIO_LOW = 1e-5
"""mynn's lower end of the healthy update ratio (``mynn.diagnostics.UPDATE_RATIO_RANGE[0]``)."""
DEAD_RELU_LIMIT = 0.5
"""mynn's largest healthy share of dead ReLUs (``mynn.diagnostics.DEAD_RELU_LIMIT``)."""


def layer_names(model) -> list[str]:
    """The page's name of each of ``model.layers``: hidden layers count from 1, as its controls.

    A hidden layer is a Dense layer with its activation (and Dropout); the last Dense layer
    and its activation are the output layer.
    """
    dense = [i for i, layer in enumerate(model.layers) if type(layer).__name__ == "Dense"]
    names = []
    for index, layer in enumerate(model.layers):
        number = sum(i <= index for i in dense)  # Dense layers up to this one
        part = "its weights" if index in dense else f"its {type(layer).__name__}"
        owner = "output layer" if number == len(dense) else f"hidden layer {number}"
        names.append(f"{owner}, {part}")
    return names


def setup_code(program: str) -> str:
    """The part of ``program`` before its training loop."""
    index = program.find("\n" + LOOP)
    if index < 0:
        raise ValueError(f"the program has no line starting with {LOOP!r}")
    return program[: index + 1]


class Session:
    """One run of the playground: the program's objects, trained an epoch at a time.

    Args:
        program: The program the page shows (see the module docstring).
    """

    def __init__(self, program: str) -> None:
        self.namespace: dict = {"__name__": "__playground__"}
        exec(compile(setup_code(program), "<playground>", "exec"), self.namespace)
        names = self.namespace
        self.model = names["model"]
        self.order = names["order"]
        self.batch_size = names.get("BATCH_SIZE")
        self.features = names["features"]
        self.X_train, self.X_val = names["X_train"], names["X_val"]
        self.y_train, self.y_val = names["y_train"], names["y_val"]
        self.F_train, self.F_val = names["F_train"], names["F_val"]
        self.regression = self.X_train.shape[1] == 1
        self.epoch = 0
        self.history: dict[str, list] = {
            "loss": [],
            "accuracy": [],
            "val_loss": [],
            "val_accuracy": [],
        }
        self.error: str | None = None
        both = np.concatenate([self.X_train, self.X_val])
        self.extent = float(max(1.0, np.abs(both[:, 0]).max()) * 1.1)
        if self.regression:
            targets = np.concatenate([self.y_train, self.y_val]).ravel()
            self.y_extent = float(max(1.0, np.abs(targets).max()) * 1.1)
        else:
            self.extent = float(max(1.0, np.abs(both).max()) * 1.1)
            self.y_extent = self.extent
        axis = np.linspace(-self.extent, self.extent, GRID)
        if self.regression:
            self.grid = np.linspace(-self.extent, self.extent, CURVE_POINTS).reshape(-1, 1)
            self.unit_grid = self.grid
        else:
            x1, x2 = np.meshgrid(axis, -axis)  # row 0 at the top of the picture
            self.grid = np.column_stack([x1.ravel(), x2.ravel()])
            step = GRID // UNIT_GRID
            self.unit_grid = np.column_stack(
                [x1[::step, ::step].ravel(), x2[::step, ::step].ravel()]
            )
        self.F_grid = self.features(self.grid)
        self.F_unit_grid = self.features(self.unit_grid)
        self.evaluate()
        self.layer_names = layer_names(self.model)
        self.initial_signals = self._signals()  # the untrained network's readings

    def evaluate(self) -> None:
        """The validation part's loss and accuracy, as the program's loop measures them."""
        self.validation = self.model.evaluate(self.F_val, self.y_val)

    def train_epoch(self) -> None:
        """One epoch, with the same calls as the program's loop."""
        history = self.model.train(
            self.F_train,
            self.y_train,
            epochs=1,
            batch_size=self.batch_size,
            rng=self.order,
            verbose=0,
        )
        self.evaluate()
        self.epoch += 1
        self.history["loss"].append(history["loss"][0])
        self.history["accuracy"].append(history.get("accuracy", [None])[0])
        self.history["val_loss"].append(self.validation[0])
        self.history["val_accuracy"].append(self.validation[1])

    def advance(self, budget_ms: float = 70.0, max_epochs: int = 10**9) -> dict:
        """Train whole epochs for at most about ``budget_ms`` (at least one), then a frame.

        Another epoch starts only if it should end within the budget, judged by the time the
        epochs so far took, so the pictures come at a steady rate.
        """
        started = time.perf_counter()
        done = 0
        try:
            while done < max_epochs:
                self.train_epoch()
                done += 1
                elapsed = (time.perf_counter() - started) * 1000
                if elapsed + elapsed / done > budget_ms:
                    break
        except FloatingPointError as error:
            # each train call is epoch 1 of its own: the message names the run's epoch
            self.error = re.sub(r"\bepoch 1\b", f"epoch {self.epoch + 1}", str(error))
        seconds = time.perf_counter() - started
        frame = self.frame(since=self.epoch - done)
        frame["train_seconds"] = seconds
        frame["frame_seconds"] = time.perf_counter() - started - seconds
        return frame

    def frame(self, since: int = 0) -> dict:
        """The picture of the model now, and the history from epoch ``since`` on."""
        model = self.model
        output = model.forward(self.F_grid, training=False)
        frame: dict = {"epoch": self.epoch, "since": since, "error": self.error}
        if self.regression:
            frame["curve"] = output.ravel().astype(np.float64)
        else:
            frame["classes"] = output.argmax(axis=1).astype(np.uint8)
            frame["confidence"] = output.max(axis=1).astype(np.float32)
        frame["units"] = self.unit_maps()
        for key, values in self.history.items():
            frame[key] = [math.nan if v is None else float(v) for v in values[since:]]
        return frame

    def unit_maps(self) -> list[list[np.ndarray]]:
        """Per hidden layer, the first MAX_UNITS units' outputs on the coarse grid.

        Each unit's map is scaled by its largest size on the grid, so it lies in [-1, 1]:
        the colours show where a unit is positive, negative or 0, not how large it is.
        """
        output = self.F_unit_grid.astype(self.model.dtype)
        layers = self.model.layers
        maps = []
        for index, layer in enumerate(layers):
            output = layer.forward(output, training=False)
            hidden = index < len(layers) - 1 and type(layer).__name__ in (
                "ReLU",
                "LeakyReLU",
                "Tanh",
                "Sigmoid",
                "Linear",
            )
            if hidden:
                shown = output[:, :MAX_UNITS].astype(np.float64)
                peak = np.abs(shown).max(axis=0)
                peak[peak == 0] = 1.0
                maps.append(list((shown / peak).T.astype(np.float32)))
        return maps

    def data(self) -> dict:
        """The points, as flat lists: inputs row by row, and labels or targets."""
        return {
            "X_train": self.X_train.ravel().tolist(),
            "X_val": self.X_val.ravel().tolist(),
            "y_train": np.asarray(self.y_train).ravel().tolist(),
            "y_val": np.asarray(self.y_val).ravel().tolist(),
            "extent": self.extent,
            "y_extent": self.y_extent,
            "regression": self.regression,
        }

    def diagnose(self) -> list[dict]:
        """mynn's health signals on (up to) 256 training samples, in the page's words.

        Before training (epoch 0) the readings are mynn's, with the guide's section. After
        that, mynn's advice assumes an untrained network, so the page says what is measured,
        with the reading before training beside it, and names a cause only where it is the
        likely one: ``initial_loss`` is left out; dead ReLUs that were alive before training
        link to the guide's section on a learning rate too high; a small update ratio is put
        down to a rise of the training loss to more than RISE times the first epoch's
        (section 1), to a fall
        below a hundredth of it (near a minimum), to a layer between it and the loss with more
        than half its units dead or saturated (section 1), or to a layer that gets no gradient;
        otherwise the page lists what can make a step small and names no cause (a small
        learning rate, a minimum reached with mini-batches and a gradient that fades through
        many layers give alike readings now; the readings before training could tell them
        apart in part, which the page does not attempt).
        """
        signals = self._signals()
        if self.epoch == 0:
            return signals
        before = {(s["name"], s["layer"]): s["value"] for s in self.initial_signals}
        blocked = [s for s in signals if not s["ok"] and s["name"] in BLOCKING]
        no_gradient = [s for s in signals if not s["ok"] and s["name"] == "gradient_norm"]
        gradients = {s["layer"]: s["value"] for s in signals if s["name"] == "gradient_norm"}
        losses = self.history["loss"]
        first, last = losses[0], losses[-1]
        shown = []
        for s in signals:
            name, value = s["name"], s["value"]
            was = before.get((name, s["layer"]))
            if name == "initial_loss":
                continue
            if s["ok"]:
                shown.append(s)
                continue
            if name in ("dead_relu", "saturation"):
                kind = type(self.model.layers[s["layer"]]).__name__
                what = f"{kind} units never fired on this batch" if name == "dead_relu" else (
                    f"{kind} outputs are saturated, where their gradient vanishes"
                )
                s["message"] = f"{value:.0%} of {what} ({was:.0%} before training)"
                alive_before = name == "dead_relu" and was <= DEAD_RELU_LIMIT
                s["section"] = GUIDE["dead_relu"] if alive_before else ""
            elif name == "update_ratio" and value < UPDATE_RATIO_LOW:
                s["message"] = f"one step changes the weights by {value:.2g} of their size"
                # dead or saturated units between this layer and the loss
                downstream = [b for b in blocked if b["layer"] > s["layer"]]
                gradient = gradients.get(s["layer"], 0.0)
                if last > RISE * first:
                    s["message"] += (
                        f": the training loss rose from {first:.3g} in epoch 1 to {last:.3g} "
                        "(a learning rate far too high can do this)"
                    )
                    s["section"] = GUIDE["diverged"]
                elif last < first / 100:
                    s["message"] += (
                        f": the training loss fell from {first:.3g} in epoch 1 to "
                        f"{last:.3g}, so the gradient is small, as near a minimum"
                    )
                    s["section"] = ""
                elif downstream:
                    s["message"] += (
                        ": the dead or saturated units listed here, between this layer and "
                        "the loss, hold back its gradient (a learning rate far too high can "
                        "leave units so)"
                    )
                    s["section"] = GUIDE["dead_relu"]
                elif no_gradient:
                    s["message"] += ": no gradient reaches some layers (see gradient_norm)"
                    s["section"] = ""
                else:
                    # a small learning rate, a minimum of the loss (with mini-batches the
                    # gradient does not reach 0 there) and a gradient that fades through the
                    # layers after this one: the page names none of them
                    later = any(type(layer).__name__ == "Dense"
                                for layer in self.model.layers[s["layer"] + 1:])
                    causes = ("a small learning rate, a minimum of the loss, or a gradient that "
                              "fades on its way back through the layers after this one"
                              if later else "a small learning rate or a minimum of the loss")
                    s["message"] += f" (its gradient: {gradient:.2g}); {causes} can each make it so"
                    s["section"] = ""
            shown.append(s)
        return shown

    def _signals(self) -> list[dict]:
        """mynn's diagnose, each signal with the page's name of its layer and a guide section."""
        from mynn.diagnostics import UPDATE_RATIO_RANGE, diagnose

        rows = np.linspace(0, len(self.F_train) - 1, min(256, len(self.F_train))).astype(int)
        signals = []
        for signal in diagnose(self.model, self.F_train[rows], self.y_train[rows]).signals:
            key = signal.name
            if key == "update_ratio":
                key += "_low" if signal.value < UPDATE_RATIO_RANGE[0] else "_high"
            signals.append(
                {
                    "name": signal.name,
                    "layer": signal.layer,
                    "where": self.layer_names[signal.layer] if signal.layer is not None else "",
                    "value": float(signal.value),
                    "ok": bool(signal.ok),
                    "message": signal.message,
                    "section": GUIDE.get(key, ""),
                }
            )
        return signals
