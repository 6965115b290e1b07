"""Check clusters on every core: a fork-based worker pool that hands results back in input order.

Clusters are independent, so a run of many clusters splits across ``jobs`` worker processes forked from the
loaded run (inventory, renderer and warm caches are shared copy-on-write; nothing is re-imported). Results
come back in the order of the input, so progress lines, reports and exit codes are those of a serial run.

- ``jobs``: 1 runs in process; 0 (the default) means one worker per usable core (``sched_getaffinity``),
  and stays in process below :data:`MIN_ITEMS_PER_WORKER` items per worker (a pool costs ~20-30 ms).
- Bad input in a worker (an ``InputError``) is raised in the parent, at its place in the order, exactly as
  a serial run raises it: one located line, exit 2.
- Workers ignore SIGINT: Ctrl-C reaches the parent, which stops the pool and reports the interrupt once.
  A parent killed outright takes its workers with it (:mod:`harness.parent_death`).
- Work functions take and return JSON-ready values, so what crosses the process boundary is plain data.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from harness.errors import InputError, InputErrors
from harness.parent_death import die_with_parent

T = TypeVar("T")
MIN_ITEMS_PER_WORKER = 8
MAX_WORKERS_PER_CORE = 4

_work: Callable[[Any], Any] | None = None  # the work function, set in the parent before the workers fork


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_count(jobs: int, items: int) -> int:
    """Workers for ``items`` items: ``jobs`` when positive (at most :data:`MAX_WORKERS_PER_CORE` per usable
    core: ``-j 100000`` must not fork a process per cluster), else one per usable core; 1 means in process."""
    cores = usable_cores()
    wanted = min(jobs, MAX_WORKERS_PER_CORE * cores) if jobs > 0 else cores
    if jobs <= 0:
        wanted = min(wanted, items // MIN_ITEMS_PER_WORKER)
    return max(1, min(wanted, items))


def error_to_dict(error: InputError) -> dict[str, Any]:
    """An InputError (or InputErrors) as plain data."""
    errors = error.errors if isinstance(error, InputErrors) else [error]
    return {"errors": [{"code": e.code, "message": e.message, "hint": e.hint,
                        "file": e.location.file if e.location else None,
                        "line": e.location.line if e.location else 0,
                        "column": e.location.column if e.location else 0} for e in errors]}


def error_from_dict(data: dict[str, Any]) -> InputError:
    """Inverse of :func:`error_to_dict`."""
    errors = [InputError(e["code"], e["message"], file=e["file"], line=e["line"], column=e["column"],
                         hint=e["hint"]) for e in data["errors"]]
    return errors[0] if len(errors) == 1 else InputErrors(errors)


def _start_worker(parent: int) -> None:
    die_with_parent(parent)  # a parent killed outright must not leave workers holding its output open
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(item: Any) -> tuple[str, Any]:
    assert _work is not None
    try:
        return "ok", _work(item)
    except InputError as error:
        return "error", error_to_dict(error)


class WorkerDied(RuntimeError):
    """A worker process ended without an answer (killed, out of memory, a crash in C code)."""


def map_in_order(work: Callable[[T], Any], items: Sequence[T], workers: int) -> Iterator[Any]:
    """``work(item)`` for every item, in order; on ``workers`` forked processes when more than one.

    ``work`` must return plain data. An InputError raised by ``work`` is raised here at its item's place; a
    worker that dies raises :class:`WorkerDied` (an internal error, never a hang). Leaving the iteration
    early (an error, an interrupt) cancels what has not started and waits for what has.
    """
    import multiprocessing  # ~8 ms to import: only for a run that may fork

    if workers <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (work(item) for item in items)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _work
    _work = work
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_start_worker, initargs=(os.getpid(),))
    # Workers fork on the first submit. What the parent built is shared: frozen, no collection in a worker
    # touches (and so copies) its pages; thawed below, so a long-lived caller (pytest) collects it as before.
    gc.freeze()
    try:
        # Contiguous chunks: neighbouring clusters (sorted names: one environment after another) share most
        # outputs, so a worker's memo serves them; and one message per chunk, not per cluster. Eight chunks
        # per worker keep the end balanced.
        chunk = max(1, len(items) // (workers * 8))
        for kind, payload in executor.map(_call, items, chunksize=chunk):
            if kind == "error":
                raise error_from_dict(payload)
            yield payload
    except BrokenProcessPool:
        raise WorkerDied("a worker process ended without an answer (rerun with --jobs 1 to see why)") from None
    finally:
        # Waiting is short (at most the items already running) and leaves no manager thread for the
        # interpreter's exit hook, which fails noisily on a pipe that is gone after shutdown(wait=False).
        executor.shutdown(wait=True, cancel_futures=True)
        _work = None
        gc.unfreeze()
