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

from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError
from harness.globs import Glob, GlobError, compile_pattern
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
    """Exclusion rules for one source root: defaults plus the ``.sourceignore`` files that govern a path.

    A ``.sourceignore`` only concerns paths below its directory, so each is read when a path below it is
    first asked about (memoized per directory): checking one cluster never walks the whole repository.
    """

    def __init__(self, root: Path, *, defaults: bool = True) -> None:
        self.root = root
        self.defaults: list[Pattern] = []
        if defaults:
            self.defaults = [p for p in (parse_pattern(x) for x in DEFAULT_PATTERNS) if p is not None]
        self._by_dir: dict[str, list[Pattern]] = {}

    def _patterns_in(self, domain: str) -> list[Pattern]:
        if domain not in self._by_dir:
            found: list[Pattern] = []
            path = self.root / domain / SOURCEIGNORE if domain else self.root / SOURCEIGNORE
            try:  # a FIFO or device named .sourceignore is never read (it would block or never end)
                if path.is_file() and not path.is_symlink():
                    text = read_regular(path).decode("utf-8", errors="replace")
                    found = [p for p in (parse_pattern(x, domain) for x in text.splitlines()) if p is not None]
            except (InputError, OSError):
                found = []
            self._by_dir[domain] = found
        return self._by_dir[domain]

    @property
    def patterns(self) -> list[Pattern]:
        """The default patterns and every ``.sourceignore`` read so far."""
        return [*self.defaults, *(p for patterns in self._by_dir.values() for p in patterns)]

    def ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether a root-relative POSIX path is left out of the artifact (the last matching pattern decides,
        deeper ``.sourceignore`` files after shallower ones; a pattern naming a directory covers everything
        below it)."""
        path = rel.strip("/")
        parts = path.split("/")
        domains = [""] + ["/".join(parts[:depth]) for depth in range(1, len(parts) if not is_dir else len(parts) + 1)]
        if is_dir:
            path += "/."  # a directory is excluded when a file directly in it would be
        excluded = False
        for pattern in [*self.defaults, *(p for d in domains for p in self._patterns_in(d))]:
            if pattern.domain:
                if not path.startswith(pattern.domain + "/"):
                    continue
                local = path[len(pattern.domain) + 1:]
            else:
                local = path
            if pattern.glob.match(local) or (is_dir and pattern.glob.match(local[:-2])):
                excluded = not pattern.negate
        return excluded
