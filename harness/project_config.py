"""Project settings: ``overlay-parity.toml``, ``.overlay-parity.toml`` or ``[tool.overlay-parity]``.

Discovery (:func:`find_config`) walks up from the working directory and takes, in the first directory
that has one, ``overlay-parity.toml`` / ``.overlay-parity.toml`` (flat top-level keys) or a
``pyproject.toml`` with a ``[tool.overlay-parity]`` table (the same keys). Two of them in one directory
is ``PROJECT-CONFIG-INVALID`` naming both; ``--config FILE`` (:func:`use_config`) names one directly.
Relative paths are taken from the directory of the file that sets them; without any file, from the
working directory.

Every key is a field of :class:`ProjectConfig`; its type comes from :data:`KEY_KINDS` or, when not listed
there, from the field's default (``Path`` -> path, ``tuple`` -> list of strings, ``bool``, ``int``,
``float``, ``str``). Adding a setting is one field with a default (plus a :data:`KEY_KINDS` line when the
default does not show the type). Keys the harness does not know are kept in ``extra``.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.safe_read import read_regular_text, require_regular, resolve_path

DEFAULT_SECURITY_KINDS = ("kyverno.io/ClusterPolicy", "kyverno.io/Policy", "networking.k8s.io/NetworkPolicy")
CONFIG_FILES = ("overlay-parity.toml", ".overlay-parity.toml")
TABLE = "tool.overlay-parity"
CODE = "PROJECT-CONFIG-INVALID"
SETTINGS = "overlay-parity.toml (or [tool.overlay-parity] in pyproject.toml)"


@dataclass(frozen=True)
class ProjectConfig:
    """Resolved settings; every path is absolute (relative ones are taken from ``root``)."""

    root: Path
    fixture: Path
    inventory: Path
    renderer: str = "renderer.api:RENDERER"
    template_root: Path = Path("renderer/templates")
    descriptor_root: Path = Path("renderer/descriptors")
    fixture_globs: tuple[str, ...] = ("testdata/**",)  # loaded settings default to fixture_globs_for(fixture)
    secret_allowlist: Path = Path(".overlay-parity-secrets.yaml")
    max_file_bytes: int = 5 * 1024 * 1024
    security_kinds: tuple[str, ...] = DEFAULT_SECURITY_KINDS
    policy_conventions: bool = True
    kubernetes_version: str = "1.33"
    affected_ignore: tuple[str, ...] = ()
    renderer_timeout: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None  # the settings file these came from (None: defaults only)

    @property
    def overlays(self) -> Path:
        """The fixture's ``applications/overlays`` directory."""
        return self.fixture / "applications" / "overlays"

    @property
    def settings_file(self) -> str:
        """How hints name the settings: the file in use, else the places one may be written."""
        if self.source is None:
            return SETTINGS
        return f"{self.source} [{TABLE}]" if self.source.name == "pyproject.toml" else str(self.source)

    def config_for(self, cluster: str) -> Path:
        """The cluster config path inside the fixture."""
        return self.fixture / f".{cluster}-config.yaml"

    def clusters(self) -> list[str]:
        """Cluster names with a config in the fixture (``.<cluster>-config.yaml``), sorted (one listing of
        the folder: a pathlib glob of a 2,000-cluster fixture took ~8 ms)."""
        suffix = "-config.yaml"
        try:
            with os.scandir(self.fixture) as entries:
                names = [e.name for e in entries]
        except OSError:  # no fixture folder: no cluster (the checks that need one say so)
            return []
        return sorted(n[1 : -len(suffix)] for n in names if n.startswith(".") and n.endswith(suffix)
                      and len(n) >= 1 + len(suffix))

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
            if key_kind(key) == "path":
                value = resolve_path(Path(value))
            changes[key] = value
        return replace(self, **changes)


# Keys whose type the field default does not show (fields without a default).
KEY_KINDS: dict[str, str] = {"fixture": "path", "inventory": "path"}
_NOT_KEYS = {"root", "extra", "source"}
_EXAMPLES = {"path": '"some/dir"', "str": '"text"', "int": "10", "float": "1.5", "bool": "true",
             "strings": '["a/**", "b/**"]'}


def key_kind(name: str) -> str:
    """The kind of a settings key: ``path``, ``strings``, ``bool``, ``int``, ``float``, ``str`` ('' unknown)."""
    if name in KEY_KINDS:
        return KEY_KINDS[name]
    spec = next((f for f in fields(ProjectConfig) if f.name == name and name not in _NOT_KEYS), None)
    if spec is None or spec.default is MISSING:
        return ""
    default = spec.default
    for kind, types in (("path", Path), ("strings", tuple), ("bool", bool), ("int", int), ("float", float),
                        ("str", str)):
        if isinstance(default, types):
            return kind
    return ""


def known_keys() -> list[str]:
    """Every settings key, in field order."""
    return [f.name for f in fields(ProjectConfig) if f.name not in _NOT_KEYS]


# ------------------------------------------------------------------------------------------ discovery

@dataclass(frozen=True)
class ConfigSource:
    """A settings file and its table of keys (flat file: the whole file; pyproject: the tool table)."""

    path: Path
    table: dict[str, Any]
    text: str

    @property
    def in_pyproject(self) -> bool:
        """Whether the keys sit in ``[tool.overlay-parity]`` of a pyproject.toml."""
        return self.path.name == "pyproject.toml"


_CHOSEN: contextvars.ContextVar[Path | None] = contextvars.ContextVar("overlay_parity_config", default=None)


@contextlib.contextmanager
def use_config(path: Path | None) -> Iterator[None]:
    """Within the block, :func:`load_project_config` reads ``path`` instead of discovering (``--config``)."""
    token = _CHOSEN.set(resolve_path(path) if path is not None else None)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    # A FIFO, device, directory or unreadable file is one located line; a missing one names --config.
    require_regular(path, missing="settings file does not exist", hint="check the --config path")
    text = read_regular_text(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputError(CODE, f"not valid TOML: {reason}", file=str(path), line=int(match.group(1)) if match else 0,
                         hint="fix the TOML syntax (key = \"value\", one per line)") from None


def _pyproject_table(path: Path) -> ConfigSource | None:
    """The ``[tool.overlay-parity]`` table of a pyproject.toml, or None (no table, or not TOML at all)."""
    try:
        data, text = _read_toml(path)
    except InputError:
        return None
    table = data.get("tool", {}).get("overlay-parity") if isinstance(data.get("tool"), dict) else None
    if not isinstance(table, dict):
        return None
    return ConfigSource(path, dict(table), text)


def read_config(path: Path) -> ConfigSource:
    """Read one named settings file (``--config``): a flat overlay-parity.toml, or a pyproject.toml table."""
    path = resolve_path(path)
    if path.name == "pyproject.toml":
        data, text = _read_toml(path)
        table = data.get("tool", {}).get("overlay-parity") if isinstance(data.get("tool"), dict) else None
        if not isinstance(table, dict):
            raise InputError(CODE, f"pyproject.toml has no [{TABLE}] table", file=str(path),
                             hint=f"add a [{TABLE}] table or name an overlay-parity.toml")
        return ConfigSource(path, dict(table), text)
    data, text = _read_toml(path)
    tool = data.get("tool")
    if isinstance(tool, dict) and "overlay-parity" in tool and len(data) == 1:
        raise InputError(CODE, f"{path.name} takes its keys at the top level, not under [{TABLE}]",
                         file=str(path), line=_line_of(text, TABLE.split(".")[0]) or 1,
                         hint=f"remove the [{TABLE}] header (that table belongs in pyproject.toml)")
    return ConfigSource(path, data, text)


def find_config(start: Path) -> ConfigSource | None:
    """The settings of the first directory from ``start`` upwards that has any (see the module docstring).

    Two settings files in one directory are ``PROJECT-CONFIG-INVALID`` naming both.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        found = [folder / name for name in CONFIG_FILES if (folder / name).is_file()]
        pyproject = folder / "pyproject.toml"
        table = _pyproject_table(pyproject) if pyproject.is_file() else None
        if table is not None:
            found.append(pyproject)
        if len(found) > 1:
            names = " and ".join(p.name if p.name != "pyproject.toml" else f"pyproject.toml [{TABLE}]" for p in found)
            raise InputError(CODE, f"two overlay-parity settings files in one directory: {names}",
                             file=str(found[0]), hint="keep one of them (or pick one with --config FILE)")
        if found:
            return table if table is not None else read_config(found[0])
    return None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.overlay-parity] table, from ``start`` upwards."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _pyproject_table(candidate) is not None:
            return candidate
    return None


# ------------------------------------------------------------------------------------------ loading

def _line_of(text: str, key: str, *, after: str | None = None) -> int:
    """1-based line of ``key = ...`` in TOML text (after the ``[after]`` header when given), 0 if not found."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        header = re.compile(r"\s*\[\s*" + r"\s*\.\s*".join(
            f'(?:{re.escape(p)}|"{re.escape(p)}")' for p in after.split(".")) + r"\s*\]")
        start = next((i + 1 for i, line in enumerate(lines) if header.match(line)), 0)
    pattern = re.compile(r'\s*(?:"' + re.escape(key) + r'"|' + re.escape(key) + r")\s*=")
    return next((i + 1 for i in range(start, len(lines)) if pattern.match(lines[i])), 0)


def _convert(name: str, key: str, value: Any, kind: str, base: Path, source: ConfigSource) -> Any:
    ok = {
        "path": isinstance(value, str) and value != "",
        "str": isinstance(value, str),
        "strings": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
    }[kind]
    if not ok:
        what = {"path": "a non-empty path string", "str": "a string", "strings": "a list of strings",
                "bool": "true or false", "int": "an integer", "float": "a number"}[kind]
        where = f"[{TABLE}] {key}" if source.in_pyproject else key
        raise InputError(CODE, f"{where} must be {what}", file=str(source.path),
                         line=_line_of(source.text, key, after=TABLE if source.in_pyproject else None),
                         hint=f"e.g. {name} = {_EXAMPLES[kind]}")
    if kind == "path":
        return resolve_path(base / value)
    if kind == "strings":
        return tuple(value)
    if kind == "float":
        return float(value)
    return value


def load_project_config(start: Path | None = None, *, config: Path | None = None) -> ProjectConfig:
    """Settings from ``config`` (or the file chosen by :func:`use_config`), else from the first settings file
    found from ``start`` (default: the working directory) upwards, else the defaults rooted at ``start``."""
    start = start or Path.cwd()
    chosen = config or _CHOSEN.get()
    source = read_config(chosen) if chosen is not None else find_config(start)
    root = source.path.parent if source is not None else start.resolve()
    values: dict[str, Any] = {"root": root}
    extra: dict[str, Any] = {}
    for key, value in (source.table.items() if source is not None else ()):
        name = key.replace("-", "_")
        kind = key_kind(name)
        if not kind:
            extra[name] = value
            continue
        assert source is not None
        values[name] = _convert(name, key, value, kind, root, source)
    fixture = values.setdefault("fixture", root)
    values.setdefault("inventory", resolve_path(root / "canonicalization" / f"{fixture.name}.yaml"))
    values.setdefault("fixture_globs", fixture_globs_for(root, fixture))
    for name in ("template_root", "descriptor_root", "secret_allowlist"):
        if name not in values:
            values[name] = resolve_path(root / getattr(ProjectConfig, name))
    return ProjectConfig(**values, extra=extra, source=source.path if source is not None else None)


def fixture_globs_for(root: Path, fixture: Path) -> tuple[str, ...]:
    """The default ``fixture_globs``: everything under the fixture directory (its cluster configs
    ``.<cluster>-config.yaml`` live there too), anchored at ``root``; ``**`` when the fixture is the root;
    none when it lies outside the root (a scan then says loudly that no file matched)."""
    try:
        rel = fixture.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return ()
    return ("**",) if rel in ("", ".") else (f"/{rel}/**",)


def _some_known(name: str, known: list[str], *, show: int = 5) -> str:
    """``known: a, b, c`` for a few clusters; for many, the closest to ``name`` first and how many there are."""
    if len(known) <= show:
        return f"known: {', '.join(known) or 'none'}"

    def distance(other: str) -> tuple[float, int, str]:
        pairs = zip(name, other, strict=False)
        shared = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(name), len(other)))
        return -difflib.SequenceMatcher(None, name, other).ratio(), -shared, other

    return f"{len(known)} known, closest: {', '.join(sorted(known, key=distance)[:show])}"
