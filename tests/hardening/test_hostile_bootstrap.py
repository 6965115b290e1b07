"""Issue 18 class 4: bootstrap-owned files survive everything. Under hostile permission layouts inside
``flux-system/`` (the render runs as root without capabilities, so modes bind) and hostile entries there, a
render through the real CLI either keeps every ``flux-system/`` file byte for byte or fails with one
``RENDER-FAILED`` line leaving the old tree complete; nothing is left next to the overlay. SIGTERM and
SIGINT at any moment leave the old or the new tree, no temporary directory and no lock."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.hostile import assert_one_line, assert_sane, no_capabilities, run
from tests.hardening.support import CLI, FIXTURE, ROOT, contents, env, snapshot

CONFIG = FIXTURE / ".k8s-dev-config.yaml"


def lock(path: Path) -> None:
    path.chmod(0)


def no_search(path: Path) -> None:
    path.chmod(0o600)  # listable names, but nothing inside can be opened


def read_only(path: Path) -> None:
    path.chmod(0o500)


LAYOUTS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "unreadable subdirectory": ("flux-system/private", lock),
    "non-searchable subdirectory": ("flux-system/private", no_search),
    "unreadable file": ("flux-system/private/secret-ish.yaml", lock),
    "unreadable flux-system": ("flux-system", lock),
    "non-searchable flux-system": ("flux-system", no_search),
    "read-only flux-system": ("flux-system", read_only),
    "read-only subdirectory": ("flux-system/private", read_only),
}


def prepare(overlay: Path) -> None:
    private = overlay / "flux-system" / "private"
    private.mkdir(parents=True)
    (private / "secret-ish.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p\n",
                                             encoding="utf-8")
    (private / "deeper").mkdir()
    (private / "deeper" / "more.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")


def restore(overlay: Path) -> None:
    for folder, dirs, _ in os.walk(overlay):
        for name in dirs:
            Path(folder, name).chmod(0o755)
    for path in (overlay / "flux-system").rglob("*"):
        if path.is_file():
            path.chmod(0o644)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_flux_system_survives_a_hostile_permission_layout(existing_overlay: Path, layout: str) -> None:
    prepare(existing_overlay)
    (existing_overlay / "flux-system").chmod(0o755)
    before = snapshot(existing_overlay)
    bootstrap_before = {k: v for k, v in contents(existing_overlay).items() if k.startswith("flux-system/")}
    relative, change = LAYOUTS[layout]
    change(existing_overlay / relative)
    try:
        outcome = run(["render", "--config", CONFIG, "--out", existing_overlay], cwd=ROOT, unprivileged=True)
    finally:
        restore(existing_overlay)
    assert_sane(outcome)
    names = sorted(p.name for p in existing_overlay.parent.iterdir())
    assert names == ["k8s-dev"], names
    bootstrap_after = {k: v for k, v in contents(existing_overlay).items() if k.startswith("flux-system/")}
    assert bootstrap_after == bootstrap_before
    if outcome.returncode == 2:
        assert_one_line(outcome, codes=("RENDER-FAILED",))
        after = snapshot(existing_overlay)
        assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    else:
        assert outcome.returncode == 0, outcome.output


@pytest.mark.parametrize("entry", ["fifo", "socket-like-fifo-dir", "dangling-symlink"])
def test_flux_system_with_special_entries(existing_overlay: Path, entry: str) -> None:
    target = existing_overlay / "flux-system" / "odd"
    if entry == "fifo":
        os.mkfifo(target)
    elif entry == "socket-like-fifo-dir":
        target.mkdir()
        os.mkfifo(target / "pipe")
    else:
        os.symlink("does-not-exist", target)
    before = {k: v for k, v in snapshot(existing_overlay).items() if k.startswith("flux-system/")}
    outcome = run(["render", "--config", CONFIG, "--out", existing_overlay], cwd=ROOT)
    assert_sane(outcome)
    after = {k: v for k, v in snapshot(existing_overlay).items() if k.startswith("flux-system/")}
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    assert sorted(p.name for p in existing_overlay.parent.iterdir()) == ["k8s-dev"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("delay", [0.0, 0.2, 0.6])
def test_a_signal_during_a_render_cleans_up(existing_overlay: Path, signum: int, delay: float) -> None:
    for index in range(300):  # slow the render down: it carries flux-system/ over
        path = existing_overlay / "flux-system" / f"bulk-{index % 10}" / f"object-{index}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"kind: ConfigMap\nmetadata:\n  name: bulk-{index}\n", encoding="utf-8")
    bootstrap_before = {k: v for k, v in contents(existing_overlay).items() if k.startswith("flux-system/")}
    proc = subprocess.Popen([*CLI, "render", "--config", str(CONFIG), "--out", str(existing_overlay)], cwd=ROOT,
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = existing_overlay.parent / ".k8s-dev.render.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # the render has begun once it holds its lock
    time.sleep(delay)
    proc.send_signal(signum)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the render did not end after the signal")
    assert "Traceback" not in stderr
    assert sorted(p.name for p in existing_overlay.parent.iterdir()) == ["k8s-dev"]
    bootstrap_after = {k: v for k, v in contents(existing_overlay).items() if k.startswith("flux-system/")}
    assert bootstrap_after == bootstrap_before
    assert (existing_overlay / "kustomization.yaml").is_file()


def test_no_capabilities_really_binds(tmp_path: Path) -> None:
    """The premise of this module: under no_capabilities() a mode-000 file cannot be read."""
    secret = tmp_path / "locked"
    secret.write_text("x", encoding="utf-8")
    secret.chmod(0)
    proc = subprocess.run([*no_capabilities(), "cat", str(secret)], capture_output=True, text=True, timeout=30,
                          check=False)
    secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert proc.returncode != 0
