"""Tiny overlay trees for policy tests, written into tmp_path (real files, built by real kubectl)."""

from __future__ import annotations

from pathlib import Path

# The policy tests' short names for the shared builders: d(yaml literal), write(root, files) and
# edit(path, old, new), which fails when ``old`` is absent (so a test cannot silently test nothing).
from tests.support.trees import dedent as d
from tests.support.trees import replace_once as edit
from tests.support.trees import write_tree as write

__all__ = ["AGE_A", "AGE_B", "CLUSTER", "FLUX_SYSTEM", "ROOT_KUSTOMIZATION", "SERVICES", "SOPS_YAML", "d", "edit",
           "make_overlay", "write"]

CLUSTER = "k8s-t"
AGE_A = "age1mhsertvk3tszzjp96wdakpdwj5z342j6xcw5hp5v4u8n0u48lg0sk6qgu0"
AGE_B = "age1alpdg5tmxmj7ha3grzxr0c2gdgjkar3nu5s2nuj24dw2u63nq3pqt4fqty"

ROOT_KUSTOMIZATION = d("""
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - ./flux-system
      - ./services/fluxcd
""")

FLUX_SYSTEM = {
    "flux-system/kustomization.yaml": d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: [gotk-sync.yaml]
    """),
    "flux-system/gotk-sync.yaml": d(f"""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {{name: flux-system, namespace: flux-system}}
        spec:
          interval: 1m
          url: ssh://git@git.example.net/platform/repo.git
          ref: {{branch: main}}
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: flux-system, namespace: flux-system}}
        spec:
          interval: 10m
          path: ./applications/overlays/{CLUSTER}
          prune: true
          sourceRef: {{kind: GitRepository, name: flux-system}}
    """),
}

SERVICES = {
    "services/sources/kustomization.yaml": d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: [opencenter-demo.yaml]
    """),
    "services/sources/opencenter-demo.yaml": d("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {name: opencenter-demo, namespace: flux-system}
        spec:
          interval: 15m
          url: ssh://git@github.com/opencenter-cloud/opencenter-gitops-base.git
          ref: {tag: v1.4.2}
          secretRef: {name: opencenter-base}
    """),
    "services/fluxcd/kustomization.yaml": d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: [../sources, demo.yaml]
    """),
    "services/fluxcd/demo.yaml": d(f"""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: demo-base, namespace: flux-system}}
        spec:
          interval: 5m
          path: ./applications/base/services/demo
          prune: true
          sourceRef: {{kind: GitRepository, name: opencenter-demo}}
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: demo-override, namespace: flux-system}}
        spec:
          interval: 5m
          path: ./applications/overlays/{CLUSTER}/services/demo
          prune: true
          dependsOn: [{{name: demo-base}}]
          sourceRef: {{kind: GitRepository, name: flux-system}}
    """),
    "services/demo/kustomization.yaml": d("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: demo
        resources: [configmap.yaml, policies.yaml]
        secretGenerator:
          - name: demo-values-override
            files: [override.yaml=override-values.yaml]
            options: {disableNameSuffixHash: true}
    """),
    "services/demo/configmap.yaml": d("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: demo-settings}
        data: {mode: standard}
    """),
    "services/demo/policies.yaml": d("""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: disallow-privileged}
        spec:
          validationFailureAction: Enforce
          rules: []
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny}
        spec:
          podSelector: {}
          policyTypes: [Ingress]
    """),
    "services/demo/override-values.yaml": "replicas: 2\n",
}

SOPS_YAML = d(f"""
    creation_rules:
      - path_regex: ^managed-services/.*/helm-values/.*\\.ya?ml$
        encrypted_regex: ^(data|stringData)$
        age: {AGE_A}
      - path_regex: ^services/.*/secrets/.*\\.ya?ml$
        encrypted_regex: ^(data|stringData)$
        age: >-
          {AGE_A},
          {AGE_B}
""")


def make_overlay(base: Path, *, flux_system: bool = True, sops: bool = False, cluster: str = CLUSTER,
                 standard_layout: bool = True) -> Path:
    """A clean overlay at ``base/applications/overlays/<cluster>`` (or ``base/<cluster>``); returns its path."""
    overlay = base / "applications" / "overlays" / cluster if standard_layout else base / cluster
    files = {"kustomization.yaml": ROOT_KUSTOMIZATION, **SERVICES}
    if flux_system:
        files.update(FLUX_SYSTEM)
    if sops:
        files[".sops.yaml"] = SOPS_YAML
    write(overlay, files)
    return overlay

