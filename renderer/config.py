"""The typed cluster config: load ``.<cluster>-config.yaml``, validate it, type it, enforce the trust policy.

Loading is one pass that reports every problem at once: the file is read with
:func:`harness.yamlio.load_located` (the round-trip loader's data and lines, from the C parser for plain
YAML, so every problem has a line; duplicate keys are errors), validated against the JSON Schema in
``renderer/schema/cluster-config.schema.json`` (Draft 2020-12), checked against the file name, typed into
frozen dataclasses and finally checked by the trust policy (:mod:`renderer.trust`).

Error messages name key paths and problems, never values: a config carries trust-bearing strings
(repository credentials under ``secrets``), so no string from the file is ever echoed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import jsonschema_rs
from ruamel.yaml.comments import TaggedScalar

from harness.errors import InputError, InputErrors
from harness.keypath import key_path_text
from harness.user_regex import search
from harness.yamlio import key_lines, line_of, load_located, read_text
from renderer.config_model import (
    BaseRepoConfig,
    ClusterConfig,
    ClusterInfo,
    CustomerManagedConfig,
    FluxConfig,
    GitOpsConfig,
    KeyPath,
    KustomizationConfig,
    MetaConfig,
    RepositoryConfig,
    RepositoryCredentials,
    SecretsConfig,
    ServiceConfig,
    SopsConfig,
    SopsRule,
)
from renderer.trust import check_trust

if TYPE_CHECKING:
    from jsonschema import ValidationError

CONFIG_INVALID = "CONFIG-INVALID"
DEFAULT_CONFIG_MAX_BYTES = 1024 * 1024
SCHEMA_RESOURCE = "schema/cluster-config.schema.json"

_FILE_NAME = re.compile(r"^\.(?P<cluster>[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)-config\.yaml$")
_FIELD_PATH = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HINT_SCHEMA = (
    "see renderer/schema/cluster-config.schema.json and testdata/relaypoint-logistics-shared/.k8s-dev-config.yaml"
)


# --------------------------------------------------------------------------------------------- schema


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("renderer").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)  # valid Draft 2020-12: tests/renderer/test_config.py checks it
    return schema


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """JSON Schema ``pattern``, matched with RE2 (:mod:`harness.user_regex`) instead of Python's ``re``."""
    if validator.is_type(instance, "string") and not search(pattern, instance):
        from jsonschema import ValidationError

        yield ValidationError(f"does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any,
                        schema: Any) -> Iterator[ValidationError]:
    """JSON Schema ``patternProperties``, keys matched with RE2."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The reference validator (jsonschema, ~40 ms to import): only a config the compiled validator refuses
    needs it, to word the problems."""
    from jsonschema import Draft202012Validator, validators

    config_validator: Any = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties})
    return config_validator(_schema())


def config_schema() -> dict[str, Any]:
    """The cluster-config JSON Schema (Draft 2020-12), as a fresh copy the caller may modify."""
    return copy.deepcopy(_schema())


def _deref(schema: Any, root: Mapping[str, Any]) -> Any:
    """Follow local ``$ref`` pointers (``#/...``) until a schema without ``$ref`` is reached."""
    seen: set[str] = set()
    while isinstance(schema, Mapping) and "$ref" in schema and len(schema) == 1:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise ValueError(f"unsupported $ref {ref!r} in the config schema")
        seen.add(ref)
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def _ref_target(ref: Any, root: Mapping[str, Any]) -> Any:
    return _deref({"$ref": ref}, root)


def _children(schema: Any, segment: str, root: Mapping[str, Any]) -> list[Any] | None:
    """Subschemas that apply to ``segment`` of an instance of ``schema``; None when it is not allowed."""
    schema = _deref(schema, root)
    if schema is True:
        return [{}]
    if schema is False or not isinstance(schema, Mapping):
        return None
    applied: list[Any] = []
    types = schema.get("type")
    type_set = {types} if isinstance(types, str) else set(types or ())
    if "items" in schema or "array" in type_set:
        if not segment.isdigit() or "items" not in schema:
            return None
        applied.append(schema["items"])
    elif type_set and "object" not in type_set:
        return None
    else:
        matched = False
        properties = schema.get("properties", {})
        if segment in properties:
            applied.append(properties[segment])
            matched = True
        for pattern, sub in schema.get("patternProperties", {}).items():
            if search(pattern, segment):
                applied.append(sub)
                matched = True
        if not matched:
            additional = schema.get("additionalProperties", True)
            if additional is False:
                return None
            applied.append({} if additional is True else additional)
    conjunctive = [schema[k] for k in ("then", "else") if k in schema] + list(schema.get("allOf", ()))
    if "$ref" in schema:
        conjunctive.append(_ref_target(schema["$ref"], root))
    for sub in conjunctive:
        found = _children(sub, segment, root)
        if found is None:
            return None
        applied.extend(found)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [b for b in (_children(s, segment, root) for s in schema[key]) if b is not None]
            if not branches:
                return None
            applied.extend(s for branch in branches for s in branch)
    return applied


@lru_cache(maxsize=4096)
def schema_has_field(dotted: str) -> bool:
    """True when the dotted field path (segments ``[a-z0-9_-]+``) can exist in a valid config.

    Resolves ``properties``, ``patternProperties`` and ``additionalProperties`` (open option maps
    accept any sub-path), through local ``$ref``, ``allOf``/``anyOf``/``oneOf`` and ``then``/``else``.
    Example: ``opencenter.services.harbor.certificate.enabled``.
    """
    if not _FIELD_PATH.match(dotted):
        return False
    root = _schema()
    schemas: list[Any] = [root]
    for segment in dotted.split("."):
        following: list[Any] = []
        for schema in schemas:
            found = _children(schema, segment, root)
            if found is None:
                return False
            following.extend(found)
        schemas = following
    return True


@lru_cache(maxsize=1024)
def _field_parts(dotted: str) -> tuple[str, ...]:
    parts = tuple(dotted.split("."))
    if not dotted or not all(parts):
        raise ValueError("field path must be non-empty dot-separated segments")
    return parts


def get_field(data: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    """Look up a dotted field path in plain config data: ``(exists, value)``; list items by index."""
    node: Any = data
    for part in _field_parts(dotted):
        if type(node) is dict or isinstance(node, Mapping):
            if part not in node:
                return False, None
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


# --------------------------------------------------------------------------------------------- loading


def dotted_path(path: KeyPath) -> str:
    """Render a key path as ``a.b[0].c`` (``(top level)`` when empty)."""
    return key_path_text(path, quote=False, empty="(top level)")


def _config_error(message: str, name: str, line: int = 0, hint: str = _HINT_SCHEMA) -> InputError:
    return InputError(CONFIG_INVALID, message, file=name, line=line, hint=hint)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dt.datetime | dt.date):
        return "timestamp"
    return type(value).__name__


def _key_label(key: str) -> str:
    return f"'{key}'" if _SAFE_KEY.match(key) else "a key with unusual characters"


class _Problem(NamedTuple):
    """One schema-level problem: where it is reported (``path``), what it is, and which key's line to cite."""

    path: KeyPath
    problem: str
    line_path: KeyPath | None = None


_PLAIN_SCALARS = frozenset({str, int, float, bool, bytes})


def _to_plain(node: Any, path: KeyPath, problems: list[_Problem]) -> Any:
    """Copy round-trip data into plain Python values; collect non-string keys and unknown tags."""
    if node is None or type(node) in _PLAIN_SCALARS:
        return node
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                problems.append(_Problem(path, f"has a key of type {_json_type(key)}; keys must be strings"))
                continue
            out[str(key)] = _to_plain(value, (*path, str(key)), problems)
        return out
    if isinstance(node, list):
        return [_to_plain(value, (*path, index), problems) for index, value in enumerate(node)]
    if isinstance(node, TaggedScalar):
        problems.append(_Problem(path, "uses a custom YAML tag; only plain YAML values are allowed"))
        return None
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, dt.datetime):
        return dt.datetime(node.year, node.month, node.day, node.hour, node.minute, node.second,
                           node.microsecond, node.tzinfo)
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    problems.append(_Problem(path, f"holds an unsupported YAML value of type {type(node).__name__}"))
    return None


def _describe(error: ValidationError) -> list[_Problem]:
    """Turn one jsonschema error into problems that never quote instance values (nor key names under secrets)."""
    path: KeyPath = tuple(error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        properties = schema.get("properties", {})
        patterns = list(schema.get("patternProperties", {}))
        extras = [k for k in instance if k not in properties and not any(search(p, k) for p in patterns)]
        known = sorted(properties)
        hint = f"; allowed keys: {', '.join(known)}" if known and len(known) <= 30 else ""
        if patterns and not known:
            hint = f"; keys must match {' or '.join(patterns)}"
        if path[:1] == ("secrets",):  # key names under secrets may be pasted material: never echo them
            return [_Problem(path, f"unknown key (name not shown under secrets){hint}", (*path, k)) for k in extras]
        return [_Problem(path, f"unknown key {_key_label(k)}{hint}", (*path, k)) for k in extras]
    if kind == "required" and isinstance(instance, Mapping):
        return [_Problem(path, f"missing required key '{k}'") for k in value if k not in instance]
    if kind == "type":
        wanted = " or ".join(value) if isinstance(value, list) else str(value)
        wanted = {"object": "mapping", "array": "list"}.get(wanted, wanted)
        return [_Problem(path, f"must be a {wanted}, not a {_json_type(instance)}")]
    if kind == "pattern":
        description = schema.get("description")
        extra = f" ({description})" if isinstance(description, str) and len(description) <= 80 else ""
        return [_Problem(path, f"must match pattern {value}{extra}")]
    if kind == "enum":
        return [_Problem(path, f"must be one of: {', '.join(json.dumps(v) for v in value)}")]
    if kind == "const":
        return [_Problem(path, f"must be {json.dumps(value)}")]
    messages = {
        "minLength": f"must be at least {value} characters long",
        "maxLength": f"must be at most {value} characters long",
        "minItems": f"must have at least {value} item(s)",
        "maxItems": f"must have at most {value} item(s)",
        "uniqueItems": "must not contain duplicate items",
        "minimum": f"must be >= {value}",
        "maximum": f"must be <= {value}",
        "exclusiveMinimum": f"must be > {value}",
        "exclusiveMaximum": f"must be < {value}",
        "minProperties": f"must have at least {value} key(s)",
        "maxProperties": f"must have at most {value} key(s)",
    }
    return [_Problem(path, messages.get(str(kind), f"violates schema rule '{kind}'"))]


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    return jsonschema_rs.validator_for(_schema())


def schema_valid_fast(data: Any) -> bool | None:
    """The compiled (Rust) validator's verdict on ``data``, or None when it cannot read the data (e.g. a
    date or an integer beyond 64 bits). Only a True verdict is used: every problem is described by the
    reference validator."""
    try:
        return bool(_fast_validator().is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return None


def _schema_problems(data: Any) -> list[_Problem]:
    if schema_valid_fast(data):
        return []
    problems: list[_Problem] = []
    for error in _validator().iter_errors(data):
        problems.extend(_describe(error))
    return problems


def _typed(path: Path, cluster: str, data: dict[str, Any], lines: dict[KeyPath, int]) -> ClusterConfig:
    oc = data["opencenter"]
    gitops = oc["gitops"]
    units = gitops.get("overlay_units", {})
    hosts = gitops.get("allowed_repository_hosts")

    def services(section: Mapping[str, Any]) -> dict[str, ServiceConfig]:
        return {
            name: ServiceConfig(name, bool(body["enabled"]), {k: v for k, v in body.items() if k != "enabled"})
            for name, body in section.items()
        }

    customer: CustomerManagedConfig | None = None
    if "customer_managed" in units:
        cm = units["customer_managed"]
        customer = CustomerManagedConfig(
            enabled=cm["enabled"],
            repository_name=cm.get("repository_name"),
            repository_url=cm.get("repository_url"),
            branch=cm.get("branch"),
            emit_secret=cm.get("emit_secret", False),
            secret_name=cm.get("secret_name"),
            kustomizations=tuple(
                KustomizationConfig(k["name"], k["path"], tuple(k.get("depends_on", ())))
                for k in cm.get("kustomizations", ())
            ),
        )
    sops: SopsConfig | None = None
    if "sops" in units:
        raw = units["sops"]
        sops = SopsConfig(
            enabled=raw["enabled"],
            rules=tuple(
                SopsRule(r["path_regex"], tuple(r["age_recipients"]), r.get("encrypted_regex"))
                for r in raw.get("rules", ())
            ),
        )
    credentials = {
        name: RepositoryCredentials(body.get("identity"), body.get("identity_pub"), body.get("known_hosts"))
        for name, body in data.get("secrets", {}).get("customer_managed", {}).items()
    }
    return ClusterConfig(
        path=path,
        cluster=cluster,
        data=data,
        meta=MetaConfig(**oc["meta"]),
        cluster_info=ClusterInfo(**oc["cluster"]),
        gitops=GitOpsConfig(
            repository=RepositoryConfig(**gitops["repository"]),
            base_repo=BaseRepoConfig(**gitops["base_repo"]),
            flux=FluxConfig(**gitops["flux"]),
            allowed_repository_hosts=tuple(hosts) if hosts is not None else None,
        ),
        services=services(oc["services"]),
        managed_services=services(oc.get("managed_services", {})),
        customer_managed=customer,
        sops=sops,
        secrets=SecretsConfig(credentials),
        lines=lines,
    )


def cluster_from_filename(path: Path) -> str | None:
    """The cluster named by a ``.<cluster>-config.yaml`` file name, or None if the name has another form."""
    match = _FILE_NAME.match(path.name)
    return match.group("cluster") if match else None


def _cluster_name_problem(data: Any, cluster: str, path: Path) -> _Problem | None:
    exists, cluster_name = get_field(data, "opencenter.cluster.name")
    if exists and isinstance(cluster_name, str) and cluster_name != cluster:
        return _Problem(("opencenter", "cluster", "name"),
                        f"must equal the cluster named by the file name ('{cluster}' from {path.name})")
    return None


def load_config(path: Path, *, max_bytes: int = DEFAULT_CONFIG_MAX_BYTES) -> ClusterConfig:
    """Load, validate and type one cluster config; the cluster name comes from the file name.

    Raises :class:`InputError` for unreadable files and YAML syntax (``FILE-*``, ``YAML-*``), and
    :class:`InputErrors` listing every problem for schema violations (``CONFIG-INVALID``) or, once the
    schema holds, every trust-policy violation (``CONFIG-TRUST-POLICY``). Each error has file and line.
    """
    path = Path(path)
    name = str(path)
    cluster = cluster_from_filename(path)
    if cluster is None:
        raise InputErrors([_config_error(
            "config file name must be .<cluster>-config.yaml with a DNS-1123 cluster name", name,
            hint="rename the file, e.g. .k8s-dev-config.yaml")])
    return config_from_text(path, cluster, read_text(path, max_bytes=max_bytes, display=name))


_CUSTOMER_MANAGED: KeyPath = ("opencenter", "gitops", "overlay_units", "customer_managed")
RESERVED_OUTPUT_NAMES = frozenset({"kustomization"})
"""File stems every rendered layer directory already uses (``sources/kustomization.yaml``, the aggregate)."""


def _output_name_problems(data: Mapping[str, Any]) -> list[_Problem]:
    """Config names that become output file names (``customer-managed/sources/<repository_name>.yaml``,
    ``.../<secret_name>.yaml``, ``customer-managed/fluxcd/<kustomizations[].name>.yaml``) but collide with a
    fixed output or with each other: a config error at the name's line, before any planning."""
    found, cm = get_field(data, "opencenter.gitops.overlay_units.customer_managed")
    if not found or not isinstance(cm, Mapping) or cm.get("enabled") is not True:
        return []
    problems: list[_Problem] = []
    names: list[tuple[KeyPath, Any]] = [((*_CUSTOMER_MANAGED, "repository_name"), cm.get("repository_name"))]
    if cm.get("emit_secret") is True:
        names.append(((*_CUSTOMER_MANAGED, "secret_name"), cm.get("secret_name")))
    for key_path, name in names:
        if isinstance(name, str) and name in RESERVED_OUTPUT_NAMES:
            problems.append(_Problem(key_path, f"'{name}' is reserved: customer-managed/sources/{name}.yaml is "
                                               "the directory's aggregate; choose another name"))
    if len(names) == 2 and isinstance(names[0][1], str) and names[0][1] == names[1][1]:
        problems.append(_Problem(names[1][0], "equals repository_name: the Secret and the GitRepository would "
                                              "be written to the same file; choose another name"))
    units = cm.get("kustomizations")
    for index, unit in enumerate(units if isinstance(units, list) else []):
        name = unit.get("name") if isinstance(unit, Mapping) else None
        if isinstance(name, str) and name in RESERVED_OUTPUT_NAMES:
            problems.append(_Problem((*_CUSTOMER_MANAGED, "kustomizations", index, "name"),
                                     f"'{name}' is reserved: customer-managed/fluxcd/{name}.yaml is the "
                                     "directory's aggregate; choose another name"))
    return problems


def config_from_text(path: Path, cluster: str, text: str, *,
                     load: Callable[[str, str], Any] = load_located) -> ClusterConfig:
    """:func:`load_config` for the text of ``path``; raises every problem found, each with its line.

    ``load`` reads the YAML: :func:`harness.yamlio.load_located`, or the round-trip loader it stands in
    for (:func:`harness.yamlio.load_roundtrip`, the reference the tests hold it to).
    """
    name = str(path)
    raw = load(text, name)
    if raw is None:
        raise InputErrors([_config_error("config file is empty", name, hint="start from .k8s-dev-config.yaml")])
    if not isinstance(raw, Mapping):
        raise InputErrors([_config_error(
            f"top level must be a mapping with an 'opencenter' key, not a {_json_type(raw)}", name, line=1)])

    problems: list[_Problem] = []
    data = _to_plain(raw, (), problems)
    if not problems:
        problems = _schema_problems(data)
        mismatch = _cluster_name_problem(data, cluster, path)
        if mismatch is not None:
            problems.append(mismatch)
        problems.extend(_output_name_problems(data))
    if problems:
        errors: list[InputError] = []
        seen: set[tuple[int, str]] = set()
        for key_path, problem, line_path in problems:
            line = line_of(raw, line_path or key_path) or 1
            message = f"{dotted_path(key_path)}: {problem}"
            if (line, message) not in seen:
                seen.add((line, message))
                errors.append(_config_error(message, name, line))
        errors.sort(key=lambda e: (e.location.line if e.location else 0, e.message))
        raise InputErrors(errors)

    lines = key_lines(raw)
    config = _typed(path, cluster, data, lines)
    violations = check_trust(config)
    if violations:
        raise InputErrors(violations)
    return config
