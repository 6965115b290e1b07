"""Which files of a repository end up in a Flux source artifact (source-controller's exclusion rules).

source-controller packs a GitRepository without the files its default patterns name (VCS files, CI
configuration, some binary extensions, ``.sops.yaml``, ``.flux.yaml``, ``.goreleaser.yml``) and without
the files that any ``.sourceignore`` in the tree excludes, with ``.gitignore`` semantics: the last matching
pattern wins, ``!`` re-includes, a trailing ``/`` matches directories only, a pattern with a ``/`` before
its end is anchored to the directory of its ``.sourceignore``, ``**`` spans directories. A file inside an
excluded directory is excluded. Files kustomize-controller never sees cannot be part of a generated
kustomization, so :mod:`harness.policy.fluxbuild` asks this module before listing a file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import InputError
from harness.safe_read import read_regular

SOURCEIGNORE = ".sourceignore"
# source-controller's defaults (storage.go): excludeVCS, excludeExt, excludeCI, excludeExtra.
DEFAULT_PATTERNS = (
    ".git/", ".gitignore", ".gitmodules", ".gitattributes",
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
    ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml", "cloudbuild.yaml",
    "codeship-services.yml", "codeship-steps.yml",
    "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
)


@dataclass(frozen=True)
class Pattern:
    """One gitignore-style pattern, scoped to the directory (root-relative, '' for the root) it was read in."""

    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    domain: str


@lru_cache(maxsize=512)
def _translate(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[":
            end = glob.find("]", i + 1)
            if end < 0:
                out.append(re.escape(glob[i]))
                i += 1
            else:
                body = glob[i + 1:end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def parse_pattern(line: str, domain: str = "") -> Pattern | None:
    """A pattern from one line of a ``.sourceignore`` (None for blanks and comments)."""
    text = line.rstrip("\n").rstrip()
    if not text or text.startswith("#"):
        return None
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    if text.startswith("\\"):
        text = text[1:]
    dir_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text
    body = _translate(text.lstrip("/"))
    regex = re.compile(("" if anchored else "(?:.*/)?") + body + "$")
    return Pattern(regex, negate, dir_only, domain)


class IgnoreMatcher:
    """Exclusion rules for one source root: defaults plus every ``.sourceignore`` below it."""

    def __init__(self, root: Path, *, defaults: bool = True) -> None:
        self.root = root
        self.patterns: list[Pattern] = []
        if defaults:
            self.patterns += [p for p in (parse_pattern(x) for x in DEFAULT_PATTERNS) if p is not None]
        for current, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            if SOURCEIGNORE in files:
                domain = Path(current).relative_to(root).as_posix()
                domain = "" if domain == "." else domain
                try:  # a FIFO or device named .sourceignore is never read (it would block or never end)
                    text = read_regular(Path(current) / SOURCEIGNORE).decode("utf-8", errors="replace")
                except InputError:
                    continue
                self.patterns += [p for p in (parse_pattern(x, domain) for x in text.splitlines()) if p is not None]

    def _match(self, rel: str, is_dir: bool) -> bool:
        excluded = False
        for pattern in self.patterns:
            if pattern.dir_only and not is_dir:
                continue
            if pattern.domain:
                if not rel.startswith(pattern.domain + "/"):
                    continue
                local = rel[len(pattern.domain) + 1:]
            else:
                local = rel
            if pattern.regex.match(local):
                excluded = not pattern.negate
        return excluded

    def ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether a root-relative POSIX path (or any directory above it) is left out of the artifact."""
        parts = rel.strip("/").split("/")
        for depth in range(1, len(parts)):
            if self._match("/".join(parts[:depth]), True):
                return True
        return self._match("/".join(parts), is_dir)
