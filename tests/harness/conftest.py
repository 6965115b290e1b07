"""Helpers for harness tests: a small, realistic overlay tree and inventory builders."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

# A planted secret value: tests assert it never appears in any finding text or diff line.
PLANTED_SECRET = "PLACEHOLDER-planted-7f3e9c2a-identity-value"
PLANTED_PASSWORD = "PLACEHOLDER-hunter2-planted-password"


def _d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


OVERLAY: dict[str, str | bytes] = {
    "kustomization.yaml": _d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./flux-system
          - ./services/fluxcd
          - ./managed-services/fluxcd
          - ./customer-managed/fluxcd
    """),
    ".sops.yaml": _d("""
        creation_rules:
          - path_regex: .*/secrets/.*\\.yaml$
            encrypted_regex: ^(data|stringData)$
            age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    """),
    "services/sources/kustomization.yaml": _d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - opencenter-harbor.yaml
    """),
    "services/sources/opencenter-harbor.yaml": _d("""
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
    "services/fluxcd/kustomization.yaml": _d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ../sources
          - harbor.yaml
    """),
    "services/fluxcd/harbor.yaml": _d("""
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
    "services/harbor/kustomization.yaml": _d("""
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
    "services/harbor/override-values.yaml": _d("""
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
    "managed-services/alert-proxy/override-values.yaml": _d("""
        alertProxy:
          receiver: opsgenie
          region: ord1
    """),
    "customer-managed/sources/customer-repo.yaml": _d("""
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
    "customer-managed/sources/customer-repo-auth.yaml": _d(f"""
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
    "flux-system/gotk-sync.yaml": _d("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: flux-system
          namespace: flux-system
    """),
    "README.md": "# k8s-dev overlay\n",
}


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``root`` with ``files`` (relative POSIX path -> text or bytes)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


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
    fields = {"id": rule_id, "kind": kind, "path": path, **extra,
              "rationale": "test rationale", "approved_by": "parity-oracle-owner"}
    parts = []
    for key, value in fields.items():
        if isinstance(value, list):
            parts.append(f"{key}: [" + ", ".join(f"'{v}'" for v in value) + "]")
        else:
            parts.append(f"{key}: '{value}'")
    return "- {" + ", ".join(parts) + "}"
