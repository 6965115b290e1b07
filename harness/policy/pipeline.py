"""Many directories, one policy run: while one directory is judged, the next ones are read and their builds run.

:func:`check_overlays` gives the results in the order of the directories, exactly as one
:func:`harness.policy.check_overlay` per directory would. A planner thread opens the contexts ahead (parses
each tree, plans its builds and starts them on the builder's pool without waiting), at most ``ahead`` of them
waiting at any time; the calling thread judges them in order. The cores therefore never wait for Python
between two directories, and Python work overlaps the running kubectl processes. An error opening a
directory is raised when its turn comes (the results before it are given first).

Build counters in a result's notes are those gained since the previous result (their sum over the run is
the run's total; with builds started ahead, one directory's share is approximate).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.kustomize import KustomizeBuilder
from harness.policy import PolicyResult, counters_between, judge, select_policies
from harness.policy.model import PolicyContext, PolicyOptions

AHEAD = 4
_POLL = 0.1


class _Planner(threading.Thread):
    """Opens the contexts of ``dirs`` in order and starts their builds; hands them over through a bounded queue."""

    def __init__(self, dirs: Sequence[Path], *, repo_root: Path | None, options: PolicyOptions,
                 builder: KustomizeBuilder, builds: bool, ahead: int) -> None:
        super().__init__(name="policy-planner", daemon=True)
        self.dirs = dirs
        self.repo_root = repo_root
        self.options = options
        self.builder = builder
        self.builds = builds
        self.ready: queue.Queue[tuple[PolicyContext | None, BaseException | None, float]] = queue.Queue(ahead)
        self.stop = threading.Event()

    def run(self) -> None:
        for directory in self.dirs:
            if self.stop.is_set():
                return
            start = time.perf_counter()
            ctx: PolicyContext | None = None
            try:
                ctx = PolicyContext(directory, directory.resolve().name, repo_root=self.repo_root,
                                    options=self.options, builder=self.builder)
                if self.builds:
                    ctx.start_builds()
            except BaseException as exc:  # handed to the caller in order, with the traceback
                if ctx is not None:
                    ctx.__exit__(None, None, None)
                self._hand_over((None, exc, 0.0))
                return
            if not self._hand_over((ctx, None, time.perf_counter() - start)):
                ctx.__exit__(None, None, None)
                return

    def _hand_over(self, item: tuple[PolicyContext | None, BaseException | None, float]) -> bool:
        while not self.stop.is_set():
            try:
                self.ready.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Stop planning and close every context opened but not judged."""
        self.stop.set()
        self.join()
        while True:
            try:
                ctx, _, _ = self.ready.get_nowait()
            except queue.Empty:
                return
            if ctx is not None:
                ctx.__exit__(None, None, None)


def check_overlays(dirs: Sequence[Path], *, repo_root: Path | None, options: PolicyOptions,
                   builder: KustomizeBuilder, ahead: int = AHEAD) -> Iterator[PolicyResult]:
    """The policy result of each directory (cluster name = directory name), in order (module docstring)."""
    policies = select_policies(options.policies)
    planner = _Planner(dirs, repo_root=repo_root, options=options, builder=builder,
                       builds=any(p.needs_builds for p in policies), ahead=max(1, ahead))
    before = builder.stats()
    planner.start()
    try:
        for _ in dirs:
            ctx, error, opened = planner.ready.get()
            if error is not None:
                raise error
            assert ctx is not None
            start = time.perf_counter()
            with ctx:
                result = judge(ctx, policies)
            after = builder.stats()
            result.notes.update(counters_between(before, after))
            before = after
            result.seconds = opened + time.perf_counter() - start
            yield result
    finally:
        planner.close()
