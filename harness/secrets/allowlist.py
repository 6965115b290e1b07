"""The secret allowlist: accepted findings, each justified, in a reviewed file that can only shrink honestly.

``secret_allowlist`` in the settings (default ``.overlay-parity-secrets.yaml`` at the project root)::

    version: 1
    allow:
      - fingerprint: sha256:<64 hex>     # of the decoded material (extra.digest of the finding)
        path: tests/fixtures/**          # where it may be (gitignore-style glob)
        rationale: synthetic key of the parser tests, never deployed
        approved_by: platform-security
        codes: [SECRET-PRIVATE-KEY]      # optional: which findings it accepts

Checked against ``harness/schema/secret-allowlist.schema.json`` (an empty ``rationale`` or ``approved_by`` is
refused, so a draft from ``scan-secrets --baseline-out`` does not pass until a person writes them). An
entry needs both the material and the place: nothing is allowed by path alone. An allowed real private key
is still reported, as a ``SECRET-ALLOWED`` warning; other allowed findings are dropped. An entry that
matches no finding of a scan that covered its path is ``SECRET-STALE-ALLOW``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.secrets.model import CHECK

DEFAULT_ALLOWLIST = ".overlay-parity-secrets.yaml"
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "secret-allowlist.schema.json"
ALLOWABLE = ("SECRET-REAL-KEY", "SECRET-PRIVATE-KEY", "SECRET-NOT-PLACEHOLDER")
_HINT = "see harness/schema/secret-allowlist.schema.json: every entry needs fingerprint, path, rationale, approved_by"


@dataclass(frozen=True)
class Entry:
    """One accepted finding: material ``fingerprint`` (full sha256), ``path`` glob, why, who, which codes."""

    fingerprint: str
    path: str
    rationale: str
    approved_by: str
    codes: tuple[str, ...]
    line: int

    def matches(self, finding: Finding) -> bool:
        """Whether this entry accepts ``finding`` (same material, a path the glob matches, an accepted code)."""
        from harness.globs import match

        return finding.code in self.codes and finding.extra.get("digest") == self.fingerprint and \
            match(self.path, finding.path)


@dataclass(frozen=True)
class Allowlist:
    """The entries of one allowlist file (``file`` as shown in findings; '' when there is none)."""

    file: str
    entries: tuple[Entry, ...] = ()


@functools.cache
def _quick_check() -> Callable[[Any], bool]:
    from harness.schemacheck import compile_schema

    return compile_schema(_schema()) or (lambda data: False)


@functools.cache
def _schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def load_allowlist(path: Path, *, display: str | None = None) -> Allowlist:
    """Load and check an allowlist; a missing file is an empty allowlist. SECRET-ALLOWLIST-INVALID (with
    file and line) when it does not parse or does not match the schema."""
    shown = display or str(path)
    if not path.exists():
        return Allowlist(file="")
    from harness.globs import GlobError, compile_pattern
    from harness.yamlio import line_of, load_located, read_text

    try:
        data = load_located(read_text(path, display=shown), shown)
    except InputError as exc:
        raise InputError("SECRET-ALLOWLIST-INVALID", f"does not parse: {exc.message}", file=shown,
                         line=exc.location.line if exc.location else 0, hint=_HINT) from None
    if not _quick_check()(data):  # only a "no" pays for jsonschema (~60 ms to import), which words the error
        _refuse_invalid(data, shown)
    entries: list[Entry] = []
    for index, raw in enumerate(data["allow"]):
        line = line_of(data, ("allow", index)) or 1
        try:
            compile_pattern(raw["path"])
        except GlobError as exc:
            raise InputError("SECRET-ALLOWLIST-INVALID", f"allow.{index}.path is not a valid glob: {exc}",
                             file=shown, line=line, hint=_HINT) from None
        entries.append(Entry(raw["fingerprint"], raw["path"], raw["rationale"], raw["approved_by"],
                             tuple(raw.get("codes", ALLOWABLE)), line))
    return Allowlist(file=shown, entries=tuple(entries))


def _refuse_invalid(data: Any, shown: str) -> None:
    """Raise SECRET-ALLOWLIST-INVALID for the first schema error of ``data`` (none: return)."""
    import jsonschema

    from harness.yamlio import line_of

    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.path))
    if not errors:
        return
    error = errors[0]
    where = ".".join(str(part) for part in error.path) or "(top level)"
    empty = error.validator == "pattern" and bool(error.path) and error.path[-1] in ("rationale", "approved_by")
    problem = "must not be empty" if empty else _wording(error)
    raise InputError("SECRET-ALLOWLIST-INVALID", f"{where} {problem}", file=shown,
                     line=line_of(data, tuple(error.path)) or 1, hint=_HINT)


def _wording(error: Any) -> str:
    """A schema error in words, never quoting the offending value (it may be secret)."""
    if error.validator == "required":
        return f"lacks a required key ({', '.join(error.validator_value)})"
    if error.validator == "additionalProperties":
        return "has an unknown key (allowed: fingerprint, path, rationale, approved_by, codes)"
    if error.validator == "pattern" and error.path and error.path[-1] == "fingerprint":
        return "must be sha256: followed by 64 hex digits (extra.digest of the finding)"
    return f"does not match the schema ({error.validator})"


def apply_allowlist(findings: Sequence[Finding], allowlist: Allowlist, *, scanned: Iterable[str],
                    whole_repository: bool) -> list[Finding]:
    """``findings`` with the allowed ones dropped (an allowed real key kept as a SECRET-ALLOWED warning),
    plus a SECRET-STALE-ALLOW finding for every entry that matched nothing although the scan covered its
    path (any file of ``scanned`` matches its glob, or the scan was of the whole repository)."""
    from harness.globs import match

    used: set[int] = set()
    kept: list[Finding] = []
    for finding in findings:
        entry = next((e for e in allowlist.entries if e.matches(finding)), None)
        if entry is None:
            kept.append(finding)
            continue
        used.add(entry.line)
        if finding.code == "SECRET-REAL-KEY":
            kept.append(replace(finding, code="SECRET-ALLOWED", severity=Severity.WARNING,
                                message=f"{finding.message}; allowed by {allowlist.file}:{entry.line} "
                                        f"(approved by {entry.approved_by}), still a real private key",
                                hint="rotate it if it was ever used; keep the allowlist entry only while the "
                                     "rationale holds"))
    names = list(scanned)
    for entry in allowlist.entries:
        if entry.line in used or not (whole_repository or any(match(entry.path, name) for name in names)):
            continue
        kept.append(Finding(code="SECRET-STALE-ALLOW", check=CHECK, path=allowlist.file, line=entry.line,
                            message=f"allowlist entry for {entry.path} ({entry.fingerprint[:15]}) matches no "
                                    "finding: the material is gone or moved",
                            hint="delete the entry (the allowlist may only shrink honestly)"))
    return kept


def baseline(findings: Sequence[Finding]) -> str:
    """A draft allowlist of ``findings`` (YAML text) with empty rationales and approvers, which the schema
    refuses until a person writes them."""
    lines = ["# Draft written by `overlay-parity scan-secrets --baseline-out`. Every entry needs a rationale",
             "# and an approver before this file is accepted (the schema refuses empty ones).",
             "version: 1", "allow:"]
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        digest = finding.extra.get("digest")
        if finding.code not in ALLOWABLE or not isinstance(digest, str) or (digest, finding.path) in seen:
            continue
        seen.add((digest, finding.path))
        lines += [f"  - fingerprint: {digest}", f"    path: {json.dumps(finding.path)}",
                  f"    codes: [{finding.code}]", '    rationale: ""', '    approved_by: ""']
    if len(lines) == 4:
        lines[-1] = "allow: []"
    return "\n".join(lines) + "\n"
