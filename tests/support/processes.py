"""Process helpers for tests that kill parents and look for the workers they left."""

from __future__ import annotations

from pathlib import Path


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped by whoever inherited it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
