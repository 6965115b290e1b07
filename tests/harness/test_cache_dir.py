"""Reading and bounding cache files (harness.cache_dir): never through a link or into a FIFO, oversize files
removed, folders emptied past their bound, and a folder that cannot be listed is no error."""

from __future__ import annotations

import os
from pathlib import Path

from harness.cache_dir import empty_past, read_cache_file


def test_read_cache_file(tmp_path: Path) -> None:
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"x" * 10)
    assert read_cache_file(kept, 10) == b"x" * 10
    assert read_cache_file(tmp_path / "missing.bin", 10) is None
    link = tmp_path / "link.bin"
    link.symlink_to(kept)
    assert read_cache_file(link, 10) is None  # never through a link
    os.mkfifo(tmp_path / "fifo.bin")
    assert read_cache_file(tmp_path / "fifo.bin", 10) is None  # never blocks on a FIFO
    assert read_cache_file(tmp_path, 10) is None  # a directory
    assert read_cache_file(kept, 9) is None
    assert not kept.exists()  # oversize: removed, to start afresh


def test_empty_past(tmp_path: Path) -> None:
    for name in ("__jinja2_a", "__jinja2_b", "reads-c"):
        (tmp_path / name).write_text("x")
    empty_past(tmp_path, 2, prefix="__jinja2_")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["__jinja2_a", "__jinja2_b", "reads-c"]  # at the bound
    (tmp_path / "__jinja2_d").write_text("x")
    empty_past(tmp_path, 2, prefix="__jinja2_")
    assert [p.name for p in tmp_path.iterdir()] == ["reads-c"]  # past it: every matching entry, no other
    empty_past(tmp_path, 0)
    assert list(tmp_path.iterdir()) == []
    empty_past(tmp_path / "missing", 0)  # cannot be listed: nothing to do, no error
