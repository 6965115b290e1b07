"""Local checkouts for Flux sources that are not this repository (``[tool.overlay-parity.sources]``).

The mapping is ``URL = "path/to/checkout"``. A Kustomization into a mapped GitRepository is built against
the checkout at the ref the source pins: for a git checkout, a detached ``git worktree`` at ``ref.commit``,
``ref.tag`` or ``ref.name`` is added in a private temp directory and removed afterwards, so the user's
working tree, index and HEAD are never touched. A branch, a semver range or no ref builds the working
tree as it is (with a note saying so); a checkout that is not a git repository is always used as it is.
"""

from __future__ import annotations

import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.policy.repo import normalize_url
from harness.tools import tool_env

GIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Checkout:
    """Where a mapped source's files are, and a note about how they were chosen ('' when pinned exactly)."""

    root: Path
    note: str
    problem: str = ""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False,
                          timeout=GIT_TIMEOUT, env=tool_env())


def _pinned_ref(ref: dict[str, Any]) -> tuple[str, str]:
    """(git revision, what it is) for an exact pin; ('', description) otherwise."""
    for key, prefix in (("commit", ""), ("tag", "refs/tags/"), ("name", "")):
        value = ref.get(key)
        if isinstance(value, str) and value:
            return prefix + value, f"{key} {value}"
    if isinstance(ref.get("semver"), str):
        return "", f"semver {ref['semver']!r} (not resolved)"
    if isinstance(ref.get("branch"), str):
        return "", f"branch {ref['branch']!r}"
    return "", "no ref"


class Checkouts:
    """Resolves mapped sources to directories; worktrees live until :meth:`close`."""

    def __init__(self, mapping: dict[str, Path]) -> None:
        self.mapping = {normalize_url(url): path for url, path in mapping.items() if normalize_url(url)}
        self._stack = ExitStack()
        self._cache: dict[tuple[str, str], Checkout] = {}

    def close(self) -> None:
        """Remove every worktree added."""
        self._stack.close()

    def mapped(self, url: Any) -> Path | None:
        """The local checkout mapped to a source URL."""
        return self.mapping.get(normalize_url(url)) if isinstance(url, str) else None

    def resolve(self, source: dict[str, Any]) -> Checkout | None:
        """The directory a mapped source's paths resolve in (None when its URL is not mapped)."""
        spec = source.get("spec") if isinstance(source.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        checkout = self.mapped(spec.get("url"))
        if checkout is None:
            return None
        ref = spec.get("ref") if isinstance(spec.get("ref"), dict) else {}
        assert isinstance(ref, dict)
        revision, what = _pinned_ref(ref)
        key = (str(checkout), revision)
        if key not in self._cache:
            self._cache[key] = self._make(checkout, revision, what)
        return self._cache[key]

    def _make(self, checkout: Path, revision: str, what: str) -> Checkout:
        if not checkout.is_dir():
            return Checkout(checkout, "", problem=f"the mapped checkout {checkout} does not exist")
        inside = _git(checkout, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return Checkout(checkout, f"the mapped checkout is not a git repository; built as it is ({what})")
        if not revision:
            return Checkout(checkout, f"the source pins {what}; the mapped checkout's working tree is built")
        if _git(checkout, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode != 0:
            return Checkout(checkout, "", problem=f"the mapped checkout has no {what}")
        tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="overlay-parity-source-")))
        tree = tmp / "tree"
        added = _git(checkout, "worktree", "add", "--detach", "--quiet", str(tree), revision)
        if added.returncode != 0:
            return Checkout(checkout, "", problem=f"cannot check out {what} of the mapped checkout")
        self._stack.callback(_git, checkout, "worktree", "remove", "--force", str(tree))
        return Checkout(tree, "")
