"""Model files from anywhere: crafted, damaged, huge or killed half-way through writing.

Every bad file must give a ``ValueError`` that names the file (never numpy's advice to load it
with ``allow_pickle=True``, never an OverflowError or a numpy RNG error), and must be refused
before its data costs memory: headers are compared with the architecture first, entries the
architecture does not name are never read (refused by name, or ignored with ``strict=False``).
Saving must leave no temporary file behind, even when killed, and give new files the umask's
permissions. Paths that are not plain files (links, read-only files, folders, pipes, devices,
sockets, names of any length or encoding) are written through, or refused and left as they are.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import pickle
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mynn.saving
from mynn import (
    SGD,
    Adagrad,
    Adam,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    Dense,
    Dropout,
    Model,
    ReLU,
    RMSProp,
    Softmax,
    load_model,
    save_model,
    spiral_classification,
)

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
X, Y = spiral_classification(20, 3, rng=0)


def trained_model() -> Model:
    model = Model([Dense(2, 8, rng=0), ReLU(), Dropout(0.1, rng=3), Dense(8, 3, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(Adam(0.01))
    model.set_accuracy(CategoricalAccuracy())
    model.train(X, Y, epochs=2, batch_size=16, verbose=0, rng=0)
    return model


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "model.npz"
    trained_model().save(path)
    return path.read_bytes()


def arrays_of(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def meta_of(data: bytes) -> dict:
    return json.loads(arrays_of(data)["__meta__"].tobytes())


def meta_array(meta) -> np.ndarray:
    text = meta if isinstance(meta, (bytes, str)) else json.dumps(meta)
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return np.frombuffer(raw, dtype=np.uint8)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def with_meta(good: bytes, path: Path, change) -> Path:
    """The good file with its metadata passed through ``change`` (which edits it in place)."""
    arrays = arrays_of(good)
    meta = meta_of(good)
    replaced = change(meta)
    arrays["__meta__"] = meta_array(meta if replaced is None else replaced)
    return write_npz(path, arrays)


def refused(path: Path, *patterns: str) -> str:
    """Load ``path``, expect a ValueError naming it and matching every pattern; its message."""
    with pytest.raises(ValueError) as caught:
        load_model(path)
    assert type(caught.value) is ValueError
    message = str(caught.value)
    assert message.startswith(repr(str(path))), message
    assert "allow_pickle" not in message and "unpickle it" not in message
    for pattern in patterns:
        assert pattern in message, (pattern, message)
    return message


class MakeDirectoryWhenUnpickled:
    """Unpickling this object creates a directory: proof that the file's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


# ------------------------------------------------------------ a zip written by hand
def directory_records(data: bytes) -> tuple[int, list[bytes]]:
    """Where the local entries end and the raw central directory record of each entry."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    end = data.rfind(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack_from("<2L", data, end + 12)
    records, position = [], directory_offset
    for _ in infos:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, position + 28)
        size = 46 + name_length + extra_length + comment_length
        records.append(data[position : position + size])
        position += size
    return directory_offset, records


def npy_header(shape, descr="|u1") -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return header.getvalue()


def add_entries(good: bytes, path: Path, entries) -> Path:
    """The good archive plus stored entries ``(name, header bytes, data size)`` of zero bytes.

    The zeros are holes (seek, not write), so an entry of 200 MB costs neither time nor disk
    to make; CRC and sizes are right, so any zip reader would read it.
    """
    entries_end, records = directory_records(good)
    with open(path, "wb") as out:
        out.write(good[:entries_end])
        zeros = bytes(1 << 20)
        for name, header, size in entries:
            crc = zlib.crc32(header)
            left = size
            while left:
                step = min(left, len(zeros))
                crc = zlib.crc32(zeros[:step], crc)
                left -= step
            total = len(header) + size
            offset = out.tell()
            encoded = name if isinstance(name, bytes) else name.encode()
            out.write(
                struct.pack(
                    "<4s5H3L2H",
                    b"PK\x03\x04",
                    20,
                    0,
                    0,
                    0,
                    0x21,
                    crc,
                    total,
                    total,
                    len(encoded),
                    0,
                )
            )
            out.write(encoded + header)
            out.seek(size, os.SEEK_CUR)
            records.append(
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    0,
                    0,
                    0x21,
                    crc,
                    total,
                    total,
                    len(encoded),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + encoded
            )
        directory_offset = out.tell()
        directory = b"".join(records)
        out.write(directory)
        out.write(
            struct.pack(
                "<4s4H2LH",
                b"PK\x05\x06",
                0,
                0,
                len(records),
                len(records),
                len(directory),
                directory_offset,
                0,
            )
        )
    return path


def patch_record(data: bytes, name: str, offset: int, fmt: str, value) -> bytes:
    """``data`` with a field of the central directory record of entry ``name`` replaced."""
    directory_offset, records = directory_records(data)
    position = directory_offset
    for record in records:
        name_length = struct.unpack_from("<H", record, 28)[0]
        if record[46 : 46 + name_length] == name.encode():
            patched = bytearray(data)
            struct.pack_into(fmt, patched, position + offset, value)
            return bytes(patched)
        position += len(record)
    raise KeyError(name)


def rename_record(record: bytes, name: str) -> bytes:
    """A central directory record with another name (its length field updated)."""
    old_length = struct.unpack_from("<H", record, 28)[0]
    encoded = name.encode()
    return (
        record[:28]
        + struct.pack("<H", len(encoded))
        + record[30:46]
        + encoded
        + record[46 + old_length :]
    )


def with_directory(data: bytes, records: list[bytes]) -> bytes:
    """The local entries of ``data`` followed by the directory ``records`` and its end."""
    entries_end, _ = directory_records(data)
    directory = b"".join(records)
    end = struct.pack(
        "<4s4H2LH",
        b"PK\x05\x06",
        0,
        0,
        len(records),
        len(records),
        len(directory),
        entries_end,
        0,
    )
    return data[:entries_end] + directory + end


def crc_repaired(data: bytes, name: str) -> bytes:
    """``data`` with the directory's CRC of entry ``name`` computed from its bytes again."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    local_extra = struct.unpack_from("<H", data, info.header_offset + 28)[0]
    start = info.header_offset + 30 + len(info.filename) + local_extra
    crc = zlib.crc32(data[start : start + info.compress_size])
    return patch_record(data, name, 16, "<L", crc)


class CountingFile(io.FileIO):
    """A file that counts the bytes read from it (for ``load_model``'s ``open``)."""

    total = 0

    def read(self, size=-1):
        data = super().read(size)
        CountingFile.total += len(data)
        return data

    def readinto(self, buffer):
        count = super().readinto(buffer)
        CountingFile.total += count or 0
        return count


def load_counting(path: Path, monkeypatch, strict: bool = True) -> tuple[object, int, int]:
    """Load ``path``; return the model (or the ValueError that refused the file), the bytes
    read and the peak of traced memory."""
    monkeypatch.setattr(mynn.saving, "open", lambda p, mode: CountingFile(p, "r"), raising=False)
    CountingFile.total = 0
    tracemalloc.start()
    try:
        try:
            model = load_model(path, strict=strict)
        except ValueError as error:
            model = error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return model, CountingFile.total, peak


# -------------------------------------------------------------------- archives
def test_a_good_file_loads_and_reads_only_what_it_needs(good_bytes, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    path.write_bytes(good_bytes)
    model, read, _ = load_counting(path, monkeypatch)
    assert isinstance(model, Model) and read < len(good_bytes) + 65_536


@pytest.mark.parametrize("strict", [True, False])
def test_unused_entry_of_200_mb_is_never_read(good_bytes, tmp_path, monkeypatch, strict):
    # strict=True refuses the file by the entry's name, strict=False loads the model; neither
    # reads the entry's data
    size = 200 * 2**20
    path = add_entries(good_bytes, tmp_path / "big.npz", [("junk.npy", npy_header((size,)), size)])
    assert path.stat().st_size > size  # a real entry: zipfile reads it back whole
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("junk.npy").file_size == size + len(npy_header((size,)))
    model, read, peak = load_counting(path, monkeypatch, strict)
    if strict:
        assert "holds 1 entry the model does not use: 'junk'" in str(model), model
    else:
        assert isinstance(model, Model), model
    assert read < 2**20, read  # the directory and the model's own entries, not the 200 MB
    assert peak < 8 * 2**20, peak


@pytest.mark.parametrize("strict", [True, False])
def test_twenty_thousand_unused_entries_cost_one_pass_over_their_names(
    good_bytes, tmp_path, monkeypatch, strict
):
    header = npy_header((16,))
    entries = [(f"junk/{i}.npy", header, 16) for i in range(20_000)]
    path = add_entries(good_bytes, tmp_path / "many.npz", entries)
    model, read, peak = load_counting(path, monkeypatch, strict)
    if strict:
        assert "holds 20000 entries the model does not use: 'junk/0', 'junk/1'" in str(model)
        assert "and 19995 more" in str(model), model
    else:
        assert isinstance(model, Model), model
    _, records = directory_records(path.read_bytes())
    directory = sum(len(record) for record in records)
    junk = 20_000 * (len(header) + 16)
    # the directory, the last 64 KiB searched for its end, the model's entries: no junk data
    assert read < directory + 65_557 + 2 * len(good_bytes) < directory + junk, (read, directory)
    assert peak < 3 * directory + 2**20, (peak, directory)


def test_an_object_array_is_refused_from_its_header_and_never_unpickled(good_bytes, tmp_path):
    marker = tmp_path / "executed"
    arrays = arrays_of(good_bytes)
    arrays["layers/0/weights"] = np.array([MakeDirectoryWhenUnpickled(marker)], dtype=object)
    path = write_npz(tmp_path / "evil.npz", arrays)
    refused(path, "not a readable mynn model file", "layers/0/weights holds pickled Python objects")
    arrays = {"__meta__": np.array([MakeDirectoryWhenUnpickled(marker)], dtype=object)}
    refused(write_npz(tmp_path / "evil-meta.npz", arrays), "__meta__ holds pickled Python objects")
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps(MakeDirectoryWhenUnpickled(marker)))
    refused(path, "not a zip archive")
    assert not marker.exists()


def test_a_npy_header_is_parsed_as_a_literal_never_run(good_bytes, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = b"{'descr': __import__('os').mkdir('executed'), 'fortran_order': False, 'shape': (2, 8)}"
    armed = tmp_path / "armed"
    armed.mkdir()
    monkeypatch.chdir(armed)
    eval(code)  # noqa: S307 - proof that the text runs code when evaluated
    assert (armed / "executed").is_dir()
    monkeypatch.chdir(tmp_path)
    data = write_npz(tmp_path / "model.npz", arrays_of(good_bytes)).read_bytes()
    start = data.index(b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 8), }")
    end = data.index(b"\n", start)  # the header text is padded with spaces up to a newline
    assert len(code) <= end - start
    path = tmp_path / "evil.npz"
    path.write_bytes(
        crc_repaired(data[:start] + code.ljust(end - start) + data[end:], "layers/0/weights.npy")
    )
    refused(path, "layers/0/weights has a .npy header that does not parse")
    assert not (tmp_path / "executed").exists()


@pytest.mark.parametrize(
    ("make", "patterns"),
    [
        (lambda good: b"", ["has 0 bytes, too few for an .npz archive"]),
        (lambda good: bytes(range(256)) * 8, ["not a zip archive"]),
        (lambda good: good[: len(good) // 2], ["not a zip archive"]),
        (lambda good: good[:-1], ["not a zip archive"]),
        (lambda good: good + b"trailing", ["not a zip archive"]),
        (lambda good: b"PK\x05\x06" + bytes(18), ["no mynn metadata"]),
    ],
    ids=["empty", "noise", "half", "last-byte-cut", "trailing-bytes", "empty-zip"],
)
def test_broken_archives(good_bytes, tmp_path, make, patterns):
    path = tmp_path / "broken.npz"
    path.write_bytes(make(good_bytes))
    refused(path, *patterns)


def test_a_single_npy_array(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.ones((2, 2)))
    refused(path, "it is a single array (.npy), not an .npz archive")


def test_a_compressed_archive_is_refused(good_bytes, tmp_path):
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, **arrays_of(good_bytes))
    refused(path, "is compressed (zip method 8); Model.save stores arrays uncompressed")


@pytest.mark.parametrize(
    ("field", "fmt", "value", "pattern"),
    [
        (8, "<H", 1, "__meta__ is encrypted"),  # general purpose flags, bit 0
        (42, "<L", 2**31, "points outside itself"),  # local header offset
        (20, "<L", 5, "two different sizes"),  # compressed size
        (24, "<L", 2**32 - 1, "lacks the ZIP64 sizes"),  # size: "see the ZIP64 field"
        (16, "<L", 12345, "its CRC-32 does not match"),  # CRC
    ],
    ids=["encrypted", "offset", "sizes", "zip64", "crc"],
)
def test_lies_in_the_zip_directory(good_bytes, tmp_path, field, fmt, value, pattern):
    path = tmp_path / "lying.npz"
    path.write_bytes(patch_record(good_bytes, "__meta__.npy", field, fmt, value))
    refused(path, "not a readable mynn model file", pattern)


def test_an_entry_named_twice(good_bytes, tmp_path):
    _, records = directory_records(good_bytes)
    records = [
        rename_record(record, "layers/0/weights.npy")
        if b"layers/0/biases.npy" in record
        else record
        for record in records
    ]
    path = tmp_path / "twice.npz"
    path.write_bytes(with_directory(good_bytes, records))
    refused(path, "has the array layers/0/weights more than once")


def test_a_local_header_that_names_another_entry(good_bytes, tmp_path):
    data = bytearray(good_bytes)
    first = data.index(b"layers/0/weights.npy")  # in the local header, before the directory
    data[first : first + 20] = b"layers/0/weightz.npy"
    path = tmp_path / "renamed.npz"
    path.write_bytes(bytes(data))
    refused(path, "layers/0/weights has another name inside the archive")


@pytest.mark.parametrize(
    ("header", "pattern"),
    [
        (
            {"descr": "<f8", "fortran_order": False, "shape": (2, 8), "x": 1},
            "without shape and dtype",
        ),
        ({"descr": "<f8", "fortran_order": "no", "shape": (2, 8)}, "malformed .npy header"),
        ({"descr": "<f8", "fortran_order": False, "shape": (2, -8)}, "malformed .npy header"),
        ({"descr": "<zz", "fortran_order": False, "shape": (2, 8)}, "unknown dtype '<zz'"),
        ({"descr": "<f8", "fortran_order": False, "shape": (2, 9)}, "needs 144"),
        ({"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}, "needs 8000000000000"),
    ],
    ids=["extra-key", "order", "negative", "dtype", "shape", "huge"],
)
def test_npy_headers_that_lie(good_bytes, tmp_path, header, pattern):
    data = write_npz(tmp_path / "model.npz", arrays_of(good_bytes)).read_bytes()
    start = data.index(b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 8), }")
    end = data.index(b"\n", start)  # the header text is padded with spaces up to a newline
    text = repr(header).encode().ljust(end - start)
    assert len(text) == end - start, "the crafted header is longer than the original's slot"
    path = tmp_path / "lying.npz"
    path.write_bytes(crc_repaired(data[:start] + text + data[end:], "layers/0/weights.npy"))
    refused(path, "layers/0/weights", pattern)


@FUZZ
@given(cut=st.integers(0, 10_000))
def test_every_truncation_is_a_value_error_naming_the_file(good_bytes, tmp_path, cut):
    path = tmp_path / "cut.npz"
    path.write_bytes(good_bytes[: cut % len(good_bytes)])
    refused(path)


@FUZZ
@given(position=st.integers(0, 10**6), byte=st.integers(0, 255))
def test_a_changed_byte_loads_the_same_model_or_names_the_file(
    good_bytes, tmp_path, position, byte
):
    position %= len(good_bytes)
    data = bytearray(good_bytes)
    if data[position] == byte:
        byte ^= 0xFF
    data[position] = byte
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    try:
        model = load_model(path)
    except ValueError as error:
        message = str(error)
        assert message.startswith(repr(str(path))) and "allow_pickle" not in message, message
        return
    # A byte that no check covers (a timestamp, a version field, header padding, the text of
    # the JSON in a way that keeps it valid): then the model is a model, its arrays CRC-checked.
    assert isinstance(model, Model)
    good = load_model_from_bytes(good_bytes, tmp_path)
    for (name, a, _), (_, b, _) in zip(model.parameters(), good.parameters()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def load_model_from_bytes(data: bytes, folder: Path) -> Model:
    path = folder / "reference.npz"
    path.write_bytes(data)
    return load_model(path)


# -------------------------------------------------------------------- metadata
def _set(meta, *keys, value):
    target = meta
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


METADATA_CASES = [
    (lambda m: [1, 2], ["no mynn marker"]),
    (lambda m: _set(m, "format", value="keras"), ["no mynn marker"]),
    (lambda m: _set(m, "format_version", value=0), ["format version is 0, not a positive integer"]),
    (lambda m: _set(m, "format_version", value="1"), ["format version is '1'"]),
    (lambda m: _set(m, "format_version", value=True), ["format version is True"]),
    (
        lambda m: _set(m, "format_version", value=2),
        ["format version 2; this mynn reads versions up to 1"],
    ),
    (
        lambda m: _set(m, "format_version", value=10**30),
        ["format version 1000000000000000000000000000000"],
    ),
    (lambda m: _set(m, "layers", value={"0": 1}), ["no list of layers"]),
    (lambda m: _set(m, "layers", 0, value="Dense"), ["layer 0 is described by 'Dense'"]),
    (lambda m: _set(m, "layers", 0, "class", value="Popen"), ["unknown layer class 'Popen'"]),
    (lambda m: _set(m, "layers", 0, "class", value=["Dense"]), ["unknown layer class ['Dense']"]),
    (lambda m: _set(m, "layers", 0, "class", value="Model"), ["unknown layer class 'Model'"]),
    (
        lambda m: _set(m, "layers", 0, "config", value=[2, 8]),
        ["layer 0 (Dense) has the config [2, 8]"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "units", value=8),
        ["layer 0 (Dense) cannot be built", "units"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "n_inputs", value="2"),
        ["layer 0: n_inputs must be a positive integer. Received: n_inputs='2'"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "n_inputs", value=10**12),
        ["layers/0/weights in the file has shape (2, 8)", "needs shape (1000000000000, 8)"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "n_inputs", value=10**400),
        ["needs shape (1000000000"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "dtype", value="foo"),
        ["layer 0: dtype must be float32 or float64. Received: dtype='foo'"],
    ),
    (
        lambda m: _set(
            m, "layers", 0, "config", "dtype", value={"names": ["a"], "formats": ["<f8"]}
        ),
        ["layer 0: dtype must be float32 or float64"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "dtype", value="float32"),
        ["dtype float64; the architecture needs shape (2, 8) and dtype float32"],
    ),
    (
        lambda m: _set(m, "layers", 0, "config", "weight_regularizer_l2", value=-1),
        ["layer 0 (Dense) cannot be built", "Received: weight_regularizer_l2=-1.0"],
    ),
    (lambda m: _set(m, "layers", 0, "config", "rng", value=-5), ["Received: rng=-5"]),
    (
        lambda m: _set(m, "layers", 2, "rng_state", value="seed"),
        ["layer 2 has the random state 'seed', not one of PCG64"],
    ),
    (
        lambda m: _set(m, "layers", 2, "rng_state", "bit_generator", value="MT19937"),
        ["not one of PCG64"],
    ),
    (
        lambda m: _set(m, "layers", 2, "rng_state", "state", value="x"),
        ["layer 2 has a malformed random state"],
    ),
    (
        lambda m: _set(m, "layers", 2, "rng_state", "state", "state", value=-(2**200)),
        ["layer 2 has a malformed random state"],
    ),
    (
        lambda m: _set(m, "layers", 0, "rng_state", value={"bit_generator": "PCG64"}),
        ["layer 0 (Dense) has a random state but draws no numbers"],
    ),
    (
        lambda m: _set(m, "layers", 3, "config", "n_inputs", value=7),
        ["the architecture needs shape (7, 3)"],
    ),
    (
        lambda m: m["layers"].insert(
            1, {"class": "Dense", "config": {"n_inputs": 8, "n_neurons": 8}}
        ),
        ["the array layers/1/weights is missing"],
    ),
    (
        lambda m: _set(m, "loss", value={"class": "Adam", "config": {}}),
        ["unknown loss class 'Adam'"],
    ),
    (
        lambda m: _set(m, "loss", "config", value={"reduction": "sum"}),
        ["the loss (CategoricalCrossentropy) cannot be built"],
    ),
    (
        lambda m: _set(
            m, "accuracy", value={"class": "RegressionAccuracy", "config": {}, "precision": "x"}
        ),
        ["the accuracy's precision: precision must be a real number. Received: precision='x'"],
    ),
    (
        lambda m: _set(
            m, "accuracy", value={"class": "RegressionAccuracy", "config": {}, "precision": -1}
        ),
        ["Received: precision=-1.0"],
    ),
    (lambda m: _set(m, "optimizer", "class", value="LBFGS"), ["unknown optimizer class 'LBFGS'"]),
    (
        lambda m: _set(m, "optimizer", "config", "learning_rate", value=-1),
        ["the optimizer (Adam) cannot be built", "Received: learning_rate=-1.0"],
    ),
    (
        lambda m: _set(m, "optimizer", "config", "learning_rate", value=float("nan")),
        ["Received: learning_rate=nan"],
    ),
    (
        lambda m: _set(m, "optimizer", "iterations", value=-1),
        ["iterations must be a whole number from 0 to 9223372036854775807, not -1"],
    ),
    (lambda m: _set(m, "optimizer", "iterations", value=2**64), ["not 18446744073709551616"]),
    (lambda m: _set(m, "optimizer", "iterations", value="7"), ["not '7'"]),
    (lambda m: _set(m, "optimizer", "iterations", value=1.5), ["not 1.5"]),
]


@pytest.mark.parametrize(("change", "patterns"), METADATA_CASES, ids=range(len(METADATA_CASES)))
def test_crafted_metadata(good_bytes, tmp_path, change, patterns):
    path = with_meta(good_bytes, tmp_path / "crafted.npz", change)
    refused(path, *patterns)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | st.sampled_from(["Dense", "Dropout", "Adam", "PCG64", "float32"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(max_size=6) | st.sampled_from(["class", "config", "state"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=8,
)


def json_paths(value, prefix=()):
    """Every path to a value inside parsed JSON, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_paths(child, (*prefix, index))


@FUZZ
@given(data=st.data())
def test_any_metadata_loads_a_model_or_names_the_file(good_bytes, tmp_path, data):
    meta = meta_of(good_bytes)
    paths = list(json_paths(meta))
    where = data.draw(st.sampled_from(paths), label="where")
    value = data.draw(JSON, label="value")
    if where:
        _set(meta, *where, value=value)
    else:
        meta = value
    arrays = arrays_of(good_bytes)
    arrays["__meta__"] = meta_array(meta)
    path = write_npz(tmp_path / "mutated.npz", arrays)
    try:
        model = load_model(path)
    except ValueError as error:
        message = str(error)
        assert message.startswith(repr(str(path))) and "allow_pickle" not in message, message
        return
    assert isinstance(model, Model)  # a change the format allows (an unused key, say)


def test_crafted_metadata_text(good_bytes, tmp_path):
    arrays = arrays_of(good_bytes)
    cases = [
        (b"\xff\xfe not utf-8", "its metadata is not valid JSON text"),
        (b"{" * 10, "its metadata is not valid JSON text"),
        (b"[" * 200_000 + b"]" * 200_000, "its metadata is not valid JSON text"),  # recursion
        (b'{"format": "mynn-model", "format_version": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ]
    for index, (text, pattern) in enumerate(cases):
        arrays["__meta__"] = np.frombuffer(text, dtype=np.uint8)
        refused(write_npz(tmp_path / f"text{index}.npz", arrays), pattern)
    arrays["__meta__"] = meta_array(meta_of(good_bytes)).astype(np.float64)
    refused(write_npz(tmp_path / "float-meta.npz", arrays), "its metadata is not JSON text")


def test_a_claimed_huge_layer_allocates_nothing(good_bytes, tmp_path, monkeypatch):
    arrays = arrays_of(good_bytes)
    meta = meta_of(good_bytes)
    meta["layers"][0]["config"]["n_inputs"] = 100_000
    meta["layers"][0]["config"]["n_neurons"] = 100_000  # 80 GB of float64 weights
    arrays["__meta__"] = meta_array(meta)
    path = write_npz(tmp_path / "huge.npz", arrays)
    tracemalloc.start()
    try:
        refused(path, "needs shape (100000, 100000)")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_partial_or_misshapen_optimizer_state(good_bytes, tmp_path):
    arrays = arrays_of(good_bytes)
    del arrays["optimizer/0.weights/cache"]
    refused(
        write_npz(tmp_path / "partial.npz", arrays), "the optimizer state of 0.weights lacks cache"
    )
    arrays = arrays_of(good_bytes)
    arrays["optimizer/3.biases/momentum"] = np.zeros(4)
    refused(
        write_npz(tmp_path / "shape.npz", arrays),
        "optimizer/3.biases/momentum in the file has shape (4,)",
    )


def test_layers_that_do_not_fit_each_other(tmp_path):
    arrays = {
        "__meta__": meta_array(
            {
                "format": "mynn-model",
                "format_version": 1,
                "layers": [
                    {
                        "class": "Dense",
                        "config": {"n_inputs": 2, "n_neurons": 3, "dtype": "float32"},
                    },
                    {"class": "Dense", "config": {"n_inputs": 3, "n_neurons": 1}},
                ],
            }
        ),
        "layers/0/weights": np.zeros((2, 3), np.float32),
        "layers/0/biases": np.zeros(3, np.float32),
        "layers/1/weights": np.zeros((3, 1)),
        "layers/1/biases": np.zeros(1),
    }
    refused(
        write_npz(tmp_path / "mixed.npz", arrays),
        "layer 1 does not fit the layers before it",
        "model's dtype float32",
    )


def test_files_in_other_layouts_load_the_same(good_bytes, tmp_path):
    reference = load_model_from_bytes(good_bytes, tmp_path)
    arrays = arrays_of(good_bytes)
    # metadata last (as the first mynn versions wrote it), big-endian and Fortran-order arrays
    meta = arrays.pop("__meta__")
    other = {
        name: (np.asfortranarray(value) if value.ndim == 2 else value).astype(
            value.dtype.newbyteorder(">")
        )
        for name, value in arrays.items()
    }
    other["__meta__"] = meta
    loaded = load_model(write_npz(tmp_path / "other.npz", other))
    for (name, a, _), (_, b, _) in zip(loaded.parameters(), reference.parameters(), strict=True):
        assert a.dtype == b.dtype and a.flags.c_contiguous, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert loaded.optimizer.state.keys() == reference.optimizer.state.keys()


# ---------------------------------------------------------------------- saving
@pytest.mark.skipif(os.name != "posix", reason="permissions and the umask are POSIX")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_umask_mode(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        Model([Dense(2, 2, rng=0)]).save(tmp_path / "model.npz")
    finally:
        os.umask(previous)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == mode


@pytest.mark.skipif(os.name != "posix", reason="permissions and the umask are POSIX")
@pytest.mark.parametrize(("existing", "umask"), [(0o644, 0o077), (0o600, 0o022), (0o640, 0o000)])
def test_saving_over_a_file_keeps_its_mode(tmp_path, existing, umask):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    path.chmod(existing)
    previous = os.umask(umask)
    try:
        Model([Dense(2, 2, rng=0)]).save(path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == existing
    assert isinstance(load_model(path), Model)


def temporary_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="stale files are found by process id on POSIX")
def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path):
    path = tmp_path / "model.npz"
    prefix = mynn.saving._temporary_prefix(path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id nobody uses any more (reused within a test: very unlikely)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            "dead": f"{prefix}{dead.pid}-0123abcd.tmp",
            "live": f"{prefix}{live.pid}-0123abcd.tmp",
            "other host": f".model.npz.mynn-ffffffff-{dead.pid}-0123abcd.tmp",
            "other file": f".other.npz.mynn-{prefix.split('-')[1]}-{dead.pid}-0123abcd.tmp",
            "not ours": f"{prefix}{dead.pid}-notatemp.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        if mynn.saving._HOST == "ffffffff":
            pytest.skip("this machine's host tag is the one the test uses for another machine")
        Model([Dense(2, 2, rng=0)]).save(path)
        left = set(temporary_files(tmp_path))
        assert names["dead"] not in left
        assert {names["live"], names["other host"], names["other file"], names["not ours"]} <= left
    finally:
        live.kill()
        live.wait()


def test_a_failed_save_leaves_no_temporary_and_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    Model([Dense(2, 2, rng=1)]).save(path)
    old = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        Model([Dense(2, 2, rng=2)]).save(path)
    assert path.read_bytes() == old and temporary_files(tmp_path) == []


SAVER = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from mynn import Adam, Dense, Model, ReLU, save_model

    path = sys.argv[1]
    model = Model([Dense(256, 512, rng=0), ReLU(), Dense(512, 256, rng=1)])
    model.set_optimizer(Adam(0.01))
    for layer in (model.layers[0], model.layers[2]):  # Adam state for every parameter
        layer.dweights, layer.dbiases = np.ones_like(layer.weights), np.ones_like(layer.biases)
    model.optimizer.step(model.parameters())
    base = model.layers[0].weights.copy()
    np.save(path + ".base.npy", base)
    print("ready", flush=True)
    for command in sys.stdin:
        if command.strip() == "go":
            pid = os.fork()
            if pid == 0:  # the child saves version after version until it is killed
                version = 0
                while True:
                    model.layers[0].weights[0, 0] = version
                    save_model(model, path)
                    version += 1
            print(pid, flush=True)
        elif command.strip() == "reap":
            _, status = os.waitpid(pid, 0)
            print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, flush=True)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill loop forks savers (POSIX)")
def test_sigkill_during_save_never_leaves_a_broken_file_or_a_temporary(tmp_path):
    # One helper process imports mynn once and forks a saver per round (a fresh interpreter
    # per round would spend most of the test importing numpy); each saver writes versions of
    # a 6 MB model in a loop and is killed with SIGKILL after a random delay. After each kill
    # the file on disk must load, bit-exact, as one of the versions, and the only temporary
    # files are those of killed savers (one killed before its first save began cannot have
    # removed those of the one before); the next save removes them all.
    path = tmp_path / "model.npz"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # fork-safe
    helper = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    delays = np.random.default_rng(0).uniform(0.0, 0.12, size=48)
    kills = mid_save = 0
    killed: list[int] = []
    try:
        assert helper.stdout.readline().strip() == "ready"
        base = np.load(str(path) + ".base.npy")
        (tmp_path / "model.npz.base.npy").unlink()
        for delay in delays:
            helper.stdin.write("go\n")
            helper.stdin.flush()
            pid = int(helper.stdout.readline())
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            helper.stdin.write("reap\n")
            helper.stdin.flush()
            assert int(helper.stdout.readline()) == signal.SIGKILL  # killed, not crashed
            kills += 1
            killed.append(pid)
            left = temporary_files(tmp_path)
            mid_save += any(f"-{pid}-" in name for name in left)
            assert all(any(f"-{p}-" in name for p in killed) for name in left), (left, killed)
            if path.exists():
                loaded = load_model(path)
                weights = loaded.layers[0].weights
                version = weights[0, 0]
                assert version == int(version) and version >= 0
                rest = weights.copy()
                rest[0, 0] = base[0, 0]
                np.testing.assert_array_equal(rest, base)
    finally:
        helper.stdin.close()
        helper.wait(timeout=30)
        helper.stdout.close()
    print(f"\n{kills} SIGKILLs, {mid_save} during a save (a temporary file left behind)")
    assert kills >= 40
    assert mid_save >= 10, f"only {mid_save} of {kills} kills landed during a save"
    Model([Dense(2, 2, rng=0)]).save(path)  # the next save cleans up after the killed ones
    assert temporary_files(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_host_tag_is_stable_hex():
    assert len(mynn.saving._HOST) == 8 and int(mynn.saving._HOST, 16) >= 0
    assert (
        mynn.saving._HOST
        == __import__("hashlib").sha256(socket.gethostname().encode()).hexdigest()[:8]
    )


# ------------------------------------------------------ entries nobody asked for
def optimizer_state(model: Model) -> dict[str, dict[str, np.ndarray]]:
    """The optimizer's buffers of each parameter (without the scratch array)."""
    buffers = model.optimizer.buffers
    return {
        name: {buffer: state[buffer] for buffer in buffers}
        for name, state in model.optimizer.state.items()
    }


def assert_same_as_good(model: Model, good: Model) -> None:
    for (name, a, _), (_, b, _) in zip(model.parameters(), good.parameters(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert model.optimizer.iterations == good.optimizer.iterations
    ours, theirs = optimizer_state(model), optimizer_state(good)
    assert ours.keys() == theirs.keys()
    for name in ours:
        for buffer in ours[name]:
            np.testing.assert_array_equal(ours[name][buffer], theirs[name][buffer])


def refused_unless_lenient(path: Path, good: Model, *shown: str) -> str:
    """strict=True refuses ``path`` naming the entries ``shown``; strict=False loads ``good``."""
    with pytest.raises(ValueError) as caught:
        load_model(path)
    message = str(caught.value)
    assert type(caught.value) is ValueError and message.startswith(repr(str(path))), message
    assert "the model does not use: " + ", ".join(shown) in message, (shown, message)
    assert message.endswith("pass strict=False to ignore them. Received: strict=True"), message
    assert_same_as_good(load_model(path, strict=False), good)
    assert_same_as_good(Model.load(path, strict=False), good)
    return message


EXTRA_ENTRIES = [
    ("optimizer/9.weights/cache.npy", "'optimizer/9.weights/cache'"),  # no parameter 9.weights
    ("optimizer/0.weights.npy", "'optimizer/0.weights'"),  # no buffer named
    ("optimizer/0.weights/cache/x.npy", "'optimizer/0.weights/cache/x'"),
    ("layers/1/weights.npy", "'layers/1/weights'"),  # layer 1 is a ReLU
    ("layers/7/biases.npy", "'layers/7/biases'"),  # the model has 5 layers
    ("layers/0/weights_backup.npy", "'layers/0/weights_backup'"),
    ("junk.npy", "'junk'"),
    ("README.txt", "'README.txt'"),  # not an array at all
    (b"caf\xe9.npy", "'caf\\\\xe9'"),  # a name that is not UTF-8
]


@pytest.mark.parametrize(("entry", "shown"), EXTRA_ENTRIES, ids=[str(e) for e, _ in EXTRA_ENTRIES])
def test_an_entry_the_model_does_not_use_is_refused_by_name_unless_lenient(
    good_bytes, tmp_path, entry, shown
):
    good = load_model_from_bytes(good_bytes, tmp_path)
    path = add_entries(good_bytes, tmp_path / "extra.npz", [(entry, npy_header((3,), "<f8"), 24)])
    refused_unless_lenient(path, good, shown)


def test_optimizer_state_in_a_file_whose_model_has_no_optimizer(good_bytes, tmp_path):
    arrays = arrays_of(good_bytes)
    meta = meta_of(good_bytes)
    del meta["optimizer"]
    arrays["__meta__"] = meta_array(meta)
    path = write_npz(tmp_path / "no_optimizer.npz", arrays)
    stored = sorted(name for name in arrays if name.startswith("optimizer/"))
    assert len(stored) == 8  # two buffers of Adam for each of four parameters
    with pytest.raises(ValueError) as caught:
        load_model(path)
    assert "holds 8 entries the model does not use: 'optimizer/0.weights/" in str(caught.value)
    assert "and 3 more" in str(caught.value)
    model = load_model(path, strict=False)
    assert model.optimizer is None and model.loss is not None


NAMES = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@FUZZ
@given(names=st.lists(NAMES, min_size=1, max_size=6, unique=True))
def test_any_extra_entries_are_refused_by_name_or_ignored(good_bytes, tmp_path, names):
    # not a name the file has, nor a buffer of a parameter the model has (that is the state of
    # another optimizer: refused whatever strict says, see the test below)
    taken = set(arrays_of(good_bytes))
    owners = {name.split("/")[1] for name in taken if name.startswith("optimizer/")}
    names = [
        name
        for name in names
        if name not in taken
        and name + ".npy" not in taken
        and not any(name.startswith(f"optimizer/{owner}/") for owner in owners)
    ]
    if not names:
        return
    entries = [(name + ".npy", npy_header((2,), "<f4"), 8) for name in names]
    good = load_model_from_bytes(good_bytes, tmp_path)
    path = add_entries(good_bytes, tmp_path / "extra.npz", entries)
    shown = [repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..." for name in names]
    message = refused_unless_lenient(path, good, *shown[:5])
    count = len(names)
    assert f"holds {count} entr{'y' if count == 1 else 'ies'} the model does not use" in message


OPTIMIZERS = {
    "SGD": lambda: SGD(0.1),
    "SGD(momentum)": lambda: SGD(0.1, momentum=0.9),
    "Adagrad": lambda: Adagrad(0.1),
    "RMSProp": lambda: RMSProp(0.01),
    "Adam": lambda: Adam(0.01),
}


@pytest.mark.parametrize("labelled", list(OPTIMIZERS))
@pytest.mark.parametrize("saved", list(OPTIMIZERS))
def test_a_buffer_of_another_optimizer_is_never_adopted(tmp_path, saved, labelled):
    # A file whose metadata names one optimizer and whose arrays hold another's state (Adam's
    # momentum and cache under an RMSProp): refused whatever strict says, since the state of
    # a parameter the model has is not an entry nobody asked for. Buffers of the same names
    # cannot be told apart (Adagrad's cache and RMSProp's): the metadata decides.
    model = Model([Dense(2, 4, rng=0), ReLU(), Dense(4, 3, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(OPTIMIZERS[saved]())
    model.train(X, Y, epochs=1, batch_size=20, verbose=0, rng=0)
    path = tmp_path / "model.npz"
    model.save(path)
    other = OPTIMIZERS[labelled]()
    data = path.read_bytes()
    arrays = arrays_of(data)
    meta = meta_of(data)
    meta["optimizer"]["class"] = type(other).__name__
    meta["optimizer"]["config"] = other.get_config()
    arrays["__meta__"] = meta_array(meta)
    write_npz(path, arrays)
    stored, wanted = set(model.optimizer.buffers), set(other.buffers)
    for strict in (True, False):
        if stored and stored != wanted:
            with pytest.raises(ValueError) as caught:
                load_model(path, strict=strict)
            message = str(caught.value)
            assert message.startswith(repr(str(path))), message
            foreign = sorted(stored - wanted)
            if foreign:
                keeps = " and ".join(other.buffers) if other.buffers else "no state"
                assert f"the optimizer state of 0.weights holds {', '.join(foreign)}" in message
                name = type(other).__name__
                assert f"which {name} does not keep ({name} keeps {keeps})" in message
                assert "the state of another optimizer or a changed file, never adopted" in message
            else:
                assert "the optimizer state of 0.weights lacks" in message, message
            continue
        loaded = load_model(path, strict=strict)
        assert type(loaded.optimizer) is type(other)
        state = optimizer_state(loaded)
        assert all(set(buffers) == wanted for buffers in state.values())
        for name, buffers in state.items():  # only same-named buffers: adopted as they are
            for buffer, value in buffers.items():
                np.testing.assert_array_equal(value, arrays[f"optimizer/{name}/{buffer}"])


@pytest.mark.parametrize("strict", [True, False])
def test_a_buffer_no_optimizer_keeps_under_a_parameter_is_never_adopted(
    good_bytes, tmp_path, strict
):
    path = add_entries(
        good_bytes,
        tmp_path / "extra.npz",
        [("optimizer/3.weights/velocity.npy", npy_header((8, 3), "<f8"), 8 * 3 * 8)],
    )
    with pytest.raises(ValueError) as caught:
        load_model(path, strict=strict)
    message = str(caught.value)
    assert message.startswith(repr(str(path))), message
    expected = "the optimizer state of 3.weights holds velocity, which Adam does not keep "
    assert expected + "(Adam keeps momentum and cache)" in message, message


def test_save_writes_the_state_of_the_model_s_own_parameters_only(tmp_path):
    # State the optimizer keeps for other names (another model it stepped) or for a shape the
    # parameter no longer has is state the next step does not use: the file leaves it out, so
    # a strict load reads every entry, and training goes on exactly as in memory.
    model = trained_model()
    optimizer = model.optimizer
    optimizer.state["9.weights"] = optimizer.init_state(np.ones((5, 5)))
    optimizer.state["3.biases"] = optimizer.init_state(np.ones(7))  # the biases have shape (3,)
    path = tmp_path / "model.npz"
    model.save(path)
    stored = {name for name in arrays_of(path.read_bytes()) if name.startswith("optimizer/")}
    assert stored == {
        f"optimizer/{name}/{buffer}"
        for name in ("0.weights", "0.biases", "3.weights")
        for buffer in ("momentum", "cache")
    }
    loaded = load_model(path)  # strict
    assert set(loaded.optimizer.state) == {"0.weights", "0.biases", "3.weights"}
    more = dict(epochs=2, batch_size=16, verbose=0, rng=5)
    assert loaded.train(X, Y, **more) == model.train(X, Y, **more)
    for (name, a, _), (_, b, _) in zip(loaded.parameters(), model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


# -------------------------------------------------- files that are not plain files
def small(seed: int) -> Model:
    return Model([Dense(2, 3, rng=seed)])


def weights_of(path) -> np.ndarray:
    return load_model(path).layers[0].weights


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@contextlib.contextmanager
def no_hang(seconds: float):
    """Raise TimeoutError if the block takes longer than ``seconds`` (a blocking open too)."""

    def stop(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


POSIX = pytest.mark.skipif(os.name != "posix", reason="links, pipes and devices as on POSIX")


@POSIX
def test_saving_through_a_symbolic_link_writes_its_target(tmp_path):
    real, links = tmp_path / "real", tmp_path / "links"
    real.mkdir()
    links.mkdir()
    target = real / "model.npz"
    small(1).save(target)
    target.chmod(0o640)
    (links / "model.npz").symlink_to(os.path.join("..", "real", "model.npz"))
    (links / "latest.npz").symlink_to("model.npz")  # a link to a link
    small(2).save(links / "latest.npz")
    assert os.readlink(links / "latest.npz") == "model.npz"  # the links are still links
    assert os.readlink(links / "model.npz") == os.path.join("..", "real", "model.npz")
    np.testing.assert_array_equal(weights_of(target), small(2).layers[0].weights)
    assert target.stat().st_mode & 0o777 == 0o640  # the target's permissions kept
    assert listing(real) == ["model.npz"] and listing(links) == ["latest.npz", "model.npz"]


@POSIX
def test_saving_through_a_link_to_nothing_creates_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    link = tmp_path / "model.npz"
    link.symlink_to(tmp_path / "real" / "new.npz")
    small(3).save(link)
    assert link.is_symlink() and listing(tmp_path / "real") == ["new.npz"]
    np.testing.assert_array_equal(weights_of(link), small(3).layers[0].weights)
    broken = tmp_path / "broken.npz"
    broken.symlink_to(tmp_path / "missing" / "new.npz")
    with pytest.raises(FileNotFoundError) as caught:
        small(3).save(broken)
    message = str(caught.value)
    missing = str(tmp_path / "missing" / "new.npz")
    assert message.startswith(f"path links to {missing!r}, whose folder does not exist."), message
    assert message.endswith(f"Received: path={str(broken)!r}"), message


@POSIX
@pytest.mark.parametrize("call", ["save", "load"])
def test_a_loop_of_symbolic_links_is_named(tmp_path, call):
    (tmp_path / "a.npz").symlink_to("b.npz")
    (tmp_path / "b.npz").symlink_to("a.npz")
    with pytest.raises(OSError) as caught:
        small(1).save(tmp_path / "a.npz") if call == "save" else load_model(tmp_path / "a.npz")
    assert caught.value.errno == errno.ELOOP
    assert "path is a symbolic link that leads back to itself (a loop)" in str(caught.value)
    assert listing(tmp_path) == ["a.npz", "b.npz"]


@POSIX
@pytest.mark.parametrize("mode", [0o444, 0o400, 0o000, 0o555])
@pytest.mark.parametrize("through_link", [False, True])
def test_a_read_only_file_is_refused_and_left_as_it_is(tmp_path, mode, through_link):
    path = tmp_path / "model.npz"
    small(1).save(path)
    before = path.read_bytes()
    path.chmod(mode)
    given = path
    if through_link:
        given = tmp_path / "link.npz"
        given.symlink_to("model.npz")
    with pytest.raises(PermissionError) as caught:
        small(2).save(given)
    message = str(caught.value)
    subject = f"path links to {str(path)!r}, which is" if through_link else "path is"
    assert message.startswith(f"{subject} a read-only file"), message
    assert "save_model leaves it as it is" in message
    assert f"(mode {stat.filemode(stat.S_IFREG | mode)}, no write permission)" in message
    assert message.endswith(f"Received: path={str(given)!r}"), message
    assert path.stat().st_mode & 0o777 == mode
    path.chmod(0o600)
    assert path.read_bytes() == before
    assert listing(tmp_path) == sorted(["model.npz"] + (["link.npz"] if through_link else []))


@POSIX
def test_a_file_this_user_may_not_write_is_refused(tmp_path, monkeypatch):
    # A file with write permission for its owner only, when this user is not the owner: what
    # os.access reports (root may write anything, so the test asks os.access to say no).
    path = tmp_path / "model.npz"
    small(1).save(path)
    path.chmod(0o644)
    before = path.read_bytes()
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: mode != os.W_OK)
    with pytest.raises(PermissionError, match=r"\(mode -rw-r--r--, which this user may not"):
        small(2).save(path)
    assert path.read_bytes() == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_saving_over_another_user_s_file_as_root_keeps_its_owner(tmp_path):
    path = tmp_path / "model.npz"
    small(1).save(path)
    try:
        os.chown(path, 65534, 65534)
    except PermissionError:  # root without CAP_CHOWN (a restricted container)
        pytest.skip("this root may not give files away")
    path.chmod(0o640)
    small(2).save(path)
    info = path.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (65534, 65534, 0o640)
    np.testing.assert_array_equal(weights_of(path), small(2).layers[0].weights)


@POSIX
def test_another_hard_link_keeps_the_old_model(tmp_path):
    # documented: a rename replaces the name it is given; the other name keeps the old file
    path = tmp_path / "model.npz"
    small(1).save(path)
    os.link(path, tmp_path / "copy.npz")
    small(2).save(path)
    np.testing.assert_array_equal(weights_of(path), small(2).layers[0].weights)
    np.testing.assert_array_equal(weights_of(tmp_path / "copy.npz"), small(1).layers[0].weights)


def make_special(kind: str, path: Path):
    """Put a file of ``kind`` at ``path``; return what must stay open (a socket), if any."""
    if kind == "folder":
        path.mkdir()
    elif kind == "named pipe (FIFO)":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return server
    else:
        kind_bit = stat.S_IFCHR if kind == "character device" else stat.S_IFBLK
        numbers = os.makedev(1, 3) if kind == "character device" else os.makedev(7, 0)
        try:
            os.mknod(path, 0o666 | kind_bit, numbers)  # /dev/null's and /dev/loop0's numbers
        except PermissionError:
            pytest.skip("making a device node needs root")
    return None


SPECIAL = ["folder", "named pipe (FIFO)", "character device", "block device", "socket"]
S_IS = {
    "folder": stat.S_ISDIR,
    "named pipe (FIFO)": stat.S_ISFIFO,
    "character device": stat.S_ISCHR,
    "block device": stat.S_ISBLK,
    "socket": stat.S_ISSOCK,
}


@contextlib.contextmanager
def special_path(tmp_path, kind, through_link):
    """A node of ``kind`` at tmp_path/node; yields (node, the path to give), a link if asked."""
    node = tmp_path / "node"
    keep = make_special(kind, node)
    given = node
    if through_link:
        given = tmp_path / "link.npz"
        given.symlink_to("node")
    try:
        yield node, given
    finally:
        if keep is not None:
            keep.close()


@POSIX
@pytest.mark.parametrize("through_link", [False, True])
@pytest.mark.parametrize("kind", SPECIAL)
def test_saving_over_anything_but_a_regular_file_is_refused(tmp_path, kind, through_link):
    # as root, save("/dev/null") replaced the device node by a regular file
    with special_path(tmp_path, kind, through_link) as (node, given):
        expected = IsADirectoryError if kind == "folder" else ValueError
        with no_hang(10), pytest.raises(expected) as caught:
            small(1).save(given)
        message = str(caught.value)
        subject = f"path links to {str(node)!r}, which is" if through_link else "path is"
        if kind == "folder":
            assert message.startswith(f"{subject} a folder, not a file."), message
        else:
            assert message.startswith(f"{subject} a {kind}, not a regular file;"), message
            assert "save_model writes only regular files" in message
        assert message.endswith(f"Received: path={str(given)!r}"), message
        assert S_IS[kind](os.lstat(node).st_mode)  # left as it was
        assert listing(tmp_path) == sorted(["node"] + (["link.npz"] if through_link else []))


@POSIX
@pytest.mark.parametrize("through_link", [False, True])
@pytest.mark.parametrize("kind", SPECIAL)
def test_loading_anything_but_a_regular_file_is_refused_at_once(tmp_path, kind, through_link):
    # load_model on a FIFO waited forever for a writer
    with special_path(tmp_path, kind, through_link) as (_, given):
        expected = IsADirectoryError if kind == "folder" else ValueError
        with no_hang(10), pytest.raises(expected) as caught:
            load_model(given)
        message = str(caught.value)
        if kind == "folder":
            assert message == f"{str(given)!r} is a folder, not a model file"
        else:
            assert message.startswith(f"{str(given)!r} is a {kind}, not a model file"), message
            assert message.endswith(f"Received: path={str(given)!r}"), message


@POSIX
def test_a_pipe_put_in_place_after_the_check_is_refused_without_waiting(tmp_path, monkeypatch):
    # The race the check before opening cannot close: the path is a file when load_model
    # looks, a pipe when it opens. It opens without waiting and checks what it opened.
    pipe = tmp_path / "model.npz"
    os.mkfifo(pipe)
    regular = tmp_path / "regular.npz"
    small(1).save(regular)
    real_stat = os.stat
    monkeypatch.setattr(
        os, "stat", lambda p, *a, **k: real_stat(regular if str(p) == str(pipe) else p, *a, **k)
    )
    with no_hang(10), pytest.raises(ValueError, match="is a named pipe \\(FIFO\\), not a model"):
        load_model(pipe)


@pytest.mark.parametrize("call", ["save", "load"])
def test_paths_that_name_a_folder(tmp_path, call):
    small(1).save(tmp_path / "model.npz")
    before = (tmp_path / "model.npz").read_bytes()
    folder, file, missing = str(tmp_path), str(tmp_path / "model.npz"), str(tmp_path / "new.npz")
    if call == "save":
        cases = [
            (file + os.sep, IsADirectoryError, "path ends with '/', which names a folder"),
            (missing + os.sep, IsADirectoryError, "path ends with '/', which names a folder"),
            (file + os.sep + ".", IsADirectoryError, "path ends with '.', which names a folder"),
            (folder + os.sep + "..", IsADirectoryError, "path is a folder, not a file"),
            (folder + os.sep, IsADirectoryError, "path is a folder, not a file"),
            (folder, IsADirectoryError, "path is a folder, not a file"),
            (file + os.sep + "x.npz", NotADirectoryError, "a part of path that should be a fo"),
        ]
        run = lambda given: small(2).save(given)  # noqa: E731
    else:
        cases = [
            (file + os.sep, NotADirectoryError, "ends with '/', which names a folder, and "),
            (missing + os.sep, FileNotFoundError, "no model file at"),
            (folder + os.sep, IsADirectoryError, "is a folder, not a model file"),
            (file + os.sep + "x.npz", NotADirectoryError, "a part of path that should be a fo"),
        ]
        run = load_model
    for text, error, pattern in cases:
        with pytest.raises(error) as caught:
            run(text)
        assert type(caught.value) is error, (text, caught.value)
        assert pattern in str(caught.value), (text, caught.value)
    assert listing(tmp_path) == ["model.npz"]  # nothing made, nothing replaced
    assert (tmp_path / "model.npz").read_bytes() == before


@pytest.mark.parametrize("call", [save_model, lambda model, path: load_model(path)])
@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("", "path is empty; give a file name such as 'model.npz'. Received: path=''"),
        ("model\x00.npz", "path holds a NUL character"),
        ("model\ud800.npz", "path holds '\\ud800', which this file system's encoding"),
    ],
)
def test_paths_no_file_can_have(call, path, pattern):
    with pytest.raises(ValueError) as caught:
        call(small(1), path)
    assert pattern in str(caught.value) and "Received: path=" in str(caught.value)


def test_a_name_in_bytes_and_a_tilde_get_a_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = b"caf\xe9.npz"  # not UTF-8
    with pytest.raises(TypeError, match=r"pass os\.fsdecode\(path\), which keeps bytes"):
        small(1).save(raw)
    small(1).save(os.fsdecode(raw))
    assert os.listdir(b".") == [raw]
    np.testing.assert_array_equal(weights_of(os.fsdecode(raw)), small(1).layers[0].weights)
    hint = r"'~' is not expanded to the home folder: pass os\.path\.expanduser\(path\)"
    with pytest.raises(FileNotFoundError, match=hint):
        small(1).save("~/model.npz")
    with pytest.raises(FileNotFoundError, match=hint):
        load_model("~/model.npz")
    assert os.listdir(".") == [os.fsdecode(raw)]


def name_bytes(name: str) -> int:
    return len(os.fsencode(name))


FILE_NAMES = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
        min_size=1,
        max_size=255,
    ),
    # names that are not UTF-8: bytes, as the file system keeps them
    st.binary(min_size=1, max_size=255)
    .map(lambda raw: raw.replace(b"/", b"_"))
    .map(lambda raw: os.fsdecode(raw.replace(b"\x00", b"_"))),
    st.integers(200, 255).map(lambda n: "é" * (n // 2) + "x" * (n % 2)),  # long and multi-byte
).filter(lambda name: name not in (".", "..") and name_bytes(name) <= 255)


@POSIX
@FUZZ
@given(name=FILE_NAMES)
def test_any_file_name_the_system_allows_saves_and_loads(tmp_path, name):
    # a 244-character name failed: the temporary file's name was longer
    folder = tmp_path / "names"
    folder.mkdir(exist_ok=True)
    for old in os.listdir(folder):
        os.unlink(folder / old)
    path = os.path.join(str(folder), name)
    save_model(small(4), path)
    assert os.listdir(folder) == [name]  # that name, byte for byte, and no temporary
    assert os.listdir(os.fsencode(folder)) == [os.fsencode(name)]
    np.testing.assert_array_equal(load_model(path).layers[0].weights, small(4).layers[0].weights)
    prefix = mynn.saving._temporary_prefix(Path(path))
    assert name_bytes(prefix) + len(f"{2**32}-0123abcd.tmp") <= 120, prefix


@POSIX
def test_a_name_longer_than_the_file_system_allows_is_named(tmp_path):
    name = "m" * 252 + ".npz"  # 256 bytes
    for call in (lambda: small(1).save(tmp_path / name), lambda: load_model(tmp_path / name)):
        with pytest.raises(OSError) as caught:
            call()
        assert caught.value.errno == errno.ENAMETOOLONG
        message = str(caught.value)
        limit = "a name in path is longer than the file system allows (255 bytes per name; "
        assert limit + "the last has 256)" in message, message
    assert listing(tmp_path) == []


def test_temporary_names_of_long_targets_stay_short_and_their_own(tmp_path):
    prefix = mynn.saving._temporary_prefix
    host = mynn.saving._HOST
    assert prefix(tmp_path / ("a" * 80)) == f".{'a' * 80}.mynn-{host}-"  # kept whole
    cut = prefix(tmp_path / ("a" * 81))
    assert cut.startswith(f".{'a' * 63}~") and len(cut) == 1 + 80 + 15
    one, two = prefix(tmp_path / ("b" * 200 + "1")), prefix(tmp_path / ("b" * 200 + "2"))
    assert one != two and len(one) == len(two) == len(cut)
    multi = prefix(tmp_path / ("é" * 120))  # 240 bytes, cut between whole characters
    assert multi.startswith(f".{'é' * 31}~") and name_bytes(multi) == 1 + 62 + 17 + 15


@POSIX
def test_stale_temporaries_of_a_long_name_are_removed(tmp_path):
    path = tmp_path / ("m" * 251 + ".npz")  # 255 bytes, the most the file system allows
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{mynn.saving._temporary_prefix(path)}{dead.pid}-0123abcd.tmp"
    stale.write_bytes(b"partial")
    small(1).save(path)
    assert listing(tmp_path) == [path.name]


def test_a_folder_the_temporary_cannot_be_made_in_is_named(tmp_path, monkeypatch):
    real_open = os.open

    def read_only_file_system(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_file_system)
    with pytest.raises(OSError) as caught:
        small(1).save(tmp_path / "model.npz")
    message = str(caught.value)
    assert f"cannot create a file in the folder {str(tmp_path)!r} (Read-only file system)" in (
        message
    )
    assert message.endswith(f"Received: path={str(tmp_path / 'model.npz')!r}"), message


# ------------------------------------------------------ a file that changes while read
def two_models() -> tuple[Model, Model]:
    """Two models of one architecture and different numbers, with optimizer state."""
    models = []
    for seed in (0, 1):
        model = Model([Dense(2, 8, rng=seed), ReLU(), Dense(8, 3, rng=seed + 2), Softmax()])
        model.set_loss(CategoricalCrossentropy())
        model.set_optimizer(Adam(0.01))
        model.train(X, Y, epochs=1, batch_size=20, verbose=0, rng=seed)
        models.append(model)
    return models[0], models[1]


def meanwhile(monkeypatch, action) -> None:
    """Run ``action`` when ``load_model`` has read the metadata, before it reads the arrays."""
    original = mynn.saving._read_meta

    def read_then_act(archive):
        meta = original(archive)
        action()
        return meta

    monkeypatch.setattr(mynn.saving, "_read_meta", read_then_act)


def test_a_file_replaced_by_a_save_while_it_is_read_loads_whole(tmp_path, monkeypatch):
    old, new = two_models()
    path = tmp_path / "model.npz"
    old.save(path)
    meanwhile(monkeypatch, lambda: new.save(path))
    loaded = load_model(path)  # the open file is the old one, whole
    assert_same_as_good(loaded, old)
    monkeypatch.undo()
    assert_same_as_good(load_model(path), new)


@pytest.mark.parametrize("change", ["truncated", "rewritten"])
def test_a_file_changed_in_place_while_it_is_read_names_the_file(tmp_path, monkeypatch, change):
    old, new = two_models()
    path, other = tmp_path / "model.npz", tmp_path / "other.npz"
    old.save(path)
    new.save(other)
    size = path.stat().st_size
    assert other.stat().st_size == size  # same layout, other numbers

    def write_in_place():
        with open(path, "r+b") as handle:
            if change == "truncated":
                handle.truncate(size // 2)
            else:
                handle.write(other.read_bytes())

    meanwhile(monkeypatch, write_in_place)
    pattern = "truncated" if change == "truncated" else "its CRC-32 does not match"
    refused(path, pattern)
