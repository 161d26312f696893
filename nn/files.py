"""Files that are never half-written or clobbered (weights, downloaded data), and weight archives
read with errors that say what the file is.

Every error names the path the user gave, never the hidden temporary file.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["WeightsFileError", "read_npz", "write_atomically", "write_npz"]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"


class WeightsFileError(ValueError):
    """A file that is not (or no longer) a readable archive of numeric arrays."""


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call `write(f)` on a temporary file beside the target, then move it onto `path`.

    Readers only ever see no file, the old file or the complete new one. Missing folders are
    created. A symlink is written through to its target. A path that exists but is not a regular
    file (a folder, a device, a pipe) or is read-only is refused, as `open()` would. The new file
    gets the old file's permissions, or `0o666` minus the umask (the umask itself is never
    touched, so other threads are not affected).
    """
    shown = Path(path)
    if os.fspath(path).endswith(("/", os.sep)):
        raise IsADirectoryError(f"cannot write {shown}/: the name ends in '/', so it is a folder")
    target = Path(os.path.realpath(shown)) if shown.is_symlink() else shown
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:  # a symlink loop, a component that is a file, ...
        raise _naming(exc, shown) from None
    if old is not None:
        _refuse_unless_regular_and_writable(shown, target, old)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _naming(exc, shown, f"cannot create the folder {shown.parent}") from None
    tmp, fd = _create_beside(target, shown)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if old is not None:
            _keep_permissions(tmp, old)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, shown) from None
        raise
    _sync_folder(target.parent)


def _refuse_unless_regular_and_writable(shown: Path, target: Path, old: os.stat_result) -> None:
    via = f" (a symlink to {target})" if shown != target else ""
    if stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(f"cannot write {shown}{via}: it is a folder; give a file name")
    kind = _special_kind(old.st_mode)
    if kind:
        raise FileExistsError(
            f"cannot write {shown}{via}: it exists and is {kind}, not a regular file; "
            "nothing was written (choose another name)"
        )
    if not os.access(target, os.W_OK):
        raise PermissionError(f"cannot write {shown}{via}: the file is read-only")


def _special_kind(mode: int) -> str:
    """What a path that is not a regular file is ("" for a regular file)."""
    return (
        "" if stat.S_ISREG(mode)
        else "a folder" if stat.S_ISDIR(mode)
        else "a character device" if stat.S_ISCHR(mode)
        else "a block device" if stat.S_ISBLK(mode)
        else "a named pipe" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a special file"
    )  # fmt: skip


def _create_beside(target: Path, shown: Path) -> tuple[Path, int]:
    """A new hidden file in the target's folder (so the final move is atomic), created with mode
    0o666 so that the umask applies as for any file the user creates."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise _naming(exc, shown) from None
    raise FileExistsError(f"cannot write {shown}: no free temporary name beside it")


def _keep_permissions(tmp: Path, old: os.stat_result) -> None:
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root saving over someone's file
        with contextlib.suppress(OSError):
            os.chown(tmp, old.st_uid, old.st_gid)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _naming(exc: OSError, shown: Path, what: str | None = None) -> OSError:
    """The same kind of error (errno kept), worded with the user's path only."""
    reason = exc.strerror or str(exc)
    message = f"cannot write {shown}: {what + ': ' if what else ''}{reason}"
    if exc.errno is None:
        return type(exc)(message)
    error = OSError(exc.errno, message)  # OSError(errno, ...) picks the matching subclass
    return error if isinstance(error, type(exc)) else type(exc)(message)


# --------------------------------------------------------------------------------------------
# Weight archives
# --------------------------------------------------------------------------------------------


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
    kind = _special_kind(os.stat(shown).st_mode)  # a named pipe would block open() forever
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
