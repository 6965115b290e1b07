"""What kustomize-controller builds for a path, as build plans (no kubectl needed)."""

from __future__ import annotations

from pathlib import Path

from harness.kustomize import BuildPlan, relative_wrapper
from harness.policy.fluxbuild import generated_resources, plan_build
from harness.policy.sourceignore import IgnoreMatcher
from tests.support.trees import write_tree as write


def test_generated_resources_follow_flux_rules(tmp_path: Path) -> None:
    write(tmp_path, {
        ".sourceignore": "values/\n",
        "app/b.yaml": "", "app/a.yml": "", "app/README.md": "", "app/values/x.yaml": "",
        "app/sub/c.yaml": "", "app/unit/kustomization.yaml": "resources: []\n", "app/unit/d.yaml": "",
    })
    found = generated_resources(tmp_path / "app", tmp_path, IgnoreMatcher(tmp_path))
    assert [p.relative_to(tmp_path / "app").as_posix() for p in found] == ["a.yml", "b.yaml", "sub/c.yaml", "unit"]


def test_plans(tmp_path: Path) -> None:
    write(tmp_path, {"app/kustomization.yaml": "resources: [./flux-system, cm.yaml]\n", "app/cm.yaml": "",
                     "plain/x.yaml": ""})
    app = (tmp_path / "app").resolve()
    assert plan_build(app, source_root=tmp_path) == BuildPlan(app)
    stub = plan_build(app, source_root=tmp_path, stub_flux_system=True,
                      kustomization={"resources": ["./flux-system", "cm.yaml"]})
    assert stub.stubbed
    assert stub.wrapper_data() == {"resources": [str(app / "cm.yaml")]}
    extra = plan_build(app, source_root=tmp_path, flux_spec={"targetNamespace": "apps", "components": ["../c"]})
    assert extra.wrapper_data() == {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                    "resources": [str(app)], "namespace": "apps",
                                    "components": [str(tmp_path.resolve() / "c")]}
    generated = plan_build(tmp_path / "plain", source_root=tmp_path)
    assert generated.generated
    wrapper_dir = tmp_path / "w" / "build"
    assert relative_wrapper(generated, wrapper_dir)["resources"] == ["../../plain/x.yaml"]
