"""Save and load models as ``.npz`` archives with JSON metadata: no pickle, atomic writes.

The archive holds one array per parameter (``layers/0/weights``), one per optimizer buffer
(``optimizer/0.weights/momentum``) and ``__meta__``: the JSON description of the architecture,
loss, metric and optimizer as UTF-8 bytes.

**Loading trusts nothing in the file.** ``load_model`` reads the metadata first, works out
from the architecture which arrays must exist and with which shape and dtype, and compares each
array's ``.npy`` header with that before it reads the array's data. Entries it does not expect
are never read (an extra entry of 200 MB costs nothing): by default the file is refused by
their names, as PyTorch's ``load_state_dict`` refuses unexpected keys, and ``strict=False``
ignores them. Objects are rebuilt only from mynn's own classes, and no pickled object is ever
read, so a file can never run code. Whatever is wrong with a file (damaged, truncated,
crafted), the error is a ``ValueError`` that names it. Only a regular file is read: a named
pipe or a device is refused before it is opened (reading one could wait forever).

**Saving is atomic.** ``save_model`` writes to a temporary file in the target's folder and
renames it over the target, so a reader sees the old model or the new one, never half of one.
A symbolic link is written through to its target, as ``open`` would; a read-only file, a
folder, a pipe or a device is refused and left as it is (``save_model`` says why). The
temporary name carries the writer's process id: a save killed half-way leaves its temporary
file behind, and the next save to the same path removes it once that process is gone (on POSIX
systems, and only temporary files of the same machine). The temporary name stays short
whatever the length of the target's. A new file gets the permissions the umask allows (as any
file the user creates); saving over a file keeps that file's permissions.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import re
import secrets
import socket
import stat
import sys
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

    What ``path`` may name, and what happens to what is there (the policy):

    - **nothing yet**: a new file, with the permissions the umask allows;
    - **a regular file**: replaced whole. The new file keeps the old one's permissions; its
      owner and group where the system allows it: root keeps both, another user keeps the
      group if they belong to it and becomes the owner. Other hard links to the old file
      keep the old model: a rename cannot write through a hard link;
    - **a symbolic link**: written through to the file it points to, as ``open`` would: the
      link stays a link, the target gets the new model (a link to nothing yet creates its
      target). The temporary file goes beside the target, so the rename stays atomic;
    - **a read-only file** (no write permission bit, or none for this user): refused with a
      ``PermissionError`` and left as it is. The rename only needs the folder to be writable,
      so without this check a file its owner protected would be replaced without a word;
    - **anything else** (a folder, a named pipe, a device such as ``/dev/null``, a socket):
      refused, and left as it is. A path ending in ``/`` or ``.`` names a folder.

    Only the optimizer state of the model's own parameters is written, so ``load_model``
    reads back every entry of the file (state kept for names the model no longer has, or for
    a parameter whose shape changed, is state the next step would not use). It is the state
    the next ``train`` would use: a layer moved since the last ``train`` (or since
    ``load_model`` read the model) takes its own along, and a layer replaced by a new object
    has none, as the Model page's rule *optimizer state stays with its layer* says.

    Args:
        model: A [Model][mynn.model.Model] made of mynn's own layers, loss, metric and
            optimizer.
        path: The file to write (conventionally ``.npz``); its folder must exist.

    Raises:
        TypeError: If ``model`` is not a Model or ``path`` is not a str or ``os.PathLike``
            (a name held as bytes: pass ``os.fsdecode(path)``).
        ValueError: If the model holds an object of a class that is not mynn's own (a file
            rebuilds only mynn's classes), if ``path`` is empty, holds a NUL character or
            characters the file system cannot encode, or names a special file (a pipe, a
            device or a socket).
        FileNotFoundError: If the folder of ``path`` (or of the file a link points to) does
            not exist.
        NotADirectoryError: If a part of ``path`` before its last is a file, not a folder.
        IsADirectoryError: If ``path`` is a folder or ends with ``/``.
        PermissionError: If ``path`` is a read-only file, or the folder cannot be written.
        OSError: If ``path`` is a loop of symbolic links, its name is longer than the file
            system allows, or writing fails (a full disk: the old file is then left whole).

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
    given = _path_text(path)
    arrays = _describe(model)
    target, existing = _save_target(given)
    folder = target.parent
    _remove_stale_temporaries(target)
    temporary = folder / f"{_temporary_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        # 0o666 minus the umask, as for any file the user creates (mkstemp would make it 0o600)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    except OSError as error:
        raise type(error)(
            f"cannot create a file in the folder {str(folder)!r} ({error.strerror}): save_model "
            f"writes a temporary file there first. Received: path={given!r}"
        ) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if existing is not None:
                _keep_owner_and_mode(handle.fileno(), existing)
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(folder)


_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_NONBLOCKING = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a pipe does not wait for a writer
_NO_TERMINAL = getattr(os, "O_NOCTTY", 0)  # POSIX: a terminal opened never becomes ours
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words, for a file that is not regular."""
    for test, name in _SPECIAL:
        if test(mode):
            return name
    return "a special file"


def _path_text(path) -> str:
    """``path`` as the text the operating system is given, checked: a path that could only
    fail later, or that ``pathlib`` would quietly change (``Path("m.npz/")`` is ``m.npz``)."""
    if isinstance(path, bytes):
        raise TypeError(
            "path must be a file path (str or pathlib.Path); for a name held as bytes, pass "
            f"os.fsdecode(path), which keeps bytes that are not UTF-8. Received: path={path!r}"
        )
    check_path("path", path)
    text = os.fspath(path)
    if text == "":
        raise ValueError("path is empty; give a file name such as 'model.npz'. Received: path=''")
    if "\0" in text:
        raise ValueError(
            f"path holds a NUL character, which no file name can hold. Received: path={text!r}"
        )
    try:
        os.fsencode(text)
    except UnicodeEncodeError as error:
        raise ValueError(
            f"path holds {text[error.start : error.end]!r}, which this file system's encoding "
            f"({sys.getfilesystemencoding()}) cannot write in a file name. Received: path={text!r}"
        ) from None
    return text


def _tilde_hint(text: str) -> str:
    """A hint for a path that starts with ``~``, which no file function expands."""
    if not text.startswith("~"):
        return ""
    return " ('~' is not expanded to the home folder: pass os.path.expanduser(path))"


_SEPARATORS = os.sep + (os.altsep or "")


def _names_folder(text: str) -> bool:
    """True if ``text`` ends with a separator, ``.`` or ``..``: it can only name a folder."""
    return os.path.basename(text) in ("", ".", "..")


def _stat_error(error: OSError, text: str, what: str) -> OSError:
    """The error of ``os.stat`` on ``text`` retold: what it means for ``path``."""
    received = f"Received: path={text!r}"
    if isinstance(error, NotADirectoryError):
        stripped = text.rstrip(_SEPARATORS)
        if stripped != text and os.path.isfile(stripped):
            return NotADirectoryError(
                f"{what}: path ends with {text[len(stripped) :]!r}, which names a folder, and "
                f"{stripped!r} is a file: remove the trailing {text[-1]!r}. {received}"
            )
        return NotADirectoryError(
            f"{what}: a part of path that should be a folder is a file. {received}"
        )
    if isinstance(error, PermissionError):
        return PermissionError(
            f"{what}: a folder on the way is closed to this user ({error.strerror}). {received}"
        )
    if error.errno == errno.ELOOP:
        return OSError(
            error.errno,
            f"{what}: path is a symbolic link that leads back to itself (a loop). {received}",
        )
    if error.errno == errno.ENAMETOOLONG:
        return OSError(
            error.errno,
            f"{what}: a name in path is longer than the file system allows "
            f"({_name_limit(text)}). {received}",
        )
    return type(error)(f"{what}: {error.strerror}. {received}")


def _name_limit(text: str) -> str:
    try:
        limit = os.pathconf(os.path.dirname(os.path.abspath(text)), "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no such folder
        return "commonly 255 bytes per name"
    return f"{limit} bytes per name; the last has {len(os.fsencode(os.path.basename(text)))}"


def _save_target(text: str) -> tuple[Path, os.stat_result | None]:
    """The file a save to ``text`` writes (a symbolic link resolved) and its ``stat``, or
    ``None`` if it does not exist yet; refuses everything but a writable regular file."""
    received = f"Received: path={text!r}"
    if _names_folder(text):
        if os.path.isdir(text):
            raise IsADirectoryError(f"path is a folder, not a file. {received}")
        raise IsADirectoryError(
            f"path ends with {os.path.basename(text) or text[-1]!r}, which names a folder, and "
            f"save_model writes a file: end path with a file name such as 'model.npz'. "
            f"{received}"
        )
    target = Path(os.path.realpath(text))
    subject = "path is"
    if os.path.islink(text):
        subject = f"path links to {str(target)!r}, which is"
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise _stat_error(error, text, "cannot save there") from None
    if existing is None:
        if not target.parent.is_dir():
            if subject == "path is":
                raise FileNotFoundError(
                    f"the folder of path does not exist: {str(target.parent)!r}"
                    f"{_tilde_hint(text)}. {received}"
                )
            raise FileNotFoundError(
                f"path links to {str(target)!r}, whose folder does not exist. {received}"
            )
        return target, None
    if stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(f"{subject} a folder, not a file. {received}")
    if not stat.S_ISREG(existing.st_mode):
        raise ValueError(
            f"{subject} {_kind(existing.st_mode)}, not a regular file; save_model writes only "
            f"regular files and leaves anything else as it is: choose a file name. {received}"
        )
    protected = not existing.st_mode & 0o222
    if protected or not os.access(target, os.W_OK):
        why = "no write permission" if protected else "which this user may not write"
        raise PermissionError(
            f"{subject} a read-only file (mode {stat.filemode(existing.st_mode)}, {why}); "
            f"save_model leaves it as it is: make it writable (chmod u+w) or remove it first "
            f"to replace it. {received}"
        )
    return target, existing


def _keep_owner_and_mode(descriptor: int, existing: os.stat_result) -> None:
    """Give the new file the old one's owner and group (where allowed), then its mode."""
    # Pyodide (the site's Run buttons) has no fchown, geteuid nor getegid
    owner = (getattr(os, "geteuid", lambda: None)(), getattr(os, "getegid", lambda: None)())
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != owner:
        try:
            os.fchown(descriptor, existing.st_uid, existing.st_gid)
        except OSError:
            try:  # a group this user belongs to, at least
                os.fchown(descriptor, -1, existing.st_gid)
            except OSError:
                pass
    if hasattr(os, "fchmod"):  # after fchown, which may clear the set-id bits
        os.fchmod(descriptor, stat.S_IMODE(existing.st_mode))


def _host_tag() -> str:
    """Eight hex digits naming this machine, to tell its temporary files from another's."""
    try:
        host = socket.gethostname()
    except OSError:  # a sandbox without one (a browser's WebAssembly Python, say)
        host = "unknown"
    return hashlib.sha256(host.encode("utf-8")).hexdigest()[:8]


_HOST = _host_tag()
_NAME_KEPT = 80
"""The most bytes of the target's name a temporary name holds (a longer name is cut and a
hash of it added): the temporary name stays under 120 bytes, within every file system's
limit (255 bytes on most, 143 on eCryptfs), whatever the length of the target's name."""


def _temporary_prefix(path: Path) -> str:
    """``.<name>.mynn-<host>-``: what every temporary file of a save to ``path`` starts with.

    A name longer than ``_NAME_KEPT`` bytes is cut, and 16 hex digits of its SHA-256 follow
    it (``~``), so two long names that begin alike still get prefixes of their own.
    """
    name = path.name
    encoded = os.fsencode(name)
    if len(encoded) > _NAME_KEPT:
        head = name[: _NAME_KEPT - 17]
        while len(os.fsencode(head)) > _NAME_KEPT - 17:
            head = head[:-1]
        name = f"{head}~{hashlib.sha256(encoded).hexdigest()[:16]}"
    return f".{name}.mynn-{_HOST}-"


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
        # the state of the model's own parameters only: what load_model expects and reads.
        # A layer replaced or moved since the last train() has its state (or none) where the
        # next train() would put it: the rule of the Model page, "state stays with its layer".
        moves = model._state_moves()
        for name, value, _ in model.parameters():
            state = (moves[name] if name in moves else optimizer.state.get(name)) or {}
            kept = [state.get(buffer) for buffer in optimizer.buffers]
            if all(
                buffer is not None and buffer.shape == value.shape and buffer.dtype == value.dtype
                for buffer in kept
            ):
                for buffer, array in zip(optimizer.buffers, kept):
                    arrays[f"optimizer/{name}/{buffer}"] = array
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


def load_model(path: str | os.PathLike, *, strict: bool = True) -> Model:
    """Read a model written by ``save_model``.

    The metadata is read first; every array's header (shape, dtype) is checked against the
    architecture it describes before the array's data is read. No code from the file is run:
    there is no pickle.

    Entries nobody asked for (the policy, with the meaning of PyTorch's ``load_state_dict``):
    with ``strict=True`` (the default) a file must hold exactly the arrays its metadata
    describes, and an entry the model does not use (the optimizer state of a parameter the
    model does not have, optimizer state in a file whose model has no optimizer, an array of
    no layer) is refused by name: ``save_model`` writes none (a file an earlier mynn saved
    from an optimizer shared with another model may hold some). With ``strict=False`` those
    entries are ignored, and never read. Either way a parameter's
    optimizer state must hold exactly the buffers of the file's optimizer, or none: Adam's
    ``momentum`` beside the ``cache`` of an ``RMSProp`` is the state of another optimizer, and
    is refused rather than half adopted.

    ``path`` must be a regular file, or a symbolic link to one. Anything else is refused
    before it is read: a folder, and a named pipe or a device (whose reading could wait
    forever); the file is opened without waiting, and checked again once open. A file being
    replaced by ``save_model`` meanwhile is read whole, old or new (the rename leaves the
    open file as it was); one changed in place while it is read is refused (an array's CRC-32
    does not match, or the file is found truncated).

    Args:
        path: The file to read.
        strict: Refuse entries the model does not use (``True``) or ignore them (``False``).

    Raises:
        TypeError: If ``path`` is not a str or ``os.PathLike`` (a name held as bytes: pass
            ``os.fsdecode(path)``), or ``strict`` is not a bool.
        FileNotFoundError: If ``path`` does not exist (one starting with ``~``: the message
            says to expand it).
        NotADirectoryError: If a part of ``path`` that should be a folder is a file (a
            trailing ``/`` after a file's name among them).
        IsADirectoryError: If ``path`` is a folder.
        PermissionError: If this user may not read ``path``.
        ValueError: If ``path`` is empty or holds a NUL character, is a pipe, a device or a
            socket, or if the file is not a mynn model, is truncated, damaged or crafted,
            holds entries the model does not use (with ``strict=True``), or was written by a
            newer format version than this mynn reads; the message names the file.
        OSError: If ``path`` is a loop of symbolic links or its name is too long.
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False. Received: strict={strict!r}")
    text = _path_text(path)
    with _open_regular(text) as handle:
        try:
            archive = Archive(handle)
            meta = _read_meta(archive)
        except ArchiveError as error:
            raise _unreadable(text, error) from None
        if not isinstance(meta, dict) or meta.get("format") != _MAGIC:
            raise ValueError(f"{text!r} is not a mynn model file: its metadata has no mynn marker.")
        version = meta.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(
                f"{text!r} is an incomplete or damaged mynn model: its format version is "
                f"{_short(version)}, not a positive integer."
            )
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{text!r} was written in model format version {version!r}; this mynn reads "
                f"versions up to {FORMAT_VERSION}. Upgrade mynn to load it."
            )
        try:
            model = _rebuild(meta, archive)
        except ArchiveError as error:
            raise _unreadable(text, error) from None
        except _Damaged as error:
            raise ValueError(f"{text!r} is an incomplete or damaged mynn model: {error}.") from None
        unused = archive.unasked() if strict else iter(())
        first = list(itertools.islice(unused, 5))
        if first:
            count = len(first) + sum(1 for _ in unused)  # one pass, no list of every name
            shown = ", ".join(_short(name, 60) for name in first)
            more = f" and {count - 5} more" if count > 5 else ""
            raise ValueError(
                f"{text!r} holds {count} entr{'y' if count == 1 else 'ies'} the "
                f"model does not use: {shown}{more}. They may be another model's optimizer "
                "state or entries added to the file; pass strict=False to ignore them. "
                "Received: strict=True"
            )
        return model


def _open_regular(text: str):
    """``text`` open for reading in binary, refused unless it is a regular file."""
    try:
        mode = os.stat(text).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {text!r}{_tilde_hint(text)}") from None
    except OSError as error:
        raise _stat_error(error, text, "cannot load it") from None
    _check_regular(mode, text)
    try:
        # without waiting: a pipe put there since the stat is opened at once, then refused
        descriptor = os.open(text, os.O_RDONLY | _BINARY | _NONBLOCKING | _NO_TERMINAL)
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {text!r}{_tilde_hint(text)}") from None
    except PermissionError as error:
        raise PermissionError(
            f"cannot load it: this user may not read the file ({error.strerror}). "
            f"Received: path={text!r}"
        ) from None
    except OSError as error:
        raise _stat_error(error, text, "cannot load it") from None
    try:
        _check_regular(os.fstat(descriptor).st_mode, text)
    except BaseException:
        os.close(descriptor)
        raise
    return open(descriptor, "rb")


def _check_regular(mode: int, text: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{text!r} is a folder, not a model file")
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"{text!r} is {_kind(mode)}, not a model file: load_model reads only regular "
            f"files (reading a pipe or a device could wait forever). Received: path={text!r}"
        )


def _unreadable(text: str, error: ArchiveError) -> ValueError:
    return ValueError(
        f"{text!r} is not a readable mynn model file: {error}. "
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
        # the state read belongs to these layers in these places: a layer replaced or moved
        # before the next train() is then handled as in a model that trained (Model page)
        model._laid_out = list(model.layers)
    return model


def _rebuild_optimizer(entry, model, archive: Archive):
    cls, config = _class_and_config(entry, _OPTIMIZERS, "optimizer", "the optimizer")
    optimizer = _build(cls, config, "the optimizer")
    iterations = entry.get("iterations", 0)
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, int)
        or not (0 <= iterations <= _MAX_ITERATIONS)
    ):
        raise _Damaged(
            f"the optimizer's iterations must be a whole number from 0 to {_MAX_ITERATIONS}, "
            f"not {_short(iterations)}"
        )
    optimizer.iterations = iterations
    buffers = tuple(optimizer.buffers)
    in_file: dict[str, set[str]] = {}  # parameter name -> the buffers the file has for it
    for entry in archive.names("optimizer/"):
        if "/" in entry[len("optimizer/") :]:
            parameter, buffer = entry[len("optimizer/") :].rsplit("/", 1)
            in_file.setdefault(parameter, set()).add(buffer)
    for name, value, _ in model.parameters():
        stored = in_file.get(name, set())
        if not stored:
            continue  # a parameter the optimizer has not stepped yet
        foreign = stored - set(buffers)
        if foreign:
            listed = ", ".join(sorted(foreign))
            listed = listed if len(listed) <= 80 else listed[:77] + "..."
            keeps = " and ".join(buffers) if buffers else "no state"
            raise _Damaged(
                f"the optimizer state of {name} holds {listed}, which {cls.__name__} does not "
                f"keep ({cls.__name__} keeps {keeps}): the state of another optimizer or a "
                "changed file, never adopted"
            )
        if stored != set(buffers):
            missing = sorted(set(buffers) - stored)
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
            f"{where} has the random state {_short(state)}, not one of {expected['bit_generator']}"
        )
    try:
        layer.rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise _Damaged(f"{where} has a malformed random state ({error})") from None


def _short(value, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: crafted metadata can be any size."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
