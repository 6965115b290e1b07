"""The one interface between the harness and any renderer: ``render(config, out, service) -> Plan``.

The harness never imports the reference renderer. A renderer is named in the project settings either as
an import spec (``package.module:ATTRIBUTE``) or as a shell-free command template such as
``opencenter cluster generate --config {config} --out {out}``; :mod:`harness.renderers` loads either
(:mod:`harness.command_renderer` runs a command).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.errors import InputError


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


@runtime_checkable
class BatchRenderer(Protocol):
    """Optional: a renderer that can share work across the renders of one run (many clusters).

    Inside ``with renderer.batch():`` the caller promises that the renderer's own inputs other than the
    cluster configs (templates, descriptors) do not change, so the renderer may read and check them once.
    """

    def batch(self) -> AbstractContextManager[None]:
        """A context in which renders share the reading of everything but the configs."""
        ...


def batch_of(renderer: Renderer) -> AbstractContextManager[None]:
    """``renderer.batch()`` when the renderer has it (:class:`BatchRenderer`), else a context that does nothing."""
    return renderer.batch() if isinstance(renderer, BatchRenderer) else nullcontext()


def cluster_name(config_path: Path) -> str:
    """``.k8s-dev-config.yaml`` -> ``k8s-dev``."""
    name = config_path.name
    if name.startswith(".") and name.endswith("-config.yaml"):
        return name[1 : -len("-config.yaml")]
    raise InputError("USAGE", "cluster config must be named .<cluster>-config.yaml", file=str(config_path),
                     hint="rename the file, e.g. .k8s-dev-config.yaml")


@runtime_checkable
class RootedRenderer(Protocol):
    """Optional: a renderer whose templates and descriptors can come from the directories the project names
    (``template_root``, ``descriptor_root``), so that coverage and rendering read the same tree."""

    def with_roots(self, template_root: Path, descriptor_root: Path) -> Renderer:
        """The same renderer reading ``template_root`` and ``descriptor_root``."""
        ...
