"""A small overlay-parity project in a temp dir, rendered by a FAKE external renderer command.

Shared by the face tests (runner, update, CLI, pytest plugin) so they run in milliseconds and exercise
the external-renderer path (``CommandRenderer``): the renderer is ``python fake_renderer.py --config
{config} --out {out} --diagnostics {diagnostics}`` and writes exactly the files listed in the cluster
config (JSON, which is YAML), with a plan naming one owner per top directory.

Three clusters with a little drift, each approved by one rule of the inventory:

- defaults ``flux-annotation`` (yaml_remove): every fixture ``services/fluxcd/app.yaml`` carries a
  reconcile annotation the renderer does not write;
- defaults ``debug-flag`` (yaml_remove): only k8s-c's fixture values have ``debug: true`` (so the rule
  matches in one cluster only: stale-rule judgement must see the union of clusters);
- k8s-a ``values-alias`` (alias): the renderer writes ``services/app/values.yaml``, the fixture keeps
  ``services/app/override-values.yaml``;
- k8s-b ``legacy-file`` (ignore_fixture): the fixture has ``services/app/legacy.yaml``;
- k8s-c ``generated-file`` (ignore_rendered) and ``notes-path-only`` (path_only, budget 1).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.trees import SOPS_YAML, ProjectLayout, dedent, inventory_rule, kustomization, write_tree

CLUSTERS = ("k8s-a", "k8s-b", "k8s-c")
PLANTED = "PLACEHOLDER-planted-identity-4b1d"

RENDERER_SCRIPT = dedent('''
    """Fake external renderer: writes the files listed in a JSON cluster config."""
    import argparse, json, os, sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--diagnostics", default="")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    if config.get("fail"):
        print("fake renderer: " + config["fail"], file=sys.stderr)
        sys.exit(3)
    os.makedirs(args.out, exist_ok=True)
    actions = []
    for rel, text in sorted(config["files"].items()):
        path = os.path.join(args.out, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        owner = rel.split("/")[1] if rel.count("/") >= 2 else "root"
        actions.append({"owner": owner, "template": rel + ".j2", "output": rel, "mode": "render",
                        "reason": "declared"})
    if args.diagnostics:
        with open(args.diagnostics, "w", encoding="utf-8") as handle:
            json.dump({"cluster": config["cluster"], "renderer": "fake", "actions": actions, "decisions": []}, handle)
''')


def base_files(cluster: str) -> dict[str, str]:
    """What the renderer produces for every cluster (before per-cluster drift)."""
    return {
        "kustomization.yaml": kustomization("./flux-system", "./services/fluxcd"),
        ".sops.yaml": SOPS_YAML,
        "services/sources/kustomization.yaml": kustomization("opencenter-app.yaml"),
        "services/sources/opencenter-app.yaml": dedent("""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata:
              name: opencenter-app
              namespace: flux-system
            spec:
              interval: 15m
              url: ssh://git@github.com/example/gitops-base.git
              ref:
                tag: v1.2.0
        """),
        "services/fluxcd/kustomization.yaml": kustomization("../sources", "app.yaml"),
        "services/fluxcd/app.yaml": dedent(f"""
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata:
              name: app-override
              namespace: flux-system
            spec:
              interval: 5m
              path: ./applications/overlays/{cluster}/services/app
              prune: true
              sourceRef:
                kind: GitRepository
                name: flux-system
        """),
        "services/app/override-values.yaml": dedent(f"""
            # values for {cluster}
            replicas: 2
            mode: "on"
            ports: [80, 443]
        """),
        "services/app/networkpolicy.yaml": dedent("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: deny-all
              namespace: app
            spec:
              podSelector: {}
        """),
        "services/app/notes.txt": f"notes for {cluster}\n",
        "customer-managed/sources/repo-auth.yaml": dedent(f"""
            apiVersion: v1
            kind: Secret
            metadata:
              name: repo-auth
              namespace: flux-system
            stringData:
              identity: {PLANTED}
              known_hosts: PLACEHOLDER-known-hosts
        """),
        "managed-services/alert-proxy/override-values.yaml": "alertProxy:\n  receiver: opsgenie\n",
    }


def rendered_files(cluster: str) -> dict[str, str]:
    """The renderer's output for a cluster (what goes into its config)."""
    files = base_files(cluster)
    if cluster == "k8s-a":
        files["services/app/values.yaml"] = files.pop("services/app/override-values.yaml")
    if cluster == "k8s-c":
        files["services/app/generated.yaml"] = "generated: true\n"
        files["services/app/notes.txt"] = "rendered notes\n"
    return files


def fixture_files(cluster: str) -> dict[str, str]:
    """The checked-in oracle tree of a cluster: the base files plus the approved drift."""
    files = base_files(cluster)
    files["services/fluxcd/app.yaml"] = files["services/fluxcd/app.yaml"].replace(
        "  namespace: flux-system\n", "  namespace: flux-system\n  annotations:\n"
        "    kustomize.toolkit.fluxcd.io/reconcile: enabled\n", 1)
    files["flux-system/gotk-sync.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bootstrap\n"
    files["README.md"] = f"# {cluster}\n"
    if cluster == "k8s-b":
        files["services/app/legacy.yaml"] = "legacy: true\n"
    if cluster == "k8s-c":
        files["services/app/override-values.yaml"] += "debug: true\n"
        files["services/app/notes.txt"] = "hand-written notes\n"
    return files


def rule(rule_id: str, kind: str, path: str, **extra: object) -> str:
    """One inventory rule as a YAML flow-mapping list item (indented for a list under a key)."""
    return inventory_rule(rule_id, kind, path, rationale="fixture drift", **extra)


RULES = {
    "flux-annotation": rule("flux-annotation", "yaml_remove", "services/fluxcd/*.yaml",
                            pointers=["/metadata/annotations"], match_kind="Kustomization"),
    "debug-flag": rule("debug-flag", "yaml_remove", "services/app/override-values.yaml", pointers=["/debug"]),
    "values-alias": rule("values-alias", "alias", "services/app/values.yaml", to="services/app/override-values.yaml"),
    "legacy-file": rule("legacy-file", "ignore_fixture", "services/app/legacy.yaml"),
    "generated-file": rule("generated-file", "ignore_rendered", "services/app/generated.yaml"),
    "notes-path-only": rule("notes-path-only", "path_only", "services/app/notes.txt"),
}
CLUSTER_RULES = {"k8s-a": ["values-alias"], "k8s-b": ["legacy-file"], "k8s-c": ["generated-file", "notes-path-only"]}


def inventory_text(*, drop: tuple[str, ...] = (), version: str = "1.0.0", budget: int = 1, extra: str = "") -> str:
    """The fake fixture's inventory, optionally without some rules (by id)."""
    lines = [f"version: '{version}'", "fixture: fake-fixture", f"path_only_budget: {budget}", "defaults:"]
    lines += [f"  {RULES[r]}" for r in ("flux-annotation", "debug-flag") if r not in drop]
    lines.append("clusters:")
    for cluster, ids in CLUSTER_RULES.items():
        kept = [i for i in ids if i not in drop]
        lines.append(f"  {cluster}:" + ("" if kept else " []"))
        lines += [f"    {RULES[i]}" for i in kept]
    return "\n".join(lines) + "\n" + extra


@dataclass(frozen=True)
class FakeProject(ProjectLayout):
    """Paths of a generated project."""

    FIXTURE_DIR = "testdata/fake-fixture"
    INVENTORY_FILE = "canonicalization/fake-fixture.yaml"
    DEFAULT_CLUSTER = CLUSTERS[0]

    @property
    def renderer_script(self) -> Path:
        return self.root / "fake_renderer.py"

    @property
    def renderer(self) -> str:
        return (f"{sys.executable} {self.renderer_script} --config {{config}} --out {{out}} "
                "--diagnostics {diagnostics}")

    def set_rendered(self, cluster: str, rel: str, text: str | None) -> None:
        """Change what the fake renderer writes for ``rel`` (None: stop writing it)."""
        data = json.loads(self.config(cluster).read_text(encoding="utf-8"))
        if text is None:
            data["files"].pop(rel)
        else:
            data["files"][rel] = text
        self.config(cluster).write_text(json.dumps(data, indent=1), encoding="utf-8")

    def fail_render(self, cluster: str, message: str) -> None:
        """Make the fake renderer exit non-zero for a cluster."""
        data = json.loads(self.config(cluster).read_text(encoding="utf-8"))
        data["fail"] = message
        self.config(cluster).write_text(json.dumps(data), encoding="utf-8")

    def pyproject(self, *, pytest_ini: bool = True, extra: str = "") -> str:
        text = dedent(f"""
            [tool.overlay-parity]
            fixture = "{self.FIXTURE_DIR}"
            inventory = "{self.INVENTORY_FILE}"
            renderer = "{self.renderer}"
        """) + extra
        if pytest_ini:
            text += "\n[tool.pytest.ini_options]\naddopts = \"-p no:cacheprovider\"\n"
        return text


def make_project(root: Path, *, clusters: tuple[str, ...] = CLUSTERS, inventory: str | None = None) -> FakeProject:
    """Write the fake project under ``root`` (created) and return its paths."""
    project = FakeProject(root)
    root.mkdir(parents=True, exist_ok=True)
    project.renderer_script.write_text(RENDERER_SCRIPT, encoding="utf-8")
    for cluster in clusters:
        project.config(cluster).parent.mkdir(parents=True, exist_ok=True)
        project.config(cluster).write_text(json.dumps({"cluster": cluster, "files": rendered_files(cluster)},
                                                      indent=1), encoding="utf-8")
        write_tree(project.overlay(cluster), fixture_files(cluster))
    project.inventory.parent.mkdir(parents=True, exist_ok=True)
    project.inventory.write_text(inventory if inventory is not None else inventory_text(), encoding="utf-8")
    (root / "pyproject.toml").write_text(project.pyproject(), encoding="utf-8")
    return project


def copy_project(source: FakeProject, root: Path) -> FakeProject:
    """A copy of a generated project (cheaper than regenerating; keeps every edit)."""
    shutil.copytree(source.root, root)
    copy = FakeProject(root)
    (root / "pyproject.toml").write_text(copy.pyproject(), encoding="utf-8")
    return copy
