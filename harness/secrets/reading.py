"""Reading one file for a scan: regular files only, a symlink never followed, a FIFO never waited on.

One ``open`` (``O_NOFOLLOW | O_NONBLOCK``), one ``fstat`` and (for a file of up to the size it had) one
``read``: the whole-repository scan reads every file of a fleet, and ``lstat`` before a buffered ``open``
cost a third more system calls. Where the open fails, ``lstat`` decides as before: a symlink or a special
file is skipped, a missing file is ``FILE-MISSING``, anything else (no read permission) is raised.
"""

from __future__ import annotations

import os
import stat

from harness.errors import InputError

_ONE_READ = 1 << 30  # below the most one read(2) returns
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_regular(path: str, name: str, max_bytes: int) -> bytes | int | None:
    """The bytes of the regular file at ``path`` (shown as ``name`` in errors); its size (an ``int``) when
    that is over ``max_bytes`` (nothing is read); None when it is not a regular file (a symlink, a
    directory, a FIFO, a device or a socket: they hold no material of their own)."""
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise InputError("FILE-MISSING", "file does not exist", file=name, hint="check the path") from None
    except OSError:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            raise InputError("FILE-MISSING", "file does not exist", file=name, hint="check the path") from None
        if not stat.S_ISREG(mode):
            return None
        raise  # a regular file that cannot be opened: the caller's error (one located line in the CLI)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > max_bytes:
            return info.st_size
        parts: list[bytes] = []
        if info.st_size < _ONE_READ:
            data = os.read(fd, info.st_size + 1)  # short of that, a read of a regular file stopped at its end
            if len(data) <= info.st_size:
                return data
            parts.append(data)  # it grew since fstat: read on to the end, as a plain read() would
        while chunk := os.read(fd, 1 << 20):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)
