"""A timing wrapper around the reference renderer, so a real ``overlay-parity check`` run can say how much
of its wall time was rendering: ``--renderer benchmarks.timing:RENDERER`` (with this checkout on
``PYTHONPATH``).

Every ``render`` and ``render_files`` call is timed, and so is the import of the reference renderer (done
on the first call: importing the renderer is part of what rendering costs, so it is not counted as the
harness's overhead); at interpreter exit the totals are appended as one JSON line to the file named by
``$OVERLAY_PARITY_BENCH_TIMING`` (nothing is written when it is unset). The wrapper adds one
``perf_counter`` pair per cluster and changes nothing else.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.renderer_api import Plan, RenderedFiles

if TYPE_CHECKING:
    from renderer.api import ReferenceRenderer

ENV = "OVERLAY_PARITY_BENCH_TIMING"


class TimingRenderer:
    """Delegates to ``renderer.api:RENDERER`` and accumulates render wall time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.renders = 0
        self.started = time.perf_counter()

    @staticmethod
    def reference() -> ReferenceRenderer:
        """``renderer.api:RENDERER``, imported on first use (inside the timed section)."""
        from renderer.api import RENDERER

        return RENDERER

    def render(self, config_path: Path, out_dir: Path, *, service: str | None = None) -> Plan:
        """Render through the reference renderer, timing the call."""
        started = time.perf_counter()
        try:
            return self.reference().render(config_path, out_dir, service=service)
        finally:
            self.seconds += time.perf_counter() - started
            self.renders += 1

    def batch(self) -> AbstractContextManager[None]:
        """The reference renderer's batch (shared template and descriptor reading). Opening it imports the
        renderer, which is timed as rendering; the reading it shares happens, timed, inside the first render."""
        started = time.perf_counter()
        try:
            return self.reference().batch()
        finally:
            self.seconds += time.perf_counter() - started

    def render_files(self, config_path: Path) -> RenderedFiles:
        """Render into memory through the reference renderer, timing the call."""
        started = time.perf_counter()
        try:
            return self.reference().render_files(config_path)
        finally:
            self.seconds += time.perf_counter() - started
            self.renders += 1

    def dump(self) -> None:
        """Append ``{"render_seconds", "renders", "process_seconds", "pid"}`` to ``$OVERLAY_PARITY_BENCH_TIMING``."""
        target = os.environ.get(ENV)
        if not target or not self.renders:
            return
        line = json.dumps({"render_seconds": self.seconds, "renders": self.renders,
                           "process_seconds": time.perf_counter() - self.started, "pid": os.getpid()})
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


RENDERER = TimingRenderer()
atexit.register(RENDERER.dump)
