"""Clean coverage verdicts remembered across processes, keyed by everything the coverage check reads.

The descriptor coverage gate (``renderer.api.coverage_gate``) runs before every render of a new process:
~20-50 ms for each CLI call, pre-commit hook and xdist worker, for a verdict that changes only when the
descriptors or the template tree's names change. The check reads the names and kinds of the template
root's entries (never their contents) and the descriptor directory, so the key is a SHA-256 over both
roots, every template-root entry name and kind (``TemplateTree.signature``), and every descriptor-root
path with its bytes. Only a clean verdict is remembered (an empty marker file in the private cache folder,
:mod:`harness.cache_dir`); a failing one is worked out, and worded, every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from harness.cache_dir import cache_folder
from renderer.templatetree import TemplateTree, strict_walk

FOLDER = "coverage-clean"


def coverage_key(tree: TemplateTree, descriptor_root: Path) -> str | None:
    """The digest of everything the coverage verdict depends on; None when a descriptor cannot be read
    (the check itself then reports it)."""
    digest = hashlib.sha256()
    digest.update(repr((str(tree.root), str(descriptor_root), tree.signature())).encode())
    try:
        for folder, dirs, files in strict_walk(descriptor_root):
            dirs.sort()
            for name in sorted(files) + dirs:
                path = os.path.join(folder, name)
                digest.update(f"\0{os.path.relpath(path, descriptor_root)}\0".encode())
                if name in files:
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    except OSError:
        return None
    return digest.hexdigest()


def known_clean(key: str) -> bool:
    """Whether a clean verdict was remembered for ``key``."""
    folder = cache_folder(FOLDER)
    return folder is not None and (folder / key).is_file()


def remember_clean(key: str) -> None:
    """Remember a clean verdict (best effort: no cache means checking again next time)."""
    folder = cache_folder(FOLDER)
    if folder is not None:
        with contextlib.suppress(OSError):
            (folder / key).touch()
