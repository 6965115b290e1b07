"""Walk an overlay tree safely and classify its paths.

Classification of a POSIX path relative to the overlay root (``applications/overlays/<cluster>/``):
- renderer-owned (compared by parity): the root ``kustomization.yaml``, ``.sops.yaml``, and everything
  under ``services/``, ``managed-services/`` and ``customer-managed/``;
- bootstrap-owned: everything under ``flux-system/`` (never rendered, excluded from parity);
- other: anything else (``README.md``, stray files), excluded from parity but listed so a reviewer sees it.

The walk never follows symlinks: a symlink anywhere in the tree (file or directory) is an
``InputError`` ``FILE-SYMLINK`` naming it, and so is a root that is itself a link. A renderer-owned file
larger than ``max_file_bytes`` is ``FILE-TOO-LARGE``; a FIFO, socket or device is ``FILE-SPECIAL``.
Only names and sizes are held in memory; contents are read later, one file pair at a time.

A renderer that renders into memory (:class:`harness.renderer_api.MemoryRenderer`) hands over a mapping of
paths to bytes instead of a directory: :func:`list_files` classifies it with the same rules and refuses any
path a directory could not hold (``RENDERER-INVALID``), so both kinds of rendered tree compare alike.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.errors import InputError

OWNED_FILES = frozenset({"kustomization.yaml", ".sops.yaml"})
OWNED_DIRS = frozenset({"services", "managed-services", "customer-managed"})
BOOTSTRAP_DIRS = frozenset({"flux-system"})


class Ownership(StrEnum):
    """Who owns a path in an overlay tree."""

    OWNED = "owned"
    BOOTSTRAP = "bootstrap"
    OTHER = "other"


def classify(path: str) -> Ownership:
    """Ownership of a POSIX path relative to the overlay root."""
    head, sep, _ = path.partition("/")
    if not sep:
        return Ownership.OWNED if path in OWNED_FILES else Ownership.OTHER
    if head in OWNED_DIRS:
        return Ownership.OWNED
    if head in BOOTSTRAP_DIRS:
        return Ownership.BOOTSTRAP
    return Ownership.OTHER


@dataclass(frozen=True)
class TreeListing:
    """Sorted relative file paths of one tree, by ownership; ``sizes`` for owned files."""

    root: str
    owned: tuple[str, ...] = ()
    bootstrap: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    sizes: dict[str, int] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (no sizes)."""
        return {"root": self.root, "owned": list(self.owned), "bootstrap": list(self.bootstrap),
                "other": list(self.other)}


def require_dir(root: Path, *, display: str | None = None, what: str = "overlay tree") -> None:
    """Raise FILE-MISSING / FILE-SYMLINK unless ``root`` is a real directory."""
    name = display or str(root)
    if root.is_symlink():
        raise InputError("FILE-SYMLINK", f"{what} root is a symlink", file=name,
                         hint="point at the real directory; overlay trees must not contain symlinks")
    if not root.exists():
        raise InputError("FILE-MISSING", f"{what} directory does not exist", file=name, hint="check the path")
    if not root.is_dir():
        raise InputError("FILE-MISSING", f"{what} is not a directory", file=name, hint="check the path")


def walk_tree(root: Path, *, max_file_bytes: int, display: str | None = None, sizes: bool = True) -> TreeListing:
    """List every file under ``root`` (POSIX relative paths, sorted), classified by ownership.

    Raises FILE-MISSING (no such directory), FILE-SYMLINK (any symlink), FILE-SPECIAL (not a regular
    file), FILE-TOO-LARGE (an owned file over ``max_file_bytes``). Error locations are ``display``
    (default: ``root``) joined with the relative path. Without ``sizes`` the walk reads only directory
    entries (no ``stat`` per file where the file system reports entry types), leaves ``sizes`` empty and
    leaves the size limit to :func:`read_file`, for callers that read every owned file they use.
    """
    base = display or str(root)
    require_dir(root, display=base)
    owned: list[str] = []
    bootstrap: list[str] = []
    other: list[str] = []
    found_sizes: dict[str, int] = {}
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                if entry.is_symlink():
                    raise InputError("FILE-SYMLINK", "is a symlink; overlay trees must not contain symlinks",
                                     file=_shown(root, rel, base),
                                     hint="replace the link with a regular file or directory")
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    raise InputError("FILE-SPECIAL", "is not a regular file (FIFO, socket or device)",
                                     file=_shown(root, rel, base), hint="remove it from the overlay tree")
                owner = classify(rel)
                if owner is Ownership.OWNED:
                    if not sizes:
                        owned.append(rel)
                        continue
                    info = entry.stat(follow_symlinks=False)
                    if info.st_size > max_file_bytes:
                        raise InputError("FILE-TOO-LARGE",
                                         f"file is {info.st_size} bytes, over the limit of {max_file_bytes}",
                                         file=_shown(root, rel, base),
                                         hint="split the file or raise max_file_bytes in [tool.overlay-parity]")
                    owned.append(rel)
                    found_sizes[rel] = info.st_size
                elif owner is Ownership.BOOTSTRAP:
                    bootstrap.append(rel)
                else:
                    other.append(rel)
    return TreeListing(root=base, owned=tuple(sorted(owned)), bootstrap=tuple(sorted(bootstrap)),
                       other=tuple(sorted(other)), sizes=found_sizes)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_CHUNK = 1 << 16


def read_file(root: Path, rel: str, *, max_file_bytes: int, display: str | None = None) -> bytes:
    """Read one file of a walked tree without following links; re-checks size and type (the tree may
    change between the walk and the read)."""
    # Hot path (two reads per compared file pair): plain os calls, error texts built only when needed.
    path = f"{os.fspath(root)}/{rel}"
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        raise InputError("FILE-MISSING", "file disappeared during the comparison", file=_shown(root, rel, display),
                         hint="do not modify the tree while it is being checked") from None
    except OSError:
        if os.path.islink(path):
            raise InputError("FILE-SYMLINK", "is a symlink; overlay trees must not contain symlinks",
                             file=_shown(root, rel, display), hint="replace the link with a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("FILE-SPECIAL", "is not a regular file", file=_shown(root, rel, display),
                             hint="remove it from the tree")
        limit = max_file_bytes + 1
        data = os.read(fd, min(limit, max(info.st_size + 1, _READ_CHUNK)))
        # Asked for more than fstat's size: getting exactly that size means end of file. Otherwise the file
        # changed since fstat (or the read was short): read on to the end or the limit.
        if data and len(data) != info.st_size and len(data) < limit:
            chunks = [data]
            total = len(data)
            while total < limit:
                chunk = os.read(fd, min(limit - total, max(_READ_CHUNK, total)))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > max_file_bytes:
        raise InputError("FILE-TOO-LARGE", f"file is over the limit of {max_file_bytes} bytes",
                         file=_shown(root, rel, display),
                         hint="split the file or raise max_file_bytes in [tool.overlay-parity]")
    return data


def _shown(root: Path, rel: str, display: str | None) -> str:
    return f"{(display or str(root)).rstrip('/')}/{rel}"


_UNCLEAN = re.compile(r"^/|[\\\x00]|(?:^|/)\.{0,2}(?:/|$)")


def _bad_path(path: object) -> str:
    """What is wrong with an in-memory tree path ('' when it is a clean relative POSIX file path)."""
    if not isinstance(path, str) or not path:
        return "is not a non-empty string"
    if _UNCLEAN.search(path) is None:
        return ""
    if path.startswith("/") or "\\" in path or "\x00" in path:
        return "is not a relative POSIX path"
    return "has an empty, '.' or '..' segment"


def list_files(files: Mapping[str, bytes], *, max_file_bytes: int, display: str) -> TreeListing:
    """Classify an in-memory rendered tree (overlay-relative POSIX path -> bytes) like :func:`walk_tree`.

    Raises RENDERER-INVALID for a path no directory could hold (absolute, ``..``, empty segments, a file
    that is also another file's directory) or content that is not bytes, FILE-TOO-LARGE for an owned file
    over ``max_file_bytes``. Error locations are ``display`` (joined with the path for an oversize file);
    a bad path is quoted in the message, cut at 120 characters.
    """
    owned: list[str] = []
    bootstrap: list[str] = []
    other: list[str] = []
    sizes: dict[str, int] = {}
    for rel, data in files.items():
        problem = _bad_path(rel) or ("" if isinstance(data, bytes) else "has content that is not bytes")
        if problem:
            shown = rel[:120] if isinstance(rel, str) else type(rel).__name__
            raise InputError("RENDERER-INVALID", f"rendered path {shown!r} {problem}", file=display,
                             hint="the renderer must return overlay-relative POSIX file paths mapped to bytes")
        owner = classify(rel)
        if owner is Ownership.OWNED:
            if len(data) > max_file_bytes:
                raise InputError("FILE-TOO-LARGE", f"file is {len(data)} bytes, over the limit of {max_file_bytes}",
                                 file=_shown(Path(display), rel, display),
                                 hint="split the file or raise max_file_bytes in [tool.overlay-parity]")
            owned.append(rel)
            sizes[rel] = len(data)
        elif owner is Ownership.BOOTSTRAP:
            bootstrap.append(rel)
        else:
            other.append(rel)
    for rel in files:
        cut = rel.find("/")
        while cut != -1:
            if rel[:cut] in files:
                raise InputError("RENDERER-INVALID", f"rendered path {rel[:cut][:120]!r} is both a file and a "
                                 "directory", file=display, hint="the renderer must return a tree a directory "
                                 "could hold")
            cut = rel.find("/", cut + 1)
    return TreeListing(root=display, owned=tuple(sorted(owned)), bootstrap=tuple(sorted(bootstrap)),
                       other=tuple(sorted(other)), sizes=sizes)
