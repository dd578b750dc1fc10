"""Read the arrays of an ``.npz`` archive without trusting it: the reader behind ``load_model``.

An ``.npz`` file is a zip archive of ``.npy`` files. ``np.load`` opens it with ``zipfile``,
which builds an object for every entry of the archive before the first array is read, and
reads an entry's data before anything checks its size. A model file comes from anywhere, so
this reader does less and checks more:

- it reads the zip's central directory (the list of entries at the end of the file) and keeps
  only each entry's name and position: an archive with 20,000 entries nobody asked for costs a
  pass over their names, never a read of their data;
- an entry is read only when asked for by name, first its ``.npy`` header alone (shape, dtype,
  order), so the caller can compare it with what it expects before any data is read;
- entries must be stored uncompressed, as ``np.savez`` writes them: then no entry can hold more
  data than the file has bytes, and no decompression can blow up;
- every inconsistency (offsets outside the file, a wrong signature, a CRC that does not match,
  a header that does not parse) raises :class:`ArchiveError`, a ``ValueError`` that says what
  is wrong; the caller adds the file's name. Object arrays are refused from their header: their
  data (pickled Python objects) is never read.

Only what ``np.savez`` writes is supported: one disk, ZIP64 where it is needed, entries stored.
"""

from __future__ import annotations

import ast
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s6H3L5H2L")  # central directory file header
_ENTRY_SIGNATURE = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_LOCAL_SIGNATURE = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"
_NPY_HEADER_LIMIT = 10_000  # numpy's own limit on the length of a .npy header
_MASK_32 = 0xFFFFFFFF


class ArchiveError(ValueError):
    """The archive is not what ``np.savez`` writes, or is damaged."""


@dataclass(frozen=True)
class ArrayHeader:
    """What an entry's ``.npy`` header says (``shape``, ``dtype``, ``fortran_order``), and
    where the entry (``entry_offset``) and its data (``data_offset``, ``nbytes``) are."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    entry_offset: int
    data_offset: int
    nbytes: int
    crc: int


class Archive:
    """The entries of an ``.npz`` archive open in ``handle`` (a binary file), by name."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        handle.seek(0, 2)
        self.size = handle.tell()
        count, directory_offset, directory = self._read_directory()
        self.directory_offset = directory_offset
        self._directory = directory
        self._positions: dict[bytes, int | None] = {}
        self._asked: set[bytes] = set()  # the entries ``header`` was asked for
        position = 0
        for _ in range(count):
            if directory[position : position + 4] != _ENTRY_SIGNATURE:
                raise ArchiveError("its list of entries (the zip central directory) is damaged")
            name_length, extra_length, comment_length = struct.unpack_from(
                "<3H", directory, position + 28
            )
            end = position + _ENTRY.size + name_length
            if end + extra_length + comment_length > len(directory):
                raise ArchiveError("its list of entries (the zip central directory) is cut short")
            name = directory[position + _ENTRY.size : end]
            # A name given twice is ambiguous: remembered as None, refused if it is asked for.
            self._positions[name] = None if name in self._positions else position
            position = end + extra_length + comment_length

    # ------------------------------------------------------------------ directory
    def _read_directory(self) -> tuple[int, int, bytes]:
        """The number of entries, the offset of the central directory and its bytes."""
        if self.size < _END.size:
            raise ArchiveError(f"it has {self.size} bytes, too few for an .npz archive")
        tail_start = max(0, self.size - _END.size - 0xFFFF)  # the record, then a comment
        tail = self._read_at(tail_start, self.size - tail_start)
        found = tail.rfind(_END_SIGNATURE)
        while found >= 0:
            if found + _END.size <= len(tail):
                fields = _END.unpack_from(tail, found)
                if found + _END.size + fields[7] == len(tail):  # the comment ends the file
                    break
            found = tail.rfind(_END_SIGNATURE, 0, found)
        else:
            if self._read_at(0, min(self.size, len(_NPY_MAGIC))) == _NPY_MAGIC:
                raise ArchiveError("it is a single array (.npy), not an .npz archive")
            raise ArchiveError("it is not a zip archive (an .npz file is one)")
        end_offset = tail_start + found
        _, disk, directory_disk, disk_count, count, directory_size, directory_offset, _ = fields
        if count == 0xFFFF or directory_size == _MASK_32 or directory_offset == _MASK_32:
            (
                end_offset,
                disk,
                directory_disk,
                disk_count,
                count,
                directory_size,
                directory_offset,
            ) = self._zip64_end(end_offset)
        if disk or directory_disk or disk_count != count:
            raise ArchiveError("it is a zip archive split over several disks")
        if directory_offset + directory_size > end_offset or count * _ENTRY.size > directory_size:
            raise ArchiveError("its list of entries (the zip central directory) is out of place")
        return count, directory_offset, self._read_at(directory_offset, directory_size)

    def _zip64_end(self, end_offset: int) -> tuple[int, ...]:
        if end_offset < _ZIP64_LOCATOR.size:
            raise ArchiveError("its ZIP64 end record is missing")
        signature, _, record_offset, _ = _ZIP64_LOCATOR.unpack(
            self._read_at(end_offset - _ZIP64_LOCATOR.size, _ZIP64_LOCATOR.size)
        )
        if signature != _ZIP64_LOCATOR_SIGNATURE or record_offset + _ZIP64_END.size > end_offset:
            raise ArchiveError("its ZIP64 end record is missing or out of place")
        fields = _ZIP64_END.unpack(self._read_at(record_offset, _ZIP64_END.size))
        if fields[0] != _ZIP64_END_SIGNATURE:
            raise ArchiveError("its ZIP64 end record is damaged")
        # after the signature, the record's size and two versions: the disk numbers, the
        # entry counts, the directory's size and offset, in the order the caller unpacks them
        return (record_offset, *fields[4:10])

    def _read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise ArchiveError("it points outside itself (truncated or damaged)")
        self.handle.seek(offset)
        data = self.handle.read(size)
        if len(data) != size:
            raise ArchiveError("it is shorter than it says (truncated)")
        return data

    # -------------------------------------------------------------------- entries
    def __contains__(self, name: str) -> bool:
        return (name + ".npy").encode("utf-8") in self._positions

    def __len__(self) -> int:
        return len(self._positions)

    def names(self, prefix: str = "") -> Iterator[str]:
        """The name of every entry that starts with ``prefix``, as ``np.load`` lists it
        (``.npy`` dropped), in the directory's order, each once; bytes that are not UTF-8
        are shown as ``\\x..`` escapes."""
        start = prefix.encode("utf-8")
        return (_shown(key) for key in self._positions if key.startswith(start))

    def unasked(self) -> Iterator[str]:
        """The names (as ``names`` shows them) of the entries ``header`` was never asked for."""
        return (_shown(key) for key in self._positions if key not in self._asked)

    def header(self, name: str) -> ArrayHeader:
        """The ``.npy`` header of the array ``name``, read without its data."""
        key = (name + ".npy").encode("utf-8")
        self._asked.add(key)
        if key not in self._positions:
            raise ArchiveError(f"it has no array {name}")
        position = self._positions[key]
        if position is None:
            raise ArchiveError(f"it has the array {name} more than once")
        fields = _ENTRY.unpack_from(self._directory, position)
        flags, method, crc = fields[3], fields[4], fields[7]
        compressed_size, size, name_length, extra_length = (
            fields[8],
            fields[9],
            fields[10],
            fields[11],
        )
        offset = fields[16]
        if flags & 0x1:
            raise ArchiveError(f"its array {name} is encrypted")
        if method != 0:
            raise ArchiveError(
                f"its array {name} is compressed (zip method {method}); Model.save stores arrays "
                "uncompressed"
            )
        if _MASK_32 in (compressed_size, size, offset):
            extra_start = position + _ENTRY.size + name_length
            compressed_size, size, offset = _zip64_sizes(
                self._directory[extra_start : extra_start + extra_length],
                size,
                compressed_size,
                offset,
                name,
            )
        if compressed_size != size:
            raise ArchiveError(f"its array {name} has two different sizes in the zip directory")
        local = _LOCAL.unpack(self._read_at(offset, _LOCAL.size))
        if local[0] != _LOCAL_SIGNATURE:
            raise ArchiveError(f"its array {name} does not start where the zip directory says")
        local_name_length, local_extra_length = local[9], local[10]
        if self._read_at(offset + _LOCAL.size, local_name_length) != key:
            raise ArchiveError(f"its array {name} has another name inside the archive")
        start = offset + _LOCAL.size + local_name_length + local_extra_length
        if start + size > self.directory_offset:
            raise ArchiveError(f"its array {name} runs past the end of the data (truncated)")
        shape, dtype, fortran_order, header_size = self._npy_header(name, start, size)
        nbytes = dtype.itemsize * int(np.prod(shape, dtype=object))
        if header_size + nbytes != size:
            raise ArchiveError(
                f"its array {name} has {size - header_size} bytes of data where its header "
                f"(shape {shape}, dtype {dtype}) needs {nbytes}"
            )
        return ArrayHeader(
            name, shape, dtype, fortran_order, start, start + header_size, nbytes, crc
        )

    def _npy_header(self, name: str, start: int, size: int):
        lead = self._read_at(start, min(size, 12))
        if len(lead) < 10 or lead[:6] != _NPY_MAGIC:
            raise ArchiveError(f"its entry {name} is not a .npy array")
        major = lead[6]
        if major == 1:
            length, text_start = struct.unpack_from("<H", lead, 8)[0], 10
        elif major in (2, 3) and len(lead) >= 12:
            length, text_start = struct.unpack_from("<I", lead, 8)[0], 12
        else:
            raise ArchiveError(f"its array {name} has an unknown .npy version {major}")
        if length > _NPY_HEADER_LIMIT or text_start + length > size:
            raise ArchiveError(f"its array {name} has a .npy header of {length} bytes")
        raw = self._read_at(start + text_start, length)
        try:
            text = raw.decode("utf-8" if major == 3 else "latin1")
            header = ast.literal_eval(text)  # a dict literal: evaluates no code
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ArchiveError(f"its array {name} has a .npy header that does not parse") from None
        if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
            raise ArchiveError(f"its array {name} has a .npy header without shape and dtype")
        shape, fortran_order, descr = header["shape"], header["fortran_order"], header["descr"]
        if not (
            isinstance(shape, tuple)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
            and isinstance(fortran_order, bool)
            and isinstance(descr, str)
        ):
            raise ArchiveError(f"its array {name} has a malformed .npy header")
        try:
            dtype = np.dtype(descr)
        except (TypeError, ValueError, SyntaxError):
            raise ArchiveError(f"its array {name} has an unknown dtype {descr!r}") from None
        if dtype.hasobject:
            raise ArchiveError(
                f"its array {name} holds pickled Python objects (dtype {descr!r}), which a "
                "model file never contains and mynn never unpickles"
            )
        return shape, dtype, fortran_order, text_start + length

    def read(self, header: ArrayHeader) -> np.ndarray:
        """The data of the array whose ``header`` was read (a new array in native byte order)."""
        prefix = self._read_at(header.entry_offset, header.data_offset - header.entry_offset)
        values = np.empty(header.nbytes // max(header.dtype.itemsize, 1), dtype=header.dtype)
        self.handle.seek(header.data_offset)
        if header.nbytes and self.handle.readinto(memoryview(values).cast("B")) != header.nbytes:
            raise ArchiveError(f"its array {header.name} is cut short (truncated)")
        crc = zlib.crc32(memoryview(values).cast("B"), zlib.crc32(prefix))
        if crc != header.crc:
            raise ArchiveError(f"its array {header.name} is damaged (its CRC-32 does not match)")
        order = "F" if header.fortran_order else "C"
        values = values.reshape(header.shape, order=order)
        return values.astype(header.dtype.newbyteorder("="), copy=False)


def _shown(key: bytes) -> str:
    """An entry's name as ``np.load`` lists it: ``.npy`` dropped, not UTF-8 escaped."""
    name = key.decode("utf-8", errors="backslashreplace")
    return name[: -len(".npy")] if name.endswith(".npy") else name


def _zip64_sizes(extra: bytes, size: int, compressed_size: int, offset: int, name: str):
    """The 64-bit sizes and offset that a ZIP64 extra field gives for the values set to 2**32-1."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, position)
        body = extra[position + 4 : position + 4 + length]
        if kind == 0x0001:
            values = list(struct.unpack_from(f"<{len(body) // 8}Q", body)) if len(body) >= 8 else []
            result = []
            for value in (size, compressed_size, offset):
                if value == _MASK_32:
                    if not values:
                        break
                    value = values.pop(0)
                result.append(value)
            else:
                return result[1], result[0], result[2]
            break
        position += 4 + length
    raise ArchiveError(f"its array {name} lacks the ZIP64 sizes its directory entry announces")
