"""The file walk: which files a scan reads (fixture globs, directories given, the whole repository), and
scanning them with names shown relative to the project root."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.findings import Finding
from harness.secrets.model import CHECK, HINTS
from harness.secrets.prefilter import prefilter
from harness.secrets.scan import scan_bytes

if TYPE_CHECKING:
    from harness.globs import GlobSet

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                       ".pytest_cache", ".tox", ".hypothesis"})
"""Directories never walked (tool caches and environments, not fixtures); a file in one can still be named."""
_CHUNK = 1 << 20
_OVERLAP = 4096


def _display(path: Path, root_abs: str) -> str:
    """``path`` relative to the (absolute) root when inside it, else as given; no filesystem calls."""
    absolute = os.path.abspath(path)
    if absolute.startswith(root_abs.rstrip(os.sep) + os.sep):
        return Path(absolute[len(root_abs.rstrip(os.sep)) + 1:]).as_posix()
    return str(path)


def _walk_files(directory: Path) -> Iterator[Path]:
    return map(Path, walk(str(directory)))


def walk(directory: str) -> Iterator[str]:
    """Every regular file under ``directory`` as a path string, names sorted per directory; symlinks and
    :data:`SKIP_DIRS` are skipped."""
    stack = [directory]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_file(follow_symlinks=False):
                    yield entry.path
                elif entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
                    stack.append(entry.path)


def fixture_files(root: Path, globs: Sequence[str]) -> list[Path]:
    """Files under ``root`` matching any of the gitignore-style ``globs`` (``testdata/**``), sorted.

    Only the literal leading directories of each glob are walked; :data:`SKIP_DIRS` and symlinks are
    skipped. Paths stay strings until the end (this lists every file of a fleet)."""
    from harness.globs import compile_pattern, has_magic

    starts: dict[Path, str] = {}  # walk root -> its path relative to ``root``, as a prefix
    for glob in (compile_pattern(g) for g in globs):
        parts = glob.pattern.strip("/").split("/")
        lead: list[str] = []
        if glob.anchored:
            for part in parts[:-1]:
                if has_magic(part) or part == "**":
                    break
                lead.append(part)
        starts[root.joinpath(*lead)] = "".join(f"{part}/" for part in lead)
    matches = _fixture_globs(tuple(globs)).any_match
    found: set[str] = set()
    for start, prefix in sorted(starts.items()):
        if not start.is_dir() or start.is_symlink():
            continue
        cut = len(os.path.join(str(start), ""))
        found.update(path for path in walk(str(start)) if matches(prefix + path[cut:].replace(os.sep, "/")))
    return [Path(path) for path in sorted(found, key=lambda path: path.split(os.sep))]


def is_fixture(path: Path, root: Path, globs: Sequence[str]) -> bool:
    """Whether ``path`` (inside ``root``) matches one of the fixture ``globs`` (compiled once per glob list)."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False
    return _fixture_globs(tuple(globs)).any_match(rel)


@functools.lru_cache(maxsize=16)
def _fixture_globs(globs: tuple[str, ...]) -> GlobSet[str]:
    from harness.globs import compile_all

    return compile_all(globs)


def _prefilter_stream(path: Path) -> bool:
    """Pre-filter a file too large to scan whole, chunk by chunk (chunks overlap)."""
    tail = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                return False
            if prefilter(tail + chunk):
                return True
            tail = chunk[-_OVERLAP:]


def scan_file(path: Path, *, display: str | None = None, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Finding]:
    """Scan one file (symlinks are not followed: they hold no material themselves)."""
    name = display or str(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise InputError("FILE-MISSING", "file does not exist", file=name, hint="check the path") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        return []
    if info.st_size > max_file_bytes:
        if not _prefilter_stream(path):
            return []
        return [Finding(code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                        message=f"file is {info.st_size} bytes, over max_file_bytes ({max_file_bytes}), and its "
                                "pre-filter matched: it may hold key material or a Secret",
                        hint=HINTS["SECRET-UNSCANNABLE"])]
    return scan_bytes(path.read_bytes(), name)


def scan_paths(paths: Iterable[Path], *, root: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Finding]:
    """Scan files and directories (walked recursively, :data:`SKIP_DIRS` and symlinks skipped); names are
    shown relative to ``root`` when inside it. A missing path is a FILE-MISSING input error. Each key is
    reported once per file and key path (its fingerprint identifies it across encodings)."""
    findings: list[Finding] = []
    root_abs = os.path.abspath(root)
    for given in paths:
        path = Path(given)
        try:
            mode = os.lstat(path).st_mode  # one call: a fleet's fixture_files come through here
        except OSError:
            raise InputError("FILE-MISSING", "path does not exist", file=str(path), hint="check the path") from None
        if stat.S_ISLNK(mode):
            continue
        files: Iterable[Path] = _walk_files(path) if stat.S_ISDIR(mode) else [path]
        for file in files:
            findings.extend(scan_file(file, display=_display(file, root_abs), max_file_bytes=max_file_bytes))
    return sorted(findings, key=lambda f: (f.path, f.line, f.code, f.extra.get("key_path", "")))
