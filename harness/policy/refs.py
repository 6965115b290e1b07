"""What the kustomization files of a tree reference, and in which role.

A YAML file in an overlay is not necessarily a Kubernetes object: kustomize also reads patches
(partial objects), generator inputs (``secretGenerator`` files, Helm values) and plugin or replacement
configuration. Policies ask this module which files a build reads (:func:`build_files`) and what each
file is for (:func:`file_roles`), so that, e.g., the schema check never validates a patch as an object.
The table of path-bearing fields lives in :mod:`harness.kustomize_refs`.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any, Protocol

from harness.kustomize_refs import CONFIG, DATA, KUSTOMIZATION_FILES, PATCH, RESOURCE, rebase, references

__all__ = ["CONFIG", "DATA", "KUSTOMIZATION_FILES", "PATCH", "RESOURCE", "build_files", "file_roles",
           "namespaced_files", "rebase", "references"]

_ROLE_PRIORITY = {RESOURCE: 0, CONFIG: 1, DATA: 2, PATCH: 3}


class _Doc(Protocol):
    @property
    def data(self) -> dict[str, Any]: ...


class Index(Protocol):
    """What these functions read of :class:`harness.policy.model.OverlayIndex`."""

    root: Path
    files: list[str]
    errors: dict[str, str]

    def has_file(self, rel: str) -> bool: ...

    def files_under(self, prefix: str) -> list[str]: ...

    @property
    def by_file(self) -> dict[str, Any]: ...

    def kustomization(self, directory: str) -> tuple[str, dict[str, Any]] | None: ...


def _kustomization_files(index: Index) -> list[str]:
    return [rel for rel in index.by_file if posixpath.basename(rel) in KUSTOMIZATION_FILES]


def _resolve(directory: str, entry: str) -> str | None:
    """Overlay-relative normalized path of ``entry`` written in ``directory``; None outside the overlay."""
    joined = posixpath.normpath(posixpath.join(directory, entry))
    if joined.startswith("/"):
        return None
    return "" if joined == "." else joined


def file_roles(index: Index) -> dict[str, str]:
    """Overlay-relative file -> role (patch/data/config win over resource when a file has several)."""
    roles: dict[str, str] = {}
    for rel in _kustomization_files(index):
        directory = posixpath.dirname(rel)
        data = index.by_file[rel][0].data if index.by_file[rel] else {}
        for entry, role in references(data):
            target = _resolve(directory, entry)
            if target is None or (target not in index.by_file and target not in index.errors):
                continue  # directories and missing files are not roles of files
            if _ROLE_PRIORITY[role] >= _ROLE_PRIORITY.get(roles.get(target, RESOURCE), 0):
                roles[target] = role
    return roles


def build_files(index: Index, directory: str) -> set[str]:
    """Overlay files that ``kubectl kustomize <directory>`` reads (kustomization graph closure).

    A directory without a kustomization file counts as all files below it, which is what Flux's
    kustomize-controller builds when it generates a kustomization for such a path.
    """
    files: set[str] = set()
    visited: set[str] = set()

    def walk(current: str) -> None:
        if current in visited:
            return
        visited.add(current)
        found = index.kustomization(current)
        if found is None:
            files.update(index.files_under("" if current == "" else current + "/"))
            return
        rel, data = found
        files.add(rel)
        for entry, _role in references(data):
            target = _resolve(current, entry)
            if target is None:
                continue
            if (index.root / target).is_dir():
                walk(target)
            elif index.has_file(target):
                files.add(target)

    start = "" if directory in ("", ".") else directory
    walk(start)
    return files


def namespaced_files(index: Index) -> set[str]:
    """Files read by some kustomization that sets ``namespace:`` (their objects get a namespace)."""
    result: set[str] = set()
    for rel in _kustomization_files(index):
        docs = index.by_file[rel]
        if docs and isinstance(docs[0].data.get("namespace"), str) and docs[0].data["namespace"]:
            result |= build_files(index, posixpath.dirname(rel))
    return result



