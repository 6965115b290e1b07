"""harness.hooks in-process and as a process: dispatch, the inventory version rule, start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.hooks import check_inventories, check_version_bump, head_text, main, rule_changes

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

INVENTORY = """\
version: 1.0.0
fixture: demo
path_only_budget: 1
defaults:
  - id: flux-annotation
    kind: yaml_remove
    path: services/fluxcd/*.yaml
    pointers: [/metadata/annotations]
    rationale: reconcile annotations are written by hand in the fixture
    approved_by: parity-oracle-owner
clusters:
  k8s-dev:
    - id: dev-readme
      kind: ignore_fixture
      path: README.md
      rationale: the fixture has a README the renderer does not own
      approved_by: parity-oracle-owner
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c",
                           "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def test_usage_and_empty_file_lists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["no-such-hook"]) == 2
    assert "USAGE" in capsys.readouterr().err
    assert main(["fixture-secret-scan"]) == 0  # no changed files: nothing to scan
    assert main(["canonicalization-inventory"]) == 0


def test_rule_changes_name_what_changed() -> None:
    old = {"version": "1.0.0", "defaults": [{"id": "a", "path": "x"}, {"id": "b", "path": "y"}],
           "clusters": {"k8s-dev": [{"id": "c", "path": "z"}]}, "path_only_budget": 1}
    assert rule_changes(old, {**old, "version": "9.9.9"}) == []
    new = {**old, "defaults": [{"id": "a", "path": "x2"}, {"id": "d", "path": "w"}], "path_only_budget": 2,
           "clusters": {"k8s-dev": [{"id": "c", "path": "z"}], "k8s-qa": []}}
    changes = rule_changes(old, new)
    assert changes[0] == "defaults: added d; removed b; changed a"
    assert any(c.startswith("clusters.k8s-qa") for c in changes)
    assert "path_only_budget" in changes


def test_version_bump_rule(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    changed = INVENTORY.replace("README.md", "NOTES.md")
    path.write_text(changed)
    problems = check_version_bump(path, previous=INVENTORY)
    assert [p.code for p in problems] == ["INVENTORY-VERSION"]
    assert problems[0].location is not None
    assert problems[0].location.line == 1
    assert "changed dev-readme" in problems[0].message
    path.write_text(changed.replace("version: 1.0.0", "version: 1.0.1"))
    assert check_version_bump(path, previous=INVENTORY) == []
    path.write_text(changed.replace("version: 1.0.0", "version: 1.0.0-rc.1"))  # a pre-release is lower
    assert [p.code for p in check_version_bump(path, previous=INVENTORY)] == ["INVENTORY-VERSION"]
    path.write_text(INVENTORY.replace("version: 1.0.0", "version: 0.9.0"))  # no rule change, but downwards
    assert "went down" in check_version_bump(path, previous=INVENTORY)[0].message
    path.write_text(INVENTORY + "# a comment is not a rule change\n")
    assert check_version_bump(path, previous=INVENTORY) == []


def test_head_text_and_the_hook_in_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q")
    inventory = tmp_path / "canonicalization" / "demo.yaml"
    inventory.parent.mkdir()
    assert head_text(inventory) is None  # no HEAD yet
    inventory.write_text(INVENTORY)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "inventory")
    assert head_text(inventory) == INVENTORY
    monkeypatch.chdir(tmp_path)
    relative = "canonicalization/demo.yaml"
    assert main(["canonicalization-inventory", relative]) == 0
    inventory.write_text(INVENTORY.replace("README.md", "NOTES.md"))
    assert main(["canonicalization-inventory", relative]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"{relative}:1: INVENTORY-VERSION: rules changed since HEAD (clusters.k8s-dev: changed ")
    inventory.write_text(INVENTORY.replace("README.md", "NOTES.md").replace("1.0.0", "1.1.0"))
    assert main(["canonicalization-inventory", relative]) == 0
    inventory.write_text(INVENTORY.replace("kind: ignore_fixture", "kind: ignore_everything"))
    assert main(["canonicalization-inventory", relative]) == 2
    assert "INVENTORY-INVALID" in capsys.readouterr().out  # the full loader (schema) runs here


def test_inventory_loader_is_used_when_installed(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY + "unknown_key: 1\n")
    problems, notes = check_inventories([path])
    assert [p.code for p in problems] == ["INVENTORY-INVALID"]
    assert notes == []


def test_one_file_hook_imports_nothing_heavy(tmp_path: Path) -> None:
    target = tmp_path / "testdata" / "values.yaml"
    target.parent.mkdir()
    target.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n")
    (tmp_path / "pyproject.toml").write_text("[tool.overlay-parity]\n")
    probe = ("import sys; from harness.hooks import main; rc = main(['fixture-secret-scan', sys.argv[1]]); "
             "import json; print(json.dumps([rc, sorted(m for m in sys.modules if m.split('.')[0] in "
             "('jsonschema', 'jinja2', 'ruamel', 'cryptography', 'renderer', 'detect_secrets') "
             "or m in ('harness.policy', 'harness.inventory', 'harness.parity'))]))")
    proc = subprocess.run([sys.executable, "-c", probe, str(target)], cwd=tmp_path, capture_output=True, text=True,
                          check=True)
    rc, heavy = json.loads(proc.stdout.splitlines()[-1])
    assert rc == 0
    assert heavy == []


def test_manifest_and_config_are_valid() -> None:
    assert PRE_COMMIT.exists(), "pre-commit is a dev dependency: run scripts/setup.sh"
    checks = (("validate-manifest", ".pre-commit-hooks.yaml"), ("validate-config", ".pre-commit-config.yaml"))
    for command, name in checks:
        proc = subprocess.run([str(PRE_COMMIT), command, str(ROOT / name)], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_this_repositorys_local_hooks_run(tmp_path: Path) -> None:
    """`.pre-commit-config.yaml` runs the hooks from .venv (language: system) on this checkout."""
    assert PRE_COMMIT.exists(), "run scripts/setup.sh"
    assert (ROOT / ".venv" / "bin" / "python").exists(), "run scripts/setup.sh"
    assert (ROOT / ".git").exists(), "runs on a git checkout"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    clean = ROOT / "testdata" / "relaypoint-logistics-shared" / ".k8s-dev-config.yaml"
    proc = subprocess.run([str(PRE_COMMIT), "run", "--config", str(ROOT / ".pre-commit-config.yaml"),
                           "fixture-secret-scan", "--files", str(clean.relative_to(ROOT))], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fixture secret scan" in proc.stdout
    assert "Passed" in proc.stdout
