"""Undeclared-file detector: every file under the template root is owned by exactly one descriptor.

Descriptors are read as data (docs/contracts.md §4), independently of the renderer's loader: a ``roots``
entry owns every file under its ``path`` minus its gitignore-style ``excludes`` (relative to that path,
matched with :mod:`harness.globs`); a ``files`` entry owns its ``template``. Findings:

- ``COVERAGE-UNDECLARED``: a template file no descriptor owns.
- ``COVERAGE-DUPLICATE``: a template file owned by two or more descriptors, or claimed twice inside one
  descriptor by a root and by another root or ``files`` entry. A file *excluded* from a root and taken
  back by a ``files`` entry of the same descriptor is the intended idiom and is fine; so are several
  ``files`` entries of one descriptor naming the same template (one template, several outputs).
- ``COVERAGE-MISSING-TEMPLATE``: a declared template or root directory does not exist.
- ``COVERAGE-DEAD-EXCLUDE``: an exclude pattern that matches no file under its root.
- ``COVERAGE-OUTPUT-COLLISION``: two different templates that can render to the same output path.
  Output patterns are compared with every ``{{ ... }}`` standing for a non-empty name without ``/``.
  Claims whose conditions cannot hold together (same field: ``true`` vs ``false``, ``equals a`` vs
  ``equals b``...) never collide. A collision of two literal outputs (or of identical patterns) is an
  error; one that depends on config values (``sources/{{ a }}.yaml`` vs ``sources/kustomization.yaml``)
  is a warning, because only a config can make it happen and the renderer refuses it at plan time.

Finding paths are shown relative to ``relative_to`` (default: the common parent of both roots; the faces pass
the project root). Each finding is anchored (``file``, ``line``) at the template it is about (undeclared,
duplicate: the whole file, line 0) or at the descriptor entry at fault; ``related`` names the descriptor
entries that claim a duplicate and, for a collision, the other descriptor entry and both templates.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.findings import Finding, Location, Severity
from harness.globs import Glob, GlobError, compile_pattern
from harness.keypath import key_path_text
from harness.safe_read import resolve_path
from harness.yamlio import line_of, load_file, load_roundtrip, read_text

CHECK = "coverage"
DESCRIPTOR_SUFFIXES = (".yaml", ".yml")
_EXPR = re.compile(r"\{\{.*?\}\}", re.S)
_STAR = object()  # one output-pattern element: any non-empty run of characters without "/"
_ANYSTAR = object()  # internal: zero or more characters without "/"
_ANY = object()  # internal: exactly one character other than "/"

Key = tuple[str | int, ...]


@dataclass(frozen=True)
class _Cond:
    field: str
    op: str
    value: Any = None


@dataclass
class _Descriptor:
    name: str
    path: Path
    shown: str
    data: dict[str, Any]
    conditions: tuple[_Cond, ...]
    _rt: Any = field(default=None, repr=False)

    def line(self, key: Key) -> int:
        """1-based line of ``key`` in the descriptor file (parsed with line info only when asked)."""
        if self._rt is None:
            try:
                self._rt = load_roundtrip(read_text(self.path, display=self.shown), self.shown)
            except InputError:
                self._rt = {}
        return line_of(self._rt, key) if key else 1


@dataclass(frozen=True)
class _Claim:
    descriptor: _Descriptor
    key: Key  # ("roots", 0) or ("files", 3)
    template: str
    output: str
    conditions: tuple[_Cond, ...]

    @property
    def from_root(self) -> bool:
        return self.key[0] == "roots"

    def where(self) -> str:
        return f"{self.key[0]}[{self.key[1]}]"

    def who(self) -> str:
        return f"{self.descriptor.path.name} {self.where()}"


def check_coverage(template_root: Path, descriptor_root: Path, *, relative_to: Path | None = None) -> list[Finding]:
    """Check that descriptors and the template root agree; return findings sorted by path and line.

    Raises ``InputError`` for a missing root (FILE-MISSING), a symlink or special file in the template
    root (FILE-SYMLINK / FILE-SPECIAL) and a descriptor whose ``roots``/``files`` cannot be read as data
    (YAML-* or DESCRIPTOR-INVALID).
    """
    template_root = Path(template_root)
    descriptor_root = Path(descriptor_root)
    base = relative_to if relative_to is not None else _common_parent(template_root, descriptor_root)
    shown_templates = _shown(template_root, base)
    _require_dir(template_root, shown_templates, "template root")
    _require_dir(descriptor_root, _shown(descriptor_root, base), "descriptor root")
    files, dirs = _walk(template_root, shown_templates)
    findings: list[Finding] = []
    claims: list[_Claim] = []
    for descriptor in _load_descriptors(descriptor_root, base):
        claims.extend(_claims_of(descriptor, files, dirs, shown_templates, findings))
    findings.extend(_ownership(files, claims, shown_templates))
    findings.extend(_collisions(claims, shown_templates))
    return sorted(findings, key=lambda f: (f.path, f.line, f.code, f.message))


# ------------------------------------------------------------------------------------------- reading

def _common_parent(a: Path, b: Path) -> Path:
    try:
        return Path(os.path.commonpath([a.resolve(), b.resolve()]))
    except ValueError:  # different drives
        return a.resolve().parent


def _shown(path: Path, base: Path) -> str:
    try:
        rel = resolve_path(path).relative_to(resolve_path(base))
    except ValueError:
        return str(path)
    text = rel.as_posix()
    return "" if text == "." else text


def _file(shown: str) -> str:
    """A shown path as a finding's repository-relative ``file``: '' when it is not relative to the base."""
    return shown if shown and not Path(shown).is_absolute() else ""


def _claim_places(claims: Iterable[_Claim]) -> tuple[Location, ...]:
    """Where each claim sits in its descriptor (one place per descriptor entry)."""
    places = {(c.descriptor.shown, c.descriptor.line(c.key)) for c in claims if _file(c.descriptor.shown)}
    return tuple(Location(file, line, "descriptor") for file, line in sorted(places))


def _join(prefix: str, rel: str) -> str:
    return f"{prefix.rstrip('/')}/{rel}" if prefix else rel


def _require_dir(path: Path, shown: str, what: str) -> None:
    name = shown or str(path)
    if path.is_symlink():
        raise InputError("FILE-SYMLINK", f"{what} is a symlink", file=name, hint="point at the real directory")
    if not path.is_dir():
        raise InputError("FILE-MISSING", f"{what} directory does not exist", file=name,
                         hint="check template_root/descriptor_root in the overlay-parity settings or the CLI options")


def _walk(root: Path, shown: str) -> tuple[set[str], set[str]]:
    """Every regular file and directory under ``root`` (POSIX relative paths); links are refused."""
    files: set[str] = set()
    dirs: set[str] = {""}
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_symlink():
                    raise InputError("FILE-SYMLINK", "symlink in the template root", file=_join(shown, rel),
                                     hint="templates must be regular files inside the template root")
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    dirs.add(rel)
                    stack.append((entry.path, rel + "/"))
                elif stat.S_ISREG(mode):
                    files.add(rel)
                else:
                    raise InputError("FILE-SPECIAL", "not a regular file", file=_join(shown, rel),
                                     hint="remove it from the template root")
    return files, dirs


def _load_descriptors(root: Path, base: Path) -> list[_Descriptor]:
    descriptors: list[_Descriptor] = []
    for path in sorted(p for p in root.iterdir() if p.suffix in DESCRIPTOR_SUFFIXES and not p.is_dir()):
        shown = _shown(path, base)
        docs = load_file(path, display=shown)
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise InputError("DESCRIPTOR-INVALID", "a descriptor is exactly one YAML mapping", file=shown, line=1,
                             hint="see docs/contracts.md §4")
        data: dict[str, Any] = docs[0]
        name = data.get("name")
        descriptor = _Descriptor(name if isinstance(name, str) and name else path.stem, path, shown, data, ())
        conds: list[_Cond] = []
        if isinstance(data.get("service"), str):
            conds.append(_Cond(f"opencenter.services.{data['service']}.enabled", "true"))
        if isinstance(data.get("managed_service"), str):
            conds.append(_Cond(f"opencenter.managed_services.{data['managed_service']}.enabled", "true"))
        conds.extend(_condition(data.get("enabled_when")))
        descriptor.conditions = tuple(conds)
        descriptors.append(descriptor)
    return descriptors


def _condition(raw: Any) -> list[_Cond]:
    """A parsed condition, or nothing when it is absent or malformed (the renderer's loader rejects those)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("field"), str):
        return []
    op = raw.get("op")
    if isinstance(op, bool):  # YAML 1.1: unquoted true/false
        op = "true" if op else "false"
    if not isinstance(op, str):
        return []
    return [_Cond(raw["field"], op, raw.get("value"))]


def _entries(descriptor: _Descriptor, section: str) -> list[tuple[int, dict[str, Any]]]:
    raw = descriptor.data.get(section)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise InputError("DESCRIPTOR-INVALID", f"`{section}` must be a list of mappings", file=descriptor.shown,
                         line=descriptor.line((section,)), hint="see docs/contracts.md §4")
    return list(enumerate(raw))


def _rel_path(descriptor: _Descriptor, key: Key, value: Any, what: str, *, allow_root: bool = False) -> str:
    """A template-root relative POSIX path from a descriptor; escapes are DESCRIPTOR-INVALID."""
    if not isinstance(value, str) or (not value.strip("/.") and not allow_root):
        raise InputError("DESCRIPTOR-INVALID", f"{_key_text(key)}: `{what}` must be a non-empty relative path",
                         file=descriptor.shown, line=descriptor.line(key), hint="see docs/contracts.md §4")
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    if value.startswith("/") or ".." in parts:
        raise InputError("DESCRIPTOR-INVALID", f"{_key_text(key)}: `{what}` must stay inside the template root",
                         file=descriptor.shown, line=descriptor.line(key),
                         hint="use a path relative to the template root, without '..'")
    return "/".join(parts)


def _key_text(key: Key) -> str:
    return key_path_text(key, quote=False)


def _output(raw: Any, default: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        return default
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    return "/".join(parts)


# ------------------------------------------------------------------------------------------- claims

def _claims_of(descriptor: _Descriptor, files: set[str], dirs: set[str], shown_templates: str,
               findings: list[Finding]) -> list[_Claim]:
    claims: list[_Claim] = []
    for index, root in _entries(descriptor, "roots"):
        key: Key = ("roots", index)
        path = _rel_path(descriptor, (*key, "path"), root.get("path"), "path", allow_root=True)
        output = _output(root.get("output"), path)
        conds = descriptor.conditions + tuple(_condition(root.get("when")))
        globs = _excludes(descriptor, key, root.get("excludes"))
        if path not in dirs:
            findings.append(_missing(descriptor, (*key, "path"), path, shown_templates, directory=True,
                                     is_file=path in files))
            continue
        prefix = f"{path}/" if path else ""
        used = [False] * len(globs)
        for template in sorted(f for f in files if f.startswith(prefix)):
            relative = template[len(prefix):]
            hit = False
            for number, glob in enumerate(globs):
                if glob.match(relative):
                    used[number] = hit = True
            if not hit:
                claims.append(_Claim(descriptor, key, template, _join(output, relative), conds))
        for number, glob in enumerate(globs):
            if not used[number]:
                where = (*key, "excludes", number)
                findings.append(Finding(
                    code="COVERAGE-DEAD-EXCLUDE",
                    message=f"{descriptor.name}: {_key_text(where)} '{glob.pattern}' excludes nothing under "
                            f"{path or '.'}",
                    check=CHECK, path=descriptor.shown, line=descriptor.line(where), owner=descriptor.name,
                    file=_file(descriptor.shown),
                    hint="remove the exclude, or fix the pattern (gitignore-style, relative to the root path)",
                    extra={"descriptors": [descriptor.shown], "pattern": glob.pattern, "root": path},
                ))
    for index, entry in _entries(descriptor, "files"):
        key = ("files", index)
        template = _rel_path(descriptor, (*key, "template"), entry.get("template"), "template")
        if template not in files:
            findings.append(_missing(descriptor, (*key, "template"), template, shown_templates, directory=False,
                                     is_file=template in dirs))
            continue
        conds = descriptor.conditions + tuple(_condition(entry.get("when")))
        claims.append(_Claim(descriptor, key, template, _output(entry.get("output"), template), conds))
    return claims


def _excludes(descriptor: _Descriptor, key: Key, raw: Any) -> list[Glob]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError("DESCRIPTOR-INVALID", f"{_key_text((*key, 'excludes'))} must be a list of patterns",
                         file=descriptor.shown, line=descriptor.line((*key, "excludes")),
                         hint="gitignore-style patterns relative to the root path")
    globs: list[Glob] = []
    for number, pattern in enumerate(raw):
        where = (*key, "excludes", number)
        try:
            if not isinstance(pattern, str):
                raise GlobError("not a string")
            globs.append(compile_pattern(pattern))
        except GlobError as exc:
            raise InputError("DESCRIPTOR-INVALID", f"{_key_text(where)}: bad exclude pattern: {exc}",
                             file=descriptor.shown, line=descriptor.line(where),
                             hint="gitignore-style: *, ?, [..], **, trailing / for directories") from None
    return globs


def _missing(descriptor: _Descriptor, key: Key, path: str, shown_templates: str, *, directory: bool,
             is_file: bool) -> Finding:
    what = "root directory" if directory else "template"
    problem = ("is a file, not a directory" if directory else "is a directory, not a file") if is_file \
        else "does not exist"
    return Finding(
        code="COVERAGE-MISSING-TEMPLATE",
        message=f"{descriptor.name}: {_key_text(key)} {what} {path or '.'} {problem} under {shown_templates or '.'}",
        check=CHECK, path=descriptor.shown, line=descriptor.line(key), owner=descriptor.name,
        file=_file(descriptor.shown), hint=f"add the {what} to the template root or fix the descriptor",
        extra={"descriptors": [descriptor.shown], "template": _join(shown_templates, path)},
    )


def _ownership(files: set[str], claims: list[_Claim], shown_templates: str) -> list[Finding]:
    by_template: dict[str, list[_Claim]] = {}
    for claim in claims:
        by_template.setdefault(claim.template, []).append(claim)
    findings: list[Finding] = []
    for template in sorted(files):
        owned = by_template.get(template, [])
        shown = _join(shown_templates, template)
        if not owned:
            findings.append(Finding(
                code="COVERAGE-UNDECLARED", message="template file has no descriptor owner", check=CHECK,
                path=shown, file=_file(shown),
                hint="add it to a descriptor's `files`, or under a `roots` path without excluding it",
            ))
            continue
        names = sorted({c.descriptor.name for c in owned})
        roots = [c for c in owned if c.from_root]
        if len(names) > 1:
            message = f"owned by {len(names)} descriptors: " + ", ".join(
                sorted({c.who() for c in owned}))
        elif roots and len(owned) > 1:
            message = f"claimed twice by descriptor {names[0]}: " + ", ".join(c.where() for c in owned)
        else:
            continue
        findings.append(Finding(
            code="COVERAGE-DUPLICATE", message=message, check=CHECK, path=shown, owner=", ".join(names),
            file=_file(shown), related=_claim_places(owned),
            hint="keep one owner: exclude the file from the other roots or drop the extra `files` entry",
            extra={"descriptors": sorted({c.descriptor.shown for c in owned})},
        ))
    return findings


# ------------------------------------------------------------------------------------------ collisions

def _pattern(output: str) -> tuple[Any, ...]:
    """An output as a sequence of characters and ``_STAR`` (one per ``{{ ... }}``)."""
    items: list[Any] = []
    last = 0
    for match in _EXPR.finditer(output):
        items.extend(output[last:match.start()])
        items.append(_STAR)
        last = match.end()
    items.extend(output[last:])
    return tuple(items)


def _expand(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item is _STAR:
            out.extend((_ANY, _ANYSTAR))
        else:
            out.append(item)
    return out


def patterns_intersect(a: str, b: str) -> bool:
    """Whether two output patterns (``{{ x }}`` = a non-empty name without ``/``) can name the same path."""
    left, right = _expand(_pattern(a)), _expand(_pattern(b))
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i] is _ANYSTAR:
            stack.append((i + 1, j))
        if j < len(right) and right[j] is _ANYSTAR:
            stack.append((i, j + 1))
        if i < len(left) and j < len(right):
            x, y = left[i], right[j]
            if x == y if isinstance(x, str) and isinstance(y, str) else "/" not in (x, y):
                stack.append((i if x is _ANYSTAR else i + 1, j if y is _ANYSTAR else j + 1))
    return False


def _may_intersect(a: str, b: str) -> bool:
    """Cheap pre-check: same depth, and the literal heads and tails agree as far as both have them."""
    if a.count("/") != b.count("/"):
        return False
    head_a, head_b = a.split("{{", 1)[0], b.split("{{", 1)[0]
    size = min(len(head_a), len(head_b))
    if head_a[:size] != head_b[:size]:
        return False
    tail_a, tail_b = a.rsplit("}}", 1)[-1], b.rsplit("}}", 1)[-1]
    size = min(len(tail_a), len(tail_b))
    return size == 0 or tail_a[-size:] == tail_b[-size:]


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _exclusive(a: _Cond, b: _Cond) -> bool:
    """Whether two conditions on one field can never hold together (renderer.conditions semantics)."""
    if a.field != b.field:
        return False
    ops = {a.op, b.op}
    if ops == {"true", "false"}:
        return True
    if a.op == "equals" and b.op == "equals":
        return not _same_value(a.value, b.value)
    if "equals" in ops and ops & {"true", "false"}:
        eq, flag = (a, b) if a.op == "equals" else (b, a)
        return not _same_value(eq.value, flag.op == "true")
    return False


def _compatible(a: _Claim, b: _Claim) -> bool:
    return not any(_exclusive(x, y) for x in a.conditions for y in b.conditions)


def _collisions(claims: list[_Claim], shown_templates: str) -> list[Finding]:
    static: dict[str, list[_Claim]] = {}
    templated: list[_Claim] = []
    for claim in claims:
        if _EXPR.search(claim.output):
            templated.append(claim)
        else:
            static.setdefault(claim.output, []).append(claim)
    pairs: dict[tuple[str, str, str], tuple[_Claim, _Claim]] = {}

    def consider(a: _Claim, b: _Claim) -> None:
        if a.template == b.template or not _compatible(a, b):
            return
        first, second = sorted((a, b), key=lambda c: (c.template, c.output, c.descriptor.shown, c.key))
        pairs.setdefault((first.template, second.template, first.output + "\0" + second.output), (first, second))

    for group in static.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                consider(a, b)
    everything = [c for group in static.values() for c in group] + templated
    for index, a in enumerate(templated):
        for b in everything[: len(everything) - len(templated) + index]:
            if _may_intersect(a.output, b.output) and patterns_intersect(a.output, b.output):
                consider(a, b)
    findings: list[Finding] = []
    for first, second in pairs.values():
        definite = first.output == second.output
        findings.append(Finding(
            code="COVERAGE-OUTPUT-COLLISION",
            message=(f"{first.template} ({first.who()}) and {second.template} ({second.who()}) "
                     + (f"both render to {first.output}" if definite else
                        f"can render to one path: {first.output} vs {second.output}")),
            check=CHECK, path=second.descriptor.shown, line=second.descriptor.line(second.key),
            owner=", ".join(sorted({first.descriptor.name, second.descriptor.name})),
            file=_file(second.descriptor.shown),
            related=_claim_places([first]) + tuple(
                Location(_join(shown_templates, c.template), 1, "template") for c in (first, second)
                if _file(_join(shown_templates, c.template))),
            severity=Severity.ERROR if definite else Severity.WARNING,
            hint=("give each template its own output path, or make their conditions exclusive" if definite else
                  "only a config value can make these collide; keep such values distinct (the renderer refuses "
                  "a plan that writes one output twice)"),
            extra={"descriptors": sorted({first.descriptor.shown, second.descriptor.shown}),
                   "templates": [first.template, second.template], "outputs": [first.output, second.output]},
        ))
    return findings
