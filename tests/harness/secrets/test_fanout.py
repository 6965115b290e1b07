"""harness.secrets.fanout: the spans' results in span order whatever process computed them; a span a worker did
not finish (it raised, it died) computed again in the parent, so errors are raised as the serial run raises
them; no worker left behind after an interrupt; how many processes a scan gets."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.secrets import fanout
from harness.secrets.fanout import JOBS_ENV, fan_out, processes_for, spans

requires_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def squares(start: int, stop: int) -> list[int]:
    return [i * i for i in range(start, stop)]


def reaped(pid: int) -> bool:
    """Whether ``pid`` is no longer a child of this process (ended and waited for)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_spans_cover_the_range_once_in_order() -> None:
    for count in (0, 1, 5, 63, 64, 65, 1000, 24197, 10**6):
        for processes in (1, 2, 3, 8):
            cut = spans(count, processes)
            assert [i for start, stop in cut for i in range(start, stop)] == list(range(count))
            assert len(cut) <= 1024  # the span numbers fit the smallest pipe buffer
            assert all(stop > start for start, stop in cut)


@requires_fork
@pytest.mark.parametrize("processes", [2, 3, 5])
def test_parallel_results_are_the_serial_results_in_span_order(processes: int) -> None:
    def work(start: int, stop: int) -> tuple[int, list[int]]:
        time.sleep(0.005)  # long enough for every worker to take some spans
        return os.getpid(), squares(start, stop)

    parallel = fan_out(work, 5000, processes)
    pids = {pid for pid, _ in parallel}
    assert [value for _, values in parallel for value in values] == [i * i for i in range(5000)]
    assert len(pids) > 1, "every span was computed in one process: nothing was forked"
    assert all(reaped(pid) for pid in pids - {os.getpid()})


@requires_fork
def test_spans_a_worker_could_not_finish_are_computed_in_the_parent() -> None:
    parent = os.getpid()

    def work(start: int, stop: int) -> list[int]:
        if os.getpid() != parent and start % 3 == 0:
            raise ValueError("only in a worker")
        if os.getpid() != parent and start % 3 == 1:
            os._exit(7)  # a worker that dies: its finished spans are lost with it
        return squares(start, stop)

    assert [v for values in fan_out(work, 3000, 3) for v in values] == [i * i for i in range(3000)]


@requires_fork
def test_an_error_is_the_one_the_serial_run_raises() -> None:
    def work(start: int, stop: int) -> list[int]:
        for item in range(start, stop):  # as the scan does: the first bad file of the span raises
            if item >= 1500 and item % 7 == 0:
                raise ValueError(f"item {item}")
        return squares(start, stop)

    with pytest.raises(ValueError, match=r"^item 1505$") as serial:
        fan_out(work, 3000, 1)
    for processes in (2, 4):
        with pytest.raises(ValueError, match=r"^item 1505$") as parallel:
            fan_out(work, 3000, processes)
        assert str(parallel.value) == str(serial.value)
        assert parallel.traceback[-1].name == "work"  # raised here, with its own traceback


@requires_fork
def test_unpicklable_results_are_computed_in_the_parent() -> None:
    parent = os.getpid()

    def work(start: int, stop: int) -> object:
        return (start, stop) if os.getpid() == parent else (lambda: None)  # a lambda does not pickle

    assert fan_out(work, 2000, 2) == spans(2000, 2)


@requires_fork
def test_an_interrupt_in_the_parent_leaves_no_worker_behind(tmp_path: Path) -> None:
    parent = os.getpid()
    calls = []

    def work(start: int, stop: int) -> list[int]:
        if os.getpid() == parent:
            calls.append(start)
            if len(calls) == 2:
                deadline = time.monotonic() + 10  # interrupt once a worker is surely running (a busy CI
                while not any(tmp_path.iterdir()) and time.monotonic() < deadline:  # machine starts them late)
                    time.sleep(0.005)
                raise KeyboardInterrupt
        else:
            (tmp_path / str(os.getpid())).touch()
            time.sleep(0.01)
        return squares(start, stop)

    with pytest.raises(KeyboardInterrupt):
        fan_out(work, 100_000, 3)
    workers = [int(path.name) for path in tmp_path.iterdir()]
    assert workers, "no worker ran"
    assert all(reaped(pid) for pid in workers)


def test_how_many_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(JOBS_ENV, raising=False)
    monkeypatch.setattr(fanout, "available_cpus", lambda: 4)
    assert processes_for(100, 2000) == 1  # a small repository pays no fork
    assert processes_for(4000, 2000) == (2 if hasattr(os, "fork") else 1)
    assert processes_for(10**6, 2000) == (4 if hasattr(os, "fork") else 1)
    monkeypatch.setattr(fanout, "available_cpus", lambda: 1)
    assert processes_for(10**6, 2000) == 1
    monkeypatch.setenv(JOBS_ENV, "3")
    assert processes_for(10, 2000) == 3  # forced, whatever the size
    monkeypatch.setenv(JOBS_ENV, "100000")
    assert processes_for(10**6, 2000) == 4  # at most 4 per CPU: no fork bomb
    assert processes_for(2, 2000) == 2  # and never more than files
    for ignored in ("0", "", "two", "-2"):
        monkeypatch.setenv(JOBS_ENV, ignored)
        assert processes_for(10, 2000) == 1


@requires_fork
def test_out_of_processes_the_parent_does_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> tuple[int, int]:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork under ulimit -u

    monkeypatch.setattr(fanout, "_fork", refuse)
    assert fan_out(lambda start, stop: list(range(start, stop)), 5000, 4) == \
        [list(range(a, b)) for a, b in spans(5000, 4)]


def test_available_cpus_follows_the_affinity_mask() -> None:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no affinity mask here")
    assert fanout.available_cpus() == len(os.sched_getaffinity(0))


@requires_fork
def test_a_worker_ends_on_ctrl_c_without_a_word(tmp_path: Path) -> None:
    """SIGINT to the whole process group (what a terminal sends): the workers die silently; the parent
    raises KeyboardInterrupt after reaping them."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""
        import os, signal, sys, time
        from harness.secrets.fanout import fan_out
        parent = os.getpid()
        def work(start, stop):
            if os.getpid() != parent:
                time.sleep(0.01)  # the workers are still busy when the signal comes
            elif start > 0:
                os.killpg(0, signal.SIGINT)
                time.sleep(5)
            return start
        try:
            fan_out(work, 10_000, 3)
        except KeyboardInterrupt:
            print("parent interrupted", flush=True)
            sys.exit(130)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          start_new_session=True, check=False, cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 130, proc.stderr
    assert proc.stdout == "parent interrupted\n"
    assert proc.stderr == ""  # the group signal reached every process: none printed a word
