"""The canonicalization inventory: load, validate, resolve per cluster.

File shape (``canonicalization/<fixture>.yaml``, JSON Schema in
``canonicalization/schema/inventory.schema.json``)::

    version: 1.2.0                 # semver, required; bump on every rule change
    fixture: relaypoint-logistics-shared
    path_only_budget: 3            # max number of path_only rules in the file (absent = 0)
    defaults:                      # rules for every cluster
      - id: flux-reconcile-annotation
        kind: yaml_remove          # alias | ignore_rendered | ignore_fixture | path_only | yaml_remove
        path: services/fluxcd/*.yaml
        pointers: [/metadata/annotations/kustomize.toolkit.fluxcd.io~1reconcile]
        match_kind: Kustomization  # optional, yaml_remove only; or apiVersion/kind
        rationale: why the fixture is not authoritative here
        approved_by: parity-oracle-owner
    clusters:
      k8s-dev: [ ...rules... ]

Rule kinds are registered in :mod:`harness.rules` (one module each: ``alias``, ``ignore_rendered``,
``ignore_fixture``, ``path_only``, ``yaml_remove``); this module reads them through the registry. A rule
that would hide a security-relevant object (:mod:`harness.security`) needs a ``security_waiver``
(``rationale`` and ``approved_by``); what the path alone shows is judged here, the rest at compare time.

Resolution: a cluster's rule set is the ``defaults`` followed by the rules under its name, in file
order (that order is also the order of :meth:`RuleSet.yaml_removals`). A cluster without an entry gets
the defaults. Conflicts inside a resolved set are ``INVENTORY-CONFLICT``: two aliases from one rendered
path or onto one fixture path, an alias whose rendered path is ignored (``ignore_rendered``) or whose
fixture path is ignored (``ignore_fixture``), an alias target that is itself aliased (a chain). Every
declared cluster (and the defaults alone) is resolved at load time, so a bad inventory fails early.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError, InputErrors
from harness.globs import GlobError, GlobSet, compile_pattern
from harness.keypath import key_path_text
from harness.rules import RULE_KINDS, Role, Rule, RuleError, Waiver, kind_of
from harness.rules.alias import clean_literal
from harness.rules.schema import assemble_schema, owners
from harness.rules.yaml_remove import KindFilter
from harness.schemacheck import Check, compile_schema
from harness.security import SecurityKinds, sops_hidden_by, unwaived_error
from harness.yamlio import DEFAULT_MAX_BYTES, line_of, load_located, read_text

if TYPE_CHECKING:
    import jsonschema

    from harness.pickle_memo import PickleMemo

__all__ = ["RULE_KINDS", "Inventory", "KindFilter", "Rule", "RuleSet", "build_rule", "inventory_schema",
           "load_inventory", "parse_inventory", "ruleset_of"]

# canonicalization/schema/inventory.schema.json and its packaged copy harness/schema/ are this schema written
# out (a test keeps them equal to what the registry assembles).
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "inventory.schema.json"
_HINT = "see the inventory format in the overlay-parity README (schema: harness/schema/inventory.schema.json)"


@functools.cache
def inventory_schema() -> dict[str, Any]:
    """The inventory JSON Schema (2020-12), assembled from the rule-kind registry."""
    return assemble_schema()


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # ~60 ms: only for an inventory the quick check does not clear

    return jsonschema.Draft202012Validator(inventory_schema())


@functools.cache
def _quick_check() -> Check:
    """The schema compiled into a yes/no check (:mod:`harness.schemacheck`); only its *yes* is trusted."""
    return compile_schema(inventory_schema()) or (lambda data: False)


@dataclass
class _Index:
    """Compiled lookups for one resolved rule list (shared by every RuleSet of that cluster)."""

    rules: tuple[Rule, ...]
    mapped_from: dict[str, Rule]  # MAP_RENDERED rules by rendered path
    mapped_to: dict[str, Rule]  # MAP_RENDERED rules by fixture path
    by_role: dict[Role, GlobSet[Rule]]
    order: dict[str, int] = field(default_factory=dict)
    any_glob: GlobSet[Rule] = field(default_factory=GlobSet)  # every glob rule, for concerned()


class RuleSet:
    """The resolved rules of one cluster (defaults, then the cluster's rules) with fast lookups by role
    (:class:`harness.rules.Role`); :mod:`harness.pairing` is their one reader.

    Lookups are pure. Bookkeeping is explicit: :meth:`mark` records that a rule matched, and
    :attr:`matched` holds the ids recorded so far (``harness.parity`` marks rules as it applies them).
    """

    def __init__(self, cluster: str, index: _Index) -> None:
        self.cluster = cluster
        self._index = index
        self.matched: set[str] = set()

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule in resolution order."""
        return self._index.rules

    def position(self, rule_id: str) -> int:
        """Resolution-order position of a rule of this set (defaults first)."""
        return self._index.order[rule_id]

    def mark(self, *rule_ids: str) -> None:
        """Record that these rules matched something."""
        self.matched.update(rule_ids)

    def alias_rule(self, rendered_path: str) -> Rule | None:
        """The path-mapping (alias) rule for a rendered path, if any."""
        return self._index.mapped_from.get(rendered_path)

    def alias_target(self, rendered_path: str) -> str | None:
        """The fixture path a rendered path is compared with, when a path-mapping rule maps it."""
        rule = self._index.mapped_from.get(rendered_path)
        return rule.to if rule is not None else None

    def alias_source(self, fixture_path: str) -> Rule | None:
        """The path-mapping rule whose ``to`` is this fixture path, if any (reverse lookup)."""
        return self._index.mapped_to.get(fixture_path)

    def matching(self, role: Role, path: str) -> list[Rule]:
        """The glob rules of ``role`` matching ``path``, in resolution order."""
        found = self._index.by_role.get(role)
        return found.matches(path) if found is not None else []

    def matching_any(self, path: str) -> list[Rule]:
        """Every glob rule (any role but aliases) matching ``path``, in resolution order."""
        return self._index.any_glob.matches(path)

    def concerned(self, paths: Collection[str]) -> set[str]:
        """The ``paths`` some rule of this set could concern on either side: a glob rule matches them or an
        alias names them. Any other path is compared as it is, with no rule lookup at all."""
        index = self._index
        found = set(index.any_glob.matching(paths))
        if index.mapped_from or index.mapped_to:
            found.update(p for p in paths if p in index.mapped_from or p in index.mapped_to)
        return found

    def rules_matching(self, path: str) -> list[Rule]:
        """Every rule that concerns ``path`` on either side, in resolution order."""
        hits = {r.id for role in self._index.by_role for r in self.matching(role, path)}
        for rule in (self.alias_rule(path), self.alias_source(path)):
            if rule is not None:
                hits.add(rule.id)
        return [r for r in self.rules if r.id in hits]


@dataclass(eq=False)
class Inventory:
    """A loaded, validated inventory."""

    file: str
    version: str
    fixture: str
    path_only_budget: int | None
    defaults: tuple[Rule, ...]
    clusters: dict[str, tuple[Rule, ...]]
    _indexes: dict[str, _Index] = field(default_factory=dict, repr=False)
    _digest: str | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> Path:
        """The inventory file (as given to the loader)."""
        return Path(self.file)

    def all_rules(self) -> list[Rule]:
        """Defaults, then each cluster's rules (clusters in file order)."""
        rules = list(self.defaults)
        for cluster_rules in self.clusters.values():
            rules.extend(cluster_rules)
        return rules

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError if none)."""
        for rule in self.all_rules():
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def path_only_count(self) -> int:
        """Number of path_only rules in the whole file (each rule counted once)."""
        return sum(1 for r in self.all_rules() if kind_of(r.kind).role is Role.PRESENCE_ONLY)

    def rules_for(self, cluster: str) -> RuleSet:
        """A fresh RuleSet (empty ``matched``) for ``cluster``: defaults, then the cluster's own rules."""
        key = cluster if cluster in self.clusters else ""
        index = self._indexes.get(key)
        if index is None:
            index = _build_index(self.defaults + self.clusters.get(key, ()))
            self._indexes[key] = index
        return RuleSet(cluster, index)

    def waivers(self) -> list[Rule]:
        """The rules carrying a ``security_waiver`` (every waiver in force), in file order."""
        return [r for r in self.all_rules() if r.waiver is not None]

    def rules_digest(self) -> str:
        """A stable hash of everything but ``version`` (to detect rule changes without a version bump); worked
        out once per loaded inventory."""
        if self._digest is not None:
            return self._digest
        payload = {
            "fixture": self.fixture,
            "path_only_budget": self.path_only_budget,
            "rules": [r.as_written() for r in self.all_rules()],
        }
        self._digest = "sha256:" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
        return self._digest

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "file": self.file,
            "version": self.version,
            "fixture": self.fixture,
            "path_only_budget": self.path_only_budget,
            "path_only_count": self.path_only_count(),
            "defaults": [r.to_dict() for r in self.defaults],
            "clusters": {name: [r.to_dict() for r in rules] for name, rules in self.clusters.items()},
        }


def build_rule(item: Mapping[str, Any], *, cluster: str = "") -> Rule:
    """A Rule from one rule mapping as written in an inventory (for drafts; no schema or security judgement):
    the kind's own keys are parsed by the kind (:mod:`harness.rules`); ValueError when they are wrong."""
    kind = kind_of(str(item["kind"]))
    path = str(item["path"])
    if kind.literal_path:
        path = clean_literal(path, f"{kind.name} path")
    waiver = _waiver(item.get("security_waiver"))
    return Rule(id=str(item["id"]), kind=kind.name, path=path, rationale=str(item.get("rationale") or ""),
                approved_by=str(item.get("approved_by") or ""), glob=compile_pattern(path), params=kind.parse(item),
                cluster=cluster, exact=kind.literal_path, waiver=waiver)


def ruleset_of(cluster: str, rules: Iterable[Rule]) -> RuleSet:
    """A RuleSet over rules given directly, in resolution order (INVENTORY-CONFLICT as at load time)."""
    return RuleSet(cluster, _build_index(tuple(rules)))


# --------------------------------------------------------------------------------------------- loading

def load_inventory(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, display: str | None = None,
                   security_kinds: Iterable[str] | None = None) -> Inventory:
    """Read, validate and resolve an inventory file; bad input raises INVENTORY-* (file:line).

    ``security_kinds`` (``group/Kind``; default: the project default) are the kinds a rule may not hide
    without a ``security_waiver`` (see :mod:`harness.security`)."""
    name = display or str(path)
    text = read_text(path, max_bytes=max_bytes, display=name)
    kinds = tuple(security_kinds) if security_kinds is not None else None
    memo = _memo()  # a clean load is kept across processes
    file, known = memo.recall(text.encode("utf-8", "surrogateescape"), name.encode("utf-8", "surrogateescape"),
                              "\0".join(kinds).encode() if kinds is not None else b"\xff")
    if known is not None:
        return known
    inventory = parse_inventory(text, name, security_kinds=kinds)
    memo.remember(file, inventory)
    return inventory


@functools.cache
def _memo() -> PickleMemo[Inventory]:
    from harness.digest_store import code_stamp
    from harness.pickle_memo import PickleMemo

    return PickleMemo(MEMO_FOLDER, Inventory, lambda: code_stamp("harness"))


MEMO_FOLDER = "inventories"


def parse_inventory(text: str, name: str, *, security_kinds: Iterable[str] | None = None) -> Inventory:
    """Validate and resolve inventory text (``name`` is used in error locations)."""
    data = load_located(text, name)
    if not isinstance(data, dict):
        raise InputError("INVENTORY-INVALID", "an inventory must be a YAML mapping with at least `version`",
                         file=name, line=1, hint=_HINT)
    errors = _schema_errors(data, name)
    if errors:
        raise _raise(errors)
    errors = []
    seen: dict[str, int] = {}
    defaults = _rules(data.get("defaults") or [], ("defaults",), "", data, name, seen, errors)
    clusters: dict[str, tuple[Rule, ...]] = {}
    for cluster, items in (data.get("clusters") or {}).items():
        clusters[str(cluster)] = _rules(items or [], ("clusters", cluster), str(cluster), data, name, seen, errors)
    if errors:
        raise _raise(errors)
    budget = data.get("path_only_budget")
    inventory = Inventory(file=name, version=str(data["version"]), fixture=str(data.get("fixture") or ""),
                          path_only_budget=int(budget) if budget is not None else None,
                          defaults=defaults, clusters=clusters)
    conflicts: list[InputError] = []
    for cluster in ("", *clusters):
        try:
            inventory.rules_for(cluster)
        except InputErrors as exc:
            conflicts.extend(exc.errors)
        except InputError as exc:
            conflicts.append(exc)
    conflicts.extend(_unwaived(inventory.all_rules(), SecurityKinds.parse(security_kinds)))
    if conflicts:
        raise _raise(_dedupe(conflicts))
    return inventory


def _unwaived(rules: Iterable[Rule], kinds: SecurityKinds) -> list[InputError]:
    """Load-time judgement: rules that name a security-relevant file by path (``.sops.yaml``) or, through a
    document filter, a security kind (the content-dependent rest is judged at compare time)."""
    errors = []
    for rule in rules:
        if rule.waiver is not None:
            continue
        what = sops_hidden_by(rule) or kinds.hidden_by_filter(rule)
        if what:
            errors.append(unwaived_error(rule, what))
    return errors


def _raise(errors: list[InputError]) -> InputError:
    errors = sorted(errors, key=lambda e: e.location.line if e.location else 0)
    return errors[0] if len(errors) == 1 else InputErrors(errors)


def _dedupe(errors: Iterable[InputError]) -> list[InputError]:
    out: dict[str, InputError] = {}
    for error in errors:
        out.setdefault(error.one_line(), error)
    return list(out.values())


def _where(path: Iterable[Any]) -> str:
    return key_path_text((p if isinstance(p, int) else str(p) for p in path), quote=False, empty="inventory")


def _schema_errors(data: Any, name: str) -> list[InputError]:
    if _quick_check()(data):  # the common case, without importing jsonschema
        return []
    errors: list[InputError] = []
    for err in _validator().iter_errors(data):
        path = tuple(err.absolute_path)
        where = _where(path)
        line = line_of(data, path) or 1
        instance = err.instance
        validator = err.validator
        if validator == "required":
            missing = [k for k in err.validator_value if not (isinstance(instance, dict) and k in instance)]
            message = f"{where}: missing required key " + ", ".join(f"'{k}'" for k in missing)
            if path == () and "version" in missing:
                message += " (a semantic version such as 1.0.0)"
        elif validator == "additionalProperties" and isinstance(instance, dict):
            known = set(err.schema.get("properties", {}))
            extra = [str(k) for k in instance if k not in known]
            line = line_of(data, (*path, extra[0])) or line if extra else line
            message = f"{where}: unknown key " + ", ".join(f"'{k}'" for k in extra)
        elif validator == "not" and isinstance(err.validator_value, dict) and isinstance(instance, dict):
            key = err.validator_value.get("required", ["?"])[0]
            line = line_of(data, (*path, key)) or line
            only = " or ".join(owners(str(key))) or "another kind"
            message = f"{where}: key '{key}' is only allowed for kind {only}, not '{instance.get('kind')}'"
        elif validator == "enum":
            message = f"{where}: {str(instance)[:60]!r} is not one of " + ", ".join(err.validator_value)
        elif validator == "pattern" and path and path[-1] == "version":
            message = "version must be a semantic version such as 1.2.0"
        elif validator == "type" and path and path[-1] == "version":
            message = "version must be a quoted semantic version string such as '1.2.0'"
        elif validator == "pattern" and path and path[-1] == "id":
            message = f"{where}: rule id must be letters, digits, '.', '_', ':' or '-' (at most 100)"
        elif validator == "minItems" or (
                validator in ("minLength", "pattern") and isinstance(instance, str) and not instance.strip()):
            message = f"{where}: must not be empty"
        elif validator == "type":
            expected = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer"}
            message = f"{where}: must be {expected.get(str(err.validator_value), err.validator_value)}"
        else:
            message = f"{where}: {err.message[:160]}"
        errors.append(InputError("INVENTORY-INVALID", message, file=name, line=line, hint=_HINT))
    return errors


def _invalid(data: Any, name: str, where: tuple[Any, ...], key: str | None, message: str, *,
             hint: str = _HINT) -> InputError:
    """INVENTORY-INVALID at the line of ``where`` (or of its ``key``)."""
    line = (line_of(data, (*where, key)) if key else 0) or line_of(data, where)
    return InputError("INVENTORY-INVALID", f"{_where_text(where, key)}: {message}", file=name, line=line, hint=hint)


def _rules(items: list[Any], base: tuple[Any, ...], cluster: str, data: Any, name: str, seen: dict[str, int],
           errors: list[InputError]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for position, item in enumerate(items):
        rule = _rule(item, (*base, position), cluster, data, name, seen, errors)
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _rule(item: Any, where: tuple[Any, ...], cluster: str, data: Any, name: str, seen: dict[str, int],
          errors: list[InputError]) -> Rule | None:
    """One schema-valid rule item -> Rule, or None after appending its errors."""
    line = line_of(data, where)
    rule_id = str(item["id"])
    if rule_id in seen:
        errors.append(_invalid(data, name, where, "id",
                               f"duplicate rule id '{rule_id}' (first at line {seen[rule_id]})"))
        return None
    seen[rule_id] = line
    kind = kind_of(str(item["kind"]))
    path = str(item["path"])
    try:
        glob = compile_pattern(path)
    except GlobError as exc:
        errors.append(_invalid(data, name, where, "path", f"bad glob {path!r}: {exc}",
                               hint="gitignore-style: *, ?, [..], **, leading / anchors, trailing / = directory"))
        return None
    stripped = path.lstrip("/")
    if stripped == "flux-system" or stripped.startswith("flux-system/"):
        errors.append(_invalid(data, name, where, "path",
                               "flux-system/ is bootstrap-owned and excluded from parity; this rule can never match"))
        return None
    try:
        if kind.literal_path:
            path = clean_literal(path, f"{kind.name} path")
        params = kind.parse(item)
    except ValueError as exc:
        key: tuple[str | int, ...] = exc.key if isinstance(exc, RuleError) else ("path",)
        hint = (exc.hint if isinstance(exc, RuleError) else "") or _HINT
        *inner, last = key
        at, named = ((*where, *inner), last) if isinstance(last, str) else ((*where, *key), None)
        errors.append(_invalid(data, name, at, named, str(exc), hint=hint))
        return None
    waiver = _waiver(item.get("security_waiver"))
    return Rule(id=rule_id, kind=kind.name, path=path, rationale=str(item["rationale"]).strip(),
                approved_by=str(item["approved_by"]).strip(), glob=glob, params=params, cluster=cluster, file=name,
                line=line, exact=kind.literal_path, waiver=waiver)


def _waiver(value: Any) -> Waiver | None:
    if not isinstance(value, Mapping):
        return None
    return Waiver(rationale=str(value["rationale"]).strip(), approved_by=str(value["approved_by"]).strip())


def _where_text(where: tuple[Any, ...], key: str | None) -> str:
    return _where((*where, key) if key else where)


def _conflict(rule: Rule, other: Rule, message: str) -> InputError:
    scope = f" for cluster {rule.cluster}" if rule.cluster else ""
    return InputError("INVENTORY-CONFLICT", f"rule '{rule.id}' conflicts with rule '{other.id}' (line {other.line})"
                      f"{scope}: {message}", file=rule.file, line=rule.line,
                      hint="remove or narrow one of the two rules")


def _build_index(rules: tuple[Rule, ...]) -> _Index:
    """Compile lookups and detect conflicts (INVENTORY-CONFLICT) for one resolved rule list."""
    errors: list[InputError] = []
    by_source: dict[str, Rule] = {}
    by_target: dict[str, Rule] = {}
    by_role: dict[Role, GlobSet[Rule]] = {role: GlobSet() for role in Role if role is not Role.MAP_RENDERED}
    for rule in rules:
        role = kind_of(rule.kind).role
        if role is Role.MAP_RENDERED:
            assert rule.to is not None
            if rule.path in by_source:
                errors.append(_conflict(rule, by_source[rule.path], f"two aliases from rendered path {rule.path}"))
                continue
            if rule.to in by_target:
                errors.append(_conflict(rule, by_target[rule.to], f"two aliases onto fixture path {rule.to}"))
                continue
            by_source[rule.path] = rule
            by_target[rule.to] = rule
        else:
            by_role[role].add(rule.glob, rule)
    for rule in by_source.values():
        assert rule.to is not None
        chained = by_source.get(rule.to)
        if chained is not None:
            errors.append(_conflict(chained, rule, f"alias target {rule.to} is itself aliased (alias chain)"))
        for other in by_role[Role.DROP_RENDERED].matches(rule.path):
            errors.append(_conflict(rule, other, f"rendered path {rule.path} is both aliased and ignored"))
        for other in by_role[Role.DROP_FIXTURE].matches(rule.to):
            errors.append(_conflict(rule, other, f"fixture path {rule.to} is both an alias target and ignored"))
    if errors:
        raise _raise(errors)
    return _Index(rules=rules, mapped_from=by_source, mapped_to=by_target, by_role=by_role,
                  order={r.id: i for i, r in enumerate(rules)},
                  any_glob=GlobSet.build((r.glob, r) for r in rules if not r.exact))
