"""``--parity-update``: bring one cluster's oracle tree in line with the renderer, conservatively.

For one cluster, with the resolved rules (:class:`harness.inventory.RuleSet`), the renderer-owned files
are synchronised on the fixture side:

- ``rewrite``: a file both sides have whose content differs the way the check sees it (YAML as data
  after ``yaml_remove`` rules, other files as bytes; a side that does not parse counts as different)
  gets the rendered bytes, at the fixture-side path (an ``alias`` rule's ``to``);
- ``add``: a file the renderer produces and the fixture lacks is written;
- ``delete``: a fixture file the renderer no longer produces is removed (and directories it leaves
  empty, never the overlay root).

Never touched, whatever the flags: ``flux-system/`` (bootstrap-owned) and paths outside the
renderer-owned set (``README.md``, an alias target outside the owned directories).

Skipped unless ``force``:
- paths under an ignore rule: ``ignore_rendered`` (on the rendered path), ``ignore_fixture`` (on the
  fixture path) and ``path_only``; with ``force`` they are synchronised as if the rule did not exist,
  so the rule then needs review (the change's reason says so);
- security-relevant files, judged on both sides (:mod:`harness.security`): ``.sops.yaml``, any file with
  an object of a kind in ``security_kinds`` (``group/Kind``, e.g. ``networking.k8s.io/NetworkPolicy``) or
  a ``v1 Secret`` (customer-managed repository credentials) in any document of a multi-document file,
  inside a ``kind: List`` (at any depth) or in a ``.json`` manifest. A file that does not parse is
  security-relevant when its text names one of those kinds (fail closed).

Which rendered file goes to which fixture path, and which rules guard it, is :mod:`harness.pairing`'s
pairing (with ``keep_dropped``: an ignored file is paired, and its ignore rule guards it).

Every decision is a :class:`Change` (path, action, applied or skipped, reason). Writes are atomic per
file (temp file in the same directory, then ``os.replace``), and nothing is written before every
decision is made, so bad input (a symlink, an oversize file) leaves the fixture untouched.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.file_compare import compare_pair
from harness.inventory import Rule, RuleSet
from harness.pairing import Pair, pair_trees
from harness.rules import kind_of
from harness.security import SECRET, SecurityKinds, reasons
from harness.tree import Ownership, classify, read_file, walk_tree

REWRITE, ADD, DELETE = "rewrite", "add", "delete"
_DONE = {REWRITE: "rewrote", ADD: "added", DELETE: "deleted"}
FORCE_HINT = "rerun with --update-force after review"  # pytest: harness.face_flags.in_pytest_flags


@dataclass(frozen=True)
class Change:
    """One update decision for a fixture-side path (relative to the overlay root)."""

    path: str
    action: str  # rewrite | add | delete
    applied: bool
    reason: str
    rendered_path: str = ""
    rules: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for terminals: ``rewrote services/x.yaml (...)`` or ``skipped delete of ...: why``."""
        via = f" (rendered as {self.rendered_path})" if self.rendered_path and self.rendered_path != self.path else ""
        if self.applied:
            return f"{_DONE[self.action]} {self.path}{via}: {self.reason}"
        return f"skipped {self.action} of {self.path}{via}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"path": self.path, "action": self.action, "applied": self.applied, "reason": self.reason,
                "rendered_path": self.rendered_path, "rules": list(self.rules)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        """Inverse of :meth:`to_dict`."""
        return cls(path=str(data["path"]), action=str(data["action"]), applied=bool(data["applied"]),
                   reason=str(data.get("reason", "")), rendered_path=str(data.get("rendered_path", "")),
                   rules=tuple(data.get("rules", ())))


def parse_kinds(kinds: Iterable[str]) -> set[tuple[str, str]]:
    """``kyverno.io/ClusterPolicy`` -> (``kyverno.io``, ``ClusterPolicy``); a bare ``Kind`` is the core group."""
    return set(SecurityKinds.parse(kinds).kinds)


def security_reasons(path: str, data: bytes | None, kinds: set[tuple[str, str]]) -> list[str]:
    """Why a file (``data`` = its bytes, None when absent) is security-relevant; empty when it is not."""
    return reasons(SecurityKinds(frozenset({*kinds, SECRET})).found_in(path, data))


def _rule_text(rules: Iterable[Rule]) -> str:
    return ", ".join(f"{r.kind} rule {r.id}" for r in rules)


@dataclass
class _Planner:
    rendered_root: Path
    fixture_root: Path
    ruleset: RuleSet
    kinds: SecurityKinds
    force: bool
    max_file_bytes: int

    def read(self, root: Path, rel: str) -> bytes:
        return read_file(root, rel, max_file_bytes=self.max_file_bytes)

    def differs(self, rendered_path: str, key: str, removals: tuple[Rule, ...]) -> tuple[bool, str]:
        """Whether the pair differs as the check sees it (``removals`` applied), and a short description."""
        comparison, _ = compare_pair(self.rendered_root, rendered_path, self.fixture_root, key, removals,
                                     max_file_bytes=self.max_file_bytes)
        if comparison.equal:
            return False, ""
        if comparison.parse_failures:
            return True, "does not parse as YAML on the " + " and ".join(p.side for p in comparison.parse_failures) \
                + " side"
        if comparison.changes:
            count = len(comparison.changes)
            return True, f"{count} change{'s' if count != 1 else ''}"
        return True, "bytes differ"

    def decide(self, path: str, action: str, reason: str, *, rendered_path: str = "",
               guards: tuple[Rule, ...] = (), rendered: bytes | None = None,
               fixture: bytes | None = None) -> Change:
        """Apply the skip rules (ignore rules, security) to one candidate change."""
        ids = tuple(r.id for r in guards)
        security = reasons([*self.kinds.found_in(path, fixture),
                            *self.kinds.found_in(rendered_path or path, rendered)])
        if guards and not self.force:
            return Change(path, action, False, f"under {_rule_text(guards)} ({FORCE_HINT})", rendered_path, ids)
        if security and not self.force:
            return Change(path, action, False, f"security-relevant: {'; '.join(security)} ({FORCE_HINT})",
                          rendered_path, ids)
        notes = []
        if guards:
            notes.append(f"forced past {_rule_text(guards)}: review or remove the rule")
        if security:
            notes.append(f"forced, security-relevant: {'; '.join(security)}")
        return Change(path, action, True, "; ".join([reason, *notes]), rendered_path, ids)


def _guards(pair: Pair) -> tuple[Rule, ...]:
    """The rules that keep ``--update`` away from a pair unless forced (ignore rules, path_only)."""
    return tuple(r for r in (*pair.dropped, *pair.presence_only) if kind_of(r.kind).guards_update)


def plan_update(rendered_root: Path, fixture_root: Path, ruleset: RuleSet, *, security_kinds: Iterable[str],
                force: bool = False, max_file_bytes: int) -> list[Change]:
    """Every update decision for one cluster, without writing anything (sorted by path)."""
    kinds = SecurityKinds.parse(security_kinds, secrets=True)
    planner = _Planner(rendered_root, fixture_root, ruleset, kinds, force, max_file_bytes)
    rendered_tree = walk_tree(rendered_root, max_file_bytes=max_file_bytes, display="rendered")
    fixture_tree = walk_tree(fixture_root, max_file_bytes=max_file_bytes, display=str(fixture_root))
    pairing = pair_trees(ruleset, rendered_tree.owned, fixture_tree.owned, keep_dropped=True)
    changes = [Change(s.key, REWRITE, False, f"rendered {s.rendered_path} is shadowed by an alias onto the same "
                      "fixture path; fix the inventory", s.rendered_path) for s in pairing.shadowed]
    for pair in pairing.pairs:
        key, rendered_path, guards = pair.key, pair.rendered_path, _guards(pair)
        if not rendered_path:
            changes.append(planner.decide(key, DELETE, "the renderer no longer produces it", guards=guards,
                                          fixture=planner.read(fixture_root, key)))
            continue
        alias_ids = tuple(r.id for r in pair.mapping)
        if classify(key) is not Ownership.OWNED:
            changes.append(Change(key, REWRITE if pair.in_fixture else ADD, False,
                                  "not a renderer-owned path (alias target outside the owned directories); "
                                  "never updated", rendered_path, alias_ids))
            continue
        if pair.in_fixture:
            different, how = planner.differs(rendered_path, key, () if guards else pair.normalize)
            if not different:
                continue
            change = planner.decide(key, REWRITE, f"differs ({how})", rendered_path=rendered_path, guards=guards,
                                    rendered=planner.read(rendered_root, rendered_path),
                                    fixture=planner.read(fixture_root, key))
        else:
            change = planner.decide(key, ADD, "rendered, not in the fixture", rendered_path=rendered_path,
                                    guards=guards, rendered=planner.read(rendered_root, rendered_path))
        if alias_ids and change.applied:
            change = Change(change.path, change.action, True, f"{change.reason} (alias {alias_ids[0]})",
                            change.rendered_path, (*alias_ids, *change.rules))
        changes.append(change)
    return sorted(changes, key=lambda c: (c.path, c.action))


def _safe_parent(root: Path, rel: str) -> Path:
    """The target path of ``rel`` under ``root``; refuses symlinked or non-directory parents."""
    current = root
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.is_symlink():
            raise InputError("FILE-SYMLINK", "is a symlink; overlay trees must not contain symlinks",
                             file=str(current), hint="replace the link with a regular directory")
        if current.exists() and not current.is_dir():
            raise InputError("PATH-ESCAPE", "a parent of an updated file is not a directory", file=str(current),
                             hint="remove the file that is in the way")
    return root / rel


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically (temp file in the same directory + ``os.replace``),
    keeping the mode of an existing file (else 0644)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(os.lstat(target).st_mode) if target.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def apply_update(changes: Iterable[Change], rendered_root: Path, fixture_root: Path, *, max_file_bytes: int) -> None:
    """Carry out the applied changes of :func:`plan_update`."""
    for change in changes:
        if not change.applied or classify(change.path) is not Ownership.OWNED:
            continue
        target = _safe_parent(fixture_root, change.path)
        if change.action == DELETE:
            if target.is_symlink() or not target.is_file():
                continue
            target.unlink()
            _prune_empty(fixture_root, target.parent)
        else:
            write_atomic(target, read_file(rendered_root, change.rendered_path or change.path,
                                           max_file_bytes=max_file_bytes))


def _prune_empty(root: Path, directory: Path) -> None:
    """Remove directories left empty by a delete, up to (not including) the overlay root."""
    root = root.resolve()
    current = directory.resolve()
    while current != root and root in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def update_fixture(rendered_root: Path, fixture_root: Path, ruleset: RuleSet, *, security_kinds: Iterable[str],
                   force: bool = False, dry_run: bool = False, max_file_bytes: int) -> list[Change]:
    """Plan and (unless ``dry_run``) apply the update of one cluster's fixture tree; returns every decision."""
    changes = plan_update(rendered_root, fixture_root, ruleset, security_kinds=security_kinds, force=force,
                          max_file_bytes=max_file_bytes)
    if not dry_run:
        apply_update(changes, rendered_root, fixture_root, max_file_bytes=max_file_bytes)
    return changes
