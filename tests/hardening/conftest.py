"""Fixtures of the hardening suite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.hardening.support import add_bootstrap, render_pristine


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One reproducible k8s-dev render per test process."""
    return render_pristine(tmp_path_factory.mktemp("pristine") / "k8s-dev")


@pytest.fixture
def existing_overlay(tmp_path: Path, pristine: Path) -> Path:
    """A rendered k8s-dev overlay with flux-system/ and a hand-written README (bytes, modes, mtimes fixed)."""
    overlay = tmp_path / "overlays" / "k8s-dev"
    shutil.copytree(pristine, overlay, copy_function=shutil.copy2)
    add_bootstrap(overlay)
    return overlay
