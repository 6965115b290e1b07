from __future__ import annotations

import gc
import json
import os
import pty
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from harness.cli import COMMANDS, GC_THRESHOLDS, build_parser, guarded, main


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
    (["check", "--help"], []),
    (["explain", "--help"], []),
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


ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"overlay-parity {metadata.version('overlay-parity')}\n"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_help_reads_as_help_with_an_example(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([name, "--help"])
    out = capsys.readouterr().out
    description = out.split("\n\n")[1]
    assert description.strip()
    assert "``" not in out, out  # no internal docstring markup
    assert ":func:" not in out, out
    examples = [line for line in out.split("examples:\n", 1)[1].splitlines() if line.strip()]
    assert examples
    assert all(line.startswith(f"  overlay-parity {name}") for line in examples), out


def test_top_level_help_names_exit_codes_and_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "  overlay-parity check\n" in out
    assert "exit codes: 0 clean, 1 findings, 2 bad input or usage" in out


def test_a_closed_stdout_ends_quietly_with_the_run_s_own_exit_code(tmp_path: Path) -> None:
    """The reader is gone before the first line (a real pipe whose read end is closed): the run goes on,
    writes its report and exits with its own code, without a traceback or a word on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    report = tmp_path / "report.json"
    argv = [sys.executable, "-m", "harness.cli", "check", "--cluster", "k8s-dev", "-v", "--json", str(report)]
    try:
        proc = subprocess.run(argv, cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True, check=False,
                              timeout=300)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 0
    assert json.loads(report.read_text())["summary"]["checks"] == 2


def test_check_piped_into_head_exits_quietly() -> None:
    pipeline = f"{shlex.quote(sys.executable)} -m harness.cli check -v | head -1"
    proc = subprocess.run(["sh", "-c", pipeline], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert proc.stdout.startswith("ok   parity[k8s-dev]"), proc.stdout
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == ""


def test_an_unchecked_os_error_on_a_path_is_one_located_line(capsys: pytest.CaptureFixture[str]) -> None:
    def fails() -> int:
        raise IsADirectoryError(21, "Is a directory", "out/report.json")

    assert guarded(fails) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("out/report.json: FILE-SPECIAL: is a directory")


def test_an_internal_error_names_the_type_only(capsys: pytest.CaptureFixture[str]) -> None:
    def fails() -> int:
        raise ValueError("secret-looking input text")

    assert guarded(fails) == 3
    err = capsys.readouterr().err
    assert "ValueError" in err
    assert "secret-looking" not in err


def run_with_stderr_on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """``overlay-parity ARGV`` with stdout into a pipe and stderr on a real pseudo-terminal (the case of
    ``overlay-parity check | tee log`` typed at a prompt); returns (exit code, stdout, terminal bytes)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=300), out, seen.decode()


def _untimed(text: str) -> str:
    return re.sub(r" \d+\.\d\ds$", "", text, flags=re.M)


def test_progress_line_on_a_terminal_only(tmp_path: Path) -> None:
    env = {**os.environ, "OVERLAY_PARITY_PROGRESS_DELAY": "0"}  # show it from the first cluster on
    code, out, terminal = run_with_stderr_on_a_terminal(["check"], env)
    assert code == 0
    assert "\r\x1b[K[1/5 clusters] 0:" in terminal
    assert "[4/5 clusters]" in terminal
    assert " elapsed, ~" in terminal
    assert " left" in terminal
    assert terminal.endswith("\r\x1b[K")  # erased before the summary
    assert "\n" not in terminal  # one updating line, never a scrolling one
    piped = subprocess.run([sys.executable, "-m", "harness.cli", "check"], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=False, timeout=300)
    assert piped.returncode == 0
    assert piped.stderr == ""  # no terminal: no progress line
    assert _untimed(piped.stdout) == _untimed(out)  # stdout is the same either way


def test_no_progress_line_for_a_short_run() -> None:
    env = {**os.environ, "OVERLAY_PARITY_PROGRESS_DELAY": "3600"}
    code, out, terminal = run_with_stderr_on_a_terminal(["check", "--cluster", "k8s-dev"], env)
    assert code == 0
    assert terminal == ""
    assert out.startswith("ok   parity[k8s-dev]")


def test_policy_shows_progress_on_a_terminal_and_prints_results_as_they_finish() -> None:
    env = {**os.environ, "OVERLAY_PARITY_PROGRESS_DELAY": "0"}
    argv = ["policy", "--policy", "conventions", "--cluster", "k8s-dev", "--cluster", "k8s-qa"]
    code, out, terminal = run_with_stderr_on_a_terminal(argv, env)
    assert code == 0
    assert "\r\x1b[K[1/2 clusters] 0:" in terminal
    assert terminal.endswith("\r\x1b[K")
    assert "\n" not in terminal
    piped = subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=False, timeout=300)
    assert piped.returncode == 0
    assert piped.stderr == ""
    assert piped.stdout == out
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["ok", "policy[k8s-dev]"], ["ok", "policy[k8s-qa]"], ["PASSED:", "2"]]


def test_policy_quiet_prints_failing_findings_and_the_summary_only(tmp_path: Path) -> None:
    overlay = tmp_path / "k8s-x"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    argv = [sys.executable, "-m", "harness.cli", "policy", "--policy", "lifecycle", str(overlay)]
    loud = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    quiet = subprocess.run([*argv, "-q"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert loud.returncode == quiet.returncode == 1
    assert loud.stdout.startswith("FAIL policy[k8s-x]")
    assert "policy[k8s-x]" not in quiet.stdout
    assert quiet.stdout.splitlines()[-1].startswith("FAILED: 0 of 1 checks clean")
    assert "POLICY-LIFECYCLE kustomization.yaml:2" in quiet.stdout.splitlines()[0]
