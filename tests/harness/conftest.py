"""Helpers for harness tests: a small, realistic overlay tree and inventory builders."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.trees import SOPS_YAML, dedent, inventory_rule, kustomization
from tests.support.trees import write_tree as write_tree  # re-exported: test_parity.py and test_tree.py use it

# A planted secret value: tests assert it never appears in any finding text or diff line.
PLANTED_SECRET = "PLACEHOLDER-planted-7f3e9c2a-identity-value"
PLANTED_PASSWORD = "PLACEHOLDER-hunter2-planted-password"


OVERLAY: dict[str, str | bytes] = {
    "kustomization.yaml": kustomization("./flux-system", "./services/fluxcd", "./managed-services/fluxcd",
                                        "./customer-managed/fluxcd"),
    ".sops.yaml": SOPS_YAML,
    "services/sources/kustomization.yaml": kustomization("opencenter-harbor.yaml"),
    "services/sources/opencenter-harbor.yaml": dedent("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: opencenter-harbor
          namespace: flux-system
        spec:
          interval: 15m
          url: ssh://git@github.com/example/openCenter-gitops-base.git
          ref:
            tag: v1.2.0
          secretRef:
            name: opencenter-base
    """),
    "services/fluxcd/kustomization.yaml": kustomization("../sources", "harbor.yaml"),
    "services/fluxcd/harbor.yaml": dedent("""
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: harbor-base
          namespace: flux-system
          annotations:
            kustomize.toolkit.fluxcd.io/reconcile: enabled
        spec:
          interval: 5m
          path: ./applications/base/services/harbor
          prune: true
          sourceRef:
            kind: GitRepository
            name: opencenter-harbor
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: harbor-override
          namespace: flux-system
        spec:
          interval: 5m
          path: ./applications/overlays/k8s-dev/services/harbor
          prune: true
          dependsOn:
            - name: harbor-base
          sourceRef:
            kind: GitRepository
            name: flux-system
          decryption:
            provider: sops
    """),
    "services/harbor/kustomization.yaml": dedent("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: harbor
        secretGenerator:
          - name: harbor-values-override
            files:
              - override-values.yaml
            options:
              disableNameSuffixHash: true
    """),
    "services/harbor/override-values.yaml": dedent("""
        # Harbor overrides for k8s-dev
        expose:
          tls:
            enabled: true
        persistence:
          enabled: true
        replicas: 2
        mode: "on"
        ports: [80, 443]
    """),
    "services/keycloak/realm.json": '{"realm": "opencenter", "enabled": true}\n',
    "managed-services/alert-proxy/override-values.yaml": dedent("""
        alertProxy:
          receiver: opsgenie
          region: ord1
    """),
    "customer-managed/sources/customer-repo.yaml": dedent("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: customer-repo
          namespace: flux-system
        spec:
          interval: 5m
          url: ssh://git@git.example.com/customer/repo.git
          ref:
            branch: main
          secretRef:
            name: customer-repo-auth
    """),
    "customer-managed/sources/customer-repo-auth.yaml": dedent(f"""
        apiVersion: v1
        kind: Secret
        metadata:
          name: customer-repo-auth
          namespace: flux-system
        type: Opaque
        stringData:
          identity: {PLANTED_SECRET}
          identity.pub: PLACEHOLDER-identity-pub
          known_hosts: PLACEHOLDER-known-hosts
    """),
    "flux-system/gotk-sync.yaml": dedent("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: flux-system
          namespace: flux-system
    """),
    "README.md": "# k8s-dev overlay\n",
}


@pytest.fixture
def overlay_pair(tmp_path: Path) -> tuple[Path, Path]:
    """(rendered, fixture): two identical copies of the realistic overlay tree."""
    fixture = write_tree(tmp_path / "fixture" / "k8s-dev", OVERLAY)
    rendered = tmp_path / "rendered" / "k8s-dev"
    shutil.copytree(fixture, rendered)
    return rendered, fixture


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[str, dict[str, str | bytes]], Path]:
    """Factory: ``make_tree(name, files)`` writes a tree under tmp_path/name."""

    def make(name: str, files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / name, files)

    return make


def inventory_text(defaults: str = "", clusters: str = "", *, version: str = "1.0.0", budget: int | None = None) -> str:
    """Inventory YAML from rule snippets (already indented as list items under their key)."""
    text = f"version: {version}\nfixture: test-fixture\n"
    if budget is not None:
        text += f"path_only_budget: {budget}\n"
    if defaults:
        text += "defaults:\n" + textwrap.indent(textwrap.dedent(defaults).strip("\n"), "  ") + "\n"
    if clusters:
        text += "clusters:\n" + textwrap.indent(textwrap.dedent(clusters).strip("\n"), "  ") + "\n"
    return text


def rule(rule_id: str, kind: str, path: str, **extra: object) -> str:
    """One rule as a YAML flow mapping list item."""
    return inventory_rule(rule_id, kind, path, rationale="test rationale", **extra)
