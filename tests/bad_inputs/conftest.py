"""Fixtures of the bad-input catalogue: a project with a pre-existing k8s-dev overlay (flux-system/ too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.support import Project, make_project, render_pristine


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One reproducible k8s-dev render per test process."""
    return render_pristine(tmp_path_factory.mktemp("pristine") / "k8s-dev")


@pytest.fixture
def project(tmp_path: Path, pristine: Path) -> Project:
    """A project rendering with the packaged renderer; k8s-dev has an existing overlay."""
    return make_project(tmp_path / "repo", pristine=pristine)


@pytest.fixture
def local_project(tmp_path: Path, pristine: Path) -> Project:
    """A project rendering through its own copies of the template and descriptor roots."""
    return make_project(tmp_path / "repo", pristine=pristine, local_renderer=True)
