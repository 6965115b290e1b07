"""`policy` on realistic Flux repositories (real git, real kubectl): clean layouts, then one planted fault each."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.findings import Finding, Severity
from harness.policy import PolicyOptions, check_overlay
from tests.harness.policy.flux_repos import git, monorepo
from tests.support.trees import replace_once as edit


def _problems(directory: Path, options: PolicyOptions | None = None) -> list[Finding]:
    result = check_overlay(directory, options=options)
    return [f for f in result.findings if f.severity is not Severity.NOTE]


def _line(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return monorepo(tmp_path_factory.mktemp("mono"))


@pytest.mark.parametrize("where", ["", "clusters/production", "clusters/staging"])
def test_monorepo_is_clean(mono: Path, where: str) -> None:
    result = check_overlay(mono / where)
    assert [f"{f.code} {f.path}:{f.line} {f.message}" for f in result.findings
            if f.severity is not Severity.NOTE] == []
    assert result.lifecycle_claim == "bootstrap-complete"
    assert git(mono, "status", "--porcelain") == ""  # nothing written into the user's tree


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return monorepo(tmp_path)


def _one(repo: Path, code: str, where: str = "") -> Finding:
    problems = _problems(repo / where)
    assert [f.code for f in problems] == [code], [f"{f.code} {f.path}:{f.line} {f.message}" for f in problems]
    return problems[0]


def test_dangling_path(repo: Path) -> None:
    apps = repo / "clusters/production/apps.yaml"
    edit(apps, "path: ./apps/production", "path: ./apps/prod")
    finding = _one(repo, "POLICY-FLUX-PATH")
    assert (finding.path, finding.line) == ("clusters/production/apps.yaml", _line(apps, "path: ./apps/prod"))
    assert "does not exist in the repository (apps/prod)" in finding.message


def test_missing_resource_file(repo: Path) -> None:
    (repo / "infrastructure/controllers/ingress-nginx.yaml").unlink()
    problems = _problems(repo)
    assert {f.code for f in problems} == {"POLICY-FLUX-PATH"}
    assert {f.path for f in problems} == {"clusters/production/infrastructure.yaml",
                                          "clusters/staging/infrastructure.yaml"}
    line = _line(repo / "clusters/staging/infrastructure.yaml", "path: ./infrastructure/controllers")
    assert all("ingress-nginx.yaml" in f.message and f.line == line for f in problems)


def test_undefined_source(repo: Path) -> None:
    release = repo / "apps/base/podinfo/release.yaml"
    edit(release, "name: podinfo\n  install", "name: podinfo-charts\n  install")
    problems = _problems(repo / "clusters/production")
    assert [f.code for f in problems] == ["POLICY-FLUX-SOURCE"]
    assert problems[0].path == "apps/base/podinfo/release.yaml"
    assert problems[0].line == _line(release, "sourceRef:")
    assert "HelmRepository podinfo/podinfo-charts is not defined" in problems[0].message


def test_depends_cycle(repo: Path) -> None:
    infra = repo / "clusters/production/infrastructure.yaml"
    edit(infra, "  interval: 1h\n  retryInterval", "  dependsOn:\n    - name: apps\n  interval: 1h\n  retryInterval")
    finding = _one(repo, "POLICY-FLUX-DEPENDS", "clusters/production")
    assert finding.message == ("dependsOn cycle: flux-system/apps -> flux-system/infra-configs -> "
                               "flux-system/infra-controllers -> flux-system/apps")
    assert finding.path == "clusters/production/apps.yaml"
    assert finding.line == _line(repo / "clusters/production/apps.yaml", "dependsOn:")


def test_unpinned_source(repo: Path) -> None:
    nginx = repo / "infrastructure/controllers/ingress-nginx.yaml"
    edit(nginx, '    semver: ">=4.10.0 <5.0.0"', "    tag: latest")
    problems = _problems(repo / "clusters/staging")
    assert [(f.code, f.severity) for f in problems] == [("POLICY-UNPINNED-SOURCE", Severity.WARNING)]
    assert (problems[0].path, problems[0].line) == ("infrastructure/controllers/ingress-nginx.yaml",
                                                    _line(nginx, "ref:"))
    strict = _problems(repo / "clusters/staging", PolicyOptions(unpinned_sources="error"))
    assert [(f.code, f.severity) for f in strict] == [("POLICY-UNPINNED-SOURCE", Severity.ERROR)]


def test_prune_off(repo: Path) -> None:
    apps = repo / "clusters/staging/apps.yaml"
    edit(apps, "prune: true", "prune: false")
    finding = _one(repo, "POLICY-PRUNE", "clusters/staging")
    assert (finding.path, finding.line) == ("clusters/staging/apps.yaml", _line(apps, "prune: false"))


def test_unresolved_variable(repo: Path) -> None:
    issuers = repo / "infrastructure/configs/cluster-issuers.yaml"
    edit(issuers, "environment: ${cluster_env}", "environment: ${cluster_env}\n    region: ${cluster_region}")
    finding = _one(repo, "POLICY-SUBSTITUTION", "clusters/production")
    assert (finding.path, finding.line) == ("infrastructure/configs/cluster-issuers.yaml",
                                            _line(issuers, "${cluster_region}"))
    assert "${cluster_region}" in finding.message


def test_dropped_network_policy(repo: Path) -> None:
    kustomization = repo / "apps/base/podinfo/kustomization.yaml"
    edit(kustomization, "  - network-policy.yaml\n", "")
    finding = _one(repo, "POLICY-SECURITY-DROPPED")
    assert finding.path == "apps/base/podinfo/network-policy.yaml"
    assert finding.line == 1
    assert "NetworkPolicy podinfo/deny-from-other-namespaces" in finding.message
