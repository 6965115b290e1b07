"""Trust policy for cluster configs: repository transport and hosts, customer-managed units, SOPS, secrets.

These fields decide where a cluster pulls code from, which credentials are rendered and what gets
encrypted, so they get rules beyond the JSON Schema. :func:`check_trust` returns every violation at
once (code ``CONFIG-TRUST-POLICY``, file and line each). Messages name key paths, never values.

Rules:
- repository URLs (``gitops.repository``, ``gitops.base_repo``, ``customer_managed.repository_url``)
  use ``ssh://`` or ``https://`` only, name a valid host and a path, embed no password (and no user
  at all over https), carry no query or fragment;
- with ``gitops.allowed_repository_hosts``, every repository host must be listed there;
- customer-managed ``repository_name``, ``secret_name`` and Kustomization names are DNS-1123 labels;
  Kustomization names are unique, paths start with ``/`` and have no ``..`` segment, ``depends_on``
  names existing Kustomizations (not itself) and forms no cycle;
- ``emit_secret`` only over ssh, with ``secret_name`` and ``secrets.customer_managed.<repository_name>``
  ``identity``, ``identity_pub`` and ``known_hosts``;
- SOPS enabled needs at least one rule; every ``path_regex``/``encrypted_regex`` compiles in Python
  and stays inside what Go's RE2 (sops) accepts; every rule has recipients, each a well-formed
  ``age1...`` Bech32 X25519 recipient;
- every value under ``secrets`` is ``PLACEHOLDER-...``, SOPS-encrypted (``ENC[AES256_GCM,...]``) or
  a reference ``ref+<backend>://...`` (e.g. ``ref+vault://kv/customer#identity``), never a literal.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from harness.bech32 import age_recipient_problem
from harness.errors import InputError
from harness.keypath import key_path_text
from harness.user_regex import regex_problem

if TYPE_CHECKING:
    from renderer.config_model import ClusterConfig, CustomerManagedConfig, SopsConfig

TRUST_POLICY = "CONFIG-TRUST-POLICY"
ALLOWED_SCHEMES = ("ssh", "https")
SECRET_FIELDS = ("identity", "identity_pub", "known_hosts")

DNS_1123_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_HOSTNAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*$")

PLACEHOLDER_VALUE = re.compile(r"^PLACEHOLDER-[A-Za-z0-9_.-]{1,64}$")
SOPS_VALUE = re.compile(
    r"^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,"
    r"type:(?:str|int|float|bool|bytes|comment)\]$"
)
REFERENCE_VALUE = re.compile(r"^ref\+[a-z][a-z0-9]{1,31}://[A-Za-z0-9._~/:#?&=%+@-]{1,512}$")

_OVERLAY_UNITS = ("opencenter", "gitops", "overlay_units")
_CM = (*_OVERLAY_UNITS, "customer_managed")
_SOPS = (*_OVERLAY_UNITS, "sops")
_HOSTS = ("opencenter", "gitops", "allowed_repository_hosts")

KeyPath = tuple[str | int, ...]
_HINTS = {
    "url": "use ssh://git@<host>/<org>/<repo>.git or https://<host>/<org>/<repo>.git",
    "host": "add the host to opencenter.gitops.allowed_repository_hosts after review, or use an approved host",
    "name": "use a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
    "path": "use an absolute path inside the customer repository, e.g. /apps/dev",
    "secret": "add identity, identity_pub and known_hosts under secrets.customer_managed.<repository_name>",
    "regex": "use a regex both Python and Go's RE2 (sops) accept: no lookarounds or backreferences",
    "recipient": "use the public 'age1...' line printed by age-keygen",
    "value": "use PLACEHOLDER-<WHAT> in fixtures, a SOPS ENC[...] value, or a ref+<backend>://... reference",
    "depends": "list names of other Kustomizations of this list in depends_on, without cycles",
    "emit": "use an ssh:// repository_url with emit_secret, or set emit_secret: false",
    "secret_name": "set secret_name to the DNS-1123 name of the Secret that holds the repository credentials",
    "rules": "add a rule with path_regex and age_recipients, or set enabled: false",
}


def is_secret_value_allowed(value: str) -> bool:
    """True when a ``secrets`` value is a placeholder, a SOPS-encrypted value or a ``ref+`` reference."""
    return any(p.match(value) for p in (PLACEHOLDER_VALUE, SOPS_VALUE, REFERENCE_VALUE))


def _dotted(path: KeyPath) -> str:
    return key_path_text(path, quote=False)


class _Collector:
    """Accumulates violations with the file and line of the offending key."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.errors: list[InputError] = []

    def add(self, path: KeyPath, problem: str, hint: str) -> None:
        self.errors.append(InputError(
            TRUST_POLICY, f"{_dotted(path)}: {problem}", file=self.config.path,
            line=self.config.line_of(path), hint=_HINTS[hint],
        ))


# ----------------------------------------------------------------------------------------- repositories


def _split(url: str) -> tuple[SplitResult | None, str | None]:
    """Parse a repository URL; returns (parts, None) or (None, problem)."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None, "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a malformed port
    except ValueError:
        return None, "is not a valid URL"
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return None, "must use the ssh:// or https:// scheme (scp-style, http, git and file transports are refused)"
    return parts, None


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host)) and len(host) <= 253
    return True


def repository_url_problems(url: str) -> tuple[list[str], str | None, str | None]:
    """Check one repository URL: (problems, scheme, host); scheme/host are None when unusable."""
    parts, problem = _split(url)
    if parts is None:
        return [problem or "is not a valid URL"], None, None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not host:
        return [f"{scheme} URL must name a host"], scheme, None
    problems: list[str] = []
    if not _valid_host(host):
        problems.append("host is not a valid DNS name or IP address")
    if parts.password is not None:
        problems.append("must not embed a password or token")
    elif scheme == "https" and parts.username is not None:
        problems.append("https URL must not embed credentials (Flux takes them from a secretRef)")
    if parts.path in ("", "/"):
        problems.append("must name a repository path")
    if parts.query or parts.fragment:
        problems.append("must not have a query or fragment")
    return problems, scheme, host


def _check_url(out: _Collector, path: KeyPath, url: str | None) -> str | None:
    """Report URL problems and allowlist misses; return the scheme (None when unusable)."""
    if url is None:
        return None
    problems, scheme, host = repository_url_problems(url)
    for problem in problems:
        out.add(path, problem, "url")
    allowed = out.config.gitops.allowed_repository_hosts
    if host is not None and allowed is not None and host.lower() not in {h.lower() for h in allowed}:
        out.add(path, f"host is not in {_dotted(_HOSTS)}", "host")
    return scheme


# ----------------------------------------------------------------------------------------- customer-managed


def _check_kustomizations(out: _Collector, cm: CustomerManagedConfig) -> None:
    names: dict[str, int] = {}
    for index, unit in enumerate(cm.kustomizations):
        base = (*_CM, "kustomizations", index)
        if not DNS_1123_LABEL.match(unit.name):
            out.add((*base, "name"), "must be a DNS-1123 label", "name")
        elif unit.name in names:
            out.add((*base, "name"), f"duplicates the name of kustomizations[{names[unit.name]}]", "name")
        else:
            names[unit.name] = index
        out_path = (*base, "path")
        if not unit.path.startswith("/"):
            out.add(out_path, "must start with '/'", "path")
        if ".." in unit.path.split("/"):
            out.add(out_path, "must not contain a '..' segment", "path")
        if any(c.isspace() or c == "\\" or ord(c) < 32 for c in unit.path):
            out.add(out_path, "must not contain whitespace, control characters or backslashes", "path")
    graph: dict[int, list[int]] = {}
    for index, unit in enumerate(cm.kustomizations):
        edges: list[int] = []
        for dep_index, dep in enumerate(unit.depends_on):
            dep_path = (*_CM, "kustomizations", index, "depends_on", dep_index)
            if dep not in names:
                out.add(dep_path, "names no Kustomization defined in this list", "depends")
            elif names[dep] == index:
                out.add(dep_path, "a Kustomization must not depend on itself", "depends")
            else:
                edges.append(names[dep])
        graph[index] = edges
    for cycle in _cycles(graph):
        chain = " -> ".join(f"kustomizations[{i}]" for i in [*cycle, cycle[0]])
        out.add((*_CM, "kustomizations", cycle[0], "depends_on"), f"depends_on forms a cycle: {chain}", "depends")


def _cycles(graph: Mapping[int, list[int]]) -> Iterator[list[int]]:
    """Each dependency cycle once (as found by DFS), smallest member first."""
    state: dict[int, int] = {}  # 1 = on stack, 2 = done
    stack: list[int] = []
    found: set[tuple[int, ...]] = set()

    def visit(node: int) -> Iterator[list[int]]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                start = cycle.index(min(cycle))
                canonical = tuple(cycle[start:] + cycle[:start])
                if canonical not in found:
                    found.add(canonical)
                    yield list(canonical)
            elif nxt not in state:
                yield from visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            yield from visit(node)


def _check_customer_managed(out: _Collector, cm: CustomerManagedConfig) -> None:
    if cm.repository_name is not None and not DNS_1123_LABEL.match(cm.repository_name):
        out.add((*_CM, "repository_name"), "must be a DNS-1123 label", "name")
    if cm.secret_name is not None and not DNS_1123_LABEL.match(cm.secret_name):
        out.add((*_CM, "secret_name"), "must be a DNS-1123 label", "name")
    scheme = _check_url(out, (*_CM, "repository_url"), cm.repository_url)
    _check_kustomizations(out, cm)
    if not cm.emit_secret:
        return
    emit = (*_CM, "emit_secret")
    if cm.repository_url is not None and scheme != "ssh":
        out.add(emit, "emit_secret is only allowed for an ssh:// repository_url", "emit")
    if cm.secret_name is None:
        out.add(emit, "emit_secret needs secret_name", "secret_name")
    if cm.repository_name is None or not DNS_1123_LABEL.match(cm.repository_name):
        return  # reported above (or by the schema); no key to look the credentials up under
    credentials = out.config.secrets.customer_managed.get(cm.repository_name)
    for name in SECRET_FIELDS:
        if credentials is None or not getattr(credentials, name):
            out.add(("secrets", "customer_managed", cm.repository_name, name),
                    "is required when emit_secret is true", "secret")


# ----------------------------------------------------------------------------------------- SOPS

def _check_sops(out: _Collector, sops: SopsConfig) -> None:
    if sops.enabled and not sops.rules:
        out.add((*_SOPS, "enabled"), "SOPS is enabled but has no rules (at least one is required)", "rules")
    for index, rule in enumerate(sops.rules):
        base = (*_SOPS, "rules", index)
        for key, pattern in (("path_regex", rule.path_regex), ("encrypted_regex", rule.encrypted_regex)):
            if pattern is not None and (problem := regex_problem(pattern)):
                out.add((*base, key), problem, "regex")
        if not rule.age_recipients:
            out.add((*base, "age_recipients"), "must list at least one age recipient", "recipient")
        for r_index, recipient in enumerate(rule.age_recipients):
            if (problem := age_recipient_problem(recipient)) is not None:
                out.add((*base, "age_recipients", r_index), f"not a valid age recipient: {problem}", "recipient")


# ----------------------------------------------------------------------------------------- secrets


def _leaves(node: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _check_secret_values(out: _Collector) -> None:
    for path, value in _leaves(out.config.data.get("secrets", {}), ("secrets",)):
        if not isinstance(value, str) or not is_secret_value_allowed(value):
            out.add(path, "is not a PLACEHOLDER-..., SOPS ENC[...] or ref+<backend>://... value "
                          "(no literal secret material in configs)", "value")


# ----------------------------------------------------------------------------------------- entry point


def check_trust(config: ClusterConfig) -> list[InputError]:
    """Every trust-policy violation of a schema-valid config, ordered by line (empty when none)."""
    out = _Collector(config)
    _check_url(out, ("opencenter", "gitops", "repository", "url"), config.gitops.repository.url)
    _check_url(out, ("opencenter", "gitops", "base_repo", "url"), config.gitops.base_repo.url)
    if config.customer_managed is not None:
        _check_customer_managed(out, config.customer_managed)
    if config.sops is not None:
        _check_sops(out, config.sops)
    _check_secret_values(out)
    return sorted(out.errors, key=lambda e: e.location.line if e.location else 0)
