"""Issue 18 class 1: data nested hundreds or thousands of levels deep -- in a cluster config, an inventory, an
oracle file, a Secret, a descriptor, a Flux manifest, a shard report -- ends in one located line (exit 2) or a
normal finding (exit 1), never INTERNAL (exit 3), never a hang, and nothing is written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from harness.nesting import MAX_DEPTH
from tests.hardening.hostile import assert_findings, assert_one_line, assert_sane, run
from tests.hardening.support import Project, make_project, snapshot


def flow(depth: int) -> str:
    return "[" * depth + "]" * depth


def flow_maps(depth: int) -> str:
    return "{a: " * depth + "1" + "}" * depth


def block(depth: int, indent: int = 2) -> str:
    """``depth`` nested mappings by indentation, under one key at column 1."""
    return "".join(" " * (indent * (i + 1)) + f"k{i}:\n" for i in range(depth)) + " " * (indent * (depth + 1)) + "v\n"


def aliased(depth: int) -> str:
    """Each line nests the previous anchor ten levels deeper: few lines, no line deep by itself."""
    lines = [f"l0: &l0 {flow(depth)}"]
    lines += [f"l{i}: &l{i} " + "[" * 10 + f"*l{i - 1}" + "]" * 10 for i in range(1, 12)]
    return "\n".join(lines) + "\n"


DEEP_SUFFIXES = {
    "flow-5000": "deep: " + flow(5000) + "\n",
    "flow-maps-3000": "deep: " + flow_maps(3000) + "\n",
    "block-700": "deep:\n" + block(700),
    "sequence-dashes": "deep:\n" + "".join("  " * (i + 1) + "-\n" for i in range(800)) + "  " * 801 + "- x\n",
    "aliases": aliased(40),
    "just-past-the-limit": "deep: " + flow(MAX_DEPTH) + "\n",
}


def append(path: Path, text: str) -> int:
    """Append ``text``; return the first appended line number."""
    old = path.read_text(encoding="utf-8")
    if not old.endswith("\n"):
        old += "\n"
    path.write_text(old + text, encoding="utf-8")
    return old.count("\n") + 1


@pytest.mark.parametrize("shape", sorted(DEEP_SUFFIXES))
def test_deep_cluster_config_on_render(project: Project, shape: str) -> None:
    first = append(project.config(), DEEP_SUFFIXES[shape])
    before = snapshot(project.overlay())
    outcome = run(["render", "--config", project.config(), "--out", project.overlay()], cwd=project.root)
    error = assert_one_line(outcome, codes=("YAML-TOO-DEEP",), file=project.config(), cwd=project.root)
    assert error.line >= first
    assert str(MAX_DEPTH) in error.message
    assert snapshot(project.overlay()) == before


def test_deep_cluster_config_on_check_is_a_finding(project: Project) -> None:
    append(project.config(), DEEP_SUFFIXES["flow-5000"])
    before = snapshot(project.overlay())
    outcome = run(["check"], cwd=project.root)
    assert_findings(outcome, "PARITY-RENDER-ERROR", "YAML-TOO-DEEP")
    assert snapshot(project.overlay()) == before


@pytest.mark.parametrize("shape", ["flow-5000", "block-700", "aliases", "flow-maps-3000"])
def test_deep_inventory(project: Project, shape: str) -> None:
    first = append(project.inventory, DEEP_SUFFIXES[shape])
    before = snapshot(project.root)
    outcome = run(["check"], cwd=project.root)
    error = assert_one_line(outcome, codes=("YAML-TOO-DEEP",), file=project.inventory, cwd=project.root)
    assert error.line >= first
    assert snapshot(project.root) == before


@pytest.mark.parametrize("shape", ["flow-5000", "block-700", "aliases"])
def test_deep_oracle_file_is_a_parse_finding(project: Project, shape: str) -> None:
    target = project.overlay() / "services" / "harbor" / "kustomization.yaml"
    append(target, DEEP_SUFFIXES[shape])
    before = snapshot(project.overlay())
    outcome = run(["check"], cwd=project.root)
    assert_findings(outcome, "PARITY-PARSE")
    assert "services/harbor/kustomization.yaml" in outcome.stdout
    assert snapshot(project.overlay()) == before


def test_deep_oracle_json_manifest(project: Project) -> None:
    target = project.overlay() / "services" / "harbor" / "deep.json"
    target.write_text('{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + flow(20000) + "}\n", encoding="utf-8")
    outcome = run(["check"], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode == 1
    assert "services/harbor/deep.json" in outcome.stdout


CANARY = "PLAINTEXT-CANARY-deadbeef"


@pytest.mark.parametrize("where", ["data", "stringData", "nested-layer"])
def test_deep_secret_value_is_scanned_or_a_finding(project: Project, where: str) -> None:
    deep = "a: " + flow(4000) + f"\npassword: {CANARY}\n"
    if where == "data":
        body = f"data:\n  config: {base64.b64encode(deep.encode()).decode()}\n"
    elif where == "stringData":
        body = "stringData:\n  config: |\n" + "".join(f"    {line}\n" for line in deep.splitlines())
    else:
        inner = base64.b64encode(deep.encode()).decode()
        body = f"data:\n  config: {base64.b64encode(inner.encode()).decode()}\n"
    secret = project.overlay() / "services" / "harbor" / "deep-secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: deep\n  namespace: harbor\n" + body,
                      encoding="utf-8")
    commands: list[list[str | Path]] = [["scan-secrets", project.overlay()], ["check"]]
    for args in commands:
        outcome = run(args, cwd=project.root)
        assert_sane(outcome)
        assert outcome.returncode == 1, outcome.output[-1500:]
        assert CANARY not in outcome.output
        assert "deep-secret.yaml" in outcome.stdout


def test_deep_flux_kustomization_under_policy(project: Project) -> None:
    target = project.overlay() / "services" / "harbor" / "kustomization.yaml"
    append(target, "patches:\n  - patch: |\n      " + "deep: " + flow(3000) + "\n")
    outcome = run(["policy", project.overlay(), "--repo-root", project.root], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode in (1, 2)


@pytest.mark.parametrize("where", ["descriptor", "template"])
def test_deep_descriptor_or_template(local_project: Project, where: str) -> None:
    if where == "descriptor":
        target = local_project.descriptors / "harbor.yaml"
        first = append(target, "deep: " + flow(5000) + "\n")
    else:
        target = local_project.templates / "services" / "harbor" / "kustomization.yaml"
        assert target.exists(), sorted(p.name for p in target.parent.iterdir())
        first = append(target, "deep: " + flow(5000) + "\n")
    before = snapshot(local_project.overlay())
    outcome = run(["render", "--config", local_project.config(), "--out", local_project.overlay()],
                  cwd=local_project.root)
    error = assert_one_line(outcome)
    assert error.code in ("YAML-TOO-DEEP", "RENDER-FAILED", "TEMPLATE-ERROR", "DESCRIPTOR-INVALID"), error
    if where == "descriptor":
        assert error.code == "YAML-TOO-DEEP"
        assert error.line >= first
    assert "deep" in error.file or where == "template" or error.file.endswith("harbor.yaml")
    assert snapshot(local_project.overlay()) == before


def test_deep_descriptor_under_coverage(local_project: Project) -> None:
    target = local_project.descriptors / "harbor.yaml"
    append(target, "deep:\n" + block(700))
    outcome = run(["coverage"], cwd=local_project.root)
    assert_one_line(outcome, codes=("YAML-TOO-DEEP",), file=target, cwd=local_project.root)


def report(results_notes: object) -> dict[str, object]:
    return {"tool": "overlay-parity", "version": "0", "format": 1, "shard": "", "inventory": {},
            "clusters_run": [], "matched_rules": [],
            "results": [{"name": "parity[k8s-dev]", "check": "parity", "cluster": "k8s-dev", "seconds": 0,
                         "notes": results_notes, "findings": []}]}


@pytest.mark.parametrize("text", [
    '{"tool": "overlay-parity", "format": 1, "results": ' + flow(200_000) + "}",
    json.dumps(report({"deep": json.loads(flow(MAX_DEPTH + 1))})),
    json.dumps(report({"deep": json.loads(flow(900))}), indent=1),
    '{"results": [' + '{"a": ' * 5000 + "1" + "}" * 5000 + "]}",
], ids=["200k-brackets", "just-past-the-limit", "900-indented", "5000-objects"])
def test_deep_shard_report(project: Project, text: str) -> None:
    shard = project.root / "shard.json"
    shard.write_text(text, encoding="utf-8")
    outcome = run(["merge-reports", "merged.json", "shard.json"], cwd=project.root)
    error = assert_one_line(outcome, codes=("REPORT-INVALID",), file=shard, cwd=project.root)
    assert error.line >= 1
    assert str(MAX_DEPTH) in error.message
    assert not (project.root / "merged.json").exists()


def test_deep_inventory_under_pytest_parity(tmp_path: Path, pristine: Path, pytester: pytest.Pytester) -> None:
    project = make_project(pytester.path, pristine=pristine)
    append(project.inventory, DEEP_SUFFIXES["flow-5000"])
    result = pytester.runpytest_subprocess("--parity", "-p", "no:cacheprovider", "-p", "no:randomly", timeout=300)
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text
    assert "INTERNAL" not in text
    assert "RecursionError" not in text
    assert "YAML-TOO-DEEP" in text
    assert result.ret in (pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.USAGE_ERROR), text[-2000:]


pytest_plugins = ("pytester",)
