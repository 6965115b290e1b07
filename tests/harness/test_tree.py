"""Safe tree walking and ownership classification."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.tree import Ownership, _all_clean, _bad_path, classify, list_files, read_file, walk_tree
from tests.harness.conftest import OVERLAY, write_tree


@pytest.mark.parametrize(("path", "owner"), [
    ("kustomization.yaml", Ownership.OWNED),
    (".sops.yaml", Ownership.OWNED),
    ("services/harbor/override-values.yaml", Ownership.OWNED),
    ("services/.hidden", Ownership.OWNED),
    ("managed-services/alert-proxy/kustomization.yaml", Ownership.OWNED),
    ("customer-managed/sources/repo.yaml", Ownership.OWNED),
    ("flux-system/gotk-sync.yaml", Ownership.BOOTSTRAP),
    ("flux-system/kustomization.yaml", Ownership.BOOTSTRAP),
    ("README.md", Ownership.OTHER),
    ("kustomization.yml", Ownership.OTHER),
    ("services", Ownership.OTHER),  # a file named like an owned directory is not owned
    ("docs/services/x.yaml", Ownership.OTHER),
    ("servicesx/a.yaml", Ownership.OTHER),
])
def test_classify(path: str, owner: Ownership) -> None:
    assert classify(path) is owner


def test_walk_lists_sorted_posix_paths_by_owner(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", OVERLAY)
    listing = walk_tree(root, max_file_bytes=10_000)
    assert "services/fluxcd/harbor.yaml" in listing.owned
    assert list(listing.owned) == sorted(listing.owned)
    assert ".sops.yaml" in listing.owned
    assert "kustomization.yaml" in listing.owned
    assert listing.bootstrap == ("flux-system/gotk-sync.yaml",)
    assert listing.other == ("README.md",)
    assert all("\\" not in p and not p.startswith("/") for p in listing.owned)
    assert listing.sizes["kustomization.yaml"] == len(OVERLAY["kustomization.yaml"])
    assert listing.to_dict()["other"] == ["README.md"]


def test_missing_and_non_directory_roots(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        walk_tree(tmp_path / "nope", max_file_bytes=10)
    assert info.value.code == "FILE-MISSING"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError) as info:
        walk_tree(tmp_path / "file", max_file_bytes=10)
    assert info.value.code == "FILE-MISSING"
    assert "not a directory" in info.value.message


@pytest.mark.parametrize("target_is_dir", [False, True])
def test_symlink_anywhere_is_refused_and_named(tmp_path: Path, target_is_dir: bool) -> None:
    root = write_tree(tmp_path / "k8s-dev", {"services/a.yaml": "a: 1\n", "elsewhere/b.yaml": "b: 1\n"})
    target = root / ("elsewhere" if target_is_dir else "elsewhere/b.yaml")
    (root / "services" / "link").symlink_to(target, target_is_directory=target_is_dir)
    with pytest.raises(InputError) as info:
        walk_tree(root, max_file_bytes=100, display="fixture:k8s-dev")
    assert info.value.code == "FILE-SYMLINK"
    assert "fixture:k8s-dev/services/link" in info.value.one_line()


def test_symlinked_root_is_refused(tmp_path: Path) -> None:
    real = write_tree(tmp_path / "real", {"services/a.yaml": "a: 1\n"})
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    with pytest.raises(InputError) as info:
        walk_tree(tmp_path / "link", max_file_bytes=100)
    assert info.value.code == "FILE-SYMLINK"


def test_dangling_symlink_in_bootstrap_is_refused_too(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", {"flux-system/a.yaml": "a: 1\n"})
    (root / "flux-system" / "gone").symlink_to(tmp_path / "does-not-exist")
    with pytest.raises(InputError) as info:
        walk_tree(root, max_file_bytes=100)
    assert info.value.code == "FILE-SYMLINK"


def test_size_limit_applies_to_owned_files_only(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", {"README.md": "x" * 500, "flux-system/big.yaml": "y" * 500,
                                             "services/small.yaml": "a: 1\n"})
    assert walk_tree(root, max_file_bytes=100).owned == ("services/small.yaml",)
    (root / "services" / "big.yaml").write_text("z" * 101)
    with pytest.raises(InputError) as info:
        walk_tree(root, max_file_bytes=100)
    assert info.value.code == "FILE-TOO-LARGE"
    assert "services/big.yaml" in info.value.one_line()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_special_files_are_refused(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", {"services/a.yaml": "a: 1\n"})
    os.mkfifo(root / "services" / "pipe")
    with pytest.raises(InputError) as info:
        walk_tree(root, max_file_bytes=100)
    assert info.value.code == "FILE-SPECIAL"


def test_read_file_rechecks(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", {"services/a.yaml": "a: 1\n"})
    assert read_file(root, "services/a.yaml", max_file_bytes=100) == b"a: 1\n"
    with pytest.raises(InputError) as info:
        read_file(root, "services/a.yaml", max_file_bytes=3)
    assert info.value.code == "FILE-TOO-LARGE"
    with pytest.raises(InputError) as info:
        read_file(root, "services/gone.yaml", max_file_bytes=100)
    assert info.value.code == "FILE-MISSING"
    (root / "services" / "link.yaml").symlink_to(root / "services" / "a.yaml")
    with pytest.raises(InputError) as info:
        read_file(root, "services/link.yaml", max_file_bytes=100)
    assert info.value.code == "FILE-SYMLINK"


# ------------------------------------------------------------------------------------ in-memory trees

def test_in_memory_listing_equals_the_walk_of_the_same_tree(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", OVERLAY)
    files = {rel: text if isinstance(text, bytes) else text.encode() for rel, text in OVERLAY.items()}
    walked = walk_tree(root, max_file_bytes=10_000, display="rendered:k8s-dev")
    listed = list_files(files, max_file_bytes=10_000, display="rendered:k8s-dev")
    assert listed == walked
    assert listed.sizes == walked.sizes


@pytest.mark.parametrize(("path", "problem"), [
    ("/etc/passwd", "is not a relative POSIX path"),
    ("services\\app\\x.yaml", "is not a relative POSIX path"),
    ("services/../../escape.yaml", "has an empty, '.' or '..' segment"),
    ("services//x.yaml", "has an empty, '.' or '..' segment"),
    ("services/./x.yaml", "has an empty, '.' or '..' segment"),
    ("", "is not a non-empty string"),
])
def test_in_memory_paths_a_directory_could_not_hold_are_renderer_invalid(path: str, problem: str) -> None:
    with pytest.raises(InputError) as info:
        list_files({path: b"x: 1\n"}, max_file_bytes=100, display="rendered:k8s-dev")
    assert info.value.code == "RENDERER-INVALID"
    assert problem in info.value.message
    assert info.value.one_line().startswith("rendered:k8s-dev: RENDERER-INVALID:")


def test_in_memory_file_that_is_also_a_directory_and_non_bytes_content() -> None:
    with pytest.raises(InputError) as info:
        list_files({"services/app": b"", "services/app/x.yaml": b""}, max_file_bytes=100, display="r")
    assert "'services/app' is both a file and a directory" in info.value.message
    with pytest.raises(InputError) as info:
        list_files({"services/app/x.yaml": "text"}, max_file_bytes=100, display="r")  # type: ignore[dict-item]
    assert "content that is not bytes" in info.value.message


def test_in_memory_owned_file_over_the_limit_is_too_large_but_others_are_listed() -> None:
    files = {"services/big.yaml": b"x" * 101, "README.md": b"x" * 500, "flux-system/gotk.yaml": b"x" * 500}
    assert list_files({k: v for k, v in files.items() if k != "services/big.yaml"},
                      max_file_bytes=100, display="r").other == ("README.md",)
    with pytest.raises(InputError) as info:
        list_files(files, max_file_bytes=100, display="rendered:k8s-dev")
    assert info.value.code == "FILE-TOO-LARGE"
    assert info.value.one_line().startswith("rendered:k8s-dev/services/big.yaml: FILE-TOO-LARGE:")


def test_read_file_reads_a_file_bigger_than_one_read_chunk_whole(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "t", {"services/a.yaml": "a: 1\n" * 20_000})
    assert read_file(root, "services/a.yaml", max_file_bytes=1 << 20) == b"a: 1\n" * 20_000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_read_file_refuses_a_fifo_swapped_in_after_the_walk_without_blocking(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "k8s-dev", {"services/a.yaml": "a: 1\n"})
    assert walk_tree(root, max_file_bytes=100, sizes=False).owned == ("services/a.yaml",)
    (root / "services" / "a.yaml").unlink()
    os.mkfifo(root / "services" / "a.yaml")  # no writer: a blocking open would hang here
    with pytest.raises(InputError) as info:
        read_file(root, "services/a.yaml", max_file_bytes=100)
    assert info.value.code == "FILE-SPECIAL"


@pytest.mark.parametrize("size", [0, 1, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 200_000, 200_001])
def test_read_file_at_chunk_and_limit_boundaries(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    root = write_tree(tmp_path / "t", {"services/a.bin": data})
    if size > 200_000:
        with pytest.raises(InputError) as info:
            read_file(root, "services/a.bin", max_file_bytes=200_000)
        assert info.value.code == "FILE-TOO-LARGE"
    else:
        assert read_file(root, "services/a.bin", max_file_bytes=200_000) == data
    assert read_file(root, "services/a.bin", max_file_bytes=size) == data  # exactly at the limit


_SEGMENTS = st.sampled_from(["services", "a.yaml", ".", "..", "", "x/", "/", "\\", "\x00", "b\nc", "\n", ".hidden"])


@given(st.lists(st.lists(_SEGMENTS, min_size=1, max_size=4).map("/".join), min_size=1, max_size=6))
def test_one_search_over_a_tree_clears_only_trees_whose_every_path_is_clean(paths: list[str]) -> None:
    files = {path: b"" for path in paths}
    if _all_clean(files):
        assert all(_bad_path(path) == "" for path in files)


@pytest.mark.parametrize("bad", ["/etc/passwd", "a\\b", "a\x00b", "", ".", "..", "./a", "../a", "a/.", "a/..", "a/",
                                 "a//b", "a/./b", "a/../b", "a/.\n", "/"])
def test_one_search_flags_each_kind_of_bad_path_anywhere_in_the_tree(bad: str) -> None:
    assert _bad_path(bad) != ""
    for files in ({bad: b""}, {"services/a.yaml": b"", bad: b""}, {bad: b"", "services/z.yaml": b""}):
        assert not _all_clean(files)
    assert _all_clean({"services/a.yaml": b"", ".sops.yaml": b"", "services/..x/.y": b""})
