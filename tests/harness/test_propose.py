"""``overlay-parity init`` + ``propose`` through the real CLI, and the drafting rules one by one."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.differences import find_renames
from harness.errors import InputError
from harness.inventory import load_inventory, parse_inventory
from harness.propose import (
    RenderedCluster,
    Unresolved,
    draft_cluster,
    draft_yaml_remove,
    fold_defaults,
)
from tests.hardening.support import run_cli
from tests.support.script_renderer import RENDER_SCRIPT, rendered_tree
from tests.support.trees import write_tree

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "testdata" / "relaypoint-logistics-shared"
TO_WRITE = re.compile(r'(rationale|approved_by): ""  # TO WRITE: [^\n]*')


def review(draft: Path) -> str:
    """What a reviewer does: write a rationale and an approver for every draft rule."""
    text = draft.read_text(encoding="utf-8")
    assert TO_WRITE.search(text), "the draft has no rule left to review"
    reviewed = TO_WRITE.sub(lambda m: f"{m.group(1)}: reviewed by the test ({m.group(1)})", text)
    draft.write_text(reviewed, encoding="utf-8")
    return reviewed


def drafted_rules(path: Path) -> list[dict[str, Any]]:
    inventory = load_inventory(path)
    return [r.to_dict() for r in inventory.all_rules()]


# ------------------------------------------------------------------------------ the bundled fixture


@pytest.fixture
def bundled_copy(tmp_path: Path) -> Path:
    """A GitOps repository made of the bundled fixture (configs at its root), without any inventory."""
    repo = tmp_path / "relaypoint"
    shutil.copytree(BUNDLED, repo)
    (repo / "README.md").unlink()
    return repo


@pytest.mark.slow
def test_bundled_fixture_goes_from_no_inventory_to_a_passing_check(bundled_copy: Path) -> None:
    repo = bundled_copy
    init = run_cli(["init"], cwd=repo)
    assert init.returncode == 0, init.stderr
    assert "next: overlay-parity check" in init.stdout
    assert "overlay-parity propose --out" in init.stdout
    assert (repo / "overlay-parity.toml").is_file()
    empty = load_inventory(repo / "canonicalization" / "relaypoint.yaml")
    assert empty.all_rules() == []
    again = run_cli(["init"], cwd=repo)
    assert again.returncode == 2
    assert "never overwrites" in again.stderr

    before = run_cli(["check"], cwd=repo)
    assert before.returncode == 1, before.stdout + before.stderr

    propose = run_cli(["propose", "--out", "draft.yaml"], cwd=repo)
    assert propose.returncode == 0, propose.stdout + propose.stderr
    assert "0 unresolved" in propose.stdout
    text = (repo / "draft.yaml").read_text(encoding="utf-8")
    assert "path_only" not in text
    refused = run_cli(["check", "--inventory", "draft.yaml"], cwd=repo)
    assert refused.returncode == 2
    assert "rationale: must not be empty" in refused.stderr
    assert "approved_by: must not be empty" in refused.stderr

    review(repo / "draft.yaml")
    rules = drafted_rules(repo / "draft.yaml")
    today = load_inventory(ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml")
    assert len(rules) <= len(today.all_rules())
    assert not [r for r in rules if r["kind"] == "path_only"]
    by_kind = {(r["kind"], r["cluster"], r["path"]) for r in rules}
    assert ("alias", "k8s-dev", "services/keycloak/20-keycloak/networkpolicy.yaml") in by_kind
    assert ("ignore_fixture", "k8s-dev", "/services/harbor/README.md") in by_kind
    assert ("ignore_fixture", "k8s-prod", "/services/velero/RESTORE-RUNBOOK.md") in by_kind
    defaults = [r for r in rules if r["cluster"] == ""]
    assert {r["path"] for r in defaults} == {"/kustomization.yaml", "/managed-services/alert-proxy/kustomization.yaml"}
    resources = next(r for r in rules if r["path"] == "/services/keycloak/20-keycloak/kustomization.yaml")
    assert resources["pointers"] == ["/resources/1"]
    assert resources["match_kind"] == "kustomize.config.k8s.io/v1beta1/Kustomization"
    kafka = next(r for r in rules if r["cluster"] == "k8s-dr")
    assert kafka["kind"] == "yaml_remove"
    assert "/kafka/storage/size" in kafka["pointers"]

    check = run_cli(["check", "--inventory", "draft.yaml"], cwd=repo)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "PASSED" in check.stdout
    assert "path_only 0/0" in check.stdout


@pytest.mark.slow
def test_propose_keeps_current_rules_and_drafts_only_what_is_missing(bundled_copy: Path) -> None:
    repo = bundled_copy
    inventory = repo / "canonicalization" / "relaypoint.yaml"
    inventory.parent.mkdir()
    current = (ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml").read_text(encoding="utf-8")
    # Keep every rule but the dev README one; add a rule that can never match (stale).
    start = current.index("    - id: dev-harbor-team-readme")
    end = current.index("  k8s-dr:")
    stale = ("    - id: dev-stale\n      kind: ignore_fixture\n      path: /nothing/here.yaml\n"
             "      rationale: r\n      approved_by: a\n")
    inventory.write_text(current[:start] + stale + current[end:], encoding="utf-8")
    (repo / "overlay-parity.toml").write_text('inventory = "canonicalization/relaypoint.yaml"\n', encoding="utf-8")
    proc = run_cli(["propose", "--cluster", "k8s-dev", "--out", "draft.yaml"], cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "stale: dev-stale" in proc.stdout
    assert "1 draft rule(s) over k8s-dev" in proc.stdout
    text = review(repo / "draft.yaml")
    assert "version: \"1.1.0\"" in text
    assert "dev-stale" not in text.split("Dropped stale rules")[1].split("\n", 1)[1]
    rules = drafted_rules(repo / "draft.yaml")
    ids = {r["id"] for r in rules}
    assert {"dr-kafka-values-hand-tuned", "dev-alias-keycloak-netpol", "root-rendered-at"} <= ids
    assert [r["path"] for r in rules if str(r["id"]).startswith("k8s-dev-")] == ["/services/harbor/README.md"]
    check = run_cli(["check", "--cluster", "k8s-dev", "--inventory", "draft.yaml"], cwd=repo)
    assert check.returncode == 0, check.stdout + check.stderr


def test_narrow_names_the_pointers_that_replace_each_path_only_rule() -> None:
    proc = run_cli(["propose", "--narrow", "--cluster", "k8s-dr", "--cluster", "k8s-prod"], cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    kafka = next(line for line in lines if line.startswith("dr-kafka-values-hand-tuned [k8s-dr]"))
    assert "yaml_remove /kafka/config/num.replica.fetchers" in kafka
    assert "/kafka/storage/size" in kafka
    kps = next(line for line in lines if line.startswith("prod-kps-values-hand-tuned [k8s-prod]"))
    assert "/prometheus/prometheusSpec/retention " in kps + " "
    assert "/alertmanager/alertmanagerSpec/replicas" in kps


# ------------------------------------------------------------------------------ a fixture of our own

@pytest.fixture
def own_repo(tmp_path: Path) -> Path:
    """Three clusters rendered by a script; their oracles drift the way teams drift them."""
    repo = tmp_path / "acme-gitops"
    clusters = {"east": (2, "2025-01-01"), "west": (3, "2025-02-02"), "lab": (1, "2025-03-03")}
    for name, (replicas, stamp) in clusters.items():
        write_tree(repo, {f".{name}-config.yaml": f"name: {name}\nreplicas: {replicas}\nstamp: now\n"})
        files = rendered_tree(replicas, stamp)  # every oracle keeps an old stamp
        if name == "east":  # deployment.yaml renamed by hand, the kustomization follows
            files["services/web/web-deployment.yaml"] = files.pop("services/web/deployment.yaml")
            files["services/web/kustomization.yaml"] = files["services/web/kustomization.yaml"].replace(
                "- deployment.yaml", "- web-deployment.yaml")
        if name == "west":  # hand-tuned replicas and an extra container arg; a team note
            files["services/web/deployment.yaml"] = files["services/web/deployment.yaml"].replace(
                "replicas: 3", "replicas: 5").replace("args: [--port, '8080']", "args: [--port, '8080', --verbose]")
            files["services/web/NOTES.md"] = "west: scaled by hand for the launch\n"
        write_tree(repo / "applications" / "overlays" / name, files)
    write_tree(repo, {"render.py": RENDER_SCRIPT})
    return repo


def test_own_fixture_with_a_command_renderer(own_repo: Path) -> None:
    repo = own_repo
    command = f"{sys.executable} {repo / 'render.py'} --config {{config}} --out {{out}}"
    init = run_cli(["init", "--renderer", command], cwd=repo)
    assert init.returncode == 0, init.stderr
    assert "3 cluster(s): east, lab, west" in init.stdout
    proc = run_cli(["propose", "--out", "canonicalization/draft.yaml"], cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    review(repo / "canonicalization" / "draft.yaml")
    rules = drafted_rules(repo / "canonicalization" / "draft.yaml")
    summary = sorted((str(r["cluster"]), str(r["kind"]), str(r["path"]), str(r.get("to", "")),
                      tuple(r.get("pointers", ())), str(r.get("match_kind", ""))) for r in rules)
    assert summary == sorted([
        ("", "yaml_remove", "/kustomization.yaml", "", ("/metadata/annotations/example.com~1stamp",),
         "kustomize.config.k8s.io/v1beta1/Kustomization"),
        ("east", "alias", "services/web/deployment.yaml", "services/web/web-deployment.yaml", (), ""),
        ("east", "yaml_remove", "/services/web/kustomization.yaml", "", ("/resources/0",),
         "kustomize.config.k8s.io/v1beta1/Kustomization"),
        ("west", "ignore_fixture", "/services/web/NOTES.md", "", (), ""),
        # The fixture's extra last arg is removed by its index (nothing to remove on the rendered side).
        ("west", "yaml_remove", "/services/web/deployment.yaml", "",
         ("/spec/replicas", "/spec/template/spec/containers/0/args/2"), "apps/v1/Deployment"),
    ])
    check = run_cli(["check", "--inventory", "canonicalization/draft.yaml"], cwd=repo)
    assert check.returncode == 0, check.stdout + check.stderr


def test_what_no_narrow_rule_can_express_is_reported_not_hidden(own_repo: Path) -> None:
    repo = own_repo
    lab = repo / "applications" / "overlays" / "lab" / "services" / "web"
    (lab / "service.yaml").write_text((lab / "service.yaml").read_text() + "---\napiVersion: v1\nkind: Service\n"
                                      "metadata:\n  name: extra\n  namespace: web\n")
    command = f"{sys.executable} {repo / 'render.py'} --config {{config}} --out {{out}}"
    (repo / "overlay-parity.toml").write_text(f"renderer = {command!r}\n".replace("'", '"'), encoding="utf-8")
    proc = run_cli(["propose", "--cluster", "lab", "--out", "draft.yaml"], cwd=repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "unresolved: [lab] services/web/service.yaml: [doc 2 Service web/extra] missing" in proc.stdout
    assert "path_only" not in (repo / "draft.yaml").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ drafting, rule by rule

def test_renames_are_found_by_content_most_similar_first() -> None:
    rendered = {"a/netpol.yaml": b"kind: NetworkPolicy\nname: x\n", "b/values.yaml": b"a: 1\nb: 2\nc: 3\n",
                "c/other.txt": b"hello\n"}
    fixture = {"a/x-netpol.yaml": b"name: x\nkind: NetworkPolicy\n",  # equal as YAML, not as bytes
               "b/tuned.yaml": b"a: 1\nb: 2\nc: 4\n", "c/other.yaml": b"hello\n"}  # different suffix: not a rename
    assert find_renames(rendered, fixture) == [("a/netpol.yaml", "a/x-netpol.yaml"), ("b/values.yaml", "b/tuned.yaml")]


def test_pointer_is_exact_then_widened_only_as_far_as_needed() -> None:
    fixture = b"spec:\n  list: [a, b, c]\n  keep: 1\n  count: 1\n"
    rendered = b"spec:\n  list: [a, c]\n  keep: 1\n  count: 2\n"
    draft = draft_yaml_remove("c", "f.yaml", "f.yaml", rendered, fixture, [])
    assert not isinstance(draft, Unresolved)
    assert draft is not None
    assert draft.pointers == ("/spec/count", "/spec/list")
    assert draft.match_kind is None
    assert draft_yaml_remove("c", "f.yaml", "f.yaml", fixture, fixture, []) is None


def test_match_kind_only_when_one_kind_differs() -> None:
    fixture = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n---\n" \
              b"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {x: eA==}\n"
    one = fixture.replace(b"x: '1'", b"x: '2'")
    draft = draft_yaml_remove("c", "f.yaml", "f.yaml", one, fixture, [])
    assert draft is not None
    assert not isinstance(draft, Unresolved)
    assert draft.match_kind == "v1/ConfigMap"
    assert draft.pointers == ("/data/x",)
    both = one.replace(b"x: eA==", b"x: eQ==")
    draft = draft_yaml_remove("c", "f.yaml", "f.yaml", both, fixture, [])
    assert draft is not None
    assert not isinstance(draft, Unresolved)
    assert draft.match_kind is None
    assert draft.pointers == ("/data/x",)


def test_non_yaml_and_unparseable_files_are_unresolved() -> None:
    text = draft_yaml_remove("c", "notes.txt", "notes.txt", b"a\n", b"b\n", [])
    assert isinstance(text, Unresolved)
    assert "not YAML" in text.reason
    broken = draft_yaml_remove("c", "x.yaml", "x.yaml", b"a: [\n", b"a: 1\n", [])
    assert isinstance(broken, Unresolved)
    assert "does not parse" in broken.reason


def test_defaults_only_when_every_cluster_of_the_fixture_needs_the_rule(tmp_path: Path) -> None:
    files = {"kustomization.yaml": "kind: K\nstamp: old\n"}
    drafts = []
    for name in ("a", "b"):
        fixture = write_tree(tmp_path / name, files)
        rendered = RenderedCluster(name, {"kustomization.yaml": b"kind: K\nstamp: new\n"})
        drafts.append(draft_cluster(name, rendered, fixture, [], max_file_bytes=10_000))
    assert [r.cluster for r in fold_defaults(drafts, ["a", "b"])] == [""]
    assert [r.cluster for r in fold_defaults(drafts, ["a", "b", "c"])] == ["a", "b"]
    assert [r.cluster for r in fold_defaults(drafts[:1], ["a"])] == ["a"]


def test_rendered_only_files_and_render_errors(tmp_path: Path) -> None:
    fixture = write_tree(tmp_path / "fx", {"services/a.yaml": "x: 1\n", "notes.md": "not renderer-owned\n"})
    rendered = RenderedCluster("c", {"services/a.yaml": b"x: 2\n", "services/b.yaml": b"y: 1\n"})
    draft = draft_cluster("c", rendered, fixture, [], max_file_bytes=10_000)
    assert [(r.kind, r.path, r.pointers) for r in draft.rules] == [
        ("ignore_rendered", "/services/b.yaml", ()), ("yaml_remove", "/services/a.yaml", ("/x",))]
    assert draft.unresolved == []
    failed = draft_cluster("c", RenderedCluster("c", error=parse_error()), fixture, [], max_file_bytes=10_000)
    assert failed.rules == []
    assert "renderer failed" in failed.unresolved[0].reason


def parse_error() -> InputError:
    return InputError("RENDERER-INVALID", "renderer exited 1: boom", hint="run it by hand")


NETPOL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: web
spec:
  podSelector: {}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: %s}}
"""


def test_a_draft_that_hides_a_security_object_asks_for_a_security_waiver(tmp_path: Path) -> None:
    from harness.inventory import Inventory
    from harness.propose import Proposal, proposal_text

    fixture = write_tree(tmp_path / "fx", {"services/web/networkpolicy.yaml": NETPOL % "ops"})
    rendered = RenderedCluster("c", {"services/web/networkpolicy.yaml": (NETPOL % "web").encode()})
    draft = draft_cluster("c", rendered, fixture, [], max_file_bytes=10_000)
    assert [(r.kind, r.pointers, r.waiver) for r in draft.rules] == [
        ("yaml_remove", ("/spec/ingress/0/from/0/namespaceSelector/matchLabels/team",), True)]
    assert any("security_waiver" in line for line in draft.rules[0].evidence)
    assert draft.unresolved == []
    empty = parse_inventory("version: 1.0.0\nfixture: fx\n", "inv.yaml")
    text = proposal_text(Proposal(inventory=empty, clusters=["c"], all_clusters=["c"], rules=draft.rules),
                         new_inventory=True)
    assert text.count('""  # TO WRITE') == 4  # the rule's and the waiver's rationale and approver
    with pytest.raises(InputError, match="must not be empty"):
        parse_inventory(text, "draft.yaml")
    reviewed = TO_WRITE.sub(lambda m: f"{m.group(1)}: reviewed", text)
    inventory: Inventory = parse_inventory(reviewed, "draft.yaml")
    assert inventory.all_rules()[0].waiver is not None
