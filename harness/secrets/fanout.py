"""Fanning a scan out over forked worker processes, with the result of a serial run.

``fan_out(work, count, processes)`` cuts ``range(count)`` into spans and returns ``[work(start, stop)
for each span]``, in span order, whatever process computed which span. The processes (this one and
``processes - 1`` forked children) take span numbers from one pipe written before the fork, so a process
slowed by other work on the machine takes fewer. A child sends back the results of the spans it finished
(pickled) and ends with ``os._exit`` (it never runs the caller's code after the fan-out, never flushes
inherited output buffers); Ctrl-C ends it silently, the parent reports the interrupt.

A span a child did not finish -- its ``work`` raised, it died, its results did not pickle -- is computed
again here, in span order, so an exception is raised exactly as (and where) the serial run raises it:
the same code, the same one located line, the same traceback under ``--debug``.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from harness.cluster_pool import MAX_WORKERS_PER_CORE, usable_cores
from harness.parent_death import die_with_parent

R = TypeVar("R")

JOBS_ENV = "OVERLAY_PARITY_SECRET_JOBS"
"""Processes for the whole-repository scan: ``1`` scans serially; unset, the CPUs this process may use."""
_TOKEN = 4  # bytes of a span number in the task pipe
_MAX_SPANS = 1024  # 4 KiB of span numbers: within the smallest pipe buffer, so writing them never blocks
Work = Callable[[int, int], R]


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, where the platform has one)."""
    return usable_cores()


def processes_for(count: int, min_per_process: int) -> int:
    """How many processes scan ``count`` files: :data:`JOBS_ENV` when set (an integer >= 1, at most
    :data:`harness.cluster_pool.MAX_WORKERS_PER_CORE` per CPU and one per file), else one per available CPU,
    but one per ``min_per_process`` files at most (a small repository pays no fork)."""
    given = os.environ.get(JOBS_ENV, "").strip()
    if given.isdigit() and int(given) >= 1:
        return max(1, min(int(given), MAX_WORKERS_PER_CORE * available_cpus(), count))
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(available_cpus(), count // max(min_per_process, 1)))


def spans(count: int, processes: int, per_process: int = 32) -> list[tuple[int, int]]:
    """``range(count)`` cut into about ``per_process`` spans per process (at most :data:`_MAX_SPANS`)."""
    wanted = min(max(processes * per_process, 1), _MAX_SPANS)
    size = max(-(-count // wanted), 1)
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def fan_out(work: Work[R], count: int, processes: int) -> list[R]:
    """``work(start, stop)`` for every span of ``range(count)``, in order, over ``processes`` processes."""
    cut = spans(count, processes)
    if processes <= 1 or len(cut) <= 1 or not hasattr(os, "fork"):
        return [work(start, stop) for start, stop in cut]
    done: dict[int, R] = {}
    failed: dict[int, Exception] = {}
    children: list[tuple[int, int]] = []  # (pid, read end of its result pipe)
    tasks_read, tasks_write = os.pipe()
    try:
        os.write(tasks_write, b"".join(i.to_bytes(_TOKEN, "big") for i in range(len(cut))))
        os.close(tasks_write)
        tasks_write = -1
        for _ in range(processes - 1):
            try:
                children.append(_fork(work, cut, tasks_read, children))
            except OSError:  # out of processes or descriptors (ulimit): the ones started, and this one, do it
                break
        for index, outcome in _take(work, cut, tasks_read):
            if isinstance(outcome, _Failed):
                failed[index] = outcome.error
                break  # the spans after it are not needed before it is raised
            done[index] = outcome
        while children:
            pid, results = children[0]
            done.update(_collect(results))
            children.pop(0)
            os.close(results)
            os.waitpid(pid, 0)
        ordered: list[R] = []
        for index, (start, stop) in enumerate(cut):
            if index in failed:
                raise failed[index]
            ordered.append(done[index] if index in done else work(start, stop))  # unfinished: computed here
        return ordered
    finally:
        _end(children)
        for fd in (tasks_read, tasks_write):
            if fd >= 0:
                os.close(fd)


class _Failed:
    """A span whose ``work`` raised (in this process)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _take(work: Work[R], cut: list[tuple[int, int]], tasks: int) -> Iterator[tuple[int, R | _Failed]]:
    """Take span numbers from the task pipe until it is empty, and compute each."""
    while len(token := os.read(tasks, _TOKEN)) == _TOKEN:  # written whole, so read whole
        index = int.from_bytes(token, "big")
        try:
            yield index, work(*cut[index])
        except Exception as exc:  # raised again in span order by the parent
            yield index, _Failed(exc)


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """SIGINT held back across a fork: a Ctrl-C then lands in the parent (after it) or nowhere."""
    held = hasattr(signal, "pthread_sigmask")
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _fork(work: Work[R], cut: list[tuple[int, int]], tasks: int, siblings: list[tuple[int, int]]) -> tuple[int, int]:
    """Fork one worker; returns (its pid, the read end of its result pipe)."""
    results_read, results_write = os.pipe()
    parent = os.getpid()
    with _interrupts_held():
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                die_with_parent(parent)  # a parent killed outright takes its workers with it
                gc.freeze()  # what was inherited stays out of this worker's collections (and its pages shared)
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends a worker silently
                if hasattr(signal, "pthread_sigmask"):
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
                os.close(results_read)
                for _, sibling in siblings:
                    os.close(sibling)
                _child(work, cut, tasks, results_write)
                code = 0
            finally:
                os._exit(code)
    os.close(results_write)
    return pid, results_read


def _child(work: Work[R], cut: list[tuple[int, int]], tasks: int, out: int) -> None:
    """A worker's life: spans until the pipe is empty or one fails, then their results, pickled, to ``out``."""
    import pickle

    finished: dict[int, R] = {}
    for index, outcome in _take(work, cut, tasks):
        if isinstance(outcome, _Failed):
            break  # the parent computes this span again and raises its exception itself
        finished[index] = outcome
    try:
        payload = pickle.dumps(finished, pickle.HIGHEST_PROTOCOL)
    except Exception:  # unpicklable results: the parent computes these spans
        payload = pickle.dumps({}, pickle.HIGHEST_PROTOCOL)
    view = memoryview(payload)
    while view:
        view = view[os.write(out, view):]


def _collect(results: int) -> dict[int, Any]:
    """A child's finished spans, read to the end of its pipe; none when it died before sending them whole."""
    import pickle

    parts = []
    while chunk := os.read(results, 1 << 20):
        parts.append(chunk)
    try:
        found = pickle.loads(b"".join(parts))  # noqa: S301 - from our own child, through a pipe only we hold
    except Exception:  # a truncated payload (the child died): the parent computes those spans
        return {}
    return found if isinstance(found, dict) else {}


def _end(children: list[tuple[int, int]]) -> None:
    """Stop and reap the children still running (an interrupt or an error in the parent)."""
    for pid, results in children:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(results)
    children.clear()
