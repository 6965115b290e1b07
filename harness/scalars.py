"""Scalars as kustomize reads them: the values the YAML comparison compares.

kustomize (``kubectl kustomize``, Flux's kustomize-controller) reads manifests with go-yaml v3 and hands
resources on as JSON (a patch, a transformer, the apply). So two scalars are the same value exactly when
go-yaml v3 resolves them to the same JSON value:

- ``null``/``Null``/``NULL``/``~``/empty are null; only ``true``/``True``/``TRUE`` and the ``false`` forms
  are booleans -- ``on``, ``off``, ``yes``, ``no``, ``y``, ``n`` are strings (YAML 1.2);
- integers as Go's ``strconv.ParseInt(s, 0, 64)`` reads them after every ``_`` is dropped: ``+1``, ``1_000``,
  ``0x1F``, ``0o17``, ``0b101`` and the YAML 1.1 octal ``017``; ``09`` is not an octal, so it is the
  float 9;
- floats of the form ``[-+]?(.d+|d+(.d*)?)([eE][-+]?d+)?`` (``1e3``, ``1.``, ``.5``) and ``.inf``/``.nan``
  forms; JSON does not tell ``1.0`` from ``1``, so an integral float is the integer;
- timestamps (``2001-12-14``, ``2001-12-14T21:59:43.1-05:00``, ``2001-12-14 21:59:43``) are the RFC 3339
  text Go's JSON writes for them (``2001-12-14T00:00:00Z``);
- everything else -- sexagesimal ``1:00``, ``=``, ``1e3x`` -- is a string. Quoted scalars are strings.

``tests/harness/test_scalars_kustomize.py`` holds this equal to the real ``kubectl kustomize`` on a table
of tricky scalars. Mapping keys are read with the same rules (kustomize keeps a key's text; keys that
differ only in spelling, like ``1`` and ``"1"``, are rare in manifests and are compared as read here).
Explicitly tagged scalars (``!!str 1``) and documents with anchors take the full loader, whose values are
then brought to the same JSON model.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from harness.yamlfast import PlainScalars, load_plain
from harness.yamlio import DEFAULT_MAX_NODES, load_documents_with

PLAIN_TAG = "tag:overlay-parity.invalid,2026:plain"
_MERGE = "<<"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_SPECIAL_FLOATS = {**dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
                   **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
                   **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf)}
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})(?:[.,](?P<frac>[0-9]+))?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?)?\Z")
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
_INT64 = 1 << 63
_UINT64 = 1 << 64


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, falling back to ``ParseUint`` as go-yaml does; None if neither reads it."""
    sign, body = 1, text
    if body[:1] in "+-":
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base = 10
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base, body = {"0x": 16, "0o": 8, "0b": 2}[prefix], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, body = 8, body[1:]
    if not body or any(c not in _DIGITS[base] for c in body):
        return None
    value = sign * int(body, base)
    if -_INT64 <= value < _INT64:
        return value
    if text[:1] not in "+-" and value < _UINT64:
        return value
    return None


def _timestamp(text: str) -> str | None:
    """go-yaml v3's timestamp forms, as the RFC 3339 text Go's JSON writes for them (None: not a timestamp)."""
    match = _TIMESTAMP.match(text)
    if match is None or (match["sep"] in ("T", "t") and match["tz"] is None) or (match["sep"] == " " and match["tz"]):
        return None
    try:
        date = dt.date(int(match["y"]), int(match["mo"]), int(match["d"]))
        clock = dt.time(int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0))
    except ValueError:
        return None
    frac = (match["frac"] or "")[:9].rstrip("0")
    zone = match["tz"] or "Z"
    if zone in ("+00:00", "-00:00"):
        zone = "Z"
    return f"{date.isoformat()}T{clock.isoformat()}{'.' + frac if frac else ''}{zone}"


def _number(value: float) -> int | float:
    """A JSON number: an integral float is the integer."""
    if math.isfinite(value) and value == int(value) and abs(value) < _UINT64:
        return int(value)
    return value


def kustomize_value(text: str) -> Any:
    """The value kustomize reads for a plain (unquoted, untagged) scalar (see the module docstring)."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        return float(text) if _DOT_FLOAT.match(text) else text
    if first not in "+-0123456789":
        return text
    stamp = _timestamp(text)
    if stamp is not None:
        return stamp
    plain = text.replace("_", "")
    number = _go_parse_int(plain) if plain else None
    if number is not None:
        return number
    if _YAML_FLOAT.match(plain):
        return _number(float(plain))
    return text


def json_model(value: Any) -> Any:
    """Loaded data (explicit tags, anchors) brought to kustomize's JSON model: timestamps as RFC 3339 text,
    integral floats as integers."""
    if isinstance(value, dict):
        return {json_model(k): json_model(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_model(v) for v in value]
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dt.datetime):
        zone = "Z" if value.utcoffset() in (None, dt.timedelta(0)) else value.isoformat()[-6:]
        frac = f"{value.microsecond:06d}".rstrip("0")
        return f"{value.strftime('%Y-%m-%dT%H:%M:%S')}{'.' + frac if frac else ''}{zone}"
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    return value


class _KustomizeResolver(VersionedResolver):
    """Every plain scalar but the merge key resolves to :data:`PLAIN_TAG`, read by :func:`kustomize_value`."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0] and value != _MERGE:
            return PLAIN_TAG
        return super().resolve(kind, value, implicit)


class _KustomizeConstructor(SafeConstructor):
    """The safe constructors plus :data:`PLAIN_TAG` (a class of its own: ruamel's ``add_constructor`` changes the
    class it is called on, and the other loaders share :class:`SafeConstructor`)."""


def _construct_plain(constructor: Any, node: Any) -> Any:
    return kustomize_value(str(node.value))


_KustomizeConstructor.add_constructor(PLAIN_TAG, _construct_plain)


_local = threading.local()


def _loader() -> tuple[YAML, PlainScalars]:
    found: tuple[YAML, PlainScalars] | None = getattr(_local, "loader", None)
    if found is None:
        loader = YAML(typ="safe", pure=False)
        loader.Resolver = _KustomizeResolver
        loader.Constructor = _KustomizeConstructor
        found = _local.loader = (loader, PlainScalars(loader))
    return found


def load_as_kustomize(text: str, name: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> list[Any]:
    """Every non-empty document of ``text`` with scalars as kustomize reads them; bad YAML raises the located
    InputError of :mod:`harness.yamlio` (syntax, depth, alias bombs, duplicate keys)."""
    loader, scalars = _loader()
    fast = load_plain(text, scalars, max_nodes=max_nodes)
    if fast is not None:
        return fast
    return [json_model(d) for d in load_documents_with(loader, text, name, max_nodes=max_nodes)]
