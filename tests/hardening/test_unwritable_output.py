"""Outputs that cannot be written -- read-only, not a directory, full -- give one clear line (exit 2) and
leave no partial tree: the existing overlay is byte-identical and nothing is left next to it.

The tests run as root, for whom chmod does not make anything read-only. So: a read-only bind mount and a
really full tmpfs inside a private mount namespace (``unshare --mount``, skipped where not permitted), the
render run as root without capabilities (``setpriv``), a parent that is a regular file, a path under
/proc, and a file size limit (RLIMIT_FSIZE: writes fail with EFBIG, as they would on a full disk).
"""

from __future__ import annotations

import json
import resource
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Unpack

import pytest

from tests.hardening.support import FIXTURE, PYTHON, ROOT, CliOptions, assert_bad_input, env, run_cli, snapshot

CONFIG = FIXTURE / ".k8s-dev-config.yaml"


def render(out: Path, **options: Unpack[CliOptions]) -> subprocess.CompletedProcess[str]:
    return run_cli(["render", "--config", CONFIG, "--out", out], cwd=ROOT, **options)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_output_parent_is_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "overlays"
    blocker.write_text("not a directory\n", encoding="utf-8")
    proc = render(blocker / "k8s-dev")
    [error] = assert_bad_input(proc, code="RENDER-FAILED", file=blocker)
    assert "directory" in error.message.lower()
    assert blocker.read_text(encoding="utf-8") == "not a directory\n"
    assert names(tmp_path) == ["overlays"]


def test_output_under_proc(tmp_path: Path) -> None:
    out = Path("/proc/overlay-parity-no-such-dir/k8s-dev")
    proc = render(out)
    assert_bad_input(proc, code="RENDER-FAILED", file=out.parent)
    assert not out.parent.exists()


def _limit_file_size() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))  # the largest rendered files are ~1.8 KiB


def test_file_size_limit_mid_render(existing_overlay: Path) -> None:
    before = snapshot(existing_overlay)
    proc = render(existing_overlay, preexec=_limit_file_size)
    [error] = assert_bad_input(proc, code="RENDER-FAILED")
    assert "too large" in error.message.lower(), error
    assert "untouched" in error.message
    assert snapshot(existing_overlay) == before
    assert names(existing_overlay.parent) == ["k8s-dev"]


def test_read_only_output_without_root_powers(tmp_path: Path, pristine: Path) -> None:
    # Root with every capability dropped (no CAP_DAC_OVERRIDE) obeys file modes, and still reads the checkout
    # it owns wherever it was cloned (switching to `nobody` needs a checkout every user can traverse).
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    overlay = tmp_path / "overlays" / "k8s-dev"
    shutil.copytree(pristine, overlay, copy_function=shutil.copy2)
    config = tmp_path / CONFIG.name
    shutil.copy2(CONFIG, config)
    overlay.parent.chmod(0o555)
    before = snapshot(overlay)
    try:
        proc = subprocess.run([setpriv, "--bounding-set=-all", "--inh-caps=-all", PYTHON, "-m",
                               "harness.cli", "render", "--config", str(config), "--out", str(overlay)],
                              cwd=ROOT, env=env(HOME=str(tmp_path)), capture_output=True, text=True, timeout=120,
                              check=False)
        if "setpriv" in proc.stderr and proc.returncode not in (0, 2):
            pytest.skip(f"cannot drop capabilities here: {proc.stderr.strip()}")
        [error] = assert_bad_input(proc, code="RENDER-FAILED", file=overlay.parent / ".k8s-dev.render.lock")
        assert "permission denied" in error.message.lower()
        assert snapshot(overlay) == before
        assert names(overlay.parent) == ["k8s-dev"]
        assert not stat.S_IMODE(overlay.parent.stat().st_mode) & 0o002
    finally:
        overlay.parent.chmod(0o755)  # so pytest can clean up


def _in_namespace(mode: str, overlay: Path, workdir: Path) -> dict[str, object]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run([unshare, "--mount", "--propagation", "private", "true"], capture_output=True,
                           check=False)
    if probe.returncode != 0:
        pytest.skip("no permission for a private mount namespace here")
    proc = subprocess.run([unshare, "--mount", "--propagation", "private", PYTHON, "-m", "tests.hardening.ns_helper",
                           mode, str(overlay), str(CONFIG), str(workdir)], cwd=ROOT, env=env(),
                          capture_output=True, text=True, timeout=180, check=False)
    if proc.returncode != 0 and "mount" in proc.stderr and "permission" in proc.stderr.lower():
        pytest.skip("mounting is not permitted here")
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def _check(result: dict[str, object], code: str, fragment: str) -> None:
    completed = subprocess.CompletedProcess[str]([], int(str(result["returncode"])), str(result["stdout"]),
                                                 str(result["stderr"]))
    [error] = assert_bad_input(completed, code=code)
    assert fragment in error.message.lower(), error
    assert result["identical"], result["changed"]
    assert result["names_after"] == result["names_before"], result


def test_read_only_bind_mount(existing_overlay: Path, tmp_path: Path) -> None:
    result = _in_namespace("readonly", existing_overlay, tmp_path / "ns")
    _check(result, "RENDER-FAILED", "read-only file system")


def test_full_disk(existing_overlay: Path, tmp_path: Path) -> None:
    result = _in_namespace("enospc", existing_overlay, tmp_path / "ns")
    _check(result, "RENDER-FAILED", "no space left on device")
    assert "untouched" in str(result["stderr"])
