"""Repository model: roots, display paths, and Git URLs that name one repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.policy.repo import RepoLayout, normalize_url


@pytest.mark.parametrize("url", ["ssh://git@github.com/Org/Fleet.git", "git@github.com:Org/Fleet.git",
                                 "https://github.com/Org/Fleet", "https://GitHub.com/Org/Fleet.git/"])
def test_urls_of_one_repository(url: str) -> None:
    assert normalize_url(url) == "github.com/Org/Fleet"


def test_not_urls() -> None:
    assert normalize_url("") == ""
    assert normalize_url("./local/path") == ""


def test_layouts(tmp_path: Path) -> None:
    (tmp_path / "repo/.git").mkdir(parents=True)
    (tmp_path / "repo/clusters/prod").mkdir(parents=True)
    layout = RepoLayout.locate(tmp_path / "repo/clusters/prod")
    assert (layout.root, layout.root_known, layout.bundled) == ((tmp_path / "repo").resolve(), True, False)
    assert layout.tree_prefix() == "clusters/prod"
    overlay = tmp_path / "plain/applications/overlays/k8s-a"
    overlay.mkdir(parents=True)
    bundled = RepoLayout.locate(overlay)
    assert (bundled.root, bundled.root_known, bundled.bundled) == ((tmp_path / "plain").resolve(), False, True)
    assert bundled.tree_prefix() == ""  # no repository found: findings stay relative to the checked directory
    given = RepoLayout.locate(overlay, tmp_path / "plain")
    assert given.tree_prefix() == "applications/overlays/k8s-a"
