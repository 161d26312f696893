"""Files that are never half-written or clobbered: weights, downloaded data, drawings, pages.

`write_atomically` writes beside the target and moves the finished file onto it. Every error
names the path the user gave, never the hidden temporary file. (Here, at the bottom of the
layers, so that `nn` and `viz` both write this way.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["special_kind", "write_atomically"]


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
    kind = special_kind(old.st_mode)
    if kind:
        raise FileExistsError(
            f"cannot write {shown}{via}: it exists and is {kind}, not a regular file; "
            "nothing was written (choose another name)"
        )
    if not os.access(target, os.W_OK):
        raise PermissionError(f"cannot write {shown}{via}: the file is read-only")


def special_kind(mode: int) -> str:
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
    stem = target.name
    while len(os.fsencode(stem)) > 200:  # the name allowed may be 255 bytes: the temporary
        stem = stem[:-1]  # one, 15 longer, must fit too
    for _ in range(100):
        tmp = target.with_name(f".{stem}.{secrets.token_hex(4)}.part")
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
