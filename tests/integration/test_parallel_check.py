"""``check -j 2`` says exactly what ``check -j 1`` says: the same lines in the same order, the same reports
(JSON, JUnit, SARIF; timings aside), the same exit code, on the bundled fixture with drift of every kind, and
the same one located line when a cluster's tree is bad input in the middle of the run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.hostile import Outcome, assert_sane, run
from tests.integration.fake_project import inventory_text, make_project
from tests.integration.test_bundled_fixture import copy_bundled, overlay
from tests.integration.test_pairing_property import plant_drift
from tests.support.processes import running

TIMING = re.compile(r'(seconds|time|timestamp)="[^"]*"')
DURATION = re.compile(r"\b\d+\.\d+s\b")


def lines(text: str) -> str:
    """Terminal output with the durations taken out."""
    return DURATION.sub("<t>", text)


def without_timings(value: Any) -> Any:
    """A JSON report with every duration and time stamp dropped."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items()
                if k not in {"seconds", "generated_at", "timestamp", "duration", "startTimeUtc", "endTimeUtc"}}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def check(root: Path, jobs: int) -> tuple[Outcome, dict[str, Any]]:
    reports = root / f"reports-{jobs}"
    reports.mkdir()
    outcome = run(["check", "-j", str(jobs), "--json", reports / "r.json", "--junit", reports / "r.xml",
                   "--sarif", reports / "r.sarif"], cwd=root)
    assert_sane(outcome)
    texts = {name: (reports / name).read_text(encoding="utf-8") for name in ("r.json", "r.xml", "r.sarif")}
    return outcome, {"json": without_timings(json.loads(texts["r.json"])),
                     "sarif": without_timings(json.loads(texts["r.sarif"])),
                     "junit": TIMING.sub("", texts["r.xml"])}


@pytest.mark.parametrize("drift", [False, True])
def test_two_workers_report_what_one_process_reports(tmp_path: Path, drift: bool) -> None:
    root = copy_bundled(tmp_path / "project")
    if drift:
        plant_drift(root)
    serial, serial_reports = check(root, 1)
    parallel, parallel_reports = check(root, 2)
    assert serial.returncode == (1 if drift else 0)
    assert parallel.returncode == serial.returncode
    assert lines(parallel.stdout) == lines(serial.stdout)
    assert parallel.stderr == serial.stderr
    assert parallel_reports == serial_reports


def test_a_command_renderer_project_of_another_layout_too(tmp_path: Path) -> None:
    """Another layout, another renderer kind (an external command rendering into directories), a rule that
    matches in one cluster only (judged on the union of the workers' clusters) and a finding in the middle
    cluster: the workers' answer is still the serial one."""
    project = make_project(tmp_path / "fake", inventory=inventory_text(drop=("legacy-file",)))
    serial, serial_reports = check(project.root, 1)
    parallel, parallel_reports = check(project.root, 2)
    assert serial.returncode == 1  # k8s-b's hand-kept legacy.yaml is no longer approved
    assert "FAIL parity[k8s-b]" in serial.stdout
    assert "stale" not in serial.stdout.lower().replace("stale rules judged", "")
    assert parallel.returncode == serial.returncode
    assert lines(parallel.stdout) == lines(serial.stdout)
    assert parallel_reports == serial_reports


def test_bad_input_in_a_middle_cluster_is_the_same_one_line(tmp_path: Path) -> None:
    root = copy_bundled(tmp_path / "project")
    os.mkfifo(overlay(root, "k8s-prod") / "services" / "pipe.yaml")
    serial = run(["check", "-j", "1"], cwd=root, timeout=120)
    parallel = run(["check", "-j", "2"], cwd=root, timeout=120)
    assert_sane(parallel)
    assert serial.returncode == parallel.returncode == 2
    assert lines(parallel.stdout) == lines(serial.stdout)
    assert parallel.stderr == serial.stderr
    assert "pipe.yaml" in parallel.stderr


SLOW_RENDERER = '''
import time
from renderer.api import RENDERER as REFERENCE


class Slow:
    def render(self, config_path, out_dir, *, service=None):
        return REFERENCE.render(config_path, out_dir, service=service)

    def render_files(self, config_path):
        time.sleep(1.0)
        return REFERENCE.render_files(config_path)


RENDERER = Slow()
'''


def test_a_parallel_check_killed_with_sigterm_leaves_nothing_running(tmp_path: Path) -> None:
    root = copy_bundled(tmp_path / "project")
    (root / "slow_renderer.py").write_text(SLOW_RENDERER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "check", "-j", "2", "--renderer",
                             "slow_renderer:RENDERER"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    workers: list[str] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False)
        workers = found.stdout.split()
    assert len(workers) >= 2, "the check never started its workers"
    proc.terminate()
    proc.communicate(timeout=30)  # no worker holds the output open: the pipes close
    time.sleep(0.5)
    assert not [pid for pid in workers if running(int(pid))]

