"""The one interface between the harness and any renderer: ``render(config, out, service) -> Plan``.

The harness never imports the reference renderer. A renderer is named in ``[tool.overlay-parity]``
either as an import spec (``package.module:ATTRIBUTE``, resolved at run time) or as a shell-free
command template such as ``opencenter cluster generate --config {config} --out {out}``.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.config_secrets import config_secrets
from harness.errors import InputError
from harness.redact import redact_text, safe_line
from harness.yamlio import DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class Action:
    """One planned output file: which descriptor owns it, from which template, rendered or copied."""

    owner: str
    template: str
    output: str
    mode: str = "render"  # "render" (Jinja2) or "copy" (bytes as they are)
    reason: str = ""


@dataclass(frozen=True)
class Decision:
    """Why a descriptor (or a conditional file) was enabled or not: which field, which value."""

    descriptor: str
    enabled: bool
    reason: str
    field: str = ""
    value: Any = None
    subject: str = ""  # empty for the descriptor itself, else the template/root the condition guards


@dataclass
class Plan:
    """The ordered, deterministic result of planning (and executing) one cluster render."""

    cluster: str
    actions: list[Action] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    renderer: str = ""

    def owner_of(self, output: str) -> str:
        """The descriptor that owns an output path ('' if unknown, e.g. an external renderer)."""
        for action in self.actions:
            if action.output == output:
                return action.owner
        return ""

    def outputs(self) -> Iterator[str]:
        """Every planned output path (relative to the overlay root, POSIX separators)."""
        return (a.output for a in self.actions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready diagnostics (no config values beyond the decision's field/value)."""
        return {
            "cluster": self.cluster,
            "renderer": self.renderer,
            "decisions": [asdict(d) for d in self.decisions],
            "actions": [asdict(a) for a in self.actions],
        }

    def to_json(self) -> str:
        """Diagnostics as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Read diagnostics written by :meth:`to_dict` (e.g. by an external renderer)."""
        return cls(
            cluster=str(data.get("cluster", "")),
            renderer=str(data.get("renderer", "")),
            actions=[Action(**a) for a in data.get("actions", [])],
            decisions=[Decision(**d) for d in data.get("decisions", [])],
        )


@runtime_checkable
class Renderer(Protocol):
    """Anything that renders one cluster config into one overlay directory."""

    def render(self, config_path: Path, out_dir: Path, *, service: str | None = None) -> Plan:
        """Render ``config_path`` into ``out_dir`` (atomically) and return the executed plan."""
        ...


@dataclass(frozen=True)
class RenderedFiles:
    """A whole-cluster render held in memory: the executed plan and every output's bytes by overlay-relative
    POSIX path (renderer-owned paths only; nothing under ``flux-system/``)."""

    plan: Plan
    files: Mapping[str, bytes]


@runtime_checkable
class MemoryRenderer(Protocol):
    """Optional fast path of a :class:`Renderer`: render a whole cluster into memory instead of a directory.

    ``overlay-parity check`` (and ``pytest --parity``) use it when the renderer has it, so a check neither
    writes nor re-reads nor deletes the rendered tree; ``render``/``--update`` always write through
    :meth:`Renderer.render`. Both must produce the same bytes for the same config.
    """

    def render_files(self, config_path: Path) -> RenderedFiles:
        """Render ``config_path`` (whole cluster) and return the plan and the files; raises InputError."""
        ...


@dataclass(frozen=True)
class CommandRenderer:
    """An external renderer run as a command; ``{config}``, ``{out}``, ``{service}``, ``{diagnostics}``
    placeholders are substituted. With ``{diagnostics}`` its JSON plan gives descriptor ownership."""

    template: str
    timeout: float = 600.0

    def render(self, config_path: Path, out_dir: Path, *, service: str | None = None) -> Plan:
        """Run the command; a non-zero exit is a RENDERER-INVALID input error."""
        diagnostics = out_dir.parent / f".{out_dir.name}.diagnostics.json"
        values = {"config": str(config_path), "out": str(out_dir), "service": service or "",
                  "diagnostics": str(diagnostics)}
        try:
            argv = [part.format(**values) for part in shlex.split(self.template)]
        except (KeyError, ValueError) as exc:
            raise InputError("RENDERER-INVALID", f"bad renderer command template: {exc}",
                             hint="use only {config}, {out}, {service}, {diagnostics} placeholders") from None
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise InputError("RENDERER-INVALID", f"renderer command not found: {argv[0]}",
                             hint="install it or fix `renderer` in [tool.overlay-parity]") from None
        if proc.returncode != 0:
            last = _redacted((proc.stderr.strip().splitlines() or ["(no stderr)"])[-1], config_path)
            raise InputError("RENDERER-INVALID", f"renderer exited {proc.returncode}: {last}",
                             file=str(config_path), hint="run the renderer command by hand to see why")
        plan = Plan(cluster=cluster_name(config_path), renderer=self.template)
        if "{diagnostics}" in self.template and diagnostics.exists():
            plan = Plan.from_dict(json.loads(diagnostics.read_text(encoding="utf-8")))
            diagnostics.unlink()
        return plan

    def check_program(self) -> None:
        """RENDERER-INVALID now, not once per cluster, when the command's program does not exist."""
        try:
            argv = shlex.split(self.template)
        except ValueError as exc:
            raise InputError("RENDERER-INVALID", f"bad renderer command: {exc}",
                             hint="fix `renderer` in [tool.overlay-parity] or --renderer") from None
        if not argv:
            raise InputError("RENDERER-INVALID", "empty renderer command",
                             hint="set `renderer` to module:ATTR or a command with {config} and {out}")
        program = argv[0]
        found = shutil.which(program) if os.sep not in program else (program if os.access(program, os.X_OK) else None)
        if found is None:
            raise InputError("RENDERER-INVALID", f"renderer command not found: {program}",
                             hint="install it or fix `renderer` in [tool.overlay-parity] / --renderer")


def _redacted(line: str, config_path: Path) -> str:
    """An external renderer's error line, safe to show: the config's secret values (raw or base64) and
    anything that looks like a credential, a long token or key material are masked."""
    return safe_line(redact_text(line, config_secrets(config_path, max_bytes=DEFAULT_MAX_BYTES)), limit=200)


def cluster_name(config_path: Path) -> str:
    """``.k8s-dev-config.yaml`` -> ``k8s-dev``."""
    name = config_path.name
    if name.startswith(".") and name.endswith("-config.yaml"):
        return name[1 : -len("-config.yaml")]
    raise InputError("USAGE", "cluster config must be named .<cluster>-config.yaml", file=str(config_path),
                     hint="rename the file, e.g. .k8s-dev-config.yaml")


def load_renderer(spec: str) -> Renderer:
    """Resolve ``module:attribute`` (an object with ``render``) or a command template."""
    if ":" in spec and " " not in spec and "/" not in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
            renderer = getattr(module, attribute)
        except (ImportError, AttributeError) as exc:
            raise InputError("RENDERER-INVALID", f"cannot load renderer {spec!r}: {type(exc).__name__}",
                             hint="set `renderer` in [tool.overlay-parity] to module:attribute or a command") from None
        if not isinstance(renderer, Renderer):
            raise InputError("RENDERER-INVALID", f"{spec!r} has no render(config_path, out_dir, service=...)",
                             hint="point `renderer` at an object implementing harness.renderer_api.Renderer")
        return renderer
    return CommandRenderer(spec)
