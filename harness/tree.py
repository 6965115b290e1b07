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
from collections.abc import Iterable, Mapping
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
    found: list[str] = []
    found_sizes: dict[str, int] = {}
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                if not entry.is_file(follow_symlinks=False):  # not a regular file: a directory or refused
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, rel + "/"))
                        continue
                    if entry.is_symlink():
                        raise InputError("FILE-SYMLINK", "is a symlink; overlay trees must not contain symlinks",
                                         file=_shown(root, rel, base),
                                         hint="replace the link with a regular file or directory")
                    raise InputError("FILE-SPECIAL", "is not a regular file (FIFO, socket or device)",
                                     file=_shown(root, rel, base), hint="remove it from the overlay tree")
                found.append(rel)
                if sizes and classify(rel) is Ownership.OWNED:
                    size = entry.stat(follow_symlinks=False).st_size
                    if size > max_file_bytes:
                        raise InputError("FILE-TOO-LARGE", f"file is {size} bytes, over the limit of {max_file_bytes}",
                                         file=_shown(root, rel, base),
                                         hint="split the file or raise max_file_bytes in the overlay-parity settings")
                    found_sizes[rel] = size
    return _listing(base, found, found_sizes)


def _listing(root: str, paths: Iterable[str], sizes: dict[str, int]) -> TreeListing:
    """Sort ``paths`` once and split them by :func:`classify`."""
    groups: dict[Ownership, list[str]] = {owner: [] for owner in Ownership}
    for rel in sorted(paths):
        groups[classify(rel)].append(rel)
    return TreeListing(root=root, owned=tuple(groups[Ownership.OWNED]), bootstrap=tuple(groups[Ownership.BOOTSTRAP]),
                       other=tuple(groups[Ownership.OTHER]), sizes=sizes)


# O_NONBLOCK: a FIFO swapped in after the walk must not block the open or the read (it is refused below).
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NONBLOCK", 0))
_READ_CHUNK = 1 << 16


def read_file(root: Path | str, rel: str, *, max_file_bytes: int, display: str | None = None) -> bytes:
    """Read one file of a walked tree without following links; re-checks size and type (the tree may
    change between the walk and the read)."""
    # Hot path (one read per compared file pair): plain os calls, error texts built only when needed. A
    # regular file answers a read with all it has up to the size asked, so a first read shorter than the
    # chunk is the whole file: fstat (the type check) is only needed for a read that came back empty or full.
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
        limit = max_file_bytes + 1
        first = min(limit, _READ_CHUNK)
        try:
            data = os.read(fd, first)
        except BlockingIOError:  # only a FIFO or a device says "try again"
            data = b""
        if not data or len(data) == first:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError("FILE-SPECIAL", "is not a regular file", file=_shown(root, rel, display),
                                 hint="remove it from the tree")
            if data:
                data = _read_rest(fd, data, limit)
    finally:
        os.close(fd)
    if len(data) > max_file_bytes:
        raise InputError("FILE-TOO-LARGE", f"file is over the limit of {max_file_bytes} bytes",
                         file=_shown(root, rel, display),
                         hint="split the file or raise max_file_bytes in the overlay-parity settings")
    return data


def _read_rest(fd: int, data: bytes, limit: int) -> bytes:
    """``data`` and the rest of the file behind ``fd``, stopping once ``limit`` bytes are read."""
    chunks = [data]
    total = len(data)
    while total < limit:
        chunk = os.read(fd, min(limit - total, max(_READ_CHUNK, total)))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _shown(root: Path | str, rel: str, display: str | None) -> str:
    return f"{(display or str(root)).rstrip('/')}/{rel}"


_UNCLEAN = re.compile(r"^/|[\\\x00]|(?:^|/)\.{0,2}(?:/|$)")
# What _UNCLEAN finds, spelled out for paths between newlines ("\n" + "\n".join(paths) + "\n"): a leading
# "/", a backslash or NUL, or an empty, "." or ".." segment (after the start or a "/", before a "/" or the
# end). Substring tests flag every path _UNCLEAN flags (and a few more, e.g. a name holding a newline), so a
# clean result clears the whole tree at C speed.
_UNCLEAN_PARTS = ("\n/", "\\", "\x00", "\n\n", "\n./", "\n.\n", "\n../", "\n..\n",
                  "//", "/\n", "/./", "/.\n", "/../", "/..\n")


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
    if not _all_clean(files):
        for rel, data in files.items():
            problem = _bad_path(rel) or ("" if isinstance(data, bytes) else "has content that is not bytes")
            if problem:
                shown = rel[:120] if isinstance(rel, str) else type(rel).__name__
                raise InputError("RENDERER-INVALID", f"rendered path {shown!r} {problem}", file=display,
                                 hint="the renderer must return overlay-relative POSIX file paths mapped to bytes")
    listing = _listing(display, files, {})
    for rel in listing.owned:
        size = listing.sizes[rel] = len(files[rel])
        if size > max_file_bytes:
            raise InputError("FILE-TOO-LARGE", f"file is {size} bytes, over the limit of {max_file_bytes}",
                             file=_shown(Path(display), rel, display),
                             hint="split the file or raise max_file_bytes in the overlay-parity settings")
    clash = _directories(files).intersection(files)
    if clash:
        raise InputError("RENDERER-INVALID", f"rendered path {min(clash)[:120]!r} is both a file and a directory",
                         file=display, hint="the renderer must return a tree a directory could hold")
    return listing


def _directories(paths: Iterable[str]) -> set[str]:
    """Every directory the ``paths`` need (each parent and its ancestors), each directory visited once."""
    found: set[str] = set()
    for rel in paths:
        cut = rel.rfind("/")
        while cut != -1:
            parent = rel[:cut]
            if parent in found:  # and so are its ancestors
                break
            found.add(parent)
            cut = rel.rfind("/", 0, cut)
    return found


def _all_clean(files: Mapping[str, bytes]) -> bool:
    """Whether every path is a clean string and every content bytes (C-level loops; False may be wrong)."""
    if not {type(data) for data in files.values()} <= {bytes} or not {type(rel) for rel in files} <= {str}:
        return False
    joined = "\n" + "\n".join(files) + "\n"
    return not any(part in joined for part in _UNCLEAN_PARTS)
