"""``[tool.overlay-parity]`` settings from the nearest pyproject.toml, with documented defaults."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError

DEFAULT_SECURITY_KINDS = ("kyverno.io/ClusterPolicy", "kyverno.io/Policy", "networking.k8s.io/NetworkPolicy")


@dataclass(frozen=True)
class ProjectConfig:
    """Resolved settings; every path is absolute (relative ones are taken from ``root``)."""

    root: Path
    fixture: Path
    inventory: Path
    renderer: str = "renderer.api:RENDERER"
    template_root: Path = Path("renderer/templates")
    descriptor_root: Path = Path("renderer/descriptors")
    fixture_globs: tuple[str, ...] = ("testdata/**",)
    max_file_bytes: int = 5 * 1024 * 1024
    security_kinds: tuple[str, ...] = DEFAULT_SECURITY_KINDS
    policy_conventions: bool = True
    kubernetes_version: str = "1.33"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def overlays(self) -> Path:
        """The fixture's ``applications/overlays`` directory."""
        return self.fixture / "applications" / "overlays"

    def config_for(self, cluster: str) -> Path:
        """The cluster config path inside the fixture."""
        return self.fixture / f".{cluster}-config.yaml"

    def clusters(self) -> list[str]:
        """Cluster names with a config in the fixture, sorted."""
        return sorted(p.name[1 : -len("-config.yaml")] for p in self.fixture.glob(".*-config.yaml"))

    def select_clusters(self, requested: Iterable[str] = ()) -> list[str]:
        """The ``requested`` clusters (each once, in order), or every cluster when none is requested.

        USAGE for a cluster without a config, naming up to five known clusters, the closest first.
        """
        known = self.clusters()
        wanted = list(dict.fromkeys(requested)) or known
        names = set(known)
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise InputError("USAGE", f"unknown cluster {unknown[0]!r} ({_some_known(unknown[0], known)})",
                             file=str(self.fixture), hint="pick a cluster that has a .<cluster>-config.yaml")
        return wanted

    def with_overrides(self, **values: Any) -> ProjectConfig:
        """Apply CLI/pytest overrides (None values are ignored; relative paths resolve against cwd)."""
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            if key in _PATH_FIELDS:
                value = Path(value).resolve()
            changes[key] = value
        return replace(self, **changes)


_PATH_FIELDS = {"fixture", "inventory", "template_root", "descriptor_root"}
_TUPLE_FIELDS = {"fixture_globs", "security_kinds"}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.overlay-parity] table, from ``start`` upwards."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "overlay-parity" in data.get("tool", {}):
                return candidate
    return None


def load_project_config(start: Path | None = None) -> ProjectConfig:
    """Load settings from the nearest pyproject.toml (or defaults rooted at ``start``)."""
    start = start or Path.cwd()
    pyproject = find_pyproject(start)
    root = pyproject.parent if pyproject else start.resolve()
    table: dict[str, Any] = {}
    if pyproject is not None:
        table = dict(tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["overlay-parity"])
    known = {f.name for f in fields(ProjectConfig)} - {"root", "extra"}
    values: dict[str, Any] = {"root": root}
    extra: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            extra[name] = value
            continue
        if name in _PATH_FIELDS:
            value = (root / value).resolve()
        elif name in _TUPLE_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError("USAGE", f"[tool.overlay-parity] {key} must be a list of strings",
                                 file=str(pyproject), hint="e.g. fixture_globs = [\"testdata/**\"]")
            value = tuple(value)
        values[name] = value
    values.setdefault("fixture", (root / "testdata/relaypoint-logistics-shared").resolve())
    values.setdefault("inventory", (root / "canonicalization/relaypoint-logistics-shared.yaml").resolve())
    for name in ("template_root", "descriptor_root"):
        if name not in values:
            values[name] = (root / getattr(ProjectConfig, name)).resolve()
    return ProjectConfig(**values, extra=extra)


def _some_known(name: str, known: list[str], *, show: int = 5) -> str:
    """``known: a, b, c`` for a few clusters; for many, the closest to ``name`` first and how many there are."""
    if len(known) <= show:
        return f"known: {', '.join(known) or 'none'}"

    def distance(other: str) -> tuple[float, int, str]:
        pairs = zip(name, other, strict=False)
        shared = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(name), len(other)))
        return -difflib.SequenceMatcher(None, name, other).ratio(), -shared, other

    return f"{len(known)} known, closest: {', '.join(sorted(known, key=distance)[:show])}"
