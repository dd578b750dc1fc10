"""Save and load models as ``.npz`` archives with JSON metadata: no pickle, atomic writes.

The archive holds one array per parameter (``layers/0/weights``), one per optimizer buffer
(``optimizer/0.weights/momentum``) and ``__meta__``: the JSON description of the architecture,
loss, metric and optimizer as UTF-8 bytes.

**Loading trusts nothing in the file.** ``load_model`` reads the metadata first, works out
from the architecture which arrays must exist and with which shape and dtype, and compares each
array's ``.npy`` header with that before it reads the array's data; entries it does not expect
are never read (an extra entry of 200 MB costs nothing). Objects are rebuilt only from mynn's
own classes, and no pickled object is ever read, so a file can never run code. Whatever is
wrong with a file (damaged, truncated, crafted), the error is a ``ValueError`` that names it.

**Saving is atomic.** ``save_model`` writes to a temporary file in the target's folder and
renames it over the target, so a reader sees the old model or the new one, never half of one.
The temporary name carries the writer's process id: a save killed half-way leaves its temporary
file behind, and the next save to the same path removes it once that process is gone (on POSIX
systems, and only temporary files of the same machine). A new
file gets the permissions the umask allows (as any file the user creates); saving over a file
keeps that file's permissions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import activations, layers, loss, metrics, optimizers
from ._npz import Archive, ArchiveError, ArrayHeader
from ._validation import check_dtype, check_number, check_path, check_positive_int

if TYPE_CHECKING:
    from .model import Model

__all__ = ["FORMAT_VERSION", "save_model", "load_model"]

FORMAT_VERSION = 1
"""Version of the file layout ``save_model`` writes; ``load_model`` reads this one and older."""
_MAGIC = "mynn-model"
_META_LIMIT = 16 * 2**20
"""The most bytes of metadata ``load_model`` reads (a model of 10,000 layers needs about 1 MB)."""
_MAX_ITERATIONS = 2**63 - 1


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


# ---------------------------------------------------------------------- saving
def save_model(model: Model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, then rename).

    Args:
        model: A [Model][mynn.model.Model] made of mynn's own layers, loss, metric and
            optimizer.
        path: The file to write (conventionally ``.npz``); its folder must exist.

    Raises:
        TypeError: If ``model`` is not a Model or ``path`` is not a path.
        ValueError: If the model holds an object of a class that is not mynn's own (a file
            rebuilds only mynn's classes).
        FileNotFoundError: If the folder of ``path`` does not exist.
        IsADirectoryError: If ``path`` is a folder.

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
    from .model import Model

    if not isinstance(model, Model):
        raise TypeError(f"model must be a mynn Model. Received: model={model!r}")
    path = check_path("path", path)
    arrays = _describe(model)
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(f"path is a folder, not a file. Received: path={str(path)!r}")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the folder of path does not exist: {str(folder)!r}. Received: path={str(path)!r}"
        )
    _remove_stale_temporaries(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # saving over a file keeps its permissions
    except FileNotFoundError:
        mode = None
    temporary = folder / f"{_temporary_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}.tmp"
    # 0o666 minus the umask, as for any file the user creates (mkstemp would make it 0o600)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(folder)


_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def _host_tag() -> str:
    """Eight hex digits naming this machine, to tell its temporary files from another's."""
    try:
        host = socket.gethostname()
    except OSError:  # a sandbox without one (a browser's WebAssembly Python, say)
        host = "unknown"
    return hashlib.sha256(host.encode("utf-8")).hexdigest()[:8]


_HOST = _host_tag()


def _temporary_prefix(path: Path) -> str:
    """``.<name>.mynn-<host>-``: what every temporary file of a save to ``path`` starts with."""
    return f".{path.name}.mynn-{_HOST}-"


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files that saves to ``path`` left behind when they were killed.

    A file is stale when the process named in it is gone; the temporary files of live
    processes (a concurrent save) are left alone, and so are those of other machines, whose
    processes cannot be asked. Only on POSIX systems, where a process can be asked whether it
    exists without harming it.
    """
    if os.name != "posix":
        return
    prefix = _temporary_prefix(path)
    pattern = re.compile(re.escape(prefix) + r"(\d+)-[0-9a-f]{8}\.tmp")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = pattern.fullmatch(entry.name)
        if match is not None and not _process_exists(int(match.group(1))):
            try:
                os.unlink(entry.path)
            except OSError:
                pass  # removed by another save meanwhile, or not ours to remove


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        # it exists and belongs to someone else (PermissionError), the number is no process id,
        # or the system cannot say: then the file is left alone
        return True
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); where folders cannot be opened, do nothing."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _describe(model) -> dict[str, np.ndarray]:
    """The arrays of the file, ``__meta__`` first, and the model's classes checked."""
    meta: dict = {"format": _MAGIC, "format_version": FORMAT_VERSION, "layers": []}
    arrays: dict[str, np.ndarray] = {"__meta__": np.zeros(0, dtype=np.uint8)}  # filled below
    for index, layer in enumerate(model.layers):
        entry: dict = {
            "class": _class_name(layer, _LAYERS, f"layer {index}"),
            "config": layer.get_config(),
        }
        if isinstance(layer, layers.Dropout):
            entry["rng_state"] = layer.rng.bit_generator.state
        meta["layers"].append(entry)
        for name, (value, _) in layer.parameters().items():
            arrays[f"layers/{index}/{name}"] = value
    if model.loss is not None:
        meta["loss"] = {
            "class": _class_name(model.loss, _LOSSES, "the loss"),
            "config": model.loss.get_config(),
        }
    if model.accuracy is not None:
        meta["accuracy"] = {
            "class": _class_name(model.accuracy, _METRICS, "the accuracy"),
            "config": model.accuracy.get_config(),
            "precision": getattr(model.accuracy, "precision", None),
        }
    if model.optimizer is not None:
        optimizer = model.optimizer
        meta["optimizer"] = {
            "class": _class_name(optimizer, _OPTIMIZERS, "the optimizer"),
            "config": optimizer.get_config(),
            "iterations": optimizer.iterations,
        }
        for name, buffers in optimizer.state.items():
            for buffer, value in buffers.items():
                if buffer != "scratch":
                    arrays[f"optimizer/{name}/{buffer}"] = value
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    return arrays


def _class_name(obj, registry: dict[str, type], what: str) -> str:
    name = type(obj).__name__
    if registry.get(name) is not type(obj):
        raise ValueError(
            f"{what} is a {type(obj).__module__}.{name}, not one of mynn's own classes, which "
            f"are all a model file can rebuild ({', '.join(sorted(registry))}). "
            f"Received: {obj!r}"
        )
    return name


# --------------------------------------------------------------------- loading
class _Damaged(ValueError):
    """The metadata or an array does not describe a model that can be rebuilt."""


def load_model(path: str | os.PathLike) -> Model:
    """Read a model written by ``save_model``.

    The metadata is read first; every array's header (shape, dtype) is checked against the
    architecture it describes before the array's data is read, and entries the architecture
    does not need are never read. No code from the file is run: there is no pickle.

    Raises:
        TypeError: If ``path`` is not a path.
        FileNotFoundError: If ``path`` does not exist.
        IsADirectoryError: If ``path`` is a folder.
        ValueError: If the file is not a mynn model, is truncated, damaged or crafted, or was
            written by a newer format version than this mynn reads; the message names the file.
    """
    path = check_path("path", path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {str(path)!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a model file") from None
    with handle:
        try:
            archive = Archive(handle)
            meta = _read_meta(archive)
        except ArchiveError as error:
            raise _unreadable(path, error) from None
        if not isinstance(meta, dict) or meta.get("format") != _MAGIC:
            raise ValueError(
                f"{str(path)!r} is not a mynn model file: its metadata has no mynn marker."
            )
        version = meta.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(
                f"{str(path)!r} is an incomplete or damaged mynn model: its format version is "
                f"{_short(version)}, not a positive integer."
            )
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} was written in model format version {version!r}; this mynn reads "
                f"versions up to {FORMAT_VERSION}. Upgrade mynn to load it."
            )
        try:
            return _rebuild(meta, archive)
        except ArchiveError as error:
            raise _unreadable(path, error) from None
        except _Damaged as error:
            raise ValueError(
                f"{str(path)!r} is an incomplete or damaged mynn model: {error}."
            ) from None


def _unreadable(path: Path, error: ArchiveError) -> ValueError:
    return ValueError(
        f"{str(path)!r} is not a readable mynn model file: {error}. "
        "Expected an archive written by Model.save()."
    )


def _read_meta(archive: Archive):
    if "__meta__" not in archive:
        raise ArchiveError("it has no mynn metadata")
    header = archive.header("__meta__")
    if header.dtype != np.uint8 or len(header.shape) != 1 or header.nbytes > _META_LIMIT:
        raise ArchiveError(
            f"its metadata is not JSON text of at most {_META_LIMIT} bytes (it has shape "
            f"{header.shape} and dtype {header.dtype})"
        )
    text = archive.read(header).tobytes()  # outside the try: its CRC error says what it is
    try:
        return json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError among them
        raise ArchiveError("its metadata is not valid JSON text") from None


def _rebuild(meta: dict, archive: Archive):
    from .model import Model

    model = Model()
    entries = meta.get("layers")
    if not isinstance(entries, list):
        raise _Damaged(f"its metadata has no list of layers (layers is {_short(entries)})")
    for index, entry in enumerate(entries):
        where = f"layer {index}"
        cls, config = _class_and_config(entry, _LAYERS, "layer", where)
        headers = {
            name: _expect(archive, f"layers/{index}/{name}", shape, dtype)
            for name, (shape, dtype) in _parameter_layout(cls, config, where).items()
        }
        layer = _build(cls, config, where)
        if "rng_state" in entry:
            _restore_rng(layer, entry["rng_state"], where)
        parameters = layer.parameters()
        if set(parameters) != set(headers):
            raise _Damaged(f"{where} ({cls.__name__}) has parameters this mynn cannot restore")
        for name, (value, _) in parameters.items():
            value[...] = archive.read(headers[name])
        try:
            model.add(layer)
        except (TypeError, ValueError) as error:
            raise _Damaged(f"{where} does not fit the layers before it: {error}") from None
    if "loss" in meta:
        cls, config = _class_and_config(meta["loss"], _LOSSES, "loss", "the loss")
        model.set_loss(_build(cls, config, "the loss"))
    if "accuracy" in meta:
        cls, config = _class_and_config(meta["accuracy"], _METRICS, "accuracy", "the accuracy")
        accuracy = _build(cls, config, "the accuracy")
        precision = meta["accuracy"].get("precision")
        if precision is not None and isinstance(accuracy, metrics.RegressionAccuracy):
            accuracy.precision = _checked(
                lambda: check_number("precision", precision, low=0.0, low_open=True),
                "the accuracy's precision",
            )
        model.set_accuracy(accuracy)
    if "optimizer" in meta:
        model.set_optimizer(_rebuild_optimizer(meta["optimizer"], model, archive))
    return model


def _rebuild_optimizer(entry, model, archive: Archive):
    cls, config = _class_and_config(entry, _OPTIMIZERS, "optimizer", "the optimizer")
    optimizer = _build(cls, config, "the optimizer")
    iterations = entry.get("iterations", 0)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or not (
        0 <= iterations <= _MAX_ITERATIONS
    ):
        raise _Damaged(
            f"the optimizer's iterations must be a whole number from 0 to {_MAX_ITERATIONS}, "
            f"not {_short(iterations)}"
        )
    optimizer.iterations = iterations
    buffers = tuple(optimizer.buffers)
    for name, value, _ in model.parameters():
        stored = [buffer for buffer in buffers if f"optimizer/{name}/{buffer}" in archive]
        if not stored:
            continue  # a parameter the optimizer has not stepped yet
        if len(stored) != len(buffers):
            missing = sorted(set(buffers) - set(stored))
            raise _Damaged(f"the optimizer state of {name} lacks {', '.join(missing)}")
        headers = {
            buffer: _expect(archive, f"optimizer/{name}/{buffer}", value.shape, value.dtype)
            for buffer in buffers
        }
        state = optimizer.init_state(value)
        for buffer, header in headers.items():
            state[buffer][...] = archive.read(header)
        optimizer.state[name] = state
    return optimizer


def _class_and_config(entry, registry: dict[str, type], kind: str, where: str) -> tuple[type, dict]:
    """The class and constructor arguments of one object of the metadata, checked."""
    if not isinstance(entry, dict):
        raise _Damaged(f"{where} is described by {_short(entry)}, not by an object")
    name = entry.get("class")
    if not isinstance(name, str) or name not in registry:
        raise _Damaged(f"unknown {kind} class {_short(name)} in the model file")
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise _Damaged(f"{where} ({name}) has the config {_short(config)}, not an object")
    return registry[name], config


def _parameter_layout(cls: type, config: dict, where: str) -> dict[str, tuple]:
    """The shape and dtype of each parameter a layer of class ``cls`` built from ``config`` has,
    worked out without building it (a crafted config could ask for any size)."""
    if not issubclass(cls, layers.Dense):
        return {}
    n_inputs = _checked(lambda: check_positive_int("n_inputs", config.get("n_inputs")), where)
    n_neurons = _checked(lambda: check_positive_int("n_neurons", config.get("n_neurons")), where)
    dtype = _checked(lambda: check_dtype(config.get("dtype", "float64")), where)
    return {"weights": ((n_inputs, n_neurons), dtype), "biases": ((n_neurons,), dtype)}


def _checked(check, where: str):
    try:
        return check()
    except (TypeError, ValueError) as error:
        raise _Damaged(f"{where}: {error}") from None


def _expect(archive: Archive, name: str, shape: tuple, dtype: np.dtype) -> ArrayHeader:
    """The header of the array ``name``, checked against the ``shape`` and ``dtype`` it needs."""
    if name not in archive:
        raise _Damaged(f"the array {name} is missing")
    header = archive.header(name)
    if header.shape != tuple(shape) or header.dtype.newbyteorder("=") != dtype:
        raise _Damaged(
            f"{name} in the file has shape {header.shape} and dtype {header.dtype}; the "
            f"architecture needs shape {tuple(shape)} and dtype {dtype}"
        )
    return header


def _build(cls: type, config: dict, where: str):
    try:
        return cls(**config)
    except (TypeError, ValueError) as error:
        raise _Damaged(
            f"{where} ({cls.__name__}) cannot be built from its config {_short(config)}: {error}"
        ) from None


def _restore_rng(layer, state, where: str) -> None:
    if not isinstance(layer, layers.Dropout):
        raise _Damaged(f"{where} ({type(layer).__name__}) has a random state but draws no numbers")
    expected = layer.rng.bit_generator.state
    if not isinstance(state, dict) or state.get("bit_generator") != expected["bit_generator"]:
        raise _Damaged(
            f"{where} has the random state {_short(state)}, not one of "
            f"{expected['bit_generator']}"
        )
    try:
        layer.rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise _Damaged(f"{where} has a malformed random state ({error})") from None


def _short(value, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: crafted metadata can be any size."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
