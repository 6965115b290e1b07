"""The policy leg of ``benchmarks/run.py``: ``overlay-parity policy`` at fleet scale vs the naive baseline.

Baseline, measured in the same run on the same trees: one ``kubectl kustomize`` per Flux path (each
cluster's overlay and every path its own-repository Flux Kustomizations name), sequentially, in this
process. Ours: ``overlay-parity policy DIR...`` over the same overlays with the build gates (lifecycle,
flux-paths, conventions), once with an empty build cache (cold: identical trees built once, builds in
parallel) and once more with that cache (warm: the CI re-run after a change elsewhere). The findings of both
runs must be identical (``policy_<n>_findings_identical``).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InputError
from harness.policy.model import KObject, is_flux_kustomization, points_at_own_repo, resolve_flux_path, spec
from harness.tools import find_tool, tool_env
from harness.yamlio import load_file

if TYPE_CHECKING:
    from benchmarks.generator import Fleet
    from benchmarks.run import Bench

SIZES = (20, 200)
GATES = ("lifecycle", "flux-paths", "conventions")


def flux_paths(overlay: Path) -> list[Path]:
    """The overlay and every existing directory its own-repository Flux Kustomizations point at (static)."""
    found = [overlay]
    for path in sorted(overlay.rglob("*.y*ml")):
        try:
            docs = load_file(path)
        except InputError:
            continue
        for doc in docs:
            if not isinstance(doc, dict) or not is_flux_kustomization(doc):
                continue
            if not points_at_own_repo(KObject(doc, "", ".")):
                continue
            target, _ = resolve_flux_path(spec(doc).get("path"), overlay, overlay.name, None)
            if target is not None and target.is_dir() and target not in found:
                found.append(target)
    return found


def naive_baseline(directories: list[Path]) -> float:
    """Seconds for one ``kubectl kustomize`` per directory, one after the other."""
    kubectl = str(find_tool("kubectl"))
    env = tool_env()
    began = time.perf_counter()
    for directory in directories:
        subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, check=False, env=env,
                       cwd=directory, timeout=120)
    return time.perf_counter() - began


def _findings(report: Path) -> list[tuple[Any, ...]]:
    data = json.loads(report.read_text())
    return sorted((r["cluster"], f["code"], f["path"], f["line"], f["message"], f["severity"])
                  for r in data["results"] for f in r["findings"])


def _builds(report: Path) -> tuple[int, int]:
    data = json.loads(report.read_text())
    notes = [r.get("notes", {}) for r in data["results"]]
    return (sum(int(n.get("builds", 0)) for n in notes), sum(int(n.get("disk_cache_hits", 0)) for n in notes))


def leg_policy(bench: Bench, fleet: Fleet) -> None:
    """Baseline vs cold and warm policy runs at each size in :data:`SIZES` the fleet has (and at its own size)."""
    overlays = sorted(p for p in fleet.overlays.iterdir() if p.is_dir())
    sizes = sorted({n for n in (*SIZES, len(overlays)) if n <= len(overlays)})
    r = bench.results
    for n in sizes:
        chosen = overlays[:n]
        directories = [d for overlay in chosen for d in flux_paths(overlay)]
        load = {"baseline": os.getloadavg()[0]}
        baseline = naive_baseline(directories)
        cache = bench.work / f"policy-cache-{n}"
        env = dict(bench.env, OVERLAY_PARITY_CACHE_DIR=str(cache))
        gates = [arg for gate in GATES for arg in ("--policy", gate)]
        runs = {}
        for label in ("cold", "warm"):
            report = bench.work / f"policy-{n}-{label}.json"
            load[label] = os.getloadavg()[0]  # 1-minute load when the run starts (other jobs share the machine)
            # The fixture directory is the Flux repository (its paths are ./applications/...); say so, as the
            # fleet may be inside a git repository by now (the affected leg commits it).
            done = bench.child(f"policy-{n}-{label}", bench.cli("policy", *map(str, chosen), *gates,
                                                                 "--repo-root", str(fleet.fixture), "--json",
                                                                 str(report)), cwd=fleet.root, env=env)
            if done.returncode not in (0, 1) or not report.exists():
                bench.error(f"policy {n} {label}: exited {done.returncode}: {done.tail()}")
                return
            runs[label] = (done, report)
        (cold, cold_report), (warm, warm_report) = runs["cold"], runs["warm"]
        prefix = f"policy_{n}"
        r[f"{prefix}_flux_paths"] = len(directories)
        r[f"{prefix}_baseline_seconds"] = baseline
        r[f"{prefix}_cold_seconds"] = cold.seconds
        r[f"{prefix}_warm_seconds"] = warm.seconds
        r[f"{prefix}_cold_speedup"] = baseline / cold.seconds
        r[f"{prefix}_warm_speedup"] = baseline / warm.seconds
        r[f"{prefix}_cold_cores_used"] = cold.cpu_seconds / cold.seconds
        r[f"{prefix}_warm_cores_used"] = warm.cpu_seconds / warm.seconds
        r[f"{prefix}_cold_cpu_seconds"] = cold.cpu_seconds
        r[f"{prefix}_warm_cpu_seconds"] = warm.cpu_seconds
        r[f"{prefix}_load_at_start"] = {k: round(v, 2) for k, v in load.items()}
        r[f"{prefix}_cold_builds"], _ = _builds(cold_report)
        r[f"{prefix}_warm_builds"], r[f"{prefix}_warm_cache_hits"] = _builds(warm_report)
        r[f"{prefix}_findings"] = len(_findings(cold_report))
        r[f"{prefix}_findings_identical"] = _findings(cold_report) == _findings(warm_report)
        r[f"{prefix}_exit"] = cold.returncode
        bench.say(f"policy {n}: baseline {baseline:.1f}s ({len(directories)} builds), cold {cold.seconds:.1f}s "
                  f"({cold.cpu_seconds:.1f} CPU s), warm {warm.seconds:.1f}s ({warm.cpu_seconds:.1f} CPU s); "
                  f"load {load}")
    r["policy_sizes"] = sizes
    r["policy_cpus"] = os.cpu_count()


def rows(r: dict[str, Any], fmt: Any, mark: Any) -> list[tuple[str, str, str, str, str, str]]:
    """Table rows of the policy leg (one per size)."""
    out = []
    for n in r.get("policy_sizes", []):
        p = f"policy_{n}"
        same = "identical findings" if r.get(f"{p}_findings_identical") else "FINDINGS DIFFER"
        out.append((f"policy build gates, {n} clusters ({r.get(f'{p}_flux_paths', '?')} Flux paths; {same}; cold "
                    f"{fmt(r.get(f'{p}_cold_seconds'), 's')} = {fmt(r.get(f'{p}_cold_speedup'), 'x')}, "
                    f"{fmt(r.get(f'{p}_cold_cores_used'))} cores)",
                    f"warm cache {fmt(r.get(f'{p}_warm_seconds'), 's')}",
                    f"kubectl per path {fmt(r.get(f'{p}_baseline_seconds'), 's')}",
                    fmt(r.get(f"{p}_warm_speedup"), "x"),
                    ">= 3 at 200 clusters" if n == 200 else "(info)", mark(f"{p}_warm_speedup") if n == 200 else ""))
    return out
