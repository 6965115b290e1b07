"""``overlay-parity init``: look at a GitOps repository and write its settings file and an empty inventory.

:func:`plan_init` finds the fixture (the directory holding ``.<cluster>-config.yaml`` files next to
``applications/overlays/<cluster>/``), a template root and a descriptor directory when the repository has
them (a ``descriptors/`` directory of YAML files with ``name`` and ``files``/``roots``, and the templates
directory beside it), and returns the files to write as data. :func:`write_init` writes them, never over an
existing file: an existing settings file is ``USAGE`` (exit 2); an existing inventory is kept and used.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import InputError
from harness.inventory import parse_inventory
from harness.project_config import CONFIG_FILES, find_config, load_project_config

SETTINGS_NAME = CONFIG_FILES[0]
_PRUNE = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache",
          ".pytest_cache", ".ruff_cache", "site-packages"}
_MAX_DEPTH = 8
_CONFIG = re.compile(r"\.(?P<cluster>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-config\.yaml\Z")
_NAME = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class FixtureFound:
    """A directory with cluster configs and oracle overlay trees."""

    root: Path
    clusters: tuple[str, ...]  # with both a config and an overlay directory
    configs_only: tuple[str, ...] = ()  # a config without an overlay directory
    overlays_only: tuple[str, ...] = ()  # an overlay directory without a config


@dataclass(frozen=True)
class InitPlan:
    """What ``init`` would write: the settings file (text) and, unless one exists, the inventory."""

    root: Path
    settings: Path
    settings_text: str
    inventory: Path
    inventory_text: str | None  # None: an inventory exists already and is kept
    fixture: FixtureFound
    notes: tuple[str, ...] = field(default=())


def _walk(root: Path) -> list[Path]:
    """Directories under ``root`` (``root`` first), pruning VCS, virtualenv and cache directories."""
    found: list[Path] = []
    base_depth = len(root.parts)
    for folder, dirs, _files in os.walk(root):
        path = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in _PRUNE and not (path / d).is_symlink())
        if len(path.parts) - base_depth >= _MAX_DEPTH:
            dirs[:] = []
        found.append(path)
    return found


def find_fixtures(root: Path) -> list[FixtureFound]:
    """Every directory under ``root`` with ``.<cluster>-config.yaml`` files and ``applications/overlays/``."""
    fixtures: list[FixtureFound] = []
    for folder in _walk(root):
        overlays = folder / "applications" / "overlays"
        configs = sorted(m.group("cluster") for p in folder.glob(".*-config.yaml") if (m := _CONFIG.match(p.name)))
        if not configs or not overlays.is_dir():
            continue
        trees = sorted(p.name for p in overlays.iterdir() if p.is_dir())
        both = tuple(c for c in configs if c in trees)
        if both:
            fixtures.append(FixtureFound(folder, both, tuple(c for c in configs if c not in trees),
                                         tuple(t for t in trees if t not in configs)))
    return fixtures


def _is_descriptor_dir(folder: Path) -> bool:
    files = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    if not files:
        return False
    for path in files[:5]:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        if not re.search(r"(?m)^name:", text) or not re.search(r"(?m)^(files|roots):", text):
            return False
    return True


def find_template_roots(root: Path) -> tuple[Path, Path] | None:
    """(template root, descriptor directory) when the repository has exactly one ``descriptors/`` directory
    of descriptors with a ``templates/`` directory beside it, else None."""
    pairs = [(folder.parent / "templates", folder) for folder in _walk(root)
             if folder.name == "descriptors" and (folder.parent / "templates").is_dir() and _is_descriptor_dir(folder)]
    return pairs[0] if len(pairs) == 1 else None


def _relative(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root)
    return Path(rel).as_posix()


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def inventory_name(fixture: Path) -> str:
    """The ``fixture`` name an inventory carries: the fixture directory's name, lower-case, DNS-1123-ish."""
    name = _NAME.sub("-", fixture.name.lower()).strip("-")
    return name or "fixture"


def empty_inventory(name: str) -> str:
    """A valid inventory with no rule yet."""
    return (f"# Canonicalization inventory of {name}: every difference between the renderer's output and the\n"
            "# checked-in overlay trees that the parity check accepts, each with a rationale and an approver.\n"
            "# Start with `overlay-parity propose --out DRAFT.yaml`, review the draft, write the rationales.\n"
            "version: 0.1.0\n"
            f"fixture: {name}\n"
            "defaults: []\n"
            "clusters: {}\n")


def plan_init(root: Path, *, renderer: str | None = None, fixture: Path | None = None) -> InitPlan:
    """Look at the repository under ``root`` and return what ``init`` would write (USAGE when there is a
    settings file already, when no fixture or several are found and ``fixture`` does not pick one)."""
    root = root.resolve()
    for name in (*CONFIG_FILES, "pyproject.toml"):
        existing = root / name
        if existing.is_file() and (name != "pyproject.toml" or find_config(root) is not None):
            raise InputError("USAGE", "overlay-parity settings exist already; init never overwrites them",
                             file=str(existing), hint="edit that file, or delete it and run init again")
    if fixture is not None:
        found = [f for f in find_fixtures(fixture.resolve()) if f.root == fixture.resolve()]
        if not found:
            raise InputError("USAGE", "no .<cluster>-config.yaml with an applications/overlays/<cluster>/ tree here",
                             file=str(fixture), hint="pass the directory that holds the cluster configs")
    else:
        found = find_fixtures(root)
        if not found:
            raise InputError("USAGE", "found no cluster configs (.<cluster>-config.yaml) next to "
                             "applications/overlays/<cluster>/ trees", file=str(root),
                             hint="run init at the root of the GitOps repository, or pass --fixture DIR")
        if len(found) > 1:
            names = ", ".join(_relative(f.root, root) for f in found[:5])
            raise InputError("USAGE", f"found {len(found)} fixtures ({names}); init needs one", file=str(root),
                             hint="pick one with --fixture DIR")
    chosen = found[0]
    fixture_rel = _relative(chosen.root, root)
    name = inventory_name(chosen.root if fixture_rel != "." else root)
    inventory = root / "canonicalization" / f"{name}.yaml"
    prefix = "" if fixture_rel == "." else fixture_rel + "/"
    lines = [
        "# overlay-parity settings (written by `overlay-parity init`; paths are relative to this file).",
        f"fixture = {_toml_string(fixture_rel)}",
        f"inventory = {_toml_string(_relative(inventory, root))}",
    ]
    notes: list[str] = []
    if renderer is not None:
        lines.append(f"renderer = {_toml_string(renderer)}")
    else:
        lines.append('renderer = "renderer.api:RENDERER"  # the built-in renderer; or a command: '
                     '"my-renderer --config {config} --out {out}"')
    roots = find_template_roots(root)
    if roots is not None:
        lines.append(f"template_root = {_toml_string(_relative(roots[0], root))}")
        lines.append(f"descriptor_root = {_toml_string(_relative(roots[1], root))}")
    else:
        notes.append("no descriptors/ + templates/ directories found: template_root/descriptor_root not set")
    globs = [f"{prefix}applications/**", f"{prefix}.*-config.yaml"]
    lines.append("fixture_globs = [" + ", ".join(_toml_string(g) for g in globs) + "]  # what scan-secrets reads")
    text = "\n".join(lines) + "\n"
    if chosen.configs_only:
        notes.append(f"config without an overlay tree (check reports every file as unexpected): "
                     f"{', '.join(chosen.configs_only)}")
    if chosen.overlays_only:
        notes.append(f"overlay tree without a config (not checked): {', '.join(chosen.overlays_only)}")
    inventory_text: str | None = None
    if inventory.exists():
        notes.append(f"kept the existing inventory {_relative(inventory, root)}")
    else:
        inventory_text = empty_inventory(name)
        parse_inventory(inventory_text, str(inventory))  # a bug here must not write a broken file
    return InitPlan(root, root / SETTINGS_NAME, text, inventory, inventory_text, chosen, tuple(notes))


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise InputError("USAGE", "file exists already; init never overwrites", file=str(path),
                         hint="delete it or edit it by hand") from None


def write_init(plan: InitPlan) -> list[Path]:
    """Write the settings file (and the inventory, when new); returns the files written. The settings are
    loaded back once written, so a file init writes is one the harness reads."""
    written: list[Path] = []
    if plan.inventory_text is not None:
        _write_new(plan.inventory, plan.inventory_text)
        written.append(plan.inventory)
    try:
        _write_new(plan.settings, plan.settings_text)
    except InputError:
        for path in written:
            path.unlink()
        raise
    written.append(plan.settings)
    load_project_config(plan.root, config=plan.settings)
    return written
