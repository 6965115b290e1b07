"""Bootstrap-owned files survive every render: whatever the permissions inside ``flux-system/``, a render
either keeps every file there (bytes and modes) or fails with RENDER-FAILED and leaves the old tree
complete, with nothing left next to it. SIGTERM, SIGHUP and SIGINT during a render remove the temp
directory and the lock, and the overlay is the complete old tree.

The tests run as root, which reads everything: the render runs as root with every capability dropped
(``setpriv``), which obeys file modes like any user, and once with full powers.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.support import PYTHON, ROOT, assert_bad_input, env, snapshot
from tests.support.trees import BOOTSTRAP_FILES

from .conftest import config_path

Layout = Callable[[Path], None]


def _unlistable_dir(flux: Path) -> None:
    (flux / "keys").mkdir()
    (flux / "keys" / "age.agekey.enc").write_bytes(b"ENC[...]\n")
    (flux / "keys").chmod(0o000)


def _untraversable_dir(flux: Path) -> None:  # names can be listed, entries not reached
    (flux / "patches").mkdir()
    (flux / "patches" / "p.yaml").write_bytes(b"a: 1\n")
    (flux / "patches").chmod(0o600)


def _unreadable_file(flux: Path) -> None:
    (flux / "secret.enc.yaml").write_bytes(b"sops: {}\n")
    (flux / "secret.enc.yaml").chmod(0o000)


def _write_only_dir(flux: Path) -> None:
    (flux / "drop").mkdir()
    (flux / "drop" / "x.yaml").write_bytes(b"x: 1\n")
    (flux / "drop").chmod(0o300)


def _read_only_dir(flux: Path) -> None:  # readable: must be kept, and the old copy deleted afterwards
    (flux / "pinned").mkdir()
    (flux / "pinned" / "kustomization.yaml").write_bytes(b"resources: []\n")
    (flux / "pinned" / "kustomization.yaml").chmod(0o444)
    (flux / "pinned").chmod(0o555)


def _read_only_flux_system(flux: Path) -> None:
    flux.chmod(0o555)


LAYOUTS: dict[str, Layout] = {
    "unlistable-dir": _unlistable_dir, "untraversable-dir": _untraversable_dir,
    "unreadable-file": _unreadable_file, "write-only-dir": _write_only_dir,
    "read-only-dir": _read_only_dir, "read-only-flux-system": _read_only_flux_system,
}


def _overlay(tmp_path: Path, layout: Layout) -> Path:
    overlay = tmp_path / "overlays" / "k8s-dev"
    for relative, data in BOOTSTRAP_FILES.items():
        (overlay / relative).parent.mkdir(parents=True, exist_ok=True)
        (overlay / relative).write_bytes(data)
    layout(overlay / "flux-system")
    return overlay


def _render(overlay: Path, *, drop_capabilities: bool) -> subprocess.CompletedProcess[str]:
    command = [PYTHON, "-m", "harness.cli", "render", "--config", str(config_path("k8s-dev")), "--out", str(overlay)]
    if drop_capabilities:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv is not installed")
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", *command]
    return subprocess.run(command, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=180, check=False)


def _flux(tree: dict[str, tuple[str, bytes, int, int]]) -> dict[str, tuple[str, bytes, int]]:
    """flux-system/ entries: kind, bytes, mode (mtimes of directories change when their entries do)."""
    return {k: v[:3] for k, v in tree.items() if k == "flux-system" or k.startswith("flux-system/")}


def _restore_modes(root: Path) -> None:
    for path in [root, *root.rglob("*")] if root.exists() else []:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("drop_capabilities", [True, False], ids=["no-capabilities", "root"])
def test_flux_system_is_kept_whole_or_the_render_fails_and_keeps_the_old_tree(
        tmp_path: Path, name: str, drop_capabilities: bool) -> None:
    overlay = _overlay(tmp_path, LAYOUTS[name])
    before = snapshot(overlay)
    try:
        result = _render(overlay, drop_capabilities=drop_capabilities)
        after = snapshot(overlay)
        assert sorted(p.name for p in overlay.parent.iterdir()) == ["k8s-dev"]  # no temp dir, no lock
        if result.returncode == 0:
            assert _flux(after) == _flux(before)
            assert (overlay / "kustomization.yaml").is_file()
        else:
            [error] = assert_bad_input(result, code="RENDER-FAILED")
            assert "untouched" in error.message
            assert after == before
        if not drop_capabilities or name in ("read-only-dir", "read-only-flux-system"):
            assert result.returncode == 0, result.stderr  # everything there can be read: nothing to refuse
    finally:
        _restore_modes(tmp_path)


DRIVER = textwrap.dedent("""\
    import os, signal, sys
    import renderer.render as render
    from harness.cli import main

    point, number, signum = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    count = 0

    def hit():
        global count
        count += 1
        if count == number:
            os.kill(os.getpid(), signum)  # a real signal, delivered to this process

    if point == "write":
        real_write = render._write_bytes
        def write(path, data):
            real_write(path, data)
            hit()
        render._write_bytes = write
    else:
        import shutil
        real_copy = shutil.copy2
        def copy2(*args, **kwargs):
            result = real_copy(*args, **kwargs)
            hit()
            return result
        shutil.copy2 = copy2
    sys.exit(main(sys.argv[4:]))
""")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 128 + signal.SIGTERM),
                                                (signal.SIGHUP, 128 + signal.SIGHUP),
                                                (signal.SIGINT, 130)])
@pytest.mark.parametrize(("point", "number"), [("write", 3), ("write", 40), ("copy", 2)])
def test_a_signal_during_a_render_removes_the_temp_dir_and_the_lock(
        tmp_path: Path, signum: int, status: int, point: str, number: int) -> None:
    overlay = _overlay(tmp_path, lambda flux: None)
    seeded = subprocess.run([PYTHON, "-m", "harness.cli", "render", "--config", str(config_path("k8s-dev")),
                             "--out", str(overlay)], cwd=ROOT, env=env(), capture_output=True, text=True,
                            timeout=180, check=False)
    assert seeded.returncode == 0, seeded.stderr
    (overlay / "services" / "hand-made.txt").write_bytes(b"kept? no: services/ is renderer-owned\n")
    before = snapshot(overlay)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    result = subprocess.run([PYTHON, str(driver), point, str(number), str(int(signum)), "render", "--config",
                             str(config_path("k8s-dev")), "--out", str(overlay)], cwd=ROOT,
                            env=env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in overlay.parent.iterdir()) == ["k8s-dev"]  # temp dir and lock are gone
    assert snapshot(overlay) == before  # interrupted before the swap: the old tree, complete
