"""An external renderer run as a command (``mytool --config {config} --out {out}``), behind
:class:`harness.renderer_api.Renderer`.

- The command runs without a shell, with the project root as its working directory: a relative program
  (``scripts/render.sh``) resolves there, and ``{config}``/``{out}``/``{diagnostics}`` are absolute.
- ``{diagnostics}`` is optional: with it, the renderer's JSON plan gives each output its descriptor;
  without it (or for outputs the plan does not name), the owner is ``unknown``.
- A command that runs ``overlay-parity`` again, which then runs the same command, is refused at once
  (``RENDERER-INVALID``): each command run carries the chain of commands above it in
  ``OVERLAY_PARITY_RENDERER_CHAIN``.
- ``timeout`` seconds (setting ``renderer_timeout``) bound a render; the whole process group is killed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.config_secrets import config_secrets
from harness.errors import InputError
from harness.redact import redact_text, safe_line
from harness.renderer_api import Action, Plan, cluster_name
from harness.yamlio import DEFAULT_MAX_BYTES

CHAIN_ENV = "OVERLAY_PARITY_RENDERER_CHAIN"
UNKNOWN_OWNER = "unknown"
PLACEHOLDERS = ("config", "out", "service", "diagnostics")
DEFAULT_TIMEOUT = 600.0
_BOOTSTRAP = "flux-system"


@dataclass(frozen=True)
class CommandRenderer:
    """An external renderer run as a command; ``{config}``, ``{out}``, ``{service}``, ``{diagnostics}``
    placeholders are substituted. With ``{diagnostics}`` its JSON plan gives descriptor ownership."""

    template: str
    timeout: float = DEFAULT_TIMEOUT
    cwd: Path | None = None

    def render(self, config_path: Path, out_dir: Path, *, service: str | None = None) -> Plan:
        """Run the command; a non-zero exit, a timeout or a recursion is a RENDERER-INVALID input error."""
        self.refuse_recursion()
        config_path, out_dir = Path(os.path.abspath(config_path)), Path(os.path.abspath(out_dir))
        diagnostics = out_dir.parent / f".{out_dir.name}.diagnostics.json"
        values = {"config": str(config_path), "out": str(out_dir), "service": service or "",
                  "diagnostics": str(diagnostics)}
        argv = [part.format(**values) for part in self.argv()]
        argv[0] = self._program(argv[0])
        env = dict(os.environ)
        env[CHAIN_ENV] = os.pathsep.join([*_chain(), self.identity()])
        returncode, stderr = self._run(argv, env, config_path)
        if returncode != 0:
            last = _redacted((stderr.strip().splitlines() or ["(no stderr)"])[-1], config_path)
            raise InputError("RENDERER-INVALID", f"renderer exited {returncode}: {last}",
                             file=str(config_path), hint="run the renderer command by hand to see why")
        plan = Plan(cluster=cluster_name(config_path), renderer=self.template)
        if "{diagnostics}" in self.template and diagnostics.is_file():
            plan = _read_diagnostics(diagnostics, config_path)
        return _with_unknown_owners(plan, out_dir)

    def argv(self) -> list[str]:
        """The command split like a shell would (no shell runs), placeholders checked; RENDERER-INVALID."""
        try:
            argv = shlex.split(self.template)
            for part in argv:
                part.format(**dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, ValueError, IndexError) as exc:
            raise InputError("RENDERER-INVALID", f"bad renderer command template: {type(exc).__name__}: {exc}",
                             hint="use only {config}, {out}, {service}, {diagnostics} placeholders") from None
        if not argv:
            raise InputError("RENDERER-INVALID", "empty renderer command",
                             hint="set `renderer` to module:ATTR or a command with {config} and {out}")
        return argv

    def check_program(self) -> None:
        """RENDERER-INVALID now, not once per cluster: a bad template, a missing program, a recursion."""
        self.refuse_recursion()
        self._program(self.argv()[0])

    def identity(self) -> str:
        """A short fingerprint of the command and where it runs (the recursion guard's chain entry)."""
        where = str(self.cwd.resolve()) if self.cwd is not None else ""
        return hashlib.sha256(f"{self.template}\0{where}".encode()).hexdigest()[:16]

    def refuse_recursion(self) -> None:
        """RENDERER-INVALID when this command is already running above us (it called overlay-parity, which
        would call it again: a fork loop)."""
        if self.identity() in _chain():
            raise InputError("RENDERER-INVALID", "the renderer command runs overlay-parity, which runs the same "
                             "renderer command again (endless recursion refused)",
                             hint="a command renderer must render by itself, not call overlay-parity check/render")

    def _program(self, program: str) -> str:
        """The program to run: a bare name from PATH, a relative path from the project root."""
        if os.sep not in program:
            found = shutil.which(program)
        else:
            path = Path(program) if self.cwd is None else self.cwd / program
            found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
        if found is None:
            raise InputError("RENDERER-INVALID", f"renderer command not found: {program}",
                             hint="install it or fix `renderer` in the project settings / --renderer"
                             + (f" (relative paths start at {self.cwd})" if self.cwd is not None else ""))
        return found

    def _run(self, argv: list[str], env: dict[str, str], config_path: Path) -> tuple[int, str]:
        """Run ``argv`` in its own process group; the group is killed on timeout or interruption."""
        try:
            proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    errors="replace", start_new_session=True)
        except OSError as exc:
            raise InputError("RENDERER-INVALID", f"cannot start the renderer command: {exc.strerror}",
                             file=str(config_path), hint="check the command and its permissions") from None
        try:
            _, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise InputError("RENDERER-INVALID", f"renderer timed out after {self.timeout:g}s",
                             file=str(config_path),
                             hint="raise `renderer_timeout` in the project settings or make the renderer faster"
                             ) from None
        except BaseException:
            _kill_group(proc)
            raise
        return proc.returncode, stderr or ""


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill the command and every process it started, and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _chain() -> list[str]:
    return [entry for entry in os.environ.get(CHAIN_ENV, "").split(os.pathsep) if entry]


def _read_diagnostics(diagnostics: Path, config_path: Path) -> Plan:
    """The renderer's JSON plan (deleted once read); malformed JSON or shape is RENDERER-INVALID."""
    try:
        data = json.loads(diagnostics.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        plan = Plan.from_dict(data)
        if not all(isinstance(a.output, str) and isinstance(a.owner, str) for a in plan.actions):
            raise TypeError("an action's output or owner is not a string")
    except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError) as exc:
        raise InputError("RENDERER-INVALID", f"the renderer's diagnostics are not a plan: {type(exc).__name__}",
                         file=str(diagnostics), hint='write {"cluster": ..., "actions": [{"owner", "template", '
                         '"output"}...], "decisions": [...]} or leave {diagnostics} out') from None
    finally:
        diagnostics.unlink(missing_ok=True)
    return plan


def _with_unknown_owners(plan: Plan, out_dir: Path) -> Plan:
    """``plan`` plus an ``unknown``-owner action for every rendered file it does not name."""
    if not out_dir.is_dir():
        return plan
    named = set(plan.outputs())
    extra: list[Action] = []
    try:
        walked = list(os.walk(out_dir, onerror=_raise))
    except OSError as exc:
        raise InputError("RENDERER-INVALID", f"cannot read the rendered tree: {exc.strerror}",
                         file=str(exc.filename or out_dir), hint="the renderer must write readable files") from None
    for folder, dirs, files in walked:
        relative = Path(folder).relative_to(out_dir).as_posix()
        if relative == ".":
            dirs[:] = [d for d in dirs if d != _BOOTSTRAP]
        for name in files:
            output = name if relative == "." else f"{relative}/{name}"
            if output not in named:
                extra.append(Action(owner=UNKNOWN_OWNER, template="", output=output, reason="no diagnostics"))
    if extra:
        plan.actions.extend(sorted(extra, key=lambda a: a.output))
    return plan


def _raise(error: OSError) -> None:
    raise error


def _redacted(line: str, config_path: Path) -> str:
    """An external renderer's error line, safe to show: the config's secret values (raw or base64) and
    anything that looks like a credential, a long token or key material are masked."""
    return safe_line(redact_text(line, config_secrets(config_path, max_bytes=DEFAULT_MAX_BYTES)), limit=200)
