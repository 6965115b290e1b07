from __future__ import annotations

import pytest

from harness.errors import InputError, InputErrors


def test_one_line_has_file_line_code_message_and_hint() -> None:
    err = InputError("CONFIG-INVALID", "bad\nthing", file="a.yaml", line=3, column=7, hint="fix it")
    assert err.one_line() == "a.yaml:3:7: CONFIG-INVALID: bad thing (fix: fix it)"
    assert "\n" not in str(err)


def test_without_location_or_hint() -> None:
    assert InputError("USAGE", "nope").one_line() == "USAGE: nope"


def test_input_errors_keeps_every_problem() -> None:
    errors = InputErrors([InputError("A", "one", file="f", line=1), InputError("B", "two", file="f", line=2)])
    assert errors.lines() == ["f:1: A: one", "f:2: B: two"]
    assert errors.code == "A"


def test_input_errors_needs_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        InputErrors([])
