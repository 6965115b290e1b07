"""Semantic versions (SemVer 2.0.0): the one parser and precedence key of the project.

``1.2.3``, ``1.0.0-rc.1``, ``1.0.0-alpha.beta+build.7``. Precedence follows semver.org §11: MAJOR,
MINOR and PATCH numerically; a pre-release sorts before its release; pre-release identifiers are
compared left to right, numeric ones numerically and below alphanumeric ones (compared as ASCII),
and a shorter list of equal identifiers sorts first; build metadata is ignored. Numeric identifiers
with a leading zero (``01``, ``1.0.0-01``) and empty identifiers are not semantic versions.

:data:`SEMVER_PATTERN` is the same grammar as a regular expression, for JSON Schemas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
SEMVER_PATTERN = (rf"^({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
                  rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?$")
_SEMVER = re.compile(SEMVER_PATTERN.replace("$", r"\Z"))

# An identifier's sort key: numeric ones (0, n) sort before alphanumeric ones (1, text).
Identifier = tuple[int, int | str]
SemverKey = tuple[int, int, int, int, tuple[Identifier, ...]]


@dataclass(frozen=True)
class Version:
    """A parsed semantic version."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def key(self) -> SemverKey:
        """The precedence key: compare keys to compare versions (build metadata is not part of it)."""
        identifiers = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre)
        return self.major, self.minor, self.patch, 0 if self.pre else 1, identifiers


def parse_semver(text: str) -> Version:
    """Parse a semantic version (surrounding blanks ignored); ValueError naming the text if malformed."""
    match = _SEMVER.match(text.strip())
    if not match:
        raise ValueError(f"not a semantic version: {text[:40]!r} (expected MAJOR.MINOR.PATCH, e.g. 1.2.0)")
    pre, build = match.group(4), match.group(5)
    return Version(int(match.group(1)), int(match.group(2)), int(match.group(3)),
                   tuple(pre.split(".")) if pre else (), tuple(build.split(".")) if build else ())


def semver_key(text: str) -> SemverKey:
    """Precedence key of a semantic version given as text; ValueError if malformed."""
    return parse_semver(text).key()


def is_semver(text: str) -> bool:
    """Whether ``text`` is a semantic version."""
    return _SEMVER.match(text.strip()) is not None
