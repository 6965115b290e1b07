"""Oracle facts: the checked-in RelayPoint overlay trees against the contract, read directly from disk.

These tests never run the renderer. They check the oracle itself against the specification (the
contract's fixture inventory and per-cluster variance, and the cluster configs), so a renderer and
an oracle that drifted the same wrong way cannot agree each other into a green parity run.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.inventory import Inventory, load_inventory
from harness.yamlio import load_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "testdata" / "relaypoint-logistics-shared"
OVERLAYS = FIXTURE / "applications" / "overlays"
INVENTORY = ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml"

CLUSTERS = ("k8s-dev", "k8s-dr", "k8s-prod", "k8s-qa", "k8s-uat")
ALL = frozenset(CLUSTERS)
BOOTSTRAPPED = frozenset({"k8s-dr", "k8s-prod", "k8s-qa"})  # flux-system/ checked in
SOPS = frozenset({"k8s-dev", "k8s-dr"})
CUSTOMER_MANAGED = ALL - {"k8s-prod"}
CUSTOMER_SECRET = frozenset({"k8s-uat"})
ORD1 = frozenset({"k8s-prod", "k8s-qa", "k8s-uat"})

EVERYWHERE = (
    "calico", "cert-manager", "gateway", "gateway-api", "headlamp", "kafka-cluster", "keycloak",
    "kube-prometheus-stack", "loki", "metallb", "mimir", "olm", "opentelemetry-kube-stack", "postgres-operator",
    "rbac-manager", "tempo", "velero", "vsphere-csi",
)
SERVICES: dict[str, frozenset[str]] = {
    "harbor": frozenset({"k8s-dev", "k8s-dr"}),
    "etcd-backup": frozenset({"k8s-dev"}),
    "longhorn": frozenset({"k8s-qa"}),
    "sealed-secrets": frozenset({"k8s-dr", "k8s-qa"}),
    "kyverno": frozenset({"k8s-dev", "k8s-qa", "k8s-uat"}),
    **{s: ALL - {"k8s-prod"} for s in ("external-snapshotter", "openstack-ccm", "openstack-csi", "weave-gitops")},
    **{s: ALL for s in EVERYWHERE},
}
MANAGED_SERVICES: dict[str, frozenset[str]] = {"alert-proxy": ALL}
STRUCTURAL = frozenset({"sources", "fluxcd"})  # aggregate directories, not services

SECRET_FILE = "customer-managed/sources/customer-repository-rpl-apps-flux-k8s.yaml"
HARBOR_CERTIFICATE = "services/harbor/certificate.yaml"
PATCH_SUBSCRIPTION = "services/keycloak/10-operator/patch-subscription.yaml"
RENDERED_AT = "opencenter.io/rendered-at"


def overlay(cluster: str) -> Path:
    """The oracle overlay directory of ``cluster``."""
    return OVERLAYS / cluster


def config(cluster: str) -> dict[str, Any]:
    """The cluster config as plain data (read directly; the renderer's loader is not used)."""
    docs = load_file(FIXTURE / f".{cluster}-config.yaml")
    assert len(docs) == 1
    assert isinstance(docs[0], dict)
    return docs[0]


def yaml_files(root: Path) -> Iterator[Path]:
    """Every YAML file under ``root`` (dotfiles such as .sops.yaml included), sorted."""
    yield from sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))


def docs_of(path: Path) -> list[Any]:
    """The parsed documents of one file (YAML 1.1 scalars, duplicate keys rejected)."""
    return load_file(path)


def only(docs: list[Any], kind: str, name: str) -> dict[str, Any]:
    """The single document of ``kind`` named ``name``."""
    found = [d for d in docs if isinstance(d, dict) and d.get("kind") == kind
             and d.get("metadata", {}).get("name") == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def clusters_where(predicate: Any) -> frozenset[str]:
    """The clusters for which ``predicate(overlay_dir)`` holds."""
    return frozenset(c for c in CLUSTERS if predicate(overlay(c)))


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(INVENTORY)


# ------------------------------------------------------------------------------------ tree structure

def test_exactly_the_five_cluster_trees_and_configs_exist() -> None:
    assert sorted(p.name for p in OVERLAYS.iterdir()) == list(CLUSTERS)
    assert sorted(p.name for p in FIXTURE.glob(".*-config.yaml")) == sorted(f".{c}-config.yaml" for c in CLUSTERS)


def test_oracle_trees_hold_no_symlinks_and_every_yaml_file_parses() -> None:
    for path in OVERLAYS.rglob("*"):
        assert not path.is_symlink(), path
    for cluster in CLUSTERS:
        for path in yaml_files(overlay(cluster)):
            docs_of(path)  # raises InputError (file:line) on bad YAML or duplicate keys


def test_flux_system_exactly_in_dr_prod_qa() -> None:
    assert clusters_where(lambda o: (o / "flux-system").is_dir()) == BOOTSTRAPPED


def test_sops_yaml_exactly_in_dev_and_dr() -> None:
    assert clusters_where(lambda o: (o / ".sops.yaml").is_file()) == SOPS


def test_customer_managed_in_all_but_prod() -> None:
    assert clusters_where(lambda o: (o / "customer-managed").is_dir()) == CUSTOMER_MANAGED


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_root_kustomization_lists_flux_system_and_the_layers(cluster: str) -> None:
    (root,) = docs_of(overlay(cluster) / "kustomization.yaml")
    assert root["kind"] == "Kustomization"
    resources = root["resources"]
    assert "./flux-system" in resources  # also in dev and uat: pre-bootstrap overlays (renderer-parity)
    expected = ["./flux-system", "./services/fluxcd", "./managed-services/fluxcd"]
    if cluster in CUSTOMER_MANAGED:
        expected.append("./customer-managed/fluxcd")
    assert resources == expected


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_service_directories_match_the_cluster_facts(cluster: str) -> None:
    present = {p.name for p in (overlay(cluster) / "services").iterdir() if p.is_dir()} - STRUCTURAL
    assert present == {s for s, where in SERVICES.items() if cluster in where}
    managed = {p.name for p in (overlay(cluster) / "managed-services").iterdir() if p.is_dir()} - STRUCTURAL
    assert managed == {s for s, where in MANAGED_SERVICES.items() if cluster in where}


def test_the_service_table_covers_every_service_of_the_configs() -> None:
    assert len(SERVICES) == 27
    for cluster in CLUSTERS:
        services = config(cluster)["opencenter"]["services"]
        assert set(services) == set(SERVICES), cluster
        enabled = {name for name, options in services.items() if options.get("enabled") is True}
        assert enabled == {s for s, where in SERVICES.items() if cluster in where}, cluster


def test_harbor_certificate_only_in_dev() -> None:
    assert clusters_where(lambda o: (o / HARBOR_CERTIFICATE).is_file()) == {"k8s-dev"}


def test_keycloak_patch_subscription_only_in_ord1_clusters() -> None:
    assert clusters_where(lambda o: (o / PATCH_SUBSCRIPTION).is_file()) == ORD1
    for cluster in CLUSTERS:
        assert config(cluster)["opencenter"]["meta"]["region"] == ("ord1" if cluster in ORD1 else "iad3")
        (operator,) = docs_of(overlay(cluster) / "services/keycloak/10-operator/kustomization.yaml")
        patches = [p.get("path") for p in operator.get("patches", [])]
        assert patches == (["patch-subscription.yaml"] if cluster in ORD1 else []), cluster


# ------------------------------------------------------------------------------------ bootstrap files

@pytest.mark.parametrize("cluster", sorted(BOOTSTRAPPED))
def test_flux_bootstrap_files(cluster: str) -> None:
    flux = overlay(cluster) / "flux-system"
    assert sorted(p.name for p in flux.iterdir()) == ["gotk-components.yaml", "gotk-sync.yaml", "kustomization.yaml"]
    (kustomization,) = docs_of(flux / "kustomization.yaml")
    assert kustomization["resources"] == ["gotk-components.yaml", "gotk-sync.yaml"]

    gitops = config(cluster)["opencenter"]["gitops"]["repository"]
    sync = docs_of(flux / "gotk-sync.yaml")
    repo = only(sync, "GitRepository", "flux-system")
    assert repo["metadata"]["namespace"] == "flux-system"
    assert repo["spec"]["url"] == gitops["url"]
    assert repo["spec"]["url"].startswith("ssh://")
    assert repo["spec"]["ref"] == {"branch": gitops["branch"]} == {"branch": "main"}
    assert repo["spec"]["secretRef"] == {"name": "flux-system"}
    root = only(sync, "Kustomization", "flux-system")
    assert root["spec"]["path"] == f"./applications/overlays/{cluster}"
    assert root["spec"]["prune"] is True
    assert root["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}

    components = docs_of(flux / "gotk-components.yaml")
    kinds = [d["kind"] for d in components]
    assert "CustomResourceDefinition" not in kinds  # trimmed: kustomize builds it offline, no CRDs
    assert only(components, "Namespace", "flux-system")
    assert len(components) <= 10


# ------------------------------------------------------------------------------------ secrets

def _secret_values(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in (doc.get("stringData") or {}).items():
        yield f"stringData.{key}", str(value)
    for key, value in (doc.get("data") or {}).items():
        try:
            decoded = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        yield f"data.{key}", decoded


def test_the_only_secret_is_the_uat_customer_secret_with_placeholder_values() -> None:
    secrets: dict[str, list[dict[str, Any]]] = {}
    for cluster in CLUSTERS:
        for path in yaml_files(overlay(cluster)):
            for doc in docs_of(path):
                if isinstance(doc, dict) and doc.get("kind") == "Secret":
                    secrets.setdefault(f"{cluster}/{path.relative_to(overlay(cluster)).as_posix()}", []).append(doc)
    assert sorted(secrets) == [f"{c}/{SECRET_FILE}" for c in sorted(CUSTOMER_SECRET)]
    (secret,) = secrets[f"k8s-uat/{SECRET_FILE}"]
    values = dict(_secret_values(secret))
    assert set(values) == {"stringData.identity", "stringData.identity.pub", "stringData.known_hosts"}
    for where, value in values.items():
        assert value.startswith("PLACEHOLDER-"), f"{where} is not a PLACEHOLDER- value"


def test_customer_secret_file_only_in_uat() -> None:
    assert clusters_where(lambda o: (o / SECRET_FILE).is_file()) == CUSTOMER_SECRET


# ------------------------------------------------------------------------------------ generated stamps

@pytest.mark.parametrize("cluster", CLUSTERS)
def test_rendered_at_stamps_are_quoted_strings(cluster: str) -> None:
    """Unquoted, an ISO-8601 stamp is a YAML 1.1 timestamp, not the string Kubernetes expects."""
    (root,) = docs_of(overlay(cluster) / "kustomization.yaml")
    (alert_proxy,) = docs_of(overlay(cluster) / "managed-services/alert-proxy/kustomization.yaml")
    stamps = [root["metadata"]["annotations"][RENDERED_AT],
              alert_proxy["secretGenerator"][0]["options"]["annotations"][RENDERED_AT]]
    for stamp in stamps:
        assert isinstance(stamp, str)
        datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")  # UTC ISO-8601, seconds


# ------------------------------------------------------------------------------------ inventory

def test_inventory_loads_for_this_fixture(inventory: Inventory) -> None:
    assert inventory.fixture == FIXTURE.name
    assert set(inventory.clusters) <= ALL
    for cluster in CLUSTERS:
        inventory.rules_for(cluster)  # resolves without conflict


def test_every_rule_is_justified_and_approved(inventory: Inventory) -> None:
    rules = inventory.all_rules()
    assert rules
    for rule in rules:
        assert len(rule.rationale.split()) >= 12, f"{rule.id}: rationale too thin to review"
        assert rule.approved_by.strip(), rule.id
        assert rule.path.strip(), rule.id


def test_path_only_count_equals_the_budget(inventory: Inventory) -> None:
    assert inventory.path_only_count() == inventory.path_only_budget
    assert 1 <= inventory.path_only_count() <= 3
