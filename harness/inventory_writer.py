"""Write an inventory file: current rules as they are, draft rules with empty ``rationale``/``approved_by``.

The text is built here (not dumped by a YAML library) so that it reads like a hand-kept inventory: a header,
``defaults`` then each cluster, one blank line between rules, rationales folded, and above each draft rule a
``# DRAFT`` comment with the evidence (redacted diff lines) that made it. Strings are written double-quoted
(YAML escapes for anything not printable) unless they are plain words, so no value can change type or meaning.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from harness.inventory import Rule
from harness.semver import parse_semver

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*\Z")
_WIDTH = 100


@dataclass(frozen=True)
class Entry:
    """One rule to write: the fields as the schema names them, and comment lines above it (drafts)."""

    fields: dict[str, object]
    comments: tuple[str, ...] = ()


def _printable(char: str) -> bool:
    """YAML's c-printable, minus line breaks (a double-quoted scalar would fold them)."""
    code = ord(char)
    return (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF) and char not in "\u2028\u2029"


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly ``text`` (every other character escaped)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif _printable(char):
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def quote(text: str) -> str:
    """A YAML scalar for ``text`` that reads back as exactly this string."""
    if (_PLAIN.match(text) and text.lower() not in ("true", "false", "yes", "no", "on", "off", "null", "y", "n")
            and not re.fullmatch(r"[0-9._-]+", text)):
        return text
    return double_quoted(text)


def _folded(key: str, text: str, indent: str) -> list[str]:
    if (not text or "  " in text or text != text.strip() or len(text) + len(key) < 80
            or not all(_printable(c) for c in text)):
        return [f"{indent}{key}: {double_quoted(text)}"]
    lines = textwrap.wrap(text, width=_WIDTH - len(indent) - 2, break_long_words=False, break_on_hyphens=False)
    return [f"{indent}{key}: >-", *(f"{indent}  {line}" for line in lines)]


def rule_entry(rule: Rule) -> Entry:
    """A current rule as it should be written back."""
    data = rule.to_dict()
    fields: dict[str, object] = {k: data[k] for k in ("id", "kind", "path", "to", "match_kind", "pointers")
                                 if k in data}
    fields["rationale"] = rule.rationale
    fields["approved_by"] = rule.approved_by
    if "security_waiver" in data:
        fields["security_waiver"] = dict(data["security_waiver"])
    return Entry(fields)


_TO_WRITE = {"rationale": "why the fixture is not authoritative here", "approved_by": "who approved the rule"}
_WAIVER_TO_WRITE = {"rationale": "why hiding this security-relevant object is acceptable",
                    "approved_by": "who accepted it (security review)"}


def _text_lines(key: str, text: str, lead: str, indent: str, to_write: dict[str, str]) -> list[str]:
    if not text:
        return [f'{lead}{key}: ""  # TO WRITE: {to_write[key]}']
    folded = _folded(key, text, indent)
    return [lead + folded[0].lstrip(), *folded[1:]]


def _entry_lines(entry: Entry, indent: str) -> list[str]:
    lines = [f"{indent}# {c}" for c in entry.comments]
    first = True
    for key, value in entry.fields.items():
        lead = f"{indent}- " if first else f"{indent}  "
        first = False
        if key in ("rationale", "approved_by"):
            lines.extend(_text_lines(key, str(value), lead, indent + "  ", _TO_WRITE))
        elif isinstance(value, dict):  # security_waiver: {rationale, approved_by}
            lines.append(f"{lead}{key}:")
            for sub in ("rationale", "approved_by"):
                lines.extend(_text_lines(sub, str(value.get(sub, "")), f"{indent}    ", indent + "    ",
                                         _WAIVER_TO_WRITE))
        elif isinstance(value, (list, tuple)):
            lines.append(f"{lead}{key}:")
            lines.extend(f"{indent}    - {quote(str(v))}" for v in value)
        else:
            lines.append(f"{lead}{key}: {quote(str(value))}")
    return lines


def bump_minor(version: str) -> str:
    """``1.2.3`` -> ``1.3.0`` (a pre-release or build suffix is dropped)."""
    parsed = parse_semver(version)
    return f"{parsed.major}.{parsed.minor + 1}.0"


def inventory_text(*, version: str, fixture: str, path_only_budget: int | None, defaults: Sequence[Entry],
                   clusters: dict[str, list[Entry]], header: Sequence[str] = ()) -> str:
    """The whole inventory file."""
    out = [f"# {line}" if line else "#" for line in header]
    out.append(f"version: {double_quoted(version)}")
    out.append(f"fixture: {quote(fixture)}")
    if path_only_budget is not None:
        out.append(f"path_only_budget: {path_only_budget}")
    out.append("")
    if defaults:
        out.append("defaults:")
        for entry in defaults:
            out.extend(_entry_lines(entry, "  "))
            out.append("")
    else:
        out.append("defaults: []")
        out.append("")
    nonempty = {name: entries for name, entries in clusters.items() if entries}
    if not nonempty:
        out.append("clusters: {}")
    else:
        out.append("clusters:")
        for name, entries in nonempty.items():
            out.append(f"  {quote(name)}:")
            for entry in entries:
                out.extend(_entry_lines(entry, "    "))
                out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
