"""Flux post-build variable substitution (``spec.postBuild``), with kustomize-controller's semantics.

- Variables come from ``substituteFrom`` (ConfigMaps and Secrets in the Kustomization's namespace, later
  entries overriding earlier ones; ``optional: true`` tolerates an absent object) and then ``substitute``
  (which wins). Values lose their newlines. Names must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$``.
- Substitution runs only when at least one variable or substituteFrom entry is defined, and never on an
  object labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled``.
- ``${var}`` is replaced (bash forms like ``${var:=default}``, ``${var:-default}``, ``${var/a/b}`` too);
  ``$var`` without braces is left alone; ``$${var}`` is the escape and becomes ``${var}``. An undefined
  variable without a default becomes an empty string (an error under ``StrictPostBuildSubstitutions``),
  so the policy reports it (POLICY-SUBSTITUTION).

Secret values are never used: a variable from a Secret is substituted with a ``[secret:NAME]`` marker, so
no secret value can reach a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

VAR_NAME = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
_EXPR = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_NAME_PREFIX = re.compile(r"^(#?)([_A-Za-z][_A-Za-z0-9]*)(.*)$", re.DOTALL)
_DEFAULT_OPS = (":=", ":-", "=", "-")


@dataclass(frozen=True)
class Reference:
    """One ``${...}`` expression: the variable, whether it carries a default, and the text as written."""

    name: str
    has_default: bool
    text: str


def _parse(inner: str) -> tuple[str, bool, str] | None:
    match = _NAME_PREFIX.match(inner)
    if not match:
        return None
    length, name, rest = match.groups()
    has_default = not length and rest.startswith(_DEFAULT_OPS)
    default = ""
    if has_default:
        op = next(o for o in _DEFAULT_OPS if rest.startswith(o))
        default = rest[len(op):]
    return name, has_default, default


def references(text: str) -> Iterator[Reference]:
    """Every variable reference in a string (escaped ``$${...}`` skipped)."""
    for match in _EXPR.finditer(text):
        if match.group(0) == "$${":
            continue
        parsed = _parse(match.group(1))
        if parsed is not None:
            yield Reference(parsed[0], parsed[1], match.group(0))


def disabled(data: dict[str, Any]) -> bool:
    """The object opts out of substitution by label or annotation."""
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return False
    for key in ("labels", "annotations"):
        values = metadata.get(key)
        if isinstance(values, dict) and values.get(DISABLE_KEY) == "disabled":
            return True
    return False


def _replace_string(text: str, variables: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        parsed = _parse(match.group(1))
        if parsed is None:
            return match.group(0)
        name, has_default, default = parsed
        if name in variables:
            return variables[name]
        return default if has_default else ""

    return _EXPR.sub(one, text)


def _scalar(original: str, replaced: str) -> Any:
    """A whole-value substitution reads back as YAML would (``"3"`` stays text unless it was one expression)."""
    whole = _EXPR.fullmatch(original) is not None and not original.startswith("$$")
    if not whole:
        return replaced
    if replaced in ("true", "false"):
        return replaced == "true"
    if re.fullmatch(r"-?[0-9]+", replaced):
        return int(replaced)
    return replaced


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """A copy of ``value`` with every string (keys included) substituted."""
    if isinstance(value, dict):
        return {(_replace_string(k, variables) if isinstance(k, str) else k): substitute(v, variables)
                for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, str) and "${" in value:
        return _scalar(value, _replace_string(value, variables))
    return value


def unresolved(value: Any, variables: dict[str, str]) -> list[str]:
    """Names referenced without a value and without a default, in first-seen order."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                walk(key)
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and "${" in node:
            for ref in references(node):
                if not ref.has_default and ref.name not in variables:
                    found.setdefault(ref.name, None)

    walk(value)
    return list(found)


def clean_value(value: str) -> str:
    """A variable value as kustomize-controller uses it (newlines removed)."""
    return value.replace("\n", "")
