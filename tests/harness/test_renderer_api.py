from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.command_renderer import CommandRenderer
from harness.errors import InputError
from harness.renderer_api import Action, Decision, Plan, cluster_name
from harness.renderers import load_renderer


def test_plan_round_trips_through_json() -> None:
    plan = Plan("k8s-dev", [Action("root", "kustomization.yaml", "kustomization.yaml")],
                [Decision("harbor", False, "opencenter.services.harbor.enabled is false", "x", False)])
    again = Plan.from_dict(json.loads(plan.to_json()))
    assert again == plan
    assert again.owner_of("kustomization.yaml") == "root"
    assert again.owner_of("nope") == ""


def test_cluster_name() -> None:
    assert cluster_name(Path("/x/.k8s-dev-config.yaml")) == "k8s-dev"
    with pytest.raises(InputError, match="USAGE"):
        cluster_name(Path("k8s-dev.yaml"))


def test_command_renderer_runs_a_real_command_and_reads_diagnostics(tmp_path: Path) -> None:
    script = tmp_path / "fake_renderer.py"
    script.write_text(
        "import json, pathlib, sys\n"
        "out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)\n"
        "(out / 'kustomization.yaml').write_text('resources: []\\n')\n"
        "plan = {'cluster': 'k8s-dev', 'actions': [{'owner': 'root', 'template': 't', "
        "'output': 'kustomization.yaml'}]}\n"
        "pathlib.Path(sys.argv[2]).write_text(json.dumps(plan))\n"
    )
    config = tmp_path / ".k8s-dev-config.yaml"
    config.write_text("{}\n")
    renderer = load_renderer(f"{sys.executable} {script} {{out}} {{diagnostics}} --config {{config}}")
    assert isinstance(renderer, CommandRenderer)
    plan = renderer.render(config, tmp_path / "out")
    assert (tmp_path / "out" / "kustomization.yaml").is_file()
    assert plan.owner_of("kustomization.yaml") == "root"


def test_command_renderer_failure_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / ".k8s-dev-config.yaml"
    config.write_text("{}\n")
    renderer = CommandRenderer(f"{sys.executable} -c \"import sys; sys.exit('boom\\nsecond line')\"")
    with pytest.raises(InputError) as info:
        renderer.render(config, tmp_path / "out")
    assert info.value.code == "RENDERER-INVALID"
    assert "\n" not in info.value.one_line()


def test_load_renderer_errors() -> None:
    with pytest.raises(InputError, match="RENDERER-INVALID"):
        load_renderer("no_such_module_xyz:RENDERER")
    with pytest.raises(InputError, match="RENDERER-INVALID"):
        load_renderer("json:dumps")
    with pytest.raises(InputError, match="not found"):
        load_renderer("/nonexistent/renderer --out {out}").render(Path(".k8s-a-config.yaml"), Path("/tmp/x"))
