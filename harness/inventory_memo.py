"""Loaded inventories remembered across processes, keyed by the text and the code that loads it.

Parsing, validating and resolving a fleet's inventory takes ~20 ms, in every process that reads it (each
check, hook and xdist worker); the result is a pure function of the file's text, the name errors and rules
carry, the security kinds and the harness code. :func:`remember` keeps the loaded
:class:`~harness.inventory.Inventory` (:func:`harness.inventory.load_inventory` asks :func:`recall` first)
pickled in the private cache folder ``inventories/`` (:mod:`harness.cache_dir`: a real directory of the
current user, closed to others), one file per key, named by the code stamp and a digest of the rest. Only
an inventory that loaded cleanly is kept; a bad one is parsed, and its errors worded, every time.

A pickle runs code when it is loaded, so it is read only from that folder and only when it is a regular
file of the current user: the same trust Python's own byte code and the Jinja template cache in the same
folder get. A file that does not load, or loads as anything but an inventory, is removed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Iterable
from typing import TypeVar

from harness.cache_dir import cache_folder, empty_past, read_cache_file, write_cache_file
from harness.digest_store import code_stamp, digest

T = TypeVar("T")

FOLDER = "inventories"
_MAX_BYTES = 64 << 20
_MAX_FILES = 64  # one per inventory text and code version: old ones are cleared past this


def recall(text: str, name: str, security_kinds: Iterable[str] | None, kind: type[T]) -> tuple[str, T | None]:
    """The file name under which this load is kept, and the object of ``kind`` (the loader's
    :class:`~harness.inventory.Inventory`) kept there (None: not kept)."""
    kinds = "\0".join(security_kinds) if security_kinds is not None else "\xff"
    key = digest(text.encode("utf-8", "surrogateescape"), name.encode("utf-8", "surrogateescape"), kinds.encode())
    file = f"{code_stamp('harness')}-{key.hex()}.pickle"
    folder = cache_folder(FOLDER, create=False)
    if folder is None:
        return file, None
    data = read_cache_file(folder / file, _MAX_BYTES)
    if data is None:
        return file, None
    try:
        loaded = pickle.loads(data)  # noqa: S301 -- only a private file of this user (module docstring)
    except Exception:  # a damaged or foreign file: worked out again, and removed
        loaded = None
    if isinstance(loaded, kind):
        return file, loaded
    with contextlib.suppress(OSError):
        os.unlink(folder / file)
    return file, None


def remember(file: str, inventory: object) -> None:
    """Keep a cleanly loaded ``inventory`` under ``file`` (from :func:`recall`); best effort."""
    folder = cache_folder(FOLDER)
    if folder is None:
        return
    empty_past(folder, _MAX_FILES - 1)  # room for the one written now
    write_cache_file(folder / file, pickle.dumps(inventory, protocol=pickle.HIGHEST_PROTOCOL))
