"""The MNIST loader against mirrors that misbehave: they drip, lie, truncate, stall, never stop.

Each mirror is a small HTTP server on 127.0.0.1 (a free port) written with ``socketserver``,
so it can do what a polite ``http.server`` never does: send a byte now and then, announce a
length it does not send, send without end. Every download must end with a ``DownloadError``
that names the URL and the reason, leave nothing in the cache, and let the next mirror serve
the file. No test touches the internet.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import re
import socketserver
import threading
from pathlib import Path

import numpy as np
import pytest

from mynn import mnist
from mynn.mnist import DATASETS, DownloadError, fetch, read_idx

FILES = list(DATASETS["mnist"]["files"])


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + array.tobytes()


def small_set() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    arrays = {
        FILES[0]: rng.integers(0, 256, (6, 28, 28)),
        FILES[1]: rng.integers(0, 10, 6),
        FILES[2]: rng.integers(0, 256, (3, 28, 28)),
        FILES[3]: rng.integers(0, 10, 3),
    }
    return {name: idx_bytes(array) for name, array in arrays.items()}


CONTENT = small_set()
SERVED = {name: gzip.compress(data, mtime=0) for name, data in CONTENT.items()}
CHECKSUMS = {name: "sha256:" + hashlib.sha256(data).hexdigest() for name, data in CONTENT.items()}


@functools.lru_cache(maxsize=None)
def gzip_bomb(size: int) -> bytes:
    """A gzip file of ``size`` zero bytes: about a thousandth of that."""
    return gzip.compress(bytes(size), compresslevel=9, mtime=0)


class Mirror(socketserver.ThreadingTCPServer):
    """Serves ``/<behaviour>/<file name>``; see ``Handler.handle`` for the behaviours."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.stop = threading.Event()
        self.requests: list[str] = []

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hangs up mid-drip is the point of these tests

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline().decode("latin1")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request's headers
        path = line.split()[1]
        _, behaviour, name = path.split("/", 2)
        self.server.requests.append(path)
        body = SERVED.get(name, b"")
        send = self.wfile.write
        if behaviour == "good":
            send(self.head(len(body)) + body)
        elif behaviour == "redirect":
            send(
                b"HTTP/1.1 302 Found\r\nLocation: /good/"
                + name.encode()
                + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        elif behaviour == "drip-body":  # a byte every 50 ms: each read is quick, the whole is not
            send(self.head(len(body)))
            self.drip(body)
        elif behaviour == "drip-headers":  # the status line, then a header byte at a time
            send(b"HTTP/1.1 200 OK\r\n")
            self.drip(b"X-Slow: " + b"z" * 10_000)
        elif behaviour == "stall":  # never answers
            self.server.stop.wait(30)
        elif behaviour == "truncate":  # announces the whole file, sends half of it
            send(self.head(len(body)) + body[: len(body) // 2])
        elif behaviour == "huge-length":  # announces 1 TB
            send(self.head(10**12) + body)
        elif behaviour == "endless":  # no length, zeros until the client hangs up
            send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"\x1f\x8b")
            chunk = bytes(65_536)
            for _ in range(10_000):
                if self.server.stop.is_set():
                    break
                send(chunk)
        elif behaviour == "bomb":  # a small gzip file that expands past the file's size
            bomb = gzip_bomb(DATASETS["mnist"]["sizes"][name] + 1)
            send(self.head(len(bomb)) + bomb)
        elif behaviour == "lie":  # a valid IDX file, but not the one asked for
            other = gzip.compress(idx_bytes(np.full(10, 7)), mtime=0)
            send(self.head(len(other)) + other)
        else:
            send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    @staticmethod
    def head(length: int) -> bytes:
        return (
            f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        ).encode()

    def drip(self, data: bytes) -> None:
        for byte in data:
            if self.server.stop.wait(0.05):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()


@pytest.fixture
def mirror():
    server = Mirror()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def cache_listing(cache: Path) -> list[str]:
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def failing_download(mirror: Mirror, cache: Path, behaviour: str, **limits) -> str:
    """The DownloadError of a fetch from a mirror that misbehaves; the cache must stay empty."""
    with pytest.raises(DownloadError) as caught:
        fetch(
            "mnist",
            cache_dir=cache,
            mirrors=[f"{mirror.base}/{behaviour}/"],
            checksums=CHECKSUMS,
            system_dirs=(),
            **limits,
        )
    message = str(caught.value)
    assert f"{mirror.base}/{behaviour}/{FILES[0]}" in message, message  # the URL that failed
    assert cache_listing(cache) == [], cache_listing(cache)  # no partial file left
    return message


@pytest.mark.parametrize(
    ("behaviour", "limits", "reason"),
    [
        ("drip-body", {"time_limit": 1.0}, "the download took longer than time_limit=1 s"),
        ("drip-headers", {"time_limit": 1.0}, "the download took longer than time_limit=1 s"),
        ("stall", {"timeout": 0.5}, "timed out"),
        (
            "truncate",
            {},
            rf"the server sent {len(SERVED[FILES[0]]) // 2} of the "
            rf"{len(SERVED[FILES[0]])} bytes it announced \(truncated\)",
        ),
        ("huge-length", {}, "the server announces 1000000000000 bytes, more than the 47"),
        ("endless", {}, "the download passed"),
        ("bomb", {}, "uncompresses to more than the 47040016 bytes"),
        ("lie", {}, "checksum mismatch"),
        ("missing", {}, "HTTPError: HTTP Error 404: Not Found"),
    ],
)
def test_a_misbehaving_mirror_is_cut_off_and_named(mirror, tmp_path, behaviour, limits, reason):
    message = failing_download(mirror, tmp_path / "cache", behaviour, **limits)
    assert re.search(reason, message), message


@pytest.mark.parametrize(
    "behaviour", ["drip-body", "truncate", "huge-length", "endless", "bomb", "lie"]
)
def test_the_next_mirror_serves_what_a_bad_one_did_not(mirror, tmp_path, behaviour):
    cache = tmp_path / "cache"
    paths = fetch(
        "mnist",
        cache_dir=cache,
        checksums=CHECKSUMS,
        system_dirs=(),
        time_limit=1.0,
        mirrors=[f"{mirror.base}/{behaviour}/", f"{mirror.base}/good/"],
    )
    assert cache_listing(cache) == sorted(f"mnist/{name}" for name in FILES)
    for name, path in paths.items():
        assert path.read_bytes() == SERVED[name]
    assert {f"/{behaviour}/{name}" for name in FILES} <= set(mirror.requests)


def test_redirects_are_followed_under_the_watchdog(mirror, tmp_path):
    paths = fetch(
        "mnist",
        cache_dir=tmp_path / "cache",
        checksums=CHECKSUMS,
        system_dirs=(),
        mirrors=[f"{mirror.base}/redirect/"],
        time_limit=5.0,
    )
    assert all(path.read_bytes() == SERVED[name] for name, path in paths.items())


def test_a_bomb_in_the_cache_is_refused_without_expanding_it(tmp_path):
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    (cache / "mnist" / FILES[3]).write_bytes(gzip.compress(bytes(5 * 2**20), mtime=0))
    with pytest.raises(ValueError) as caught:
        fetch("mnist", cache_dir=cache, download=False, system_dirs=())
    message = str(caught.value)
    assert str(cache / "mnist" / FILES[3]) in message
    assert "uncompresses to more than the 10008 bytes its content can have" in message


def test_an_oversized_file_in_the_cache_is_refused_unread(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    big = cache / "mnist" / FILES[3]
    with open(big, "wb") as handle:  # 1 GB, as a hole: no time, no disk
        handle.truncate(2**30)

    def no_reading(self):
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(ValueError) as caught:
        fetch("mnist", cache_dir=cache, download=False, system_dirs=())
    message = str(caught.value)
    assert str(big) in message and "has 1073741824 bytes, more than the 14204" in message


def test_a_relative_mynn_data_is_resolved_when_read(mirror, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MYNN_DATA", "relative-cache")
    assert mnist.default_cache_dir() == tmp_path / "relative-cache"
    paths = fetch("mnist", mirrors=[f"{mirror.base}/good/"], checksums=CHECKSUMS, system_dirs=())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name, path in paths.items():
        assert path.is_absolute() and path.parent == tmp_path / "relative-cache" / "mnist"
        assert (
            read_idx(path).tobytes()
            == np.frombuffer(CONTENT[name], np.uint8)[
                16 if name.endswith("idx3-ubyte.gz") else 8 :
            ].tobytes()
        )
    # read again after the chdir: the cache is found where it was written, no download
    requests = len(mirror.requests)
    monkeypatch.setenv("MYNN_DATA", str(tmp_path / "relative-cache"))
    assert fetch("mnist", checksums=CHECKSUMS, download=False, system_dirs=()) == paths
    assert len(mirror.requests) == requests


def test_a_relative_cache_dir_is_made_absolute(mirror, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = fetch(
        "mnist",
        cache_dir="rel",
        mirrors=[f"{mirror.base}/good/"],
        checksums=CHECKSUMS,
        system_dirs=(),
    )
    assert all(path.is_absolute() and path.is_file() for path in paths.values())
    assert os.path.commonpath(list(paths.values())) == str(tmp_path / "rel" / "mnist")


def test_the_limits_follow_the_table():
    for spec in DATASETS.values():
        assert set(spec["sizes"]) == set(spec["files"])
        assert spec["sizes"][FILES[0]] == 16 + 60_000 * 784
        assert spec["sizes"][FILES[3]] == 8 + 10_000
    # a gzip file of random bytes (nothing to compress) still fits under the limit
    noise = np.random.default_rng(0).integers(0, 256, 10_008, dtype=np.uint8).tobytes()
    assert len(gzip.compress(noise)) <= mnist.size_limit(10_008)


def test_time_limit_is_checked_before_any_download(tmp_path):
    with pytest.raises(ValueError, match=r"Received: time_limit=0\.0"):
        fetch("mnist", cache_dir=tmp_path, time_limit=0, mirrors=["http://127.0.0.1:9/"])
    assert cache_listing(tmp_path) == []
