"""Only regular files are opened: FIFOs, devices and directories are one located line at once, never a block
or an endless read; every OSError is a located InputError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.safe_read import read_regular, read_regular_text


def test_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"a: 1\n")
    assert read_regular(path) == b"a: 1\n"
    assert read_regular_text(path) == "a: 1\n"


@pytest.mark.parametrize(("target", "fragment"), [("/dev/zero", "character device"), ("/dev/null", "character device")])
def test_devices_are_refused(target: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        read_regular(target, max_bytes=10)
    assert caught.value.code == "FILE-SPECIAL"
    assert fragment in caught.value.message


def test_a_fifo_without_a_writer_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as caught:
        read_regular(fifo)
    assert caught.value.code == "FILE-SPECIAL"
    assert "FIFO" in caught.value.message


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_regular(tmp_path, display="config.yaml")
    assert caught.value.one_line().startswith("config.yaml: FILE-SPECIAL: is a directory")


def test_symlinks_are_refused_only_when_asked(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("a: 1\n", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert read_regular(link) == b"a: 1\n"
    with pytest.raises(InputError) as caught:
        read_regular(link, follow_symlinks=False)
    assert caught.value.code == "FILE-SYMLINK"


def test_a_symlink_loop_is_one_line(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(loop)
    with pytest.raises(InputError) as caught:
        read_regular(loop)
    assert caught.value.code == "FILE-SYMLINK"
    assert "loop" in caught.value.message


@pytest.mark.parametrize(("make", "code"), [
    (lambda p: p / ("x" * 300 + ".yaml"), "FILE-UNREADABLE"),
    (lambda p: p / "missing.yaml", "FILE-MISSING"),
    (lambda p: p / "file.yaml" / "below.yaml", "FILE-MISSING"),
])
def test_os_errors_become_located_lines(tmp_path: Path, make: object, code: str) -> None:
    (tmp_path / "file.yaml").write_text("a: 1\n", encoding="utf-8")
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(InputError) as caught:
        read_regular(path)
    assert caught.value.code == code
    assert caught.value.location is not None
    assert caught.value.location.file == str(path)


def test_size_limit_stops_reading_a_file_that_grows(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(InputError) as caught:
        read_regular(path, max_bytes=4096)
    assert caught.value.code == "FILE-TOO-LARGE"
    assert "4096" in caught.value.message


def test_proc_files_with_size_zero_are_read_to_the_end() -> None:
    assert b"Name:" in read_regular("/proc/self/status", max_bytes=1 << 20)


def test_a_nul_in_the_path_is_one_line() -> None:
    with pytest.raises(InputError) as caught:
        read_regular("a\0b.yaml")
    assert "\0" not in caught.value.one_line()
