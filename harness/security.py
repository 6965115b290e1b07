"""What is security-relevant in an overlay file, for the update gate and for rules that would blind the gate.

A file is security-relevant when it is a ``.sops.yaml`` (by name) or holds an object of a security kind
(``security_kinds``, ``group/Kind``; the update gate adds ``v1 Secret``) anywhere a Kubernetes reader
would find one: any document of a multi-document file, the ``items`` of a ``kind: List`` (or any
``…List``), nested lists included, and ``.json`` manifests (parsed as YAML, which JSON is). An object
matches by API group and kind. A file that does not parse is security-relevant when its text names such
a kind (``kind: X`` or ``"kind": "X"``, any group), since its objects cannot be proven absent.

Rules that would hide such an object from parity need a ``security_waiver``. What the path alone shows
(a rule whose glob can match a ``.sops.yaml``; a ``yaml_remove`` filtered to a security kind) is judged
when the inventory loads; whether a file holds a security object depends on its content, so the rest is
judged at compare time, on both sides' content (:mod:`harness.pairing`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.errors import InputError
from harness.globs import GlobError, compile_pattern
from harness.project_config import DEFAULT_SECURITY_KINDS
from harness.rules import Role, Rule, kind_of
from harness.yamlio import decode_text, load_documents

SOPS_NAMES = frozenset({".sops.yaml", ".sops.yml"})
SOPS_KEYS = frozenset({"creation_rules", "destination_rules", "stores"})  # the top-level keys of a .sops.yaml
SECRET = ("", "Secret")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Where a .sops.yaml may sit, to test whether a glob can match one.
_SOPS_DIRS = ("", "services/", "managed-services/", "customer-managed/", "a/", "a/b/")
_KIND_TEXT = re.compile(r"""["']?\bkind["']?\s*:\s*["']?([A-Za-z][A-Za-z0-9]*)""")


@dataclass(frozen=True)
class Found:
    """One security-relevant thing in a file: ``label`` for messages; ``doc`` the top-level document holding
    it and ``at`` its pointer tokens there (``doc`` None: the file as a whole, e.g. ``.sops.yaml``)."""

    label: str
    doc: Any = None
    at: tuple[str, ...] = ()


def _group(api_version: Any) -> str:
    text = str(api_version or "")
    return text.rpartition("/")[0] if "/" in text else ""


@dataclass(frozen=True)
class SecurityKinds:
    """The security kinds (group, Kind) of a project."""

    kinds: frozenset[tuple[str, str]]

    @classmethod
    def parse(cls, specs: Iterable[str] | None = None, *, secrets: bool = False) -> SecurityKinds:
        """``kyverno.io/ClusterPolicy`` -> (``kyverno.io``, ``ClusterPolicy``); a bare ``Kind`` is the core group;
        None: the project default. ``secrets`` adds ``v1 Secret``."""
        kinds = {(s.rpartition("/")[0], s.rpartition("/")[2]) for s in (DEFAULT_SECURITY_KINDS if specs is None
                                                                         else specs)}
        if secrets:
            kinds.add(SECRET)
        return cls(frozenset(kinds))

    @property
    def names(self) -> frozenset[str]:
        """The kind names (matched in any group)."""
        return frozenset(kind for _, kind in self.kinds)

    def hidden_by_filter(self, rule: Rule) -> str:
        """What a rule with a document filter naming a security kind would hide ('' when nothing)."""
        flt = rule.match_kind
        if flt is None or getattr(flt, "kind", None) not in self.names:
            return ""
        if not kind_of(rule.kind).hides(rule, None):
            return ""
        return f"the {flt.kind} objects it filters on"

    def found_in(self, path: str, data: bytes | None) -> list[Found]:
        """Every security-relevant thing in one file (``data`` None: the file is absent)."""
        if is_sops_path(path):
            return [Found(".sops.yaml", _first_document(path, data))]
        found: list[Found] = []
        if data is None or not path.lower().endswith(MANIFEST_SUFFIXES):
            return found
        if b"\\" not in data and not any(name.encode() in data for name in self.names):
            return found  # no kind name in the text, and no escape that could spell one
        try:
            docs = load_documents(decode_text(data, path), path)
        except (InputError, RecursionError):
            text = data.decode("utf-8", "replace")
            named = sorted({m.group(1) for m in _KIND_TEXT.finditer(text)} & self.names)
            return found + [Found(f"unparseable file naming kind {k}") for k in named]
        seen: set[str] = set()
        for doc in docs:
            for obj, at in _objects(doc):
                kind, group = obj.get("kind"), _group(obj.get("apiVersion"))
                if (group, kind) in self.kinds:
                    where = f" in the items of a {doc.get('kind')}" if at else ""
                    label = f"contains a {group + '/' if group else ''}{kind}{where}"
                    if label not in seen:
                        seen.add(label)
                        found.append(Found(label, doc, at))
        return found


def _first_document(path: str, data: bytes | None) -> Any:
    """The parsed SOPS configuration (None when absent or unreadable: then every rule on it hides it)."""
    if data is None:
        return None
    try:
        docs = load_documents(decode_text(data, path), path)
    except (InputError, RecursionError):
        return None
    return docs[0] if docs and isinstance(docs[0], dict) else None


def _objects(doc: Any) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """Every object of a document: itself, and the ``items`` of List kinds at any depth (iteratively)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(doc, ())]
    while stack:
        node, at = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node, at
        kind, items = node.get("kind"), node.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            stack.extend((item, (*at, "items", str(i))) for i, item in enumerate(items))


def is_sops_path(path: str) -> bool:
    """Whether a path names a SOPS configuration file."""
    return path.rpartition("/")[2] in SOPS_NAMES


def sops_hidden_by(rule: Rule) -> str:
    """What a rule would hide by its path alone: a ``.sops.yaml`` its glob names (the last segment spells
    ``sops`` and matches that file name, e.g. ``.sops.yaml``, ``**/.sops.y*ml``) when its kind hides content;
    '' otherwise. A wildcard (``*.yaml``) or directory rule (``services/extra/``) names no file: a
    ``.sops.yaml`` it reaches is judged at compare time, where the file exists."""
    role = kind_of(rule.kind).role
    if rule.exact or role is Role.MAP_RENDERED:
        return ""
    if role is Role.NORMALIZE and not any(p.tokens[0] in SOPS_KEYS for p in rule.pointers if p.tokens):
        return ""  # it edits documents, but none of the keys a SOPS configuration has
    last = rule.path.rpartition("/")[2]
    if "sops" not in last.lower():
        return ""  # a wildcard (``*.yaml``) or a directory rule does not name the file
    try:
        named = compile_pattern(last)
    except GlobError:
        return ""
    for name in sorted(SOPS_NAMES):
        if not named.match(name):
            continue
        for directory in (*_SOPS_DIRS, _directory_of(rule.path)):
            if rule.matches(directory + name):
                return f"{directory}{name}"
    return ""


def _directory_of(pattern: str) -> str:
    """A directory a glob names, wildcards filled in (``services/*/x.yaml`` -> ``services/x/``)."""
    text = pattern.strip("/") if pattern.endswith("/") else pattern.strip("/").rpartition("/")[0]
    text = re.sub(r"\[[^\]]*\]", "x", text.replace("**/", "").replace("/**", "").replace("**", ""))
    text = text.replace("*", "x").replace("?", "x").replace("\\", "")
    return f"{text}/" if text else ""


def reasons(found: Iterable[Found]) -> list[str]:
    """The labels of what was found, without duplicates."""
    return list(dict.fromkeys(f.label for f in found))


WAIVER_HINT = ("narrow the rule so it leaves the security-relevant object alone, or add security_waiver: "
               "{rationale: ..., approved_by: ...} after a security review")


def unwaived_error(rule: Rule, what: str) -> InputError:
    """INVENTORY-SECURITY-HIDDEN at the rule's line: it would hide ``what`` from parity without a waiver."""
    return InputError("INVENTORY-SECURITY-HIDDEN",
                      f"rule '{rule.id}' ({rule.kind} {rule.path}) would hide {what} from parity and carries no "
                      "security_waiver", file=rule.file, line=rule.line, hint=WAIVER_HINT)


def needs_judging(rules: Iterable[Rule]) -> list[Rule]:
    """The rules of a file pair that could hide something and carry no waiver (usually none)."""
    return [r for r in rules if r.waiver is None and not r.exact]


def check_hidden(rules: Iterable[Rule], sides: Iterable[tuple[str, bytes | None]], kinds: SecurityKinds) -> None:
    """Compare-time judgement: raise INVENTORY-SECURITY-HIDDEN for the first rule without a waiver that hides a
    security-relevant object found in either side (``(path, bytes or None)``)."""
    candidates = needs_judging(rules)
    if not candidates:
        return
    found = [(path, f) for path, data in sides for f in kinds.found_in(path, data)]
    for rule in candidates:
        for path, item in found:
            if kind_of(rule.kind).hides(rule, item.doc, item.at):
                raise unwaived_error(rule, f"{item.label.removeprefix('contains ')} in {path}")
