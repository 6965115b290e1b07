"""Writing a report file: parents created, a regular file's whole text replaced at once, a stream written in
place, every OSError a located one-line ``REPORT-UNWRITABLE`` error instead of a traceback.

What the path names decides how it is written:

- nothing yet, or a regular file: a temporary file beside it, renamed over it (a reader never sees half a
  report); through a symlink to a regular file, the file it points to (the link stays);
- anything else that exists — ``/dev/null``, ``/dev/stdout`` and the other ``/dev/fd`` and ``/proc/*/fd``
  links, a terminal, a FIFO: written in place, never replaced (replacing ``/dev/null`` as root would swap
  the device for a file). The open never blocks: a FIFO nobody reads is one line, not a hang.
- a directory or a socket: ``REPORT-UNWRITABLE``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import tempfile
from pathlib import Path

from harness.errors import InputError

_HINT = "choose a writable path for the report (its directory is created when missing)"
_STREAM_PREFIXES = ("/dev/", "/proc/")


def _refuse(path: Path, exc: OSError) -> InputError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENXIO:  # a FIFO without a reader, a socket
        reason = "nothing reads from it"
    return InputError("REPORT-UNWRITABLE", f"cannot write the report ({reason})", file=str(path), hint=_HINT)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _through_stream_link(path: Path) -> bool:
    """Whether ``path`` is, or goes through a symlink to, a ``/dev`` or ``/proc`` name (``/dev/stdout``)."""
    current = os.path.abspath(path)
    for _ in range(40):
        if current.startswith(_STREAM_PREFIXES):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.join(os.path.dirname(current), os.readlink(current))
    return True  # a link loop: let the open report it, in place


def write_report_file(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: atomically for a regular file (or a new one), in place for a stream
    or device (module docstring), with the permissions a plain write would give."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise _refuse(path, exc) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise _refuse(path, IsADirectoryError(21, "is a directory"))
    if info is None or stat.S_ISREG(info.st_mode):
        _replace(path, path, text)
    elif stat.S_ISLNK(info.st_mode) and not _through_stream_link(path) and os.path.isfile(path):
        _replace(path, Path(os.path.realpath(path)), text)
    else:
        _write_in_place(path, text, append=False)


def append_report_file(path: Path, text: str) -> None:
    """Append ``text`` (UTF-8) to ``path`` (created when missing), without ever blocking on the open."""
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(21, "is a directory")
    except OSError as exc:
        raise _refuse(path, exc) from None
    _write_in_place(path, text, append=True)


def _replace(shown: Path, path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _refuse(shown, exc) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _refuse(shown, exc) from None


def _write_in_place(path: Path, text: str, *, append: bool) -> None:
    """Open without blocking (a FIFO nobody reads: ENXIO), then write everything, appending."""
    for stream in (sys.stdout, sys.stderr):  # /dev/stdout: what was printed before comes first
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    # O_APPEND: /dev/stdout may be a link to the file the shell redirected into, holding what was printed
    flags = os.O_WRONLY | os.O_NONBLOCK | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    try:
        if append:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            flags |= os.O_CREAT
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        raise _refuse(path, exc) from None
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise OSError(errno.ENXIO, "is a socket")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)  # now write it all
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise _refuse(path, exc) from None
    finally:
        os.close(fd)
