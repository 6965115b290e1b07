"""Report files: a regular file (or a new one) replaced atomically, a link to one keeps its link, and every
other thing a path can name (``/dev/null``, ``/dev/fd`` links, a FIFO) written in place, never replaced
and never waited on."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.report.output import append_report_file, write_report_file


def test_a_new_and_an_existing_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report.json"
    write_report_file(target, "one\n")
    write_report_file(target, "two\n")
    assert target.read_text(encoding="utf-8") == "two\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]  # no temporary file left


def test_a_link_to_a_regular_file_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_report_file(link, "new\n")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "new\n"


def test_dev_null_stays_a_device() -> None:
    write_report_file(Path("/dev/null"), "discarded\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert os.major(os.stat("/dev/null").st_rdev) == 1


def test_a_dev_fd_link_to_a_pipe_is_written_in_place() -> None:
    read, write = os.pipe()
    try:
        write_report_file(Path(f"/dev/fd/{write}"), "through the pipe\n")
    finally:
        os.close(write)
    with os.fdopen(read, encoding="utf-8") as stream:
        assert stream.read() == "through the pipe\n"


def test_a_dev_fd_link_to_a_file_appends_after_what_was_there(tmp_path: Path) -> None:
    """``--json /dev/stdout > out.txt``: the report follows the printed lines instead of replacing them."""
    out = tmp_path / "out.txt"
    with out.open("w", encoding="utf-8") as stream:
        stream.write("printed first\n")
        stream.flush()
        write_report_file(Path(f"/dev/fd/{stream.fileno()}"), "{}\n")
    assert out.read_text(encoding="utf-8") == "printed first\n{}\n"


def test_a_fifo_without_a_reader_is_one_line_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for write in (write_report_file, append_report_file):
        with pytest.raises(InputError) as info:
            write(fifo, "x\n")
        assert info.value.code == "REPORT-UNWRITABLE"
        assert "nothing reads from it" in info.value.one_line()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_fifo_with_a_reader_gets_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    text = "x" * 200_000 + "\n"  # more than a pipe holds: the write must wait for the reader, not fail
    for _ in range(100):
        try:
            write_report_file(fifo, text)
            break
        except InputError:  # the reader has not opened its end yet
            threading.Event().wait(0.05)
    reader.join(timeout=30)
    assert received == [text]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        write_report_file(tmp_path, "x")
    assert info.value.code == "REPORT-UNWRITABLE"
