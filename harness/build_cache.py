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
import tempfile
from pathlib import Path
from typing import Any

from harness.cache_dir import cache_folder
from harness.kustomize_refs import KUSTOMIZATION_FILES, has_remote, references

FORMAT = 1


def tool_fingerprint(tool: Path) -> str:
    """Identity of the kustomize binary (resolved path, size, modification time): a new install is a new cache."""
    resolved = tool.resolve()
    info = resolved.stat()
    return hashlib.sha256(f"{resolved}\0{info.st_size}\0{info.st_mtime_ns}\0{FORMAT}".encode()).hexdigest()[:24]


def _hash_tree(path: Path, digest: Any) -> None:
    for current, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = Path(current) / name
            digest.update(full.relative_to(path).as_posix().encode("utf-8", "surrogateescape") + b"\0")
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                digest.update(b"link:" + os.readlink(full).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(mode):
                digest.update(hashlib.sha256(full.read_bytes()).digest())
            else:  # a FIFO or device is never opened: reading one blocks or never ends
                digest.update(b"special:" + str(stat.S_IFMT(mode)).encode())


_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}
_UNREADABLE: dict[str, Any] = {}


def _kustomization(directory: Path) -> dict[str, Any] | None:
    """The parsed kustomization file of ``directory`` (memoized by path, size and modification time): None when
    there is none, :data:`_UNREADABLE` when it does not parse as a mapping."""
    from harness.errors import InputError
    from harness.yamlio import load_file

    for name in KUSTOMIZATION_FILES:
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
            except InputError:  # an unreadable kustomization: the build reports it; what is there is hashed
                docs = []
            first = docs[0] if docs else None
            _PARSED[memo] = first if isinstance(first, dict) else _UNREADABLE
        return _PARSED[memo]
    return None


def input_digest(directory: Path, wrapper: dict[str, Any] | None = None) -> str | None:
    """Digest of everything a build of ``directory`` reads (None when it reads something remote).

    ``wrapper`` is the wrapper kustomization of the build with absolute paths, or None.
    """
    directory = directory.resolve()
    digest = hashlib.sha256(b"overlay-parity-build\0")
    covered: list[Path] = []
    pending: list[Path] = [directory]

    def relative(path: Path) -> str:
        return os.path.relpath(path, directory)

    def inside_covered(path: Path) -> bool:
        return any(path == c or c in path.parents for c in covered)

    if wrapper is not None:
        text = json.dumps(wrapper, sort_keys=True)
        if has_remote(wrapper):
            return None
        for entry, _role in references(wrapper):
            if os.path.isabs(entry):
                text = text.replace(json.dumps(entry), json.dumps(relative(Path(entry))))
                pending.append(Path(entry))
        digest.update(b"wrapper\0" + text.encode("utf-8") + b"\0")
    while pending:
        path = pending.pop(0).resolve()
        if inside_covered(path):
            continue
        covered.append(path)
        digest.update(b"input\0" + relative(path).encode("utf-8", "surrogateescape") + b"\0")
        if path.is_dir():
            _hash_tree(path, digest)
            found = [path]
        elif path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
            continue
        else:
            digest.update(b"missing\0")
            continue
        for base in found:
            for current, dirs, _files in os.walk(base):
                dirs.sort()
                data = _kustomization(Path(current))
                if data is None:
                    continue
                if data is _UNREADABLE or has_remote(data):
                    return None  # what it reads cannot be told: never cached
                for entry, _role in references(data):
                    target = (Path(current) / entry).resolve()
                    if not inside_covered(target):
                        pending.append(target)
    return digest.hexdigest()


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
        try:
            handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(body, stream)
                os.replace(temp, self._path(key))
                self.stores += 1
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError:
            return
