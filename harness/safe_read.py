"""Open a user-supplied path only when it is a regular file, and read it with a size limit.

Every input a person names (cluster config, inventory, descriptor, template, shard report, project
config) is read through :func:`read_regular`, so a FIFO or a device (``/dev/zero``, ``mkfifo``) given as
one of them never blocks and never reads forever, a directory where a file is expected is one clear
line, and every ``OSError`` (permission denied, a symlink loop, a name too long, an I/O error) is a
located :class:`~harness.errors.InputError` (exit 2) instead of a traceback.

The file is opened non-blocking (opening a FIFO without a writer returns at once) and its type is checked
on the open descriptor (``fstat``), so a path swapped for something else between a check and the open
cannot slip through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.errors import InputError, os_error

_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 16
_KINDS = ((stat.S_ISDIR, "is a directory, not a file"), (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file"),
          (stat.S_ISCHR, "is a character device, not a regular file"),
          (stat.S_ISBLK, "is a block device, not a regular file"), (stat.S_ISSOCK, "is a socket, not a regular file"))


def _not_regular(mode: int) -> str:
    for test, what in _KINDS:
        if test(mode):
            return what
    return "is not a regular file"


def read_regular(path: Path | str, *, max_bytes: int | None = None, display: str | None = None,
                 follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` of them.

    Errors, each one located line naming ``display`` (default: the path): ``FILE-MISSING``,
    ``FILE-SPECIAL`` (a directory, FIFO, socket or device), ``FILE-SYMLINK`` (a symlink when
    ``follow_symlinks`` is off, or a symlink loop), ``FILE-TOO-LARGE``, ``FILE-UNREADABLE`` (permission
    denied, a name too long, an I/O error).
    """
    name = display or os.fspath(path)
    flags = _BASE_FLAGS | (0 if follow_symlinks else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and _is_link(path):
            raise InputError("FILE-SYMLINK", "is a symlink", file=name,
                             hint="replace the link with a regular file") from None
        raise os_error(exc, name) from None
    except ValueError:  # an embedded NUL byte
        raise InputError("FILE-MISSING", "the path holds a NUL byte", file=name.replace("\0", "\\x00"),
                         hint="check the path") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("FILE-SPECIAL", _not_regular(info.st_mode), file=name, hint="name a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise _too_large(name, max_bytes, info.st_size)
        return _read_all(fd, name, max_bytes)
    except OSError as exc:
        raise os_error(exc, name) from None
    finally:
        os.close(fd)


def read_regular_text(path: Path | str, *, max_bytes: int | None = None, display: str | None = None,
                      follow_symlinks: bool = True) -> str:
    """:func:`read_regular`, decoded as UTF-8 (``FILE-NOT-UTF8`` / ``FILE-BINARY`` otherwise, located)."""
    name = display or os.fspath(path)
    return decode_text(read_regular(path, max_bytes=max_bytes, display=name, follow_symlinks=follow_symlinks), name)


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as UTF-8 text, with a located one-line error for binary or non-UTF-8 input."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError("FILE-BINARY", "binary content (NUL byte) where text is expected", file=name,
                         line=line, hint="this path must hold a YAML/text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError("FILE-NOT-UTF8", f"invalid UTF-8 byte 0x{data[exc.start]:02x}", file=name,
                         line=line, column=column, hint="re-save the file as UTF-8") from None


def _read_all(fd: int, name: str, max_bytes: int | None) -> bytes:
    """Read to the end (a file in /proc says size 0 and still has content), stopping past ``max_bytes``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        want = _CHUNK if max_bytes is None else min(_CHUNK, max_bytes + 1 - total)
        try:
            chunk = os.read(fd, max(want, 1))
        except BlockingIOError:  # regular files never say this; keep the promise never to wait anyway
            break
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise _too_large(name, max_bytes, total)
    return b"".join(chunks)


def _too_large(name: str, max_bytes: int, size: int) -> InputError:
    return InputError("FILE-TOO-LARGE", f"file is {size} bytes, over the limit of {max_bytes}", file=name,
                      hint="split the file or raise max_file_bytes in the overlay-parity settings")


def _is_link(path: Path | str) -> bool:
    try:
        return os.path.islink(path)
    except (OSError, ValueError):
        return False


def require_regular(path: Path | str, *, display: str | None = None, missing: str = "does not exist",
                    hint: str = "check the path") -> None:
    """Refuse, with one located line, a ``path`` that is not (a symlink to) a regular file: ``FILE-MISSING``
    (``missing``, ``hint``) when it does not exist, ``FILE-SPECIAL`` for a directory, FIFO or device, and the
    :func:`~harness.errors.os_error` line for anything else (a loop, a name too long, permission denied)."""
    name = display or os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("FILE-MISSING", missing, file=name, hint=hint) from None
    except OSError as exc:
        raise os_error(exc, name) from None
    except ValueError:
        raise InputError("FILE-MISSING", "the path holds a NUL byte", file=name.replace("\0", "\\x00"),
                         hint=hint) from None
    if not stat.S_ISREG(mode):
        raise InputError("FILE-SPECIAL", _not_regular(mode), file=name, hint="name a regular file")


def resolve_path(path: Path, *, display: str | None = None) -> Path:
    """``path.resolve()`` with a symlink loop (``RuntimeError`` in Python 3.11) or an ``OSError`` as one located
    line instead of a traceback."""
    try:
        return path.resolve()
    except RuntimeError:
        raise InputError("FILE-SYMLINK", "symlink loop", file=display or str(path),
                         hint="replace the link with a regular file or directory") from None
    except OSError as exc:
        raise os_error(exc, display or str(path)) from None
