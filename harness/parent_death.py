"""Forked workers end with the process that forked them.

A worker blocked on its task pipe never sees the parent die when it holds a copy of that pipe itself: a
``check`` or ``scan-secrets`` killed by SIGTERM (a CI timeout, ``kill``) would leave its workers sleeping
forever, holding the caller's stdout and stderr open, so whoever waits for the output waits forever too.
Each worker asks the kernel to kill it when its parent goes (Linux ``PR_SET_PDEATHSIG``); elsewhere a
daemon thread watches the parent id. Workers hold nothing that needs cleaning up.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Call first thing in a worker forked by process ``parent``: the worker is killed when ``parent`` ends
    (at once if it already has)."""
    if not _kernel_watch():
        threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent ended before the watch was in place
        os._exit(1)


def _kernel_watch() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
