"""What every policy reads: options, the overlay's parsed YAML, and the objects Flux would apply.

One :class:`PolicyContext` per overlay and run. It parses every YAML file once, builds the overlay
for its lifecycle claim (the real tree, or a temp copy with a stub ``flux-system/``), follows every
Flux Kustomization that points into this repository and builds its path. Policies only read it.

"Applied objects" are the output of those builds, i.e. what Flux would apply from this repository,
with patches and namespace transformers already applied. When the root build fails (reported by the
lifecycle policy), the policies fall back to the objects written in the overlay's files, so one broken
file does not hide every other finding.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.kustomize import BuildResult, KustomizeBuilder
from harness.project_config import DEFAULT_SECURITY_KINDS, ProjectConfig
from harness.renderer_api import Renderer
from harness.yamlio import load_file

BOOTSTRAP_COMPLETE = "bootstrap-complete"
RENDERER_PARITY = "renderer-parity"
FLUX_SYSTEM = "flux-system"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_CONFIG_GROUP = "kustomize.config.k8s.io"
FLUX_KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
FLUX_SOURCE_GROUP = "source.toolkit.fluxcd.io"
FLUX_HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_KINDS = ("GitRepository", "HelmRepository", "OCIRepository", "Bucket")
CONVENTIONS = ("unpinned-source", "prune", "decryption", "drift-detection")
MAX_FLUX_DEPTH = 8
STUB_KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"


@dataclass(frozen=True)
class PolicyOptions:
    """How policies run. Defaults: every policy, every convention, Kubernetes 1.33 strict schemas.

    ``fixture_dir`` (the oracle overlay) enables the security-files comparison; ``renderer`` plus
    ``config_path`` make the SOPS proof render the cluster with a generated age recipient, otherwise the
    proof works on the overlay's own ``.sops.yaml``. ``sops_enabled=None`` means "on when the overlay has
    a ``.sops.yaml``".
    """

    policies: tuple[str, ...] = ()
    conventions: bool = True
    disabled_conventions: frozenset[str] = frozenset()
    base_repo_pattern: str = "gitops-base"
    kubernetes_version: str = "1.33"
    strict_schema: bool = True
    security_kinds: tuple[str, ...] = DEFAULT_SECURITY_KINDS
    fixture_dir: Path | None = None
    sops_enabled: bool | None = None
    renderer: Renderer | None = None
    config_path: Path | None = None
    build_timeout: float = 60.0
    jobs: int = 2

    def __post_init__(self) -> None:
        unknown = sorted(set(self.disabled_conventions) - set(CONVENTIONS))
        if unknown:
            raise InputError("USAGE", f"unknown convention {unknown[0]!r}",
                             hint=f"choose from {', '.join(CONVENTIONS)}")

    def convention_on(self, name: str) -> bool:
        """Whether one convention check runs."""
        return self.conventions and name not in self.disabled_conventions

    @classmethod
    def from_project(cls, project: ProjectConfig, **overrides: Any) -> PolicyOptions:
        """Options from ``[tool.overlay-parity]`` (``policy_conventions``, ``kubernetes_version``,
        ``security_kinds``, and the extra keys ``policy_disabled_conventions``, ``base_repo_pattern``)."""
        disabled = project.extra.get("policy_disabled_conventions", [])
        if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
            raise InputError("USAGE", "[tool.overlay-parity] policy_disabled_conventions must be a list of strings",
                             hint=f"choose from {', '.join(CONVENTIONS)}")
        values: dict[str, Any] = {
            "conventions": project.policy_conventions,
            "kubernetes_version": project.kubernetes_version,
            "security_kinds": project.security_kinds,
            "disabled_conventions": frozenset(disabled),
            "base_repo_pattern": str(project.extra.get("base_repo_pattern", "gitops-base")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class SourceDoc:
    """One YAML document as written in an overlay file."""

    path: str  # overlay-relative, POSIX
    index: int  # document number in the file (0-based)
    data: dict[str, Any]


@dataclass(frozen=True)
class KObject:
    """One object Flux would apply, with the overlay file it most likely comes from."""

    data: dict[str, Any]
    path: str
    origin: str  # overlay-relative directory whose build produced it ("." for the root)

    @property
    def group(self) -> str:
        return api_group(self.data)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return meta(self.data, "name")

    @property
    def namespace(self) -> str:
        """The namespace Flux applies it in ("default" when the object names none)."""
        return meta(self.data, "namespace") or "default"

    def ref(self) -> str:
        """``Kind namespace/name`` for messages."""
        return f"{self.kind} {self.namespace}/{self.name}"


def api_group(data: dict[str, Any]) -> str:
    """``kustomize.toolkit.fluxcd.io/v1`` -> ``kustomize.toolkit.fluxcd.io``; ``v1`` -> ``""``."""
    api_version = data.get("apiVersion")
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.rsplit("/", 1)[0]


def meta(data: dict[str, Any], key: str) -> str:
    """A metadata string field ('' when absent or not a string)."""
    metadata = data.get("metadata")
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else ""


def spec(data: dict[str, Any]) -> dict[str, Any]:
    """``spec`` as a mapping ({} when absent or malformed)."""
    value = data.get("spec")
    return value if isinstance(value, dict) else {}


def is_flux_kustomization(data: dict[str, Any]) -> bool:
    """A ``kustomize.toolkit.fluxcd.io`` Kustomization (not a kustomize config file)."""
    return api_group(data) == FLUX_KUSTOMIZE_GROUP and data.get("kind") == "Kustomization"


def is_kustomize_config(data: dict[str, Any]) -> bool:
    """A kustomization.yaml/Component document: kustomize configuration, not a Kubernetes object."""
    return api_group(data) == KUSTOMIZE_CONFIG_GROUP


def is_flux_source(data: dict[str, Any]) -> bool:
    """A Flux source object (GitRepository, HelmRepository, OCIRepository, Bucket)."""
    return api_group(data) == FLUX_SOURCE_GROUP and data.get("kind") in SOURCE_KINDS


def source_ref(obj: KObject) -> tuple[str, str, str]:
    """(kind, namespace, name) of a Flux Kustomization's sourceRef; namespace defaults to the object's."""
    ref = spec(obj.data).get("sourceRef")
    if not isinstance(ref, dict):
        return "", obj.namespace, ""
    namespace = ref.get("namespace")
    return (str(ref.get("kind", "")), namespace if isinstance(namespace, str) and namespace else obj.namespace,
            str(ref.get("name", "")))


def points_at_own_repo(obj: KObject) -> bool:
    """sourceRef is the cluster's own repository: ``GitRepository flux-system`` (created by bootstrap)."""
    kind, _, name = source_ref(obj)
    return kind == "GitRepository" and name == FLUX_SYSTEM


def derive_repo_root(overlay: Path) -> Path | None:
    """``<root>/applications/overlays/<cluster>`` -> ``<root>``; None for other layouts."""
    overlay = overlay.resolve()
    if overlay.parent.name == "overlays" and overlay.parent.parent.name == "applications":
        return overlay.parent.parent.parent
    return None


def resolve_flux_path(spec_path: Any, overlay: Path, cluster: str, repo_root: Path | None) -> tuple[Path | None, str]:
    """Map a Flux ``spec.path`` (relative to the repository root) into the overlay.

    Returns (directory, "") or (None, problem). Paths must stay inside this cluster's overlay: the
    contract forbids own-repository paths elsewhere, and another cluster's overlay is a copy-paste bug.
    Without a repository root, ``./applications/overlays/<cluster>/...`` is mapped by prefix.
    """
    if spec_path is None:
        spec_path = "./"
    if not isinstance(spec_path, str):
        return None, "spec.path is not a string"
    norm = posixpath.normpath(spec_path.strip().lstrip("/") or ".")
    if norm == ".." or norm.startswith("../"):
        return None, f"spec.path {spec_path!r} escapes the repository root"
    parts = [] if norm == "." else norm.split("/")
    other = len(parts) > 2 and parts[:2] == ["applications", "overlays"] and parts[2] != cluster
    if other:
        return None, f"spec.path {spec_path!r} points into another cluster's overlay ({parts[2]})"
    overlay_r = overlay.resolve()
    if repo_root is not None:
        target = (repo_root.resolve() / norm).resolve() if parts else repo_root.resolve()
        if target == overlay_r or overlay_r in target.parents:
            return target, ""
        return None, f"spec.path {spec_path!r} is outside this cluster's overlay (applications/overlays/{cluster})"
    if parts[:3] == ["applications", "overlays", cluster]:
        return overlay_r.joinpath(*parts[3:]), ""
    return None, (f"spec.path {spec_path!r} is not under ./applications/overlays/{cluster}/ "
                  "(and no repository root was given to resolve it)")


@dataclass(frozen=True)
class FluxTarget:
    """A Flux Kustomization sourced from this repository and where its path lands in the overlay."""

    obj: KObject
    spec_path: str
    directory: Path | None
    problem: str


@dataclass
class Applied:
    """The objects Flux would apply from this repository, and the Flux paths followed to find them."""

    objects: list[KObject]
    from_build: bool
    targets: list[FluxTarget]
    builds: dict[Path, BuildResult]


class OverlayIndex:
    """Every file of an overlay and every parsed YAML document (parse failures recorded, not raised)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[str] = []
        self.docs: list[SourceDoc] = []
        self.errors: dict[str, str] = {}
        self.by_file: dict[str, list[SourceDoc]] = {}
        self._scan()

    def _scan(self) -> None:
        if not self.root.is_dir():
            raise InputError("FILE-MISSING", "overlay directory does not exist", file=str(self.root),
                             hint="pass an applications/overlays/<cluster> directory")
        for current, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for name in [*dirs, *files]:
                path = Path(current) / name
                if path.is_symlink():
                    raise InputError("FILE-SYMLINK", "overlay trees must not contain symlinks",
                                     file=str(path), hint="replace the link with a regular file or directory")
            for name in sorted(files):
                rel = (Path(current) / name).relative_to(self.root).as_posix()
                self.files.append(rel)
                if name.endswith((".yaml", ".yml")) or name == "Kustomization":
                    self._parse(rel)

    def _parse(self, rel: str) -> None:
        try:
            docs = load_file(self.root / rel, display=rel)
        except InputError as exc:
            self.errors[rel] = exc.one_line()
            return
        parsed = [SourceDoc(rel, i, d) for i, d in enumerate(docs) if isinstance(d, dict)]
        self.by_file[rel] = parsed
        self.docs.extend(parsed)

    def kustomization(self, directory: str) -> tuple[str, dict[str, Any]] | None:
        """(file, data) of the kustomization file in an overlay-relative directory, if any."""
        for name in KUSTOMIZATION_FILES:
            rel = name if directory in ("", ".") else f"{directory}/{name}"
            for doc in self.by_file.get(rel, []):
                return rel, doc.data
        return None


class PolicyContext:
    """Shared, lazily computed state of one overlay's policy run."""

    def __init__(self, overlay: Path, cluster: str, *, repo_root: Path | None, options: PolicyOptions,
                 builder: KustomizeBuilder) -> None:
        self.overlay = overlay.resolve()
        self.cluster = cluster
        self.repo_root = repo_root.resolve() if repo_root is not None else derive_repo_root(self.overlay)
        self.options = options
        self.builder = builder
        self.stack = ExitStack()
        self.notes: dict[str, Any] = {}

    def __enter__(self) -> PolicyContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def finding(self, code: str, message: str, *, path: str = "", hint: str = "", line: int = 0,
                severity: Severity = Severity.ERROR, extra: dict[str, Any] | None = None) -> Finding:
        """A policy Finding for this cluster."""
        return Finding(code=code, message=message, check="policy", cluster=self.cluster, path=path, line=line,
                       hint=hint, severity=severity, extra=dict(extra or {}))

    def temp_dir(self, prefix: str) -> Path:
        """A private temp directory removed when the context closes."""
        return Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix=f"overlay-parity-{prefix}-")))

    @cached_property
    def index(self) -> OverlayIndex:
        """Parsed YAML of the overlay."""
        return OverlayIndex(self.overlay)

    @property
    def claim(self) -> str:
        """``bootstrap-complete`` with a ``flux-system/`` directory, else ``renderer-parity``."""
        return BOOTSTRAP_COMPLETE if (self.overlay / FLUX_SYSTEM).is_dir() else RENDERER_PARITY

    @property
    def sops_on(self) -> bool:
        """SOPS generation is on (explicitly, or because the overlay has a ``.sops.yaml``)."""
        if self.options.sops_enabled is not None:
            return self.options.sops_enabled
        return (self.overlay / ".sops.yaml").is_file()

    @cached_property
    def root_dir(self) -> Path:
        """The directory built for the lifecycle claim: the overlay, or a temp copy with a stub flux-system/."""
        _ = self.index  # refuses symlinks before anything is copied or built
        if self.claim == BOOTSTRAP_COMPLETE:
            return self.overlay
        copy = self.temp_dir("stub") / self.overlay.name
        shutil.copytree(self.overlay, copy, symlinks=True)
        (copy / FLUX_SYSTEM).mkdir()
        (copy / FLUX_SYSTEM / "kustomization.yaml").write_text(STUB_KUSTOMIZATION, encoding="utf-8")
        return copy

    def root_build(self) -> BuildResult:
        """The lifecycle build (cached by the builder)."""
        return self.builder.build(self.root_dir, display=".", root=self.root_dir)

    def display(self, directory: Path) -> str:
        """Overlay-relative POSIX form of a directory inside the overlay ('.' for the root or its stub copy)."""
        if "root_dir" in self.__dict__ and directory == self.root_dir:
            return "."
        try:
            rel = directory.resolve().relative_to(self.overlay).as_posix()
        except ValueError:
            return str(directory)
        return rel or "."

    def prefetch(self) -> None:
        """Start the root build and every Flux path build found in the files, concurrently."""
        dirs = [self.root_dir]
        for doc in self.index.docs:
            obj = KObject(doc.data, doc.path, ".")
            if is_flux_kustomization(doc.data) and points_at_own_repo(obj):
                target, _ = resolve_flux_path(spec(doc.data).get("path"), self.overlay, self.cluster, self.repo_root)
                if target is not None and target.is_dir() and target != self.overlay:
                    dirs.append(target)
        self.builder.build_many(dirs, displays={d: self.display(d) for d in dirs}, root=self.overlay)

    @cached_property
    def applied(self) -> Applied:
        """Objects from the root build and every followed own-repository Flux path (fixpoint, bounded)."""
        root = self.root_build()
        objects = [self._object(d, ".") for d in root.documents()] if root.ok else self._file_objects()
        builds: dict[Path, BuildResult] = {self.overlay: root}
        targets: list[FluxTarget] = []
        seen: set[tuple[str, str, str]] = set()
        pending = list(objects)
        for _ in range(MAX_FLUX_DEPTH):
            new_dirs: list[Path] = []
            for obj in pending:
                key = (obj.kind, obj.namespace, obj.name)
                if not is_flux_kustomization(obj.data) or not points_at_own_repo(obj) or key in seen:
                    continue
                seen.add(key)
                raw = spec(obj.data).get("path")
                target, problem = resolve_flux_path(raw, self.overlay, self.cluster, self.repo_root)
                if target is not None and not target.is_dir():
                    problem = f"spec.path {raw!r} does not exist in the overlay ({self.display(target)})"
                    target = None
                targets.append(FluxTarget(obj, raw if isinstance(raw, str) else "./", target, problem))
                if target is not None and target not in builds and target not in new_dirs:
                    new_dirs.append(target)
            if not new_dirs:
                break
            results = self.builder.build_many(new_dirs, displays={d: self.display(d) for d in new_dirs},
                                              root=self.overlay)
            pending = []
            for directory in new_dirs:
                result = builds[directory] = results[directory]
                if result.ok:
                    built = [self._object(d, self.display(directory)) for d in result.documents()]
                    objects.extend(built)
                    pending.extend(built)
        return Applied(objects, root.ok, targets, builds)

    @cached_property
    def _source_index(self) -> dict[tuple[str, str], list[SourceDoc]]:
        index: dict[tuple[str, str], list[SourceDoc]] = {}
        for doc in self.index.docs:
            kind, name = doc.data.get("kind"), meta(doc.data, "name")
            if isinstance(kind, str) and name:
                index.setdefault((kind, name), []).append(doc)
        return index

    def _object(self, data: dict[str, Any], origin: str) -> KObject:
        """A built object, attributed to the overlay file that most likely defines it."""
        candidates = self._source_index.get((str(data.get("kind", "")), meta(data, "name")), [])
        prefix = "" if origin == "." else origin + "/"
        inside = [c for c in candidates if c.path.startswith(prefix)]
        same_ns = [c for c in inside if meta(c.data, "namespace") == meta(data, "namespace")]
        best = (same_ns or inside or candidates)[:1]
        return KObject(data, best[0].path if best else origin, origin)

    def _file_objects(self) -> list[KObject]:
        """Fallback when the root build fails: Kubernetes objects as written in the files."""
        objects = []
        for doc in self.index.docs:
            data = doc.data
            if doc.path.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES or is_kustomize_config(data):
                continue
            if not isinstance(data.get("apiVersion"), str) or not isinstance(data.get("kind"), str):
                continue
            if not meta(data, "namespace"):
                directory = posixpath.dirname(doc.path)
                found = self.index.kustomization(directory)
                namespace = found[1].get("namespace") if found else None
                if isinstance(namespace, str) and namespace:
                    metadata = dict(data.get("metadata") or {})
                    metadata["namespace"] = namespace
                    data = {**data, "metadata": metadata}
            objects.append(KObject(data, doc.path, posixpath.dirname(doc.path) or "."))
        return objects

    @cached_property
    def sops_rules(self) -> list[re.Pattern[str] | None]:
        """Compiled ``creation_rules[].path_regex`` of the overlay's .sops.yaml (None = catch-all rule).

        Rules whose regex does not compile are left out here; the SOPS policy reports them.
        """
        docs = self.index.by_file.get(".sops.yaml", [])
        rules = docs[0].data.get("creation_rules") if docs else None
        compiled: list[re.Pattern[str] | None] = []
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict):
                continue
            regex = rule.get("path_regex")
            if regex is None:
                compiled.append(None)
                continue
            try:
                compiled.append(re.compile(str(regex)))
            except re.error:
                continue
        return compiled


@dataclass
class PolicyResult:
    """One overlay's policy outcome: findings, the validated lifecycle claim, timings and build counters."""

    cluster: str
    overlay: Path
    lifecycle_claim: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    policy_seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when any finding fails the gate."""
        return any(f.severity is Severity.ERROR for f in self.findings)


@dataclass(frozen=True)
class Policy:
    """A registered policy: a stable name, the codes it emits, and its check function."""

    name: str
    codes: tuple[str, ...]
    summary: str
    check: Callable[[PolicyContext], list[Finding]]
    needs_builds: bool = False
