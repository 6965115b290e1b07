from __future__ import annotations

import subprocess
import sys

import pytest

from harness.cli import main


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_unknown_option_is_one_line_exit_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "--no-such-flag"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "USAGE" in proc.stderr
    assert "Traceback" not in proc.stderr
