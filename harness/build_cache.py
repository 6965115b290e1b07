"""A persistent cache of ``kubectl kustomize`` results, keyed by what decides them: every input file's content
and the tool.

A build's output depends on the files it reads and on kustomize itself, not on where the tree sits: two
clusters whose ``services/demo`` trees are byte-identical (with identical ``../sources`` next to them) build
identically. :func:`input_digest` hashes the build directory's tree, every file or directory its
kustomizations reference outside it (followed transitively, named by their path relative to the build
directory), and the wrapper kustomization (paths made relative); :class:`BuildCache` stores, under that
digest plus the tool's identity, the exit status and output of the build. A build that names a remote
resource is never cached (its input is not on disk).

Where the cache lives, and its safety rules, are those of the template cache: ``$OVERLAY_PARITY_CACHE_DIR``
when set (empty, ``0`` or ``off`` switch it off), else ``$XDG_CACHE_HOME/overlay-parity``, else
``~/.cache/overlay-parity``; the ``kustomize-<tool fingerprint>`` directory inside is created mode 0700 and
used only when it is a real directory owned by this user and writable by nobody else. Entries are written
atomically (temp file + rename) and carry a checksum: a corrupt, truncated or foreign entry is a miss and
is removed; a read-only or full disk only means building again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cache_dir import cache_folder, write_cache_file
from harness.kustomize_refs import KUSTOMIZATION_FILES, has_remote, references

FORMAT = 1


def tool_fingerprint(tool: Path) -> str:
    """Identity of the kustomize binary (resolved path, size, modification time): a new install is a new cache."""
    resolved = tool.resolve()
    info = resolved.stat()
    return hashlib.sha256(f"{resolved}\0{info.st_size}\0{info.st_mtime_ns}\0{FORMAT}".encode()).hexdigest()[:24]


def _hash_entry(full: str, mode: int, digest: Any) -> None:
    if stat.S_ISLNK(mode):
        digest.update(b"link:" + os.readlink(full).encode("utf-8", "surrogateescape"))
    elif stat.S_ISREG(mode):
        with open(full, "rb") as stream:
            digest.update(hashlib.sha256(stream.read()).digest())
    else:  # a FIFO or device is never opened: reading one blocks or never ends
        digest.update(b"special:" + str(stat.S_IFMT(mode)).encode())


_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}
_UNREADABLE: dict[str, Any] = {}


def _kustomization(directory: Path, names: Collection[str] = KUSTOMIZATION_FILES) -> dict[str, Any] | None:
    """The parsed kustomization file of ``directory`` (memoized by path, size and modification time): None when
    there is none, :data:`_UNREADABLE` when it does not parse as a mapping. ``names``: the directory's entries
    when known (a file not among them is not looked for)."""
    from harness.errors import InputError
    from harness.yamlio import load_file

    for name in KUSTOMIZATION_FILES:
        if name not in names:
            continue
        candidate = directory / name
        try:
            info = candidate.stat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        memo = (str(candidate), info.st_size, info.st_mtime_ns)
        if memo not in _PARSED:
            try:
                docs = load_file(candidate)
            except InputError:  # an unreadable kustomization: the build reads it; what is there is hashed
                docs = []
            first = docs[0] if docs else None
            _PARSED[memo] = first if isinstance(first, dict) else _UNREADABLE
        return _PARSED[memo]
    return None


@dataclass(frozen=True)
class _Tree:
    """One directory as builds read it: a digest of every name and content below it, and what the kustomizations
    below it reference (resolved, in walk order; None when one of them is unreadable or remote)."""

    digest: bytes
    references: tuple[str, ...] | None


class InputDigests:
    """:func:`input_digest` with what it reads memoized: every directory is walked, every file hashed, every
    kustomization parsed and every path resolved at most once per instance.

    An instance treats the files as unchanged while it lives (one policy run judges one snapshot of a
    repository); :meth:`forget` drops what it knows below a directory (a rendered tree that was removed).
    ``walks`` and ``reads`` count directories listed and files hashed (scaling tests assert on them).
    """

    def __init__(self) -> None:
        self._real: dict[str, str] = {}
        self._trees: dict[str, _Tree] = {}
        self._digests: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()
        self.walks = 0
        self.reads = 0

    def forget(self, directory: Path) -> None:
        """Forget every path and tree at or below ``directory``, and every digest."""
        tops = {os.path.abspath(directory), os.path.realpath(directory)}

        def gone(path: str) -> bool:
            return any(path == top or path.startswith(top.rstrip("/") + "/") for top in tops)

        with self._lock:
            for key in [k for k, v in self._real.items() if gone(k) or gone(v)]:
                del self._real[key]
            for key in [k for k in self._trees if gone(k)]:
                del self._trees[key]
            self._digests.clear()

    def realpath(self, path: str) -> str:
        """``os.path.realpath`` with every resolved prefix remembered (one ``lstat`` per path component per run)."""
        full = path if os.path.isabs(path) else os.path.join(os.getcwd(), path)
        known = self._real.get(full)
        if known is not None:
            return known
        result = "/"
        for part in full.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                result = os.path.dirname(result)
                continue
            child = os.path.join(result, part)
            resolved = self._real.get(child)
            if resolved is None:
                try:
                    link = stat.S_ISLNK(os.lstat(child).st_mode)
                except OSError:
                    link = False
                resolved = os.path.realpath(child) if link else child
                self._real[child] = resolved
            result = resolved
        self._real[full] = result
        return result

    def digest(self, directory: Path, wrapper: dict[str, Any] | None = None) -> str | None:
        """:func:`input_digest` of ``directory`` and ``wrapper``, computed once per instance."""
        key = (str(directory), "" if wrapper is None else json.dumps(wrapper, sort_keys=True))
        if key in self._digests:
            return self._digests[key]
        value = self._compute(self.realpath(str(directory)), wrapper)
        self._digests[key] = value
        return value

    def _compute(self, directory: str, wrapper: dict[str, Any] | None) -> str | None:
        digest = hashlib.sha256(b"overlay-parity-build\0")
        covered: list[str] = []
        pending: list[str] = [directory]

        def inside_covered(path: str) -> bool:
            return any(path == c or path.startswith(c.rstrip("/") + "/") for c in covered)

        if wrapper is not None:
            text = json.dumps(wrapper, sort_keys=True)
            if has_remote(wrapper):
                return None
            for entry, _role in references(wrapper):
                if os.path.isabs(entry):
                    text = text.replace(json.dumps(entry), json.dumps(os.path.relpath(entry, directory)))
                    pending.append(entry)
            digest.update(b"wrapper\0" + text.encode("utf-8") + b"\0")
        while pending:
            path = self.realpath(pending.pop(0))
            if inside_covered(path):
                continue
            covered.append(path)
            digest.update(b"input\0" + os.path.relpath(path, directory).encode("utf-8", "surrogateescape") + b"\0")
            if os.path.isdir(path):
                tree = self._tree(path)
                if tree.references is None:
                    return None  # what it reads cannot be told: never cached
                digest.update(tree.digest)
                pending.extend(t for t in tree.references if not inside_covered(t))
            elif os.path.isfile(path):
                with self._lock:
                    self.reads += 1
                with open(path, "rb") as stream:
                    digest.update(hashlib.sha256(stream.read()).digest())
            else:
                digest.update(b"missing\0")
        return digest.hexdigest()

    def _tree(self, path: str) -> _Tree:
        """The digest and references of the directory ``path`` (resolved), from its subdirectories' trees."""
        known = self._trees.get(path)
        if known is not None:
            return known
        with self._lock:
            self.walks += 1
        digest = hashlib.sha256(b"tree\0")
        found: list[str] = []
        unreadable = False
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            entries = []
        data = _kustomization(Path(path), {e.name for e in entries})
        if data is _UNREADABLE or (data is not None and has_remote(data)):
            unreadable = True
        elif data is not None:
            found += [self.realpath(os.path.join(path, entry)) for entry, _role in references(data)]
        subdirs = []
        for entry in entries:
            name = entry.name.encode("utf-8", "surrogateescape")
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry)
                continue
            with self._lock:
                self.reads += 1
            digest.update(b"file\0" + name + b"\0")
            _hash_entry(entry.path, entry.stat(follow_symlinks=False).st_mode, digest)
        for entry in subdirs:
            sub = self._tree(entry.path)
            digest.update(b"dir\0" + entry.name.encode("utf-8", "surrogateescape") + b"\0" + sub.digest)
            if sub.references is None:
                unreadable = True
            else:
                found += sub.references
        tree = _Tree(digest.digest(), None if unreadable else tuple(found))
        self._trees[path] = tree
        return tree


def input_digest(directory: Path, wrapper: dict[str, Any] | None = None) -> str | None:
    """Digest of everything a build of ``directory`` reads (None when it reads something remote).

    ``wrapper`` is the wrapper kustomization of the build with absolute paths, or None. Identical inputs
    give identical digests wherever they sit: every path in it is relative to ``directory``.
    """
    return InputDigests().digest(directory, wrapper)


class BuildCache:
    """Build results on disk, one JSON file per key (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.stores = 0

    @classmethod
    def for_tool(cls, tool: Path, environ: dict[str, str] | None = None) -> BuildCache | None:
        """The cache for this kustomize binary, or None when caching is off or no private directory can be made."""
        try:
            name = f"kustomize-{tool_fingerprint(tool)}"
        except OSError:
            return None
        folder = cache_folder(name, environ)
        if folder is None:
            return None
        return cls(folder)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry for ``key`` (a dict of JSON values), or None; a damaged entry is removed."""
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            entry = json.loads(raw)
            payload = entry["payload"]
            ok = (entry.get("format") == FORMAT and entry.get("key") == key and isinstance(payload, dict)
                  and entry.get("sha256") == hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest())
        except (ValueError, KeyError, TypeError, AttributeError):
            ok, payload = False, None
        if not ok:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        self.hits += 1
        return dict(payload)

    def put(self, key: str, payload: dict[str, Any]) -> None:
        """Store ``payload`` (JSON values) under ``key``, atomically; problems leave it unstored."""
        body = {"format": FORMAT, "key": key, "payload": payload,
                "sha256": hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()}
        if write_cache_file(self._path(key), json.dumps(body)):
            self.stores += 1
