"""Clean cluster comparisons remembered across processes, so an unchanged cluster is not compared again.

A comparison without findings is a pure function of the rendered files (paths and bytes), the oracle
tree's files (paths and bytes), the cluster's rules as written, the security kinds, the size limit and
the comparison code. :func:`remember` keeps its counts and matched rules in a :class:`DigestStore`
("clean-clusters", keyed by all of that); a comparison with any finding is never kept, so every finding
is worked out and worded each time.

The rendered side is hashed (it is in memory). The oracle side is known without reading it, as git's
index knows a work tree: by every entry's ``lstat`` (device, inode, mode, size, modification and change
times in nanoseconds; :func:`oracle_stamp`). Any write to a file changes its change time, which no
program can set back. A tree is stamped only when every file's times are at least :data:`RACY_NS` in the
past, so a file written again within one clock tick of its last write (with the same size) cannot keep
its stamp ("racily clean", as git calls it), and a result is kept only when the tree's stamp is the same
after the comparison as before it. A tree holding anything but directories and regular files (a symlink,
a FIFO), or that cannot be listed, gets no stamp: it is compared, and refused, as always. With caching
switched off (``OVERLAY_PARITY_CACHE_DIR=off``) nothing is remembered.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from harness.digest_store import DIGEST_BYTES, DigestStore, code_stamp, digest
from harness.errors import InputError

if TYPE_CHECKING:
    from harness.rules import Rule

RACY_NS = 2_000_000_000
"""How old (ns) every oracle file's modification and change times must be for its tree to be stamped."""

CLEAN = DigestStore("clean-clusters", lambda: code_stamp("harness"))
"""Clean comparisons: the digest of the oracle tree's stamp, the rules, the security kinds and the size
limit -> a :class:`CleanRecord` (JSON; no file content)."""


def oracle_stamp(root: str, *, now_ns: int | None = None) -> bytes | None:
    """A digest of the tree at ``root``: every entry's relative name and, for a file, its ``lstat`` identity
    and times, in listing order. None when anything is not a directory or regular file, a file was written
    less than :data:`RACY_NS` before ``now_ns`` (or is dated in the future), a file's change time is older
    than its modification time, or the tree cannot be listed."""
    limit = (time.time_ns() if now_ns is None else now_ns) - RACY_NS
    facts: list[object] = [root]
    stack = [(root, "")]
    try:
        while stack:
            directory, prefix = stack.pop()
            with os.scandir(directory) as listing:
                for entry in listing:
                    name = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, name + "/"))
                        facts.append(name)
                        continue
                    info = entry.stat(follow_symlinks=False)
                    # ctime < mtime: a file system that does not keep change times as POSIX says (Linux
                    # moves ctime with every write, mtime change and rename), so they prove nothing
                    if not stat.S_ISREG(info.st_mode) or info.st_mtime_ns > limit \
                            or not info.st_mtime_ns <= info.st_ctime_ns <= limit:
                        return None
                    facts.append((name, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino,
                                  info.st_dev))
    except OSError:
        return None
    return _exact_digest(facts)


class Volatile(NamedTuple):
    """A pair found equal as data though its bytes differ (see :class:`CleanRecord`)."""

    rendered_path: str
    fixture_path: str
    rule_ids: tuple[str, ...]
    rendered: bytes  # digest of the rendered bytes (:func:`file_digest`)
    effective: frozenset[str]
    normalized: bytes = b""  # the rendered side's :func:`normalized_side` digest (b"": none)
    fixture_removals: tuple[tuple[str, bytes], ...] = ()  # the fixture side's, per rule id
    fixture: bytes = b""  # digest of the fixture's bytes (new rendered bytes equal to them count otherwise)


def normalized_side(data: bytes, name: str, rules: Sequence[Rule]) -> tuple[bytes, dict[str, bytes]] | None:
    """One side of a pair after its ``yaml_remove`` rules: a digest of its documents as exact data (types,
    order and all: equal digests mean equal data, so the same comparison with the other side), and per rule
    a digest of what it removed (the comparison's "rules that made a difference" are those whose removals
    differ between the sides). None when a rule is of another kind, the side does not parse, or a value has
    no exact form."""
    if not rules or any(rule.kind != "yaml_remove" for rule in rules):
        return None
    from harness.rules.yaml_remove import remove_pointers
    from harness.yamlcompare import parse_private

    try:
        docs = parse_private(data, name)
        removals = remove_pointers(docs, rules)
        exact = _exact_digest(docs)
        removed = {rule.id: _exact_digest(sorted(removals.by_rule.get(rule.id, {}).items())) for rule in rules}
    except (InputError, ValueError, TypeError, RecursionError):
        return None
    return exact, removed


def file_digest(data: bytes) -> bytes:
    """The digest of one file's bytes."""
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).digest()


def _exact_digest(value: Any) -> bytes:
    """The digest of a value's exact form: marshal, one C call however large the value, keeps types and order
    (ValueError for a value it cannot write); its format is fixed per Python version, which names the store."""
    return file_digest(marshal.dumps(value))


@dataclass(frozen=True)
class CleanRecord:
    """What a clean comparison leaves for the next one with the same oracle tree, rules and limits.

    ``volatile`` lists the pairs whose bytes differed but which were equal as data under their normalizing
    rules: a render may stamp a time or another value the inventory removes, so their rendered bytes may
    change from run to run. Each is kept as :data:`Volatile`: its rendered and fixture paths, the ids of its
    normalizing rules, the digest of the rendered bytes it was found equal with and the ids of the rules
    that made a difference there. A volatile pair with other rendered bytes is compared again; the rest of
    the render must hash to ``rendered``. ``base`` holds the matched rule ids not owed to a volatile pair.
    """

    notes: dict[str, Any]
    base: frozenset[str]
    rendered: bytes
    volatile: tuple[Volatile, ...]

    def to_bytes(self) -> bytes:
        """JSON (no file content: names, counts and rule ids)."""
        volatile = [[v.rendered_path, v.fixture_path, v.rule_ids, v.rendered.hex(), sorted(v.effective),
                     v.normalized.hex(), [[rule, removed.hex()] for rule, removed in v.fixture_removals],
                     v.fixture.hex()]
                    for v in self.volatile]
        return json.dumps({"notes": self.notes, "base": sorted(self.base), "rendered": self.rendered.hex(),
                           "volatile": volatile}, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> CleanRecord | None:
        """The record in ``data``, None when it is not one."""
        try:
            raw = json.loads(data)
            return cls(notes=dict(raw["notes"]), base=frozenset(map(str, raw["base"])),
                       rendered=bytes.fromhex(raw["rendered"]),
                       volatile=tuple(Volatile(str(r), str(f), tuple(map(str, ids)), bytes.fromhex(d),
                                               frozenset(map(str, e)), bytes.fromhex(n),
                                               tuple((str(rule), bytes.fromhex(x)) for rule, x in removed),
                                               bytes.fromhex(fx))
                                      for r, f, ids, d, e, n, removed, fx in raw["volatile"]))
        except (ValueError, TypeError, KeyError):
            return None

    @property
    def volatile_paths(self) -> frozenset[str]:
        """The rendered paths of the volatile pairs."""
        return frozenset(v.rendered_path for v in self.volatile)


def rendered_digest(files: Mapping[str, bytes], volatile: frozenset[str] = frozenset()) -> bytes:
    """A digest of an in-memory render: every path with its bytes, in path order (only the path of a
    ``volatile`` one)."""
    return _exact_digest([(path, None if path in volatile else files[path]) for path in sorted(files)])


def memo_key(cluster: str, oracle: bytes, rules: bytes, security_kinds: tuple[str, ...] | None,
             max_file_bytes: int) -> bytes:
    """The digest of what a clean comparison depends on besides the render (checked against the record)
    and the code (which names the store)."""
    kinds = b"\0".join(kind.encode() for kind in security_kinds) if security_kinds is not None else b"\xff"
    return digest(b"clean-cluster-2", cluster.encode("utf-8", "surrogateescape"), oracle, rules, kinds,
                  str(max_file_bytes).encode())


def recall(key: bytes) -> CleanRecord | None:
    """The record kept for ``key``, None when unknown."""
    known = CLEAN.get(key)
    return CleanRecord.from_bytes(known) if known is not None else None


def remember(key: bytes, record: CleanRecord, restamp: Callable[[], bytes | None], stamp: bytes) -> None:
    """Keep ``record`` of a clean comparison under ``key`` when the oracle tree still has ``stamp``
    (``restamp()`` is taken after the comparison: a tree that changed meanwhile is not remembered)."""
    if restamp() == stamp:
        CLEAN.add(key, record.to_bytes())
    CLEAN.flush()
