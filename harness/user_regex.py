"""User-supplied regular expressions (``.sops.yaml`` and cluster-config ``path_regex``/``encrypted_regex``,
and any other pattern a user writes into a config): matched with RE2 (the ``google-re2`` wheel), whose
matching time is linear in the input, never with Python's backtracking ``re``; a pattern RE2 cannot
take is refused when it is loaded.

The rule has two parts, both in :func:`regex_problem`:

1. a scan for what Go's RE2 (the engine sops uses) refuses or reads differently from what the author
   meant (lookarounds, backreferences, possessive quantifiers, ``\\Z``, ``{,n}``, counts over 1000...),
   each with a message that says so;
2. compiling with ``google-re2`` (errors not logged, memory bounded): anything else it refuses.

:func:`compile_regex` then gives the compiled pattern (cached); :func:`search` is the one way to match.
Used by the renderer's trust policy and config schema, and by the policy gate's sops proof.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Protocol

import re2

MAX_PATTERN_LENGTH = 4096
"""Longest accepted pattern (characters)."""
MAX_PROGRAM_MEMORY = 8 << 20
"""RE2's memory budget for one compiled pattern (bytes); a bigger program is refused as too complex."""


class CompiledRegex(Protocol):
    """What a compiled RE2 pattern offers the callers here."""

    def search(self, text: str) -> Any:
        """A match object or None."""
        ...


class RegexError(ValueError):
    """A user-supplied pattern that RE2 cannot take; the message says why (it never repeats the pattern)."""


_INLINE_FLAGS_BOTH = set("ims")
_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")


def re2_problem(pattern: str) -> str | None:
    """Why Go's RE2 (as used by sops) would refuse or misread ``pattern``, or None.

    Scans the pattern text: lookarounds, backreferences, atomic groups, conditionals, possessive
    quantifiers, inline comments, Python-only flags and escapes, ``{,n}`` and repeat counts over 1000.
    """
    i = 0
    n = len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            esc = pattern[i + 1] if i + 1 < n else ""
            if esc and not in_class and esc in "123456789":
                return "uses a backreference"
            if esc == "g" and not in_class:
                return "uses a backreference (\\g<...>)"
            if esc == "Z":
                return "uses \\Z, which RE2 does not support (it spells end of text \\z; '$' works in both)"
            if esc in ("u", "U", "N"):
                return f"uses the \\{esc} escape, which RE2 does not support (use \\x{{...}})"
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith(":", i + 1):
                return "uses '[:' inside a character class, which Python and RE2 read differently"
            if c == "]":
                in_class = False
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 1
            if pattern.startswith("^", i):
                i += 1
            if pattern.startswith("]", i):
                i += 1
            continue
        if c == "(" and pattern.startswith("?", i + 1):
            problem = _group_problem(pattern[i + 2:])
            if problem:
                return problem
            i += 2
            continue
        if c in "*+?":
            if pattern.startswith("+", i + 1):
                return "uses a possessive quantifier"
            i += 1
            if pattern.startswith("?", i):  # lazy marker
                i += 1
            continue
        if c == "{":
            match = _REPEAT.match(pattern, i)
            if match:
                low, comma, high = match.groups()
                if not low and comma:
                    return "uses {,n}, which RE2 reads as literal text (write {0,n})"
                if any(int(v) > 1000 for v in (low, high) if v):
                    return "uses a repeat count over 1000, which RE2 refuses"
                i = match.end()
                if pattern.startswith("+", i):
                    return "uses a possessive quantifier"
                continue
        i += 1
    return None


def _group_problem(rest: str) -> str | None:
    if rest.startswith(("=", "!")):
        return "uses a lookahead"
    if rest.startswith(("<=", "<!")):
        return "uses a lookbehind"
    if rest.startswith(">"):
        return "uses an atomic group"
    if rest.startswith("("):
        return "uses a conditional group"
    if rest.startswith("P="):
        return "uses a named backreference"
    if rest.startswith("#"):
        return "uses an inline comment"
    if rest.startswith(("P<", "<", ":")):
        return None
    flags = re.match(r"[A-Za-z-]*", rest)
    letters = set(flags.group(0) if flags else "") - {"-"}
    if letters - _INLINE_FLAGS_BOTH:
        return "uses inline flags other than i, m and s, which RE2 does not support"
    return None


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not usable as a user-supplied regex (RE2 would refuse or misread it), or None."""
    if not isinstance(pattern, str):
        return "is not a string"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"is longer than {MAX_PATTERN_LENGTH} characters"
    problem = re2_problem(pattern)
    if problem is not None:
        return f"{problem}, which Go's RE2 (sops) cannot handle" if "RE2" not in problem else problem
    try:
        _compile(pattern)
    except re2.error as exc:
        return f"does not compile: {_reason(exc)}"
    return None


def compile_regex(pattern: str) -> CompiledRegex:
    """The RE2-compiled ``pattern``; :class:`RegexError` (with :func:`regex_problem`'s reason) otherwise."""
    problem = regex_problem(pattern)
    if problem is not None:
        raise RegexError(problem)
    return _compile(pattern)


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` (RE2 syntax, see :func:`compile_regex`) matches somewhere in ``text``."""
    return compile_regex(pattern).search(text) is not None


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> CompiledRegex:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own lines to stderr
    options.max_mem = MAX_PROGRAM_MEMORY
    compiled: CompiledRegex = re2.compile(pattern, options)
    return compiled


def _reason(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return text.split(":", 1)[0] or "invalid pattern"
