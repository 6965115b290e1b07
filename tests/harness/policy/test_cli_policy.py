"""`overlay-parity policy` end to end through the real CLI process: exit codes, one-line tool errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.harness.policy.trees import CLUSTER, make_overlay

ROOT = Path(__file__).resolve().parents[3]
DEV_CONFIG = ROOT / "testdata/relaypoint-logistics-shared/.k8s-dev-config.yaml"


def _cli(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", "policy", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, check=False, timeout=120)


def _one_clean_line(proc: subprocess.CompletedProcess[str], code: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert code in proc.stderr
    return proc.stderr


def test_missing_kubectl_is_one_line_exit_2(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    line = _one_clean_line(_cli(str(overlay), OVERLAY_PARITY_KUBECTL="/nonexistent"), "TOOL-MISSING")
    assert "kubectl" in line
    assert "bash scripts/quickstart.sh" in line


def test_missing_sops_is_one_line_exit_2(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, sops=True)
    line = _one_clean_line(_cli(str(overlay), "--policy", "sops", OVERLAY_PARITY_SOPS="/nonexistent"),
                           "TOOL-MISSING")
    assert "sops" in line
    assert "bash scripts/quickstart.sh" in line


def test_usage_errors(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path)
    assert "unknown policy 'nope'" in _one_clean_line(_cli(str(overlay), "--policy", "nope"), "USAGE")
    _one_clean_line(_cli(str(overlay), "--no-convention", "nope"), "USAGE")
    _one_clean_line(_cli(str(tmp_path / "missing")), "FILE-MISSING")
    _one_clean_line(_cli(str(overlay), "--cluster", "k8s-dev"), "USAGE")


def test_directories_clean_and_failing(tmp_path: Path) -> None:
    good = make_overlay(tmp_path / "a", sops=True)
    bad = make_overlay(tmp_path / "b", cluster="k8s-u", flux_system=False)
    report = tmp_path / "report.json"
    proc = _cli(str(good), "--json", str(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lifecycle_claim=bootstrap-complete" in proc.stdout
    data = json.loads(report.read_text())
    [result] = data["results"]
    assert result["name"] == f"policy[{CLUSTER}]"
    assert result["notes"]["lifecycle_claim"] == "bootstrap-complete"

    proc = _cli(str(good), str(bad), "--json", str(report))  # k8s-u's Flux path names k8s-t's overlay
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "POLICY-FLUX-PATH" in proc.stdout
    assert "another cluster's overlay" in proc.stdout
    names = [r["name"] for r in json.loads(report.read_text())["results"]]
    assert names == [f"policy[{CLUSTER}]", "policy[k8s-u]"]
    assert _cli(str(bad), "--policy", "lifecycle").returncode == 0


FAKE_RENDERER = textwrap.dedent('''
    """Test renderer command: copy a prepared overlay, write .sops.yaml from the config's SOPS rules."""
    import argparse, json, shutil, sys
    from pathlib import Path
    from ruamel.yaml import YAML

    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    parser.add_argument("--out")
    args = parser.parse_args()
    config = YAML(typ="safe").load(Path(args.config).read_text())
    source = Path(__file__).parent / "template"
    out = Path(args.out)
    shutil.copytree(source, out, dirs_exist_ok=True)
    sops = config["opencenter"]["gitops"]["overlay_units"]["sops"]
    if sops["enabled"]:
        lines = ["creation_rules:"]
        for rule in sops["rules"]:
            lines += ["  - path_regex: " + json.dumps(rule["path_regex"]),
                      "    encrypted_regex: " + json.dumps(rule["encrypted_regex"]),
                      "    age: " + ",".join(rule["age_recipients"])]
        (out / ".sops.yaml").write_text("\\n".join(lines) + "\\n")
''')


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    fixture = project / "fixture"
    fixture.mkdir(parents=True)
    shutil.copy(DEV_CONFIG, fixture / f".{CLUSTER}-config.yaml")
    overlay = make_overlay(fixture, sops=True)  # the oracle, with flux-system/
    tools = project / "tools"
    tools.mkdir()
    shutil.copytree(overlay, tools / "template", ignore=shutil.ignore_patterns("flux-system", ".sops.yaml"))
    (tools / "render.py").write_text(FAKE_RENDERER)
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""
        [tool.overlay-parity]
        fixture = "fixture"
        inventory = "inventory.yaml"
        renderer = "{sys.executable} {tools / 'render.py'} --config {{config}} --out {{out}}"
    """))
    return project


def test_rendered_clusters_with_a_command_renderer(tmp_path: Path) -> None:
    project = _project(tmp_path)
    proc = _cli("-v", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lifecycle_claim=bootstrap-complete" in proc.stdout  # the oracle has flux-system/, seeded before render
    assert "POLICY-SECURITY-DROPPED" not in proc.stdout
    assert "POLICY-SOPS" not in proc.stdout
    _one_clean_line(_cli("--cluster", "k8s-nope", cwd=project), "USAGE")

    template = project / "tools/template/services/demo/policies.yaml"
    template.write_text(template.read_text().split("---\n")[0])  # the renderer drops the NetworkPolicy
    proc = _cli("--cluster", CLUSTER, cwd=project)
    assert proc.returncode == 1
    assert "POLICY-SECURITY-DROPPED" in proc.stdout
    assert "NetworkPolicy default-deny" in proc.stdout


def test_policy_reports_on_a_flux_repository(tmp_path: Path) -> None:
    from tests.harness.policy.flux_repos import monorepo
    from tests.support.trees import replace_once

    repo = monorepo(tmp_path)
    replace_once(repo / "clusters/staging/apps.yaml", "prune: true", "prune: false")
    out = tmp_path / "out"
    proc = _cli(str(repo), "--sarif", str(out / "p.sarif"), "--junit", str(out / "p.xml"), "--json",
                str(out / "p.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "POLICY-PRUNE" in proc.stdout
    sarif = json.loads((out / "p.sarif").read_text())
    [result] = [r for r in sarif["runs"][0]["results"] if r["level"] == "error"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "clusters/staging/apps.yaml"
    line = next(n for n, t in enumerate((repo / "clusters/staging/apps.yaml").read_text().splitlines(), 1)
                if "prune: false" in t)
    assert location["region"]["startLine"] == line
    assert "POLICY-PRUNE" in (out / "p.xml").read_text()
    [finding] = [f for r in json.loads((out / "p.json").read_text())["results"] for f in r["findings"]
                 if f["code"] == "POLICY-PRUNE"]
    assert (finding["file"], finding["line"]) == ("clusters/staging/apps.yaml", line)
