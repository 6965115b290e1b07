"""Checks shared by the hostile-input catalogue (issue 18): the real CLI run on bytes (an output that is not
UTF-8 is itself a broken promise, not a crash of the test), the verdicts every case must reach, and the
setpriv wrapper that runs the CLI as root without capabilities so file modes bind."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening.support import CLI, ONE_LINE, ErrorLine, Project, env, parse_line, snapshot

TIMEOUT = 90  # a hang guard only: every case ends in seconds


@dataclass(frozen=True)
class Outcome:
    """One CLI run: exit code and both streams (decoded strictly: invalid UTF-8 fails the case)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(args: Sequence[str | os.PathLike[str]], *, cwd: Path, timeout: float = TIMEOUT,
        unprivileged: bool = False, extra_env: dict[str, str] | None = None) -> Outcome:
    """``python -m harness.cli ARGS`` in ``cwd`` (optionally as root without capabilities); fails the test on a
    hang (timeout) or on output that is not UTF-8."""
    command = [*CLI, *map(str, args)]
    if unprivileged:
        command = [*no_capabilities(), *command]
    try:
        proc = subprocess.run(command, cwd=cwd, env=env(**(extra_env or {})), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hang: {' '.join(map(str, args))[:200]} ran over {timeout}s")
    for name, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            around = data[max(exc.start - 40, 0):exc.end + 20]
            pytest.fail(f"{name} is not UTF-8 (raw bytes of a name reached the terminal): {around!r}")
    return Outcome(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def no_capabilities() -> list[str]:
    """``setpriv`` dropping every capability (root then obeys file modes); skips where setpriv is missing."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    if os.geteuid() != 0:
        return []
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"]


def assert_sane(outcome: Outcome) -> None:
    """Never a traceback, never INTERNAL (exit 3), never a raw control character on the terminal."""
    assert "Traceback" not in outcome.output, outcome.output[-2000:]
    assert "INTERNAL" not in outcome.output, outcome.output[-2000:]
    assert outcome.returncode in (0, 1, 2), (outcome.returncode, outcome.output[-2000:])
    bad = [c for c in outcome.output if not c.isprintable() and c not in "\n\t"]
    assert not bad, f"raw control characters on the terminal: {bad[:5]!r}"


def assert_one_line(outcome: Outcome, *, codes: Iterable[str] = (), file: str | os.PathLike[str] | None = None,
                    cwd: Path | None = None, line: int | None = None) -> ErrorLine:
    """Exit 2 and stderr is exactly one well-formed located line (code among ``codes`` when given, naming
    ``file`` -- as given or relative to ``cwd`` -- when given)."""
    assert_sane(outcome)
    assert outcome.returncode == 2, f"exit {outcome.returncode}: {outcome.output[-2000:]}"
    lines = [text for text in outcome.stderr.splitlines() if text.strip()]
    assert len(lines) == 1, outcome.stderr
    assert ONE_LINE.match(lines[0]), lines[0]
    error = parse_line(lines[0])
    wanted = tuple(codes)
    if wanted:
        assert error.code in wanted, error
    if file is not None:
        named = Path(error.file) if Path(error.file).is_absolute() or cwd is None else cwd / error.file
        assert named == Path(file), (error.file, str(file))
    assert error.file, f"not located: {lines[0]}"
    if line is not None:
        assert error.line == line, error
    return error


def assert_findings(outcome: Outcome, *codes: str) -> None:
    """Exit 1 with each of ``codes`` among the findings printed."""
    assert_sane(outcome)
    assert outcome.returncode == 1, f"exit {outcome.returncode}: {outcome.output[-2000:]}"
    for code in codes:
        assert code in outcome.stdout, (code, outcome.stdout[-2000:])


def assert_intact(project: Project, before: dict[str, object]) -> None:
    """Nothing lost: the overlay tree is what it was."""
    assert snapshot(project.overlay()) == before



def owned_elsewhere(owner: str, what: str) -> pytest.MarkDecorator:
    """A catalogue case that fails today in a module another helper owns and is fixing (see the board):
    strict, so the owner's fix turns it into an XPASS failure -- delete the marker in the fixing commit."""
    return pytest.mark.xfail(strict=True, reason=f"issue 18, owned by {owner}: {what} (remove this marker when fixed)")
