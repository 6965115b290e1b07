"""harness.kustomize with the real kubectl: builds, one-line errors, the per-run cache, concurrency."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.kustomize import KustomizeBuilder, content_hash, one_line_error
from tests.harness.policy.trees import edit, make_overlay


def test_build_parses_objects_and_caches_by_content(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    service = overlay / "services" / "demo"
    with KustomizeBuilder() as builder:
        first = builder.build(service)
        assert first.ok, first.error
        kinds = sorted(d["kind"] for d in first.documents())
        assert kinds == ["ClusterPolicy", "ConfigMap", "NetworkPolicy", "Secret"]
        assert builder.build(service) is first
        assert (builder.builds, builder.cache_hits) == (1, 1)
        edit(service / "configmap.yaml", "mode: standard", "mode: changed")
        second = builder.build(service)
        assert second is not first
        assert builder.builds == 2


def test_failure_is_one_short_line_with_relative_paths(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/demo/kustomization.yaml", "resources: [configmap.yaml", "resources: [missing.yaml")
    with KustomizeBuilder() as builder:
        result = builder.build(overlay / "services" / "demo", display="services/demo")
    assert not result.ok
    assert "\n" not in result.error
    assert len(result.error) <= 300
    assert "missing.yaml" in result.error
    assert str(tmp_path) not in result.error


def test_build_many_runs_every_directory_once(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    dirs = [overlay, overlay / "services" / "demo", overlay / "services" / "fluxcd", overlay / "services" / "demo"]
    with KustomizeBuilder(jobs=2) as builder:
        results = builder.build_many(dirs)
        assert set(results) == set(dirs)
        assert all(r.ok for r in results.values())
        assert builder.builds == 3


def test_missing_directory_is_a_failed_build(tmp_path: Path) -> None:
    with KustomizeBuilder() as builder:
        result = builder.build(tmp_path / "nope", display="nope")
    assert not result.ok
    assert "does not exist" in result.error


def test_missing_kubectl_is_tool_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERLAY_PARITY_KUBECTL", "/nonexistent")
    with KustomizeBuilder() as builder, pytest.raises(InputError) as info:
        builder.build(tmp_path)
    assert info.value.code == "TOOL-MISSING"
    assert "quickstart" in info.value.one_line()


def test_content_hash_and_error_helpers(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n")
    before = content_hash(tmp_path)
    (tmp_path / "a.yaml").write_text("x: 2\n")
    assert content_hash(tmp_path) != before
    text = f"Error: accumulating resources from '{tmp_path}/a.yaml': AGE-SECRET-KEY-1QQQQ boom\n  more\n"
    line = one_line_error(text, tmp_path, "svc")
    assert line == "accumulating resources from 'svc/a.yaml': [REDACTED] boom more"


def test_plain_equals_sign_in_output_reads_as_a_string(tmp_path: Path) -> None:
    # kustomize writes `op: =` unquoted (alertmanager matchType); YAML 1.1 would tag it as a "value" key
    overlay = make_overlay(tmp_path)
    edit(overlay / "services/demo/configmap.yaml", "data: {mode: standard}", "data: {mode: standard, op: '='}")
    with KustomizeBuilder() as builder:
        result = builder.build(overlay / "services" / "demo")
    assert result.ok, result.error
    assert "op: =\n" in result.output
    [config_map] = [d for d in result.documents() if d["kind"] == "ConfigMap"]
    assert config_map["data"] == {"mode": "standard", "op": "="}
