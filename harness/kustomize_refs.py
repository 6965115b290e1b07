"""The file references of a kustomization, by role, and rewriting them (one table of path-bearing fields).

A YAML file next to a kustomization is not necessarily a Kubernetes object: kustomize also reads patches
(partial objects), generator inputs (``secretGenerator`` files, Helm values) and plugin or replacement
configuration. :func:`references` lists every local file or directory a kustomization names, with its
role; :func:`rebase` maps every such entry (to build a kustomization from another directory while the
files stay where they are).
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from typing import Any

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RESOURCE, PATCH, DATA, CONFIG = "resource", "patch", "data", "config"


def is_remote(entry: str) -> bool:
    """A remote kustomize entry (a URL or a git host path), not a local file."""
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
    return [(entry, role) for entry, role in found if entry and not is_remote(entry)]


def has_remote(kustomization: dict[str, Any]) -> bool:
    """Whether a kustomization names a remote resource, base or component (its build reads the network)."""
    return any(is_remote(e) for key in ("resources", "bases", "components") for e in _strings(kustomization.get(key)))


def _map_entry(entry: Any, fn: Callable[[str], str]) -> Any:
    if not isinstance(entry, str) or not entry or is_remote(entry) or "\n" in entry:
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
