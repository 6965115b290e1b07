"""Forked workers end with their parent: a parent killed outright (SIGKILL, SIGTERM) leaves no worker behind
holding its output open; the check's and the secret scan's workers ask for it first thing."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.cluster_pool import map_in_order
from harness.parent_death import die_with_parent
from tests.support.processes import running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_GET_PDEATHSIG is Linux's")


def test_a_worker_dies_when_its_parent_is_killed() -> None:
    code = textwrap.dedent("""
        import os, sys, time
        from harness.parent_death import die_with_parent
        parent = os.getpid()
        child = os.fork()
        if child == 0:
            die_with_parent(parent)
            time.sleep(60)
            os._exit(0)
        print(child, flush=True)
        time.sleep(60)
    """)
    middle = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert middle.stdout is not None
    worker = int(middle.stdout.readline())
    time.sleep(0.2)
    assert running(worker)
    middle.kill()
    middle.wait(timeout=30)
    deadline = time.monotonic() + 10
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(worker), "the worker outlived its parent"


def test_a_parent_already_gone_ends_the_worker_at_once() -> None:
    child = os.fork()
    if child == 0:
        die_with_parent(os.getpid() + 1_000_000)  # not our parent: as if it had ended and we were re-parented
        os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 1


def death_signal(_: int) -> int:
    value = ctypes.c_int(0)
    ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
    return value.value


def test_the_check_workers_ask_for_it() -> None:
    assert set(map_in_order(death_signal, list(range(6)), 2)) == {int(signal.SIGKILL)}
