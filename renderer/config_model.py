"""The typed view of a validated cluster config: frozen dataclasses, no loading and no checks.

:mod:`renderer.config` builds them; :mod:`renderer.trust` and the planner read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class MetaConfig:
    """``opencenter.meta``: who and where."""

    name: str
    organization: str
    env: str
    region: str


@dataclass(frozen=True)
class ClusterInfo:
    """``opencenter.cluster``: the cluster's identity."""

    name: str
    fqdn: str
    base_domain: str


@dataclass(frozen=True)
class RepositoryConfig:
    """``opencenter.gitops.repository``: the repository Flux is bootstrapped from (``flux-system``)."""

    url: str
    branch: str


@dataclass(frozen=True)
class BaseRepoConfig:
    """``opencenter.gitops.base_repo``: the shared base every ``opencenter-<svc>`` source pins by tag."""

    url: str
    tag: str
    secret_ref: str | None = None


@dataclass(frozen=True)
class FluxConfig:
    """``opencenter.gitops.flux``: reconciliation intervals (Go durations)."""

    source_interval: str
    kustomization_interval: str
    timeout: str


@dataclass(frozen=True)
class GitOpsConfig:
    """``opencenter.gitops`` minus the overlay units (those are typed on :class:`ClusterConfig`)."""

    repository: RepositoryConfig
    base_repo: BaseRepoConfig
    flux: FluxConfig
    allowed_repository_hosts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ServiceConfig:
    """One entry of ``opencenter.services`` or ``opencenter.managed_services``."""

    name: str
    enabled: bool
    options: Mapping[str, Any] = field(default_factory=dict)  # every key except ``enabled``


@dataclass(frozen=True)
class KustomizationConfig:
    """One customer-managed Flux Kustomization (``path`` is inside the customer repository)."""

    name: str
    path: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerManagedConfig:
    """``opencenter.gitops.overlay_units.customer_managed``: the customer's own GitRepository and units."""

    enabled: bool
    repository_name: str | None = None
    repository_url: str | None = None
    branch: str | None = None
    emit_secret: bool = False
    secret_name: str | None = None
    kustomizations: tuple[KustomizationConfig, ...] = ()


@dataclass(frozen=True)
class SopsRule:
    """One ``.sops.yaml`` creation rule."""

    path_regex: str
    age_recipients: tuple[str, ...]
    encrypted_regex: str | None = None


@dataclass(frozen=True)
class SopsConfig:
    """``opencenter.gitops.overlay_units.sops``: whether and how ``.sops.yaml`` is generated."""

    enabled: bool
    rules: tuple[SopsRule, ...] = ()


@dataclass(frozen=True)
class RepositoryCredentials:
    """``secrets.customer_managed.<repository_name>``; values are never part of ``repr``."""

    identity: str | None = field(default=None, repr=False)
    identity_pub: str | None = field(default=None, repr=False)
    known_hosts: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SecretsConfig:
    """The ``secrets`` section."""

    customer_managed: Mapping[str, RepositoryCredentials] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterConfig:
    """A validated cluster config: the plain mapping (template context) plus a typed view.

    ``data`` holds plain Python values only (dict, list, str, int, float, bool, None, dates); it is
    left out of ``repr`` because it contains the ``secrets`` section.
    """

    path: Path
    cluster: str
    data: dict[str, Any] = field(repr=False)
    meta: MetaConfig
    cluster_info: ClusterInfo
    gitops: GitOpsConfig
    services: dict[str, ServiceConfig]
    managed_services: dict[str, ServiceConfig]
    customer_managed: CustomerManagedConfig | None
    sops: SopsConfig | None
    secrets: SecretsConfig = field(default_factory=SecretsConfig, repr=False)
    lines: Mapping[KeyPath, int] = field(default_factory=dict, repr=False, compare=False)

    def line_of(self, path: KeyPath) -> int:
        """1-based line of ``path`` in the source file, else of its nearest present ancestor (0 if unknown)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end], 0)
            if line:
                return line
        return 0

    def service_enabled(self, name: str) -> bool:
        """True when ``opencenter.services.<name>.enabled`` is true."""
        service = self.services.get(name)
        return service is not None and service.enabled

    @property
    def enabled_services(self) -> list[str]:
        """Names of enabled services, sorted."""
        return sorted(name for name, service in self.services.items() if service.enabled)

    @property
    def enabled_managed_services(self) -> list[str]:
        """Names of enabled managed services, sorted."""
        return sorted(name for name, service in self.managed_services.items() if service.enabled)

    @property
    def customer_managed_enabled(self) -> bool:
        """True when the customer-managed layer is present and enabled."""
        return self.customer_managed is not None and self.customer_managed.enabled

    @property
    def sops_enabled(self) -> bool:
        """True when ``.sops.yaml`` generation is present and enabled."""
        return self.sops is not None and self.sops.enabled
