"""What every canonicalization rule kind provides, and the loaded rule itself.

A rule kind (one module in :mod:`harness.rules`) declares its *role* in the pairing
(:mod:`harness.pairing` reads roles, never kind names), the JSON Schema of the keys only it may carry,
how to parse them, how ``explain`` words a match, whether ``--update`` leaves paths under it alone, and
whether it can hide a security-relevant object from parity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from harness.globs import Glob


class Role(StrEnum):
    """Where a kind acts in the pairing of a rendered tree with its fixture tree."""

    DROP_RENDERED = "drop_rendered"  # matched against rendered paths: the file leaves the comparison
    MAP_RENDERED = "map_rendered"  # the exact rendered path is compared with another fixture path
    DROP_FIXTURE = "drop_fixture"  # matched against fixture paths: the file leaves the comparison
    PRESENCE_ONLY = "presence_only"  # a file pair: only presence is compared, not content
    NORMALIZE = "normalize"  # a file pair: parsed documents are edited on both sides before comparing


class RuleError(ValueError):
    """A kind-specific key is wrong; the loader turns it into INVENTORY-INVALID at the key's line."""

    def __init__(self, message: str, *, key: tuple[str | int, ...] = ("path",), hint: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.hint = hint


@dataclass(frozen=True)
class Waiver:
    """``security_waiver``: the reviewed permission for a rule to hide a security-relevant object."""

    rationale: str
    approved_by: str


@dataclass(frozen=True)
class Rule:
    """One loaded rule. ``cluster`` is '' for a default rule; ``line`` is 1-based in ``file``; ``params`` is
    the kind's own data (see the kind's module); ``exact``: ``path`` is a literal path, not a glob."""

    id: str
    kind: str
    path: str
    rationale: str
    approved_by: str
    glob: Glob
    params: Any = None
    cluster: str = ""
    file: str = ""
    line: int = 0
    exact: bool = False
    waiver: Waiver | None = None

    @property
    def scope(self) -> str:
        """``defaults`` or ``clusters.<name>``."""
        return f"clusters.{self.cluster}" if self.cluster else "defaults"

    @property
    def to(self) -> str | None:
        """The fixture path of a path-mapping rule (alias), else None."""
        value = getattr(self.params, "to", None)
        return value if isinstance(value, str) else None

    @property
    def pointers(self) -> tuple[Any, ...]:
        """The JSON pointers of a pointer rule (yaml_remove), else ()."""
        return tuple(getattr(self.params, "pointers", ()))

    @property
    def match_kind(self) -> Any:
        """The document filter of a document rule (yaml_remove), else None."""
        return getattr(self.params, "match_kind", None)

    def matches(self, path: str) -> bool:
        """Whether this rule's ``path`` matches a POSIX relative path."""
        return path == self.path if self.exact else self.glob.match(path)

    def applies_to_doc(self, doc: Any) -> bool:
        """Whether a parsed document passes the rule's document filter (none: every document)."""
        accepts = getattr(self.params, "accepts", None)
        return bool(accepts(doc)) if callable(accepts) else True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (as written in the inventory, plus scope and line)."""
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "path": self.path}
        if self.params is not None:
            data.update(self.params.to_dict())
        data.update({"rationale": self.rationale, "approved_by": self.approved_by})
        if self.waiver is not None:
            data["security_waiver"] = {"rationale": self.waiver.rationale, "approved_by": self.waiver.approved_by}
        data.update({"cluster": self.cluster, "file": self.file, "line": self.line})
        return data

    def as_written(self) -> dict[str, Any]:
        """:meth:`to_dict` without where the rule is written (``file``, ``line``), which does not change what
        it does: for comparing rule versions and keying what a rule decides."""
        return {k: v for k, v in self.to_dict().items() if k not in ("file", "line")}


@dataclass(frozen=True)
class Facts:
    """What ``explain`` knows about one file pair when it words a rule: which sides exist, whether the
    content differs under the other rules (None: not compared), and the ids of the rules that made a
    difference there."""

    has_rendered: bool
    has_fixture: bool
    differs: bool | None
    effective: frozenset[str] = frozenset()


class RuleKind:
    """The protocol of one rule kind; subclass it in a module of :mod:`harness.rules` and register it."""

    name: ClassVar[str]
    role: ClassVar[Role]
    summary: ClassVar[str]  # one line: what the kind does (docs, explain)
    literal_path: ClassVar[bool] = False  # ``path`` is a literal file path, not a glob
    properties: ClassVar[Mapping[str, Any]] = {}  # JSON Schema of the keys only this kind may carry
    required: ClassVar[tuple[str, ...]] = ()  # which of those are required
    guards_update: ClassVar[bool] = True  # ``--update`` leaves paths under this rule alone unless forced

    def parse(self, item: Mapping[str, Any]) -> Any:
        """The kind's own data from a schema-valid rule item (an object with ``to_dict()`` giving the keys as
        written, or None); raises :class:`RuleError`."""
        return None

    def hides(self, rule: Rule, doc: Any, at: tuple[str, ...] = ()) -> bool:
        """Whether the rule, applied to a file holding the security-relevant object at pointer tokens ``at``
        of document ``doc`` (``doc`` None: a security-relevant file such as ``.sops.yaml`` as a whole), takes
        that object out of parity (default: yes, the kind drops the file or its content)."""
        return True

    def explain(self, rule: Rule, facts: Facts) -> tuple[bool, str]:
        """Whether the rule made a difference for this file pair, and why (the stale-rule semantics)."""
        raise NotImplementedError

    def normalize(self, rules: tuple[Rule, ...], rendered: list[Any], fixture: list[Any]) -> set[str]:
        """``Role.NORMALIZE`` only: edit both sides' documents in place; return the ids of the rules whose
        edits differ between the sides (the rules that made a difference)."""
        raise NotImplementedError
