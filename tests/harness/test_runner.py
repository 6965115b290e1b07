"""The runner: cluster selection, deterministic sharding, streaming, render errors, inventory verdicts.

Runs on a small generated project rendered by a fake external renderer command (the CommandRenderer
path); see :mod:`tests.integration.fake_project`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.config_secrets import config_secrets
from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.project_config import ProjectConfig, load_project_config
from harness.runner import ParityRun, gate, run_parity
from harness.selection import is_first_shard, parse_shard, select_clusters, shard_clusters
from tests.integration.fake_project import (
    CLUSTERS,
    PLANTED,
    FakeProject,
    copy_project,
    inventory_text,
    make_project,
    rule,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> FakeProject:
    return make_project(tmp_path_factory.mktemp("runner") / "project")


@pytest.fixture
def project(base: FakeProject, tmp_path: Path) -> FakeProject:
    return copy_project(base, tmp_path / "project")


def settings(project: FakeProject) -> ProjectConfig:
    return load_project_config(project.root)


def codes(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


# --------------------------------------------------------------------------------------------- sharding

@pytest.mark.parametrize(("spec", "expected"), [("1/1", (1, 1)), ("2/4", (2, 4)), ("4/4", (4, 4))])
def test_parse_shard(spec: str, expected: tuple[int, int]) -> None:
    assert parse_shard(spec) == expected


@pytest.mark.parametrize("spec", ["0/2", "3/2", "1/0", "a/b", "2", "", "1/2/3", "-1/2"])
def test_bad_shard_is_usage_error(spec: str) -> None:
    with pytest.raises(InputError) as info:
        parse_shard(spec)
    assert info.value.code == "USAGE"


@given(st.lists(st.from_regex(r"k8s-[a-z]{1,6}", fullmatch=True), unique=True, max_size=12),
       st.integers(min_value=1, max_value=7))
def test_shards_are_deterministic_disjoint_and_complete(clusters: list[str], total: int) -> None:
    shards = [shard_clusters(clusters, i, total) for i in range(1, total + 1)]
    union = [c for s in shards for c in s]
    assert sorted(union) == sorted(clusters)  # complete and disjoint (no duplicates)
    assert shards == [shard_clusters(list(reversed(clusters)), i, total) for i in range(1, total + 1)]
    assert max(map(len, shards)) - min(map(len, shards)) <= 1  # balanced


def test_select_clusters_with_shards_covers_every_cluster_once(base: FakeProject) -> None:
    config = settings(base)
    assert select_clusters(config) == list(CLUSTERS)
    parts = [select_clusters(config, shard=f"{i}/2") for i in (1, 2)]
    assert parts == [["k8s-a", "k8s-c"], ["k8s-b"]]
    assert select_clusters(config, ["k8s-c", "k8s-a", "k8s-c"]) == ["k8s-a", "k8s-c"]
    assert is_first_shard(None)
    assert is_first_shard("1/3")
    assert not is_first_shard("2/3")


def test_unknown_cluster_is_usage_error_naming_known_ones(base: FakeProject) -> None:
    with pytest.raises(InputError) as info:
        select_clusters(settings(base), ["k8s-zz"])
    assert info.value.code == "USAGE"
    assert "known: k8s-a, k8s-b, k8s-c" in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_missing_fixture_root_and_overlay_are_file_missing(project: FakeProject) -> None:
    config = settings(project)
    with pytest.raises(InputError) as info:
        select_clusters(config.with_overrides(fixture=project.root / "nowhere"))
    assert info.value.code == "FILE-MISSING"
    (project.fixture / ".k8s-new-config.yaml").write_text("{}")
    with pytest.raises(InputError) as info:
        select_clusters(config)
    assert info.value.code == "FILE-MISSING"
    assert "applications/overlays/k8s-new" in info.value.one_line()
    assert "k8s-new" in select_clusters(config, require_overlays=False)


# --------------------------------------------------------------------------------------------- runs

def test_full_run_is_clean_and_matches_every_rule(base: FakeProject) -> None:
    seen: list[str] = []
    report = run_parity(settings(base), progress=lambda r: seen.append(r.name))
    assert seen == ["parity[k8s-a]", "parity[k8s-b]", "parity[k8s-c]", "inventory"]
    assert report.failing() == []
    assert gate(report) == 0
    assert report.clusters_run == set(CLUSTERS)
    assert report.matched_rules == {"flux-annotation", "debug-flag", "values-alias", "legacy-file",
                                    "generated-file", "notes-path-only"}
    assert report.inventory["path"] == "canonicalization/fake-fixture.yaml"
    assert report.inventory["clusters"] == list(CLUSTERS)
    parity = report.results[0]
    assert parity.notes["files_compared"] == 11
    assert parity.notes["excluded_fixture"] == ["README.md"]
    assert report.results[-1].notes["stale_rules_judged"] == "all rules"


def test_rendered_trees_are_streamed_and_deleted(base: FakeProject, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    run_parity(settings(base), ["k8s-a"])
    assert list(tmp_path.iterdir()) == []


def test_a_shard_judges_only_its_own_cluster_rules(project: FakeProject) -> None:
    project.inventory.write_text(inventory_text(extra="") .replace(
        "  k8s-b:\n", "  k8s-b:\n    " + rule("b-unused", "ignore_fixture", "services/nothing.yaml") + "\n"))
    one = run_parity(settings(project), shard="1/2")  # k8s-a, k8s-c
    assert one.failing() == []
    assert one.results[-1].notes["stale_rules_judged"] == "cluster rules of the clusters run"
    two = run_parity(settings(project), shard="2/2")  # k8s-b
    assert [(f.code, f.rules) for f in two.failing()] == [("PARITY-STALE-RULE", ("b-unused",))]


def test_default_rule_matching_nowhere_is_stale_only_in_a_full_run(project: FakeProject) -> None:
    extra = rule("nowhere", "yaml_remove", "services/none/*.yaml", pointers=["/x"])
    project.inventory.write_text(inventory_text().replace("defaults:\n", f"defaults:\n  {extra}\n"))
    assert run_parity(settings(project), ["k8s-a", "k8s-b"]).failing() == []
    full = run_parity(settings(project))
    stale = full.failing()
    assert [(f.code, f.rules, f.check) for f in stale] == [("PARITY-STALE-RULE", ("nowhere",), "inventory")]
    assert stale[0].line == 5
    assert stale[0].path == "canonicalization/fake-fixture.yaml"


def test_rules_for_a_cluster_without_config_are_stale_in_a_full_run(project: FakeProject) -> None:
    project.inventory.write_text(inventory_text() + "  k8s-gone:\n    "
                                 + rule("gone", "ignore_fixture", "services/x.yaml") + "\n")
    assert run_parity(settings(project), ["k8s-a"]).failing() == []
    findings = run_parity(settings(project)).failing()
    assert [f.rules for f in findings] == [("gone",)]
    assert "has no config in the fixture" in findings[0].message


def test_budget_note_does_not_fail_the_gate(project: FakeProject) -> None:
    project.inventory.write_text(inventory_text(budget=3))
    report = run_parity(settings(project))
    notes = [f for f in report.findings() if f.code == "PARITY-PATH-ONLY-BUDGET"]
    assert [f.severity for f in notes] == [Severity.NOTE]
    assert gate(report) == 0
    assert report.exit_code() == 0
    project.inventory.write_text(inventory_text(budget=0))
    assert codes(run_parity(settings(project)).failing()) == ["PARITY-PATH-ONLY-BUDGET"]


def test_every_mismatch_of_every_cluster_is_reported(project: FakeProject) -> None:
    overlay_a, overlay_c = project.overlay("k8s-a"), project.overlay("k8s-c")
    (overlay_a / "services/sources/opencenter-app.yaml").write_text(
        (overlay_a / "services/sources/opencenter-app.yaml").read_text().replace("v1.2.0", "v1.1.0"))
    (overlay_a / "services/app/networkpolicy.yaml").unlink()
    (overlay_c / "services/extra.yaml").write_text("a: 1\n")
    report = run_parity(settings(project))
    assert [(f.cluster, f.code, f.path) for f in report.failing()] == [
        ("k8s-a", "PARITY-UNEXPECTED", "services/app/networkpolicy.yaml"),
        ("k8s-a", "PARITY-CONTENT", "services/sources/opencenter-app.yaml"),
        ("k8s-c", "PARITY-MISSING", "services/extra.yaml"),
    ]
    assert report.failing()[1].owner == "sources"  # from the external renderer's diagnostics
    assert gate(report) == 1


def test_render_error_is_a_finding_and_other_clusters_still_run(project: FakeProject) -> None:
    project.fail_render("k8s-b", "template boom")
    report = run_parity(settings(project))
    failing = report.failing()
    assert [(f.cluster, f.code) for f in failing] == [("k8s-b", "PARITY-RENDER-ERROR")]
    assert "RENDERER-INVALID" in failing[0].message
    assert "template boom" in failing[0].message
    assert report.clusters_run == {"k8s-a", "k8s-c"}
    assert report.results[-1].notes["stale_rules_judged"] == "cluster rules of the clusters run"


def test_renderer_that_cannot_start_is_an_input_error(project: FakeProject) -> None:
    config = settings(project).with_overrides(renderer="no-such-renderer-binary --config {config} --out {out}")
    with pytest.raises(InputError) as info:
        run_parity(config)
    assert info.value.code == "RENDERER-INVALID"
    assert "no-such-renderer-binary" in info.value.one_line()


def test_bad_inventory_is_an_input_error_with_file_and_line(project: FakeProject) -> None:
    project.inventory.write_text(inventory_text() + "surprise: true\n")
    with pytest.raises(InputError) as info:
        ParityRun.create(settings(project))
    assert info.value.code == "INVENTORY-INVALID"
    assert info.value.one_line().startswith("canonicalization/fake-fixture.yaml:")


def test_config_secrets_are_masked_in_byte_diffs(project: FakeProject) -> None:
    data = json.loads(project.config("k8s-a").read_text())
    data["identity"] = PLANTED
    data["files"]["services/app/notes.txt"] = f"deploy key {PLANTED}\n"
    project.config("k8s-a").write_text(json.dumps(data))
    assert config_secrets(project.config("k8s-a"), max_bytes=10**6) == [PLANTED]
    report = run_parity(settings(project), ["k8s-a"])
    [finding] = report.failing()
    assert finding.code == "PARITY-CONTENT"
    assert finding.path == "services/app/notes.txt"
    text = json.dumps(report.to_dict())
    assert PLANTED not in text
    assert "redacted sha256:" in text


def test_update_run_then_check_passes(project: FakeProject) -> None:
    overlay = project.overlay("k8s-b")
    (overlay / "services/sources/opencenter-app.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (overlay / "services/app/stale.yaml").write_text("old: true\n")
    project.set_rendered("k8s-b", "services/app/new.yaml", "new: true\n")
    assert gate(run_parity(settings(project))) == 1
    updated = run_parity(settings(project), update=True)
    changes = [(c["action"], c["path"], c["applied"]) for c in updated.results[1].notes["updates"]]
    assert ("rewrite", "services/sources/opencenter-app.yaml", True) in changes
    assert ("add", "services/app/new.yaml", True) in changes
    assert ("delete", "services/app/stale.yaml", True) in changes
    assert gate(updated) == 0
    assert gate(run_parity(settings(project))) == 0


def test_update_creates_a_missing_overlay(project: FakeProject) -> None:
    (project.fixture / ".k8s-new-config.yaml").write_text(project.config("k8s-a").read_text())
    report = run_parity(settings(project), ["k8s-new"], update=True)
    assert (project.overlay("k8s-new") / "kustomization.yaml").is_file()
    skipped = [c["path"] for c in report.results[0].notes["updates"] if not c["applied"]]
    security = [".sops.yaml", "customer-managed/sources/repo-auth.yaml", "services/app/networkpolicy.yaml"]
    assert skipped == security
    assert [(f.code, f.path) for f in report.failing()] == [("PARITY-UNEXPECTED", p) for p in security]
    assert gate(run_parity(settings(project), ["k8s-new"], update=True, force=True)) == 0


# ------------------------------------------------------------------------------- in-memory renderers

MEMORY_RENDERER = '''
"""The fake renderer as an in-process renderer with both faces: render (a directory) and render_files."""
import json
import os
from pathlib import Path

from harness.renderer_api import Plan, RenderedFiles


class MemoryFake:
    def __init__(self):
        self.calls = []
        self.extra = {}

    def _files(self, config_path):
        config = json.loads(Path(config_path).read_text(encoding="utf-8"))
        files = {rel: text.encode() for rel, text in config["files"].items()}
        files.update(self.extra)
        return config["cluster"], files

    def render(self, config_path, out_dir, *, service=None):
        self.calls.append("render")
        cluster, files = self._files(config_path)
        for rel, data in files.items():
            path = Path(out_dir, *rel.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return Plan(cluster=cluster, renderer="memory-fake")

    def render_files(self, config_path):
        self.calls.append("render_files")
        cluster, files = self._files(config_path)
        return RenderedFiles(plan=Plan(cluster=cluster, renderer="memory-fake"), files=files)


RENDERER = MemoryFake()
'''


@pytest.fixture
def memory_renderer(project: FakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ProjectConfig, Any]:
    """The project checked through an in-process renderer that can render into memory."""
    module = f"memory_fake_{abs(hash(tmp_path))}"
    (tmp_path / f"{module}.py").write_text(MEMORY_RENDERER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = settings(project).with_overrides(renderer=f"{module}:RENDERER")
    renderer = ParityRun.create(config).renderer
    return config, renderer


def _verdicts(report: Any) -> list[tuple[str, list[tuple[str, str]], int]]:
    return [(r.name, [(f.code, f.path) for f in r.findings], r.notes.get("files_compared", -1))
            for r in report.results]


def test_memory_renderer_is_used_for_checks_and_agrees_with_the_directory_path(
        project: FakeProject, memory_renderer: tuple[ProjectConfig, Any]) -> None:
    config, renderer = memory_renderer
    (project.overlays / "k8s-b" / "services" / "app" / "networkpolicy.yaml").write_text("kind: Changed\n")
    in_memory = run_parity(config)
    assert set(renderer.calls) == {"render_files"}
    assert len(renderer.calls) == len(CLUSTERS)
    on_disk = run_parity(settings(project))  # the same project through the command renderer's directories
    assert _verdicts(in_memory) == _verdicts(on_disk)
    assert [f.code for f in in_memory.failing()] == ["PARITY-CONTENT"]


def test_memory_renderer_update_still_renders_into_a_directory(
        project: FakeProject, memory_renderer: tuple[ProjectConfig, Any]) -> None:
    config, renderer = memory_renderer
    run_parity(config, ["k8s-a"], update=True)
    assert renderer.calls == ["render"]


def test_memory_renderer_returning_a_path_outside_the_overlay_is_renderer_invalid(
        memory_renderer: tuple[ProjectConfig, Any]) -> None:
    config, renderer = memory_renderer
    renderer.extra = {"services/../../../etc/cron.d/x": b"* * * * * boom\n"}
    with pytest.raises(InputError) as info:
        run_parity(config, ["k8s-a"])
    assert info.value.code == "RENDERER-INVALID"
    assert "boom" not in info.value.one_line()
