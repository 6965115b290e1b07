"""Keys anywhere (issue 13 item 1) and the allowlist that must justify itself (item 6): the whole-repository
scan, the Secret-value policy only in fixture files, the loud no-fixture warning, the allowlist and its
baseline draft; through the library, the real CLI and a real ``pre-commit try-repo`` of the hook."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import InputError
from harness.project_config import load_project_config
from harness.secrets import repository_files, scan_project
from harness.secrets.allowlist import load_allowlist
from tests.harness.secret_corpus import Key, assert_no_leak, generate

PLAIN_SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: plain-value\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def repository(tmp_path: Path, corpus: list[Key], *, use_git: bool = True) -> Path:
    """A GitOps repository: the fixture under fixtures/demo, a key committed at clusters/prod/..., a key in
    an untracked file, a key in an ignored file, a plain Secret outside the fixture."""
    rsa = next(k for k in corpus if k.name == "pkcs8-rsa")
    age = next(k for k in corpus if k.name == "age")
    write(tmp_path, {
        "overlay-parity.toml": 'fixture = "fixtures/demo"\n',
        "fixtures/demo/.k8s-a-config.yaml": "cluster: a\n",
        "fixtures/demo/secret.yaml": PLAIN_SECRET,
        "clusters/prod/flux-system/deploy-key.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: k\ndata:\n"
                                                     f"  identity: {base64.b64encode(rsa.text.encode()).decode()}\n",
        "clusters/prod/apps/secret.yaml": PLAIN_SECRET,
        ".gitignore": "ignored.txt\n",
        "ignored.txt": age.text,
    })
    if use_git:
        git(tmp_path, "init", "-q")
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-qm", "initial")
    write(tmp_path, {"notes/untracked.md": f"# notes\n{age.text}\n"})
    return tmp_path


def test_whole_repository_scan_finds_keys_anywhere_and_holds_only_fixtures_to_the_policy(
        tmp_path: Path, corpus: list[Key]) -> None:
    root = repository(tmp_path, corpus)
    names = {p.relative_to(root).as_posix() for p in repository_files(root)}
    assert "notes/untracked.md" in names
    assert "ignored.txt" not in names
    config = load_project_config(root)
    assert config.fixture_globs == ("/fixtures/demo/**",)  # derived from `fixture`
    scan = scan_project(config)
    got = {(f.path, f.code) for f in scan.findings}
    assert got == {("clusters/prod/flux-system/deploy-key.yaml", "SECRET-REAL-KEY"),
                   ("notes/untracked.md", "SECRET-REAL-KEY"),
                   ("fixtures/demo/secret.yaml", "SECRET-NOT-PLACEHOLDER")}, got
    assert not scan.no_fixtures
    assert_no_leak(json.dumps([f.to_dict() for f in scan.findings]), corpus)


def test_outside_git_the_tree_is_scanned_and_no_fixture_match_is_loud(tmp_path: Path, corpus: list[Key]) -> None:
    root = repository(tmp_path, corpus, use_git=False)
    (root / "overlay-parity.toml").write_text('fixture = "fixtures/demo"\nfixture_globs = ["nowhere/**"]\n')
    scan = scan_project(load_project_config(root))
    codes = {(f.path, f.code) for f in scan.findings}
    assert ("ignored.txt", "SECRET-REAL-KEY") in codes  # no git: .gitignore means nothing
    assert (".", "SECRET-NO-FIXTURES") in codes
    assert scan.no_fixtures
    assert not any(f.code == "SECRET-NOT-PLACEHOLDER" for f in scan.findings)


def test_cli_scans_the_repository_and_prints_no_key_bytes(tmp_path: Path, corpus: list[Key],
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = repository(tmp_path, corpus)
    monkeypatch.chdir(root)
    assert main(["scan-secrets", "--json", "out/r.json", "--sarif", "out/r.sarif"]) == 1
    out, err = capsys.readouterr()
    assert "clusters/prod/flux-system/deploy-key.yaml:6: SECRET-REAL-KEY real PRIVATE KEY in data.identity" in out
    # the hook's mode: the given files, keys in every one of them
    assert main(["scan-secrets", "--only-fixtures", "clusters/prod/flux-system/deploy-key.yaml"]) == 1
    assert main(["scan-secrets", "clusters/prod/apps/secret.yaml"]) == 0  # not a fixture: no policy
    more_out, more_err = capsys.readouterr()
    assert_no_leak("\n".join([out, err, more_out, more_err, (root / "out/r.json").read_text(),
                              (root / "out/r.sarif").read_text()]), corpus)


def test_allowlist_must_justify_itself(tmp_path: Path, corpus: list[Key], monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = repository(tmp_path, corpus)
    monkeypatch.chdir(root)
    assert main(["scan-secrets", "--baseline-out", "draft.yaml"]) == 1
    draft = (root / "draft.yaml").read_text()
    assert draft.count("- fingerprint: sha256:") == 3
    assert_no_leak(draft, corpus)
    with pytest.raises(InputError) as refused:
        load_allowlist(root / "draft.yaml")
    assert refused.value.code == "SECRET-ALLOWLIST-INVALID"
    assert "must not be empty" in refused.value.message
    # a person writes the rationales; the real key stays a warning, the policy finding is dropped
    reviewed = draft.replace('rationale: ""', "rationale: demo data of the onboarding guide").replace(
        'approved_by: ""', "approved_by: platform-security")
    reviewed += ("  - fingerprint: sha256:" + "0" * 64 + "\n    path: \"docs/**\"\n"
                 "    rationale: a key that was removed since\n    approved_by: platform-security\n")
    (root / ".overlay-parity-secrets.yaml").write_text(reviewed)
    capsys.readouterr()
    assert main(["scan-secrets", "--json", "r.json"]) == 1  # the stale entry is an error
    report = json.loads((root / "r.json").read_text())
    codes = sorted(f["code"] for r in report["results"] for f in r["findings"])
    assert codes == ["SECRET-ALLOWED", "SECRET-ALLOWED", "SECRET-STALE-ALLOW"]
    stale = next(f for r in report["results"] for f in r["findings"] if f["code"] == "SECRET-STALE-ALLOW")
    assert stale["path"] == ".overlay-parity-secrets.yaml"
    (root / ".overlay-parity-secrets.yaml").write_text(reviewed.rsplit("  - fingerprint: sha256:0", 1)[0])
    capsys.readouterr()
    assert main(["scan-secrets"]) == 0  # only warnings left: allowed real keys are still shown
    out, _ = capsys.readouterr()
    assert len([line for line in out.splitlines() if ": SECRET-ALLOWED " in line]) == 2
    # nothing is allowed by path alone: an entry without the material's fingerprint is refused
    (root / ".overlay-parity-secrets.yaml").write_text(
        "version: 1\nallow:\n  - path: \"**\"\n    rationale: everything\n    approved_by: me\n")
    assert main(["scan-secrets"]) == 2
    _, err = capsys.readouterr()
    assert "SECRET-ALLOWLIST-INVALID" in err
    assert "fingerprint" in err


def test_the_hook_finds_a_key_committed_at_clusters_prod_through_pre_commit_try_repo(
        tmp_path: Path, corpus: list[Key]) -> None:
    from tests.hooks.test_precommit import hook_repo as _unused  # noqa: F401 - the fixture below builds it
    from tests.hooks.test_precommit import try_repo

    hooks = tmp_path / "hooks-repo"
    _build_hook_repo(hooks)
    repo = tmp_path / "user"
    repo.mkdir()
    rsa = next(k for k in corpus if k.name == "ssh-rsa")
    write(repo, {"pyproject.toml": "[tool.overlay-parity]\nfixture = \"fixtures/demo\"\n",
                 "clusters/prod/apps/values.yaml": "config:\n  key: |\n"
                 + "".join(f"    {line}\n" for line in rsa.text.splitlines())})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    proc = try_repo(hooks, repo, "fixture-secret-scan", "clusters/prod/apps/values.yaml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "clusters/prod/apps/values.yaml" in proc.stdout
    assert "SECRET-REAL-KEY" in proc.stdout
    assert_no_leak(proc.stdout + proc.stderr, corpus)


def _build_hook_repo(target: Path) -> None:
    import shutil

    from tests.hooks.test_precommit import HOOK_FILES, ROOT

    target.mkdir()
    for name in HOOK_FILES:
        shutil.copy2(ROOT / name, target / name)
    for package in ("harness", "hooks"):
        if (ROOT / package).is_dir():
            shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "hooks")
