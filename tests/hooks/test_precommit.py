"""The hooks of .pre-commit-hooks.yaml through the real ``pre-commit try-repo``, as another repository uses them.

The hook repository is a throwaway git repository holding a copy of this checkout's hook files (the
packages harness/ and hooks/, pyproject.toml, README.md, .pre-commit-hooks.yaml): try-repo only sees
committed or tracked files, and the lead commits later. pre-commit builds each hook's ``language: python`` environment
(``pip install`` of the copy) in its own temporary store, which makes every run take a few seconds.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.harness.secret_corpus import Key, assert_no_leak
from tests.support.trees import write_tree

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
HOOK_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
HOOK_PACKAGES = ("harness", "hooks")

pytestmark = pytest.mark.slow

INVENTORY = textwrap.dedent("""\
    version: 1.0.0
    fixture: demo
    defaults:
      - id: flux-annotation
        kind: yaml_remove
        path: services/fluxcd/*.yaml
        pointers: [/metadata/annotations]
        rationale: reconcile annotations are written by hand in the fixture
        approved_by: parity-oracle-owner
    """)
DESCRIPTOR = textwrap.dedent("""\
    name: demo
    layer: services
    roots:
      - path: services/demo
        output: services/demo
    """)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV"))}
    env["PRE_COMMIT_HOME"] = str(home)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert PRE_COMMIT.exists(), "run scripts/setup.sh (pre-commit)"
    assert shutil.which("git") is not None, "run scripts/setup.sh (git)"
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_FILES:
        shutil.copy2(ROOT / name, repo / name)
    for package in HOOK_PACKAGES:
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hooks")
    return repo


def user_repo(base: Path, files: dict[str, str]) -> Path:
    """A repository that uses the hooks: files committed, [tool.overlay-parity] pointing at its trees."""
    repo = base / "user"
    repo.mkdir()
    files = {"pyproject.toml": '[tool.overlay-parity]\nfixture_globs = ["testdata/**"]\n'
                               'template_root = "templates"\ndescriptor_root = "descriptors"\n', **files}
    write_tree(repo, files)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def try_repo(hook_repo: Path, repo: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    selection = ["--files", *files] if files else ["--all-files"]
    proc = subprocess.run([str(PRE_COMMIT), "try-repo", str(hook_repo), hook, "--verbose", *selection], cwd=repo,
                          env=clean_env(repo.parent / "pre-commit-home"), capture_output=True, text=True,
                          check=False, timeout=600)
    assert f"- hook id: {hook}" in proc.stdout, proc.stdout + proc.stderr  # the hook really ran
    return proc


def secret(value: str) -> str:
    return ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo\n  namespace: flux-system\ntype: Opaque\n"
            f"data:\n  identity: {base64.b64encode(value.encode()).decode()}\n"
            "stringData:\n  known_hosts: PLACEHOLDER-known-hosts\n")


def test_fixture_secret_scan_passes_on_placeholders(hook_repo: Path, tmp_path: Path) -> None:
    repo = user_repo(tmp_path, {"testdata/fx/secret.yaml": secret("PLACEHOLDER-identity"),
                                "testdata/fx/kustomization.yaml": "resources:\n  - secret.yaml\n"})
    proc = try_repo(hook_repo, repo, "fixture-secret-scan", "testdata/fx/secret.yaml", "testdata/fx/kustomization.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_fixture_secret_scan_fails_on_a_base64_key_in_secret_data(hook_repo: Path, tmp_path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(tmp_path / "id")], check=True,
                   capture_output=True)
    key = (tmp_path / "id").read_text()
    repo = user_repo(tmp_path, {"testdata/fx/secret.yaml": secret(key)})
    proc = try_repo(hook_repo, repo, "fixture-secret-scan", "testdata/fx/secret.yaml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout
    assert "testdata/fx/secret.yaml:8: SECRET-REAL-KEY real OPENSSH PRIVATE KEY in data.identity, layer base64 " \
           "[sha256:" in proc.stdout
    assert "SECRET-NOT-PLACEHOLDER" in proc.stdout
    assert_no_leak(proc.stdout + proc.stderr, [Key("generated", "OPENSSH PRIVATE KEY", key, True)])


def test_descriptor_coverage_passes_on_a_covered_tree(hook_repo: Path, tmp_path: Path) -> None:
    repo = user_repo(tmp_path, {"templates/services/demo/kustomization.yaml": "resources: []\n",
                                "descriptors/demo.yaml": DESCRIPTOR})
    proc = try_repo(hook_repo, repo, "descriptor-coverage")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "coverage: clean" in proc.stdout


def test_descriptor_coverage_fails_on_an_undeclared_template(hook_repo: Path, tmp_path: Path) -> None:
    repo = user_repo(tmp_path, {"templates/services/demo/kustomization.yaml": "resources: []\n",
                                "templates/services/orphan/kustomization.yaml": "resources: []\n",
                                "descriptors/demo.yaml": DESCRIPTOR})
    proc = try_repo(hook_repo, repo, "descriptor-coverage", "pyproject.toml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "templates/services/orphan/kustomization.yaml: COVERAGE-UNDECLARED" in proc.stdout


def test_canonicalization_inventory_passes_with_a_version_bump(hook_repo: Path, tmp_path: Path) -> None:
    repo = user_repo(tmp_path, {"canonicalization/demo.yaml": INVENTORY})
    changed = INVENTORY.replace("version: 1.0.0", "version: 1.1.0").replace("fluxcd/*.yaml", "fluxcd/**")
    (repo / "canonicalization/demo.yaml").write_text(changed)
    git(repo, "add", "-A")
    proc = try_repo(hook_repo, repo, "canonicalization-inventory", "canonicalization/demo.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_canonicalization_inventory_fails_when_rules_change_without_a_bump(hook_repo: Path, tmp_path: Path) -> None:
    repo = user_repo(tmp_path, {"canonicalization/demo.yaml": INVENTORY})
    (repo / "canonicalization/demo.yaml").write_text(INVENTORY.replace("fluxcd/*.yaml", "fluxcd/**"))
    git(repo, "add", "-A")
    proc = try_repo(hook_repo, repo, "canonicalization-inventory", "canonicalization/demo.yaml")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "canonicalization/demo.yaml:1: INVENTORY-VERSION: rules changed since HEAD (defaults: changed " \
           "flux-annotation) but version 1.0.0 is not greater than HEAD's 1.0.0" in proc.stdout


def test_parity_affected_checks_only_the_clusters_the_staged_change_affects(hook_repo: Path, tmp_path: Path) -> None:
    from tests.support.script_renderer import RENDER_SCRIPT, rendered_tree

    files = {"overlay-parity.toml": 'renderer = "python render.py --config {config} --out {out}"\n'
                                    'inventory = "canonicalization/demo.yaml"\n',
             "canonicalization/demo.yaml": "version: 1.0.0\nfixture: demo\n", "render.py": RENDER_SCRIPT}
    for name, replicas in (("east", 2), ("west", 3)):
        files[f".{name}-config.yaml"] = f"name: {name}\nreplicas: {replicas}\nstamp: s\n"
        files.update({f"applications/overlays/{name}/{rel}": text
                      for rel, text in rendered_tree(replicas, "s").items()})
    repo = tmp_path / "user"
    write_tree(repo, files)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    (repo / ".east-config.yaml").write_text("name: east\nreplicas: 4\nstamp: s\n")
    git(repo, "add", "-A")
    proc = try_repo(hook_repo, repo, "parity-affected")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "affected: 1 of 2 cluster(s) (east); not affected (not checked): west" in proc.stdout
    assert "FAIL parity[east]" in proc.stdout
    assert "spec.replicas: 2 → 4" in proc.stdout
    assert "parity[west]" not in proc.stdout
    git(repo, "commit", "-qm", "east scaled", "--no-verify")
    (repo / "applications/overlays/east/services/web/deployment.yaml").write_text(
        rendered_tree(4, "s")["services/web/deployment.yaml"])
    git(repo, "rm", "-q", "applications/overlays/west/services/web/service.yaml")
    git(repo, "add", "-A")
    proc = try_repo(hook_repo, repo, "parity-affected")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "affected: 2 of 2 cluster(s) (east, west)" in proc.stdout
    assert "ok   parity[east]" in proc.stdout
    assert "FAIL parity[west]" in proc.stdout
