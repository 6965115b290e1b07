from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.project_config import load_project_config

ROOT = Path(__file__).resolve().parents[2]


def test_repo_settings_resolve_to_absolute_paths() -> None:
    config = load_project_config(ROOT / "tests")
    assert config.root == ROOT
    assert config.fixture == ROOT / "testdata/relaypoint-logistics-shared"
    assert config.template_root == ROOT / "renderer/templates"
    assert config.renderer == "renderer.api:RENDERER"
    assert "k8s-dev" in config.clusters()
    assert config.config_for("k8s-dev").name == ".k8s-dev-config.yaml"


def test_overrides_and_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.overlay-parity]\nfixture = "fx"\nfixture_globs = ["a/**"]\nfuture_option = 1\n'
    )
    config = load_project_config(tmp_path)
    assert config.fixture == tmp_path / "fx"
    assert config.fixture_globs == ("a/**",)
    assert config.extra == {"future_option": 1}
    assert config.with_overrides(fixture=str(tmp_path / "other"), inventory=None).fixture == tmp_path / "other"


def test_bad_list_setting_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.overlay-parity]\nfixture_globs = "testdata/**"\n')
    with pytest.raises(InputError, match="fixture_globs"):
        load_project_config(tmp_path)


def test_select_clusters_names_a_few_known_clusters_closest_first(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.overlay-parity]\nfixture = "fx"\n')
    (tmp_path / "fx").mkdir()
    names = [f"k8s-{env}-{n:04d}" for env in ("dev", "prod") for n in range(0, 100, 5)]
    for name in names:
        (tmp_path / "fx" / f".{name}-config.yaml").write_text("cluster: x\n")
    config = load_project_config(tmp_path)
    assert config.select_clusters() == sorted(names)
    assert config.select_clusters(["k8s-dev-0005", "k8s-dev-0000", "k8s-dev-0005"]) == ["k8s-dev-0005", "k8s-dev-0000"]
    with pytest.raises(InputError) as info:
        config.select_clusters(["k8s-dev-0000", "k8s-dev-0001"])
    line = info.value.one_line()
    assert "unknown cluster 'k8s-dev-0001' (40 known, closest: k8s-dev-0000, " in line
    assert line.count("k8s-") == 6  # the unknown name and five suggestions, not all 40
