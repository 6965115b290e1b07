"""One updating progress line for long runs on a terminal: ``[12/200 clusters] 0:05 elapsed, ~1:20 left``.

Shown only when the stream is a terminal and the run has lasted :data:`DELAY` seconds (environment
``OVERLAY_PARITY_PROGRESS_DELAY`` overrides it); the line is rewritten in place (carriage return, erase to
end of line) and erased before anything else is printed, so a CI log (no terminal) never sees it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

DELAY = 2.0
_ERASE = "\r\x1b[K"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds + 0.5), 60)
    return f"{minutes}:{rest:02d}"


class ProgressLine:
    """``done``/``total`` items on one terminal line of ``stream``, with elapsed time and an estimate."""

    def __init__(self, stream: TextIO, total: int, *, unit: str = "clusters",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._total = total
        self._unit = unit
        self._clock = clock
        self._started = clock()
        self._shown = False
        self._done = 0
        try:
            self._enabled = stream.isatty() and total > 0
        except (AttributeError, ValueError):
            self._enabled = False
        try:
            self._delay = float(os.environ.get("OVERLAY_PARITY_PROGRESS_DELAY", DELAY))
        except ValueError:
            self._delay = DELAY

    def text(self, done: int, elapsed: float) -> str:
        """The line for ``done`` items after ``elapsed`` seconds."""
        line = f"[{done}/{self._total} {self._unit}] {_clock(elapsed)} elapsed"
        if 0 < done < self._total:
            line += f", ~{_clock(elapsed / done * (self._total - done))} left"
        return line

    def advance(self, count: int = 1) -> None:
        """``count`` more items are done: redraw the line (once the run has lasted long enough)."""
        self._done = min(self._total, self._done + count)
        if not self._enabled:
            return
        elapsed = self._clock() - self._started
        if elapsed < self._delay or self._done >= self._total:
            return
        self._stream.write(_ERASE + self.text(self._done, elapsed))
        self._stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the line (before other output, and at the end)."""
        if self._shown:
            self._stream.write(_ERASE)
            self._stream.flush()
            self._shown = False
