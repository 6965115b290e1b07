"""Interrupted and concurrent renders of the real renderer on a real config.

The overlay starts as the complete tree of one config (OLD) plus bootstrap-owned ``flux-system/`` and
hand-written files; a render of a changed config (NEW) is SIGKILLed. Whatever the kill point, the overlay
must be exactly OLD or exactly NEW (every file's bytes and mode; non-owned files also their mtimes), and
the next render must clean up every leftover (temp tree, old tree, lock file) and produce NEW.

Kill points come two ways: from the test, after a delay spread over the measured render time (the render
is made long by 600 bootstrap files it must copy through), and from inside the child at exact points
of the protocol (``tests/hardening/render_driver.py``), so every phase is covered whatever the timing.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from renderer.api import RENDERER
from tests.hardening.support import FIXTURE, PYTHON, ROOT, add_bootstrap, env, render_pristine

BULK_FILES = 600
OWNED_TOP = ("kustomization.yaml", ".sops.yaml", "services", "managed-services", "customer-managed")
State = dict[str, tuple[str, bytes, int, int]]


def is_owned(relative: str) -> bool:
    return relative.split("/", 1)[0] in OWNED_TOP


def tree_state(overlay: Path) -> State:
    """Every entry: kind, bytes, mode; mtimes only for non-owned entries (kept with copy2/copystat)."""
    state: State = {}
    for folder, dirs, files in os.walk(overlay):
        for name in dirs + files:
            path = Path(folder, name)
            relative = path.relative_to(overlay).as_posix()
            info = path.lstat()
            mtime = 0 if is_owned(relative) else info.st_mtime_ns
            if path.is_symlink():
                state[relative] = ("link", os.readlink(path).encode(), info.st_mode, mtime)
            elif path.is_dir():
                state[relative] = ("dir", b"", info.st_mode, 0 if is_owned(relative) else mtime)
            else:
                state[relative] = ("file", path.read_bytes(), info.st_mode, mtime)
    return state


def non_owned(state: State) -> State:
    return {k: v for k, v in state.items() if not is_owned(k)}


def leftovers(overlay: Path) -> list[str]:
    return sorted(p.name for p in overlay.parent.iterdir() if p.name != overlay.name)


def describe_mix(state: State, old: State, new: State) -> str:
    from_old = sorted(k for k in state if state[k] == old.get(k) and state[k] != new.get(k))
    from_new = sorted(k for k in state if state[k] == new.get(k) and state[k] != old.get(k))
    neither = sorted(k for k in set(state) | set(old) | set(new)
                     if state.get(k) not in (old.get(k), new.get(k)))
    return f"mixed tree: {len(from_old)} old-only, {len(from_new)} new-only, neither: {neither[:10]}"


@dataclass(frozen=True)
class Trees:
    base: Path
    old_config: Path
    new_config: Path
    old: State
    new: State
    planned: int


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Trees:
    """OLD = k8s-dev plus flux-system/ (600 files) and hand-written files; NEW = a changed config."""
    root = tmp_path_factory.mktemp("interrupted")
    old_config = FIXTURE / ".k8s-dev-config.yaml"
    new_config = root / "new" / old_config.name
    new_config.parent.mkdir()
    text = old_config.read_text(encoding="utf-8")
    for old, new in (("tag: v1.4.2", "tag: v1.4.3"), ("timeout: 10m", "timeout: 20m")):
        assert old in text
        text = text.replace(old, new, 1)
    new_config.write_text(text, encoding="utf-8")
    base = root / "base" / "k8s-dev"
    render_pristine(base, config=old_config)
    add_bootstrap(base)
    for index in range(BULK_FILES):
        path = base / "flux-system" / f"bulk-{index % 30:02d}" / f"object-{index:04d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bulk-{index}\n".encode() * 8)
    (base / "docs").mkdir()
    (base / "docs" / "runbook.md").write_text("restart the thing\n", encoding="utf-8")
    scratch = root / "scratch" / "k8s-dev"
    shutil.copytree(base, scratch, copy_function=shutil.copy2)
    render_pristine(scratch, config=new_config)
    planned = len(RENDERER.plan(new_config).files)
    trees = Trees(base, old_config, new_config, tree_state(base), tree_state(scratch), planned)
    assert trees.old != trees.new
    assert non_owned(trees.old) == non_owned(trees.new)
    assert sum(1 for k in trees.old if k.startswith("flux-system/")) > BULK_FILES
    return trees


@pytest.fixture
def overlay(trees: Trees, tmp_path: Path) -> Path:
    """A private copy of the OLD overlay (bytes, modes and mtimes preserved). Files are hard links to the
    module's base tree: a render never writes into an existing file (it builds a new tree, swaps, and
    unlinks the old one), so the base stays intact -- and a render that did would fail every later test."""
    target = tmp_path / "overlays" / "k8s-dev"
    shutil.copytree(trees.base, target, copy_function=os.link)
    assert tree_state(target) == trees.old
    return target


def driver(config: Path, out: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen([PYTHON, "-m", "tests.hardening.render_driver", str(config), str(out), *options],
                            cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.stderr else "")


def assert_old_or_new(overlay: Path, trees: Trees) -> str:
    state = tree_state(overlay)
    assert non_owned(state) == non_owned(trees.old), "flux-system/ or a hand-written file changed"
    if state == trees.old:
        return "old"
    assert state == trees.new, describe_mix(state, trees.old, trees.new)
    return "new"


def assert_recovers(overlay: Path, trees: Trees) -> None:
    """The next render (the real one, in this process) cleans every leftover and produces NEW."""
    render_pristine(overlay, config=trees.new_config)
    assert tree_state(overlay) == trees.new
    assert leftovers(overlay) == []


# ------------------------------------------------------------------------------ kills from the test

@pytest.fixture(scope="module")
def render_seconds(trees: Trees, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long the render proper takes here (from ``ready`` to exit)."""
    out = tmp_path_factory.mktemp("calibrate") / "k8s-dev"
    shutil.copytree(trees.base, out, copy_function=shutil.copy2)
    proc = driver(trees.new_config, out, "--ready")
    wait_ready(proc)
    started = time.monotonic()
    _, err = proc.communicate(timeout=120)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, err
    assert tree_state(out) == trees.new
    return seconds


# 0.02 .. 1.6 of the measured render time: a loaded machine renders slower than the calibration run, so the
# spread reaches past the swap and the cleanup; kills after the end find the render finished (exit 0).
FRACTIONS = [round(0.02 + i * 1.58 / 11, 3) for i in range(12)]


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_sigkill_at_a_spread_delay_leaves_old_or_new(trees: Trees, overlay: Path, render_seconds: float,
                                                      fraction: float) -> None:
    delay = render_seconds * fraction * random.Random(fraction).uniform(0.9, 1.1)
    proc = driver(trees.new_config, overlay, "--ready")
    wait_ready(proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode in (-signal.SIGKILL, 0)  # 0: the render finished before the signal
    outcome = assert_old_or_new(overlay, trees)
    if proc.returncode == 0:
        assert outcome == "new"
        assert leftovers(overlay) == []
    assert_recovers(overlay, trees)


# ------------------------------------------------------------------------------ kills at exact points

def kill_at(trees: Trees, overlay: Path, point: str) -> str:
    proc = driver(trees.new_config, overlay, "--kill-at", point)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, err)
    return assert_old_or_new(overlay, trees)


@pytest.mark.parametrize(("points", "outcome"), [
    (("write:1",), "old"),
    (("write:half",), "old"),
    (("write:last",), "old"),
    (("copy:1",), "old"),
    (("copy:500",), "old"),
    (("swap:before",), "old"),
    (("swap:after",), "new"),
    (("cleanup",), "new"),
    (("copy:200", "write:3"), "old"),  # the second render dies right after recovering the first's leftovers
    (("cleanup", "copy:10"), "new"),
])
def test_sigkill_at_each_protocol_point(trees: Trees, overlay: Path, points: tuple[str, ...], outcome: str) -> None:
    for point in points:
        point = point.replace("half", str(trees.planned // 2)).replace("last", str(trees.planned))
        assert kill_at(trees, overlay, point) == outcome, point
        assert leftovers(overlay), "a killed render leaves state behind for the next one to recover"
    assert_recovers(overlay, trees)


def test_sigkill_between_the_fallback_renames_is_repaired(trees: Trees, overlay: Path) -> None:
    """Without RENAME_EXCHANGE the swap is two renames; killed between them, the overlay is briefly absent
    and the complete old tree waits at ``.<overlay>.render-old``: the next render restores it first."""
    proc = driver(trees.new_config, overlay, "--kill-at", "rename:1")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    assert not overlay.exists()
    assert tree_state(overlay.parent / ".k8s-dev.render-old") == trees.old
    assert_recovers(overlay, trees)


# ------------------------------------------------------------------------------ concurrent renders

@pytest.mark.parametrize("round_", range(2))
def test_two_concurrent_renders_never_interleave(trees: Trees, overlay: Path, tmp_path: Path, round_: int) -> None:
    go, log = tmp_path / "go", tmp_path / "lock.log"
    procs = {trees.old_config: driver(trees.old_config, overlay, "--ready", "--go", str(go), "--lock-log", str(log)),
             trees.new_config: driver(trees.new_config, overlay, "--ready", "--go", str(go), "--lock-log", str(log))}
    for proc in procs.values():
        wait_ready(proc)
    go.touch()
    for proc in procs.values():
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "done" in out
    events = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(events) == 4
    spans: dict[int, list[int]] = {}
    for pid, _, stamp in events:
        spans.setdefault(int(pid), []).append(int(stamp))
    (_a0, a1), (b0, _b1) = sorted(sorted(span) for span in spans.values())
    assert a1 <= b0, "the two renders held the overlay at the same time"
    last = max(spans, key=lambda pid: max(spans[pid]))
    expected = trees.old if procs[trees.old_config].pid == last else trees.new
    state = tree_state(overlay)
    assert state == expected, describe_mix(state, trees.old, trees.new)
    assert leftovers(overlay) == []
