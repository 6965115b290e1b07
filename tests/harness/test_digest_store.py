"""Answers remembered across processes (harness.digest_store): round trips through the private cache folder,
per code stamp; damaged, oversized, linked or special store files are never trusted or followed."""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import digest_store
from harness.digest_store import DIGEST_BYTES, DigestStore, ShardedStore, code_stamp, digest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(root))
    return root


def _make_folder() -> None:
    """Create the store's private folder (as a first flush does), with another stamp's file."""
    store = DigestStore("answers", "first")
    store.add(digest(b"first"))
    store.flush()


def test_a_lookup_creates_nothing(cache: Path) -> None:
    store = DigestStore("answers", "s")
    assert digest(b"k") not in store
    store.flush()
    assert not cache.exists()
    store.add(digest(b"k"))
    store.flush()
    assert (cache / "answers" / "s.bin").is_file()


def test_digest_is_length_prefixed() -> None:
    assert len(digest(b"a")) == DIGEST_BYTES
    assert digest(b"ab", b"c") != digest(b"a", b"bc")
    assert digest(b"x", b"") != digest(b"x")


def test_answers_survive_into_a_new_store_of_the_same_stamp(cache: Path) -> None:
    first = DigestStore("answers", "stamp-1")
    assert first.get(digest(b"k")) is None
    first.add(digest(b"k"), b"rule-a\nrule-b")
    first.add(digest(b"plain"))
    assert first.get(digest(b"k")) == b"rule-a\nrule-b"  # known at once in this process
    first.flush()
    second = DigestStore("answers", "stamp-1")
    assert second.get(digest(b"k")) == b"rule-a\nrule-b"
    assert digest(b"plain") in second
    assert digest(b"other") not in second
    folder = cache / "answers"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "stamp-1.bin").stat().st_mode & 0o777) == "0o600"


def test_another_code_stamp_knows_nothing_and_clears_the_old_file(cache: Path) -> None:
    old = DigestStore("answers", "old-code")
    old.add(digest(b"k"))
    old.flush()
    assert (cache / "answers" / "old-code.bin").exists()
    new = DigestStore("answers", lambda: "new-code")
    assert digest(b"k") not in new
    assert not (cache / "answers" / "old-code.bin").exists()


def test_a_damaged_tail_is_ignored_and_the_rest_kept(cache: Path) -> None:
    store = DigestStore("answers", "s")
    store.add(digest(b"one"), b"v")
    store.flush()
    with open(cache / "answers" / "s.bin", "ab") as handle:
        handle.write(digest(b"two") + b"\x00\x09short")  # a value of 9 bytes cut after 5
    again = DigestStore("answers", "s")
    assert again.get(digest(b"one")) == b"v"
    assert digest(b"two") not in again


def _two_records(cache: Path, damage: Callable[[bytearray], None]) -> Path:
    """A store file of two records ("one", "two"), then damaged in place by ``damage``."""
    store = DigestStore("answers", "s")
    store.add(digest(b"one"), b"first value")
    store.add(digest(b"two"), b"second value")
    store.flush()
    path = cache / "answers" / "s.bin"
    data = bytearray(path.read_bytes())
    damage(data)
    path.write_bytes(bytes(data))
    return path


def _flip(word: bytes) -> Callable[[bytearray], None]:
    def damage(data: bytearray) -> None:
        data[data.index(word)] ^= 0x20  # one letter's case: bytes that were never written

    return damage


def test_a_torn_record_makes_the_file_untrusted(cache: Path) -> None:
    """A record whose CRC does not match (two writers' appends interleaved where appends are not atomic) is
    never served, and once it is found nothing else read from the file is: the file starts afresh."""
    path = _two_records(cache, _flip(b"second"))
    again = DigestStore("answers", "s")
    assert again.get(digest(b"two")) is None
    assert again.get(digest(b"one")) is None
    assert not path.exists()


def test_an_oversized_store_starts_afresh(cache: Path) -> None:
    store = DigestStore("answers", "s")
    for n in range(20):
        store.add(digest(str(n).encode()))
    store.flush()
    small = DigestStore("answers", "s", max_bytes=100)
    assert digest(b"1") not in small
    assert not (cache / "answers" / "s.bin").exists()


def test_caching_off_reads_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", "off")
    store = DigestStore("answers", "s")
    store.add(digest(b"k"))
    assert digest(b"k") in store  # still known within the process
    store.flush()
    assert digest(b"k") not in DigestStore("answers", "s")


def test_a_symlinked_store_file_is_neither_read_nor_written_through(cache: Path, tmp_path: Path) -> None:
    _make_folder()
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(digest(b"k") + b"\x00\x00")
    (cache / "answers" / "s.bin").symlink_to(target)
    store = DigestStore("answers", "s")
    assert digest(b"k") not in store
    store.add(digest(b"new"))
    store.flush()
    assert target.read_bytes() == digest(b"k") + b"\x00\x00"


def test_a_fifo_in_place_of_the_store_does_not_hang(cache: Path) -> None:
    _make_folder()
    os.mkfifo(cache / "answers" / "s.bin")
    started = time.monotonic()
    store = DigestStore("answers", "s")
    assert digest(b"k") not in store
    store.add(digest(b"x"))
    store.flush()
    assert time.monotonic() - started < 5


def test_a_directory_in_place_of_the_store_is_neither_read_nor_removed(cache: Path) -> None:
    _make_folder()
    (cache / "answers" / "s.bin").mkdir()
    store = DigestStore("answers", "s")
    assert digest(b"k") not in store
    store.add(digest(b"k"))
    store.flush()
    assert (cache / "answers" / "s.bin").is_dir()


def test_a_shared_cache_root_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "shared"
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(root))
    store = DigestStore("answers", "s")
    store.add(digest(b"k"))
    store.flush()
    assert not (root / "answers").exists()


def _forget_listings() -> None:
    """A new process: no stamp and no package listing remembered in memory."""
    code_stamp.cache_clear()
    digest_store._package_files.cache_clear()


def test_code_stamp_follows_the_source_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """The stamp follows the content of the code, not where or when it was checked out; the contents are
    hashed once per listing of sizes and modification times (remembered in the cache)."""
    package = tmp_path / "stamped_pkg"
    package.mkdir()
    module = package / "__init__.py"
    module.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("stamped_pkg")

    try:
        before = code_stamp("stamped_pkg")
        assert code_stamp("stamped_pkg") == before
        _forget_listings()
        assert code_stamp("stamped_pkg") == before  # nothing changed
        os.utime(module, ns=(1, 1))  # the same code, checked out again (another modification time)
        _forget_listings()
        assert code_stamp("stamped_pkg") == before
        assert code_stamp("stamped_pkg", libraries=("ruamel.yaml", "jinja2")) != before  # another library set
        module.write_text("X = 22\n")
        _forget_listings()
        assert code_stamp("stamped_pkg") != before
    finally:
        _forget_listings()
        sys.modules.pop("stamped_pkg", None)


def test_records_are_checked_when_asked_for(cache: Path) -> None:
    """Reading only indexes the file: an intact record is served even beside a damaged one, until the
    damaged one is asked for; then the file is untrusted, removed, and nothing read from it is served (what
    this process added itself still is)."""
    path = _two_records(cache, _flip(b"first"))
    again = DigestStore("answers", "s")
    again.add(digest(b"mine"), b"added here")
    assert again.get(digest(b"two")) == b"second value"
    assert again.get(digest(b"one")) is None
    assert not path.exists()
    assert again.get(digest(b"two")) is None
    assert again.get(digest(b"mine")) == b"added here"


def test_a_damaged_length_never_serves_a_misread_record(cache: Path) -> None:
    """A length field torn so that the records after it are read out of step: nothing after it is served
    as another digest's value."""

    def shorten(data: bytearray) -> None:
        data[17] = 3  # the first record's length: 11 -> 3

    _two_records(cache, shorten)
    again = DigestStore("answers", "s")
    assert again.get(digest(b"one")) is None
    assert again.get(digest(b"two")) is None


def test_a_sharded_store_keeps_each_shard_in_its_own_file(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each shard (a cluster) is a file of its own; a later process asking about one shard reads only its
    file; switching shards writes the one before; another code stamp's files go, as for a plain store."""
    read: list[str] = []
    records = digest_store._Records.read

    def counted(path: Path, max_bytes: int) -> digest_store._Records:
        read.append(path.name)
        return records(path, max_bytes)

    monkeypatch.setattr(digest_store._Records, "read", counted)
    store = ShardedStore("answers", "s")
    store.shard("k8s-dev").add(digest(b"dev"), b"dev value")
    store.shard("k8s-prod").add(digest(b"prod"), b"prod value")  # the dev shard is written now
    assert len(list((cache / "answers").glob("s-*.bin"))) == 1
    store.flush()
    files = sorted((cache / "answers").glob("s-*.bin"))
    assert len(files) == 2
    read.clear()
    later = ShardedStore("answers", "s")
    assert later.shard("k8s-prod").get(digest(b"prod")) == b"prod value"
    assert later.shard("k8s-prod").get(digest(b"dev")) is None  # another shard's answer
    assert len(read) == 1
    assert later.shard("k8s-dev").get(digest(b"dev")) == b"dev value"
    digest_store._CLEARED.clear()  # a new process of new code
    ShardedStore("answers", "t").shard("k8s-dev").get(digest(b"dev"))
    assert list((cache / "answers").glob("*.bin")) == []


def test_a_sharded_store_is_bounded_in_files(cache: Path) -> None:
    store = ShardedStore("answers", "s", max_shards=3)
    for n in range(5):
        store.shard(f"cluster-{n}").add(digest(b"k"), b"v")
    store.flush()
    assert len(list((cache / "answers").glob("*.bin"))) == 5
    ShardedStore("answers", "s", max_shards=3).shard("cluster-0").get(digest(b"k"))
    assert list((cache / "answers").glob("*.bin")) == []  # past the bound: emptied, worked out again
