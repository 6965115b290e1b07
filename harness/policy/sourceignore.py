"""Which files of a repository end up in a Flux source artifact (source-controller's exclusion rules).

source-controller packs a GitRepository without the files its default patterns name (VCS files, CI
configuration, some binary extensions, ``.sops.yaml``, ``.flux.yaml``, ``.goreleaser.yml``) and without
the files that any ``.sourceignore`` in the tree excludes, with ``.gitignore`` semantics (:mod:`harness.globs`): the
last matching pattern wins, ``!`` re-includes, a trailing ``/`` names a directory, a pattern with a ``/``
before its end is anchored to the directory of its ``.sourceignore``, ``**`` spans directories, and a
pattern naming a directory covers every file below it. Files kustomize-controller never sees cannot be
part of a generated kustomization, so :mod:`harness.policy.fluxbuild` asks this module before listing a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.globs import Glob, GlobError, compile_pattern

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
    """One ``.sourceignore`` line: a gitignore-style glob, negated or not, scoped to the directory
    (root-relative, '' for the root) of the file it was read from."""

    glob: Glob
    negate: bool
    domain: str


def parse_pattern(line: str, domain: str = "") -> Pattern | None:
    """A pattern from one line of a ``.sourceignore`` (None for blanks, comments and malformed globs)."""
    text = line.rstrip("\n").rstrip()
    if not text or text.startswith("#"):
        return None
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    if text.startswith("\\"):
        text = text[1:]
    try:
        return Pattern(compile_pattern(text), negate, domain)
    except GlobError:
        return None


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
                try:
                    text = (Path(current) / SOURCEIGNORE).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                self.patterns += [p for p in (parse_pattern(x, domain) for x in text.splitlines()) if p is not None]

    def ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether a root-relative POSIX path is left out of the artifact (the last matching pattern decides;
        a pattern naming a directory covers everything below it)."""
        path = rel.strip("/")
        if is_dir:
            path += "/."  # a directory is excluded when a file directly in it would be
        excluded = False
        for pattern in self.patterns:
            if pattern.domain:
                if not path.startswith(pattern.domain + "/"):
                    continue
                local = path[len(pattern.domain) + 1:]
            else:
                local = path
            if pattern.glob.match(local) or (is_dir and pattern.glob.match(local[:-2])):
                excluded = not pattern.negate
        return excluded
