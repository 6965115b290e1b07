"""Loading the renderer a project names (harness.renderers): module:ATTR from the project root without
PYTHONPATH, commands run from the project root, and the project's template/descriptor roots reach a
renderer that can use them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.command_renderer import CommandRenderer
from harness.errors import InputError
from harness.project_config import ProjectConfig
from harness.renderer_api import MemoryRenderer
from harness.renderers import load_renderer, renderer_for

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "testdata" / "relaypoint-logistics-shared"

LOCAL_RENDERER = textwrap.dedent("""\
    from harness.renderer_api import Plan

    class Local:
        def render(self, config_path, out_dir, *, service=None):
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "kustomization.yaml").write_text("resources: []\\n")
            return Plan(cluster="k8s-dev", renderer="local")

    RENDERER = Local()
""")


def test_a_module_renderer_in_the_project_root_loads_without_pythonpath(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "localrender_pkg_x1").mkdir(parents=True)
    (root / "localrender_pkg_x1" / "__init__.py").write_text(LOCAL_RENDERER)
    (root / "pyproject.toml").write_text('[tool.overlay-parity]\nfixture = "."\n'
                                        'renderer = "localrender_pkg_x1:RENDERER"\n')
    (root / ".k8s-dev-config.yaml").write_text("{}\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "harness.cli", "render", "--config", "../.k8s-dev-config.yaml",
                             "--out", "out/k8s-dev"], cwd=root / "localrender_pkg_x1", env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert (root / "localrender_pkg_x1" / "out" / "k8s-dev" / "kustomization.yaml").is_file()


def test_unloadable_module_renderers_are_renderer_invalid(tmp_path: Path) -> None:
    (tmp_path / "broken_renderer_x2.py").write_text("raise RuntimeError('boom')\n")
    for spec in ("no_such_module_xyz:RENDERER", "json:dumps", "broken_renderer_x2:RENDERER"):
        with pytest.raises(InputError) as info:
            load_renderer(spec, root=tmp_path)
        assert info.value.code == "RENDERER-INVALID"


def test_a_command_renderer_gets_the_project_root_and_timeout(tmp_path: Path) -> None:
    project = ProjectConfig(root=tmp_path, fixture=tmp_path, inventory=tmp_path / "i.yaml",
                            renderer="bin/render --out {out}", renderer_timeout=7.0)
    renderer = renderer_for(project)
    assert renderer == CommandRenderer("bin/render --out {out}", timeout=7.0, cwd=tmp_path)


def test_the_built_in_renderer_renders_from_the_project_template_and_descriptor_roots(tmp_path: Path) -> None:
    templates, descriptors = tmp_path / "templates", tmp_path / "descriptors"
    shutil.copytree(REPO / "renderer" / "templates", templates)
    shutil.copytree(REPO / "renderer" / "descriptors", descriptors)
    network_policy = templates / "services" / "kafka-cluster" / "networkpolicy.yaml"
    network_policy.write_text(network_policy.read_text().replace("port: 9404", "port: 9405"))
    project = ProjectConfig(root=tmp_path, fixture=FIXTURE, inventory=tmp_path / "i.yaml",
                            template_root=templates, descriptor_root=descriptors)
    renderer = renderer_for(project)
    assert isinstance(renderer, MemoryRenderer)
    rendered = renderer.render_files(FIXTURE / ".k8s-dev-config.yaml").files
    assert b"port: 9405" in rendered["services/kafka-cluster/networkpolicy.yaml"]
    default = load_renderer("renderer.api:RENDERER")
    assert isinstance(default, MemoryRenderer)
    assert b"port: 9404" in default.render_files(FIXTURE / ".k8s-dev-config.yaml").files[
        "services/kafka-cluster/networkpolicy.yaml"]


def test_default_roots_that_do_not_exist_leave_the_renderer_its_own(tmp_path: Path) -> None:
    project = ProjectConfig(root=tmp_path, fixture=FIXTURE, inventory=tmp_path / "i.yaml",
                            template_root=(tmp_path / "renderer/templates").resolve(),
                            descriptor_root=(tmp_path / "renderer/descriptors").resolve())
    renderer = renderer_for(project)
    assert isinstance(renderer, MemoryRenderer)
    assert renderer.render_files(FIXTURE / ".k8s-dev-config.yaml").files


@pytest.mark.parametrize("timeout", [0.0, -1.0])
def test_a_timeout_that_is_not_positive_is_a_settings_error(tmp_path: Path, timeout: float) -> None:
    project = ProjectConfig(root=tmp_path, fixture=tmp_path, inventory=tmp_path / "i.yaml",
                            renderer="bin/render --out {out}", renderer_timeout=timeout)
    with pytest.raises(InputError) as info:
        renderer_for(project)
    assert info.value.code == "PROJECT-CONFIG-INVALID"


def test_a_reference_renderer_made_for_other_roots_keeps_them(tmp_path: Path) -> None:
    from renderer.api import ReferenceRenderer

    own = ReferenceRenderer(template_root=tmp_path / "mine", descriptor_root=tmp_path / "mine-d")
    assert own.with_roots(tmp_path / "a", tmp_path / "b") is own
    built_in = ReferenceRenderer()
    moved = built_in.with_roots(tmp_path / "a", tmp_path / "b")
    assert (moved.template_root, moved.descriptor_root) == (tmp_path / "a", tmp_path / "b")


def _gitops_repository(root: Path, renderer: str | None = None) -> Path:
    """A GitOps repository with only an overlay-parity.toml, one cluster config and its overlay."""
    root.mkdir(parents=True)
    settings = ['fixture = "."'] + ([f"renderer = {renderer!r}"] if renderer else [])
    (root / "overlay-parity.toml").write_text("\n".join(settings) + "\n")
    shutil.copy(FIXTURE / ".k8s-dev-config.yaml", root / ".k8s-dev-config.yaml")
    return root


def _coverage(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", "coverage"], cwd=root, capture_output=True,
                          text=True, timeout=120, check=False)


def test_coverage_reads_the_built_in_renderers_own_trees_when_the_repository_has_none(tmp_path: Path) -> None:
    """A GitOps repository rendering with the built-in renderer has no template tree of its own: coverage
    checks the trees the renderer renders from (its packaged templates), not a missing default folder."""
    root = _gitops_repository(tmp_path / "repo")
    result = _coverage(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FILE-MISSING" not in result.stdout + result.stderr


def test_coverage_without_trees_for_a_command_renderer_is_one_line(tmp_path: Path) -> None:
    root = _gitops_repository(tmp_path / "repo", renderer="./render.sh {config} {out}")
    result = _coverage(root)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "PROJECT-CONFIG-INVALID" in lines[0]
    assert "overlay-parity.toml" in lines[0]
    assert "template_root" in lines[0]
