"""Generate a large, realistic, deterministic overlay fleet for benchmarks (never committed).

``generate(root, clusters=200, seed=...)`` writes a complete overlay-parity project under ``root``::

    pyproject.toml                          [tool.overlay-parity] pointing at the fleet (+ pytest settings)
    tests/                                  empty: ``pytest --parity`` collects only the check items
    canonicalization/bench-fleet.yaml       inventory whose rules approve exactly the drift applied below
    testdata/bench-fleet/.<cluster>-config.yaml
    testdata/bench-fleet/applications/overlays/<cluster>/...   the oracle trees

Cluster ``i`` depends only on ``(seed, i)``, so a fleet of 20 clusters is the first 20 clusters of a fleet
of 200 (the inventory of each fleet names only its own clusters).

Configs are derived from the five RelayPoint configs (``testdata/relaypoint-logistics-shared``): the
base config is ``i % 5``; the cluster name, region, FQDN, base-repository tag, service enablement,
replicas, address pool, bucket and e-mail vary deterministically. Each config is rendered ONCE with the
reference renderer (acceptable for a benchmark fixture: this is not the test oracle), then the oracle
tree gets the drift a hand-maintained tree has:

- formatting changes in 2-5 YAML files per cluster (comment headers, key order, quoting, trailing
  comments, sequence indentation): semantically equal, so parity parses and accepts them, no rule;
- ``reconcile.fluxcd.io/requestedAt`` timestamps in some Flux Kustomizations (clusters ``i % 2 == 0``):
  one default ``yaml_remove`` rule;
- a renamed cert-manager issuer file (``i % 4 == 1``): an ``alias`` rule plus a ``yaml_remove`` of the one
  ``resources`` entry that names it;
- a hand-added file (``i % 2 == 1``): an ``ignore_fixture`` rule; a ``services/README.md``
  (``i % 4 == 0``): one default ``ignore_fixture`` rule;
- hand-tuned values (``i % 20 == 2``): a ``path_only`` rule (the budget is exactly their number);
- a top-level ``README.md`` (``i % 5 == 0``, not renderer-owned), ``flux-system/`` (``i % 3 == 0``,
  bootstrap-owned) and changed modification times on every oracle file.

The fixture passes ``overlay-parity check`` with no finding: every rule matches, nothing is stale.

Command line: ``python benchmarks/generator.py OUT [--clusters N] [--seed S] [--jobs J]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python benchmarks/generator.py` from anywhere
    sys.path.insert(0, str(REPO_ROOT))

FIXTURE_NAME = "bench-fleet"
DEFAULT_CLUSTERS = 200
DEFAULT_SEED = 20250611
SOURCE_FIXTURE = REPO_ROOT / "testdata" / "relaypoint-logistics-shared"
BASE_ENVS = ("dev", "dr", "prod", "qa", "uat")
REGIONS = ("iad3", "ord1", "dfw3", "lon3", "syd4", "fra2")
TAGS = ("v1.3.5", "v1.4.0", "v1.4.1", "v1.4.2")
TOGGLED_SERVICES = ("external-snapshotter", "headlamp", "kyverno", "longhorn", "sealed-secrets", "weave-gitops",
                    "openstack-ccm", "openstack-csi", "tempo", "mimir", "loki", "olm")
APPROVER = "benchmark-generator"
FLUX_KUSTOMIZATION = "kustomize.toolkit.fluxcd.io/v1/Kustomization"
KUSTOMIZE_KUSTOMIZATION = "kustomize.config.k8s.io/v1beta1/Kustomization"
ISSUERS = ("selfsigned", "letsencrypt-staging", "letsencrypt-production")

DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"id": "flux-reconcile-requested-at", "kind": "yaml_remove", "path": "services/fluxcd/*.yaml",
     "pointers": ["/metadata/annotations"], "match_kind": FLUX_KUSTOMIZATION,
     "rationale": "`flux reconcile --with-source` stamps reconcile.fluxcd.io/requestedAt into the checked-in "
                  "copy; the renderer never writes run-time annotations",
     "approved_by": APPROVER},
    {"id": "hand-written-readmes", "kind": "ignore_fixture", "path": "**/README.md",
     "rationale": "operators keep notes next to the overlays; documentation is not rendered",
     "approved_by": APPROVER},
)


# ----------------------------------------------------------------------------------------- configs

def cluster_name(index: int) -> str:
    """The name of cluster ``index``: ``k8s-<env of its base config>-<index, 4 digits>``."""
    return f"k8s-{BASE_ENVS[index % len(BASE_ENVS)]}-{index:04d}"


def base_configs(source: Path = SOURCE_FIXTURE) -> dict[str, dict[str, Any]]:
    """The five RelayPoint configs as plain data, keyed by env (YAML 1.2, as the renderer reads them)."""
    from ruamel.yaml import YAML

    loader = YAML(typ="safe", pure=True)
    configs: dict[str, dict[str, Any]] = {}
    for env in BASE_ENVS:
        data = loader.load((source / f".k8s-{env}-config.yaml").read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{source}/.k8s-{env}-config.yaml is not a mapping")
        configs[env] = json.loads(json.dumps(data))  # plain dicts/lists only
    return configs


def make_config(bases: dict[str, dict[str, Any]], index: int, seed: int) -> dict[str, Any]:
    """The config of cluster ``index``: its base config with deterministic variations."""
    rng = random.Random(f"{seed}:config:{index}")
    name = cluster_name(index)
    env = BASE_ENVS[index % len(BASE_ENVS)]
    data = copy.deepcopy(bases[env])
    oc = data["opencenter"]
    region = REGIONS[rng.randrange(len(REGIONS))]
    fqdn = f"{name}.{region}.relaypoint.example.net"
    oc["meta"]["region"] = region
    oc["cluster"]["name"] = name
    oc["cluster"]["fqdn"] = fqdn
    oc["gitops"]["base_repo"]["tag"] = TAGS[rng.randrange(len(TAGS))]
    customer = oc["gitops"]["overlay_units"]["customer_managed"]
    if customer.get("enabled"):
        for item in customer.get("kustomizations", []):
            item["path"] = f"/{item['name']}/{name}"
    services = oc["services"]
    for service in TOGGLED_SERVICES:
        if service in services and rng.random() < 0.2:
            services[service]["enabled"] = not services[service].get("enabled", False)
    if rng.random() < 0.25:
        harbor = services["harbor"]
        harbor["enabled"] = not harbor.get("enabled", False)
        if harbor["enabled"]:
            harbor["hostname"] = f"harbor.{fqdn}"
            harbor["certificate"] = {"enabled": rng.random() < 0.5}
    if services.get("harbor", {}).get("hostname"):
        services["harbor"]["hostname"] = f"harbor.{fqdn}"
    if rng.random() < 0.2:
        backup = services["etcd-backup"]
        backup["enabled"] = not backup.get("enabled", False)
        if backup["enabled"]:
            backup["schedule"] = f"{rng.randrange(60)} */6 * * *"
    issuers = services["cert-manager"]["issuers"]
    for issuer in ("letsencrypt_staging", "selfsigned"):
        if rng.random() < 0.2:
            issuers[issuer] = not issuers[issuer]
    services["cert-manager"]["acme_email"] = f"platform-{name}@relaypoint.example.net"
    services["kafka-cluster"]["replicas"] = (1, 3, 5)[rng.randrange(3)]
    services["metallb"]["address_pool"] = f"10.{index // 200 % 250}.{index % 200}.200-10.{index // 200 % 250}." \
                                          f"{index % 200}.220"
    services["velero"]["backup_location_bucket"] = f"rpl-{name}-velero"
    services["velero"]["schedules"] = rng.random() < 0.5
    services["kube-prometheus-stack"]["alertmanager_routes"] = rng.random() < 0.5
    oc["managed_services"]["alert-proxy"]["receiver_url"] = \
        f"https://alerts.relaypoint.example.net/{name}"
    return data


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/@+-]*\Z")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)


def _emit(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_scalar(str(key))}:")
                lines.extend(_emit(item, indent + 2))
            else:
                lines.append(f"{pad}{_scalar(str(key))}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = _emit(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def dump_yaml(data: Any, header: str = "") -> str:
    """Block-style YAML of plain data (plain scalars where unambiguous, JSON-quoted otherwise)."""
    head = "".join(f"# {line}\n" for line in header.splitlines())
    return head + "\n".join(_emit(data, 0)) + "\n"


# ----------------------------------------------------------------------------------------- drift

_FORMAT_STYLES = ("header-comment", "key-order", "quoting", "trailing-comment", "sequence-indent")


def _reformat(text: str, style: str) -> str:
    """One semantically neutral formatting change (the caller checks the parse is unchanged)."""
    if style == "header-comment":
        return "# Hand-maintained copy: keep in sync with the platform runbook.\n" + text
    if style == "key-order":
        return re.sub(r"\A(apiVersion: [^\n]+\n)(kind: [^\n]+\n)", r"\2\1", text)
    if style == "quoting":
        return re.sub(r"^(\s*)(apiVersion|namespace): ([A-Za-z][^\s\"'#]*)$", r'\1\2: "\3"', text, flags=re.M)
    if style == "trailing-comment":
        return re.sub(r"^(kind: [A-Za-z]+)$", r"\1  # reviewed", text, count=1, flags=re.M)
    # sequence-indent: "key:\n  - a" -> "key:\n- a" (indentless sequences) for top-level keys
    out: list[str] = []
    in_block = False
    for line in text.split("\n"):
        if line and not line.startswith(" ") and not line.startswith("-"):
            in_block = False
        if line.startswith("  - ") and (in_block or (out and out[-1].endswith(":") and not out[-1].startswith(" "))):
            in_block = True
        if in_block and line.startswith("  "):
            line = line[2:]
        out.append(line)
    return "\n".join(out)


def _parse(text: str) -> list[Any]:
    from harness.yamlio import load_documents

    return load_documents(text, "<generator>")


def _same(old: str, new: str) -> bool:
    try:
        return new != old and _parse(new) == _parse(old)
    except Exception:  # a transform produced invalid YAML: not used
        return False


def _stamp_requested_at(text: str, stamp: str) -> str:
    """Add ``metadata.annotations.reconcile.fluxcd.io/requestedAt`` to every document's metadata."""
    return re.sub(r"^metadata:\n", f'metadata:\n  annotations:\n    reconcile.fluxcd.io/requestedAt: "{stamp}"\n',
                  text, flags=re.M)


_GOTK_CONTROLLER = """---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/component: {name}
    app.kubernetes.io/instance: flux-system
    app.kubernetes.io/part-of: flux
    app.kubernetes.io/version: v2.4.0
    control-plane: controller
  name: {name}
  namespace: flux-system
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      annotations:
        prometheus.io/port: "8080"
        prometheus.io/scrape: "true"
      labels:
        app: {name}
    spec:
      containers:
      - args:
        - --events-addr=http://notification-controller.flux-system.svc.cluster.local./
        - --watch-all-namespaces=true
        - --log-level=info
        - --log-encoding=json
        - --enable-leader-election
        env:
        - name: RUNTIME_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        image: ghcr.io/fluxcd/{name}:v1.4.1
        imagePullPolicy: IfNotPresent
        livenessProbe:
          httpGet:
            path: /healthz
            port: healthz
        name: manager
        ports:
        - containerPort: 8080
          name: http-prom
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /readyz
            port: healthz
        resources:
          limits:
            cpu: 1000m
            memory: 1Gi
          requests:
            cpu: 100m
            memory: 64Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          seccompProfile:
            type: RuntimeDefault
      nodeSelector:
        kubernetes.io/os: linux
      priorityClassName: system-cluster-critical
      securityContext:
        fsGroup: 1337
      serviceAccountName: {name}
      terminationGracePeriodSeconds: 10
"""


def _flux_system(cluster: str) -> dict[str, str]:
    components = "# Flux components, installed by `flux bootstrap` (bootstrap-owned).\n" + "".join(
        _GOTK_CONTROLLER.format(name=n) for n in ("source-controller", "kustomize-controller", "helm-controller",
                                                  "notification-controller"))
    sync = dump_yaml({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {"interval": "1m0s", "ref": {"branch": "main"}, "secretRef": {"name": "flux-system"},
                 "url": "ssh://git@git.relaypoint.example.net/platform/relaypoint-logistics-shared.git"},
    }) + "---\n" + dump_yaml({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {"interval": "10m0s", "path": f"./applications/overlays/{cluster}", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
    })
    kustomization = dump_yaml({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                               "resources": ["gotk-components.yaml", "gotk-sync.yaml"]})
    return {"gotk-components.yaml": components, "gotk-sync.yaml": sync, "kustomization.yaml": kustomization}


def _rule(cluster: str, suffix: str, kind: str, path: str, rationale: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"{cluster}-{suffix}", "kind": kind, "path": path, **extra, "rationale": rationale,
            "approved_by": APPROVER}


def apply_drift(overlay: Path, cluster: str, index: int, seed: int) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Turn a freshly rendered ``overlay`` into a hand-maintained oracle; returns its cluster rules and counts."""
    rng = random.Random(f"{seed}:drift:{index}")
    rules: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    files = sorted(p.relative_to(overlay).as_posix() for p in overlay.rglob("*") if p.is_file())
    used: set[str] = set()

    def read(rel: str) -> str:
        return (overlay / rel).read_text(encoding="utf-8")

    def write(rel: str, text: str) -> None:
        target = overlay / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    if index % 4 == 1:  # a renamed issuer file, and the resources entry that names it
        kustomization = "services/cert-manager/kustomization.yaml"
        for issuer in ISSUERS:
            old = f"services/cert-manager/clusterissuer-{issuer}.yaml"
            new = f"services/cert-manager/cluster-issuer-{issuer}.yaml"
            if old not in files or kustomization not in files:
                continue
            text = read(kustomization)
            resources = _parse(text)[0].get("resources", [])
            name = old.rsplit("/", 1)[1]
            if name not in resources:
                continue
            position = resources.index(name)
            write(kustomization, text.replace(f"- {name}\n", f"- {new.rsplit('/', 1)[1]}\n"))
            (overlay / old).rename(overlay / new)
            used |= {old, new, kustomization}
            rules.append(_rule(cluster, "issuer-file-renamed", "alias", old,
                               "the issuer file was renamed by hand when the fixture was reorganised", to=new))
            rules.append(_rule(cluster, "issuer-resource-renamed", "yaml_remove", kustomization,
                               "names the renamed issuer file (see the alias rule)",
                               pointers=[f"/resources/{position}"], match_kind=KUSTOMIZE_KUSTOMIZATION))
            counts["renamed_files"] += 1
            break

    if index % 2 == 0:  # reconcile timestamps in 1-3 Flux Kustomizations (one default rule)
        candidates = [f for f in files if f.startswith("services/fluxcd/") and not f.endswith("/kustomization.yaml")
                      and f not in used]
        for rel in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
            text = read(rel)
            if "annotations:" in text:
                continue
            stamp = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:" \
                    f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
            write(rel, _stamp_requested_at(text, stamp))
            used.add(rel)
            counts["timestamp_annotations"] += 1

    yaml_files = [f for f in files if f.endswith(".yaml") and f not in used]
    wanted = rng.randint(2, 5)
    for rel in rng.sample(yaml_files, len(yaml_files)):
        if counts["formatting_changes"] >= wanted:
            break
        text = read(rel)
        for style in rng.sample(_FORMAT_STYLES, len(_FORMAT_STYLES)):
            changed = _reformat(text, style)
            if _same(text, changed):
                write(rel, changed)
                used.add(rel)
                counts["formatting_changes"] += 1
                break

    service_dirs = sorted({f.split("/")[1] for f in files if f.startswith("services/") and f.count("/") >= 2}
                          - {"fluxcd", "sources"})
    if index % 2 == 1 and service_dirs:  # a hand-added file
        service = service_dirs[rng.randrange(len(service_dirs))]
        rel = f"services/{service}/local-notes.yaml"
        write(rel, dump_yaml({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": f"{service}-local-notes", "namespace": service},
                              "data": {"owner": "platform-team",
                                       "note": f"added by hand during incident {rng.randrange(1000, 9999)}"}}))
        rules.append(_rule(cluster, "local-notes", "ignore_fixture", rel,
                           "an operator added notes during an incident; not part of the rendered overlay"))
        counts["hand_added_files"] += 1

    if index % 4 == 0:  # services/README.md (default ignore_fixture rule)
        write("services/README.md", f"# {cluster} services\n\nRendered by the platform renderer; see the runbook.\n")
        counts["readmes"] += 1

    values = "services/kube-prometheus-stack/override-values.yaml"
    if index % 20 == 2 and values in files and values not in used:  # hand-tuned values: path_only
        write(values, read(values) + "handTuned:\n  retention: 30d\n  replicas: 2\n")
        used.add(values)
        rules.append(_rule(cluster, "kps-values-hand-tuned", "path_only", values,
                           "values tuned by hand during a capacity review; only presence is compared"))
        counts["path_only_files"] += 1

    if index % 5 == 0:  # not renderer-owned: excluded from parity without a rule
        write("README.md", f"# {cluster}\n\nOverlay of {cluster}. Owner: platform team.\n")
        counts["other_files"] += 1

    if index % 3 == 0:  # bootstrap-owned
        for name, text in _flux_system(cluster).items():
            write(f"flux-system/{name}", text)
        counts["flux_system_trees"] += 1

    base = 1_700_000_000 + index * 3600  # changed timestamps on every oracle file
    for path in sorted(overlay.rglob("*")):
        if path.is_file():
            mtime_ns = (base + rng.randrange(30 * 86400)) * 1_000_000_000
            os.utime(path, ns=(mtime_ns, mtime_ns))
    return rules, counts


# ----------------------------------------------------------------------------------------- fleet

@dataclass(frozen=True)
class _Job:
    index: int
    seed: int
    cluster: str
    config: Path
    oracle: Path
    rendered: Path | None


@dataclass
class _Outcome:
    index: int
    cluster: str
    rules: list[dict[str, Any]]
    counts: Counter[str]
    render_seconds: float
    stamps: set[tuple[str, str]] = field(default_factory=set)


def render_epoch(index: int, seed: int) -> int:
    """``SOURCE_DATE_EPOCH`` of the generation-time render of cluster ``index`` (a fixed day in 2025)."""
    return 1_735_689_600 + (seed % 97) * 86_400 + index * 61


def _stamp_pointers(data: Any, prefix: str = "") -> list[str]:
    """JSON pointers of every mapping key containing ``rendered-at`` (render-time stamps)."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            pointer = f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if "rendered-at" in str(key):
                found.append(pointer)
            else:
                found.extend(_stamp_pointers(value, pointer))
    elif isinstance(data, list):
        for position, value in enumerate(data):
            found.extend(_stamp_pointers(value, f"{prefix}/{position}"))
    return found


def render_stamps(tree: Path) -> set[tuple[str, str]]:
    """``(relative path, JSON pointer)`` of every render-time stamp (``...rendered-at``) in a rendered tree."""
    stamps: set[tuple[str, str]] = set()
    for path in tree.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if "rendered-at" not in text:
            continue
        rel = path.relative_to(tree).as_posix()
        for doc in _parse(text):
            stamps.update((rel, pointer) for pointer in _stamp_pointers(doc))
    return stamps


def _build(job: _Job) -> _Outcome:
    from renderer.api import RENDERER

    out = job.rendered if job.rendered is not None else job.oracle
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(render_epoch(job.index, job.seed))  # a deterministic, old stamp
    try:
        started = time.perf_counter()
        RENDERER.render(job.config, out)
        seconds = time.perf_counter() - started
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    stamps = render_stamps(out)
    if job.rendered is not None:
        shutil.copytree(job.rendered, job.oracle)
    rules, counts = apply_drift(job.oracle, job.cluster, job.index, job.seed)
    return _Outcome(job.index, job.cluster, rules, counts, seconds, stamps)


@dataclass(frozen=True)
class Fleet:
    """A generated project: paths, size and what drift it carries."""

    root: Path
    fixture: Path
    inventory: Path
    pyproject: Path
    clusters: tuple[str, ...]
    seed: int
    files: int
    bytes: int
    rules: int
    drift: dict[str, int] = field(default_factory=dict)
    render_seconds: float = 0.0
    rendered: Path | None = None

    @property
    def overlays(self) -> Path:
        """``<fixture>/applications/overlays``."""
        return self.fixture / "applications" / "overlays"

    def config(self, cluster: str) -> Path:
        """The config file of a cluster."""
        return self.fixture / f".{cluster}-config.yaml"


def default_rules(outcomes: Sequence[_Outcome]) -> list[dict[str, Any]]:
    """The fixed default rules plus one ``yaml_remove`` per file that carries render-time stamps."""
    rules = [dict(r) for r in DEFAULT_RULES]
    by_path: dict[str, set[str]] = {}
    for outcome in outcomes:
        for rel, pointer in outcome.stamps:
            by_path.setdefault(rel, set()).add(pointer)
    for rel, pointers in sorted(by_path.items()):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", rel.removesuffix(".yaml")).strip("-")
        rules.append({"id": f"rendered-at-{slug}", "kind": "yaml_remove", "path": f"/{rel}",
                      "pointers": sorted(pointers),
                      "rationale": "the renderer stamps the render time; the checked-in copy keeps the time it "
                                   "was last rendered",
                      "approved_by": APPROVER})
    return rules


def inventory_text(outcomes: Sequence[_Outcome], seed: int) -> str:
    """The inventory approving exactly the generated drift (defaults, then clusters in index order)."""
    path_only = sum(1 for o in outcomes for r in o.rules if r["kind"] == "path_only")
    data: dict[str, Any] = {"version": "1.0.0", "fixture": FIXTURE_NAME, "path_only_budget": path_only,
                            "defaults": default_rules(outcomes)}
    clusters = {o.cluster: o.rules for o in sorted(outcomes, key=lambda o: o.index) if o.rules}
    if clusters:
        data["clusters"] = clusters
    return dump_yaml(data, header=f"Generated by benchmarks/generator.py (seed {seed}, {len(outcomes)} clusters).\n"
                                  "Synthetic benchmark inventory: never committed.")


def pyproject_text(fixture_rel: str, inventory_rel: str) -> str:
    """``[tool.overlay-parity]`` for the generated project (templates/descriptors of this checkout)."""
    from renderer.descriptors import DESCRIPTOR_ROOT, TEMPLATE_ROOT

    return (
        "# Generated by benchmarks/generator.py: a throw-away project around the benchmark fleet.\n"
        "[tool.overlay-parity]\n"
        f"fixture = {json.dumps(fixture_rel)}\n"
        f"inventory = {json.dumps(inventory_rel)}\n"
        'renderer = "renderer.api:RENDERER"\n'
        f"template_root = {json.dumps(str(TEMPLATE_ROOT))}\n"
        f"descriptor_root = {json.dumps(str(DESCRIPTOR_ROOT))}\n"
        'fixture_globs = ["testdata/**"]\n'
        "\n[tool.pytest.ini_options]\n"
        'testpaths = ["tests"]\n'
        'addopts = "-p no:cacheprovider"\n'
    )


def generate(root: Path, clusters: int = DEFAULT_CLUSTERS, *, seed: int = DEFAULT_SEED, jobs: int = 1,
             rendered_dir: Path | None = None, source: Path = SOURCE_FIXTURE) -> Fleet:
    """Write a fleet of ``clusters`` clusters under ``root`` (created; must not exist or be empty).

    ``jobs`` > 1 renders in that many processes (the result is identical). With ``rendered_dir``, each
    cluster is rendered there (and kept: a pristine rendered tree per cluster, for ``diff -r``) and the
    oracle is a copy with drift; ``Fleet.render_seconds`` is the sum of the per-cluster render times.
    """
    if clusters < 1:
        raise ValueError("clusters must be at least 1")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    fixture_rel = f"testdata/{FIXTURE_NAME}"
    inventory_rel = f"canonicalization/{FIXTURE_NAME}.yaml"
    fixture = root / fixture_rel
    overlays = fixture / "applications" / "overlays"
    overlays.mkdir(parents=True)
    (root / "tests").mkdir()
    if rendered_dir is not None:
        rendered_dir.mkdir(parents=True, exist_ok=True)
    bases = base_configs(source)
    work: list[_Job] = []
    for index in range(clusters):
        name = cluster_name(index)
        config = fixture / f".{name}-config.yaml"
        config.write_text(dump_yaml(make_config(bases, index, seed),
                                    header=f"Benchmark cluster {name} (generated, seed {seed}); placeholders only."),
                          encoding="utf-8")
        work.append(_Job(index, seed, name, config, overlays / name,
                         rendered_dir / name if rendered_dir is not None else None))
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            outcomes = list(pool.map(_build, work, chunksize=max(1, len(work) // (jobs * 8))))
    else:
        outcomes = [_build(job) for job in work]
    inventory = root / inventory_rel
    inventory.parent.mkdir(parents=True)
    inventory.write_text(inventory_text(outcomes, seed), encoding="utf-8")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject_text(fixture_rel, inventory_rel), encoding="utf-8")
    drift: Counter[str] = Counter()
    for outcome in outcomes:
        drift.update(outcome.counts)
    count = size = 0
    for folder, _, names in os.walk(fixture):
        for name in names:
            count += 1
            size += os.path.getsize(os.path.join(folder, name))
    return Fleet(root=root, fixture=fixture, inventory=inventory, pyproject=pyproject,
                 clusters=tuple(o.cluster for o in outcomes), seed=seed, files=count, bytes=size,
                 rules=len(default_rules(outcomes)) + sum(len(o.rules) for o in outcomes),
                 drift=dict(sorted(drift.items())),
                 render_seconds=sum(o.render_seconds for o in outcomes), rendered=rendered_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/generator.py OUT [--clusters N] [--seed S] [--jobs J]``."""
    parser = argparse.ArgumentParser(description="Generate a benchmark overlay fleet (synthetic, never commit it).")
    parser.add_argument("out", type=Path, help="directory to create (must not exist or be empty)")
    parser.add_argument("--clusters", type=int, default=DEFAULT_CLUSTERS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    fleet = generate(args.out, args.clusters, seed=args.seed, jobs=args.jobs)
    print(f"{len(fleet.clusters)} clusters, {fleet.files} files, {fleet.bytes / 1e6:.1f} MB, {fleet.rules} rules "
          f"in {time.perf_counter() - started:.1f}s -> {fleet.root}")
    print("drift: " + ", ".join(f"{k}={v}" for k, v in fleet.drift.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
