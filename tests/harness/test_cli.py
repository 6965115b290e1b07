from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from harness.cli import GC_THRESHOLDS, build_parser, main
from harness.commands import COMMANDS


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_unknown_option_is_one_line_exit_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "--no-such-flag"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "USAGE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_top_level_help_is_the_same_whichever_command_is_loaded() -> None:
    """The static command table says what each module registers, so ``--help`` reads the same either way."""
    expected = build_parser().format_help()
    for name in COMMANDS:
        assert build_parser(name).format_help() == expected, name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_help_comes_from_its_module(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: overlay-parity {name} ")
    assert "options:" in out


IMPORT_PROBE = """
import json, sys
from harness.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("harness.commands.", "harness.runner", "renderer")))))
"""


@pytest.mark.parametrize(("argv", "imported"), [
    (["--help"], []),
    (["check", "--help"], ["harness.commands.check"]),
    (["explain", "--help"], ["harness.commands.check", "harness.commands.diff", "harness.commands.explain"]),
    (["frobnicate"], []),
])
def test_only_the_selected_command_is_imported(argv: list[str], imported: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE, *argv], capture_output=True, text=True, check=False)
    assert json.loads(proc.stdout.splitlines()[-1]) == imported


def test_only_the_console_script_tunes_the_garbage_collector(capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_threshold()
    assert main([]) == 2  # no command: help on stderr
    assert gc.get_threshold() == before
    code = ("import atexit, gc, sys; atexit.register(lambda: print(gc.get_threshold(), gc.get_freeze_count() > 0)); "
            "sys.argv = ['overlay-parity']; from harness.cli import run; run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout.strip() == f"{GC_THRESHOLDS} True"
