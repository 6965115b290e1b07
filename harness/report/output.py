"""Writing a report file: parents created, the whole text replaced at once, every OSError a located
one-line ``REPORT-UNWRITABLE`` error instead of a traceback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.errors import InputError

_HINT = "choose a writable path for the report (its directory is created when missing)"


def _refuse(path: Path, exc: OSError) -> InputError:
    reason = exc.strerror or type(exc).__name__
    return InputError("REPORT-UNWRITABLE", f"cannot write the report ({reason})", file=str(path), hint=_HINT)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_report_file(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (a reader never sees half a report, and a FIFO in its
    place is replaced, never opened), with the permissions a plain write would give."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _refuse(path, exc) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _refuse(path, exc) from None


def append_report_file(path: Path, text: str) -> None:
    """Append ``text`` (UTF-8) to ``path`` (created when missing)."""
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        with path.open("a", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        raise _refuse(path, exc) from None
