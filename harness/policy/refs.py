"""What the kustomization files of an overlay reference, and in which role.

A YAML file in an overlay is not necessarily a Kubernetes object: kustomize also reads patches
(partial objects), generator inputs (``secretGenerator`` files, Helm values) and plugin or replacement
configuration. Policies ask this module which files a build reads (:func:`build_files`) and what each
file is for (:func:`file_roles`), so that, e.g., the schema check never validates a patch as an object.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.policy.model import OverlayIndex

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

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
    if joined.startswith("/"):
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



def _map_entry(entry: Any, fn: Callable[[str], str]) -> Any:
    if not isinstance(entry, str) or not entry or _is_remote(entry) or "\n" in entry:
        return entry
    return fn(entry)


def _map_list(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return _map_entry(value, fn)
    if isinstance(value, list):
        return [_map_entry(v, fn) for v in value]
    return value


def rebase(kustomization: dict[str, Any], fn: Callable[[str], str]) -> dict[str, Any]:
    """A copy of a kustomization with every local path entry (the fields :func:`references` reads) mapped by
    ``fn``: used to build a kustomization from another directory without moving the files it names."""
    data = copy.deepcopy(kustomization)
    for key in ("resources", "bases", "components", "crds", "patchesStrategicMerge", "configurations",
                "transformers", "generators", "validators"):
        if key in data:
            data[key] = _map_list(data[key], fn)
    for key in ("patches", "patchesJson6902", "replacements"):
        for item in data.get(key) or []:
            if isinstance(item, dict) and "path" in item:
                item["path"] = _map_entry(item["path"], fn)
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in data.get(key) or []:
            if not isinstance(generator, dict):
                continue
            if "files" in generator:
                generator["files"] = [
                    (f.split("=", 1)[0] + "=" + fn(f.split("=", 1)[1]) if "=" in f else _keyed(f, fn))
                    if isinstance(f, str) and f else f for f in _strings(generator["files"])]
            for env_key in ("envs", "env"):
                if env_key in generator:
                    generator[env_key] = _map_list(generator[env_key], fn)
    for chart in data.get("helmCharts") or []:
        if isinstance(chart, dict):
            for key in ("valuesFile", "additionalValuesFiles"):
                if key in chart:
                    chart[key] = _map_list(chart[key], fn)
    globals_ = data.get("helmGlobals")
    if isinstance(globals_, dict) and "chartHome" in globals_:
        globals_["chartHome"] = _map_entry(globals_["chartHome"], fn)
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and "path" in openapi:
        openapi["path"] = _map_entry(openapi["path"], fn)
    return data


def _keyed(entry: str, fn: Callable[[str], str]) -> str:
    """A generator file entry without ``key=``: keep the key kustomize would derive (the file name)."""
    mapped = fn(entry)
    if mapped == entry:
        return entry
    return f"{posixpath.basename(entry)}={mapped}"
