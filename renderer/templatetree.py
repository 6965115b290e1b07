"""A snapshot of the template root: one ``scandir`` walk per plan instead of a ``stat`` per path and part.

Planning asks the template tree the same questions many times (does this template exist, is any part of
its path a symlink, which files lie under this root). :func:`snapshot` lists the tree once (directory
entry types need no ``stat``) and answers those questions exactly as ``pathlib`` and ``os.walk`` answer
them on the same tree, including which problem is found first. A tree with a directory that cannot be
listed is marked incomplete, and callers then ask the file system directly.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError


@dataclass(frozen=True)
class Entry:
    """One directory entry as seen by ``scandir`` (``walks_as_dir`` follows symlinks, like ``os.walk``)."""

    name: str
    is_link: bool
    is_dir: bool
    is_file: bool
    walks_as_dir: bool


@dataclass(frozen=True)
class TemplateTree:
    """Every entry under ``root`` (a resolved directory), per directory in ``scandir`` order."""

    root: Path
    listing: Mapping[str, tuple[Entry, ...]]
    complete: bool
    index: Mapping[str, Entry]
    answers: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    """Answers worked out from this snapshot (template paths, root listings), shared by every plan that
    reads it (:meth:`renderer.api.ReferenceRenderer.batch`); only successful answers are kept."""

    def entry(self, relative: str) -> Entry | None:
        """The entry at a ``/``-separated path relative to the root, None if there is none."""
        return self.index.get(relative)

    def signature(self) -> tuple[tuple[str, tuple[tuple[str, bool, bool, bool], ...]], ...]:
        """Names and kinds of every entry: what the descriptor coverage verdict depends on."""
        return tuple((folder, tuple((e.name, e.is_link, e.is_dir, e.is_file) for e in entries))
                     for folder, entries in sorted(self.listing.items()))


def _scan(path: str) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    with os.scandir(path) as found:
        for item in found:
            try:
                walks_as_dir = item.is_dir()
            except OSError:
                walks_as_dir = False
            entries.append(Entry(item.name, item.is_symlink(), item.is_dir(follow_symlinks=False),
                                 item.is_file(follow_symlinks=False), walks_as_dir))
    return tuple(entries)


def snapshot(root: Path) -> TemplateTree:
    """List every directory under ``root`` (resolved); symlinked directories are listed as entries only."""
    root = root.resolve()
    listing: dict[str, tuple[Entry, ...]] = {}
    index: dict[str, Entry] = {}
    complete = True
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            entries = _scan(os.path.join(root, folder) if folder else str(root))
        except OSError:
            complete = False
            continue
        listing[folder] = entries
        for entry in entries:
            relative = f"{folder}/{entry.name}" if folder else entry.name
            index[relative] = entry
            if entry.is_dir and not entry.is_link:
                pending.append(relative)
    return TemplateTree(root, listing, complete, index)


MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def refuse_file_named_directory(path: Path) -> None:
    """A directory named like a manifest (``kustomization.yaml/``, ``x.json/``) where a template file is
    expected: rendering from inside it would write a tree no kustomize build can read."""
    if path.name.lower().endswith(MANIFEST_SUFFIXES) or path.name == "Kustomization":
        raise InputError("FILE-SPECIAL", "is a directory, not a file", file=str(path),
                         hint="a directory named like a manifest in a template root is refused: make it a file "
                              "or rename the directory")


def walk_files(tree: TemplateTree, base: str) -> list[str]:
    """Sorted paths (relative to ``base``, itself relative to the root) of every regular file under ``base``.

    Refuses symlinks and special files with the error, and in the order, of a top-down ``os.walk``: per
    directory, links among its subdirectories then among its other entries, then special files, then the
    subdirectories in ``scandir`` order.
    """
    key = ("walk_files", base)
    if key not in tree.answers:
        tree.answers[key] = tuple(_walk_files(tree, base))
    return list(tree.answers[key])


def _walk_files(tree: TemplateTree, base: str) -> list[str]:
    found: list[str] = []
    pending = [base]
    while pending:
        folder = pending.pop()
        entries = tree.listing.get(folder, ())
        dirs = [e for e in entries if e.walks_as_dir]
        others = [e for e in entries if not e.walks_as_dir]
        here = tree.root.joinpath(*folder.split("/")) if folder else tree.root
        for entry in dirs + others:
            if entry.is_link:
                raise InputError("FILE-SYMLINK", "symlink in the template root", file=str(here / entry.name),
                                 hint="templates must be regular files inside the template root")
        for entry in dirs:
            refuse_file_named_directory(here / entry.name)
        prefix = folder[len(base):].lstrip("/")
        for entry in others:
            if not entry.is_file:
                raise InputError("FILE-SPECIAL", "special file in the template root", file=str(here / entry.name),
                                 hint="templates must be regular files")
            found.append(f"{prefix}/{entry.name}" if prefix else entry.name)
        pending.extend(f"{folder}/{e.name}" if folder else e.name for e in reversed(dirs))
    return sorted(found)


def _raise(error: OSError) -> None:
    raise error


def strict_walk(root: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` without following symlinks that raises OSError on a directory it cannot list: no walk of
    the renderer skips what it cannot read."""
    return os.walk(root, followlinks=False, onerror=_raise)


def unreadable(exc: OSError, default: Path) -> InputError:
    """FILE-UNREADABLE for an OSError met walking or reading a template or descriptor tree."""
    where = exc.filename if isinstance(exc.filename, str) else str(default)
    return InputError("FILE-UNREADABLE", f"cannot read: {exc.strerror or type(exc).__name__}", file=where,
                      hint="make the template and descriptor directories readable")
