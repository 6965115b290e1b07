"""When diff lines get colour (NO_COLOR, FORCE_COLOR, terminals) and how each kind of line is painted."""

from __future__ import annotations

import io
import os

import pytest

from harness.colour import diff_line, wanted


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("environ", "terminal", "expected"), [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # an empty NO_COLOR is not set (no-color.org)
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "0"}, False, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
])
def test_colour_is_wanted(environ: dict[str, str], terminal: bool, expected: bool) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    assert wanted(stream, environ) is expected


def test_a_real_pipe_gets_no_colour() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream:
        assert wanted(stream, {}) is False
    os.close(read_end)


def test_diff_lines_are_painted_by_kind() -> None:
    assert diff_line("+a: 1") == "\x1b[32m+a: 1\x1b[0m"
    assert diff_line("-a: 1") == "\x1b[31m-a: 1\x1b[0m"
    assert diff_line("@@ -1 +1 @@") == "\x1b[36m@@ -1 +1 @@\x1b[0m"
    assert diff_line("+++ rendered:x") == "\x1b[1m+++ rendered:x\x1b[0m"
    assert diff_line(" context") == " context"
