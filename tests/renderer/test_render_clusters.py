"""Integration: render the five RelayPoint configs and check the per-cluster facts, the Flux wiring and
that the overlays build with the real ``kubectl kustomize``; plus the ``render`` CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.tools import find_tool
from harness.yamlio import load_documents
from renderer.api import RENDERER

from .conftest import CLUSTERS, FIXTURE, ROOT, config_path, contents

EVERYWHERE = (
    "calico", "cert-manager", "gateway", "gateway-api", "headlamp", "kafka-cluster", "keycloak",
    "kube-prometheus-stack", "loki", "metallb", "mimir", "olm", "opentelemetry-kube-stack", "postgres-operator",
    "rbac-manager", "tempo", "velero", "vsphere-csi",
)
WHERE = {
    "harbor": {"k8s-dev", "k8s-dr"},
    "etcd-backup": {"k8s-dev"},
    "longhorn": {"k8s-qa"},
    "sealed-secrets": {"k8s-dr", "k8s-qa"},
    "kyverno": {"k8s-dev", "k8s-qa", "k8s-uat"},
    **{s: set(CLUSTERS) - {"k8s-prod"} for s in ("external-snapshotter", "openstack-ccm", "openstack-csi",
                                                 "weave-gitops")},
    **{s: set(CLUSTERS) for s in EVERYWHERE},
}
ORD1 = {"k8s-prod", "k8s-qa", "k8s-uat"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """cluster -> {path: bytes} of a fresh render of every fixture config."""
    root = tmp_path_factory.mktemp("overlays")
    result = {}
    for cluster in CLUSTERS:
        RENDERER.render(config_path(cluster), root / cluster)
        result[cluster] = contents(root / cluster)
    return result


@pytest.fixture(scope="module")
def overlay_root(rendered: dict[str, dict[str, bytes]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("written")
    for cluster, files in rendered.items():
        for relative, data in files.items():
            path = root / cluster / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return root


def docs(data: bytes) -> list[Any]:
    return load_documents(data.decode(), "<rendered>")


def services_of(files: dict[str, bytes]) -> set[str]:
    return {p.split("/")[1] for p in files if p.startswith("services/") and p.split("/")[1] not in
            ("sources", "fluxcd")}


def test_all_27_services_are_accounted_for() -> None:
    assert len(WHERE) == 27


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_service_set_per_cluster(rendered: dict[str, dict[str, bytes]], cluster: str) -> None:
    files = rendered[cluster]
    expected = {service for service, clusters in WHERE.items() if cluster in clusters}
    assert services_of(files) == expected
    for service in expected:
        assert f"services/sources/opencenter-{service}.yaml" in files
        assert f"services/fluxcd/{service}.yaml" in files
        assert f"services/{service}/kustomization.yaml" in files
        assert f"services/{service}/override-values.yaml" in files
    sources = docs(files["services/sources/kustomization.yaml"])[0]["resources"]
    fluxcd = docs(files["services/fluxcd/kustomization.yaml"])[0]["resources"]
    assert sources == sorted(f"opencenter-{s}.yaml" for s in expected)
    assert fluxcd == ["../sources", *sorted(f"{s}.yaml" for s in expected)]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_cluster_units(rendered: dict[str, dict[str, bytes]], cluster: str) -> None:
    files = rendered[cluster]
    assert "managed-services/alert-proxy/override-values.yaml" in files
    assert docs(files["managed-services/fluxcd/kustomization.yaml"])[0]["resources"] == ["../sources",
                                                                                          "alert-proxy.yaml"]
    assert (".sops.yaml" in files) is (cluster in ("k8s-dev", "k8s-dr"))
    customer = cluster != "k8s-prod"
    assert any(p.startswith("customer-managed/") for p in files) is customer
    secret = "customer-managed/sources/customer-repository-rpl-apps-flux-k8s.yaml"
    assert (secret in files) is (cluster == "k8s-uat")
    root = docs(files["kustomization.yaml"])[0]["resources"]
    assert root[:3] == ["./flux-system", "./services/fluxcd", "./managed-services/fluxcd"]
    assert ("./customer-managed/fluxcd" in root) is customer
    assert len(root) == 3 + customer
    harbor_cert = "services/harbor/certificate.yaml"
    assert (harbor_cert in files) is (cluster == "k8s-dev")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_keycloak_patch_only_in_ord1(rendered: dict[str, dict[str, bytes]], cluster: str) -> None:
    files = rendered[cluster]
    patch = "services/keycloak/10-operator/patch-subscription.yaml"
    assert (patch in files) is (cluster in ORD1)
    kustomization = docs(files["services/keycloak/10-operator/kustomization.yaml"])[0]
    assert ("patches" in kustomization) is (cluster in ORD1)
    for component in ("00-postgres", "10-operator", "20-keycloak"):
        assert f"services/keycloak/{component}/kustomization.yaml" in files


def test_sops_and_customer_managed_content(rendered: dict[str, dict[str, bytes]]) -> None:
    sops = docs(rendered["k8s-dev"][".sops.yaml"])[0]
    rules = sops["creation_rules"]
    assert [r["path_regex"] for r in rules] == ["^managed-services/.*/helm-values/.*\\.ya?ml$",
                                                "^services/.*/secrets/.*\\.ya?ml$"]
    assert rules[1]["age"].count(",") == 1
    assert all(r["encrypted_regex"] == "^(data|stringData)$" for r in rules)
    uat = rendered["k8s-uat"]
    secret = docs(uat["customer-managed/sources/customer-repository-rpl-apps-flux-k8s.yaml"])[0]
    assert secret["kind"] == "Secret"
    assert set(secret["stringData"]) == {"identity", "identity.pub", "known_hosts"}
    repo = docs(uat["customer-managed/sources/customer-repository.yaml"])[0]
    assert repo["spec"]["secretRef"]["name"] == "customer-repository-rpl-apps-flux-k8s"
    # ssh repositories always reference their credentials; only uat renders the Secret itself.
    qa_repo = docs(rendered["k8s-qa"]["customer-managed/sources/customer-repository.yaml"])[0]
    assert qa_repo["spec"]["secretRef"]["name"] == "customer-repository-rpl-apps-flux-k8s"
    assert not any(path.endswith("-flux-k8s.yaml") for path in rendered["k8s-qa"])
    apps = docs(uat["customer-managed/fluxcd/apps.yaml"])[0]
    assert apps["spec"]["path"] == "./apps/uat"
    assert apps["spec"]["dependsOn"] == [{"name": "infrastructure"}]
    assert "decryption" not in apps["spec"]  # SOPS is off in uat
    assert "decryption" in docs(rendered["k8s-dev"]["customer-managed/fluxcd/apps.yaml"])[0]["spec"]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_flux_wiring_is_consistent(rendered: dict[str, dict[str, bytes]], cluster: str) -> None:
    files = rendered[cluster]
    kustomizations: dict[str, dict[str, Any]] = {}
    sources = {"flux-system"}
    for _path, data in files.items():
        for doc in docs(data):
            if doc.get("kind") == "Kustomization" and doc["apiVersion"].startswith("kustomize.toolkit.fluxcd.io"):
                kustomizations[doc["metadata"]["name"]] = doc
            if doc.get("kind") == "GitRepository":
                sources.add(doc["metadata"]["name"])
    sops = cluster in ("k8s-dev", "k8s-dr")
    for name, doc in kustomizations.items():
        spec = doc["spec"]
        assert spec["prune"] is True, name
        assert spec["sourceRef"]["name"] in sources, name
        for dependency in spec.get("dependsOn", []):
            assert dependency["name"] in kustomizations, f"{name} depends on missing {dependency['name']}"
        if spec["sourceRef"]["name"] == "flux-system":
            prefix = f"./applications/overlays/{cluster}/"
            assert spec["path"].startswith(prefix), name
            assert f"{spec['path'][len(prefix):]}/kustomization.yaml" in files, name
            assert ("decryption" in spec) is sops, name
        if name.endswith("-override"):
            assert {"name": name[: -len("-override")] + "-base"} in spec["dependsOn"]
    for doc in (d for p, data in files.items() if p.startswith("services/sources/") for d in docs(data)):
        if doc["kind"] == "GitRepository":
            assert doc["spec"]["ref"]["tag"].startswith("v")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_security_relevant_files(rendered: dict[str, dict[str, bytes]], cluster: str) -> None:
    files = rendered[cluster]
    kinds = {(d["kind"], d["metadata"]["name"]) for data in files.values() for d in docs(data)
             if "name" in d.get("metadata", {})}
    if cluster in WHERE["kyverno"]:
        policies = {name for kind, name in kinds if kind == "ClusterPolicy"}
        assert len(policies) >= 3
    assert ("NetworkPolicy", "keycloak-restrict-ingress") in kinds
    assert ("NetworkPolicy", "kafka-cluster-restrict-ingress") in kinds
    assert (("NetworkPolicy", "harbor-restrict-ingress") in kinds) is (cluster in WHERE["harbor"])


def _build_documents(output: str) -> list[Any]:
    # kustomize prints `matchType: =` unquoted; ruamel resolves a plain `=` to the YAML "value" tag and
    # cannot construct it (1.1 or 1.2), so quote it back before parsing.
    return load_documents(output.replace(": =\n", ': "="\n'), "<build>")


def _kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(find_tool("kubectl")), "kustomize", str(directory)], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("cluster", ["k8s-dev", "k8s-prod", "k8s-qa"])
def test_every_flux_path_builds_on_its_own(overlay_root: Path, rendered: dict[str, dict[str, bytes]],
                                           cluster: str, tmp_path: Path) -> None:
    """One kubectl call builds every directory a Flux Kustomization points at; each is its own kustomize
    root, so a reference outside a service directory would fail its build."""
    prefix = f"./applications/overlays/{cluster}/"
    paths = sorted({d["spec"]["path"][len(prefix):] for p, data in rendered[cluster].items()
                    if p.startswith(("services/fluxcd/", "managed-services/fluxcd/")) for d in docs(data)
                    if "spec" in d and d["spec"]["sourceRef"]["name"] == "flux-system"})
    assert len(paths) >= 20
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"  - {os.path.relpath(overlay_root / cluster / p, tmp_path)}\n" for p in paths))
    result = _kustomize(tmp_path)
    assert result.returncode == 0, result.stderr
    built = _build_documents(result.stdout)
    assert any(d["kind"] == "Secret" and d["metadata"]["name"] == "harbor-values-override" for d in built) is \
        (cluster == "k8s-dev")
    patched = next(d for d in built if d["kind"] == "Subscription")
    assert (patched["spec"]["installPlanApproval"] == "Manual") is (cluster in ORD1)


@pytest.mark.slow
@pytest.mark.parametrize("cluster", CLUSTERS)
def test_whole_overlay_builds_with_a_stub_flux_system(overlay_root: Path, cluster: str, tmp_path: Path) -> None:
    overlay = tmp_path / cluster
    shutil.copytree(overlay_root / cluster, overlay)
    (overlay / "flux-system").mkdir()
    (overlay / "flux-system" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
    result = _kustomize(overlay)
    assert result.returncode == 0, result.stderr
    kinds = [d["kind"] for d in _build_documents(result.stdout)]
    assert kinds.count("GitRepository") >= 19


# ------------------------------------------------------------------------------------------------ CLI

def test_cli_render_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    code = main(["render", "--all", "--fixture", str(FIXTURE), "--out-root", str(tmp_path / "out"),
                 "--diagnostics", str(tmp_path / "diag")])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line.split(":")[0] for line in out] == list(CLUSTERS)
    assert "k8s-prod: rendered 96 file(s) from 24 of 37 descriptor(s)" in out[2]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == list(CLUSTERS)
    diagnostics = json.loads((tmp_path / "diag" / "k8s-uat.json").read_text())
    assert diagnostics["cluster"] == "k8s-uat"
    assert diagnostics["actions"]
    assert diagnostics["decisions"]
    assert "PLACEHOLDER" not in (tmp_path / "diag" / "k8s-uat.json").read_text()


def test_cli_render_one_and_a_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "k8s-qa"
    assert main(["render", "--config", str(config_path("k8s-qa")), "--out", str(out)]) == 0
    assert main(["render", "--config", str(config_path("k8s-qa")), "--out", str(out), "--service", "longhorn",
                 "--diagnostics", str(tmp_path / "plan.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("k8s-qa: rendered 134 file(s)")
    assert lines[1] == f"k8s-qa: rendered service longhorn: 6 file(s) incl. aggregates into {out}"
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert {a["owner"] for a in plan["actions"]} == {"longhorn", "services-sources", "services-fluxcd"}


@pytest.mark.parametrize(("argv", "message"), [
    (["render"], "render needs --config FILE and --out DIR"),
    (["render", "--all"], "--all needs --out-root"),
    (["render", "--all", "--out-root", "x", "--service", "harbor"], "do not combine"),
    (["render", "--config", "c", "--out", "o", "--out-root", "x"], "only go with --all"),
    (["render", "--config", "nope/.k8s-dev-config.yaml", "--out", "o"], "FILE-MISSING"),
    (["render", "--config", str(config_path("k8s-dev")), "--out", "o", "--renderer", "no_such_mod:R"],
     "RENDERER-INVALID"),
])
def test_cli_bad_input_is_one_line_exit_2(argv: list[str], message: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    argv = [str(tmp_path / a) if a in ("o", "x") else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_cli_all_reports_every_failing_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    fixture = tmp_path / "fixture"
    fixture.mkdir()
    shutil.copy(config_path("k8s-dev"), fixture)
    (fixture / ".k8s-bad-config.yaml").write_text("opencenter: [\n")
    (fixture / ".k8s-worse-config.yaml").write_text("opencenter: {}\n")
    assert main(["render", "--all", "--fixture", str(fixture), "--out-root", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("k8s-dev: rendered")
    assert ".k8s-bad-config.yaml" in captured.err
    assert ".k8s-worse-config.yaml" in captured.err
    assert (tmp_path / "out" / "k8s-dev" / "kustomization.yaml").is_file()
