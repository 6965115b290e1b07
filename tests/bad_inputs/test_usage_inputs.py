"""Bad command lines: exit 2, one ``overlay-parity: USAGE: ... (fix: ...)`` line, no traceback, nothing
written."""

from __future__ import annotations

import pytest

from tests.hardening.support import USAGE_LINE, Project, assert_bad_input, snapshot


@pytest.mark.parametrize("argv", [
    ["render", "--no-such-option"],
    ["frobnicate"],
    ["check", "--shard"],
], ids=["unknown-option", "unknown-command", "missing-argument"])
def test_argparse_usage_error(project: Project, argv: list[str]) -> None:
    before = snapshot(project.root, dir_mtimes=False)
    proc = project.cli(*argv)
    [error] = assert_bad_input(proc, code="USAGE")
    assert USAGE_LINE.match(proc.stderr.strip()), proc.stderr
    assert error.file.startswith("overlay-parity")
    assert snapshot(project.root, dir_mtimes=False) == before


@pytest.mark.parametrize("argv", [
    ["render", "--config", "fixture/.k8s-dev-config.yaml"],
    ["render", "--all"],
    ["render", "--all", "--out-root", "out", "--config", "fixture/.k8s-dev-config.yaml"],
    ["check", "--shard", "3/2"],
    ["check", "--update-force"],
], ids=["render-without-out", "all-without-out-root", "all-with-config", "bad-shard", "force-without-update"])
def test_command_usage_error(project: Project, argv: list[str]) -> None:
    before = snapshot(project.root, dir_mtimes=False)
    proc = project.cli(*argv)
    assert_bad_input(proc, code="USAGE")
    assert snapshot(project.root, dir_mtimes=False) == before
