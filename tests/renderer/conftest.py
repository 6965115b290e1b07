"""Shared helpers for the reference-renderer tests: fixture paths, tree snapshots, config copies."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.trees import BOOTSTRAP_FILES

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "testdata" / "relaypoint-logistics-shared"
CLUSTERS = ("k8s-dev", "k8s-dr", "k8s-prod", "k8s-qa", "k8s-uat")
TEMPLATES = ROOT / "renderer" / "templates"
DESCRIPTORS = ROOT / "renderer" / "descriptors"

Snapshot = dict[str, tuple[bytes, int, int]]
RENDER_EPOCH = "1735689600"  # 2025-01-01T00:00:00Z


@pytest.fixture(autouse=True, scope="module")
def reproducible_render_time() -> Iterator[None]:
    """Pin ``opencenter.io/rendered-at`` (SOURCE_DATE_EPOCH) so renders compared byte for byte agree; module
    scope so module-scoped render fixtures see it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", RENDER_EPOCH)
        yield


def config_path(cluster: str) -> Path:
    """The fixture config of ``cluster``."""
    return FIXTURE / f".{cluster}-config.yaml"


def snapshot(root: Path) -> Snapshot:
    """Every file and directory under ``root``: bytes, mode and mtime (directories with empty bytes)."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            data = os.readlink(path).encode() if path.is_symlink() else b"" if path.is_dir() else path.read_bytes()
            found[path.relative_to(root).as_posix()] = (data, info.st_mode, info.st_mtime_ns)
    return found


def contents(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every regular file under ``root``."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.fixture
def copy_config(tmp_path: Path) -> Callable[..., Path]:
    """Copy a fixture config to ``tmp_path/configs`` applying ``(old, new)`` text replacements."""

    def make(cluster: str, *replacements: tuple[str, str]) -> Path:
        text = config_path(cluster).read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text, f"replacement anchor {old!r} not in {cluster} config"
            text = text.replace(old, new, 1)
        target = tmp_path / "configs" / config_path(cluster).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    return make


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged template root (safe to modify)."""
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES, target)
    return target


@pytest.fixture
def descriptor_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged descriptors (safe to modify)."""
    target = tmp_path / "descriptors"
    shutil.copytree(DESCRIPTORS, target)
    return target


def add_bootstrap(overlay: Path) -> dict[str, bytes]:
    """Add bootstrap-owned and other non-owned files to an overlay; return what was written."""
    files = {**BOOTSTRAP_FILES, "docs/runbook.txt": b"restart the thing\n"}
    for relative, data in files.items():
        path = overlay / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.utime(overlay / "README.md", ns=(1_000_000_000, 1_000_000_000))
    return files
