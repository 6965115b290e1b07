"""Reports for the writer tests: a small fleet with located findings of every check family."""

from __future__ import annotations

from harness.findings import Finding, Location, Severity
from harness.report import CheckResult, Report

MASK = "<redacted sha256:1a2b3c4d>"
FIXTURE = "testdata/fx/applications/overlays"
CLUSTERS = ("k8s-dev", "k8s-prod", "k8s-qa")
HOSTILE = b"evil\n|name\x1b[31m\xff<b>@bob`x`.yaml".decode("utf-8", "surrogateescape")


def content(cluster: str, path: str = "services/fluxcd/harbor.yaml", *, line: int = 12) -> Finding:
    """A PARITY-CONTENT finding anchored at the fixture file, with template and inventory rule."""
    return Finding(code="PARITY-CONTENT", message="rendered file differs from the fixture (2 changes)", check="parity",
                   cluster=cluster, path=path, line=line, hint="fix the template or approve the difference",
                   owner="harbor", rules=("flux-annotation",),
                   diff=("spec.ref.tag: 'v1.2.0' → 'v1.3.0'", f"stringData.identity: {MASK}",
                         "spec.interval: added '5m'", "metadata.labels.team: removed 'ops'"),
                   extra={"rendered_path": path, "key_path": "spec.ref.tag"}, file=f"{FIXTURE}/{cluster}/{path}",
                   related=(Location(f"renderer/templates/{path}", 7, "template"),
                            Location("canonicalization/fx.yaml", 21, "inventory-rule")))


def fleet(*, extra_findings: int = 0, hostile: bool = False) -> Report:
    """Three clusters (dev fails parity, prod warns in policy, qa clean), inventory, coverage and secrets."""
    dev = [content("k8s-dev")] + [content("k8s-dev", f"services/app/file-{n:04d}.yaml", line=n + 1)
                                  for n in range(extra_findings)]
    if hostile:
        dev.append(content("k8s-dev", HOSTILE))
    missing = Finding(code="PARITY-MISSING", message="renderer-owned fixture file is not rendered", check="parity",
                      cluster="k8s-prod", path="services/longhorn/values.yaml", hint="render it",
                      file=f"{FIXTURE}/k8s-prod/services/longhorn/values.yaml", line=1)
    prune = Finding(code="POLICY-PRUNE", message="Flux Kustomization harbor does not set prune: true",
                    check="policy", cluster="k8s-prod", path="services/fluxcd/harbor.yaml", line=4,
                    severity=Severity.WARNING, file=f"{FIXTURE}/k8s-prod/services/fluxcd/harbor.yaml")
    stale = Finding(code="PARITY-STALE-RULE", message="rule 'old' (ignore_fixture x) matched nothing",
                    check="inventory", path="canonicalization/fx.yaml", line=30, rules=("old",), hint="remove the rule",
                    file="canonicalization/fx.yaml")
    undeclared = Finding(code="COVERAGE-UNDECLARED", message="template file has no descriptor owner", check="coverage",
                         path="renderer/templates/services/x/extra.yaml", line=1,
                         file="renderer/templates/services/x/extra.yaml", hint="add it to a descriptor")
    results = [
        CheckResult("parity[k8s-dev]", "parity", "k8s-dev", dev, 0.5),
        CheckResult("parity[k8s-prod]", "parity", "k8s-prod", [missing], 0.4),
        CheckResult("parity[k8s-qa]", "parity", "k8s-qa", [], 0.3),
        CheckResult("policy[k8s-dev]", "policy", "k8s-dev", [], 0.2),
        CheckResult("policy[k8s-prod]", "policy", "k8s-prod", [prune], 0.2),
        CheckResult("inventory", "inventory", "", [stale], 0.0, {"version": "1.0.0"}),
        CheckResult("coverage", "coverage", "", [undeclared], 0.1),
        CheckResult("secrets[testdata]", "secrets", "", [], 0.1),
    ]
    return Report(results=results, matched_rules={"flux-annotation"}, clusters_run=set(CLUSTERS),
                  inventory={"path": "canonicalization/fx.yaml", "version": "1.0.0"})
