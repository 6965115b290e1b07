"""Run every overlay-parity benchmark on a generated fleet and print one table.

    python benchmarks/run.py [--clusters N] [--scaling-base M] [--json PATH] [--quick] [--seed S]
                             [--workdir DIR] [--keep] [--secret-clusters K] [--yaml-clusters K]

Every figure is a ratio against a baseline measured in the same run, on the same tree, plus the absolute
times, so a busy machine moves both sides together. Targets are reported as PASS/FAIL columns and never
asserted (``benchmarks/README.md`` explains every figure). Legs:

- parity: ``overlay-parity check`` (render + compare; peak RSS from ``wait4``) vs ``diff -r`` over the
  pristine rendered trees and the oracle trees: the whole check as a merge gate runs it (one worker per
  usable core) against ``check_vs_diff_ratio <= 4``, and the same check in one process (``-j 1``), whose
  time outside the renderer (timed inside the same run, ``benchmarks.timing``) is the harness part,
  against ``parity_vs_diff_ratio <= 1.5``;
- compare only: the library comparison over the same two trees ``diff -r`` reads;
- scaling: the parity check in one process at M and 10*M clusters (M = ``--scaling-base``, default N/10);
- secrets: ``overlay-parity scan-secrets`` vs ``detect-secrets scan --all-files`` on the same paths, and
  the recall of both on a key corpus generated now (ssh-keygen, openssl, age-keygen, gpg);
- hook: ``overlay-parity-fixture-secret-scan FILE`` (the pre-commit entry's console script), wall time;
- xdist: ``pytest --parity -n 2`` vs ``-n 0`` (policy items deselected by default: ``--xdist-select``;
  hypothesis' pytest plugin, a dev-only dependency costing ~1 s per process, is disabled on both sides),
  also on a fleet of 10x the clusters (``--xdist-large``), where the same fixed costs weigh a tenth;
- shards: ``check --shard 1/2 -j 1`` and ``2/2`` in parallel, ``merge-reports``, compared with the unsharded
  run;
- YAML: ``harness.yamlcompare.compare_bytes`` vs parse-everything + ``deepdiff.DeepDiff``;
- affected: ``check --changed <one cluster config>`` (the change selects one cluster) vs the full check.
- policy: ``overlay-parity policy`` (build gates) at 20 and 200 clusters, cold and warm build cache, vs one
  ``kubectl kustomize`` per Flux path sequentially (``benchmarks/policy_leg.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python benchmarks/run.py` from anywhere
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import policy_leg  # noqa: E402
from benchmarks.generator import DEFAULT_CLUSTERS, DEFAULT_SEED, Fleet, generate  # noqa: E402
from harness.cluster_pool import usable_cores  # noqa: E402

REQUIRED_KEYS = (
    "clusters", "files", "parity_seconds", "diff_r_seconds", "parity_vs_diff_ratio", "check_vs_diff_ratio",
    "scaling_ratio_10x",
    "secret_scan_seconds", "detect_secrets_seconds", "secret_scan_speedup_vs_detect_secrets", "recall_ours",
    "recall_detect_secrets", "hook_one_file_seconds", "xdist_speedup_n2", "peak_rss_mb",
    "yaml_compare_speedup_vs_deepdiff",
)
TARGETS = {
    "check_vs_diff_ratio": "<= 4.0 (whole check <= 4 x diff -r)",
    "parity_vs_diff_ratio": "<= 1.5 (harness part: parity - render <= 1.5 x diff -r)",
    "scaling_ratio_10x": "<= 10.5",
    "secret_scan_speedup_vs_detect_secrets": ">= 50",
    "recall_ours": "= 100% (and >= recall_detect_secrets)",
    "hook_one_file_seconds": "< 0.2 s",
    "xdist_speedup_n2": ">= 1.7",
    "peak_rss_mb": "<= 300 MB at 200 clusters",
    "shards_union_equal": "union of shards == unsharded",
    "affected_one_config_ratio": "<= 0.1 x the full check",
    "policy_200_warm_speedup": ">= 3 vs kubectl per Flux path, identical findings",
}
CHILD_TIMEOUT = 3600.0
# Hypothesis' pytest plugin (a dev dependency of this repository, not of a consuming repository) imports
# for ~1 s in every process, i.e. once more per xdist worker: it is switched off on both sides of the ratio.
PYTEST_EXTRA = ("-p", "no:hypothesispytest")
KEY_CODES = frozenset({"SECRET-PRIVATE-KEY", "SECRET-REAL-KEY"})


@dataclass
class Child:
    """A finished child process: wall time, exit code, peak RSS (this process, from ``wait4``)."""

    label: str
    seconds: float
    returncode: int
    maxrss_mb: float
    stdout: Path
    stderr: Path
    cpu_seconds: float = 0.0  # user + system of the child and the children it waited for

    def tail(self, lines: int = 3) -> str:
        """Last lines of stderr (or stdout) for error notes."""
        text = (self.stderr.read_text(errors="replace") or self.stdout.read_text(errors="replace")).strip()
        return " | ".join(text.splitlines()[-lines:])


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _default_workdir() -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return Path(tempfile.gettempdir())


def _filesystem(path: Path) -> str:
    try:
        best = ("", "?")
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and str(path.resolve()).startswith(parts[1]) and len(parts[1]) >= len(best[0]):
                best = (parts[1], parts[2])
        return f"{best[1]} ({best[0]})"
    except OSError:
        return "?"


@dataclass
class Bench:
    """One benchmark run: work directory, child environment, results and notes."""

    args: argparse.Namespace
    work: Path
    results: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.logs = self.work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        scratch = self.work / "tmp"
        scratch.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST_", "OVERLAY_PARITY_")) and k != "SOURCE_DATE_EPOCH"}
        env["TMPDIR"] = str(scratch)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH", "")])])
        # As on a developer machine or a CI image with a warm cache: byte code and pytest's assertion-rewrite
        # caches (pytest rewrites every plugin module, xdist's included, in every process that has none) are
        # written once and then reused. With PYTHONDONTWRITEBYTECODE inherited, every pytest process (the xdist
        # controller and each worker) would rewrite them again, a cost no real run pays twice.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # overlay-parity's own caches (compiled templates, outputs known valid, pairs known equal, policy builds)
        # in the work directory: the figures never depend on the user's cache, and a leg can start one cold.
        env["OVERLAY_PARITY_CACHE_DIR"] = str(self.work / "cache")
        self.env = env

    # ------------------------------------------------------------------------------------- helpers

    def say(self, text: str) -> None:
        """Progress on stderr."""
        print(f"[{time.perf_counter() - self.started:6.1f}s] {text}", file=sys.stderr, flush=True)

    def error(self, text: str) -> None:
        """Record a problem (shown under the table and in the JSON)."""
        self.errors.append(text)
        self.say(f"ERROR: {text}")

    def spawn(self, label: str, argv: Sequence[str], *, cwd: Path,
              env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], float, Path, Path]:
        """Start a child with stdout/stderr in ``logs/<label>.{out,err}``."""
        out, err = self.logs / f"{label}.out", self.logs / f"{label}.err"
        with out.open("wb") as so, err.open("wb") as se:
            proc = subprocess.Popen(list(argv), cwd=cwd, env=env or self.env, stdout=so, stderr=se)
        return proc, time.perf_counter(), out, err

    def reap(self, label: str, started: tuple[subprocess.Popen[bytes], float, Path, Path]) -> Child:
        """Wait for a child started by :meth:`spawn` (killed after ``CHILD_TIMEOUT``)."""
        proc, began, out, err = started
        timer = threading.Timer(CHILD_TIMEOUT, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        return Child(label, seconds, proc.returncode, usage.ru_maxrss / 1024.0, out, err,
                     usage.ru_utime + usage.ru_stime)

    def child(self, label: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Child:
        """Run a child to completion."""
        return self.reap(label, self.spawn(label, argv, cwd=cwd, env=env))

    def cli(self, *args: str) -> list[str]:
        """The ``overlay-parity`` console script (or ``python -m harness.cli``)."""
        script = _tool("overlay-parity")
        return [script, *args] if script else [sys.executable, "-m", "harness.cli", *args]

    def check(self, label: str, fleet: Fleet, *extra: str, cache: Path | None = None) -> tuple[Child, float]:
        """``overlay-parity check`` on a fleet through the timing renderer (``cache``: another cache directory);
        returns (child, render seconds)."""
        timing = self.logs / f"{label}.timing.jsonl"
        timing.unlink(missing_ok=True)
        env = dict(self.env, OVERLAY_PARITY_BENCH_TIMING=str(timing))
        if cache is not None:
            env["OVERLAY_PARITY_CACHE_DIR"] = str(cache)
        done = self.child(label, self.cli("check", "--renderer", "benchmarks.timing:RENDERER", *extra),
                          cwd=fleet.root, env=env)
        render = sum(json.loads(line)["render_seconds"] for line in timing.read_text().splitlines()) \
            if timing.exists() else 0.0
        if done.returncode != 0:
            self.error(f"{label}: overlay-parity check exited {done.returncode}: {done.tail()}")
        return done, render

    def fleet(self, clusters: int, *, rendered: bool = False, name: str = "fleet") -> Fleet:
        """Generate a fleet of ``clusters`` under the work directory (``<name>-<clusters>``)."""
        root = self.work / f"{name}-{clusters}"
        if root.exists():
            shutil.rmtree(root)
        began = time.perf_counter()
        fleet = generate(root, clusters, seed=self.args.seed, jobs=1 if rendered else self.args.jobs,
                         rendered_dir=self.work / f"rendered-{clusters}" if rendered else None)
        self.say(f"generated {clusters} clusters ({fleet.files} files, {fleet.bytes / 1e6:.1f} MB, {fleet.rules} "
                 f"rules) in {time.perf_counter() - began:.1f}s")
        return fleet

    def leg(self, name: str, function: Callable[[], None]) -> None:
        """Run one leg; an exception is recorded, not fatal."""
        if name in self.args.skip:
            self.say(f"skipped {name}")
            return
        began = time.perf_counter()
        self.say(f"{name} ...")
        try:
            function()
        except Exception as exc:  # a broken leg must not hide the others
            self.error(f"{name}: {type(exc).__name__}: {exc}")
        self.results.setdefault("leg_seconds", {})[name] = round(time.perf_counter() - began, 2)


# ------------------------------------------------------------------------------------------------ legs

def leg_parity(bench: Bench, fleet: Fleet) -> None:
    """``diff -r`` vs the whole check (default ``--jobs``: one worker per usable core) and vs the check in one
    process (``-j 1``, whose time outside the renderer is the harness part: one core, as ``diff -r`` uses),
    3 interleaved rounds each, best of each side (the same estimator for all, and a load spike hits none
    alone); compare-only in process; peak RSS of the checks (the largest)."""
    assert fleet.rendered is not None
    diff = _tool("diff") or "diff"
    diffs: list[float] = []
    single: list[tuple[float, Child, float]] = []  # (seconds outside the renderer, child, render seconds)
    whole: list[Child] = []
    cold, _ = bench.check("check-cold", fleet, cache=bench.work / "cache-cold")  # the first check on a machine
    for round_ in range(3):
        done = bench.child(f"diff-r-{round_}", [diff, "-r", str(fleet.rendered), str(fleet.overlays)], cwd=bench.work)
        if done.returncode not in (0, 1):
            bench.error(f"diff -r exited {done.returncode}: {done.tail()}")
        diffs.append(done.seconds)
        check, render = bench.check(f"check-one-process-{round_}", fleet, "-j", "1",
                                    "--json", str(bench.work / "report-one-process.json"))
        single.append((check.seconds - render, check, render))
        full, _ = bench.check(f"check-full-{round_}", fleet, "--json", str(bench.work / "report-full.json"))
        whole.append(full)
    r = bench.results
    r["diff_r_seconds"] = min(diffs)
    r["compare_seconds"] = _compare_only(fleet)
    r["compare_vs_diff_ratio"] = r["compare_seconds"] / r["diff_r_seconds"]
    outside, done, render = min(single, key=lambda item: item[0])
    r["parity_seconds"] = done.seconds
    r["parity_cpu_seconds"] = done.cpu_seconds
    r["parity_exit"] = max([c.returncode for _, c, _ in single] + [c.returncode for c in whole])
    r["parity_rounds_outside_render_seconds"] = [round(item[0], 3) for item in single]
    r["render_seconds"] = render
    r["render_seconds_generation"] = fleet.render_seconds
    r["parity_vs_diff_ratio"] = outside / r["diff_r_seconds"]
    best = min(whole, key=lambda child: child.seconds)
    r["check_seconds"] = best.seconds
    r["check_cpu_seconds"] = best.cpu_seconds
    r["check_cores_used"] = best.cpu_seconds / best.seconds
    r["check_jobs"] = usable_cores()
    r["check_vs_diff_ratio"] = best.seconds / r["diff_r_seconds"]
    r["check_cold_seconds"] = cold.seconds
    r["check_cold_vs_diff_ratio"] = cold.seconds / r["diff_r_seconds"]
    r["peak_rss_mb"] = max([c.maxrss_mb for _, c, _ in single] + [c.maxrss_mb for c in whole])


def _compare_only(fleet: Fleet) -> float:
    """The library comparison (walk, rules, read, compare) of every cluster over the trees ``diff -r`` reads."""
    from harness.inventory import load_inventory
    from harness.parity import compare_cluster

    assert fleet.rendered is not None
    inventory = load_inventory(fleet.inventory)
    best = math.inf
    for _ in range(2):
        began = time.perf_counter()
        for cluster in fleet.clusters:
            outcome = compare_cluster(cluster, fleet.rendered / cluster, fleet.overlays / cluster,
                                      inventory.rules_for(cluster), None, max_file_bytes=5 * 1024 * 1024)
            if not outcome.ok:
                first = outcome.findings[0]
                raise RuntimeError(f"compare-only: {cluster}: {first.code} {first.path}")
        best = min(best, time.perf_counter() - began)
    return best


def leg_affected(bench: Bench, fleet: Fleet) -> None:
    """``check --changed`` naming one changed cluster config (the fleet committed to git first) vs the full
    check, 2 interleaved rounds, best of each."""
    config = fleet.fixture / f".{fleet.clusters[len(fleet.clusters) // 2]}-config.yaml"
    git = _tool("git") or "git"
    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                                                 "-c", "commit.gpgsign=false", "commit", "-qm", "fleet")):
        subprocess.run([git, *args], cwd=fleet.root, check=True, capture_output=True)
    config.write_text(config.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")  # the change
    full: list[float] = []
    changed: list[float] = []
    for round_ in range(2):
        done, _ = bench.check(f"affected-full-{round_}", fleet)
        full.append(done.seconds)
        one, _ = bench.check(f"affected-one-{round_}", fleet, "--changed", str(config))
        changed.append(one.seconds)
        head = one.stdout.read_text(errors="replace").splitlines()[:1]
        if not head or not head[0].startswith("affected: 1 of "):
            bench.error(f"check --changed selected more than one cluster: {head}")
    r = bench.results
    r["affected_full_seconds"] = min(full)
    r["affected_seconds"] = min(changed)
    r["affected_selected"] = 1
    r["affected_one_config_ratio"] = r["affected_seconds"] / r["affected_full_seconds"]


def leg_shards(bench: Bench, fleet: Fleet) -> None:
    """Two shards in parallel, merge-reports, and the union compared with the unsharded report."""
    reports = [bench.work / f"report-shard-{i}.json" for i in (1, 2)]
    env = dict(bench.env)
    began = time.perf_counter()
    running = [bench.spawn(f"check-shard-{i}", bench.cli("check", "--shard", f"{i}/2", "-j", "1", "--json",
                                                         str(reports[i - 1])),
                           cwd=fleet.root, env=env) for i in (1, 2)]
    finished = [bench.reap(f"check-shard-{i}", started) for i, started in zip((1, 2), running, strict=True)]
    r = bench.results
    r["shards_seconds"] = time.perf_counter() - began
    for done in finished:
        if done.returncode != 0:
            bench.error(f"{done.label} exited {done.returncode}: {done.tail()}")
    merged_path = bench.work / "report-merged.json"
    merged = bench.child("merge-reports", bench.cli("merge-reports", str(merged_path), *map(str, reports)),
                         cwd=fleet.root)
    r["merge_exit"] = merged.returncode
    full_path = bench.work / "report-full.json"
    if merged.returncode not in (0, 1) or not merged_path.exists() or not full_path.exists():
        bench.error(f"merge-reports exited {merged.returncode}: {merged.tail()}")
        r["shards_union_equal"] = 0
        return
    problems = _union_problems(json.loads(full_path.read_text()), json.loads(merged_path.read_text()))
    r["shards_union_equal"] = 0 if problems else 1
    r["shards_speedup"] = r.get("parity_seconds", math.nan) / r["shards_seconds"]
    for problem in problems[:5]:
        bench.error(f"shards: {problem}")


def _union_problems(full: dict[str, Any], merged: dict[str, Any]) -> list[str]:
    """Differences between the unsharded report and the merged shard reports (empty: they agree)."""
    def per_cluster(report: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
        return {r["name"]: sorted((f["code"], f.get("path", ""), f.get("cluster", "")) for f in r["findings"])
                for r in report["results"] if r["check"] != "inventory"}

    def inventory(report: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((f["code"], f.get("message", "")) for r in report["results"] if r["check"] == "inventory"
                      for f in r["findings"])

    problems = []
    a, b = per_cluster(full), per_cluster(merged)
    if set(a) != set(b):
        problems.append(f"checks differ: only unsharded {sorted(set(a) - set(b))[:3]}, "
                        f"only merged {sorted(set(b) - set(a))[:3]}")
    problems += [f"{name}: findings differ" for name in sorted(set(a) & set(b)) if a[name] != b[name]]
    for key in ("clusters_run", "matched_rules"):
        if sorted(full.get(key, [])) != sorted(merged.get(key, [])):
            problems.append(f"{key} differ")
    if inventory(full) != inventory(merged):
        problems.append("inventory verdicts differ")
    if full["summary"]["errors"] != merged["summary"]["errors"]:
        problems.append(f"error counts differ: {full['summary']['errors']} vs {merged['summary']['errors']}")
    return problems


def leg_scaling(bench: Bench, main: Fleet) -> None:
    """The parity check in one process (-j 1) at M and 10*M clusters."""
    base = bench.args.scaling_base or max(1, len(main.clusters) // 10)
    r = bench.results
    times: dict[int, float] = {}
    for size in (base, 10 * base):
        if size == len(main.clusters) and "parity_seconds" in r:
            times[size] = r["parity_seconds"]
            continue
        fleet = bench.fleet(size, name="scaling")
        done, _ = bench.check(f"check-scaling-{size}", fleet, "-j", "1")
        times[size] = done.seconds
        shutil.rmtree(fleet.root, ignore_errors=True)
    r["scaling_base"] = base
    r["scaling_base_seconds"] = times[base]
    r["scaling_top_seconds"] = times[10 * base]
    r["scaling_ratio_10x"] = times[10 * base] / times[base]


def leg_secrets(bench: Bench, fleet: Fleet) -> None:
    """Our scanner vs detect-secrets on the same tree: the whole repository (``scan-secrets`` without a path,
    ``detect-secrets scan --all-files .``), or the configs and overlays of ``--secret-clusters`` clusters."""
    limit = bench.args.secret_clusters
    paths: list[str] = []
    if not limit or limit >= len(fleet.clusters):
        scope = "whole repository"
        count = sum(len(files) for _, _, files in os.walk(fleet.root))
    else:
        chosen = fleet.clusters[:limit]
        paths = [fleet.config(c).relative_to(fleet.root).as_posix() for c in chosen]
        paths += [(fleet.overlays / c).relative_to(fleet.root).as_posix() for c in chosen]
        scope = f"configs + overlays of {limit} clusters"
        count = 0
        for path in paths:
            full = fleet.root / path
            count += 1 if full.is_file() else sum(len(files) for _, _, files in os.walk(full))
    r = bench.results
    r["secret_scan_scope"] = scope
    r["secret_scan_files"] = count
    r["secret_scan_git"] = (fleet.root / ".git").exists()  # False: the fleet is walked, not listed by git
    r["secret_scan_loadavg"] = list(os.getloadavg())  # other work on the machine when the leg starts
    runs: list[Child] = []

    def scan(round_: int) -> None:  # ours runs 3 times (once before detect-secrets, twice after): the median
        done = bench.child(f"scan-secrets-{round_}", bench.cli("scan-secrets", *paths), cwd=fleet.root)
        if done.returncode != 0:
            bench.error(f"scan-secrets exited {done.returncode} on the fleet: {done.tail()}")
        runs.append(done)

    scan(0)
    detect = _tool("detect-secrets")
    theirs: Child | None = None
    if detect is None:
        bench.error("detect-secrets is not installed")
        r["detect_secrets_seconds"] = math.nan
    else:
        theirs = bench.child("detect-secrets", [detect, "scan", "--all-files", *(paths or ["."])], cwd=fleet.root)
        if theirs.returncode != 0:
            bench.error(f"detect-secrets exited {theirs.returncode}: {theirs.tail()}")
        r["detect_secrets_seconds"] = theirs.seconds
        r["detect_secrets_cpu_seconds"] = theirs.cpu_seconds
        r["detect_secrets_flagged_files"] = len(_detect_results(theirs.stdout))
        # both sides may use several processes (ours forks one per CPU, detect-secrets a multiprocessing
        # pool): CPU time / wall time is how many cores each actually got
        r["detect_secrets_cores_used"] = theirs.cpu_seconds / max(theirs.seconds, 1e-6)
    scan(1)
    scan(2)
    median = sorted(runs, key=lambda done: done.seconds)[len(runs) // 2]  # the median run by wall time
    r["secret_scan_seconds_all"] = [done.seconds for done in runs]
    r["secret_scan_seconds"] = median.seconds
    r["secret_scan_cpu_seconds"] = median.cpu_seconds
    r["secret_scan_cores_used"] = median.cpu_seconds / max(median.seconds, 1e-6)
    if theirs is not None:  # CPU time too: on a shared machine a short run's wall time is mostly waiting
        r["secret_scan_cpu_speedup_vs_detect_secrets"] = theirs.cpu_seconds / max(r["secret_scan_cpu_seconds"], 1e-6)
    r["secret_scan_speedup_vs_detect_secrets"] = r["detect_secrets_seconds"] / r["secret_scan_seconds"]


def _detect_results(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    results: dict[str, list[dict[str, Any]]] = data.get("results", {})
    return results


def leg_recall(bench: Bench) -> None:
    """Recall of both scanners on a key corpus generated now."""
    from benchmarks.keycorpus import build_corpus

    corpus = bench.work / "key-corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    planted, skipped = build_corpus(corpus)
    r = bench.results
    r["corpus_files"] = len(planted)
    r["corpus_key_types"] = sorted({p.key for p in planted})
    if skipped:
        r["corpus_skipped_key_types"] = skipped
    if not planted:
        bench.error("recall: no key could be generated")
        r["recall_ours"] = r["recall_detect_secrets"] = math.nan
        return
    report = bench.work / "report-corpus.json"
    ours = bench.child("scan-secrets-corpus", bench.cli("scan-secrets", "--json", str(report), "."), cwd=corpus)
    flagged: set[str] = set()
    if report.exists():
        for result in json.loads(report.read_text())["results"]:
            flagged |= {Path(f["path"]).name for f in result["findings"] if f["code"] in KEY_CODES}
    elif ours.returncode not in (0, 1):
        bench.error(f"scan-secrets on the corpus exited {ours.returncode}: {ours.tail()}")
    names = {p.path.name for p in planted}
    r["recall_ours"] = len(flagged & names) / len(names)
    missed = sorted(names - flagged)
    if missed:
        r["recall_ours_missed"] = missed
    detect = _tool("detect-secrets")
    if detect is None:
        r["recall_detect_secrets"] = math.nan
        return
    theirs = bench.child("detect-secrets-corpus", [detect, "scan", "--all-files", "."], cwd=corpus)
    results = _detect_results(theirs.stdout)
    any_finding = {Path(name).name for name, found in results.items() if found}
    as_key = {Path(name).name for name, found in results.items() if any(f.get("type") == "Private Key" for f in found)}
    r["recall_detect_secrets"] = len(any_finding & names) / len(names)  # lenient: any finding in the file
    r["recall_detect_secrets_private_key"] = len(as_key & names) / len(names)  # strict: reported as a private key
    by_position: dict[str, dict[str, float]] = {}
    for position in sorted({p.position for p in planted}):
        files = {p.path.name for p in planted if p.position == position}
        by_position[position] = {"ours": len(flagged & files) / len(files),
                                 "detect_secrets": len(any_finding & files) / len(files)}
    r["recall_by_position"] = by_position


def leg_hook(bench: Bench, fleet: Fleet) -> None:
    """The ``fixture-secret-scan`` hook on one changed file, through its real entry point (median of 5)."""
    candidates = sorted(fleet.overlays.glob("*/customer-managed/sources/*.yaml")) or \
        sorted(fleet.overlays.glob("*/services/fluxcd/*.yaml"))
    target = candidates[0].relative_to(fleet.root).as_posix()
    argv = [str(Path(sys.executable).parent / "overlay-parity-fixture-secret-scan"), target]
    bench.child("hook-warmup", argv, cwd=fleet.root)
    times, cpu = [], []
    for round_ in range(5):
        done = bench.child(f"hook-{round_}", argv, cwd=fleet.root)
        if done.returncode != 0:
            bench.error(f"hook exited {done.returncode}: {done.tail()}")
        times.append(done.seconds)
        cpu.append(done.cpu_seconds)
    r = bench.results
    r["hook_one_file_seconds"] = statistics.median(times)
    r["hook_one_file_cpu_seconds"] = statistics.median(cpu)
    r["hook_file"] = target
    r["hook_fixture_files"] = fleet.files


def leg_xdist(bench: Bench, fleet: Fleet) -> None:
    """``pytest --parity -n 0`` vs ``-n 2`` on the fleet: interleaved rounds, each side's fastest round.

    One run of each on a machine shared with other work measures the load as much as the plugin (the ratio
    swung between 0.96x and 1.63x from run to run): ``XDIST_ROUNDS`` interleaved rounds, the least
    disturbed (fastest) run of each side, every round recorded. The report path is passed as
    ``--parity-report=PATH``: as two words, a PATH that already exists (the second round) is taken by
    pytest for a test path before plugin options are known, and moves the rootdir away from the fleet.
    """
    bench.results.update(_xdist_rounds(bench, fleet, "xdist", rounds=3))
    large = bench.args.xdist_large
    if large:
        # The same where the items hold 10x the work: the fixed cost of a controller and a second worker
        # (pytest's own import is ~0.13 s of it in each) weighs a tenth as much as at the main fleet.
        big = bench.fleet(large, name="xdist")
        try:
            for _ in range(2):  # record the clean comparisons the rounds replay, as at the main fleet
                bench.check(f"xdist-large-check-{_}", big)
            bench.results.update(_xdist_rounds(bench, big, "xdist_large", rounds=2))
        finally:
            shutil.rmtree(big.root, ignore_errors=True)


def _xdist_rounds(bench: Bench, fleet: Fleet, prefix: str, *, rounds: int) -> dict[str, Any]:
    """The figures of :func:`leg_xdist` on ``fleet``, under keys starting with ``prefix``."""
    runs: dict[int, list[Child]] = {0: [], 2: []}
    for round_ in range(rounds):
        for workers in (0, 2):
            report = bench.work / f"report-pytest-n{workers}.json"
            argv = [sys.executable, "-m", "pytest", "--parity", "-n", str(workers), "-q", "-p", "no:cacheprovider",
                    *PYTEST_EXTRA, f"--parity-report={report}"]
            if bench.args.xdist_select:
                argv += ["-k", bench.args.xdist_select]
            done = bench.child(f"{prefix}-pytest-n{workers}-{round_}", argv, cwd=fleet.root)
            if done.returncode != 0:
                bench.error(f"pytest --parity -n {workers} exited {done.returncode}: {done.tail(2)}")
                return {}
            runs[workers].append(done)
    best = {workers: min(children, key=lambda child: child.seconds) for workers, children in runs.items()}
    times = {workers: child.seconds for workers, child in best.items()}
    cpu = {workers: child.cpu_seconds for workers, child in best.items()}
    return {
        f"{prefix}_clusters": len(fleet.clusters),
        f"{prefix}_rounds": rounds,
        f"{prefix}_n0_seconds_all": [child.seconds for child in runs[0]],
        f"{prefix}_n2_seconds_all": [child.seconds for child in runs[2]],
        f"{prefix}_n0_cpu_seconds": cpu[0],
        f"{prefix}_n2_cpu_seconds": cpu[2],
        f"{prefix}_n0_cores_used": cpu[0] / times[0],
        f"{prefix}_n2_cores_used": cpu[2] / times[2],  # < 2 when other work shares the machine
        f"{prefix}_cpu_ratio_n2_vs_n0": cpu[2] / cpu[0],  # extra CPU the parallel run needs (1.0 = none)
        f"{prefix}_n0_seconds": times[0],
        f"{prefix}_n2_seconds": times[2],
        f"{prefix}_speedup_n2": times[0] / times[2],
        f"{prefix}_select": bench.args.xdist_select or "(all items)",
    }


def leg_yaml(bench: Bench, fleet: Fleet) -> None:
    """Our YAML comparison vs parse-everything + DeepDiff over the file pairs of the first K clusters."""
    from deepdiff import DeepDiff

    from harness.tree import walk_tree
    from harness.yamlcompare import compare_bytes, is_yaml_path
    from harness.yamlio import load_documents

    assert fleet.rendered is not None
    limit = bench.args.yaml_clusters or len(fleet.clusters)
    pairs: list[tuple[str, bytes, bytes]] = []
    for cluster in fleet.clusters[:limit]:
        rendered, oracle = fleet.rendered / cluster, fleet.overlays / cluster
        both = set(walk_tree(rendered, max_file_bytes=1 << 22).owned) & \
            set(walk_tree(oracle, max_file_bytes=1 << 22).owned)
        pairs += [(rel, (rendered / rel).read_bytes(), (oracle / rel).read_bytes()) for rel in sorted(both)
                  if is_yaml_path(rel)]

    def ours(items: list[tuple[str, bytes, bytes]]) -> float:
        began = time.perf_counter()
        for rel, new, old in items:
            compare_bytes(new, old, rel)
        return time.perf_counter() - began

    def baseline(items: list[tuple[str, bytes, bytes]]) -> float:
        began = time.perf_counter()
        for rel, new, old in items:
            DeepDiff(load_documents(old.decode(), rel), load_documents(new.decode(), rel))
        return time.perf_counter() - began

    parsed = [p for p in pairs if p[1] != p[2]]
    r = bench.results
    r["yaml_pairs"] = len(pairs)
    r["yaml_pairs_differing"] = len(parsed)
    r["yaml_compare_seconds"] = min(ours(pairs) for _ in range(2))
    r["yaml_deepdiff_seconds"] = baseline(pairs)
    r["yaml_compare_speedup_vs_deepdiff"] = r["yaml_deepdiff_seconds"] / r["yaml_compare_seconds"]
    if parsed:
        mine, theirs = min(ours(parsed) for _ in range(2)), baseline(parsed)
        r["yaml_compare_differing_speedup_vs_deepdiff"] = theirs / mine


# ------------------------------------------------------------------------------------------------ report

def _fmt(value: Any, unit: str = "") -> str:
    if not isinstance(value, (int, float)) or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "%":
        return f"{value * 100:.0f}%"
    return f"{value:.2f}" if isinstance(value, float) else f"{value}"


def verdicts(r: dict[str, Any]) -> dict[str, bool | None]:
    """PASS (True) / FAIL (False) / not measured (None) per target."""
    def num(key: str) -> float | None:
        value = r.get(key)
        return float(value) if isinstance(value, (int, float)) and not math.isnan(value) else None

    def test(key: str, ok: Callable[[float], bool]) -> bool | None:
        value = num(key)
        return None if value is None else ok(value)

    ours, theirs = num("recall_ours"), num("recall_detect_secrets")
    return {
        "check_vs_diff_ratio": test("check_vs_diff_ratio", lambda v: v <= 4.0),
        "parity_vs_diff_ratio": test("parity_vs_diff_ratio", lambda v: v <= 1.5),
        "scaling_ratio_10x": test("scaling_ratio_10x", lambda v: v <= 10.5),
        "secret_scan_speedup_vs_detect_secrets": test("secret_scan_speedup_vs_detect_secrets", lambda v: v >= 50.0),
        "recall_ours": None if ours is None or theirs is None else ours == 1.0 and ours >= theirs,
        "hook_one_file_seconds": test("hook_one_file_seconds", lambda v: v < 0.2),
        "xdist_speedup_n2": test("xdist_speedup_n2", lambda v: v >= 1.7),
        "peak_rss_mb": test("peak_rss_mb", lambda v: v <= 300.0),
        "shards_union_equal": test("shards_union_equal", lambda v: v == 1),
        "affected_one_config_ratio": test("affected_one_config_ratio", lambda v: v <= 0.1),
        "policy_200_warm_speedup": None if r.get("policy_200_findings_identical") is None else bool(
            test("policy_200_warm_speedup", lambda v: v >= 3.0) and r.get("policy_200_findings_identical")),
    }


def table(r: dict[str, Any]) -> str:
    """The results table (markdown)."""
    v = verdicts(r)

    def mark(key: str) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[v.get(key)]

    rows = [
        (f"whole check (render+compare, {r.get('check_jobs', '?')} workers, cores used "
         f"{_fmt(r.get('check_cores_used'))}) vs diff -r",
         f"{_fmt(r.get('check_seconds'), 's')}", f"diff -r {_fmt(r.get('diff_r_seconds'), 's')}",
         f"{_fmt(r.get('check_vs_diff_ratio'), 'x')} check/diff", TARGETS["check_vs_diff_ratio"],
         mark("check_vs_diff_ratio")),
        ("  same check, cold cache (the first check on a machine: empty cache directory)",
         f"{_fmt(r.get('check_cold_seconds'), 's')}", f"diff -r {_fmt(r.get('diff_r_seconds'), 's')}",
         _fmt(r.get("check_cold_vs_diff_ratio"), "x"), "(info)", ""),
        ("  same check in one process (-j 1)",
         f"{_fmt(r.get('parity_seconds'), 's')} (render {_fmt(r.get('render_seconds'), 's')})",
         f"diff -r {_fmt(r.get('diff_r_seconds'), 's')}",
         _fmt((r.get("parity_seconds") or math.nan) / (r.get("diff_r_seconds") or math.nan), "x"), "(info)", ""),
        ("harness part (one process: check - render) vs diff -r",
         _fmt((r.get("parity_seconds") or 0) - (r.get("render_seconds") or 0), "s"),
         f"diff -r {_fmt(r.get('diff_r_seconds'), 's')}",
         f"{_fmt(r.get('parity_vs_diff_ratio'), 'x')} (check-render)/diff", TARGETS["parity_vs_diff_ratio"],
         mark("parity_vs_diff_ratio")),
        ("compare only (library) vs diff -r", _fmt(r.get("compare_seconds"), "s"),
         f"diff -r {_fmt(r.get('diff_r_seconds'), 's')}", _fmt(r.get("compare_vs_diff_ratio"), "x"), "(info)", ""),
        (f"scaling {r.get('scaling_base', '?')} -> {10 * int(r.get('scaling_base', 0) or 0)} clusters",
         _fmt(r.get("scaling_top_seconds"), "s"), _fmt(r.get("scaling_base_seconds"), "s"),
         _fmt(r.get("scaling_ratio_10x"), "x"), TARGETS["scaling_ratio_10x"], mark("scaling_ratio_10x")),
        (f"secret scan ({r.get('secret_scan_scope', '?')}, {r.get('secret_scan_files', '?')} files; cores used "
         f"{_fmt(r.get('secret_scan_cores_used'))} vs {_fmt(r.get('detect_secrets_cores_used'))})",
         _fmt(r.get("secret_scan_seconds"), "s"), f"detect-secrets {_fmt(r.get('detect_secrets_seconds'), 's')}",
         _fmt(r.get("secret_scan_speedup_vs_detect_secrets"), "x"), TARGETS["secret_scan_speedup_vs_detect_secrets"],
         mark("secret_scan_speedup_vs_detect_secrets")),
        ("  same, CPU time (user + system)", _fmt(r.get("secret_scan_cpu_seconds"), "s"),
         f"detect-secrets {_fmt(r.get('detect_secrets_cpu_seconds'), 's')}",
         _fmt(r.get("secret_scan_cpu_speedup_vs_detect_secrets"), "x"), "(info: load-independent)", ""),
        (f"recall on {r.get('corpus_files', '?')} planted keys", _fmt(r.get("recall_ours"), "%"),
         f"detect-secrets {_fmt(r.get('recall_detect_secrets'), '%')} (as private key "
         f"{_fmt(r.get('recall_detect_secrets_private_key'), '%')})", "", TARGETS["recall_ours"], mark("recall_ours")),
        ("fixture-secret-scan hook, one file", _fmt(r.get("hook_one_file_seconds"), "s"),
         f"CPU {_fmt(r.get('hook_one_file_cpu_seconds'), 's')}", "", TARGETS["hook_one_file_seconds"],
         mark("hook_one_file_seconds")),
        (f"pytest --parity -n 2 vs -n 0 ({r.get('xdist_select', '')}; cores used "
         f"{_fmt(r.get('xdist_n2_cores_used'))} vs {_fmt(r.get('xdist_n0_cores_used'))}, CPU "
         f"{_fmt(r.get('xdist_cpu_ratio_n2_vs_n0'), 'x')})", _fmt(r.get("xdist_n2_seconds"), "s"),
         _fmt(r.get("xdist_n0_seconds"), "s"), _fmt(r.get("xdist_speedup_n2"), "x"), TARGETS["xdist_speedup_n2"],
         mark("xdist_speedup_n2")),
        (f"  same at {r.get('xdist_large_clusters', '?')} clusters (10x the work per run; cores used "
         f"{_fmt(r.get('xdist_large_n2_cores_used'))} vs {_fmt(r.get('xdist_large_n0_cores_used'))}, CPU "
         f"{_fmt(r.get('xdist_large_cpu_ratio_n2_vs_n0'), 'x')})", _fmt(r.get("xdist_large_n2_seconds"), "s"),
         _fmt(r.get("xdist_large_n0_seconds"), "s"), _fmt(r.get("xdist_large_speedup_n2"), "x"), "(info)", ""),
        ("peak RSS of the full check", _fmt(r.get("peak_rss_mb"), "MB"), "", "", TARGETS["peak_rss_mb"],
         mark("peak_rss_mb")),
        ("2 shards in parallel (-j 1 each) + merge-reports", _fmt(r.get("shards_seconds"), "s"),
         f"unsharded -j 1 {_fmt(r.get('parity_seconds'), 's')}", _fmt(r.get("shards_speedup"), "x"),
         TARGETS["shards_union_equal"], mark("shards_union_equal")),
        (f"check --changed one config ({r.get('affected_selected', '?')} of {r.get('clusters', '?')} clusters checked)",
         _fmt(r.get("affected_seconds"), "s"), f"full check {_fmt(r.get('affected_full_seconds'), 's')}",
         _fmt(r.get("affected_one_config_ratio"), "x"), TARGETS["affected_one_config_ratio"],
         mark("affected_one_config_ratio")),
        (f"YAML compare, {r.get('yaml_pairs', '?')} pairs ({r.get('yaml_pairs_differing', '?')} differ)",
         _fmt(r.get("yaml_compare_seconds"), "s"), f"parse + DeepDiff {_fmt(r.get('yaml_deepdiff_seconds'), 's')}",
         f"{_fmt(r.get('yaml_compare_speedup_vs_deepdiff'), 'x')} (differing pairs only "
         f"{_fmt(r.get('yaml_compare_differing_speedup_vs_deepdiff'), 'x')})", "(info)", ""),
    ]
    rows += policy_leg.rows(r, _fmt, mark)
    head = ("benchmark", "ours", "baseline", "ratio", "target", "result")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _numeric(value: Any) -> Any:
    """NaN/inf become None in the JSON (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _numeric(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------------------ main

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (``--quick`` sets smaller defaults for whatever was not given)."""
    parser = argparse.ArgumentParser(description="Run the overlay-parity benchmarks on a generated fleet.")
    parser.add_argument("--clusters", type=int, help=f"fleet size (default {DEFAULT_CLUSTERS}; 20 with --quick)")
    parser.add_argument("--scaling-base", type=int, default=0,
                        help="measure the parity check at M and 10*M clusters (default: clusters/10, so 10*M is "
                             "the main fleet)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (20 clusters unless --clusters)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workdir", type=Path, help="where the temporary work directory goes (default /dev/shm when "
                        "writable, else the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (fleets, reports, logs)")
    parser.add_argument("--secret-clusters", type=int, default=0,
                        help="scan only the configs and overlays of the first K clusters (default: whole fixture)")
    parser.add_argument("--yaml-clusters", type=int,
                        help="file pairs of the first K clusters for the YAML comparison leg (default 20, --quick 5)")
    parser.add_argument("--xdist-select", default="not policy",
                        help="pytest -k expression for the xdist leg (default 'not policy': the policy items run "
                             "kubectl per cluster; '' runs every item)")
    parser.add_argument("--xdist-large", type=int, default=None, metavar="N",
                        help="clusters of a second, larger fleet the xdist leg also runs on (default 10x "
                             "--clusters; 0 skips it)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes for generating the extra fleets of the scaling leg")
    parser.add_argument("--skip", default="", help="comma-separated legs to skip (parity, shards, scaling, secrets, "
                        "recall, hook, xdist, yaml, affected, policy)")
    args = parser.parse_args(argv)
    if args.clusters is None:
        args.clusters = 20 if args.quick else DEFAULT_CLUSTERS
    if args.yaml_clusters is None:
        args.yaml_clusters = 5 if args.quick else 20
    if args.xdist_large is None:
        args.xdist_large = 0 if args.quick else 10 * args.clusters
    if args.clusters < 1:
        parser.error("--clusters must be at least 1")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


def _byte_compile() -> None:
    """Byte-compile the code under test first, as ``pip install`` does for an installed package: an editable
    checkout run with ``PYTHONDONTWRITEBYTECODE`` (common in CI images) would otherwise recompile every module
    in every measured process."""
    import compileall

    for package in ("harness", "renderer", "benchmarks"):
        compileall.compile_dir(REPO_ROOT / package, quiet=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, measure, print the table, write ``--json``; exit 0 (targets are reported, not enforced)."""
    args = parse_args(argv)
    base = (args.workdir or _default_workdir()).resolve()
    work = Path(tempfile.mkdtemp(prefix="overlay-parity-bench-", dir=base))
    bench = Bench(args, work)
    r = bench.results
    r.update({"clusters": args.clusters, "seed": args.seed, "workdir": str(work), "filesystem": _filesystem(work),
              "python": platform.python_version(), "cpus": os.cpu_count(), "quick": args.quick})
    try:
        r["loadavg_start"] = list(os.getloadavg())
        bench.say(f"work directory {work} on {r['filesystem']}")
        _byte_compile()
        began = time.perf_counter()
        fleet = bench.fleet(args.clusters, rendered=True)
        r["generate_seconds"] = time.perf_counter() - began
        r["files"] = fleet.files
        r["bytes"] = fleet.bytes
        r["rules"] = fleet.rules
        r["drift"] = fleet.drift
        bench.leg("parity", lambda: leg_parity(bench, fleet))
        bench.leg("shards", lambda: leg_shards(bench, fleet))
        bench.leg("scaling", lambda: leg_scaling(bench, fleet))
        bench.leg("secrets", lambda: leg_secrets(bench, fleet))
        bench.leg("recall", lambda: leg_recall(bench))
        bench.leg("hook", lambda: leg_hook(bench, fleet))
        bench.leg("xdist", lambda: leg_xdist(bench, fleet))
        bench.leg("yaml", lambda: leg_yaml(bench, fleet))
        bench.leg("affected", lambda: leg_affected(bench, fleet))
        bench.leg("policy", lambda: policy_leg.leg_policy(bench, fleet))
        r["loadavg_end"] = list(os.getloadavg())
    finally:
        r["total_seconds"] = time.perf_counter() - bench.started
        for key in REQUIRED_KEYS:
            r.setdefault(key, math.nan)
        r["targets"] = {k: v for k, v in verdicts(r).items()}
        r["errors"] = bench.errors
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            bench.say(f"kept {work}")
    print(f"\noverlay-parity benchmarks: {r['clusters']} clusters, {r.get('files', '?')} files, "
          f"{r.get('bytes', 0) / 1e6:.1f} MB, seed {r['seed']}, {r['cpus']} CPUs, load {r.get('loadavg_start')}, "
          f"work dir on {r['filesystem']}, {r['total_seconds']:.0f}s total\n")
    print(table(r))
    if bench.errors:
        print("\nproblems:")
        for problem in bench.errors:
            print(f"- {problem}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_numeric(r), indent=2, sort_keys=True, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
