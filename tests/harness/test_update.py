"""``--parity-update``: rewrite/add/delete renderer-owned fixture files, every skip rule, aliases, force.

Trees come from :mod:`tests.integration.fake_project` (rendered output and oracle of three clusters with
approved drift); after every applied update the parity check must pass for the updated files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.inventory import Inventory, parse_inventory
from harness.parity import compare_cluster
from harness.update import ADD, DELETE, REWRITE, Change, security_reasons, update_fixture, write_atomic
from tests.integration.fake_project import PLANTED, fixture_files, inventory_text, rendered_files
from tests.support.trees import write_tree

LIMIT = 1_000_000
INVENTORY = parse_inventory(inventory_text(), "canon.yaml")
KINDS = ("kyverno.io/ClusterPolicy", "kyverno.io/Policy", "networking.k8s.io/NetworkPolicy")


@pytest.fixture
def trees(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    """cluster -> (rendered, fixture) trees that pass the check as they are."""
    return {c: (write_tree(tmp_path / "rendered" / c, rendered_files(c)),
                write_tree(tmp_path / "fixture" / c, fixture_files(c)))
            for c in ("k8s-a", "k8s-b", "k8s-c")}


def update(pair: tuple[Path, Path], cluster: str, *, force: bool = False, dry_run: bool = False,
           inventory: Inventory = INVENTORY) -> list[Change]:
    return update_fixture(pair[0], pair[1], inventory.rules_for(cluster), security_kinds=KINDS, force=force,
                          dry_run=dry_run, max_file_bytes=LIMIT)


def check(pair: tuple[Path, Path], cluster: str, inventory: Inventory = INVENTORY) -> list[tuple[str, str]]:
    result = compare_cluster(cluster, pair[0], pair[1], inventory.rules_for(cluster), max_file_bytes=LIMIT)
    return [(f.code, f.path) for f in result.findings]


def summary(changes: list[Change]) -> list[tuple[str, str, bool]]:
    return [(c.action, c.path, c.applied) for c in changes]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------- baseline

def test_in_sync_trees_need_no_change_except_what_ignore_rules_hold(trees: dict[str, tuple[Path, Path]]) -> None:
    assert update(trees["k8s-a"], "k8s-a") == []
    b = update(trees["k8s-b"], "k8s-b")
    assert summary(b) == [(DELETE, "services/app/legacy.yaml", False)]
    assert "ignore_fixture rule legacy-file" in b[0].reason
    c = update(trees["k8s-c"], "k8s-c")
    assert summary(c) == [(ADD, "services/app/generated.yaml", False), (REWRITE, "services/app/notes.txt", False)]
    assert "ignore_rendered rule generated-file" in c[0].reason
    assert "path_only rule notes-path-only" in c[1].reason
    for cluster, pair in trees.items():
        assert check(pair, cluster) == []


def test_rewrite_add_delete_then_the_check_passes(trees: dict[str, tuple[Path, Path]]) -> None:
    rendered, fixture = trees["k8s-b"]
    (fixture / "services/sources/opencenter-app.yaml").write_text("kind: Old\n")
    (rendered / "services/app/new/values.yaml").parent.mkdir(parents=True)
    (rendered / "services/app/new/values.yaml").write_text("new: 1\n")
    (fixture / "managed-services/old/values.yaml").parent.mkdir(parents=True)
    (fixture / "managed-services/old/values.yaml").write_text("old: 1\n")
    before = check(trees["k8s-b"], "k8s-b")
    assert sorted(before) == [("PARITY-CONTENT", "services/sources/opencenter-app.yaml"),
                              ("PARITY-MISSING", "managed-services/old/values.yaml"),
                              ("PARITY-UNEXPECTED", "services/app/new/values.yaml")]
    changes = [c for c in update(trees["k8s-b"], "k8s-b") if c.applied]
    assert summary(changes) == [(DELETE, "managed-services/old/values.yaml", True),
                                (ADD, "services/app/new/values.yaml", True),
                                (REWRITE, "services/sources/opencenter-app.yaml", True)]
    assert (fixture / "services/sources/opencenter-app.yaml").read_bytes() == \
        (rendered / "services/sources/opencenter-app.yaml").read_bytes()
    assert (fixture / "services/app/new/values.yaml").read_text() == "new: 1\n"
    assert not (fixture / "managed-services/old").exists()  # emptied directory pruned
    assert (fixture / "managed-services/alert-proxy").is_dir()
    assert check(trees["k8s-b"], "k8s-b") == []
    assert [c for c in update(trees["k8s-b"], "k8s-b") if c.applied] == []  # idempotent


def test_alias_writes_the_rendered_bytes_to_the_fixture_side_path(trees: dict[str, tuple[Path, Path]]) -> None:
    rendered, fixture = trees["k8s-a"]
    (rendered / "services/app/values.yaml").write_text("replicas: 3\n")
    [change] = update(trees["k8s-a"], "k8s-a")
    assert (change.action, change.path, change.rendered_path, change.applied) == \
        (REWRITE, "services/app/override-values.yaml", "services/app/values.yaml", True)
    assert "values-alias" in change.rules
    assert "(rendered as services/app/values.yaml)" in change.describe()
    assert (fixture / "services/app/override-values.yaml").read_text() == "replicas: 3\n"
    assert not (fixture / "services/app/values.yaml").exists()
    assert check(trees["k8s-a"], "k8s-a") == []


def test_semantically_equal_files_are_left_alone(trees: dict[str, tuple[Path, Path]]) -> None:
    _rendered, fixture = trees["k8s-b"]
    path = fixture / "services/sources/opencenter-app.yaml"
    text = "# hand-written comment\n" + path.read_text().replace("tag: v1.2.0", "tag: 'v1.2.0'")
    path.write_text(text)
    (fixture / "services/fluxcd/app.yaml").write_text(
        (fixture / "services/fluxcd/app.yaml").read_text().replace("enabled", "disabled"))  # under yaml_remove
    assert [c for c in update(trees["k8s-b"], "k8s-b") if c.applied] == []
    assert path.read_text() == text


def test_unparseable_fixture_file_is_rewritten(trees: dict[str, tuple[Path, Path]]) -> None:
    _rendered, fixture = trees["k8s-b"]
    (fixture / "services/sources/kustomization.yaml").write_text("resources: [unclosed\n")
    [change] = [c for c in update(trees["k8s-b"], "k8s-b") if c.applied]
    assert change.path == "services/sources/kustomization.yaml"
    assert "does not parse" in change.reason
    assert check(trees["k8s-b"], "k8s-b") == []


def test_dry_run_writes_nothing(trees: dict[str, tuple[Path, Path]]) -> None:
    _rendered, fixture = trees["k8s-b"]
    (fixture / "services/sources/opencenter-app.yaml").write_text("kind: Old\n")
    (fixture / "services/app/gone.yaml").write_text("x: 1\n")
    before = snapshot(fixture)
    changes = update(trees["k8s-b"], "k8s-b", dry_run=True)
    assert {(c.action, c.path) for c in changes if c.applied} == {
        (REWRITE, "services/sources/opencenter-app.yaml"), (DELETE, "services/app/gone.yaml")}
    assert snapshot(fixture) == before


# --------------------------------------------------------------------------------------------- never touched

def test_flux_system_and_other_paths_are_never_touched(trees: dict[str, tuple[Path, Path]]) -> None:
    rendered, fixture = trees["k8s-b"]
    (rendered / "flux-system").mkdir()
    (rendered / "flux-system/gotk-sync.yaml").write_text("rendered: by mistake\n")
    (rendered / "flux-system/extra.yaml").write_text("x: 1\n")
    (rendered / "README.md").write_text("# rendered readme\n")
    before = snapshot(fixture)
    for force in (False, True):
        changes = update(trees["k8s-b"], "k8s-b", force=force)
        assert not [c for c in changes if c.path.startswith("flux-system/") or c.path == "README.md"]
    after = snapshot(fixture)
    assert {k: v for k, v in after.items() if k.startswith("flux-system/") or k == "README.md"} == \
        {k: v for k, v in before.items() if k.startswith("flux-system/") or k == "README.md"}


def test_alias_target_outside_owned_paths_is_never_written(trees: dict[str, tuple[Path, Path]]) -> None:
    inventory = parse_inventory(inventory_text().replace("clusters:\n", "clusters:\n  k8s-zz:\n    - {id: docs, "
                                "kind: alias, path: services/app/notes.txt, to: docs/notes.txt, rationale: r, "
                                "approved_by: o}\n", 1), "canon.yaml")
    pair = trees["k8s-b"]
    for force in (False, True):
        changes = update(pair, "k8s-zz", force=force, inventory=inventory)
        [change] = [c for c in changes if c.path == "docs/notes.txt"]
        assert not change.applied
        assert "not a renderer-owned path" in change.reason
    assert not (pair[1] / "docs").exists()


# --------------------------------------------------------------------------------------------- skip rules

@pytest.mark.parametrize(("cluster", "path", "action", "rule_id"), [
    ("k8s-b", "services/app/legacy.yaml", DELETE, "legacy-file"),         # ignore_fixture
    ("k8s-c", "services/app/generated.yaml", ADD, "generated-file"),      # ignore_rendered
    ("k8s-c", "services/app/notes.txt", REWRITE, "notes-path-only"),      # path_only
])
def test_ignore_rules_skip_unless_forced(trees: dict[str, tuple[Path, Path]], cluster: str, path: str,
                                         action: str, rule_id: str) -> None:
    rendered, fixture = trees[cluster]
    before = snapshot(fixture)
    [change] = [c for c in update(trees[cluster], cluster) if c.path == path]
    assert (change.action, change.applied, change.rules) == (action, False, (rule_id,))
    assert "rerun with --update-force after review" in change.reason  # pytest words it --parity-update-force
    assert snapshot(fixture) == before
    [forced] = [c for c in update(trees[cluster], cluster, force=True) if c.path == path]
    assert forced.applied
    assert "forced past" in forced.reason
    assert rule_id in forced.reason
    if action == DELETE:
        assert not (fixture / path).exists()
    else:
        assert (fixture / path).read_bytes() == (rendered / path).read_bytes()


SECURITY_EDITS = {
    ".sops.yaml": ("age1ql3z", "age1zzzz", ".sops.yaml"),
    "services/app/networkpolicy.yaml": ("deny-all", "allow-all", "contains a networking.k8s.io/NetworkPolicy"),
    "customer-managed/sources/repo-auth.yaml": (PLANTED, "PLACEHOLDER-changed", "contains a Secret"),
}


NETPOL_JSON = ('{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all"}, '
               '"spec": {"podSelector": {}}}\n')
HIDDEN_SECURITY = {  # issue 18 item 6: wherever a security object sits (written to both trees first)
    "services/app/policies.yaml": ("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: List\n"
                                   "    items:\n      - apiVersion: kyverno.io/v1\n        kind: ClusterPolicy\n"
                                   "        metadata: {name: deny-all}\n        spec: {rules: []}\n",
                                   "contains a kyverno.io/ClusterPolicy in the items of a List"),
    "services/app/netpol.json": (NETPOL_JSON, "contains a networking.k8s.io/NetworkPolicy"),
    "services/app/mixed.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n"
                                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n---\n"
                                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all}\n"
                                "spec: {podSelector: {}}\n", "contains a networking.k8s.io/NetworkPolicy"),
}


@pytest.mark.parametrize("path", sorted(SECURITY_EDITS) + sorted(HIDDEN_SECURITY))
@pytest.mark.parametrize("side", ["rewrite", "delete", "add"])
def test_security_relevant_files_skip_unless_forced(trees: dict[str, tuple[Path, Path]], path: str,
                                                    side: str) -> None:
    rendered, fixture = trees["k8s-b"]
    if path in HIDDEN_SECURITY:
        text, reason = HIDDEN_SECURITY[path]
        old, new = "deny-all", "allow-all"
        for root in (rendered, fixture):
            (root / path).write_text(text)
    else:
        old, new, reason = SECURITY_EDITS[path]
    if side == "rewrite":
        (fixture / path).write_text((fixture / path).read_text().replace(old, new))
    elif side == "delete":
        (rendered / path).unlink()
    else:
        (fixture / path).unlink()
    before = snapshot(fixture)
    [change] = [c for c in update(trees["k8s-b"], "k8s-b") if c.path == path]
    assert (change.action, change.applied) == ({"rewrite": REWRITE, "delete": DELETE, "add": ADD}[side], False)
    assert f"security-relevant: {reason}" in change.reason
    assert snapshot(fixture) == before
    [forced] = [c for c in update(trees["k8s-b"], "k8s-b", force=True) if c.path == path]
    assert forced.applied
    assert "forced, security-relevant" in forced.reason
    assert [f for f in check(trees["k8s-b"], "k8s-b") if f[1] == path] == []


def test_security_reasons() -> None:
    kinds = {("kyverno.io", "ClusterPolicy"), ("networking.k8s.io", "NetworkPolicy")}
    policy = b"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
    assert security_reasons("x/.sops.yaml", None, kinds) == [".sops.yaml"]
    assert security_reasons("a.yaml", policy, kinds) == ["contains a kyverno.io/ClusterPolicy"]
    assert security_reasons("a.yaml", b"---\napiVersion: v1\nkind: Secret\n---\nkind: ConfigMap\n", kinds) == \
        ["contains a Secret"]
    assert security_reasons("a.yaml", b"apiVersion: other.io/v1\nkind: ClusterPolicy\n", kinds) == []
    assert security_reasons("a.yaml", b"kind: NetworkPolicy\n  bad: [\n", kinds) == \
        ["unparseable file naming kind NetworkPolicy"]
    assert security_reasons("a.txt", b"kind: Secret\n", kinds) == []


# --------------------------------------------------------------------------------------------- writes

def test_atomic_write_keeps_mode_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f.yaml"
    write_atomic(target, b"a: 1\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o600)
    write_atomic(target, b"a: 2\n")
    assert target.read_bytes() == b"a: 2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["f.yaml"]


def test_symlinked_fixture_is_refused_before_any_write(trees: dict[str, tuple[Path, Path]]) -> None:
    _rendered, fixture = trees["k8s-b"]
    (fixture / "services/sources/opencenter-app.yaml").write_text("kind: Old\n")
    (fixture / "services/link.yaml").symlink_to(fixture / "kustomization.yaml")
    before = snapshot(fixture)
    with pytest.raises(InputError) as info:
        update(trees["k8s-b"], "k8s-b")
    assert info.value.code == "FILE-SYMLINK"
    assert snapshot(fixture) == before


def test_change_serialises() -> None:
    change = Change("services/a.yaml", ADD, False, "under ignore_rendered rule r1", "services/b.yaml", ("r1",))
    assert Change.from_dict(change.to_dict()) == change
    assert change.describe() == ("skipped add of services/a.yaml (rendered as services/b.yaml): "
                                 "under ignore_rendered rule r1")
    assert Change("x.yaml", DELETE, True, "gone").describe() == "deleted x.yaml: gone"
