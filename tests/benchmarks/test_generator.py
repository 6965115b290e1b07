"""The benchmark fleet generator and a tiny end-to-end benchmark run (no timing assertions anywhere)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.generator import cluster_name, generate
from benchmarks.run import REQUIRED_KEYS
from harness.inventory import load_inventory
from renderer.config import load_config

REPO = Path(__file__).resolve().parents[2]


def _digest(root: Path) -> dict[str, tuple[str, int]]:
    """Relative path -> (sha256, mtime_ns) of every file under the fixture and the inventory."""
    found: dict[str, tuple[str, int]] = {}
    for folder in (root / "testdata", root / "canonicalization"):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                            path.stat().st_mtime_ns if "overlays" in path.parts else 0)
    return found


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("fleets")
    generate(base / "a", 4, seed=7)
    generate(base / "b", 4, seed=7, jobs=2)
    generate(base / "c", 4, seed=8)
    return base / "a", base / "b", base / "c"


def test_deterministic_for_a_seed(fleets: tuple[Path, Path, Path]) -> None:
    first, second, other = fleets
    assert _digest(first) == _digest(second)  # one process or two: the same bytes and modification times
    assert _digest(first) != _digest(other)


def test_n_clusters_with_configs_that_load(fleets: tuple[Path, Path, Path]) -> None:
    root = fleets[0]
    fixture = root / "testdata" / "bench-fleet"
    configs = sorted(fixture.glob(".*-config.yaml"))
    assert [p.name for p in configs] == sorted(f".{cluster_name(i)}-config.yaml" for i in range(4))
    for path in configs:
        config = load_config(path)
        assert config.cluster == path.name[1:-len("-config.yaml")]
        assert (fixture / "applications" / "overlays" / config.cluster / "kustomization.yaml").is_file()


def test_inventory_loads_and_carries_the_drift(fleets: tuple[Path, Path, Path]) -> None:
    root = fleets[0]
    inventory = load_inventory(root / "canonicalization" / "bench-fleet.yaml")
    kinds = {rule.kind for rule in inventory.all_rules()}
    assert {"alias", "ignore_fixture", "path_only", "yaml_remove"} <= kinds
    assert inventory.path_only_budget == inventory.path_only_count()
    overlays = root / "testdata" / "bench-fleet" / "applications" / "overlays"
    assert (overlays / cluster_name(0) / "flux-system" / "gotk-sync.yaml").is_file()
    assert not (overlays / cluster_name(1) / "flux-system").exists()
    assert 'fixture = "testdata/bench-fleet"' in (root / "pyproject.toml").read_text()


def test_first_clusters_do_not_depend_on_fleet_size(tmp_path: Path) -> None:
    small = generate(tmp_path / "small", 2, seed=7)
    large = generate(tmp_path / "large", 3, seed=7)
    for cluster in small.clusters:
        assert small.config(cluster).read_bytes() == large.config(cluster).read_bytes()


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    with pytest.raises(FileExistsError):
        generate(tmp_path, 1)


def test_tiny_benchmark_run_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--clusters", "3",
                           "--json", str(out), "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    for key in REQUIRED_KEYS:
        value = data[key]
        assert isinstance(value, (int, float)), (key, value)
        assert not isinstance(value, bool), (key, value)
        assert math.isfinite(value), (key, value)
    assert data["clusters"] == 3
    assert set(data["targets"]) >= {"parity_vs_diff_ratio", "xdist_speedup_n2", "shards_union_equal"}
    assert "| benchmark |" in proc.stdout
    assert not any(tmp_path.glob("overlay-parity-bench-*")), "the work directory is removed without --keep"
