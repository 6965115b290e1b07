"""Scan one file's text or bytes: pre-filter, then (only on a match) find key material, parse YAML for
key paths and the Secret-value policy, and turn what was found into findings.

One key, one finding: the same material found through several layers or at several places of a file is
reported once, at its first place, with every place in ``extra["positions"]`` (line, key path, layer).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError
from harness.findings import Finding
from harness.secrets.base64runs import FOLDED_RE
from harness.secrets.generators import GeneratorInput, generator_inputs, literal_findings
from harness.secrets.keys import marker_re
from harness.secrets.material import KeyMatch, find_key_occurrences
from harness.secrets.model import CHECK, HINTS, Located, key_text
from harness.secrets.policy import has_sops_metadata, secret_documents, secret_policy
from harness.secrets.prefilter import SECRET_KIND, has_escapes, prefilter

if TYPE_CHECKING:
    from harness.yamlio import DocumentMemo

YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
_SPACED_BASE64 = re.compile(r"[A-Za-z0-9+/_=\s-]{20,}")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_BOM_STARTS = frozenset(bom[:1] for bom, _ in _BOMS)


@dataclass(frozen=True)
class _Place:
    """One occurrence of a key: where (line, or document and key path) and through which layers."""

    match: KeyMatch
    line: int = 0
    doc: int = -1
    key: tuple[str | int, ...] = ()
    suffix: str = ""


def key_finding(match: KeyMatch, where: str) -> tuple[str, str]:
    """(code, message) of a key finding; ``where`` says where it is (`` in data.x``)."""
    code = "SECRET-REAL-KEY" if match.real else "SECRET-PRIVATE-KEY"
    what = f"real {match.label}" if match.real else f"private-key marker ({match.label})"
    return code, f"{what}{where}, layer {match.layer}"


def scan_text(text: str, name: str, *, as_yaml: bool | None = None, policy: bool = True) -> list[Finding]:
    """Scan one file's text (``name`` is shown in findings). YAML parsing (key paths, Secret policy) is
    used when ``as_yaml`` is true, or by default for ``.yaml/.yml/.json`` names and ``kind: Secret`` texts."""
    try:
        data = text.encode("utf-8", "surrogateescape")  # undoes a surrogateescape decode
    except UnicodeEncodeError:  # a lone surrogate outside that range (e.g. from a "\ud800" escape)
        data = text.encode("utf-8", "surrogatepass")
    return _scan(data, name, as_yaml=as_yaml, text=text, policy=policy)


def scan_bytes(data: bytes, name: str, *, as_yaml: bool | None = None, policy: bool = True,
               generator_inputs_out: list[GeneratorInput] | None = None,
               memo: DocumentMemo | None = None) -> list[Finding]:
    """Scan one file's bytes: pre-filter, then (only on a match) decode, parse and check. ``policy``: also
    apply the Secret-value policy (fixture files); key material is looked for either way. UTF-16 and
    UTF-32 files (with a byte order mark, as YAML allows) are read as text first. The secretGenerator
    inputs of the parsed documents go to ``generator_inputs_out`` when given (policy scans only). ``memo``:
    parsed documents by text, shared by the files of one scan (a fleet repeats its kustomizations)."""
    for bom, codec in _BOMS if data[:1] in _BOM_STARTS else ():
        if data.startswith(bom):
            try:
                return scan_text(data.decode(codec), name, as_yaml=as_yaml, policy=policy)
            except UnicodeDecodeError:
                break
    return _scan(data, name, as_yaml=as_yaml, policy=policy, generator_inputs_out=generator_inputs_out, memo=memo)


def _scan(data: bytes, name: str, *, as_yaml: bool | None, text: str | None = None, policy: bool = True,
          generator_inputs_out: list[GeneratorInput] | None = None, memo: DocumentMemo | None = None) -> list[Finding]:
    reasons = prefilter(data)
    if not policy:
        reasons.discard("secret")
    if not reasons:
        return []
    may_be_secret = "secret" in reasons
    looks_secret = may_be_secret and SECRET_KIND.search(data) is not None
    yaml_text: str | None = text
    if yaml_text is None:
        try:
            yaml_text = data.decode("utf-8")
        except UnicodeDecodeError:
            yaml_text = None
    scan_as_text = yaml_text if yaml_text is not None else data.decode("latin-1")
    text_matches = find_key_occurrences(scan_as_text) if reasons & {"literal", "encoded"} else []
    if as_yaml is None:
        as_yaml = _suffix(name).lower() in YAML_SUFFIXES or looks_secret
    wants_yaml = as_yaml and (may_be_secret or bool(text_matches))  # parse only for policy or key paths
    located: list[Located] = []
    findings: list[Finding] = []
    docs: list[Any] | None = None
    if wants_yaml and yaml_text is not None:
        from harness.yamlio import load_documents

        try:
            docs = load_documents(yaml_text, name) if memo is None else memo.documents(yaml_text, name)
        except InputError as exc:
            if looks_secret:
                findings.append(Finding(
                    code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                    line=exc.location.line if exc.location else 0,
                    message=f"looks like a Secret but does not parse as YAML ({exc.code}); its values cannot be "
                            "checked", hint=HINTS["SECRET-UNSCANNABLE"]))
    elif looks_secret and yaml_text is None:
        findings.append(Finding(code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                                message="looks like a Secret but is not UTF-8 text; its values cannot be checked",
                                hint=HINTS["SECRET-UNSCANNABLE"]))
    places = [_Place(match, line=scan_as_text.count("\n", 0, match.start) + 1) for match in text_matches]
    # a value holds key material only if the text does, unless escapes in it spell what its bytes do not show
    values_may_hold_keys = bool(reasons & {"literal", "encoded"}) or has_escapes(data)
    if docs is not None:
        multi = len(docs) > 1
        for number, doc in enumerate(docs):
            suffix = f" (document {number + 1})" if multi else ""
            if values_may_hold_keys:
                places.extend(_document_places(doc, number, suffix))
            if generator_inputs_out is not None and policy:
                generator_inputs_out.extend(generator_inputs(doc))
            if policy:
                for path, secret in secret_documents(doc):
                    located.extend(secret_policy(secret, path, number, suffix, encrypted=has_sops_metadata(doc)))
                located.extend(literal_findings(doc, number, suffix))
    lines = _RoundTripLines(yaml_text or "")
    findings.extend(_key_findings(places, name, lines))
    for item in located:
        findings.append(Finding(code=item.code, message=item.message, check=CHECK, path=name,
                                line=lines.line(item.doc, item.key), hint=item.hint, extra=item.extra))
    return sorted(findings, key=lambda f: (f.line, f.code, f.extra.get("key_path", ""), f.message))


def _suffix(name: str) -> str:
    """``Path(name).suffix`` without building the path, for a plain POSIX name (most of a scan's)."""
    if os.sep != "/" or "/." in name or name.endswith("/"):
        return Path(name).suffix  # a dot component, a trailing slash or another separator: as pathlib says
    base = name.rpartition("/")[2]
    dot = base.rfind(".")
    return base[dot:] if 0 < dot < len(base) - 1 else ""


def _document_places(doc: Any, number: int, suffix: str) -> list[_Place]:
    from harness.yamlio import iter_paths  # loaded already: the document was parsed with it

    places: list[_Place] = []
    for key, value in iter_paths(doc):
        if not isinstance(value, str) or len(value) < 15:
            continue
        found = {match.fingerprint: match for view in _value_views(value) for match in find_key_occurrences(view)}
        if any(match.real for match in found.values()):  # a marker beside a real key in one value: a fragment
            found = {fp: match for fp, match in found.items() if match.real}  # of it read out of alignment
        places.extend(_Place(match, doc=number, key=key, suffix=suffix) for match in found.values())
    return places


def _key_findings(places: list[_Place], name: str, lines: _RoundTripLines) -> list[Finding]:
    """One finding per key (fingerprint), at its first place, listing every place. Where the YAML parse
    placed a key (with key paths), its places in the raw text are the same places, so they are not added."""
    real_yaml_lines = sorted((lines.line(p.doc, p.key), p.match.real) for p in places if p.doc >= 0)
    by_key: dict[str, list[_Place]] = {}
    for place in places:
        if place.doc < 0 and not place.match.real and _inside_real_value(place.line, real_yaml_lines):
            continue  # a piece of a real key's value decoded out of alignment in the raw text
        by_key.setdefault(place.match.fingerprint, []).append(place)
    findings: list[Finding] = []
    for fingerprint_, found in by_key.items():
        in_yaml = [place for place in found if place.doc >= 0]
        entries = sorted({(lines.line(p.doc, p.key) if p.doc >= 0 else p.line, key_text(p.key), p.match.layer,
                           p.doc + 1): p for p in (in_yaml or found)}.items(), key=lambda item: item[0])
        (line, key_path, _, _), first = entries[0]
        where = f" in {key_path}{first.suffix}" if key_path else ""
        code, message = key_finding(first.match, where)
        if len(entries) > 1:
            message += f" (and {len(entries) - 1} more place(s) in this file, see positions)"
        extra: dict[str, Any] = {"layer": first.match.layer, "key_path": key_path, "fingerprint": fingerprint_,
                                 "digest": first.match.digest,
                                 "key_type": first.match.label,
                                 "positions": [_position(*at) for at, _ in entries]}
        if first.doc >= 0:
            extra["document"] = first.doc + 1
        findings.append(Finding(code=code, message=message, check=CHECK, path=name, line=line, hint=HINTS[code],
                                extra=extra))
    return findings


def _inside_real_value(line: int, yaml_lines: list[tuple[int, bool]]) -> bool:
    """Whether the YAML value nearest above ``line`` (the one a raw-text place on it belongs to) holds a
    real key: a marker found there in the raw text is a fragment of that key, not a key of its own."""
    above = [real for at, real in yaml_lines if 0 < at <= line]
    return bool(above) and above[-1]


def _position(line: int, key_path: str, layer: str, document: int) -> dict[str, Any]:
    position: dict[str, Any] = {"line": line, "key_path": key_path, "layer": layer}
    if document:
        position["document"] = document
    return position


def _value_views(value: str) -> list[str]:
    """How a YAML string value is read for keys: as it is; with base64 lines that a folded (``>``) or
    multi-line plain scalar joined with spaces put back on their lines (same length, so spans hold); and,
    when it is base64 with whitespace anywhere inside, with the whitespace taken out."""
    views = [value]
    if " " in value and FOLDED_RE.fullmatch(value) and not marker_re().search(value):
        views[0] = value.replace(" ", "\n")
    if _SPACED_BASE64.fullmatch(value) and any(c.isspace() for c in value.strip()):
        views.append("".join(value.split()))
    return views


class _RoundTripLines:
    """Line numbers of key paths, from a round-trip parse done once and only when a finding needs one."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._docs: list[Any] | None = None

    def line(self, doc: int, key: tuple[str | int, ...]) -> int:
        """The 1-based line of ``key`` in document ``doc`` (of its deepest part found; 0 when unknown)."""
        if self._docs is None:
            self._docs = self._load()
        if doc >= len(self._docs):
            return 0
        from harness.yamlio import line_of

        node = self._docs[doc]
        line = line_of(node, key)
        if not line:
            lc = getattr(node, "lc", None)
            line = int(lc.line) + 1 if lc is not None else 0
        return line

    def _load(self) -> list[Any]:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            loader = YAML(typ="rt")
            return [d for d in loader.load_all(self._text) if d is not None]
        except (YAMLError, RecursionError, ValueError, IndexError):  # IndexError: ruamel on ``0o_`` (YAML 1.2)
            return []
