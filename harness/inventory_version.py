"""The inventory version rule: rules that change since ``HEAD`` need a strictly greater semantic version.

An inventory's content other than ``version`` is compared with its ``HEAD`` content (``git show
HEAD:<path>``); when the rules differ, ``version`` must be greater than ``HEAD``'s, and it may never go
down. A new, untracked or unreadable previous inventory has nothing to be compared with. Used by the
``canonicalization-inventory`` pre-commit hook (``hooks/canonicalization_inventory.py``).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError, InputErrors
from harness.semver import semver_key


def head_text(path: Path) -> str | None:
    """The file's content at ``HEAD`` (``git show HEAD:<path>``), or None if new, untracked or not in git."""
    git = shutil.which("git")
    if git is None:
        return None
    folder = path.parent if str(path.parent) else Path(".")
    proc = subprocess.run([git, "-C", str(folder), "show", f"HEAD:./{path.name}"], capture_output=True,
                          check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace")


def _rule_ids(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(item.get("id")): item for item in items if isinstance(item, dict) and "id" in item}


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def rule_changes(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between two parsed inventories, ignoring ``version`` (empty: nothing changed)."""
    changes: list[str] = []
    sections: list[tuple[str, Any, Any]] = [("defaults", previous.get("defaults"), current.get("defaults"))]
    old_clusters = _mapping(previous.get("clusters"))
    new_clusters = _mapping(current.get("clusters"))
    for cluster in sorted(set(old_clusters) | set(new_clusters), key=str):
        sections.append((f"clusters.{cluster}", old_clusters.get(cluster), new_clusters.get(cluster)))
    for name, old, new in sections:
        if old == new:
            continue
        before, after = _rule_ids(old), _rule_ids(new)
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(i for i in set(before) & set(after) if before[i] != after[i])
        parts = [f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else "",
                 f"changed {', '.join(changed)}" if changed else ""]
        detail = "; ".join(p for p in parts if p) or "order or content changed"
        changes.append(f"{name}: {detail}")
    for key in sorted(set(previous) | set(current), key=str):
        if key in ("version", "defaults", "clusters"):
            continue
        if previous.get(key) != current.get(key):
            changes.append(str(key))
    return changes


def check_version_bump(path: Path, *, display: str | None = None, previous: str | None = None) -> list[InputError]:
    """INVENTORY-VERSION problems of ``path`` against ``previous`` (default: its ``HEAD`` content)."""
    from harness.yamlio import line_of, load_documents, load_roundtrip, read_text

    name = display or str(path)
    old_text = previous if previous is not None else head_text(path)
    if old_text is None:
        return []  # a new inventory has nothing to be compared with
    text = read_text(path, display=name)
    current = load_documents(text, name)
    try:
        old_docs = load_documents(old_text, f"HEAD:{name}")
    except InputError:
        return []  # the previous version was unreadable: nothing trustworthy to compare with
    if len(current) != 1 or not isinstance(current[0], dict) or len(old_docs) != 1 or not isinstance(old_docs[0], dict):
        return []  # not an inventory shape: the loader reports it
    new, old = current[0], old_docs[0]
    new_version, old_version = str(new.get("version", "")), str(old.get("version", ""))
    try:
        new_key = semver_key(new_version)
    except ValueError:
        return [InputError("INVENTORY-VERSION", f"version '{new_version[:40]}' is not a semantic version",
                           file=name, line=line_of(load_roundtrip(text, name), ("version",)),
                           hint="use MAJOR.MINOR.PATCH, e.g. 1.2.0")]
    try:
        old_key = semver_key(old_version)
    except ValueError:
        return []  # HEAD had no valid version: any valid version is an increase
    changes = rule_changes(old, new)
    line = line_of(load_roundtrip(text, name), ("version",))
    if changes and new_key <= old_key:
        return [InputError("INVENTORY-VERSION",
                           f"rules changed since HEAD ({'; '.join(changes)}) but version {new_version} is not "
                           f"greater than HEAD's {old_version}", file=name, line=line,
                           hint="bump `version` (semver: PATCH for wording, MINOR for new rules, MAJOR for removals)")]
    if new_key < old_key:
        return [InputError("INVENTORY-VERSION", f"version went down from {old_version} to {new_version}", file=name,
                           line=line, hint="versions only increase")]
    return []


def _loader() -> Callable[..., Any] | None:
    """``harness.inventory.load_inventory`` when it is importable and its schema is installed, else None."""
    try:
        module = importlib.import_module("harness.inventory")
    except ImportError:
        return None
    schema = getattr(module, "SCHEMA_PATH", None)
    if isinstance(schema, Path) and not schema.is_file():
        return None
    loader: Callable[..., Any] | None = getattr(module, "load_inventory", None)
    return loader


def _minimal_check(path: Path, name: str) -> None:
    """Fallback validation when the full loader is unavailable: one YAML mapping with a semver version."""
    from harness.yamlio import load_file

    docs = load_file(path, display=name)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InputError("INVENTORY-INVALID", "an inventory must be one YAML mapping", file=name, line=1,
                         hint="see canonicalization/schema/inventory.schema.json")
    try:
        semver_key(str(docs[0].get("version", "")))
    except ValueError:
        raise InputError("INVENTORY-INVALID", "`version` must be a semantic version", file=name, line=1,
                         hint="e.g. version: 1.0.0") from None


def check_inventories(paths: Sequence[Path]) -> tuple[list[InputError], list[str]]:
    """Validate each inventory (schema, globs, conflicts) and its version bump; returns (problems, notes)."""
    problems: list[InputError] = []
    notes: list[str] = []
    if not paths:
        return problems, notes
    load = _loader()
    if load is None:
        notes.append("canonicalization-inventory: harness.inventory or its schema is not installed; only the "
                     "YAML shape, the version and the version bump are checked")
    for path in paths:
        name = str(path)
        try:
            if load is not None:
                load(path, display=name)
            else:
                _minimal_check(path, name)
            problems.extend(check_version_bump(path, display=name))
        except InputErrors as errors:
            problems.extend(errors.errors)
        except InputError as error:
            problems.append(error)
    return problems, notes
