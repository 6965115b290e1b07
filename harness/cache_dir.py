"""The project's cache directory and its safety rule, shared by the template bytecode cache and the build cache.

``$OVERLAY_PARITY_CACHE_DIR`` (``off``, ``0`` or empty: no cache), else ``$XDG_CACHE_HOME/overlay-parity``,
else ``~/.cache/overlay-parity``. A cache folder is used only when it is a real directory owned by the
current user and closed to writes by others (mode 0700 when created), never a symlink.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

CACHE_ENV = "OVERLAY_PARITY_CACHE_DIR"
_OFF = ("", "0", "off")


def cache_root(environ: dict[str, str] | None = None) -> Path | None:
    """The cache directory named by the environment, None when switched off or not determinable."""
    environ = dict(os.environ) if environ is None else environ
    if CACHE_ENV in environ:
        chosen = environ[CACHE_ENV].strip()
        return None if chosen.lower() in _OFF else Path(chosen)
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "overlay-parity"
    home = environ.get("HOME", "").strip()
    return Path(home) / ".cache" / "overlay-parity" if home and os.path.isabs(home) else None


def private_dir(path: Path, *, create: bool = True) -> bool:
    """Create ``path`` (mode 0700) if missing (unless not ``create``); True when it is a real directory of ours,
    closed to others."""
    try:
        if create:
            path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not stat.S_IMODE(info.st_mode) & (stat.S_IWGRP | stat.S_IWOTH))


def cache_folder(name: str, environ: dict[str, str] | None = None, *, create: bool = True) -> Path | None:
    """``<cache root>/<name>``, created private (0700) together with the root; None when caching is off, the
    platform has no user ids, or either directory is not a private one of ours. Without ``create`` nothing is
    made: None unless both directories already exist (for a reader that has nothing to write yet)."""
    if not hasattr(os, "getuid"):
        return None
    root = cache_root(environ)
    if root is None:
        return None
    if create:
        try:
            root.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
    folder = root / name
    return folder if private_dir(root, create=create) and private_dir(folder, create=create) else None


def write_cache_file(path: Path, text: str | bytes) -> bool:
    """Write ``text`` (UTF-8) or bytes to ``path`` (in a cache folder) atomically: a private temporary file
    beside it, then a rename, so a reader sees the old file or the whole new one. Best effort: False, and
    nothing left behind, when it cannot be written (a cache that is not written only means working the
    answer out again)."""
    import tempfile

    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode() if isinstance(text, str) else text)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            return False
        raise
    return True


def read_cache_file(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of ``path`` (in a cache folder) when it is a regular file of the current user, read without
    following a symlink or blocking on a FIFO; None when it is missing, anything else, unreadable or over
    ``max_bytes`` (an oversize file is removed, so it starts afresh)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        if info.st_size > max_bytes:
            with contextlib.suppress(OSError):
                os.unlink(path)
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def empty_past(folder: Path | str, limit: int, *, prefix: str = "") -> None:
    """Remove every entry of ``folder`` whose name starts with ``prefix`` when there are more than ``limit``
    of them: a cache folder that gains a file per checkout, edit or template root stays small, and what is
    removed is only worked out again (best effort)."""
    try:
        with os.scandir(folder) as entries:
            names = [entry.path for entry in entries if entry.name.startswith(prefix)]
    except OSError:
        return
    if len(names) > limit:
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(name)
