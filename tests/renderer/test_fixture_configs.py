"""The five RelayPoint fixture configs load and state the agreed per-cluster facts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.bech32 import is_age_recipient
from renderer.config import load_config
from renderer.config_model import ClusterConfig
from renderer.trust import PLACEHOLDER_VALUE, check_trust

FIXTURE = Path(__file__).resolve().parents[2] / "testdata" / "relaypoint-logistics-shared"
ENVS = ("dev", "dr", "prod", "qa", "uat")
CLUSTERS = tuple(f"k8s-{env}" for env in ENVS)

EVERYWHERE = frozenset({
    "calico", "cert-manager", "gateway", "gateway-api", "headlamp", "kafka-cluster", "keycloak",
    "kube-prometheus-stack", "loki", "metallb", "mimir", "olm", "opentelemetry-kube-stack", "postgres-operator",
    "rbac-manager", "tempo", "velero", "vsphere-csi",
})
NOT_PROD = frozenset({"external-snapshotter", "openstack-ccm", "openstack-csi", "weave-gitops"})
ENABLED: dict[str, frozenset[str]] = {
    "dev": EVERYWHERE | NOT_PROD | {"harbor", "etcd-backup", "kyverno"},
    "dr": EVERYWHERE | NOT_PROD | {"harbor", "sealed-secrets"},
    "prod": EVERYWHERE,
    "qa": EVERYWHERE | NOT_PROD | {"longhorn", "sealed-secrets", "kyverno"},
    "uat": EVERYWHERE | NOT_PROD | {"kyverno"},
}
ALL_SERVICES = frozenset().union(*ENABLED.values())
REGION = {"dev": "iad3", "dr": "iad3", "prod": "ord1", "qa": "ord1", "uat": "ord1"}
SOPS_ON = {"dev": True, "dr": True, "prod": False, "qa": False, "uat": False}
CUSTOMER_MANAGED_ON = {"dev": True, "dr": True, "prod": False, "qa": True, "uat": True}
EMIT_SECRET = {"dev": False, "dr": False, "prod": False, "qa": False, "uat": True}
# Option variance the renderer turns into conditional files.
OPTIONS: dict[str, dict[str, object]] = {
    "cert-manager.issuers.letsencrypt_production": {"dev": False, "dr": True, "prod": True, "qa": False, "uat": False},
    "kube-prometheus-stack.alertmanager_routes": {"dev": False, "dr": False, "prod": True, "qa": True, "uat": False},
    "velero.schedules": {"dev": False, "dr": True, "prod": True, "qa": False, "uat": False},
    "vsphere-csi.topology": {"dev": False, "dr": False, "prod": True, "qa": False, "uat": False},
}


def load(env: str) -> ClusterConfig:
    return load_config(FIXTURE / f".k8s-{env}-config.yaml")


def test_exactly_five_fixture_configs() -> None:
    assert sorted(p.name for p in FIXTURE.glob(".*-config.yaml")) == sorted(f".{c}-config.yaml" for c in CLUSTERS)


def test_service_catalogue_is_27_services() -> None:
    assert len(ALL_SERVICES) == 27
    assert len(EVERYWHERE) == 18


@pytest.mark.parametrize("env", ENVS)
def test_identity_and_region(env: str) -> None:
    config = load(env)
    assert config.cluster == f"k8s-{env}"
    assert config.cluster_info.name == f"k8s-{env}"
    assert config.meta.env == env
    assert config.meta.region == REGION[env]
    assert config.meta.name == "relaypoint-logistics-shared"
    assert config.cluster_info.fqdn == f"k8s-{env}.{REGION[env]}.relaypoint.example.net"


@pytest.mark.parametrize("env", ENVS)
def test_enabled_services(env: str) -> None:
    config = load(env)
    assert set(config.services) == ALL_SERVICES, "every config lists every service explicitly"
    assert set(config.enabled_services) == ENABLED[env]
    assert config.enabled_managed_services == ["alert-proxy"]


@pytest.mark.parametrize("env", ENVS)
def test_harbor_certificate_only_in_dev(env: str) -> None:
    harbor = load(env).services["harbor"]
    assert harbor.enabled is (env in {"dev", "dr"})
    if harbor.enabled:
        assert harbor.options["certificate"] == {"enabled": env == "dev"}
        assert harbor.options["hostname"] == f"harbor.k8s-{env}.{REGION[env]}.relaypoint.example.net"


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_option_variance(env: str, option: str) -> None:
    service, *keys = option.split(".")
    value: object = load(env).services[service].options
    for key in keys:
        assert isinstance(value, dict)
        value = value[key]
    assert value is OPTIONS[option][env]


@pytest.mark.parametrize("env", ENVS)
def test_sops(env: str) -> None:
    config = load(env)
    assert config.sops_enabled is SOPS_ON[env]
    if SOPS_ON[env]:
        assert config.sops is not None
        assert config.sops.rules
        for rule in config.sops.rules:
            assert rule.age_recipients
            assert all(is_age_recipient(r) for r in rule.age_recipients)
            assert rule.encrypted_regex == "^(data|stringData)$"


@pytest.mark.parametrize("env", ENVS)
def test_customer_managed(env: str) -> None:
    config = load(env)
    assert config.customer_managed_enabled is CUSTOMER_MANAGED_ON[env]
    cm = config.customer_managed
    if not CUSTOMER_MANAGED_ON[env]:
        assert cm is None or (not cm.enabled and not cm.emit_secret)
        return
    assert cm is not None
    assert cm.repository_name == "customer-repository"
    assert cm.secret_name == "customer-repository-rpl-apps-flux-k8s"
    assert cm.repository_url is not None
    assert cm.repository_url.startswith("ssh://")
    assert cm.emit_secret is EMIT_SECRET[env]
    assert [(k.name, k.path, k.depends_on) for k in cm.kustomizations] == [
        ("policies", f"/policies/{env}", ()),
        ("infrastructure", f"/infrastructure/{env}", ("policies",)),
        ("apps", f"/apps/{env}", ("infrastructure",)),
    ]


@pytest.mark.parametrize("env", ENVS)
def test_secrets_are_placeholders_and_only_where_emitted(env: str) -> None:
    config = load(env)
    credentials = config.secrets.customer_managed
    if EMIT_SECRET[env]:
        assert set(credentials) == {"customer-repository"}
        entry = credentials["customer-repository"]
        for value in (entry.identity, entry.identity_pub, entry.known_hosts):
            assert value is not None
            assert PLACEHOLDER_VALUE.match(value)
    else:
        assert credentials == {}


@pytest.mark.parametrize("env", ENVS)
def test_no_key_material_in_fixture_text(env: str) -> None:
    text = (FIXTURE / f".k8s-{env}-config.yaml").read_text(encoding="utf-8")
    assert "AGE-SECRET-KEY-" not in text.upper()
    assert "PRIVATE KEY" not in text
    assert not re.search(r"\b(ssh-(ed25519|rsa)|ecdsa-sha2-\S+) AAAA", text)
    assert "LS0tLS1CRUdJT" not in text  # base64 of "-----BEGIN"


@pytest.mark.parametrize("env", ENVS)
def test_one_base_tag_and_shared_repositories(env: str) -> None:
    config = load(env)
    assert re.fullmatch(r"v\d+\.\d+\.\d+", config.gitops.base_repo.tag)
    assert config.gitops.allowed_repository_hosts == ("git.relaypoint.example.net", "github.com")
    assert config.gitops.repository.branch == "main"
    assert check_trust(config) == []
