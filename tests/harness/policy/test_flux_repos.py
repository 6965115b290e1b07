"""`policy` on realistic Flux repositories (real git, real kubectl): clean layouts, then one planted fault each."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.findings import Finding, Severity
from harness.kustomize import KustomizeBuilder
from harness.policy import PolicyOptions, check_overlay
from harness.policy.model import PolicyContext
from tests.harness.policy import flux_repos
from tests.harness.policy.flux_repos import git, monorepo
from tests.support.trees import dedent as d
from tests.support.trees import replace_once as edit
from tests.support.trees import write_tree as write


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
    for where in ("clusters/staging", ""):  # from the repository root too: production's own `apps` is fine
        finding = _one(repo, "POLICY-PRUNE", where)
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


# --- other layouts --------------------------------------------------------------------------------------

LAYOUT_NOTES = {
    "multi_tenancy": {"POLICY-FLUX-PATH", "POLICY-LIFECYCLE", "POLICY-SCHEMA", "POLICY-SECURITY-DROPPED",
                      "POLICY-UNPINNED-SOURCE"},
    "oci_and_external": {"POLICY-FLUX-PATH", "POLICY-LIFECYCLE", "POLICY-SECURITY-DROPPED"},
    "generated_dirs": {"POLICY-LIFECYCLE", "POLICY-SECURITY-DROPPED"},
    "substitution_vars": {"POLICY-LIFECYCLE", "POLICY-SECURITY-DROPPED"},
}


@pytest.mark.parametrize("layout", sorted(LAYOUT_NOTES))
def test_layouts_are_clean(tmp_path: Path, layout: str) -> None:
    root = getattr(flux_repos, layout)(tmp_path)
    result = check_overlay(root)
    errors = [f"{f.code} {f.path}:{f.line} {f.message}" for f in result.findings if f.severity is Severity.ERROR]
    assert errors == []
    warnings = [(f.code, f.path) for f in result.findings if f.severity is Severity.WARNING]
    # the tenant's GitRepository tracks a branch: a warning by default, never a failure
    expected = [("POLICY-UNPINNED-SOURCE", "tenants/base/dev-team/sync.yaml")] if layout == "multi_tenancy" else []
    assert warnings == expected
    assert {f.code for f in result.findings} == LAYOUT_NOTES[layout]
    assert git(root, "status", "--porcelain") == ""


def test_external_sources_are_notes_with_their_line(tmp_path: Path) -> None:
    root = flux_repos.oci_and_external(tmp_path)
    notes = {f.path: f for f in check_overlay(root).findings if f.code == "POLICY-FLUX-PATH"}
    assert set(notes) == {"clusters/edge/podinfo.yaml", "clusters/edge/generated.yaml"}
    assert "OCIRepository flux-system/podinfo is an artifact produced outside this repository" in notes[
        "clusters/edge/podinfo.yaml"].message
    assert notes["clusters/edge/generated.yaml"].line == _line(root / "clusters/edge/generated.yaml", "sourceRef:")


def test_generated_kustomization_respects_sourceignore(tmp_path: Path) -> None:
    root = flux_repos.generated_dirs(tmp_path)
    (root / ".sourceignore").unlink()  # now the Helm values file is in the artifact and is not Kubernetes YAML
    [finding] = _problems(root)
    assert finding.code == "POLICY-FLUX-PATH"
    assert finding.path == "clusters/lab/monitoring.yaml"
    assert "monitoring/values/grafana.yaml" in finding.message


def test_substituted_objects_and_unresolved_variables(tmp_path: Path) -> None:
    root = flux_repos.substitution_vars(tmp_path)
    with PolicyContext(root, "vars", repo_root=None, options=PolicyOptions(), builder=KustomizeBuilder()) as ctx:
        [web] = [o for o in ctx.applied.objects if o.kind == "Deployment"]
        [script] = [o for o in ctx.applied.objects if o.name == "backup-script"]
    assert web.data["spec"]["replicas"] == 3
    assert web.data["metadata"]["labels"] == {"env": "production"}
    env = {e["name"]: e["value"] for e in web.data["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"PUBLIC_URL": "https://web.eu.example.org", "LOG_LEVEL": "info", "TEMPLATE": "${literal}"}
    assert "${BACKUP_TARGET}" in script.data["data"]["run.sh"]  # substitution disabled on this object

    edit(root / "clusters/eu/cluster-vars.yaml", "  cluster_domain: eu.example.org\n", "")
    finding = _one(root, "POLICY-SUBSTITUTION")
    assert (finding.path, finding.line) == ("apps/production/web.yaml",
                                            _line(root / "apps/production/web.yaml", "${cluster_domain}"))


def test_substitute_from_an_object_outside_the_repository_is_a_note(tmp_path: Path) -> None:
    root = flux_repos.substitution_vars(tmp_path)
    edit(root / "clusters/eu/apps.yaml", "name: cluster-vars", "name: vars-from-terraform")
    result = check_overlay(root)
    assert [f for f in result.findings if f.severity is not Severity.NOTE] == []
    [note] = [f for f in result.findings if f.code == "POLICY-SUBSTITUTION"]
    assert "ConfigMap flux-system/vars-from-terraform" in note.message


def test_shared_base_is_built_at_the_pinned_tag(tmp_path: Path) -> None:
    root, base = flux_repos.shared_base(tmp_path)
    head, status = git(base, "rev-parse", "HEAD"), git(base, "status", "--porcelain")
    mapped = PolicyOptions(sources=((flux_repos.BASE_URL, base),))
    result = check_overlay(root, options=mapped)
    assert [f"{f.code} {f.message}" for f in result.findings if f.severity is not Severity.NOTE] == []
    assert result.notes["builds"] == 2  # the cluster and the base path (at v1.0.0, not the broken working tree)
    assert (git(base, "rev-parse", "HEAD"), git(base, "status", "--porcelain")) == (head, status)
    assert git(base, "worktree", "list").count("\n") == 1  # the temporary worktree is gone

    unmapped = check_overlay(root)
    assert [f.severity for f in unmapped.findings if f.code == "POLICY-FLUX-PATH"] == [Severity.NOTE]

    edit(root / "clusters/eu/demo.yaml", "tag: v1.0.0", "tag: v9.9.9")
    [finding] = _problems(root, mapped)
    assert finding.code == "POLICY-FLUX-PATH"
    assert "has no tag v9.9.9" in finding.message

    edit(root / "clusters/eu/demo.yaml", "tag: v9.9.9", "branch: main")
    problems = _problems(root, mapped)  # the working tree is built (with a note), and it is broken
    assert {f.code for f in problems} == {"POLICY-FLUX-PATH", "POLICY-UNPINNED-SOURCE"}


def test_directory_without_bootstrap_builds_each_top_level_kustomization(mono: Path) -> None:
    result = check_overlay(mono / "apps")
    assert [f"{f.code} {f.message}" for f in result.findings if f.severity is not Severity.NOTE] == []
    assert result.notes["builds"] == 2  # apps/production and apps/staging; apps/base is referenced by both


def test_sops_secrets_and_documentation_examples_are_not_alarms(repo: Path) -> None:
    write(repo, {
        "infrastructure/configs/dns-credentials.yaml": d("""
            apiVersion: v1
            kind: Secret
            metadata:
              name: dns-credentials
              namespace: cert-manager
              creationTimestamp: null
            type: Opaque
            stringData:
              token: ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]
            sops:
              age:
                - recipient: age1mhsertvk3tszzjp96wdakpdwj5z342j6xcw5hp5v4u8n0u48lg0sk6qgu0
                  enc: PLACEHOLDER
              lastmodified: "2025-01-01T00:00:00Z"
              version: 3.9.0
        """),
        "docs/examples/kustomization.yaml.example": "not yaml: [\n",
        "docs/examples/app.yaml": d("""
            # An example for the README: not applied by any Flux Kustomization
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata:
              name: example
            spec:
              interval: 5m
              path: ./somewhere
              sourceRef:
                kind: GitRepository
                name: example
        """),
    })
    edit(repo / "infrastructure/configs/kustomization.yaml", "- cluster-issuers.yaml",
         "- cluster-issuers.yaml\n  - dns-credentials.yaml")
    assert _problems(repo) == []


def test_exported_tree_without_git_finds_its_root_from_bootstrap(mono: Path, tmp_path: Path) -> None:
    import shutil

    export = tmp_path / "export"
    shutil.copytree(mono, export, ignore=shutil.ignore_patterns(".git"))
    result = check_overlay(export / "clusters/production")
    assert [f"{f.code} {f.message}" for f in result.findings if f.severity is not Severity.NOTE] == []
    assert result.notes["builds"] == 4  # the cluster, infrastructure/controllers, infrastructure/configs, apps
