"""A tiny external renderer written as a script, and what it renders: for tests of command renderers."""

from __future__ import annotations

from tests.support.trees import dedent

RENDER_SCRIPT = '''\
"""A tiny external renderer: reads `name`, `replicas`, `stamp` from a flat config and writes three files."""
import argparse, pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--config")
parser.add_argument("--out")
args = parser.parse_args()
values = dict(line.split(": ", 1) for line in pathlib.Path(args.config).read_text().splitlines() if ": " in line)
out = pathlib.Path(args.out)
(out / "services" / "web").mkdir(parents=True, exist_ok=True)
(out / "kustomization.yaml").write_text(
    "apiVersion: kustomize.config.k8s.io/v1beta1\\nkind: Kustomization\\n"
    f"metadata:\\n  annotations:\\n    example.com/stamp: '{values['stamp']}'\\n"
    "resources:\\n  - services/web\\n")
(out / "services" / "web" / "kustomization.yaml").write_text(
    "apiVersion: kustomize.config.k8s.io/v1beta1\\nkind: Kustomization\\nresources:\\n"
    "  - deployment.yaml\\n  - service.yaml\\n")
(out / "services" / "web" / "deployment.yaml").write_text(
    "apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: web\\n  namespace: web\\nspec:\\n"
    f"  replicas: {values['replicas']}\\n  template:\\n    spec:\\n      containers:\\n"
    "        - name: web\\n          image: example.com/web:1.0\\n          args: [--port, '8080']\\n"
    "---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: web\\n  namespace: web\\n"
    "data:\\n  mode: fast\\n")
(out / "services" / "web" / "service.yaml").write_text(
    "apiVersion: v1\\nkind: Service\\nmetadata:\\n  name: web\\n  namespace: web\\nspec:\\n  ports:\\n"
    "    - port: 80\\n")
'''


def rendered_tree(replicas: int, stamp: str) -> dict[str, str]:
    """What the script renders for a config (the oracle starts as an exact copy, then drifts by hand)."""
    return {
        "kustomization.yaml": dedent(f"""
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            metadata:
              annotations:
                example.com/stamp: '{stamp}'
            resources:
              - services/web
            """),
        "services/web/kustomization.yaml": dedent("""
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - deployment.yaml
              - service.yaml
            """),
        "services/web/deployment.yaml": dedent(f"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: web
            spec:
              replicas: {replicas}
              template:
                spec:
                  containers:
                    - name: web
                      image: example.com/web:1.0
                      args: [--port, '8080']
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web
              namespace: web
            data:
              mode: fast
            """),
        "services/web/service.yaml": dedent("""
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: web
            spec:
              ports:
                - port: 80
            """),
    }
