"""What the kustomization files of an overlay reference, and in which role.

A YAML file in an overlay is not necessarily a Kubernetes object: kustomize also reads patches
(partial objects), generator inputs (``secretGenerator`` files, Helm values) and plugin or replacement
configuration. Policies ask this module which files a build reads (:func:`build_files`) and what each
file is for (:func:`file_roles`), so that, e.g., the schema check never validates a patch as an object.
"""

from __future__ import annotations

import posixpath
from typing import Any

from harness.policy.model import KUSTOMIZATION_FILES, OverlayIndex

RESOURCE, PATCH, DATA, CONFIG = "resource", "patch", "data", "config"
_ROLE_PRIORITY = {RESOURCE: 0, CONFIG: 1, DATA: 2, PATCH: 3}


def _is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "gitlab.com/", "bitbucket.org/"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def references(kustomization: dict[str, Any]) -> list[tuple[str, str]]:
    """(entry as written, role) for every local file or directory a kustomization references."""
    found: list[tuple[str, str]] = []
    for key in ("resources", "bases", "components", "crds"):
        found += [(e, RESOURCE) for e in _strings(kustomization.get(key))]
    for entry in _strings(kustomization.get("patchesStrategicMerge")):
        if "\n" not in entry:  # inline patches are YAML text, not paths
            found.append((entry, PATCH))
    for key in ("patches", "patchesJson6902"):
        for patch in kustomization.get(key) or []:
            if isinstance(patch, dict) and isinstance(patch.get("path"), str):
                found.append((patch["path"], PATCH))
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(key) or []:
            if not isinstance(generator, dict):
                continue
            for entry in _strings(generator.get("files")):
                found.append((entry.split("=", 1)[-1], DATA))
            found += [(e, DATA) for e in _strings(generator.get("envs")) + _strings(generator.get("env"))]
    for chart in kustomization.get("helmCharts") or []:
        if isinstance(chart, dict):
            values = _strings(chart.get("valuesFile")) + _strings(chart.get("additionalValuesFiles"))
            found += [(e, DATA) for e in values]
    for replacement in kustomization.get("replacements") or []:
        if isinstance(replacement, dict) and isinstance(replacement.get("path"), str):
            found.append((replacement["path"], CONFIG))
    for key in ("configurations", "transformers", "generators", "validators"):
        found += [(e, CONFIG) for e in _strings(kustomization.get(key)) if "\n" not in e]
    openapi = kustomization.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        found.append((openapi["path"], CONFIG))
    return [(entry, role) for entry, role in found if entry and not _is_remote(entry)]


def _kustomization_files(index: OverlayIndex) -> list[str]:
    return [rel for rel in index.by_file if posixpath.basename(rel) in KUSTOMIZATION_FILES]


def _resolve(directory: str, entry: str) -> str | None:
    """Overlay-relative normalized path of ``entry`` written in ``directory``; None outside the overlay."""
    joined = posixpath.normpath(posixpath.join(directory, entry))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return "" if joined == "." else joined


def file_roles(index: OverlayIndex) -> dict[str, str]:
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


def build_files(index: OverlayIndex, directory: str) -> set[str]:
    """Overlay files that ``kubectl kustomize <directory>`` reads (kustomization graph closure).

    A directory without a kustomization file counts as all files below it, which is what Flux's
    kustomize-controller builds when it generates a kustomization for such a path.
    """
    files: set[str] = set()
    visited: set[str] = set()
    all_files = index.files

    def walk(current: str) -> None:
        if current in visited:
            return
        visited.add(current)
        found = index.kustomization(current)
        if found is None:
            prefix = "" if current == "" else current + "/"
            files.update(f for f in all_files if f.startswith(prefix))
            return
        rel, data = found
        files.add(rel)
        for entry, _role in references(data):
            target = _resolve(current, entry)
            if target is None:
                continue
            if (index.root / target).is_dir():
                walk(target)
            elif target in all_files:
                files.add(target)

    start = "" if directory in ("", ".") else directory
    walk(start)
    return files


def namespaced_files(index: OverlayIndex) -> set[str]:
    """Files read by some kustomization that sets ``namespace:`` (their objects get a namespace)."""
    result: set[str] = set()
    for rel in _kustomization_files(index):
        docs = index.by_file[rel]
        if docs and isinstance(docs[0].data.get("namespace"), str) and docs[0].data["namespace"]:
            result |= build_files(index, posixpath.dirname(rel))
    return result

