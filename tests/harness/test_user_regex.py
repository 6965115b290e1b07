"""User-supplied regexes (harness.user_regex): matched with RE2 in linear time, refused at load when RE2
cannot take them, quietly (RE2 logs nothing) and with a reason that never repeats the pattern."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.user_regex import MAX_PATTERN_LENGTH, RegexError, compile_regex, regex_problem, search


def test_a_pattern_that_backtracks_exponentially_in_python_matches_in_linear_time() -> None:
    # Python's re needs about 2**n steps for (a+)+$ on a...ab; n = 5000 would never finish there.
    assert search(r"(a+)+$", "a" * 5000 + "b") is False
    assert search(r"^(a|aa)+$", "a" * 5000) is True
    assert search(r"(x+x+)+y", "x" * 5000) is False


@pytest.mark.parametrize(("pattern", "reason"), [
    ("^(services/.*", "does not compile: missing )"),
    (r"\p{NoSuchClass}", "does not compile"),
    ("((((a{100}){100}){100}){100})", "does not compile"),
    ("x" * (MAX_PATTERN_LENGTH + 1), "longer than"),
    ("(?=a)b", "lookahead"),
])
def test_patterns_re2_cannot_take_are_refused_quietly(pattern: str, reason: str,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    problem = regex_problem(pattern)
    assert problem is not None
    assert reason in problem
    with pytest.raises(RegexError):
        compile_regex(pattern)
    captured = capfd.readouterr()
    assert captured.err == ""  # RE2's own error logging is off
    assert captured.out == ""


def test_the_reason_never_repeats_the_pattern() -> None:
    pattern = "^(secret-token-Zq7x"
    problem = regex_problem(pattern)
    assert problem is not None
    assert "Zq7x" not in problem


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab()[]{}*+?|^$.\\,0123456789:=!<>PxdswZz-", max_size=30),
       text=st.text(alphabet="ab-0.", max_size=200))
def test_any_pattern_is_either_refused_or_matches(pattern: str, text: str) -> None:
    problem = regex_problem(pattern)
    if problem is None:
        assert search(pattern, text) in (True, False)
    else:
        with pytest.raises(RegexError):
            compile_regex(pattern)
