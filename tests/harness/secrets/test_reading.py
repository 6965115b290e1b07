"""harness.secrets.reading: a regular file's bytes in one read; a symlink, directory, FIFO or socket is None
(never followed, never waited on); a missing file FILE-MISSING; an oversize file its size, unread."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.secrets.reading import read_regular


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    for data in (b"", b"a: 1\n", bytes(range(256)) * 1000):
        path.write_bytes(data)
        assert read_regular(str(path), "f.yaml", 1 << 20) == data


def test_an_oversize_file_is_its_size_and_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 101)
    assert read_regular(str(path), "big.bin", 100) == 101
    assert read_regular(str(path), "big.bin", 101) == b"x" * 101


def test_what_is_not_a_regular_file_is_none(tmp_path: Path) -> None:
    (tmp_path / "target.yaml").write_text("a: 1\n")
    (tmp_path / "link.yaml").symlink_to("target.yaml")
    (tmp_path / "dangling.yaml").symlink_to("nowhere.yaml")
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo.yaml")  # opened for reading with no writer: must not block
    for name in ("link.yaml", "dangling.yaml", "loop.yaml", "dir", "fifo.yaml"):
        assert read_regular(str(tmp_path / name), name, 1 << 20) is None, name


def test_a_socket_is_none(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    if len(str(path)) > 100:
        pytest.skip("socket path too long for AF_UNIX")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert read_regular(str(path), "s.sock", 1 << 20) is None


def test_a_missing_file_is_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError) as missing:
        read_regular(str(tmp_path / "gone.yaml"), "gone.yaml", 1 << 20)
    assert missing.value.code == "FILE-MISSING"
    assert missing.value.location is not None
    assert missing.value.location.file == "gone.yaml"


def test_a_path_through_a_file_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        read_regular(str(tmp_path / "file" / "inside.yaml"), "file/inside.yaml", 1 << 20)
