"""Where a checked directory sits: the repository root, how paths are shown, and which URLs are this repository.

- The repository root is ``--repo-root`` / ``repo_root`` when given, else the nearest ancestor with
  ``.git``. Without either, an ``<root>/applications/overlays/<cluster>`` directory (the bundled layout)
  gives ``<root>``; anything else is its own root.
- Findings name files relative to the repository root when one was found or given, else relative to the
  checked directory.
- A directory of the bundled layout (``applications/overlays/<cluster>``) is checked with the bundled
  project's overlay contract on top of Flux's rules (see :mod:`harness.policy.model`).
- Git URLs compare by host and path (``ssh://git@host/org/repo.git``, ``git@host:org/repo``,
  ``https://host/org/repo`` are one repository).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SCP_URL = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.+)$", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """``host/path`` of a Git URL, lower-case host, without ``.git`` and trailing slashes ('' if not a URL)."""
    text = url.strip()
    match = _URL.match(text) or _SCP_URL.match(text)
    if not match:
        return ""
    host, path = match.group(1).lower(), match.group(2).strip("/")
    path = path.removesuffix(".git").strip("/")
    return f"{host}/{path}" if path else ""


def find_git_root(start: Path) -> Path | None:
    """The nearest ancestor of ``start`` (itself included) that has a ``.git`` entry."""
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def is_bundled_overlay(tree: Path) -> bool:
    """``.../applications/overlays/<cluster>``: a cluster overlay of the bundled project's layout."""
    return tree.parent.name == "overlays" and tree.parent.parent.name == "applications"


@dataclass(frozen=True)
class RepoLayout:
    """The checked directory (``tree``), the repository root Flux paths resolve against, and display rules."""

    tree: Path
    root: Path
    root_known: bool  # found (.git) or given, so findings are shown repository-relative
    bundled: bool

    @classmethod
    def locate(cls, tree: Path, repo_root: Path | None = None) -> RepoLayout:
        """The layout of ``tree`` (resolved) with an optional explicit repository root."""
        tree = tree.resolve()
        bundled = is_bundled_overlay(tree)
        if repo_root is not None:
            return cls(tree, repo_root.resolve(), True, bundled)
        git_root = find_git_root(tree)
        if git_root is not None:
            return cls(tree, git_root, True, bundled)
        if bundled:
            return cls(tree, tree.parent.parent.parent, False, bundled)
        return cls(tree, tree, False, bundled)

    @property
    def display_root(self) -> Path:
        """Findings are relative to this directory."""
        return self.root if self.root_known else self.tree

    def display(self, path: Path) -> str:
        """A path as findings show it (POSIX, relative to :attr:`display_root` when below it)."""
        resolved = path.resolve()
        try:
            rel = resolved.relative_to(self.display_root).as_posix()
        except ValueError:
            return resolved.as_posix()
        return rel or "."

    def with_bootstrap_root(self) -> RepoLayout:
        """Without ``.git`` or a given root (an exported tarball), the root implied by the bootstrap files in the
        tree: ``<root>/<spec.path>/flux-system/gotk-sync.yaml`` whose Kustomization's path is ``<spec.path>``."""
        if self.root_known or self.bundled:
            return self
        from harness.errors import InputError
        from harness.yamlio import load_file

        for sync in sorted(self.tree.glob("**/flux-system/gotk-sync.yaml"))[:50]:
            try:
                docs = load_file(sync)
            except InputError:
                continue
            for doc in docs:
                spec = doc.get("spec") if isinstance(doc, dict) else None
                if not (isinstance(doc, dict) and doc.get("kind") == "Kustomization" and isinstance(spec, dict)
                        and isinstance(spec.get("path"), str)):
                    continue
                parts = [p for p in spec["path"].strip().strip("/").split("/") if p not in ("", ".")]
                cluster_dir = sync.parent.parent.resolve()
                if not parts:
                    root = cluster_dir
                elif list(cluster_dir.parts[-len(parts):]) == parts:
                    root = Path(*cluster_dir.parts[:-len(parts)])
                else:
                    continue
                if root == self.tree or root in self.tree.parents:
                    return RepoLayout(self.tree, root, True, self.bundled)
        return self

    def tree_prefix(self) -> str:
        """The checked directory relative to the display root ('' when they are the same)."""
        shown = self.display(self.tree)
        return "" if shown == "." else shown
