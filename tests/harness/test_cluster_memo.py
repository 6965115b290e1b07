"""Clean comparisons remembered across processes (harness.cluster_memo): a replay gives exactly the full
comparison's result, and any change of the oracle tree (even one that keeps sizes and modification times),
of a rendered file, of the rules or of the limits is compared in full."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness import clean_replay, cluster_memo, file_compare, parity
from harness.cluster_result import ClusterResult
from harness.digest_store import DigestStore
from harness.inventory import Inventory, parse_inventory
from harness.parity import compare_cluster
from tests.harness.conftest import OVERLAY, PLANTED_SECRET, inventory_text, rule, write_tree

LIMIT = 1_000_000
STAMPED = "managed-services/alert-proxy/kustomization.yaml"
STAMP_RULE = rule("rendered-at", "yaml_remove", "/kustomization.yaml",
                  pointers=["/metadata/annotations/example.io~1rendered-at"])
RULES = inventory_text(STAMP_RULE + "\n" + rule("notes", "ignore_fixture", "**/NOTES.md"))
STAMP_LINE = "  annotations:\n    example.io/rendered-at: '{}'\n"


def _with_stamp(text: str, when: str) -> str:
    """The root kustomization with a render-time annotation (a value the renderer changes on every run)."""
    return text.replace("kind: Kustomization\n", "kind: Kustomization\nmetadata:\n  name: root\n"
                        + STAMP_LINE.format(when), 1)


@pytest.fixture
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DigestStore:
    """Caching on, in a fresh store of its own; every file counts as old enough to stamp."""
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    store = DigestStore("clean-clusters", "test-code")
    monkeypatch.setattr(cluster_memo, "CLEAN", store)
    monkeypatch.setattr(file_compare, "KNOWN_EQUAL", DigestStore("equal-pairs", "test-code"))
    monkeypatch.setattr(cluster_memo, "RACY_NS", -60_000_000_000)
    return store


@pytest.fixture
def trees(tmp_path: Path) -> tuple[dict[str, bytes], Path]:
    """(an in-memory render, its oracle tree): equal but for the render time of the root kustomization."""
    files = {path: (text.encode() if isinstance(text, str) else text) for path, text in OVERLAY.items()}
    root = files["kustomization.yaml"].decode()
    oracle = dict(files, **{"kustomization.yaml": _with_stamp(root, "2026-01-01T00:00:00Z").encode(),
                            "services/harbor/NOTES.md": b"operator notes\n"})
    files["kustomization.yaml"] = _with_stamp(root, "2026-12-07T06:00:00Z").encode()
    return files, write_tree(tmp_path / "fixture" / "k8s-dev", oracle)


def run(files: dict[str, bytes] | Path, oracle: Path, inventory: Inventory, *, limit: int = LIMIT) -> ClusterResult:
    return compare_cluster("k8s-dev", files, oracle, inventory.rules_for("k8s-dev"), max_file_bytes=limit)


def _count_full(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every full comparison (a replay makes none)."""
    calls: list[str] = []
    full = parity._compare_cluster

    def counted(cluster: str, *args: object, **kwargs: object) -> object:
        calls.append(cluster)
        return full(cluster, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parity, "_compare_cluster", counted)
    return calls


def test_a_clean_cluster_is_replayed_with_the_same_result(memo: DigestStore, trees: tuple[dict[str, bytes], Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    full = _count_full(monkeypatch)
    first = run(files, oracle, inventory)
    assert first.findings == []
    assert first.matched_rules == {"rendered-at", "notes"}
    assert first.parsed == 1
    assert first.ignored_fixture == 1
    assert full == ["k8s-dev"]
    again = inventory.rules_for("k8s-dev")
    second = compare_cluster("k8s-dev", files, oracle, again, max_file_bytes=LIMIT)
    assert full == ["k8s-dev"]  # replayed
    assert second.to_dict() == first.to_dict()
    assert again.matched == {"rendered-at", "notes"}  # marked on the rule set, as a full comparison does


def test_a_new_render_time_is_compared_again_and_still_replayed(
        memo: DigestStore, trees: tuple[dict[str, bytes], Path], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    first = run(files, oracle, inventory)
    full = _count_full(monkeypatch)
    later = dict(files, **{"kustomization.yaml": files["kustomization.yaml"].replace(b"06:00:00", b"07:30:00")})
    store = next((tmp_path / "cache" / "equal-pairs").glob("*.bin"))
    size = store.stat().st_size
    compared = _count(monkeypatch, "compare_contents")
    assert run(later, oracle, inventory).to_dict() == first.to_dict()
    assert full == []
    assert compared == []  # the new render time is removed by the rule: the data is the data found equal
    file_compare.KNOWN_EQUAL.flush()
    assert store.stat().st_size == size  # bytes that change on every run are not kept as "equal"
    # the render time of the oracle itself: now byte-identical, so the rule makes no difference
    same = dict(files, **{"kustomization.yaml": (oracle / "kustomization.yaml").read_bytes()})
    assert run(same, oracle, inventory).to_dict() == dict(first.to_dict(), byte_identical=first.byte_identical + 1,
                                                          parsed=0, matched_rules=["notes"])
    assert full == ["k8s-dev"]


def test_a_value_beside_the_removed_one_is_compared(memo: DigestStore, trees: tuple[dict[str, bytes], Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    assert run(files, oracle, inventory).ok
    compared = _count(monkeypatch, "compare_contents")
    moved = files["kustomization.yaml"].replace(b"name: root", b"name: root-2")
    result = run(dict(files, **{"kustomization.yaml": moved}), oracle, inventory)
    assert [(f.code, f.path) for f in result.findings] == [("PARITY-CONTENT", "kustomization.yaml")]
    assert compared  # the data changed beside the removed annotation: compared, not replayed


def _count(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Record every call of ``<name>`` made by the comparison or by a replay."""
    calls: list[str] = []
    original = getattr(parity, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(name)
        return original(*args, **kwargs)

    for module in (parity, clean_replay):
        monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize(("path", "old", "new"), [
    ("kustomization.yaml", b"./services/fluxcd", b"./services/fluxcd-other"),  # beside the removed annotation
    ("services/fluxcd/harbor.yaml", b"interval: 5m", b"interval: 9m"),  # a byte-identical file
])
def test_a_changed_render_is_compared_in_full(memo: DigestStore, trees: tuple[dict[str, bytes], Path], path: str,
                                              old: bytes, new: bytes) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    assert run(files, oracle, inventory).ok
    assert old in files[path]
    changed = dict(files, **{path: files[path].replace(old, new, 1)})
    result = run(changed, oracle, inventory)
    assert [(f.code, f.path) for f in result.findings] == [("PARITY-CONTENT", path)]


def test_an_oracle_edit_that_keeps_size_and_mtime_is_compared_in_full(memo: DigestStore,
                                                                      trees: tuple[dict[str, bytes], Path]) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    assert run(files, oracle, inventory).ok
    target = oracle / "services/fluxcd/harbor.yaml"
    before = target.stat()
    target.write_bytes(target.read_bytes().replace(b"interval: 5m", b"interval: 7m", 1))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as they were: ctime moved
    assert target.stat().st_size == before.st_size
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert [f.code for f in run(files, oracle, inventory).findings] == ["PARITY-CONTENT"]


def test_added_files_rules_and_limits_are_compared_in_full(memo: DigestStore, trees: tuple[dict[str, bytes], Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    assert run(files, oracle, inventory).ok
    full = _count_full(monkeypatch)
    assert not run(files, oracle, parse_inventory(inventory_text(STAMP_RULE), "canon.yaml")).ok  # NOTES.md unexplained
    assert len(full) == 1
    assert run(files, oracle, inventory, limit=LIMIT - 1).ok
    assert len(full) == 2
    (oracle / "services" / "extra.yaml").write_text("a: 1\n")
    assert [f.code for f in run(files, oracle, inventory).findings] == ["PARITY-MISSING"]
    assert len(full) == 3


def test_only_clean_results_are_kept_and_no_content(memo: DigestStore, trees: tuple[dict[str, bytes], Path],
                                                    tmp_path: Path) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    (oracle / "services/harbor/secret-notes.yaml").write_text(f"value: {PLANTED_SECRET}\n")
    assert not run(files, oracle, inventory).ok  # a finding: nothing kept
    assert not (tmp_path / "cache" / "clean-clusters").exists()
    files = dict(files, **{"services/harbor/secret-notes.yaml": f"value: {PLANTED_SECRET}\n".encode()})
    assert run(files, oracle, inventory).ok
    kept = b"".join(path.read_bytes() for path in (tmp_path / "cache").rglob("*.bin"))
    assert kept
    assert PLANTED_SECRET.encode() not in kept
    assert b"operator notes" not in kept


def test_nothing_is_kept_when_caching_is_off_or_the_tree_is_fresh(trees: tuple[dict[str, bytes], Path],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    monkeypatch.setattr(file_compare, "KNOWN_EQUAL", DigestStore("equal-pairs", "test-code"))
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", "off")
    monkeypatch.setattr(cluster_memo, "CLEAN", DigestStore("clean-clusters", "test-code"))
    full = _count_full(monkeypatch)
    run(files, oracle, inventory)
    run(files, oracle, inventory)
    assert len(full) == 2
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cluster_memo, "CLEAN", DigestStore("clean-clusters", "test-code"))
    run(files, oracle, inventory)  # files written just now: racily clean, never stamped
    run(files, oracle, inventory)
    assert len(full) == 4
    assert not (tmp_path / "cache" / "clean-clusters").exists()


def test_a_rendered_directory_is_always_compared(memo: DigestStore, trees: tuple[dict[str, bytes], Path],
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, oracle = trees
    rendered = write_tree(tmp_path / "rendered" / "k8s-dev", files)
    full = _count_full(monkeypatch)
    inventory = parse_inventory(RULES, "canon.yaml")
    assert run(rendered, oracle, inventory).ok
    assert run(rendered, oracle, inventory).ok
    assert len(full) == 2


def test_oracle_stamp(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", {"a.yaml": "a: 1\n", "d/b.yaml": "b: 2\n"})
    later = time.time_ns() + cluster_memo.RACY_NS + 1_000_000_000
    stamp = cluster_memo.oracle_stamp(str(root), now_ns=later)
    assert stamp is not None
    assert stamp == cluster_memo.oracle_stamp(str(root), now_ns=later)
    assert cluster_memo.oracle_stamp(str(root)) is None  # just written: racily clean
    (root / "d" / "b.yaml").write_text("b: 3\n")  # same size
    assert cluster_memo.oracle_stamp(str(root), now_ns=later + 10**9) not in (None, stamp)
    (root / "d" / "e").mkdir()
    empty_dir = cluster_memo.oracle_stamp(str(root), now_ns=later + 10**9)
    (root / "d" / "e").rmdir()
    assert empty_dir != cluster_memo.oracle_stamp(str(root), now_ns=later + 10**9)
    (root / "link.yaml").symlink_to(root / "a.yaml")
    assert cluster_memo.oracle_stamp(str(root), now_ns=later + 10**9) is None
    (root / "link.yaml").unlink()
    os.mkfifo(root / "pipe")
    assert cluster_memo.oracle_stamp(str(root), now_ns=later + 10**9) is None
    assert cluster_memo.oracle_stamp(str(tmp_path / "missing"), now_ns=later) is None


def test_records_round_trip_and_garbage_is_no_record() -> None:
    record = cluster_memo.CleanRecord(
        notes={"files_compared": 3}, base=frozenset({"a"}), rendered=b"\x01" * 16,
        volatile=(cluster_memo.Volatile("x.yaml", "y.yaml", ("r",), b"\x02" * 16, frozenset({"r"})),))
    assert cluster_memo.CleanRecord.from_bytes(record.to_bytes()) == record
    for garbage in (b"", b"[]", b"{}", b'{"notes": {}, "base": [], "rendered": "zz", "volatile": []}'):
        assert cluster_memo.CleanRecord.from_bytes(garbage) is None


def test_normalized_side_is_exact_data_after_the_rules() -> None:
    inventory = parse_inventory(RULES, "canon.yaml")
    stamp_rule = next(r for r in inventory.rules_for("k8s-dev").rules if r.id == "rendered-at")
    notes_rule = next(r for r in inventory.rules_for("k8s-dev").rules if r.id == "notes")
    text = _with_stamp("apiVersion: v1\nkind: Kustomization\nresources: [a.yaml]\n", "{}")
    first = cluster_memo.normalized_side(text.format("1").encode(), "a", [stamp_rule])
    second = cluster_memo.normalized_side(text.format("2").encode(), "a", [stamp_rule])
    assert first is not None
    assert second is not None
    assert first[0] == second[0]  # the removed value is gone from the data
    assert first[1]["rendered-at"] != second[1]["rendered-at"]  # what was removed differs
    quoted = cluster_memo.normalized_side(text.format("1").replace("[a.yaml]", "['a.yaml']").encode(), "a",
                                          [stamp_rule])
    assert quoted is not None
    assert quoted[0] == first[0]
    assert cluster_memo.normalized_side(text.format("1").replace("a.yaml", "b.yaml").encode(), "a",
                                        [stamp_rule])[0] != first[0]  # type: ignore[index]
    assert cluster_memo.normalized_side(b"a: [1\n", "a", [stamp_rule]) is None  # does not parse
    assert cluster_memo.normalized_side(text.format("1").encode(), "a", [notes_rule]) is None  # not yaml_remove
    assert cluster_memo.normalized_side(text.format("1").encode(), "a", []) is None


def test_the_check_replays_and_still_finds_an_edit_of_the_oracle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``overlay-parity check`` on the bundled fixture (real renderer, in memory): the second run replays every
    cluster; an edit of one oracle file that keeps its size and modification time is still found."""
    from harness.cli import main
    from tests.integration.test_bundled_fixture import copy_bundled, overlay

    root = copy_bundled(tmp_path / "project")
    monkeypatch.chdir(root)
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cluster_memo, "CLEAN", DigestStore("clean-clusters", "test-code"))
    monkeypatch.setattr(cluster_memo, "RACY_NS", -60_000_000_000)
    full = _count_full(monkeypatch)
    assert main(["check", "-j", "1"]) == 0
    first = capsys.readouterr().out
    compared = len(full)
    assert compared >= 3
    assert main(["check", "-j", "1"]) == 0
    assert len(full) == compared  # every cluster replayed
    assert capsys.readouterr().out.splitlines()[-1] == first.splitlines()[-1]
    target = overlay(root, "k8s-dev") / "services" / "fluxcd" / "calico.yaml"
    before = target.stat()
    data = target.read_bytes()
    assert b"interval: 5m" in data
    target.write_bytes(data.replace(b"interval: 5m", b"interval: 7m", 1))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as they were
    assert target.stat().st_size == before.st_size
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert main(["check", "-j", "1"]) == 1
    assert "PARITY-CONTENT" in capsys.readouterr().out
    assert len(full) == compared + 1  # that cluster alone compared in full


@pytest.mark.parametrize(("ctime_after_mtime", "stamped"), [(-1, False), (0, True), (1, True)])
def test_no_stamp_where_change_times_are_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  ctime_after_mtime: int, stamped: bool) -> None:
    """A file system whose change time is older than a file's modification time does not keep ctime as POSIX
    says: its times prove nothing, so the tree is compared in full."""
    root = write_tree(tmp_path / "tree", {"a.yaml": "a: 1\n"})
    later = time.time_ns() + cluster_memo.RACY_NS + 10**9
    info = (root / "a.yaml").lstat()
    fields = list(info)

    class Entry:
        name, path = "a.yaml", str(root / "a.yaml")

        def is_dir(self, *, follow_symlinks: bool) -> bool:
            return False

        def stat(self, *, follow_symlinks: bool) -> os.stat_result:
            return os.stat_result((*fields[:10],), {"st_mtime_ns": info.st_mtime_ns,
                                                     "st_ctime_ns": info.st_mtime_ns + ctime_after_mtime})

    class Listing(list[Entry]):
        def __enter__(self) -> Listing:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(os, "scandir", lambda path: Listing([Entry()]))
    assert (cluster_memo.oracle_stamp(str(root), now_ns=later) is not None) is stamped


def test_a_record_that_does_not_fit_is_compared_in_full(memo: DigestStore, trees: tuple[dict[str, bytes], Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files, oracle = trees
    inventory = parse_inventory(RULES, "canon.yaml")
    first = run(files, oracle, inventory)
    odd = cluster_memo.CleanRecord(notes={"files_compared": "many"}, base=frozenset(), rendered=b"",
                                   volatile=())
    monkeypatch.setattr(cluster_memo, "recall", lambda key: odd)
    monkeypatch.setattr(cluster_memo, "rendered_digest", lambda files, volatile=frozenset(): b"")
    full = _count_full(monkeypatch)
    assert run(files, oracle, inventory).to_dict() == first.to_dict()
    assert full == ["k8s-dev"]
