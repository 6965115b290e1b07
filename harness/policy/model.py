"""What every policy reads: options, the tree's parsed YAML, and the objects Flux would apply.

One :class:`PolicyContext` per checked directory (the *tree*) and run. It parses every YAML file of the
tree once and follows what Flux would do:

- **Roots.** The bootstrap Kustomizations found in the tree (``flux-system/flux-system``, from
  ``gotk-sync.yaml``) name the directories Flux starts from; without one, the tree itself is the root.
  A root whose kustomization lists ``./flux-system`` while it is absent (a rendered overlay that was not
  bootstrapped yet) is built without that entry, which is what a stub ``flux-system/`` builds.
- **Builds.** Each root, and every path a Flux Kustomization points at, is built as kustomize-controller
  builds it (:mod:`harness.policy.fluxbuild`: generated kustomization where none exists, Flux's
  additions, files read in place). Its output is substituted (``postBuild``) and followed to a fixpoint.
- **Sources.** ``spec.path`` is relative to the root of the Kustomization's source. The bootstrap
  source ``GitRepository flux-system/flux-system`` and every GitRepository whose URL is this repository
  (``repository_urls``, plus the bootstrap URL) resolve in the repository; a source mapped under
  ``[tool.overlay-parity.sources]`` resolves in its checkout; any other source cannot be seen (a note).
- **Objects.** Only what a build emits is judged, plus the objects written in resource files of the tree
  that no successful build reads (conventions hold on every object of the tree, reachable or not).
  Patches, generator inputs, values files and components are never read as objects.

Directories of the bundled layout (``applications/overlays/<cluster>``) also keep the bundled project's
overlay contract: own-repository paths stay inside the cluster's overlay, and the overlay must have a
root ``kustomization.yaml``.
"""

from __future__ import annotations

import bisect
import json
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.cluster_pool import usable_cores
from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.kustomize import BuildPlan, BuildResult, KustomizeBuilder
from harness.policy import substitution
from harness.policy.checkouts import Checkouts
from harness.policy.fluxbuild import plan_build
from harness.policy.parsed import parse_text
from harness.policy.refs import KUSTOMIZATION_FILES, RESOURCE, build_files, file_roles, references
from harness.policy.repo import RepoLayout, normalize_url
from harness.policy.sourceignore import IgnoreMatcher
from harness.project_config import DEFAULT_SECURITY_KINDS, ProjectConfig
from harness.renderer_api import Renderer
from harness.user_regex import CompiledRegex, RegexError, compile_regex
from harness.yamlio import read_text

BOOTSTRAP_COMPLETE = "bootstrap-complete"
RENDERER_PARITY = "renderer-parity"
FLUX_SYSTEM = "flux-system"
KUSTOMIZE_CONFIG_GROUP = "kustomize.config.k8s.io"
FLUX_KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
FLUX_SOURCE_GROUP = "source.toolkit.fluxcd.io"
FLUX_HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_KINDS = ("GitRepository", "HelmRepository", "OCIRepository", "Bucket", "HelmChart", "ExternalArtifact")
CONVENTIONS = ("unpinned-source", "prune", "decryption", "drift-detection")
UNPINNED_LEVELS = ("error", "warning")
MAX_FLUX_DEPTH = 8
STUB_KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"

__all__ = ["KUSTOMIZATION_FILES"]


def _str_list(project: ProjectConfig, key: str) -> list[str]:
    value = project.extra.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise InputError("USAGE", f"[tool.overlay-parity] {key} must be a list of strings",
                         hint=f"e.g. {key} = [\"...\"]")
    return value


@dataclass(frozen=True)
class PolicyOptions:
    """How policies run. Defaults: every policy, every convention, Kubernetes 1.33 strict schemas.

    ``fixture_dir`` (the oracle overlay) enables the security-files comparison; ``renderer`` plus
    ``config_path`` make the SOPS proof render the cluster with a generated age recipient, otherwise the
    proof works on the overlay's own ``.sops.yaml``. ``sops_enabled=None`` means "on when the overlay has
    a ``.sops.yaml``". ``unpinned_sources=None`` means ``error`` for overlays of the bundled layout and
    ``warning`` elsewhere. ``repository_urls`` are URLs of this repository; ``sources`` maps other
    repositories' URLs to local checkouts. ``jobs``: builds at once (one per usable core by default).
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
    jobs: int = field(default_factory=usable_cores)
    repo_root: Path | None = None
    repository_urls: tuple[str, ...] = ()
    sources: tuple[tuple[str, Path], ...] = ()
    unpinned_sources: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.disabled_conventions) - set(CONVENTIONS))
        if unknown:
            raise InputError("USAGE", f"unknown convention {unknown[0]!r}",
                             hint=f"choose from {', '.join(CONVENTIONS)}")
        if self.unpinned_sources is not None and self.unpinned_sources not in UNPINNED_LEVELS:
            raise InputError("USAGE", f"unpinned_sources must be one of {', '.join(UNPINNED_LEVELS)}",
                             hint='set unpinned_sources = "error" or "warning" in [tool.overlay-parity]')

    def convention_on(self, name: str) -> bool:
        """Whether one convention check runs."""
        return self.conventions and name not in self.disabled_conventions

    @classmethod
    def from_project(cls, project: ProjectConfig, **overrides: Any) -> PolicyOptions:
        """Options from ``[tool.overlay-parity]`` (``policy_conventions``, ``kubernetes_version``,
        ``security_kinds``, and the extra keys ``policy_disabled_conventions``, ``base_repo_pattern``,
        ``repo_root``, ``repository_urls``, ``unpinned_sources`` and the ``sources`` table)."""
        disabled = project.extra.get("policy_disabled_conventions", [])
        if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
            raise InputError("USAGE", "settings key policy_disabled_conventions must be a list of strings",
                             hint=f"choose from {', '.join(CONVENTIONS)}")
        sources = project.extra.get("sources", {})
        if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
            raise InputError("USAGE", "[tool.overlay-parity.sources] must map repository URLs to checkout paths",
                             hint='e.g. "ssh://git@github.com/org/base.git" = "../base"')
        repo_root = project.extra.get("repo_root")
        if repo_root is not None and not isinstance(repo_root, str):
            raise InputError("USAGE", "[tool.overlay-parity] repo_root must be a path", hint='e.g. repo_root = "."')
        unpinned = project.extra.get("unpinned_sources")
        values: dict[str, Any] = {
            "conventions": project.policy_conventions,
            "kubernetes_version": project.kubernetes_version,
            "security_kinds": project.security_kinds,
            "disabled_conventions": frozenset(disabled),
            "base_repo_pattern": str(project.extra.get("base_repo_pattern", "gitops-base")),
            "repo_root": (project.root / repo_root).resolve() if isinstance(repo_root, str) else None,
            "repository_urls": tuple(_str_list(project, "repository_urls")),
            "sources": tuple((url, (project.root / path).resolve()) for url, path in sources.items()),
            "unpinned_sources": unpinned if unpinned is None else str(unpinned),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class SourceDoc:
    """One YAML document as written in a file (path relative to the tree, POSIX)."""

    path: str
    index: int  # document number in the file (0-based, empty documents not counted)
    data: dict[str, Any]
    line: int = 0  # 1-based line where the document starts


@dataclass(frozen=True)
class KObject:
    """One object Flux would apply, with the file (and line) it most likely comes from."""

    data: dict[str, Any]
    path: str
    origin: str  # tree-relative directory whose build produced it ("." for the root)
    line: int = 0

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

    def identity(self) -> tuple[str, str, str, str, int, str]:
        """Kind, namespace, name, file, line and content: one object built by several roots counts once,
        the same object patched differently per cluster counts once per variant."""
        content = json.dumps(self.data, sort_keys=True, default=str)
        return (self.kind, self.namespace, self.name, self.path, self.line, content)


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
    """A Flux source object (GitRepository, HelmRepository, OCIRepository, Bucket, HelmChart, ExternalArtifact)."""
    return api_group(data) == FLUX_SOURCE_GROUP and data.get("kind") in SOURCE_KINDS


def is_bootstrap_kustomization(data: dict[str, Any]) -> bool:
    """The Kustomization ``flux bootstrap`` writes to ``gotk-sync.yaml`` (flux-system/flux-system)."""
    return is_flux_kustomization(data) and meta(data, "name") == FLUX_SYSTEM and meta(data, "namespace") == FLUX_SYSTEM


def is_bootstrap_source(kind: str, namespace: str, name: str) -> bool:
    """``GitRepository flux-system/flux-system``, which bootstrap always supplies."""
    return (kind, namespace, name) == ("GitRepository", FLUX_SYSTEM, FLUX_SYSTEM)


def source_ref(obj: KObject) -> tuple[str, str, str]:
    """(kind, namespace, name) of a Flux Kustomization's sourceRef; namespace defaults to the object's."""
    ref = spec(obj.data).get("sourceRef")
    if not isinstance(ref, dict):
        return "", obj.namespace, ""
    namespace = ref.get("namespace")
    return (str(ref.get("kind", "")), namespace if isinstance(namespace, str) and namespace else obj.namespace,
            str(ref.get("name", "")))


def points_at_own_repo(obj: KObject) -> bool:
    """sourceRef is the cluster's own repository by name: ``GitRepository flux-system`` (created by bootstrap)."""
    kind, _, name = source_ref(obj)
    return kind == "GitRepository" and name == FLUX_SYSTEM


def derive_repo_root(overlay: Path) -> Path | None:
    """``<root>/applications/overlays/<cluster>`` -> ``<root>``; None for other layouts."""
    overlay = overlay.resolve()
    if overlay.parent.name == "overlays" and overlay.parent.parent.name == "applications":
        return overlay.parent.parent.parent
    return None


def normalize_spec_path(spec_path: Any) -> tuple[str | None, str]:
    """(normalized relative path or None, problem) for a Flux ``spec.path`` (blank = the source root)."""
    if spec_path is None:
        spec_path = "./"
    if not isinstance(spec_path, str):
        return None, "spec.path is not a string"
    norm = posixpath.normpath(spec_path.strip().lstrip("/") or ".")
    if norm == ".." or norm.startswith("../"):
        return None, f"spec.path {spec_path!r} escapes the root of its source"
    return norm, ""


def resolve_flux_path(spec_path: Any, overlay: Path, cluster: str, repo_root: Path | None,
                      real: Callable[[Path], Path] = Path.resolve) -> tuple[Path | None, str]:
    """Map a Flux ``spec.path`` into a bundled-layout overlay (the bundled project's overlay contract).

    Returns (directory, "") or (None, problem). Paths must stay inside this cluster's overlay: the
    contract forbids own-repository paths elsewhere, and another cluster's overlay is a copy-paste bug.
    Without a repository root, ``./applications/overlays/<cluster>/...`` is mapped by prefix. ``real`` resolves
    a path (a run's memoized one).
    """
    norm, problem = normalize_spec_path(spec_path)
    if norm is None:
        return None, problem.replace("the root of its source", "the repository root")
    parts = [] if norm == "." else norm.split("/")
    other = len(parts) > 2 and parts[:2] == ["applications", "overlays"] and parts[2] != cluster
    if other:
        return None, f"spec.path {spec_path!r} points into another cluster's overlay ({parts[2]})"
    overlay_r = real(overlay)
    if repo_root is not None:
        target = real(real(repo_root) / norm) if parts else real(repo_root)
        if target == overlay_r or overlay_r in target.parents:
            return target, ""
        return None, f"spec.path {spec_path!r} is outside this cluster's overlay (applications/overlays/{cluster})"
    if parts[:3] == ["applications", "overlays", cluster]:
        return overlay_r.joinpath(*parts[3:]), ""
    return None, (f"spec.path {spec_path!r} is not under ./applications/overlays/{cluster}/ "
                  "(and no repository root was given to resolve it)")


@dataclass(frozen=True)
class FluxTarget:
    """A Flux Kustomization, where its path lands, and why it is not built when it is not."""

    obj: KObject
    spec_path: str
    directory: Path | None
    problem: str  # a finding (POLICY-FLUX-PATH)
    note: str = ""  # not judged: the source is not visible to this run
    source: str = ""  # "own", "mapped" or "" (external)


@dataclass
class Applied:
    """The objects Flux would apply from one root, and the Flux paths followed to find them."""

    objects: list[KObject]
    from_build: bool
    targets: list[FluxTarget]
    builds: dict[Path, BuildResult]
    root: Path | None = None
    substitution: list[Finding] = field(default_factory=list)


class OverlayIndex:
    """Every file of a tree and every parsed YAML document (parse failures recorded, not raised).

    Files outside the tree (a Flux path elsewhere in the repository) are added on demand with
    :meth:`add_dir`; their keys are tree-relative too (``../infrastructure/x.yaml``).
    """

    def __init__(self, root: Path, real: Callable[[Path], Path] = Path.resolve) -> None:
        self.root = root
        self.real = real
        self.files: list[str] = []
        self.docs: list[SourceDoc] = []
        self.errors: dict[str, str] = {}
        self.by_file: dict[str, list[SourceDoc]] = {}
        self._known: set[str] = set()
        self._sorted: list[str] | None = None
        self._texts: dict[str, str] = {}
        self._lines: dict[str, list[str]] = {}
        self._dirs: set[str] = set()
        if not self.root.is_dir():
            raise InputError("FILE-MISSING", "directory does not exist", file=str(self.root),
                             hint="pass a directory of a Flux repository")
        self._scan(self.root, strict=True)

    def _scan(self, top: Path, *, strict: bool) -> None:
        """Index every file below ``top`` (``.git`` skipped; symlinks refused when ``strict``, else skipped), in
        the order of a sorted top-down walk: a directory's files, then its subdirectories."""
        base = str(self.root)

        def walk(current: str) -> None:
            try:
                entries = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError:
                return
            dirs = [e for e in entries if e.name != ".git" and e.is_dir()]
            files = [e for e in entries if not e.is_dir()]
            for entry in [*dirs, *files]:
                if entry.is_symlink() and strict:
                    raise InputError("FILE-SYMLINK", "overlay trees must not contain symlinks",
                                     file=entry.path, hint="replace the link with a regular file or directory")
            for entry in files:
                if entry.is_symlink():
                    continue
                rel = posixpath.normpath(os.path.relpath(entry.path, base))
                if rel in self._known:
                    continue
                self._known.add(rel)
                self.files.append(rel)
                if entry.name.endswith((".yaml", ".yml")) or entry.name == "Kustomization":
                    self._parse(rel)
            for entry in dirs:
                if not entry.is_symlink():
                    walk(entry.path)

        walk(str(top))

    def add_dir(self, directory: Path) -> None:
        """Index a directory outside the tree (once)."""
        resolved = self.real(directory)
        key = str(resolved)
        if key in self._dirs or not directory.is_dir():
            return
        self._dirs.add(key)
        tree = self.real(self.root)
        if resolved == tree or tree in resolved.parents:
            return
        before = set(self.by_file)
        self._scan(directory, strict=False)
        for rel in sorted(set(self.by_file) - before):
            if posixpath.basename(rel) in KUSTOMIZATION_FILES and self.by_file[rel]:
                base = (self.root / posixpath.dirname(rel))
                for entry, _role in references(self.by_file[rel][0].data):
                    target = self.real(base / entry)
                    self.add_dir(target if target.is_dir() else target.parent)

    def _parse(self, rel: str) -> None:
        try:
            text = read_text(self.root / rel, display=rel)
            parsed = parse_text(text, rel)
        except InputError as exc:
            self.errors[rel] = exc.one_line()
            return
        self._texts[rel] = text
        starts = parsed.starts
        docs = [SourceDoc(rel, i, d, starts[i] if i < len(starts) else 0) for i, d in enumerate(parsed.docs)
                if isinstance(d, dict)]
        self.by_file[rel] = docs
        self.docs.extend(docs)

    def has_file(self, rel: str) -> bool:
        """Whether ``rel`` (tree-relative, normalized) is an indexed file."""
        return rel in self._known

    def files_under(self, prefix: str) -> list[str]:
        """Indexed files whose path starts with ``prefix`` (a directory with its trailing ``/``; '' for all), in
        path order: a binary search in the sorted file list (kept until files are added)."""
        if self._sorted is None or len(self._sorted) != len(self.files):
            self._sorted = sorted(self.files)
        found = []
        for rel in self._sorted[bisect.bisect_left(self._sorted, prefix):]:
            if not rel.startswith(prefix):
                break
            found.append(rel)
        return found

    def lines(self, path: str) -> list[str]:
        """The lines of a parsed file ([] when it is not one)."""
        lines = self._lines.get(path)
        if lines is None:
            lines = self._lines[path] = self._texts.get(path, "").splitlines()
        return lines

    def kustomization(self, directory: str) -> tuple[str, dict[str, Any]] | None:
        """(file, data) of the kustomization file in a tree-relative directory, if any."""
        for name in KUSTOMIZATION_FILES:
            rel = name if directory in ("", ".") else f"{directory}/{name}"
            for doc in self.by_file.get(rel, []):
                return rel, doc.data
        return None

    def key_line(self, path: str, start: int, key: str) -> int:
        """Line of ``key:`` in the document starting at ``start`` (``start`` when not found)."""
        lines = self.lines(path)
        if not lines or start <= 0:
            return start
        pattern = re.compile(r"^\s*(?:-\s+)?" + re.escape(key) + r"\s*:")
        for number in range(start, len(lines) + 1):
            text = lines[number - 1]
            if number > start and text.startswith("---"):
                break
            if pattern.match(text):
                return number
        return start

    def text_line(self, path: str, start: int, needle: str) -> int:
        """First line at or after ``start`` (within the document) that contains ``needle``."""
        lines = self.lines(path)
        if not lines:
            return start
        for number in range(max(start, 1), len(lines) + 1):
            text = lines[number - 1]
            if number > start and text.startswith("---"):
                break
            if needle in text:
                return number
        return start


@dataclass(frozen=True)
class Root:
    """A directory Flux starts from, and the bootstrap Kustomization that names it (None: the tree itself)."""

    directory: Path
    bootstrap: KObject | None
    stub: bool


class PolicyContext:
    """Shared, lazily computed state of one tree's policy run."""

    def __init__(self, overlay: Path, cluster: str, *, repo_root: Path | None, options: PolicyOptions,
                 builder: KustomizeBuilder) -> None:
        self.layout = RepoLayout.locate(overlay, repo_root or options.repo_root).with_bootstrap_root()
        self.overlay = self.layout.tree
        self.cluster = cluster
        self.repo_root = self.layout.root
        self.options = options
        self.builder = builder
        self.stack = ExitStack()
        self.notes: dict[str, Any] = {}
        self.memo: dict[str, Any] = {}  # what policies compute once per tree and share across roots
        shared = getattr(builder, "shared", None)
        if shared is not None:  # one set of worktrees per run, removed when the builder closes
            self.checkouts = shared(("checkouts", options.sources), lambda: Checkouts(dict(options.sources)))
        else:
            self.checkouts = Checkouts(dict(options.sources))
            self.stack.callback(self.checkouts.close)
        self._source_index: dict[tuple[str, str], list[SourceDoc]] = {}
        self._source_dirs: dict[tuple[str, str, str], list[SourceDoc]] = {}
        self._indexed_docs = 0
        self._roles: tuple[int, dict[str, str]] | None = None
        self._root_substitution: list[Finding] = []

    def __enter__(self) -> PolicyContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def temp_dir(self, prefix: str) -> Path:
        """A private temp directory removed when the context closes."""
        return Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix=f"overlay-parity-{prefix}-")))

    def real(self, path: Path) -> Path:
        """``path`` resolved (memoized for the whole run when the builder keeps one snapshot of the files)."""
        realpath = getattr(self.builder, "realpath", None)
        return Path(realpath(path)) if realpath is not None else path.resolve()

    @cached_property
    def _root_for_paths(self) -> bool:
        """Own-repository paths of a bundled overlay resolve against the repository root (known or derived)."""
        return self.layout.root_known or derive_repo_root(self.overlay) is not None

    @property
    def bundled(self) -> bool:
        """The tree is a cluster overlay of the bundled layout (overlay contract and openCenter wording)."""
        return self.layout.bundled

    def finding(self, code: str, message: str, *, path: str = "", hint: str = "", line: int = 0,
                severity: Severity = Severity.ERROR, extra: dict[str, Any] | None = None) -> Finding:
        """A policy Finding for this cluster (path relative to the tree; shown repository-relative later)."""
        return Finding(code=code, message=message, check="policy", cluster=self.cluster, path=path, line=line,
                       hint=hint, severity=severity, extra=dict(extra or {}))

    def object_finding(self, code: str, obj: KObject, message: str, *, key: str = "", hint: str = "",
                       severity: Severity = Severity.ERROR, extra: dict[str, Any] | None = None) -> Finding:
        """A finding anchored at an object's file and line (the line of ``key`` when given)."""
        line = self.index.key_line(obj.path, obj.line, key) if key else obj.line
        return self.finding(code, message, path=obj.path, line=line, hint=hint, severity=severity, extra=extra)

    def show_path(self, path: str) -> str:
        """A tree-relative finding path as shown: repository-relative when the repository root is known."""
        prefix = self.layout.tree_prefix()
        if not prefix or not path:
            return path or (prefix if prefix else path)
        if path == ".":
            return prefix
        return posixpath.normpath(f"{prefix}/{path}")

    @cached_property
    def index(self) -> OverlayIndex:
        """Parsed YAML of the tree, plus the directories outside it that its kustomizations reference."""
        index = OverlayIndex(self.overlay, self.real)
        for rel in [r for r in index.by_file if posixpath.basename(r) in KUSTOMIZATION_FILES and index.by_file[r]]:
            for entry, _role in references(index.by_file[rel][0].data):
                target = self.real(self.overlay / posixpath.dirname(rel) / entry)
                if not (target == self.overlay or self.overlay in target.parents):
                    index.add_dir(target if target.is_dir() else target.parent)
        return index

    @cached_property
    def ignore(self) -> IgnoreMatcher:
        """What source-controller leaves out of this repository's artifact."""
        return self.ignore_for(self.repo_root)

    def ignore_for(self, root: Path) -> IgnoreMatcher:
        """The exclusion rules of the source rooted at ``root`` (one matcher per root and run when the builder
        keeps one snapshot of the files: each ``.sourceignore`` is read once)."""
        shared = getattr(self.builder, "shared", None)
        if shared is None:
            return IgnoreMatcher(root)
        matcher: IgnoreMatcher = shared(("ignore", root), lambda: IgnoreMatcher(root))
        return matcher

    @cached_property
    def bootstrap_docs(self) -> list[SourceDoc]:
        """The bootstrap Kustomizations written in the tree (``gotk-sync.yaml``)."""
        return [d for d in self.index.docs if is_bootstrap_kustomization(d.data)]

    @property
    def claim(self) -> str:
        """``bootstrap-complete`` with a ``flux-system/`` directory (or bootstrap files), else ``renderer-parity``."""
        if (self.overlay / FLUX_SYSTEM).is_dir() or self.bootstrap_docs:
            return BOOTSTRAP_COMPLETE
        return RENDERER_PARITY

    @property
    def sops_on(self) -> bool:
        """SOPS generation is on (explicitly, or because the overlay has a ``.sops.yaml``)."""
        if self.options.sops_enabled is not None:
            return self.options.sops_enabled
        return (self.overlay / ".sops.yaml").is_file()

    @cached_property
    def own_urls(self) -> set[str]:
        """Normalized URLs of this repository: ``repository_urls`` plus the bootstrap GitRepository's URL."""
        urls = {normalize_url(u) for u in self.options.repository_urls}
        for doc in self.index.docs:
            if is_flux_source(doc.data) and is_bootstrap_source(str(doc.data.get("kind")), meta(doc.data, "namespace"),
                                                                 meta(doc.data, "name")):
                url = spec(doc.data).get("url")
                if isinstance(url, str):
                    urls.add(normalize_url(url))
        urls.discard("")
        return urls

    def display(self, directory: Path) -> str:
        """Tree-relative POSIX form of a directory ('.' for the tree itself)."""
        try:
            rel = self.real(directory).relative_to(self.overlay).as_posix()
        except ValueError:
            rel = os.path.relpath(self.real(directory), self.overlay)
            return Path(rel).as_posix()
        return rel or "."

    # --- roots and builds ---------------------------------------------------------------------------

    @cached_property
    def roots(self) -> list[Root]:
        """Where Flux starts: each bootstrap Kustomization's path that exists, else the tree itself."""
        roots: list[Root] = []
        for doc in self.bootstrap_docs:
            obj = KObject(doc.data, doc.path, ".", doc.line)
            target = self._own_path(obj)[0]
            if target is not None and target.is_dir() and all(r.directory != target for r in roots):
                roots.append(Root(target, obj, stub=True))
        if not roots and not self.bundled and self.index.kustomization("") is None:
            roots = [Root(self.overlay / d, None, stub=False) for d in self._top_kustomizations()]
        if not roots:
            roots.append(Root(self.overlay, None, stub=True))
        return roots

    def _top_kustomizations(self) -> list[str]:
        """Tree directories with a kustomization file that no other kustomization of the tree references
        (what a Flux Kustomization would point at when the tree has no bootstrap files of its own)."""
        dirs = sorted({posixpath.dirname(r) for r in self.index.by_file
                       if posixpath.basename(r) in KUSTOMIZATION_FILES and not r.startswith("../")})
        referenced: set[str] = set()
        for directory in dirs:
            found = self.index.kustomization(directory)
            for entry, _role in references(found[1]) if found else []:
                referenced.add(posixpath.normpath(posixpath.join(directory, entry)))
        return [d for d in dirs if d and d not in referenced and FLUX_SYSTEM not in d.split("/")
                and not self.ignore_tree_file(d + "/")]

    def plan(self, directory: Path, flux_spec: dict[str, Any] | None = None, *, stub: bool = False,
             source_root: Path | None = None) -> BuildPlan:
        """How Flux builds ``directory`` (see :mod:`harness.policy.fluxbuild`)."""
        kustomization = None
        if stub:
            rel = self.display(directory)
            found = self.index.kustomization("" if rel == "." else rel)
            kustomization = found[1] if found else None
        root = source_root or self.repo_root
        ignore = self.ignore if root == self.repo_root else self.ignore_for(root)
        return plan_build(directory, source_root=root, ignore=ignore, flux_spec=flux_spec,
                          stub_flux_system=stub, kustomization=kustomization)

    @cached_property
    def root_plans(self) -> dict[Path, BuildPlan]:
        """The build plan of every root."""
        return {r.directory: self.plan(r.directory, spec(r.bootstrap.data) if r.bootstrap else None, stub=r.stub)
                for r in self.roots}

    @property
    def root_dir(self) -> Path:
        """The first root (the tree for a single overlay)."""
        return self.roots[0].directory

    def root_build(self, directory: Path | None = None) -> BuildResult:
        """The build of a root (the first by default; cached by the builder)."""
        directory = directory or self.root_dir
        plan = self.root_plans[directory]
        return self.builder.build_plans([plan], displays={plan: self.display(directory)},
                                        root=self.overlay)[plan]

    @cached_property
    def prefetch_plans(self) -> list[BuildPlan]:
        """Every root build and every own-repository Flux path build found in the files (each once)."""
        plans = list(self.root_plans.values())
        for doc in self.index.docs:
            if is_flux_kustomization(doc.data) and not is_bootstrap_kustomization(doc.data):
                obj = KObject(doc.data, doc.path, ".", doc.line)
                if points_at_own_repo(obj):
                    target = self._own_path(obj)[0]
                    if target is not None and target.is_dir():
                        plans.append(self.plan(target, spec(doc.data)))
        return list(dict.fromkeys(plans))

    def start_builds(self) -> None:
        """Start the :attr:`prefetch_plans` without waiting when the builder can (else build them now)."""
        plans = self.prefetch_plans
        displays = {p: self.display(p.directory) for p in plans}
        submit = getattr(self.builder, "submit", None)
        if submit is not None:
            submit(plans, displays=displays, root=self.overlay)
        else:
            self.builder.build_plans(plans, displays=displays, root=self.overlay)

    def prefetch(self) -> None:
        """Build every root and every own-repository Flux path found in the files, concurrently."""
        plans = self.prefetch_plans
        self.builder.build_plans(plans, displays={p: self.display(p.directory) for p in plans}, root=self.overlay)

    # --- objects ---------------------------------------------------------------------------------------

    def _refresh_source_index(self) -> None:
        for doc in self.index.docs[self._indexed_docs:]:
            kind, name = doc.data.get("kind"), meta(doc.data, "name")
            if isinstance(kind, str) and name:
                self._source_index.setdefault((kind, name), []).append(doc)
                directory = posixpath.dirname(doc.path)
                while directory:  # by every directory above the file: origins find their candidates directly
                    self._source_dirs.setdefault((kind, name, directory), []).append(doc)
                    directory = posixpath.dirname(directory)
        self._indexed_docs = len(self.index.docs)

    def _object(self, data: dict[str, Any], origin: str) -> KObject:
        """A built object, attributed to the file that most likely defines it."""
        self._refresh_source_index()
        candidates = self._source_index.get((str(data.get("kind", "")), meta(data, "name")), [])
        inside = (self._source_dirs.get((str(data.get("kind", "")), meta(data, "name"), origin), [])
                  if origin != "." else list(candidates))
        roles = self.roles

        def resource_docs(docs: list[SourceDoc]) -> list[SourceDoc]:
            return [c for c in docs if c.path.rsplit("/", 1)[-1] not in KUSTOMIZATION_FILES
                    and roles.get(c.path, RESOURCE) == RESOURCE]

        resources = resource_docs(inside) or resource_docs(candidates) or inside
        same_ns = [c for c in resources if meta(c.data, "namespace") == meta(data, "namespace")]
        best = (same_ns or resources or candidates)[:1]
        if best:
            return KObject(data, best[0].path, origin, best[0].line)
        return KObject(data, origin, origin)

    @property
    def roles(self) -> dict[str, str]:
        """Indexed file -> role (resource, patch, data, config), recomputed when files were added."""
        if self._roles is None or self._roles[0] != len(self.index.files):
            self._roles = (len(self.index.files), file_roles(self.index))
        return self._roles[1]

    def file_objects(self, prefix: str = "") -> list[KObject]:
        """Kubernetes objects as written in resource files of the tree (below ``prefix``), namespaces from
        the kustomization that sets one. Patches, generator inputs and kustomize configuration are skipped."""
        objects = []
        roles = self.roles
        for doc in self.index.docs:
            data = doc.data
            if prefix and not doc.path.startswith(prefix):
                continue
            if doc.path.startswith("../") or doc.path.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES:
                continue
            if is_kustomize_config(data) or roles.get(doc.path, RESOURCE) != RESOURCE:
                continue
            if self.ignore_tree_file(doc.path):
                continue
            if not isinstance(data.get("apiVersion"), str) or not isinstance(data.get("kind"), str):
                continue
            if not meta(data, "name"):
                continue
            if not meta(data, "namespace"):
                directory = posixpath.dirname(doc.path)
                found = self.index.kustomization(directory)
                namespace = found[1].get("namespace") if found else None
                if isinstance(namespace, str) and namespace:
                    metadata = dict(data.get("metadata") or {})
                    metadata["namespace"] = namespace
                    data = {**data, "metadata": metadata}
            objects.append(KObject(data, doc.path, posixpath.dirname(doc.path) or ".", doc.line))
        return objects

    def ignore_tree_file(self, rel: str) -> bool:
        """A tree file that is not part of the source artifact (``.sourceignore``, defaults)."""
        try:
            repo_rel = self.real(self.overlay / rel).relative_to(self.repo_root).as_posix()
        except ValueError:
            return False
        return self.ignore.ignored(repo_rel)

    # --- following Flux ----------------------------------------------------------------------------------

    def _own_path(self, obj: KObject) -> tuple[Path | None, str]:
        """Where an own-repository Kustomization's path lands (bundled contract applied to bundled overlays)."""
        raw = spec(obj.data).get("path")
        if self.bundled:
            target, problem = resolve_flux_path(raw, self.overlay, self.cluster,
                                                self.repo_root if self._root_for_paths else None, self.real)
            if target is None and "outside this cluster's overlay" in problem:
                norm, _ = normalize_spec_path(raw)
                candidate = self.real(self.repo_root / (norm or "."))
                if norm is not None and candidate.is_dir():
                    return candidate, ""
                return None, problem
            return target, problem
        norm, problem = normalize_spec_path(raw)
        if norm is None:
            return None, problem
        if not self.layout.root_known:
            target, legacy = resolve_flux_path(raw, self.overlay, self.cluster, None, self.real)
            if target is not None:
                return target, ""
            del legacy
        return self.real(self.repo_root / norm), ""

    def _find_source(self, kind: str, namespace: str, name: str, objects: Iterable[KObject]) -> KObject | None:
        for obj in objects:
            if obj.kind == kind and obj.namespace == namespace and obj.name == name and is_flux_source(obj.data):
                return obj
        return self._tree_sources.get((kind, namespace, name))

    @cached_property
    def _tree_sources(self) -> dict[tuple[str, str, str], KObject]:
        found: dict[tuple[str, str, str], KObject] = {}
        for obj in self.tree_objects:
            if is_flux_source(obj.data):
                found.setdefault((obj.kind, obj.namespace, obj.name), obj)
        return found

    @cached_property
    def _tree_core_objects(self) -> dict[tuple[str, str, str], KObject]:
        """The first core-group (``v1``) object of the tree by (kind, namespace, name)."""
        found: dict[tuple[str, str, str], KObject] = {}
        for obj in self.tree_objects:
            if obj.group == "":
                found.setdefault((obj.kind, obj.namespace, obj.name), obj)
        return found

    def resolve_target(self, obj: KObject, objects: list[KObject]) -> FluxTarget:
        """Where a Flux Kustomization's path lands, or why it is not followed."""
        raw = spec(obj.data).get("path")
        shown = raw if isinstance(raw, str) else "./"
        kind, namespace, name = source_ref(obj)
        source = self._find_source(kind, namespace, name, objects) if kind and name else None
        url = spec(source.data).get("url") if source is not None else None
        own = points_at_own_repo(obj) or is_bootstrap_source(kind, namespace, name) or (
            kind == "GitRepository" and isinstance(url, str) and normalize_url(url) in self.own_urls)
        if own:
            target, problem = self._own_path(obj)
            if target is not None and not target.is_dir():
                where = "the overlay" if self.bundled else "the repository"
                problem = f"spec.path {raw!r} does not exist in {where} ({self.layout.display(target)})"
                target = None
            return FluxTarget(obj, shown, target, problem, source="own")
        if source is not None and kind == "GitRepository":
            checkout = self.checkouts.resolve(source.data)
            if checkout is not None:
                if checkout.problem:
                    return FluxTarget(obj, shown, None, f"sourceRef {kind} {namespace}/{name}: {checkout.problem}",
                                      source="mapped")
                norm, problem = normalize_spec_path(raw)
                if norm is None:
                    return FluxTarget(obj, shown, None, problem, source="mapped")
                target = self.real(checkout.root / norm)
                if not target.is_dir():
                    return FluxTarget(obj, shown, None, f"spec.path {raw!r} does not exist in the mapped checkout of "
                                                        f"{kind} {namespace}/{name}", source="mapped")
                return FluxTarget(obj, shown, target, "", note=checkout.note, source="mapped")
        what = f"{kind or 'source'} {namespace}/{name}"
        if kind == "GitRepository":
            note = (f"not built: {what} is not this repository; map its URL under [tool.overlay-parity.sources] "
                    "to a local checkout to build it")
        else:
            note = f"not built: {what} is an artifact produced outside this repository"
        return FluxTarget(obj, shown, None, "", note=note)

    @cached_property
    def tree_objects(self) -> list[KObject]:
        """Every object written in a resource file of the tree (reachable or not)."""
        return self.file_objects()

    @cached_property
    def universes(self) -> list[Applied]:
        """For each root: the objects from its build and every followed Flux path (fixpoint, bounded)."""
        return [self._follow(root) for root in self.roots]

    @cached_property
    def applied(self) -> Applied:
        """Every root's objects, targets and builds together."""
        merged = Applied([], True, [], {})
        for universe in self.universes:
            merged.objects += universe.objects
            merged.from_build = merged.from_build and universe.from_build
            merged.targets += universe.targets
            merged.builds.update(universe.builds)
            merged.substitution += universe.substitution
        return merged

    def _follow(self, root: Root) -> Applied:
        result = self.root_build(root.directory)
        origin = self.display(root.directory)
        if result.ok:
            objects = [self._object(d, origin) for d in result.documents()]
            owner = next((o for o in objects if is_bootstrap_kustomization(o.data)), root.bootstrap)
            if root.bootstrap is not None and owner is not None:
                scratch = Applied([], True, [], {})
                objects = self._substitute(owner, objects, scratch)
                self._root_substitution.extend(scratch.substitution)
        else:
            prefix = "" if origin == "." else origin + "/"
            objects = self.file_objects(prefix)
        applied = Applied(objects, result.ok, [], {root.directory: result}, root=root.directory,
                          substitution=list(self._root_substitution))
        self._root_substitution.clear()
        built: set[BuildPlan] = {self.root_plans[root.directory]}
        seen: set[tuple[str, str, str]] = set()
        pending = list(objects)
        for _ in range(MAX_FLUX_DEPTH):
            wanted: dict[BuildPlan, FluxTarget] = {}
            for obj in pending:
                key = (obj.kind, obj.namespace, obj.name)
                if not is_flux_kustomization(obj.data) or key in seen:
                    continue
                seen.add(key)
                target = self.resolve_target(obj, applied.objects)
                applied.targets.append(target)
                if target.directory is None:
                    continue
                source_root = self._checkout_root(target.directory) if target.source == "mapped" else self.repo_root
                plan = self.plan(target.directory, spec(obj.data), source_root=source_root)
                if plan.directory == root.directory and plan.wrapper is None:
                    continue  # the root itself (the bootstrap Kustomization's own path)
                if plan not in built:
                    wanted.setdefault(plan, target)
            if not wanted:
                break
            built.update(wanted)
            for plan in wanted:
                self.index.add_dir(plan.directory)
            results = self.builder.build_plans(list(wanted), displays={p: self.display(p.directory) for p in wanted},
                                               root=self.overlay)
            pending = []
            for plan, target in wanted.items():
                outcome = results[plan]
                if plan.directory not in applied.builds or not outcome.ok:
                    applied.builds[plan.directory] = outcome
                if outcome.ok:
                    origin = self.display(plan.directory)
                    new = self._substitute(target.obj, [self._object(d, origin) for d in outcome.documents()], applied)
                    applied.objects.extend(new)
                    pending.extend(new)
        return applied

    def _checkout_root(self, directory: Path) -> Path | None:
        for candidate in (directory, *directory.parents):
            if (candidate / ".git").exists():
                return candidate
        return None

    # --- post-build substitution ---------------------------------------------------------------------------

    def _substitute(self, owner: KObject, objects: list[KObject], applied: Applied) -> list[KObject]:
        """Apply ``owner``'s postBuild to the objects its build emitted; unresolved variables become findings."""
        post = spec(owner.data).get("postBuild")
        if not isinstance(post, dict):
            return objects
        variables: dict[str, str] = {}
        unknown: list[str] = []
        entries = post.get("substituteFrom")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            kind, name, optional = entry.get("kind"), entry.get("name"), entry.get("optional") is True
            found = self._find_vars_object(str(kind), owner.namespace, str(name), applied.objects)
            if found is None:
                if not optional:
                    unknown.append(f"{kind} {owner.namespace}/{name}")
                continue
            variables.update(found)
        inline = post.get("substitute")
        if isinstance(inline, dict):
            variables.update({str(k): substitution.clean_value(str(v)) for k, v in inline.items()})
        defined = bool(variables) or bool(isinstance(entries, list) and entries)
        if not defined:
            return objects
        if unknown:
            applied.substitution.append(self.object_finding(
                "POLICY-SUBSTITUTION", owner, f"{owner.ref()}: postBuild.substituteFrom names {unknown[0]}, which "
                "is not in the repository; variables it may define are not checked", key="substituteFrom",
                severity=Severity.NOTE, hint="add the object to the repository, or mark the entry optional: true"))
        result = []
        for obj in objects:
            if substitution.disabled(obj.data):
                result.append(obj)
                continue
            if not unknown:
                for name in substitution.unresolved(obj.data, variables):
                    line = self.index.text_line(obj.path, obj.line, "${" + name)
                    applied.substitution.append(self.finding(
                        "POLICY-SUBSTITUTION",
                        f"{obj.ref()}: ${{{name}}} has no value in the postBuild of {owner.ref()} and no default; "
                        "Flux substitutes an empty string (or fails with StrictPostBuildSubstitutions)",
                        path=obj.path, line=line,
                        hint=f"define {name} in postBuild.substitute or a substituteFrom object, give it a default "
                             f"(${{{name}:=value}}), or escape it as $${{{name}}}"))
            result.append(KObject(substitution.substitute(obj.data, variables), obj.path, obj.origin, obj.line))
        return result

    def _find_vars_object(self, kind: str, namespace: str, name: str, objects: list[KObject]) -> dict[str, str] | None:
        """Variables of a ConfigMap or Secret found in the repository (Secret values replaced by markers)."""
        first = self._tree_core_objects.get((kind, namespace, name))
        for obj in [*objects, *([first] if first is not None else [])]:
            if obj.kind != kind or obj.name != name or obj.namespace != namespace or obj.group != "":
                continue
            values: dict[str, str] = {}
            if kind == "ConfigMap":
                data = obj.data.get("data")
                if isinstance(data, dict):
                    values.update({str(k): substitution.clean_value(str(v)) for k, v in data.items()})
            elif kind == "Secret":
                for key in ("data", "stringData"):
                    data = obj.data.get(key)
                    if isinstance(data, dict):
                        values.update({str(k): f"[secret:{k}]" for k in data})
            return values
        return None

    # --- everything judged by conventions ---------------------------------------------------------------

    @cached_property
    def built_files(self) -> set[str]:
        """Tree files read by some successful build."""
        files: set[str] = set()
        for directory, result in self.applied.builds.items():
            if not result.ok:
                continue
            rel = self.display(directory)
            if rel.startswith(".."):
                continue
            files |= build_files(self.index, rel)
        return files

    @cached_property
    def unreached_objects(self) -> list[KObject]:
        """Objects in resource files of the tree that no successful build reads: files a kustomization lists as
        resources, and files below a Flux path (stray files elsewhere, e.g. docs examples, are not objects)."""
        built = self.built_files
        return [o for o in self.tree_objects if o.path not in built and self.in_scope(o.path)]

    @cached_property
    def _flux_dirs(self) -> frozenset[str]:
        """Tree-relative Flux paths and roots ('' for the tree itself)."""
        dirs = [t.directory for t in self.applied.targets if t.directory is not None]
        shown = [self.display(d) for d in [*dirs, *(r.directory for r in self.roots)]]
        return frozenset("" if p == "." else p for p in shown if not p.startswith(".."))

    def in_scope(self, path: str) -> bool:
        """A tree file Flux may apply: listed by a kustomization, or below a Flux path or root (stray files
        such as documentation examples are not objects). One set lookup per directory above the file."""
        if path in self.roles:
            return True
        flux_dirs = self._flux_dirs
        directory = path
        while directory:
            directory = posixpath.dirname(directory)
            if directory in flux_dirs:
                return True
        return False

    @cached_property
    def convention_objects(self) -> list[KObject]:
        """Objects the conventions judge: everything built, then the tree's unreached objects."""
        return [*self.applied.objects, *self.unreached_objects]

    @property
    def opaque(self) -> list[str]:
        """Notes on what this run could not see (sources it cannot build): missing names may live there."""
        return [t.note for t in self.applied.targets if t.note and t.directory is None]

    @cached_property
    def sops_rules(self) -> list[CompiledRegex | None]:
        """``creation_rules[].path_regex`` of the overlay's .sops.yaml compiled with RE2 (None = catch-all rule).

        Rules whose regex does not compile are left out here; the SOPS policy reports them.
        """
        docs = self.index.by_file.get(".sops.yaml", [])
        rules = docs[0].data.get("creation_rules") if docs else None
        compiled: list[CompiledRegex | None] = []
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict):
                continue
            regex = rule.get("path_regex")
            if regex is None:
                compiled.append(None)
                continue
            try:
                compiled.append(compile_regex(str(regex)))
            except RegexError:
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
