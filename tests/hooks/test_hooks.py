"""The hook entry points of hooks/ in-process and as processes: empty file lists, the inventory hook in a git
repository, start-up cost, this repository's own pre-commit configuration."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from harness.inventory_version import head_text
from hooks import canonicalization_inventory, descriptor_coverage, fixture_secret_scan
from tests.harness.test_inventory_version import INVENTORY

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"



def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c",
                           "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def test_empty_file_lists_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert fixture_secret_scan.main([]) == 0  # no changed files: nothing to scan
    assert canonicalization_inventory.main([]) == 0
    assert capsys.readouterr().out == ""


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        descriptor_coverage.main(["--no-such-flag"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "USAGE" in err


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
    assert canonicalization_inventory.main([relative]) == 0
    inventory.write_text(INVENTORY.replace("README.md", "NOTES.md"))
    assert canonicalization_inventory.main([relative]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"{relative}:1: INVENTORY-VERSION: rules changed since HEAD (clusters.k8s-dev: changed ")
    inventory.write_text(INVENTORY.replace("README.md", "NOTES.md").replace("1.0.0", "1.1.0"))
    assert canonicalization_inventory.main([relative]) == 0
    inventory.write_text(INVENTORY.replace("kind: ignore_fixture", "kind: ignore_everything"))
    assert canonicalization_inventory.main([relative]) == 2
    assert "INVENTORY-INVALID" in capsys.readouterr().out  # the full loader (schema) runs here


def test_one_file_hook_imports_nothing_heavy(tmp_path: Path) -> None:
    target = tmp_path / "testdata" / "values.yaml"
    target.parent.mkdir()
    target.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n")
    (tmp_path / "pyproject.toml").write_text("[tool.overlay-parity]\n")
    probe = ("import sys; from hooks.fixture_secret_scan import main; rc = main([sys.argv[1]]); "
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


def test_every_hook_entry_is_an_installed_script_over_a_hooks_module() -> None:
    """.pre-commit-hooks.yaml runs `overlay-parity-<id>`, a console script of this distribution pointing at
    hooks/<id>.py; the script is on the environment's PATH once the package is installed."""
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert [hook["id"] for hook in manifest] == ["fixture-secret-scan", "descriptor-coverage",
                                                 "canonicalization-inventory", "parity-affected"]
    for hook in manifest:
        assert hook["language"] == "python"
        assert hook["entry"] == f"overlay-parity-{hook['id']}"
        assert scripts[hook["entry"]] == f"hooks.{hook['id'].replace('-', '_')}:main"
        module = importlib.import_module(f"hooks.{hook['id'].replace('-', '_')}")
        assert callable(module.main)
        installed = Path(sys.executable).parent / hook["entry"]
        assert installed.exists(), "run scripts/setup.sh (the package's console scripts)"
    done = subprocess.run([str(Path(sys.executable).parent / "overlay-parity-fixture-secret-scan")],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
