"""Loaded objects remembered across processes, keyed by the bytes they were loaded from and by the code.

Parsing, validating and resolving a fleet's inventory takes ~20 ms, and its service descriptors ~15 ms, in
every process that reads them (each check, hook and xdist worker); each result is a pure function of the
files' bytes, the names errors carry, a few settings and the code that loads them. A :class:`PickleMemo`
keeps such a result pickled in a private cache folder (:mod:`harness.cache_dir`: a real directory of the
current user, closed to others), one file per key, named by the code stamp and a digest of the rest. Only a
clean load is kept (the loader decides); a bad input is parsed, and its errors worded, every time.

A pickle runs code when it is loaded, so it is read only from that folder and only when it is a regular
file of the current user: the same trust Python's own byte code and the Jinja template cache in the same
folder get. A file that does not load, or loads as anything but the expected type, is removed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable
from typing import Generic, TypeVar

from harness.cache_dir import cache_folder, empty_past, read_cache_file, write_cache_file
from harness.digest_store import digest

T = TypeVar("T")

_MAX_BYTES = 64 << 20


class PickleMemo(Generic[T]):
    """Objects of ``kind`` kept in the cache folder ``folder`` under the code stamp ``stamp()`` (called on
    first use); at most ``max_files`` files, older ones cleared past that."""

    def __init__(self, folder: str, kind: type[T], stamp: Callable[[], str], *, max_files: int = 64) -> None:
        self.folder = folder
        self.kind = kind
        self.stamp = stamp
        self.max_files = max_files

    def recall(self, *parts: bytes) -> tuple[str, T | None]:
        """The file name under which a load from ``parts`` (everything the result depends on besides the
        code) is kept, and the object kept there (None: not kept)."""
        file = f"{self.stamp()}-{digest(*parts).hex()}.pickle"
        folder = cache_folder(self.folder, create=False)
        if folder is None:
            return file, None
        data = read_cache_file(folder / file, _MAX_BYTES)
        if data is None:
            return file, None
        try:
            loaded = pickle.loads(data)  # noqa: S301 -- only a private file of this user (module docstring)
        except Exception:  # a damaged or foreign file: worked out again, and removed
            loaded = None
        if isinstance(loaded, self.kind):
            return file, loaded
        with contextlib.suppress(OSError):
            os.unlink(folder / file)
        return file, None

    def remember(self, file: str, value: T) -> None:
        """Keep a cleanly loaded ``value`` under ``file`` (from :meth:`recall`); best effort."""
        folder = cache_folder(self.folder)
        if folder is None:
            return
        empty_past(folder, self.max_files - 1)  # room for the one written now
        with contextlib.suppress(pickle.PicklingError, TypeError, AttributeError):
            write_cache_file(folder / file, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
