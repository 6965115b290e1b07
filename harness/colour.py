"""Colour for diff lines on a terminal: on for a terminal, off with ``NO_COLOR`` (any non-empty value),
forced with ``FORCE_COLOR`` (any value but empty or ``0``) when ``NO_COLOR`` is not set; never in a pipe
or CI log otherwise (https://no-color.org)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

_CODES = (("+++", "1"), ("---", "1"), ("@@", "36"), ("+", "32"), ("-", "31"))


def wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether lines written to ``stream`` get colour."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def diff_line(line: str) -> str:
    """``line`` of a unified diff in colour: additions green, removals red, hunks cyan, file names bold."""
    for prefix, code in _CODES:
        if line.startswith(prefix):
            return f"\x1b[{code}m{line}\x1b[0m"
    return line
