"""A render in a child process, for the interruption and concurrency tests (not a test module).

    python -m tests.hardening.render_driver CONFIG OUT [--ready] [--kill-at POINT] [--lock-log FILE]
                                            [--go FILE]

Renders CONFIG into OUT with the packaged reference renderer (``renderer.api.RENDERER``), exactly as
``overlay-parity render`` does. ``--ready`` warms the caches (imports, descriptors, coverage verdict) and
prints ``ready`` before the render starts, so a test can SIGKILL it at a chosen delay *into* the render.
``--go FILE`` waits for FILE to exist before rendering (to start two renders at the same moment).
``--kill-at POINT`` makes the process SIGKILL itself at a precise point of the atomic-render protocol:

- ``write:N``      after writing the N-th rendered file into the temp tree;
- ``copy:N``       after copying the N-th kept (non-owned) file into the temp tree;
- ``swap:before``  just before the directory exchange;
- ``swap:after``   just after the exchange (the old tree sits in the temp name, not yet deleted);
- ``cleanup``      half-way through deleting the old tree after the exchange;
- ``rename:1``     without RENAME_EXCHANGE (fallback), between the two renames of the swap.

``--lock-log FILE`` appends ``<pid> acquire|release <monotonic ns>`` around the render lock.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _install(point: str) -> None:
    import shutil

    import renderer.render as render

    kind, _, arg = point.partition(":")
    if kind == "write":
        limit = int(arg)
        real_write = render._write_bytes
        count = 0

        def write(path: Path, data: bytes) -> None:
            nonlocal count
            real_write(path, data)
            count += 1
            if count == limit:
                _die()

        render._write_bytes = write
    elif kind == "copy":
        limit = int(arg)
        real_copy = shutil.copy2
        copies = 0

        def copy2(src: Any, dst: Any, **kwargs: Any) -> Any:
            nonlocal copies
            result = real_copy(src, dst, **kwargs)
            copies += 1
            if copies == limit:
                _die()
            return result

        shutil.copy2 = copy2
    elif kind == "swap":
        real_exchange = render.exchange

        def exchange(first: Path, second: Path) -> bool:
            if arg == "before":
                _die()
            done = real_exchange(first, second)
            assert done, "this test needs RENAME_EXCHANGE"
            _die()
            return done

        render.exchange = exchange
    elif kind == "cleanup":
        real_exchange, real_rmtree = render.exchange, shutil.rmtree
        swapped = False

        def exchange_then_mark(first: Path, second: Path) -> bool:
            nonlocal swapped
            swapped = real_exchange(first, second)
            return swapped

        def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
            if swapped:
                entries = sorted(Path(path).iterdir())
                for entry in entries[: max(1, len(entries) // 2)]:
                    if entry.is_dir():
                        real_rmtree(entry)
                    else:
                        entry.unlink()
                _die()
            real_rmtree(path, *args, **kwargs)

        render.exchange = exchange_then_mark
        shutil.rmtree = rmtree  # type: ignore[assignment]  # typeshed: a protocol with .avoids_symlink_attacks
    elif kind == "rename":
        real_rename = os.rename
        renames = 0
        render.exchange = lambda first, second: False

        def rename(src: Any, dst: Any, **kwargs: Any) -> None:
            nonlocal renames
            real_rename(src, dst, **kwargs)
            renames += 1
            if renames == int(arg):
                _die()

        os.rename = rename
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def _log_lock(log: Path) -> None:
    import renderer.render as render

    real_lock: Callable[..., Any] = render.render_lock

    @contextlib.contextmanager
    def logged(out_dir: Path, timeout: float = render.DEFAULT_LOCK_TIMEOUT) -> Iterator[Path]:
        with real_lock(out_dir, timeout) as lock:
            _append(log, "acquire")
            try:
                yield lock
            finally:
                _append(log, "release")

    render.render_lock = logged


def _append(log: Path, event: str) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {event} {time.monotonic_ns()}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--ready", action="store_true")
    parser.add_argument("--kill-at", default="")
    parser.add_argument("--lock-log", type=Path)
    parser.add_argument("--go", type=Path)
    args = parser.parse_args()
    from renderer.api import RENDERER

    if args.ready:
        RENDERER.plan(args.config)  # imports, descriptor and coverage caches: the render proper is all I/O
    if args.kill_at:
        _install(args.kill_at)
    if args.lock_log:
        _log_lock(args.lock_log)
    if args.ready:
        print("ready", flush=True)
    if args.go:
        while not args.go.exists():
            time.sleep(0.001)
    RENDERER.render(args.config, args.out)
    print("done", flush=True)


if __name__ == "__main__":
    main()
