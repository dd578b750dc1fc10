"""Save and load models as ``.npz`` archives with JSON metadata: no pickle, atomic writes.

The archive holds one array per parameter (``layers/0/weights``), one per optimizer buffer
(``optimizer/0.weights/momentum``) and ``__meta__``: the JSON description of the architecture,
loss, metric and optimizer as UTF-8 bytes. Loading reads it with ``allow_pickle=False`` and
rebuilds objects only from mynn's own classes, so a file can never run code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import activations, layers, loss, metrics, optimizers

__all__ = ["FORMAT_VERSION", "save_model", "load_model"]

FORMAT_VERSION = 1
"""Version of the file layout ``save_model`` writes; ``load_model`` reads this one and older."""
_MAGIC = "mynn-model"


def _registry(module, base) -> dict[str, type]:
    return {
        name: obj
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type)
        and issubclass(obj, base)
        and obj is not base
    }


_LAYERS = {**_registry(layers, layers.Layer), **_registry(activations, layers.Layer)}
_LOSSES = _registry(loss, loss.Loss)
_OPTIMIZERS = _registry(optimizers, optimizers.Optimizer)
_METRICS = _registry(metrics, metrics.Accuracy)


def save_model(model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, then rename).

    Examples:
        >>> import numpy as np, tempfile, pathlib
        >>> from mynn.model import Model
        >>> from mynn.layers import Dense
        >>> from mynn.saving import save_model, load_model
        >>> model = Model([Dense(2, 3, rng=0)])
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.npz"
        >>> save_model(model, path)
        >>> bool(np.array_equal(load_model(path).layers[0].weights, model.layers[0].weights))
        True
    """
    path = Path(path)
    meta: dict = {"format": _MAGIC, "format_version": FORMAT_VERSION, "layers": []}
    arrays: dict[str, np.ndarray] = {}
    for index, layer in enumerate(model.layers):
        entry: dict = {"class": type(layer).__name__, "config": layer.get_config()}
        if isinstance(layer, layers.Dropout):
            entry["rng_state"] = layer.rng.bit_generator.state
        meta["layers"].append(entry)
        for name, (value, _) in layer.parameters().items():
            arrays[f"layers/{index}/{name}"] = value
    if model.loss is not None:
        meta["loss"] = {"class": type(model.loss).__name__, "config": model.loss.get_config()}
    if model.accuracy is not None:
        meta["accuracy"] = {
            "class": type(model.accuracy).__name__,
            "config": model.accuracy.get_config(),
            "precision": getattr(model.accuracy, "precision", None),
        }
    if model.optimizer is not None:
        optimizer = model.optimizer
        meta["optimizer"] = {
            "class": type(optimizer).__name__,
            "config": optimizer.get_config(),
            "iterations": optimizer.iterations,
        }
        for name, buffers in optimizer.state.items():
            for buffer, value in buffers.items():
                if buffer != "scratch":
                    arrays[f"optimizer/{name}/{buffer}"] = value
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)

    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_model(path: str | os.PathLike):
    """Read a model written by ``save_model``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a mynn model, is truncated or corrupt, or was written
            by a newer format version than this mynn reads.
    """
    from .model import Model

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    try:
        # Open the file here: np.load leaks its own handle when a zip turns out truncated.
        with open(path, "rb") as handle:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):  # a lone .npy array
                raise ValueError("it is a single array, not an .npz archive")
            with archive:
                if "__meta__" not in archive.files:
                    raise ValueError("it has no mynn metadata")
                meta = json.loads(archive["__meta__"].tobytes().decode("utf-8"))
                arrays = {name: archive[name] for name in archive.files if name != "__meta__"}
    # zipfile reports damaged headers as NotImplementedError ("compression method") or
    # RuntimeError ("encrypted"); to the caller they all mean the same: a corrupt file.
    except (
        zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError
    ) as error:
        raise ValueError(
            f"{str(path)!r} is not a readable mynn model file ({error}). "
            "Expected an archive written by Model.save()."
        ) from error
    if not isinstance(meta, dict) or meta.get("format") != _MAGIC:
        raise ValueError(
            f"{str(path)!r} is not a mynn model file: its metadata has no mynn marker."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written in model format version {version!r}; this mynn reads "
            f"versions up to {FORMAT_VERSION}. Upgrade mynn to load it."
        )
    try:
        return _rebuild(Model, meta, arrays)
    except (KeyError, TypeError) as error:
        raise ValueError(
            f"{str(path)!r} is an incomplete or damaged mynn model ({error!r})."
        ) from error


def _build(registry: dict[str, type], entry: dict, what: str):
    name = entry["class"]
    if name not in registry:
        raise ValueError(f"unknown {what} class {name!r} in the model file")
    return registry[name](**entry["config"])


def _restore(target: np.ndarray, stored: np.ndarray, name: str) -> None:
    if stored.shape != target.shape or stored.dtype != target.dtype:
        raise ValueError(
            f"{name} in the file has shape {stored.shape} and dtype {stored.dtype}; the "
            f"architecture needs shape {target.shape} and dtype {target.dtype}."
        )
    target[...] = stored


def _rebuild(model_class, meta: dict, arrays: dict[str, np.ndarray]):
    model = model_class()
    for index, entry in enumerate(meta["layers"]):
        layer = _build(_LAYERS, entry, "layer")
        if "rng_state" in entry:
            layer.rng.bit_generator.state = entry["rng_state"]
        for name, (value, _) in layer.parameters().items():
            _restore(value, arrays[f"layers/{index}/{name}"], f"layers/{index}/{name}")
        model.add(layer)
    if "loss" in meta:
        model.set_loss(_build(_LOSSES, meta["loss"], "loss"))
    if "accuracy" in meta:
        accuracy = _build(_METRICS, meta["accuracy"], "accuracy")
        if meta["accuracy"].get("precision") is not None:
            accuracy.precision = meta["accuracy"]["precision"]
        model.set_accuracy(accuracy)
    if "optimizer" in meta:
        optimizer = _build(_OPTIMIZERS, meta["optimizer"], "optimizer")
        optimizer.iterations = int(meta["optimizer"]["iterations"])
        values = {name: value for name, value, _ in model.parameters()}
        for key, stored in arrays.items():
            if key.startswith("optimizer/"):
                _, name, buffer = key.split("/")
                if name not in optimizer.state:
                    optimizer.state[name] = optimizer.init_state(values[name])
                _restore(optimizer.state[name][buffer], stored, key)
        model.set_optimizer(optimizer)
    return model
