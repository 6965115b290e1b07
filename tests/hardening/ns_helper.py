"""Run ``overlay-parity render`` against a really full or really read-only file system (not a test module).

    unshare --mount --propagation private python -m tests.hardening.ns_helper MODE OVERLAY CONFIG WORKDIR

Runs inside a private mount namespace, so the mounts it makes vanish with it and nobody else sees them.
``enospc``: a tiny tmpfs holds a copy of OVERLAY and a filler file that leaves ~64 KiB free.
``readonly``: a copy of OVERLAY under a read-only bind mount (fails even for root).
Prints one JSON object: exit code, stdout, stderr, whether the overlay stayed identical, leftovers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.hardening.support import CLI, env, snapshot


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def main() -> None:
    mode, source, config, workdir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    area = workdir / "area"
    area.mkdir(parents=True, exist_ok=True)
    if mode == "enospc":
        _mount("-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", str(area))
    overlay = area / "overlays" / "k8s-dev"
    shutil.copytree(source, overlay, copy_function=shutil.copy2)
    if mode == "enospc":
        stats = os.statvfs(area)
        free = stats.f_bavail * stats.f_frsize
        with (area / "filler.bin").open("wb") as handle:
            handle.write(b"\0" * max(free - 64 * 1024, 0))
    elif mode == "readonly":
        _mount("--bind", str(area), str(area))
        _mount("-o", "remount,bind,ro", str(area), str(area))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    before = snapshot(overlay)
    names_before = sorted(p.name for p in overlay.parent.iterdir())
    proc = subprocess.run([*CLI, "render", "--config", str(config), "--out", str(overlay)], cwd=Path.cwd(),
                          env=env(), capture_output=True, text=True, timeout=120, check=False)
    after = snapshot(overlay)
    print(json.dumps({
        "returncode": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "overlay": str(overlay),
        "identical": before == after,
        "changed": sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))[:20],
        "names_before": names_before,
        "names_after": sorted(p.name for p in overlay.parent.iterdir()),
    }))


if __name__ == "__main__":
    main()
