"""The builder of a policy run: :class:`harness.kustomize.KustomizeBuilder` for one snapshot of a repository.

A policy run judges the files as they are when it starts, so this builder reads them once. It changes the
base builder only through its hooks (``_digest``, ``_parse``, ``_tool_env``):

- **Inputs once.** Build keys come from one :class:`harness.build_cache.InputDigests` for the whole run
  (every directory walked, every file hashed and every path resolved at most once, however many
  clusters and plans name it). A rendered tree that is removed mid-run is forgotten (:meth:`forget`).
- **Output parsed once, fast.** ``kubectl kustomize`` output (fresh or from the persistent cache) is parsed
  with :func:`harness.yamlio.load_documents` (the event-driven fast path, ruamel's full safe loader when
  that gives up: the same data as :func:`harness.kustomize.load_output`), memoized by content.
- **Builds in the background.** :meth:`submit` starts plans without waiting (bounded by the callers), so the
  next clusters' builds run while this cluster is judged; one worker per usable core by default.
- **Lean tool processes.** kubectl runs with ``GOMAXPROCS=1`` and its collector off below a 512 MiB heap
  (:data:`GO_ENV`: ~15-25 % less CPU per build) unless the environment sets them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from harness.build_cache import InputDigests
from harness.cluster_pool import usable_cores
from harness.kustomize import BuildPlan, KustomizeBuilder
from harness.tools import tool_env
from harness.yamlio import DocumentMemo, load_documents

__all__ = ["PolicyBuilder", "parse_output"]

T = TypeVar("T")


def _dicts(text: Any, name: str) -> list[Any]:
    return [d for d in load_documents(str(text), name) if isinstance(d, dict)]


_OUTPUTS = DocumentMemo(budget=64 << 20, max_text=4 << 20, parse=_dicts)


def parse_output(text: str, name: str) -> list[dict[str, Any]]:
    """The objects of ``kubectl kustomize`` output (non-mapping documents dropped), parsed once per content.

    The lists and mappings are shared with every other build that printed the same text: never modify them.
    """
    return _OUTPUTS.documents(text, name)


# kubectl is a Go program that lives ~50 ms: one OS thread (builds already run one per core), and the collector
# only when the heap nears a limit (a build never needs a collection before that). The environment wins.
GO_ENV = {"GOMAXPROCS": "1", "GOGC": "off", "GOMEMLIMIT": "512MiB"}


class PolicyBuilder(KustomizeBuilder):
    """A run-wide builder for the policy command (see the module docstring); ``jobs=0``: one per usable core."""

    def __init__(self, *, timeout: float = 60.0, jobs: int = 0, persistent: bool = False) -> None:
        super().__init__(timeout=timeout, jobs=jobs or usable_cores(), persistent=persistent)
        self.inputs = InputDigests()
        self._shared: dict[Hashable, Any] = {}
        self.parses = 0
        env = tool_env()
        for name, value in GO_ENV.items():
            env.setdefault(name, value)
        self._env = env

    def __enter__(self) -> PolicyBuilder:
        return self

    def shared(self, key: Hashable, make: Callable[[], T]) -> T:
        """One object per ``key`` for the whole run (made on first use); a ``close()`` it has runs when the
        builder closes (e.g. the git worktrees of mapped sources)."""
        with self._lock:
            if key not in self._shared:
                self._shared[key] = make()
            value: T = self._shared[key]
        return value

    def close(self) -> None:
        """Stop the worker pool and close what :meth:`shared` made."""
        super().close()
        shared, self._shared = list(self._shared.values()), {}
        for value in shared:
            closer = getattr(value, "close", None)
            if callable(closer):
                closer()

    def realpath(self, path: Path) -> str:
        """``path`` resolved, memoized for the run (the files are a snapshot)."""
        return self.inputs.realpath(os.fspath(path))

    def forget(self, directory: Path) -> None:
        """Forget what was read below ``directory`` (a temporary tree that is gone; its builds stay cached)."""
        self.inputs.forget(directory)

    def submit(self, plans: Iterable[BuildPlan], *, displays: dict[BuildPlan, str] | None = None,
               root: Path | None = None) -> None:
        """Start ``plans`` on the worker pool without waiting (a later :meth:`build_plans` collects them)."""
        displays = displays or {}
        for plan in dict.fromkeys(plans):
            self._submit(plan, displays.get(plan, ""), root, pooled=True)

    def _digest(self, plan: BuildPlan) -> str | None:
        return self.inputs.digest(plan.directory, plan.wrapper_data()) if plan.directory.is_dir() else None

    def _parse(self, output: str, name: str) -> list[dict[str, Any]]:
        with self._lock:
            self.parses += 1
        return parse_output(output, f"kustomize output of {name}")

    def _tool_env(self) -> dict[str, str]:
        return self._env

    def stats(self) -> dict[str, Any]:
        """The counters of :meth:`KustomizeBuilder.stats`, plus outputs parsed and inputs read."""
        return {**super().stats(), "output_parses": self.parses, "input_walks": self.inputs.walks,
                "input_reads": self.inputs.reads}
