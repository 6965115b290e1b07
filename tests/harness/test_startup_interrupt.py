"""Ctrl-C while a console script is still importing its modules: one line and exit 130, no traceback
(``harness/__init__.py``); once the command runs, SIGINT is Python's again, so its cleanup runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python(code: str, argv0: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter whose ``sys.argv[0]`` is ``argv0`` before anything imports harness."""
    prologue = f"import sys\nsys.argv[0] = {argv0!r}\n"
    return subprocess.run([sys.executable, "-c", prologue + textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_an_interrupt_while_a_console_script_imports_is_one_line_and_130() -> None:
    done = python("""
        import os, signal
        import harness
        os.kill(os.getpid(), signal.SIGINT)   # arrives while 'importing': the command has not started
        import time; time.sleep(5)
        print("not reached")
    """, "/venv/bin/overlay-parity")
    assert done.returncode == 130
    assert done.stderr == "overlay-parity: interrupted\n"
    assert "not reached" not in done.stdout


def test_once_the_command_runs_an_interrupt_is_a_keyboard_interrupt_again() -> None:
    done = python("""
        import os, signal
        from harness.cli import guarded
        def command() -> int:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                import time; time.sleep(5)
            finally:
                print("cleanup ran")
            return 0
        raise SystemExit(guarded(command))
    """, "/venv/bin/overlay-parity-fixture-secret-scan")
    assert done.returncode == 130
    assert "cleanup ran" in done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "overlay-parity: interrupted"


def test_imported_as_a_library_harness_leaves_sigint_alone() -> None:
    done = python("""
        import signal
        import harness
        print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    """, "/venv/bin/pytest")
    assert done.stdout.strip() == "True"

