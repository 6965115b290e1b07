"""Verdicts remembered across processes, keyed by content digests, in the private cache folder.

Some answers are pure functions of bytes and of the code that computes them: "this text parses as YAML",
"these two files are equal as data under these rules", "this template renders these bytes for these
values". A fleet asks the same questions on every run, in every process (each CLI call, pre-commit hook,
xdist worker and ``check --jobs`` worker). A :class:`DigestStore` keeps such answers in one append-only
file per store and per *code stamp* (:func:`code_stamp`: the content of every source file of the packages
that compute the answer, and the Python and library versions), so an answer is never taken from other code.

The file is a sequence of records: a 16-byte BLAKE2b digest of everything the answer depends on, a
2-byte length, a value (often empty) and a CRC-32 of the three. It lives in ``<cache root>/<name>/``
(:mod:`harness.cache_dir`: a private directory of the current user, never a symlink), is read once per
process on first use and appended to with one ``O_APPEND`` write per :meth:`DigestStore.flush`, so
concurrent processes add records without locking. Reading indexes the records by digest without copying
or checking them (a 6 MB store of rendered outputs: 4 ms, not 26 ms); a record's CRC is checked when its
digest is first asked for. A tail still being written (or cut short) is ignored; a record whose CRC does
not match (a write torn by another writer, where appends are not atomic) makes the whole file untrusted
and it is started afresh, as is a file over ``max_bytes``. Only answers that need no
wording are stored: a failing answer is always worked out again, so its message is exact. With caching
switched off (``OVERLAY_PARITY_CACHE_DIR=off``) nothing is read or written and every answer is worked out.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import os
import stat
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

from harness.cache_dir import cache_folder, cache_root, empty_past, read_cache_file, write_cache_file

DIGEST_BYTES = 16
_HEADER = DIGEST_BYTES + 2
_CHECK = 4  # CRC-32 of the record, after it
_MAX_VALUE = 0xFFFF


def digest(*parts: bytes) -> bytes:
    """The 16-byte BLAKE2b digest of ``parts``, each length-prefixed (so no two part lists collide by
    concatenation)."""
    h = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


@functools.cache
def code_stamp(*packages: str, libraries: tuple[str, ...] = ("ruamel.yaml",)) -> str:
    """A short digest of the code that computes an answer: the Python version, the versions of
    ``libraries`` (imported to read them: the YAML library by default, which every answer parses with; the
    renderer's answers add the template library), and the relative path and content of every ``.py`` file
    (and ``.json`` schema) of ``packages`` (imported package names). Edited code or another version gets
    another stamp, hence other store files; the same code in another checkout or on another machine gets the
    same one, so a restored cache directory (a CI cache) serves a fresh clone. The contents are hashed once
    per set of file sizes and modification times (remembered in the ``code-stamps`` cache folder, like
    Python's own byte-code check)."""
    versions = sys.version + "".join(
        f"\0{library}={getattr(importlib.import_module(library), '__version__', '')}" for library in libraries)
    files: list[tuple[str, str]] = []  # (path, relative name)
    listing = hashlib.sha256(versions.encode())
    for package in packages:
        top, entries = _package_files(package)
        listing.update(f"\0{package}:{top}".encode())
        for path, relative, size, mtime in entries:
            files.append((path, relative))
            listing.update(f"\0{relative}:{size}:{mtime}".encode())
    known = listing.hexdigest()[:32]
    stamps = cache_folder(_STAMPS, create=False)
    if stamps is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            remembered: str = (stamps / known).read_text(encoding="ascii").strip()
            if len(remembered) == 32 and all(c in "0123456789abcdef" for c in remembered):
                return remembered
    content = hashlib.sha256(versions.encode())
    for path, relative in files:
        with open(path, "rb") as handle:
            content.update(f"\0{relative}\0".encode() + hashlib.sha256(handle.read()).digest())
    stamp = content.hexdigest()[:32]
    stamps = cache_folder(_STAMPS)
    if stamps is not None:
        empty_past(stamps, 256)  # one small file per checkout and edit
        write_cache_file(stamps / known, stamp)
    return stamp


_STAMPS = "code-stamps"


@functools.cache
def _package_files(package: str) -> tuple[str, list[tuple[str, str, int, int]]]:
    """The folder of an imported package and its code files: (path, ``package/relative``, size, mtime),
    listed once per process."""
    module = sys.modules.get(package)
    top = os.path.dirname(getattr(module, "__file__", None) or "")
    entries: list[tuple[str, str, int, int]] = []
    for root, dirs, names in os.walk(top or os.devnull):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        inside = f"{package}/{root[len(top) + 1:]}/" if root != top else f"{package}/"
        for name in sorted(names):
            if name.endswith((".py", ".json")):  # the code and the schemas it validates with
                path = os.path.join(root, name)
                info = os.stat(path)
                entries.append((path, inside + name, info.st_size, info.st_mtime_ns))
    return top, entries


class DigestStore:
    """Answers by digest, remembered across processes (see the module docstring); thread-safe. ``stamp`` (or
    a function giving it, called on first use) names the code version, usually :func:`code_stamp`."""

    def __init__(self, name: str, stamp: str | Callable[[], str], *, max_bytes: int = 16 << 20,
                 part: str = "") -> None:
        self.name = name
        self.stamp = stamp
        self.max_bytes = max_bytes
        self.part = part  # a shard's file name suffix (:class:`ShardedStore`)
        self._table: dict[bytes, bytes] | None = None  # answers checked or added in this process
        self._records = _Records.EMPTY  # the store file as read, checked record by record on first use
        self._pending: list[bytes] = []
        self._stamp: str | None = None  # set on first use when caching is on
        self._folder: Path | None = None
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        """The value remembered for ``key`` (``b""`` for a plain member), None when unknown."""
        table = self._table if self._table is not None else self._load()
        value = table.get(key)
        if value is None and key in self._records.offsets:
            value = self._checked(key)
        return value

    def enabled(self) -> bool:
        """Whether answers are kept across processes (caching is on); loads the store on first use."""
        if self._table is None:
            self._load()
        return self._stamp is not None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.get(key) is not None

    def add(self, key: bytes, value: bytes = b"") -> None:
        """Remember ``value`` for ``key`` (written at the next :meth:`flush`; values over 64 KiB are not kept)."""
        if len(key) != DIGEST_BYTES or len(value) > _MAX_VALUE:
            return
        record = key + len(value).to_bytes(2, "big") + value
        if self.get(key) == value:
            return
        table = self._table if self._table is not None else self._load()
        with self._lock:
            table[key] = value
            if self._stamp is not None:
                self._pending.append(record + zlib.crc32(record).to_bytes(_CHECK, "big"))

    def flush(self) -> None:
        """Append the records added since the last flush (one write; best effort, never raises). The cache
        folder is created only now, when there is something to keep."""
        with self._lock:
            records, self._pending = self._pending, []
            stamp = self._stamp
        if not records or stamp is None:
            return
        if self._folder is None:
            self._folder = cache_folder(self.name)  # checked (private, ours) once per process
        folder = self._folder
        if folder is None:
            return
        with contextlib.suppress(OSError):
            fd = os.open(folder / self._file(stamp), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                         | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):  # never into a FIFO or device put in its place
                    os.write(fd, b"".join(records))
            finally:
                os.close(fd)

    def _checked(self, key: bytes) -> bytes | None:
        """The value of ``key``'s record in the file read, once its CRC is checked; a damaged record makes
        the whole file untrusted: it is removed and nothing read from it is served any more."""
        with self._lock:
            table = self._table if self._table is not None else {}
            records = self._records
            at = records.offsets.get(key)
            if at is None:
                return table.get(key)
            value = records.checked(at)
            if value is None:
                self._records = _Records.EMPTY
                self._table = {k: v for k, v in table.items() if k not in records.offsets}
                with contextlib.suppress(OSError):
                    os.unlink(records.path)
                return None
            table[key] = value
            return value

    def _load(self) -> dict[bytes, bytes]:
        with self._lock:
            if self._table is not None:
                return self._table
            self._table = {}
            if not _caching():
                return self._table  # caching off: answers live in this process only
            self._stamp = self.stamp if isinstance(self.stamp, str) else self.stamp()
            folder = cache_folder(self.name, create=False)  # reading creates nothing
            if folder is not None:
                self._records = _Records.read(folder / self._file(self._stamp), self.max_bytes)
                if not self._records.offsets:
                    _remove_other_stamps(folder, self._stamp)
            return self._table

    def _file(self, stamp: str) -> str:
        return f"{stamp}-{self.part}.bin" if self.part else f"{stamp}.bin"


def _caching() -> bool:
    """Whether answers may be kept across processes: a cache directory is named and the platform has user ids
    (:mod:`harness.cache_dir` checks the folders themselves)."""
    return cache_root() is not None and hasattr(os, "getuid")


class _Records:
    """A store file as read: its bytes and the offset of each digest's (last) record, not yet checked."""

    EMPTY: _Records

    def __init__(self, path: Path, data: bytes, offsets: dict[bytes, int]) -> None:
        self.path = path
        self.data = data
        self.offsets = offsets

    @classmethod
    def read(cls, path: Path, max_bytes: int) -> _Records:
        """The records of a store file (none when it is missing, unreadable, not a regular file of ours or
        over ``max_bytes``, which is then removed so it starts afresh); a tail still being written (or cut
        short) is ignored."""
        data = read_cache_file(path, max_bytes)
        if data is None:
            return cls.EMPTY
        offsets: dict[bytes, int] = {}
        at, end = 0, len(data)
        while at + _HEADER <= end:
            stop = _value_end(data, at) + _CHECK
            if stop > end:
                break
            offsets[data[at:at + DIGEST_BYTES]] = at
            at = stop
        return cls(path, data, offsets)

    def checked(self, at: int) -> bytes | None:
        """The value of the record at ``at``, None when its CRC does not match (a torn write)."""
        data = self.data
        stop = _value_end(data, at)
        if zlib.crc32(data[at:stop]) != int.from_bytes(data[stop:stop + _CHECK], "big"):
            return None
        return data[at + _HEADER:stop]


def _value_end(data: bytes, at: int) -> int:
    """Where the value of the record at ``at`` ends (its CRC follows): the header, then the length it gives."""
    return at + _HEADER + (data[at + DIGEST_BYTES] << 8 | data[at + DIGEST_BYTES + 1])


_Records.EMPTY = _Records(Path(os.devnull), b"", {})


def _remove_other_stamps(folder: Path, stamp: str) -> None:
    """Delete the files of other code stamps (older code; best effort), once per folder and process: a
    sharded store asks for every shard it starts."""
    if (str(folder), stamp) in _CLEARED:
        return
    _CLEARED.add((str(folder), stamp))
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".bin") and entry.name != f"{stamp}.bin" and not entry.name.startswith(f"{stamp}-"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


_CLEARED: set[tuple[str, str]] = set()


class ShardedStore:
    """A :class:`DigestStore` per shard (a cluster), each in a file of its own (``<stamp>-<shard digest>.bin``)
    in the store's folder: a run that asks about one cluster reads that cluster's answers only, whatever the
    size of the fleet, and no single file outgrows its bound as the fleet grows. Only the shard in use is
    held in memory (:meth:`shard` flushes and lets go of the one before); answers several shards share are
    kept in each. The folder holds at most ``max_shards`` files (it is emptied past that, once per process)."""

    def __init__(self, name: str, stamp: str | Callable[[], str], *, max_bytes: int = 4 << 20,
                 max_shards: int = 16384) -> None:
        self.name = name
        self.stamp = stamp
        self.max_bytes = max_bytes
        self.max_shards = max_shards
        self._current: tuple[str, DigestStore] | None = None
        self._bounded = False
        self._lock = threading.Lock()

    def shard(self, label: str) -> DigestStore:
        """The store of shard ``label`` (the one before it is flushed and let go)."""
        with self._lock:
            current = self._current
            if current is not None and current[0] == label:
                return current[1]
            store = DigestStore(self.name, self.stamp, max_bytes=self.max_bytes,
                                part=digest(b"shard", label.encode("utf-8", "surrogateescape"))[:10].hex())
            self._current = (label, store)
        if current is not None:
            current[1].flush()
        if not self._bounded and store.enabled():
            self._bounded = True
            folder = cache_folder(self.name, create=False)
            if folder is not None:
                empty_past(folder, self.max_shards)
        return store

    def enabled(self) -> bool:
        """Whether answers are kept across processes (caching is on)."""
        return _caching()

    def flush(self) -> None:
        """Write what the shard in use has not written yet."""
        current = self._current
        if current is not None:
            current[1].flush()
