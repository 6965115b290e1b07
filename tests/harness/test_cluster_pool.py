"""The cluster pool: results in input order on forked workers, bad input raised at its place, sizes."""

from __future__ import annotations

import os
import signal

import pytest

from harness.cluster_pool import (
    MAX_WORKERS_PER_CORE,
    MIN_ITEMS_PER_WORKER,
    WorkerDied,
    error_from_dict,
    error_to_dict,
    map_in_order,
    usable_cores,
    worker_count,
)
from harness.errors import InputError, InputErrors


def square_with_pid(item: int) -> dict[str, int]:
    return {"item": item, "square": item * item, "pid": os.getpid()}


def test_results_come_back_in_input_order_from_other_processes() -> None:
    items = list(range(40, 0, -1))
    results = list(map_in_order(square_with_pid, items, 2))
    assert [r["item"] for r in results] == items
    assert [r["square"] for r in results] == [i * i for i in items]
    assert {r["pid"] for r in results} - {os.getpid()}, "no item ran in a worker"


def test_one_worker_runs_in_process() -> None:
    assert {r["pid"] for r in map_in_order(square_with_pid, [1, 2, 3], 1)} == {os.getpid()}


def fail_at_seven(item: int) -> int:
    if item == 7:
        raise InputError("CONFIG-INVALID", "seven is bad", file="configs/seven.yaml", line=7, hint="use eight")
    return item


def test_bad_input_in_a_worker_is_raised_at_its_place() -> None:
    seen: list[int] = []

    def consume() -> None:
        for value in map_in_order(fail_at_seven, list(range(20)), 2):
            seen.append(value)

    with pytest.raises(InputError) as info:
        consume()
    assert seen == list(range(7))
    assert info.value.one_line() == "configs/seven.yaml:7: CONFIG-INVALID: seven is bad (fix: use eight)"


def crash(item: int) -> int:
    if item == 3:
        raise RuntimeError("a bug")
    return item


def test_a_bug_in_a_worker_is_not_bad_input() -> None:
    with pytest.raises(RuntimeError, match="a bug"):
        list(map_in_order(crash, list(range(10)), 2))


def die_at_three(item: int) -> int:
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # a worker killed (out of memory, a crash in C code)
    return item


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(WorkerDied):
        list(map_in_order(die_at_three, list(range(10)), 2))


def test_errors_cross_as_plain_data() -> None:
    several = InputErrors([InputError("A-1", "first", file="a.yaml", line=1, column=2, hint="h"),
                           InputError("B-2", "second")])
    back = error_from_dict(error_to_dict(several))
    assert isinstance(back, InputErrors)
    assert back.lines() == several.lines()
    single = InputError("C-3", "third", file="c.yaml")
    assert error_from_dict(error_to_dict(single)).one_line() == single.one_line()


def test_worker_count() -> None:
    assert worker_count(1, 500) == 1
    assert worker_count(3, 500) == 3
    assert worker_count(8, 2) == 2  # never more workers than items
    assert worker_count(0, MIN_ITEMS_PER_WORKER - 1) == 1  # a few clusters: no pool
    assert worker_count(0, 10_000) == usable_cores()
    assert worker_count(100_000, 10_000) == MAX_WORKERS_PER_CORE * usable_cores()  # no process per cluster
