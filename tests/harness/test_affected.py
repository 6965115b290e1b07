"""``check --changed-since`` / ``--changed``: what each kind of changed file selects, through git and the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.affected import ChangedFile, changed_paths, changed_since, select_affected
from harness.errors import InputError
from harness.project_config import load_project_config
from harness.renderer_api import Action, Decision, Plan
from tests.hardening.support import run_cli
from tests.support.script_renderer import RENDER_SCRIPT, rendered_tree
from tests.support.trees import write_tree

RULE = ("  - id: {id}\n    kind: ignore_fixture\n    path: /services/{id}.md\n"
        "    rationale: notes\n    approved_by: owner\n")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three clusters of a script renderer, committed; the oracles match the renderer exactly."""
    root = tmp_path / "gitops"
    files = {"overlay-parity.toml": 'renderer = "python render.py --config {config} --out {out}"\n'
                                    'inventory = "inventory.yaml"\naffected_ignore = ["docs/**"]\n',
             "render.py": RENDER_SCRIPT, "docs/guide.md": "how we work\n",
             "inventory.yaml": "version: 1.0.0\nfixture: gitops\nclusters:\n  east:\n" + RULE.format(id="east")}
    for name, replicas in (("east", 1), ("west", 2), ("lab", 3)):
        files[f".{name}-config.yaml"] = f"name: {name}\nreplicas: {replicas}\nstamp: s\n"
        files.update({f"applications/overlays/{name}/{k}": v for k, v in rendered_tree(replicas, "s").items()})
    write_tree(root, files)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


def no_plans(cluster: str) -> Plan | None:
    raise AssertionError("plans are not needed for this change")


def test_configs_oracle_files_ignored_files_and_inventory_rules_select_narrowly(repo: Path) -> None:
    project = load_project_config(repo)
    (repo / ".west-config.yaml").write_text("name: west\nreplicas: 5\nstamp: s\n")
    (repo / "applications/overlays/lab/services/web/NOTES.md").write_text("hand-written\n")
    (repo / "docs/guide.md").write_text("changed\n")
    text = (repo / "inventory.yaml").read_text()
    (repo / "inventory.yaml").write_text(text.replace("version: 1.0.0", "version: 1.1.0"))
    changes = changed_since(repo, "HEAD")
    assert sorted((c.path.relative_to(repo).as_posix(), c.status) for c in changes) == [
        (".west-config.yaml", "M"), ("applications/overlays/lab/services/web/NOTES.md", "A"),
        ("docs/guide.md", "M"), ("inventory.yaml", "M")]
    previous = {c.path: subprocess.run(["git", "show", f"HEAD:{c.path.relative_to(repo)}"], cwd=repo,
                                       capture_output=True, check=False).stdout or None for c in changes}
    selection = select_affected(project, changes, previous=previous.get, plan_of=no_plans)
    assert selection.clusters == ["lab", "west"]
    assert selection.not_affected == ["east"]
    assert selection.ignored == ["docs/guide.md"]
    assert not selection.everything

    (repo / "inventory.yaml").write_text(text + "  lab:\n" + RULE.format(id="lab"))
    selection = select_affected(project, changed_paths([repo / "inventory.yaml"], previous.get),
                                previous=previous.get, plan_of=no_plans)
    assert selection.clusters == ["lab"]
    (repo / "inventory.yaml").write_text(text.replace("clusters:", "defaults:\n" + RULE.format(id="all")
                                                      + "clusters:"))
    selection = select_affected(project, [ChangedFile(repo / "inventory.yaml", "M")], previous=previous.get,
                                plan_of=no_plans)
    assert selection.clusters == ["east", "lab", "west"]
    assert "defaults" in selection.everything


def test_unknown_files_and_the_settings_file_select_everything(repo: Path) -> None:
    project = load_project_config(repo)
    for path in (repo / "render.py", repo / "overlay-parity.toml", repo / "notes.txt"):
        selection = select_affected(project, [ChangedFile(path, "M")], previous=lambda p: b"", plan_of=no_plans)
        assert selection.clusters == ["east", "lab", "west"]
        assert selection.everything


def test_templates_and_descriptors_follow_the_plans(tmp_path: Path) -> None:
    write_tree(tmp_path, {"fx/.a-config.yaml": "x: 1\n", "fx/.b-config.yaml": "x: 1\n",
                          "t/web.yaml": "a: 1\n", "t/db.yaml": "b: 1\n",
                          "d/web.yaml": "name: web\nfiles:\n  - template: web.yaml\n    output: services/web.yaml\n",
                          "d/db.yaml": "name: db\nfiles:\n  - template: db.yaml\n    output: services/db.yaml\n"})
    (tmp_path / "overlay-parity.toml").write_text('fixture = "fx"\ntemplate_root = "t"\ndescriptor_root = "d"\n')
    project = load_project_config(tmp_path)
    plans = {"a": Plan("a", [Action("web", "web.yaml", "services/web.yaml")], [Decision("web", True, "on")]),
             "b": Plan("b", [Action("db", "db.yaml", "services/db.yaml")], [Decision("web", False, "off")])}

    def select(path: str, status: str = "M", previous: bytes | None = None) -> list[str]:
        full = tmp_path / path
        old = previous if previous is not None else full.read_bytes()
        return select_affected(project, [ChangedFile(full, status)], previous=lambda p: old,
                               plan_of=plans.get).clusters

    assert select("t/web.yaml") == ["a"]
    assert select("t/db.yaml") == ["b"]
    assert select("t/web.yaml", "A") == ["a", "b"]  # coverage reads template names
    (tmp_path / "t/inc.yaml").write_text("{% include 'web.yaml' %}\n")
    assert select("t/db.yaml") == ["a", "b"]  # templates include one another: users unknown
    (tmp_path / "t/inc.yaml").unlink()
    old = (tmp_path / "d/web.yaml").read_bytes()
    (tmp_path / "d/web.yaml").write_text(old.decode().replace("services/web.yaml", "services/web2.yaml"))
    assert select("d/web.yaml", previous=old) == ["a"]  # only where it is enabled
    (tmp_path / "d/web.yaml").write_text(old.decode().replace("template: web.yaml", "template: gone.yaml"))
    assert select("d/web.yaml", previous=old) == ["a", "b"]  # the coverage verdict changed: every render stops
    (tmp_path / "d/web.yaml").write_text(old.decode() + "enabled_when: {field: x, equals: 2}\n")
    assert select("d/web.yaml", previous=old) == ["a", "b"]  # enablement changed
    assert select("d/web.yaml", "D", previous=old) == ["a", "b"]


def test_cli_changed_since_reports_the_clusters_not_affected(repo: Path) -> None:
    (repo / ".lab-config.yaml").write_text("name: lab\nreplicas: 9\nstamp: s\n")
    proc = run_cli(["check", "--changed-since", "HEAD", "--json", "report.json"], cwd=repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "affected: 1 of 3 cluster(s) (lab); not affected (not checked): east, west"
    assert any(line.startswith("FAIL parity[lab]") for line in lines)
    assert not any("parity[east]" in line or "parity[west]" in line for line in lines)
    report = (repo / "report.json").read_text()
    assert '"not_affected": [' in report
    assert '"east"' in report
    docs = run_cli(["check", "--changed", "docs/guide.md"], cwd=repo)
    assert docs.returncode == 0, docs.stdout + docs.stderr
    assert docs.stdout.startswith("affected: 0 of 3 cluster(s); not affected (not checked): east, lab, west")
    bad = run_cli(["check", "--changed-since", "no-such-ref"], cwd=repo)
    assert bad.returncode == 2
    assert "USAGE: unknown git revision 'no-such-ref'" in bad.stderr


def test_outside_git_changed_paths_count_as_added(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "x: 1\n"})
    assert changed_paths([tmp_path / "a.yaml", tmp_path / "gone.yaml"], lambda p: None) == [
        ChangedFile((tmp_path / "a.yaml").resolve(), "A"), ChangedFile((tmp_path / "gone.yaml").resolve(), "D")]
    with pytest.raises(InputError, match="not inside a git repository"):
        changed_since(tmp_path, "HEAD")
