"""MNIST and Fashion-MNIST: read the IDX format, download from mirrors, verify, cache.

Both data sets are four gzip-compressed IDX files: training images and labels (60,000) and
test images and labels (10,000), images of 28x28 pixels with values 0 to 255 and labels 0 to 9.
[load_mnist][mynn.mnist.load_mnist] and [load_fashion_mnist][mynn.mnist.load_fashion_mnist]
look for each file in three places, in this order:

1. the cache folder: ``cache_dir`` when given, else the environment variable ``MYNN_DATA``,
   else ``~/.cache/mynn``, with a subfolder per data set (``mnist``, ``fashion-mnist``);
2. read-only system folders where an operating-system package installs the files (Debian's
   and Ubuntu's ``dataset-fashion-mnist`` puts Fashion-MNIST in
   ``/usr/share/datasets/fashion-mnist``); they are read in place and never written to;
3. the mirrors, tried in turn: the download goes to a temporary file *inside* the cache folder,
   is checked, and only then is renamed to its final name, so the cache never holds a partial
   or corrupt file under a name the loader reads. A mirror that cannot be reached, answers with
   an error or serves a wrong file is skipped and the next one is tried. Each download has a
   total time limit (``time_limit``, besides ``timeout`` for a silent server) and a size limit
   (a little more than the file's known uncompressed size, see [DATASETS][mynn.mnist.DATASETS]),
   so a server that drips bytes or sends without end is cut off.

Every file, wherever it comes from, is checked the same way: the sha256 of its *uncompressed*
IDX bytes must equal the value in [DATASETS][mynn.mnist.DATASETS], and the IDX structure must
parse. Checking the content rather than the ``.gz`` file accepts any faithful copy (the
published gzip files, a copy recompressed by a packager, as Debian's is, or files already
uncompressed) and still rejects one with a single wrong byte. When no place has a file (or
``download=False``), the error lists the files to fetch by hand and the folder to put them in.
Only the standard library (``urllib``, ``gzip``, ``hashlib``) and numpy are used.

Sources: MNIST by Y. LeCun, C. Cortes and C. J. C. Burges (the usual mirrors, as used by
torchvision and TensorFlow); Fashion-MNIST by H. Xiao, K. Rasul and R. Vollgraf (Zalando
Research, MIT licence). The checksums are the sha256 of each file's uncompressed content, not
values either data set publishes: Fashion-MNIST's README gives md5 sums of its ``.gz`` files,
which a recompressed copy does not match (see [DATASETS][mynn.mnist.DATASETS]). Run
``python -m mynn.mnist`` to download both into the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import numbers
import os
import re
import socket
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_bool, check_dtype, check_number, check_path

__all__ = [
    "DATASETS",
    "DownloadError",
    "default_cache_dir",
    "size_limit",
    "parse_idx",
    "read_idx",
    "fetch",
    "load_mnist",
    "load_fashion_mnist",
]

# Both data sets have MNIST's layout: the uncompressed size of each file, in bytes (an IDX
# header of 16 bytes for images, 8 for labels, then one byte per pixel or label).
_IDX_SIZES = {
    "train-images-idx3-ubyte.gz": 16 + 60_000 * 28 * 28,
    "train-labels-idx1-ubyte.gz": 8 + 60_000,
    "t10k-images-idx3-ubyte.gz": 16 + 10_000 * 28 * 28,
    "t10k-labels-idx1-ubyte.gz": 8 + 10_000,
}

DATASETS: dict[str, dict] = {
    "mnist": {
        "title": "MNIST",
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        "files": {
            "train-images-idx3-ubyte.gz": (
                "sha256:ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
            ),
            "train-labels-idx1-ubyte.gz": (
                "sha256:65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "sha256:0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "sha256:ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
            ),
        },
        "sizes": _IDX_SIZES,
        "system_dirs": (),
        "system_package": None,
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "mirrors": (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ),
        "files": {
            "train-images-idx3-ubyte.gz": (
                "sha256:c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
            ),
            "train-labels-idx1-ubyte.gz": (
                "sha256:bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "sha256:5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "sha256:0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
            ),
        },
        "sizes": _IDX_SIZES,
        "system_dirs": ("/usr/share/datasets/fashion-mnist",),
        "system_package": "dataset-fashion-mnist",
    },
}
"""The data sets the loaders know, by key (``"mnist"``, ``"fashion-mnist"``).

Each entry has a ``title``, the ``mirrors`` (base URLs, tried in turn), the four ``files`` in
the order training images, training labels, test images, test labels, their ``sizes`` (bytes of
the uncompressed IDX file: the header and 60,000 or 10,000 images or labels), the read-only
``system_dirs`` where an operating-system package installs them and that package's name
(``system_package``, for Debian and Ubuntu; ``None`` when there is none).

The sizes bound what is read: a download, or a file in the cache or a system folder, may
exceed its size by at most the margin of [size_limit][mynn.mnist.size_limit] (a gzip file of
incompressible data is a little larger than the data), and no file is uncompressed beyond its
size, so a server that sends without end or a gzip bomb costs no more disk or memory than a
genuine copy of the file.

Each file's checksum is the sha256 of its **uncompressed** IDX bytes, not of the ``.gz``
file, so that every faithful copy passes whatever its compression. The values are the ones
that many independent loaders record for the decompressed files; for Fashion-MNIST they also
agree with the md5 sums of the decompressed files that other loaders publish and with the
files of Debian's ``dataset-fashion-mnist``, whose recompressed ``.gz`` files differ from the
originals (their md5 does not match the values in Fashion-MNIST's README) while their content
is the same. Pass other ``mirrors`` or ``checksums`` to the loaders rather than editing this
table.
"""

# IDX type codes (third byte of the magic number) and the big-endian dtypes they name.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CHECKSUM = re.compile(r"^(sha256|md5):([0-9a-fA-F]+)$")
_HEX_LENGTH = {"sha256": 64, "md5": 32}
_CHUNK = 1 << 20


class DownloadError(OSError):
    """No mirror delivered a file (unreachable, HTTP error or wrong checksum)."""


def default_cache_dir() -> Path:
    """The cache folder: ``$MYNN_DATA`` when set and not empty, else ``~/.cache/mynn``.

    The result is absolute: a relative ``MYNN_DATA`` is taken relative to the working folder
    at the moment it is read, so the paths the loaders return stay right after a ``chdir``.
    """
    configured = os.environ.get("MYNN_DATA")
    if configured:
        return Path(os.path.abspath(Path(configured).expanduser()))
    return Path.home() / ".cache" / "mynn"


def size_limit(size: int) -> int:
    """The most bytes a copy of a file whose uncompressed content has ``size`` bytes may take.

    A gzip file of data that does not compress is larger than the data by its header, its
    trailer and 5 bytes per stored block of at most 64 KiB (zlib at its usual levels writes
    blocks of 16 KiB: about 0.03% more), far less than the 1% and 4 KiB allowed here.

    Examples:
        >>> from mynn.mnist import size_limit
        >>> size_limit(10_008)
        14204
        >>> import gzip, numpy as np
        >>> data = np.random.default_rng(0).bytes(1_000_000)  # random: incompressible
        >>> extra = len(gzip.compress(data)) - len(data)
        >>> assert 0 < extra < 0.001 * len(data), extra  # far below the 1% allowed
    """
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
        raise TypeError(f"size must be a whole number of bytes. Received: size={size!r}")
    if size < 0:
        raise ValueError(f"size must be a number of bytes, 0 or more. Received: size={size!r}")
    size = int(size)
    return size + size // 100 + 4096


# ------------------------------------------------------------------------- IDX format
def parse_idx(data: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into an array.

    An IDX file starts with a magic number of four bytes, ``0x00 0x00 <type> <ndim>``, then
    ``ndim`` dimension sizes as big-endian uint32, then the values in C order, big-endian.
    The type byte is 0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32)
    or 0x0E (float64).

    Args:
        data: The file's bytes.
        name: What to call the data in error messages (a file name).

    Returns:
        An array of shape ``dims`` in native byte order (a copy, writable).

    Raises:
        ValueError: If the magic number is wrong, the header is cut short, or the data is
            shorter (truncated) or longer than the dimensions say.

    Examples:
        >>> import numpy as np
        >>> from mynn.mnist import parse_idx
        >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
        >>> parse_idx(header + bytes(range(6))).tolist()
        [[0, 1, 2], [3, 4, 5]]
        >>> parse_idx(header + bytes(range(5)), name="demo")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: demo is truncated: its header announces 2x3 values of uint8 (6 bytes) ...
    """
    try:
        data = memoryview(data).cast("B")
    except TypeError:
        raise TypeError(
            f"data must be bytes (the content of an IDX file). Received: data={data!r:.80}"
        ) from None
    if len(data) < 4:
        raise ValueError(f"{name} is not an IDX file: it has only {len(data)} bytes.")
    zero_1, zero_2, type_code, ndim = data[:4]
    if zero_1 or zero_2 or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{name} is not an IDX file: its magic number is 0x{bytes(data[:4]).hex()}, "
            "expected 0x0000 followed by a type byte (08, 09, 0b, 0c, 0d or 0e) and the "
            "number of dimensions (1 or more)."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{name} is truncated: its header needs {header} bytes for {ndim} dimensions "
            f"but the file has {len(data)}."
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        problem = "is truncated" if found < expected else "is longer than its header says"
        raise ValueError(
            f"{name} {problem}: its header announces {'x'.join(map(str, dims))} values of "
            f"{dtype.name} ({expected} bytes) but {'only ' if found < expected else ''}"
            f"{found} bytes follow the header."
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return values.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``, detected by content) or not.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is a damaged or truncated gzip stream, or not a valid IDX file
            (see [parse_idx][mynn.mnist.parse_idx]).
    """
    path = check_path("path", path)
    return parse_idx(_uncompressed(path, path.read_bytes()), name=str(path))


def _uncompressed(path: Path, raw: bytes, limit: int | None = None) -> bytes:
    """The IDX bytes of a file's content ``raw``: gunzipped when it is gzip, else as is.

    With ``limit``, content longer than ``limit`` bytes is an error, found without ever holding
    more than ``limit`` bytes of it (a small gzip file can expand to gigabytes).
    """
    if raw[:2] != b"\x1f\x8b":  # the gzip magic number
        if limit is not None and len(raw) > limit:
            raise ValueError(f"{path} has {len(raw)} bytes, more than the {limit} it can have.")
        return raw
    if limit is None:
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(
                f"{path} is not a complete gzip file (truncated or corrupt): {error}"
            ) from None
    parts, total, rest = [], 0, raw
    while rest:  # one gzip member after another, as gzip.decompress reads them
        if rest[:2] != b"\x1f\x8b":
            raise ValueError(f"{path} is not a complete gzip file: it has trailing garbage.")
        stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = stream.decompress(rest, limit - total + 1)
        except zlib.error as error:
            raise ValueError(f"{path} is not a complete gzip file (corrupt): {error}") from None
        total += len(part)
        if total > limit:
            raise ValueError(
                f"{path} uncompresses to more than the {limit} bytes its content can have."
            )
        if not stream.eof:
            raise ValueError(f"{path} is not a complete gzip file (truncated).")
        parts.append(part)
        rest = stream.unused_data
    return b"".join(parts)


# ------------------------------------------------------------------------- checksums
def _parse_checksum(filename: str, checksum: str | None) -> tuple[str, str] | None:
    if checksum is None:
        return None
    match = _CHECKSUM.match(checksum) if isinstance(checksum, str) else None
    if match is None or len(match.group(2)) != _HEX_LENGTH[match.group(1)]:
        raise ValueError(
            f'the checksum of {filename} must be "sha256:<64 hex digits>", '
            f'"md5:<32 hex digits>" or None. Received: {checksum!r}'
        )
    return match.group(1), match.group(2).lower()


def _check_file(
    path: Path, expected: tuple[str, str] | None, size: int | None = None
) -> str | None:
    """``None`` if ``path`` holds the expected data and parses as IDX, else the reason.

    The checksum is compared with the digest of the uncompressed IDX bytes, so any faithful
    copy passes however it was compressed; a checksum of the file exactly as stored (the
    ``.gz`` bytes) is accepted too, for checksums passed in by hand. With ``size`` (the
    content's known size), a file larger than [size_limit][mynn.mnist.size_limit] allows is
    refused before it is read, and its content is not uncompressed beyond ``size``.
    """
    try:
        stored = path.stat().st_size
        if size is not None and stored > size_limit(size):
            return (
                f"it has {stored} bytes, more than the {size_limit(size)} a copy of this file "
                "can take"
            )
        raw = path.read_bytes()
        content = _uncompressed(path, raw, size)
        if expected is not None:
            algorithm, want = expected
            got = hashlib.new(algorithm, content).hexdigest()
            if got != want and (content is raw or hashlib.new(algorithm, raw).hexdigest() != want):
                return (
                    f"checksum mismatch: the {algorithm} of its uncompressed content is {got}, "
                    f"expected {want}"
                )
        parse_idx(content, name=str(path))
    except ValueError as error:
        return str(error)
    return None


# -------------------------------------------------------------------------- download
def _download(
    url: str,
    target: Path,
    expected: tuple[str, str] | None,
    timeout: float,
    time_limit: float,
    size: int | None,
) -> str | None:
    """Download ``url`` into ``target`` atomically; ``None`` on success, else the reason.

    ``timeout`` bounds each wait for the server (connecting, every read); ``time_limit`` bounds
    the whole download: a watchdog shuts the connection down when it runs out, so a server
    that sends a byte now and then, in its headers or its body, cannot hold the loader. The
    download stops as soon as it is larger than ``size_limit(size)``.
    """
    import http.client
    import urllib.error
    import urllib.request

    limit = None if size is None else size_limit(size)
    sockets: list[socket.socket] = []
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        for sock in list(sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes up a read blocked on this socket
            except OSError:
                pass  # already closed

    watchdog = threading.Timer(time_limit, expire)
    watchdog.daemon = True
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    temporary = Path(temporary)
    started = time.monotonic()
    watchdog.start()
    try:
        with os.fdopen(handle, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "mynn"})
            with _opener(sockets).open(request, timeout=min(timeout, time_limit)) as response:
                announced = response.headers.get("Content-Length", "")
                if limit is not None and announced.isdigit() and int(announced) > limit:
                    return (
                        f"the server announces {int(announced)} bytes, more than the {limit} "
                        "a copy of this file can take"
                    )
                received = 0
                while not expired.is_set():
                    chunk = response.read1(_CHUNK)  # what has arrived: never waits to fill
                    if not chunk:
                        break
                    received += len(chunk)
                    if limit is not None and received > limit:
                        return (
                            f"the download passed {limit} bytes, more than a copy of this file "
                            "can take"
                        )
                    out.write(chunk)
        if expired.is_set():
            raise TimeoutError("time limit")
        if announced.isdigit() and received < int(announced):  # read1 stops at EOF quietly
            return (
                f"the server sent {received} of the {int(announced)} bytes it announced "
                "(truncated)"
            )
        problem = _check_file(temporary, expected, size)
        if problem is not None:
            return problem
        os.replace(temporary, target)
        return None
    except (OSError, http.client.HTTPException) as error:  # URLError, HTTPError, timeouts
        if expired.is_set():
            return (
                f"TimeoutError: the download took longer than time_limit={time_limit:g} s "
                f"(stopped after {time.monotonic() - started:.1f} s)"
            )
        if isinstance(error, urllib.error.URLError) and not isinstance(
            error, urllib.error.HTTPError
        ):
            error = error.reason  # e.g. ConnectionRefusedError inside the URLError
        return f"{type(error).__name__}: {error}"
    finally:
        watchdog.cancel()
        temporary.unlink(missing_ok=True)


def _opener(sockets: list[socket.socket]):
    """A urllib opener (proxies and redirects as usual) that lists every socket it connects."""
    import urllib.request

    def recording(connection_class):
        class Recording(connection_class):
            def connect(self):
                super().connect()
                sockets.append(self.sock)

        return Recording

    class HTTPHandler(urllib.request.HTTPHandler):
        def do_open(self, http_class, request, **kwargs):
            return super().do_open(recording(http_class), request, **kwargs)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def do_open(self, http_class, request, **kwargs):
            return super().do_open(recording(http_class), request, **kwargs)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def _resolve(
    dataset: str,
    cache_dir: str | os.PathLike | None,
    mirrors: Sequence[str] | None,
    checksums: Mapping[str, str | None] | None,
    system_dirs: Sequence[str | os.PathLike] | None,
) -> tuple[dict, Path, tuple[str, ...], dict[str, tuple[str, str] | None], tuple[Path, ...]]:
    if dataset not in DATASETS:
        raise ValueError(
            f"dataset must be one of {sorted(DATASETS)}. Received: dataset={dataset!r}"
        )
    spec = DATASETS[dataset]
    if cache_dir is None:
        root = default_cache_dir()
    else:  # absolute, so that the returned paths stay right after a chdir
        root = Path(os.path.abspath(check_path("cache_dir", cache_dir).expanduser()))
    folder = root / dataset
    if mirrors is None:
        mirrors = spec["mirrors"]
    if isinstance(mirrors, (str, bytes)) or not all(isinstance(m, str) for m in mirrors):
        raise TypeError(
            f"mirrors must be a sequence of base URLs (str). Received: mirrors={mirrors!r}"
        )
    mirrors = tuple(mirrors)
    if not mirrors:
        raise ValueError("mirrors must name at least one base URL. Received: mirrors=()")
    if system_dirs is None:
        system_dirs = spec["system_dirs"]
    if isinstance(system_dirs, (str, bytes, os.PathLike)) or not all(
        isinstance(d, (str, os.PathLike)) for d in system_dirs
    ):
        raise TypeError(
            "system_dirs must be a sequence of folder paths (str or Path). "
            f"Received: system_dirs={system_dirs!r}"
        )
    table = dict(spec["files"])
    if checksums is not None:
        unknown = set(checksums) - set(table)
        if unknown:
            raise ValueError(
                f"checksums names files that {spec['title']} does not have: {sorted(unknown)}. "
                f"Its files are {list(table)}."
            )
        table.update(checksums)
    parsed = {name: _parse_checksum(name, value) for name, value in table.items()}
    # absolute, like the cache folder, so that the returned paths stay right after a chdir
    system = tuple(Path(os.path.abspath(Path(d).expanduser())) for d in system_dirs)
    return spec, folder, mirrors, parsed, system


def _instructions(
    spec: dict,
    folder: Path,
    missing: list[str],
    mirrors: tuple[str, ...],
    notes: list[str],
) -> str:
    files = "\n".join(f"  {name}" for name in missing)
    sources = "\n".join(f"  {mirror}" for mirror in mirrors)
    text = (
        f"Download these {spec['title']} files:\n{files}\nfrom one of:\n{sources}\n"
        f"and put them, gzip-compressed or not, in the folder\n  {folder}\n"
        "(to use another folder, pass cache_dir= or set the environment variable MYNN_DATA;\n"
        "the files go in its subfolder named after the data set)."
    )
    if spec["system_package"]:
        text += (
            f"\nOn Debian or Ubuntu, `apt-get install {spec['system_package']}` installs them "
            f"in {', '.join(spec['system_dirs'])}, where they are found without a download."
        )
    if notes:
        text += "\nAlso found, and not used:\n" + "\n".join(f"  {note}" for note in notes)
    return text


def _find_local(
    name: str,
    folder: Path,
    system_dirs: tuple[Path, ...],
    expected: tuple[str, str] | None,
    notes: list[str],
    size: int | None = None,
) -> Path | None:
    """Where ``name`` is found, checked, without a download; ``None`` if nowhere.

    A damaged file in the cache is an error (it would shadow every later attempt); a damaged
    copy in a system folder is passed over, with the reason appended to ``notes``.
    """
    for path in (folder / name, folder / name.removesuffix(".gz")):
        if path.is_file():
            problem = _check_file(path, expected, size)
            if problem is not None:
                raise ValueError(
                    f"the cached file {path} is damaged: {problem}. Delete it to download "
                    "it again (or pass checksums= if you put a different copy there on purpose)."
                )
            return path
    for system in system_dirs:
        for path in (system / name, system / name.removesuffix(".gz")):
            if path.is_file():
                problem = _check_file(path, expected, size)
                if problem is None:
                    return path
                notes.append(f"{path}: {problem}")
    return None


def fetch(
    dataset: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str | None] | None = None,
    download: bool = True,
    timeout: float = 30.0,
    system_dirs: Sequence[str | os.PathLike] | None = None,
    time_limit: float = 600.0,
) -> dict[str, Path]:
    """Find, check or download the four files of ``dataset``; return their paths.

    Each file is looked for in the cache folder, then in the system folders, and downloaded
    from the mirrors in turn (when ``download``) only if it is in neither, as described in
    [mynn.mnist][]. Every file found or downloaded is checked against its checksum and parsed.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"`` (a key of [DATASETS][mynn.mnist.DATASETS]).
        cache_dir: Root cache folder (default: [default_cache_dir][mynn.mnist.default_cache_dir]).
        mirrors: Base URLs to try in turn instead of the data set's own.
        checksums: Checksums replacing the table's, by file name: ``"sha256:<hex>"`` or
            ``"md5:<hex>"`` of the uncompressed IDX bytes (or of the file as stored), or
            ``None`` (that file is then only checked to be valid IDX).
        download: If ``False``, never touch the network.
        timeout: Seconds to wait for a mirror to answer (to connect, and for every read).
        system_dirs: Read-only folders to look in after the cache, instead of the data set's
            own (``()`` looks in none).
        time_limit: Seconds one file's download may take in all; a mirror that is slower is
            cut off and the next one tried.

    Returns:
        The path of each file, by file name, in the table's order, in the cache folder or in
        a system folder (files found there are read in place, never copied or written). The
        paths are absolute (a relative folder is taken from the current directory, and ``~``
        is expanded, when ``fetch`` is called).

    Raises:
        FileNotFoundError: If files are missing and ``download`` is ``False``.
        DownloadError: If a file could not be had from any mirror (the message gives each
            mirror's failure and what to download by hand).
        ValueError: If a cached file does not match its checksum or is not valid IDX, or an
            argument is invalid.
    """
    spec, folder, mirrors, expected, system_dirs = _resolve(
        dataset, cache_dir, mirrors, checksums, system_dirs
    )
    timeout = check_number("timeout", timeout, low=0.0, low_open=True)
    time_limit = check_number("time_limit", time_limit, low=0.0, low_open=True)
    download = check_bool("download", download)
    sizes = spec.get("sizes", {})
    notes: list[str] = []
    found = {
        name: _find_local(name, folder, system_dirs, expected[name], notes, sizes.get(name))
        for name in expected
    }
    missing = [name for name, path in found.items() if path is None]
    if missing and not download:
        raise FileNotFoundError(
            f"{spec['title']} is not in the cache and download=False.\n"
            + _instructions(spec, folder, missing, mirrors, notes)
        )
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
    for name in missing:
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            problem = _download(
                url, folder / name, expected[name], timeout, time_limit, sizes.get(name)
            )
            if problem is None:
                found[name] = folder / name
                break
            failures.append(f"  {url}: {problem}")
        else:
            still_missing = [n for n in missing if found[n] is None]
            raise DownloadError(
                f"{spec['title']}: no mirror delivered {name}.\n"
                + "\n".join(failures)
                + "\n"
                + _instructions(spec, folder, still_missing, mirrors, notes)
            )
    return found


def _load(
    caller: str, dataset: str, as_images: bool, dtype, where: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both loaders: ``where`` holds the keyword arguments of [fetch][mynn.mnist.fetch]."""
    options = [name for name in inspect.signature(fetch).parameters if name != "dataset"]
    unknown = sorted(set(where) - set(options))
    if unknown:
        raise TypeError(
            f"{caller} takes as_images, dtype and the keyword arguments of fetch: "
            f"{', '.join(options)}. Received: unknown keyword arguments {unknown}"
        )
    dtype = check_dtype(dtype)
    as_images = check_bool("as_images", as_images)
    paths = list(fetch(dataset, **where).values())
    result = []
    for images_path, labels_path in (paths[0:2], paths[2:4]):
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{images_path} and {labels_path} do not match: expected images of shape "
                f"(n, rows, columns) and labels of shape (n,). Received: {images.shape} and "
                f"{labels.shape}"
            )
        X = images.astype(dtype) / dtype.type(255)
        if not as_images:
            X = X.reshape(len(X), -1)
        result += [X, labels.astype(np.int64)]
    return tuple(result)


def load_mnist(
    *, as_images: bool = False, dtype: np.dtype | type = np.float32, **where: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST, the handwritten digits: ``(X_train, y_train, X_test, y_test)``.

    Handwritten digits 0 to 9 collected by Y. LeCun, C. Cortes and C. J. C. Burges, 28x28
    grey-scale pixels: 60,000 training and 10,000 test images.

    The files are read from ``<cache_dir>/mnist/`` and, when missing, downloaded from the
    mirrors in turn, checksum-verified and only then stored (see [mynn.mnist][]). No operating
    system package is known to ship MNIST, so there is no system folder to look in.

    Args:
        as_images: Return images of shape ``(n, 28, 28)`` instead of rows ``(n, 784)``.
        dtype: Float dtype of the images (float32 or float64); float32 by default because
            the 60,000 training images take 188 MB as float32 (376 MB as float64).
        **where: Where to look and what to accept, the keyword arguments of
            [fetch][mynn.mnist.fetch]: ``cache_dir`` (default ``$MYNN_DATA``, else
            ``~/.cache/mynn``), ``mirrors``, ``checksums``, ``download`` (``False``: the cache
            and the system folders only, no network access), ``timeout`` (seconds to wait
            for a mirror to answer), ``system_dirs`` (read-only folders to look in after the
            cache; ``()`` for none) and ``time_limit`` (seconds one file's download may take
            in all).

    Returns:
        ``X_train`` of shape ``(60000, 784)``, ``y_train`` ``(60000,)``, ``X_test``
        ``(10000, 784)``, ``y_test`` ``(10000,)``: pixels divided by 255 so they lie in
        [0, 1]; labels int64 from 0 to 9 (the digit).

    Raises:
        FileNotFoundError: If the files are not cached and ``download`` is ``False``.
        DownloadError: If no mirror delivered a file; the message lists the files to
            download by hand and the folder to put them in.
        ValueError: If a cached file is damaged or an argument is invalid.
        TypeError: If a keyword argument is neither ``as_images``, ``dtype`` nor one of
            [fetch][mynn.mnist.fetch]'s, or ``dtype`` is not float32 or float64, or an
            argument has the wrong type (``mirrors`` a single string, say).

    Examples:
        Without the files in the cache and with ``download=False`` the error says what to
        fetch and where to put it:

        >>> import tempfile
        >>> from mynn.mnist import load_mnist
        >>> load_mnist(cache_dir=tempfile.mkdtemp(), download=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: MNIST is not in the cache and download=False...
    """
    return _load("load_mnist", "mnist", as_images, dtype, where)


def load_fashion_mnist(
    *, as_images: bool = False, dtype: np.dtype | type = np.float32, **where: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load Fashion-MNIST, Zalando's article images: ``(X_train, y_train, X_test, y_test)``.

    Photos of Zalando's articles (clothing, shoes and bags), by H. Xiao, K. Rasul and
    R. Vollgraf (Zalando Research, MIT licence), in MNIST's format: 28x28 grey-scale pixels,
    10 classes, 60,000 training and 10,000 test images. Arguments, shapes and errors are
    those of [load_mnist][mynn.mnist.load_mnist]; the labels are the articles: 0 T-shirt/top,
    1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot.

    The files are read from ``<cache_dir>/fashion-mnist/``, else from
    ``/usr/share/datasets/fashion-mnist/`` (where Debian's and Ubuntu's package
    ``dataset-fashion-mnist`` installs them: ``apt-get install dataset-fashion-mnist`` is a way
    to get them with no download by mynn), and when missing from both, downloaded from the
    mirrors in turn, checksum-verified and only then stored (see [mynn.mnist][]).

    Examples:
        >>> import tempfile
        >>> from mynn.mnist import load_fashion_mnist
        >>> load_fashion_mnist(
        ...     cache_dir=tempfile.mkdtemp(), download=False, system_dirs=()
        ... )  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: Fashion-MNIST is not in the cache and download=False...
    """
    return _load("load_fashion_mnist", "fashion-mnist", as_images, dtype, where)


def _main(argv: Sequence[str] | None = None) -> int:
    """``python -m mynn.mnist [mnist] [fashion-mnist]``: download into the cache."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(DATASETS)
    for name in names:
        paths = fetch(name)
        print(
            f"{DATASETS[name]['title']}: {len(paths)} files in {next(iter(paths.values())).parent}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(_main())
