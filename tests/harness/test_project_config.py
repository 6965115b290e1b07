from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.project_config import key_kind, known_keys, load_project_config, use_config

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


def test_clusters_are_the_configs_named_like_one_and_none_without_a_fixture(tmp_path: Path) -> None:
    """What the glob ``.*-config.yaml`` matched: hidden names ending in ``-config.yaml`` (not other files,
    not ``-config.yml``); a fixture folder that does not exist has no clusters."""
    (tmp_path / "pyproject.toml").write_text('[tool.overlay-parity]\nfixture = "fx"\n')
    assert load_project_config(tmp_path).clusters() == []
    (tmp_path / "fx").mkdir()
    for name in (".k8s-b-config.yaml", ".k8s-a-config.yaml", "k8s-c-config.yaml", ".k8s-d-config.yml",
                 ".k8s-e-config.yaml.bak", "README.md"):
        (tmp_path / "fx" / name).write_text("x: 1\n")
    assert load_project_config(tmp_path).clusters() == ["k8s-a", "k8s-b"]


# ------------------------------------------------------------------------------ settings files (issue 14)

def test_flat_settings_file_is_found_from_a_subdirectory_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "overlay-parity.toml").write_text(
        'fixture = "."\ninventory = "canonicalization/acme.yaml"\nrenderer = "acme-render --config {config} '
        '--out {out}"\nmax_file_bytes = 1000\npolicy_conventions = false\n')
    deep = tmp_path / "applications" / "overlays" / "c1"
    deep.mkdir(parents=True)
    config = load_project_config(deep)
    assert config.root == tmp_path.resolve()
    assert config.source == (tmp_path / "overlay-parity.toml").resolve()
    assert config.fixture == tmp_path.resolve()
    assert config.inventory == (tmp_path / "canonicalization/acme.yaml").resolve()
    assert config.renderer.startswith("acme-render")
    assert config.max_file_bytes == 1000
    assert config.policy_conventions is False
    assert config.settings_file.endswith("overlay-parity.toml")


def test_hidden_settings_file_and_the_nearest_directory_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.overlay-parity]\nfixture = "outer"\n')
    inner = tmp_path / "repo"
    inner.mkdir()
    (inner / ".overlay-parity.toml").write_text('fixture = "inner"\n')
    assert load_project_config(inner).fixture == (inner / "inner").resolve()
    assert load_project_config(tmp_path).fixture == (tmp_path / "outer").resolve()


def test_pyproject_without_the_table_is_not_a_settings_file(tmp_path: Path) -> None:
    (tmp_path / "overlay-parity.toml").write_text('fixture = "fx"\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_project_config(repo).fixture == (tmp_path / "fx").resolve()


@pytest.mark.parametrize("second", [".overlay-parity.toml", "pyproject.toml"])
def test_two_settings_files_in_one_directory_is_an_error_naming_both(tmp_path: Path, second: str) -> None:
    (tmp_path / "overlay-parity.toml").write_text('fixture = "a"\n')
    text = '[tool.overlay-parity]\nfixture = "b"\n' if second == "pyproject.toml" else 'fixture = "b"\n'
    (tmp_path / second).write_text(text)
    with pytest.raises(InputError) as info:
        load_project_config(tmp_path / ".")
    line = info.value.one_line()
    assert info.value.code == "PROJECT-CONFIG-INVALID"
    assert "overlay-parity.toml and " in line
    assert second in line


def test_config_names_one_file_and_relative_paths_follow_it(tmp_path: Path) -> None:
    (tmp_path / "overlay-parity.toml").write_text('fixture = "a"\n')
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "custom.toml").write_text('fixture = "fx"\ninventory = "inv.yaml"\n')
    config = load_project_config(tmp_path, config=other / "custom.toml")
    assert config.fixture == (other / "fx").resolve()
    assert config.inventory == (other / "inv.yaml").resolve()
    with use_config(other / "custom.toml"):
        assert load_project_config(tmp_path).fixture == (other / "fx").resolve()
    assert load_project_config(tmp_path).fixture == (tmp_path / "a").resolve()


def test_bad_values_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "overlay-parity.toml"
    path.write_text('fixture = "fx"\n\nmax_file_bytes = "big"\n')
    with pytest.raises(InputError) as info:
        load_project_config(tmp_path)
    expected = f"{path.resolve()}:3: PROJECT-CONFIG-INVALID: max_file_bytes must be an integer"
    assert info.value.one_line().startswith(expected)
    path.write_text('fixture = "fx\n')
    with pytest.raises(InputError) as info:
        load_project_config(tmp_path)
    assert info.value.code == "PROJECT-CONFIG-INVALID"
    assert info.value.location is not None
    assert info.value.location.line == 1
    path.write_text('[tool.overlay-parity]\nfixture = "fx"\n')
    with pytest.raises(InputError, match="top level"):
        load_project_config(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.overlay-parity]\npolicy_conventions = "yes"\n')
    path.unlink()
    with pytest.raises(InputError) as info:
        load_project_config(tmp_path)
    assert info.value.location is not None
    assert info.value.location.line == 2
    assert "policy_conventions must be true or false" in info.value.message


def test_defaults_are_the_settings_directory_not_a_bundled_fixture(tmp_path: Path) -> None:
    (tmp_path / "overlay-parity.toml").write_text('renderer = "r --config {config} --out {out}"\n')
    config = load_project_config(tmp_path)
    assert config.fixture == tmp_path.resolve()
    assert config.inventory == (tmp_path / "canonicalization" / f"{tmp_path.name}.yaml").resolve()


def test_every_key_has_a_kind() -> None:
    assert all(key_kind(k) for k in known_keys())
    assert key_kind("fixture") == "path"
    assert key_kind("fixture_globs") == "strings"


def test_cli_config_option_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["--config", str(tmp_path / "nope.toml"), "check"]) == 2
    err = capsys.readouterr().err
    assert "FILE-MISSING" in err
    assert "nope.toml" in err
    assert "Traceback" not in err
