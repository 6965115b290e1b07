"""What kustomize-controller builds for a Flux Kustomization path, expressed as a :class:`BuildPlan`.

kustomize-controller (fluxcd/pkg ``kustomize``):

- A directory with ``kustomization.yaml`` / ``kustomization.yml`` / ``Kustomization`` is built as it is.
- A directory without one gets a generated kustomization whose ``resources`` are, in walk order, every
  ``.yaml``/``.yml`` file below it that is part of the source artifact (``.sourceignore`` and
  source-controller's defaults respected, see :mod:`harness.policy.sourceignore`), and every
  sub-directory that has a kustomization file (not descended into). A file that is not Kubernetes YAML
  fails the build, as it does in Flux.
- ``spec.targetNamespace``, ``spec.patches``, ``spec.images``, ``spec.components`` (relative to the path),
  ``spec.namePrefix`` and ``spec.nameSuffix`` are added to the kustomization.
- Builds load files from outside the kustomization directory (``LoadRestrictionsNone``).

Nothing is ever written into the user's tree and no directory is copied: where Flux would edit or
generate a kustomization file, the plan carries a wrapper kustomization with absolute paths, which
:class:`harness.kustomize.KustomizeBuilder` writes into a private temp directory with paths relative to
it, so every file is read in place and ``../base`` references keep working.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.kustomize import BuildPlan
from harness.kustomize_refs import KUSTOMIZATION_FILES, rebase
from harness.policy.sourceignore import IgnoreMatcher

FLUX_SYSTEM = "flux-system"
OVERRIDE_KEYS = ("targetNamespace", "patches", "images", "components", "namePrefix", "nameSuffix")


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file kustomize would read in ``directory`` (None when there is none)."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def generated_resources(directory: Path, source_root: Path, ignore: IgnoreMatcher | None) -> list[Path]:
    """The ``resources`` of the kustomization kustomize-controller generates for ``directory``."""
    found: list[Path] = []

    def rel(path: Path) -> str:
        try:
            return path.relative_to(source_root).as_posix()
        except ValueError:
            return ""

    def walk(current: Path) -> None:
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if entry.name == ".git" or (ignore is not None and rel(path)
                                            and ignore.ignored(rel(path), is_dir=True)):
                    continue
                if kustomization_file(path) is not None:
                    found.append(path)
                else:
                    walk(path)
            elif entry.name.endswith((".yaml", ".yml")):
                if ignore is not None and rel(path) and ignore.ignored(rel(path)):
                    continue
                found.append(path)

    walk(directory)
    return found


def _overrides(flux_spec: dict[str, Any], directory: Path) -> dict[str, Any]:
    """The kustomization fields a Flux Kustomization's spec adds (components made absolute)."""
    extra: dict[str, Any] = {}
    namespace = flux_spec.get("targetNamespace")
    if isinstance(namespace, str) and namespace:
        extra["namespace"] = namespace
    for key in ("patches", "images"):
        value = flux_spec.get(key)
        if isinstance(value, list) and value:
            extra[key] = value
    components = flux_spec.get("components")
    if isinstance(components, list) and components:
        extra["components"] = [os.path.normpath(directory / c) if isinstance(c, str) else c for c in components]
    for key in ("namePrefix", "nameSuffix"):
        value = flux_spec.get(key)
        if isinstance(value, str) and value:
            extra[key] = value
    return extra


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if key in ("patches", "images", "components"):
            merged[key] = [*(merged.get(key) or []), *value]
        else:
            merged[key] = value
    return merged


def _absolute(directory: Path) -> Any:
    def fn(entry: str) -> str:
        return entry if os.path.isabs(entry) else os.path.normpath(directory / entry)
    return fn


def plan_build(directory: Path, *, source_root: Path, ignore: IgnoreMatcher | None = None,
               flux_spec: dict[str, Any] | None = None, stub_flux_system: bool = False,
               kustomization: dict[str, Any] | None = None) -> BuildPlan:
    """How Flux builds ``directory`` for a Kustomization with ``flux_spec``.

    ``stub_flux_system``: the directory is a bootstrap root whose kustomization lists ``./flux-system``
    while that directory is absent (a rendered, not yet bootstrapped overlay); the entry is left out,
    which is what a stub ``flux-system/`` with ``resources: []`` builds. ``kustomization`` is the parsed
    kustomization file, needed only for the stub.
    """
    directory = directory.resolve()
    extra = _overrides(flux_spec or {}, directory)
    kfile = kustomization_file(directory)
    if kfile is None:
        resources = [str(p) for p in generated_resources(directory, source_root, ignore)]
        wrapper = _merge({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                          "resources": resources}, extra)
        return BuildPlan(directory, json.dumps(wrapper, sort_keys=True), generated=True)
    if stub_flux_system and kustomization is not None and not (directory / FLUX_SYSTEM).exists():
        data = dict(kustomization)
        for key in ("resources", "bases"):
            if isinstance(data.get(key), list):
                data[key] = [e for e in data[key]
                             if not (isinstance(e, str) and e.strip().rstrip("/").removeprefix("./") == FLUX_SYSTEM)]
        wrapper = _merge(rebase(data, _absolute(directory)), extra)
        return BuildPlan(directory, json.dumps(wrapper, sort_keys=True), stubbed=True)
    if extra:
        wrapper = _merge({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                          "resources": [str(directory)]}, extra)
        return BuildPlan(directory, json.dumps(wrapper, sort_keys=True))
    return BuildPlan(directory)
