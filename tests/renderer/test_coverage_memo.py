"""Clean coverage verdicts remembered across processes: used only while nothing the check reads changed,
even a descriptor edit that keeps the file's size and modification time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import InputError
from renderer.api import coverage_gate
from renderer.coverage_memo import FOLDER, coverage_key, known_clean
from renderer.templatetree import snapshot


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(cache))
    return cache


def key(template_copy: Path, descriptor_copy: Path) -> str:
    found = coverage_key(snapshot(template_copy.resolve()), descriptor_copy.resolve())
    assert found is not None
    return found


def test_a_clean_verdict_is_remembered(template_copy: Path, descriptor_copy: Path, private_cache: Path) -> None:
    assert not known_clean(key(template_copy, descriptor_copy))
    coverage_gate(template_copy, descriptor_copy)
    assert known_clean(key(template_copy, descriptor_copy))
    assert (private_cache / FOLDER / key(template_copy, descriptor_copy)).is_file()


def test_a_same_size_same_mtime_descriptor_edit_is_checked_again(template_copy: Path,
                                                                 descriptor_copy: Path) -> None:
    coverage_gate(template_copy, descriptor_copy)
    harbor = descriptor_copy / "harbor.yaml"
    before = harbor.stat()
    text = harbor.read_text(encoding="utf-8")
    edited = text.replace("services/harbor/certificate.yaml\n    output:",
                          "services/harbor/certificatX.yaml\n    output:")
    assert edited != text
    assert len(edited) == len(text)
    harbor.write_text(edited, encoding="utf-8")
    os.utime(harbor, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(InputError) as info:
        coverage_gate(template_copy, descriptor_copy)
    assert "certificatX.yaml" in info.value.one_line() or "certificate.yaml" in info.value.one_line()


def test_a_failing_verdict_is_never_remembered(template_copy: Path, descriptor_copy: Path) -> None:
    (template_copy / "orphan.yaml").write_text("a: 1\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError):
            coverage_gate(template_copy, descriptor_copy)
    assert not known_clean(key(template_copy, descriptor_copy))


def test_a_renamed_template_changes_the_key(template_copy: Path, descriptor_copy: Path) -> None:
    coverage_gate(template_copy, descriptor_copy)
    before = key(template_copy, descriptor_copy)
    certificate = template_copy / "services" / "harbor" / "certificate.yaml"
    certificate.rename(certificate.with_name("certificatX.yaml"))
    assert key(template_copy, descriptor_copy) != before
    with pytest.raises(InputError):
        coverage_gate(template_copy, descriptor_copy)
