"""Weight archives (.npz) written plainly and read with errors that say what the file is.

Writing them is `autograd.files.write_atomically`'s: never half-written, never clobbering.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from autograd.files import special_kind

__all__ = ["WeightsFileError", "read_npz", "write_npz"]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"


class WeightsFileError(ValueError):
    """A file that is not (or no longer) a readable archive of numeric arrays."""


def write_npz(f: BinaryIO, arrays: Mapping[str, np.ndarray]) -> None:
    """An `.npz` archive of `arrays` by name, as `np.savez` writes it, but any name works: through
    `np.savez(f, **arrays)` a parameter called `allow_pickle` was silently dropped and one called
    `file` was an error."""
    for key in arrays:
        if "\x00" in key:  # zip names end at a NUL: the file would hold a truncated name
            raise ValueError(
                f"cannot save the parameter {key!r}: its name holds a NUL character, which a "
                "zip archive cannot store (give the module another name); nothing was written"
            )
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def read_npz(
    path: str | os.PathLike[str],
    expected: str = "a .npz archive written by Module.save",
    max_bytes: int | None = None,
) -> dict[str, np.ndarray]:
    """The arrays of an `.npz` archive by name, read without ever unpickling anything.

    A file of another kind (a single `.npy` array, text, a pickle, anything else) is a
    WeightsFileError saying what it is and what was `expected`; so is a truncated or corrupt
    archive, always naming `path`. Members whose headers promise more than `max_bytes` of data
    in all are refused before that data is read (a small compressed file can unpack to
    gigabytes).
    """
    shown = Path(path)
    kind = special_kind(os.stat(shown).st_mode)  # a named pipe would block open() forever
    if kind and kind != "a folder":
        raise WeightsFileError(f"{shown}: this is {kind}, not a file; expected {expected}")
    with open(shown, "rb") as f:
        head = f.read(64)
        if not head.startswith(_ZIP_MAGIC):
            raise WeightsFileError(f"{shown}: {_what_it_is(head)}; expected {expected}")
        f.seek(0)
        try:
            return _read_members(f, shown, expected, max_bytes)
        except WeightsFileError:
            raise
        except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, NotImplementedError) as exc:
            raise WeightsFileError(
                f"{shown}: a truncated or corrupt .npz archive ({exc}); nothing was loaded — "
                "save the weights again"
            ) from None


def _what_it_is(head: bytes) -> str:
    if not head:
        return "the file is empty (0 bytes)"
    if head.startswith(_NPY_MAGIC):
        return (
            "this is a single NumPy array (.npy, as np.save writes), not an archive of named arrays"
        )
    if head.startswith(b"\x1f\x8b"):
        return "this is a gzip-compressed file, not a .npz archive"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "this is a Python pickle, which is never loaded (unpickling can run any code)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        first = text.splitlines()[0] if text.splitlines() else text
        return f"this is a text file (it begins {first[:30]!r})"
    return f"this is not a NumPy file (it begins with the bytes {head[:8]!r})"


def _read_members(
    f: BinaryIO, shown: Path, expected: str, max_bytes: int | None
) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(f) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise WeightsFileError(
                    f"{shown}: a zip archive holding {info.filename!r}, which is not a NumPy "
                    f"array; expected {expected}"
                )
            key = info.filename[: -len(".npy")]
            if key in arrays:  # zip allows it; which copy "wins" would be the archive's order
                raise WeightsFileError(
                    f"{shown}: the archive holds {info.filename!r} twice, so which weights it "
                    f"means is ambiguous; expected {expected}"
                )
            with archive.open(info) as member:
                arrays[key] = _read_member(member, info.file_size, shown, key, max_bytes)
            if max_bytes is not None:  # a budget for the whole archive, not for each member
                max_bytes -= arrays[key].nbytes
    return arrays


def _read_member(
    member: BinaryIO, size: int, shown: Path, key: str, max_bytes: int | None
) -> np.ndarray:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
    else:
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
    if dtype.hasobject:
        raise WeightsFileError(
            f"{shown}: {key!r} holds Python objects (stored as a pickle), not numbers; pickles "
            "are never loaded (they can run any code), so save plain numeric arrays"
        )
    need = math.prod(shape) * dtype.itemsize
    have = size - member.tell()
    if have != need:
        raise ValueError(f"{key!r}: its header promises {need} bytes of data but it holds {have}")
    if max_bytes is not None and need > max_bytes:
        raise WeightsFileError(
            f"{shown}: {key!r} is an array of shape {shape} ({need:,} bytes), more than this "
            "model's parameters hold; nothing was loaded (is it the weights of another model?)"
        )
    data = member.read(need)
    if len(data) != need:
        raise EOFError(f"{key!r}: the data ends after {len(data)} of {need} bytes")
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()
