"""A console script started with a closed stdin, stdout or stderr (``cmd >&-``) runs as with /dev/null there:
its exit code, no traceback, and no report file that took descriptor 1 or 2 and received terminal output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("overlay-parity")


@pytest.mark.parametrize("closing", [">&-", "2>&-", ">&- 2>&-", "<&-"])
def test_a_closed_standard_stream(tmp_path: Path, closing: str) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    report, errors, code = tmp_path / "report.json", tmp_path / "errors.txt", tmp_path / "rc.txt"
    keep = "" if "2>" in closing else f'2>"{errors}"'
    command = f'"{SCRIPT}" check -q --json "{report}" {closing} {keep}; echo $? > "{code}"'
    done = subprocess.run([bash, "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert code.read_text(encoding="utf-8").strip() == "0", done.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["results"]  # a whole report, nothing else in it
    shown = done.stdout + done.stderr + (errors.read_text(encoding="utf-8") if errors.exists() else "")
    assert "Traceback" not in shown


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_reader_gone_keeps_the_exit_code(stream: str) -> None:
    """Nobody reads one stream (``2>&1 | head -0``): bad input still exits 2, quietly."""
    read, write = os.pipe()
    os.close(read)
    other = subprocess.PIPE
    try:
        done = subprocess.run([str(SCRIPT), "check", "--cluster", "no-such-cluster"], cwd=ROOT, timeout=300,
                              check=False, text=True, stdout=write if stream == "stdout" else other,
                              stderr=write if stream == "stderr" else other)
    finally:
        os.close(write)
    assert done.returncode == 2
    assert "Traceback" not in (done.stdout or "") + (done.stderr or "")
