"""The real thing: the reference renderer against the bundled RelayPoint oracle trees and inventory.

(a) The five bundled clusters pass ``overlay-parity check`` (the repository's own configuration) and
    ``pytest --parity`` (pytester subprocess, on a copy of the fixture).
(b) Mutation tests: a copy of the fixture (configs, overlays, inventory) with exactly one change, and
    the exact verdict the check must reach. Each cluster is rendered once per module and the mutated
    oracle is compared with that rendering, so every mutation costs one comparison.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import harness.coverage
import harness.policy
import harness.secrets
from harness.cli import main
from harness.findings import Finding, failing
from harness.project_config import load_project_config
from harness.renderer_api import Plan
from harness.runner import ParityRun

pytest_plugins = ("pytester",)

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "testdata" / "relaypoint-logistics-shared"
INVENTORY = REPO / "canonicalization" / "relaypoint-logistics-shared.yaml"
CLUSTERS = ("k8s-dev", "k8s-dr", "k8s-prod", "k8s-qa", "k8s-uat")
Rendered = dict[str, tuple[Path, Plan]]


def pyproject(root: Path) -> str:
    return (
        "[tool.overlay-parity]\n"
        'fixture = "testdata/relaypoint-logistics-shared"\n'
        'inventory = "canonicalization/relaypoint-logistics-shared.yaml"\n'
        'renderer = "renderer.api:RENDERER"\n'
        f'template_root = "{REPO / "renderer" / "templates"}"\n'
        f'descriptor_root = "{REPO / "renderer" / "descriptors"}"\n'
        "\n[tool.pytest.ini_options]\n"
        'addopts = "-p no:cacheprovider"\n'
    )


def copy_bundled(root: Path) -> Path:
    """Configs, overlays and inventory of the bundled fixture under ``root`` (a project of its own)."""
    shutil.copytree(FIXTURE, root / "testdata" / FIXTURE.name, dirs_exist_ok=True)
    (root / "canonicalization").mkdir(parents=True, exist_ok=True)
    shutil.copy2(INVENTORY, root / "canonicalization" / INVENTORY.name)
    (root / "pyproject.toml").write_text(pyproject(root), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_bundled(tmp_path_factory.mktemp("bundled") / "project")


@pytest.fixture(scope="module")
def rendered(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Every cluster rendered once by the reference renderer."""
    run = ParityRun.create(load_project_config(pristine))
    out = tmp_path_factory.mktemp("rendered")
    return {cluster: (out / cluster, run.render(cluster, out / cluster)) for cluster in CLUSTERS}


@pytest.fixture
def project(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(pristine, copy)
    return copy


def overlay(root: Path, cluster: str) -> Path:
    return root / "testdata" / FIXTURE.name / "applications" / "overlays" / cluster


def check(root: Path, rendered: Rendered, clusters: tuple[str, ...] = CLUSTERS) -> list[tuple[str, str, str]]:
    """Failing findings (cluster, code, path) of a run over ``clusters`` (the inventory check too when all ran)."""
    run = ParityRun.create(load_project_config(root))
    findings: list[Finding] = []
    for cluster in clusters:
        findings += run.check_cluster(cluster, rendered=rendered[cluster]).findings
    findings += run.inventory_result().findings
    return sorted((f.cluster, f.code, f.path) for f in failing(findings))


# --------------------------------------------------------------------------------------------- (a) clean

def test_overlay_parity_check_passes_on_the_bundled_clusters() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "check", "--json", "/dev/stdout"], cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for cluster in CLUSTERS:
        assert any(line.startswith(f"ok   parity[{cluster}]") for line in lines), proc.stdout
    assert any(line.startswith("ok   inventory") and "stale rules judged: all rules" in line for line in lines)
    assert "PASSED: 6 of 6 checks clean, 0 finding(s)" in proc.stdout


def test_every_rule_of_the_bundled_inventory_is_used(pristine: Path, rendered: Rendered) -> None:
    run = ParityRun.create(load_project_config(pristine))
    for cluster in CLUSTERS:
        assert run.check_cluster(cluster, rendered=rendered[cluster]).findings == []
    assert run.matched_rules == {r.id for r in run.inventory.all_rules()}
    assert failing(run.inventory_result().findings) == []


def test_pytest_parity_passes_on_the_bundled_clusters(pytester: pytest.Pytester) -> None:
    """Every parity item, the inventory, coverage, the secret scan, and the policy items of one cluster (the
    policy suite of every cluster is tests/harness/policy/test_bundled_clusters.py; xdist is covered on the
    generated project in tests/harness/test_pytest_plugin.py)."""
    copy_bundled(pytester.path)
    result = pytester.runpytest_subprocess("--parity", "-k", "not policy or k8s-prod", "--parity-report",
                                           "report.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    report = json.loads((pytester.path / "report.json").read_text())
    names = [r["name"] for r in report["results"]]
    assert names[:6] == [f"parity[{c}]" for c in CLUSTERS] + ["inventory"]
    assert "coverage" in names
    assert "secrets[testdata/relaypoint-logistics-shared]" in names  # fixture_globs default: the fixture
    assert [n for n in names if n.startswith("policy[")] == sorted(f"policy[k8s-prod-{p}]"
                                                                   for p in harness.policy.POLICIES)
    assert report["summary"]["errors"] == 0
    assert report["clusters_run"] == list(CLUSTERS)


def test_explain_on_the_bundled_alias(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert main(["explain", "--cluster", "k8s-dev", "services/keycloak/20-keycloak/keycloak-networkpolicy.yaml"]) == 0
    out = capsys.readouterr().out
    assert "rendered:  yes, as services/keycloak/20-keycloak/networkpolicy.yaml by descriptor keycloak" in out
    assert "- dev-alias-keycloak-netpol (alias, clusters.k8s-dev" in out
    assert "approved_by: parity-oracle-owner" in out
    assert "matched here: yes" in out
    assert "verdict:   equal" in out


# --------------------------------------------------------------------------------------------- (b) mutations

def edit(path: Path, pattern: str, replacement: str, *, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    new, found = re.subn(pattern, replacement, text, count=count, flags=re.M)
    assert found, f"{pattern!r} not in {path}"
    path.write_text(new, encoding="utf-8")


Mutation = Callable[[Path], object]


def edit_flux_system(root: Path) -> None:
    """Bootstrap-owned files change and a new one appears: none of it is compared."""
    edit(root / "flux-system/gotk-sync.yaml", r"interval: \S+", "interval: 99m")
    (root / "flux-system/extra.yaml").write_text("x: 1\n")
QA_SOURCE = "services/sources/opencenter-keycloak.yaml"
DEV_NETPOL = "services/keycloak/20-keycloak/keycloak-networkpolicy.yaml"
UAT_SECRET = "customer-managed/sources/customer-repository-rpl-apps-flux-k8s.yaml"

MUTATIONS: dict[str, tuple[str, Mutation, list[tuple[str, str]]]] = {
    # ---- must fail, with exactly this finding
    "value in a renderer-owned file": (
        "k8s-qa", lambda o: edit(o / QA_SOURCE, r"tag: \S+", "tag: v0.0.1"), [("PARITY-CONTENT", QA_SOURCE)]),
    "deleted file": (
        "k8s-uat", lambda o: (o / "managed-services/alert-proxy/override-values.yaml").unlink(),
        [("PARITY-UNEXPECTED", "managed-services/alert-proxy/override-values.yaml")]),
    "added file": (
        "k8s-uat", lambda o: (o / "services/calico/extra.yaml").write_text("kind: ConfigMap\n"),
        [("PARITY-MISSING", "services/calico/extra.yaml")]),
    "scalar type change (int to string)": (
        "k8s-qa", lambda o: edit(o / "services/kafka-cluster/override-values.yaml", r"replicas: (\d+)$",
                                 r'replicas: "\1"'),
        [("PARITY-CONTENT", "services/kafka-cluster/override-values.yaml")]),
    "list order": (
        "k8s-qa", lambda o: edit(o / "kustomization.yaml",
                                 r"(  - \./services/fluxcd\n)(  - \./managed-services/fluxcd\n)", r"\2\1"),
        [("PARITY-CONTENT", "kustomization.yaml")]),
    "change in an aliased file": (
        "k8s-dev", lambda o: edit(o / DEV_NETPOL, r"port: 8443", "port: 9443"), [("PARITY-CONTENT", DEV_NETPOL)]),
    "YAML that does not parse": (
        "k8s-qa", lambda o: (o / "services/calico/override-values.yaml").write_text("installation: [unclosed\n"),
        [("PARITY-PARSE", "services/calico/override-values.yaml")]),
    "duplicate key": (
        "k8s-qa", lambda o: edit(o / QA_SOURCE, r"^kind: GitRepository$", "kind: GitRepository\nkind: GitRepository"),
        [("PARITY-PARSE", QA_SOURCE)]),
    "secret value in a customer-managed Secret": (
        "k8s-uat", lambda o: edit(o / UAT_SECRET, r"identity: \S+", "identity: PLACEHOLDER-OTHER"),
        [("PARITY-CONTENT", UAT_SECRET)]),
    "path_only file deleted (presence is still compared)": (
        "k8s-dr", lambda o: (o / "services/kafka-cluster/override-values.yaml").unlink(),
        [("PARITY-UNEXPECTED", "services/kafka-cluster/override-values.yaml")]),
    # ---- must pass
    "reordered keys": (
        "k8s-qa", lambda o: edit(o / QA_SOURCE, r"\AapiVersion: (\S+)\nkind: (\S+)\n", r"kind: \2\napiVersion: \1\n"),
        []),
    "comments": (
        "k8s-qa", lambda o: edit(o / QA_SOURCE, r"^(  interval: \S+)$", "# reviewed\n\\1  # why not"), []),
    "quoting": (
        "k8s-qa", lambda o: edit(o / QA_SOURCE, r"tag: (\S+)$", r'tag: "\1"'), []),
    "indentation and flow style": (
        "k8s-qa", lambda o: edit(o / QA_SOURCE, r"  secretRef:\n    name: (\S+)\n", r"  secretRef: {name: \1}\n"), []),
    "flux-system/ edit": (
        "k8s-qa", edit_flux_system, []),
    "file outside the renderer-owned paths": (
        "k8s-qa", lambda o: (o / "NOTES.md").write_text("# hand notes\n"), []),
    "change under ignore_fixture": (
        "k8s-dev", lambda o: (o / "services/harbor/README.md").write_text("# rewritten\n"), []),
    "change under path_only": (
        "k8s-dr", lambda o: (o / "services/kafka-cluster/override-values.yaml").write_text("rewritten: true\n"), []),
    "change under yaml_remove": (
        "k8s-qa", lambda o: edit(o / "kustomization.yaml", r"rendered-at: .*$", 'rendered-at: "1999-01-01T00:00:00Z"'),
        []),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation(name: str, project: Path, rendered: Rendered) -> None:
    cluster, mutate, expected = MUTATIONS[name]
    mutate(overlay(project, cluster))
    assert check(project, rendered, (cluster,)) == [(cluster, code, path) for code, path in expected]


def test_secret_values_stay_masked_in_every_channel(project: Path, rendered: Rendered, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    edit(overlay(project, "k8s-uat") / UAT_SECRET, r"identity: \S+", "identity: PLACEHOLDER-SEEN-NOWHERE-42")
    monkeypatch.chdir(project)
    assert main(["check", "--cluster", "k8s-uat", "--json", "r.json", "--junit", "r.xml", "--sarif", "r.sarif"]) == 1
    assert main(["diff", "--cluster", "k8s-uat", UAT_SECRET]) == 1
    out = capsys.readouterr().out
    assert "stringData.identity: <redacted sha256:" in out
    for text in (out, *(p.read_text() for p in project.glob("r.*"))):
        assert "SEEN-NOWHERE" not in text
        assert "NOT-A-REAL-PRIVATE-KEY" not in text


# --------------------------------------------------------------------------------------------- inventory

InventoryData = dict[str, Any]  # the inventory as ruamel's round-trip loader reads it (nested mappings, lists)


def edit_inventory(root: Path, change: Callable[[InventoryData], None]) -> None:
    path = root / "canonicalization" / INVENTORY.name
    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    change(data)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def drop_rule(rule_id: str) -> Callable[[InventoryData], None]:
    def change(data: InventoryData) -> None:
        sections = [data["defaults"], *data["clusters"].values()]
        for rules in sections:
            for index, rule in enumerate(rules):
                if rule["id"] == rule_id:
                    del rules[index]
                    return
        raise AssertionError(rule_id)
    return change


def test_removing_an_ignore_rule_is_a_finding(project: Path, rendered: Rendered) -> None:
    edit_inventory(project, drop_rule("dev-harbor-team-readme"))
    assert check(project, rendered) == [("k8s-dev", "PARITY-MISSING", "services/harbor/README.md")]


def test_removing_an_alias_is_a_finding(project: Path, rendered: Rendered) -> None:
    edit_inventory(project, drop_rule("dev-alias-keycloak-netpol"))
    assert check(project, rendered, ("k8s-dev",)) == [
        ("k8s-dev", "PARITY-MISSING", DEV_NETPOL),
        ("k8s-dev", "PARITY-UNEXPECTED", "services/keycloak/20-keycloak/networkpolicy.yaml"),
    ]


def test_removing_a_default_yaml_remove_rule_fails_every_stamped_cluster(project: Path, rendered: Rendered) -> None:
    edit_inventory(project, drop_rule("root-rendered-at"))
    assert check(project, rendered) == [(c, "PARITY-CONTENT", "kustomization.yaml") for c in CLUSTERS]


def test_a_rule_that_matches_nothing_is_stale(project: Path, rendered: Rendered) -> None:
    def add(data: InventoryData) -> None:
        data["clusters"]["k8s-qa"] = [{
            "id": "qa-nothing", "kind": "ignore_fixture", "path": "services/nothing.yaml",
            "rationale": "test", "approved_by": "test"}]
    edit_inventory(project, add)
    assert check(project, rendered) == [("k8s-qa", "PARITY-STALE-RULE", "canonicalization/" + INVENTORY.name)]


def test_path_only_budget_cannot_grow(project: Path, rendered: Rendered) -> None:
    edit_inventory(project, lambda data: data.__setitem__("path_only_budget", 1))
    assert check(project, rendered) == [("", "PARITY-PATH-ONLY-BUDGET", "canonicalization/" + INVENTORY.name)]
