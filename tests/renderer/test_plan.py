"""Planning: deterministic order, one decision per descriptor (and per conditional file), aggregates from
the plan, single-service planning without scanning other units, and outputs that cannot escape."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

import renderer.plan as plan_module
from harness.errors import InputError
from renderer.config import load_config
from renderer.config_model import ClusterConfig
from renderer.descriptors import load_descriptors
from renderer.plan import RenderPlan, plan_render
from renderer.templatetree import TemplateTree, walk_files

from .conftest import config_path

SERVICE_COUNT = 27


def plan_for(cluster: str, *, service: str | None = None, descriptor_root: Path | None = None,
             template_root: Path | None = None) -> RenderPlan:
    return plan_render(load_descriptors(descriptor_root), load_config(config_path(cluster)), service=service,
                       template_root=template_root)


def enabled_services(config: ClusterConfig) -> list[str]:
    return config.enabled_services


def test_plan_is_deterministic_and_sorted_by_output() -> None:
    first = plan_for("k8s-dev").plan
    second = plan_for("k8s-dev").plan
    assert first.to_json() == second.to_json()
    outputs = list(first.outputs())
    assert outputs == sorted(outputs)
    assert len(outputs) == len(set(outputs))
    assert first.renderer == "renderer.api:RENDERER"
    assert first.cluster == "k8s-dev"


def test_every_action_names_owner_template_mode_and_reason() -> None:
    plan = plan_for("k8s-uat").plan
    for action in plan.actions:
        assert action.owner
        assert action.template
        assert action.reason
        assert action.mode == "render"
    assert plan.owner_of("services/harbor/kustomization.yaml") == ""  # harbor is off in uat
    assert plan.owner_of("services/keycloak/10-operator/patch-subscription.yaml") == "keycloak"
    assert plan.owner_of("customer-managed/fluxcd/apps.yaml") == "customer-managed"
    assert plan.owner_of("services/fluxcd/kustomization.yaml") == "services-fluxcd"
    assert plan.owner_of(".sops.yaml") == ""


def test_one_decision_per_descriptor_in_planning_order() -> None:
    descriptors = load_descriptors()
    plan = plan_for("k8s-dev").plan
    top = [d for d in plan.decisions if not d.subject]
    assert [d.descriptor for d in top] == descriptors.names()
    longhorn = next(d for d in top if d.descriptor == "longhorn")
    assert (longhorn.enabled, longhorn.field, longhorn.value) == (False, "opencenter.services.longhorn.enabled", False)
    assert longhorn.reason == "opencenter.services.longhorn.enabled is false"
    sops = next(d for d in top if d.descriptor == "sops")
    assert sops.enabled
    assert sops.field == "opencenter.gitops.overlay_units.sops.enabled"
    root = next(d for d in top if d.descriptor == "root")
    assert root.enabled
    assert root.field == ""
    assert "no condition" in root.reason


def test_conditional_files_get_their_own_decision() -> None:
    dev = {(d.descriptor, d.subject): d for d in plan_for("k8s-dev").plan.decisions if d.subject}
    qa = {(d.descriptor, d.subject): d for d in plan_for("k8s-qa").plan.decisions if d.subject}
    patch = ("keycloak", "services/keycloak/10-operator/patch-subscription.yaml")
    assert not dev[patch].enabled
    assert dev[patch].value == "iad3"
    assert dev[patch].reason == "opencenter.meta.region is 'iad3', not 'ord1'"
    assert qa[patch].enabled
    assert qa[patch].reason == "opencenter.meta.region is 'ord1'"
    cert = ("harbor", "services/harbor/certificate.yaml")
    assert dev[cert].enabled
    assert dev[cert].field == "opencenter.services.harbor.certificate.enabled"
    assert cert not in qa  # harbor is disabled in qa: its files are not evaluated
    entries = ("customer-managed", "customer-managed/fluxcd/flux-kustomization.yaml")
    assert dev[entries].reason == "3 item(s) in opencenter.gitops.overlay_units.customer_managed.kustomizations"


@pytest.mark.parametrize("cluster", ["k8s-dev", "k8s-prod", "k8s-qa"])
def test_aggregate_members_come_from_the_plan(cluster: str) -> None:
    planned = plan_for(cluster)
    config = load_config(config_path(cluster))
    by_output = {f.output: f for f in planned.files}
    fluxcd = by_output["services/fluxcd/kustomization.yaml"]
    sources = by_output["services/sources/kustomization.yaml"]
    assert fluxcd.members == tuple(sorted(f"{s}.yaml" for s in enabled_services(config)))
    assert sources.members == tuple(sorted(f"opencenter-{s}.yaml" for s in enabled_services(config)))
    assert by_output["managed-services/fluxcd/kustomization.yaml"].members == ("alert-proxy.yaml",)
    planned_sources = {o.rsplit("/", 1)[1] for o in planned.plan.outputs()
                       if o.startswith("services/sources/") and not o.endswith("/kustomization.yaml")}
    assert set(sources.members or ()) == planned_sources


def test_new_contributor_joins_an_aggregate_without_touching_it(descriptor_copy: Path, template_copy: Path) -> None:
    (template_copy / "services" / "fluxcd" / "platform-extras.yaml").write_text("kind: ConfigMap\n")
    (descriptor_copy / "platform-extras.yaml").write_text(
        "name: platform-extras\nlayer: services\nfiles:\n"
        "  - template: services/fluxcd/platform-extras.yaml\n    output: services/fluxcd/platform-extras.yaml\n"
        "aggregate_targets: [services-fluxcd]\n")
    planned = plan_for("k8s-dev", descriptor_root=descriptor_copy, template_root=template_copy)
    fluxcd = next(f for f in planned.files if f.output == "services/fluxcd/kustomization.yaml")
    assert fluxcd.members is not None
    assert "platform-extras.yaml" in fluxcd.members


def test_customer_managed_entries_and_secret() -> None:
    dev = set(plan_for("k8s-dev").plan.outputs())
    uat = set(plan_for("k8s-uat").plan.outputs())
    prod = set(plan_for("k8s-prod").plan.outputs())
    entries = {f"customer-managed/fluxcd/{n}.yaml" for n in ("policies", "infrastructure", "apps")}
    assert entries <= dev
    assert entries <= uat
    assert not any(o.startswith("customer-managed/") for o in prod)
    secret = "customer-managed/sources/customer-repository-rpl-apps-flux-k8s.yaml"
    assert secret in uat
    assert secret not in dev
    assert "customer-managed/sources/customer-repository.yaml" in dev


def test_diagnostics_never_contain_secret_values() -> None:
    text = plan_for("k8s-uat").plan.to_json()
    assert "PLACEHOLDER-NOT-A-REAL" not in text
    json.loads(text)


def test_secret_condition_values_are_masked(descriptor_copy: Path) -> None:
    path = descriptor_copy / "customer-managed.yaml"
    path.write_text(path.read_text().replace(
        "when: {field: opencenter.gitops.overlay_units.customer_managed.emit_secret, op: \"true\"}",
        "when: {field: secrets.customer_managed.customer-repository.identity, op: exists}"))
    planned = plan_for("k8s-uat", descriptor_root=descriptor_copy)
    decision = next(d for d in planned.plan.decisions if d.subject == "customer-managed/sources/secret.yaml")
    assert decision.enabled
    assert str(decision.value).startswith("<redacted sha256:")
    assert "PLACEHOLDER" not in planned.plan.to_json()


# ------------------------------------------------------------------------------------ single service

def test_single_service_plans_the_unit_and_its_aggregates_only(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[str] = []
    real_walk = plan_module._walk

    def recording_walk(base: Path) -> list[str]:
        walked.append(base.name)
        return real_walk(base)

    def recording_walk_files(tree: TemplateTree, base: str) -> list[str]:
        walked.append(base.rsplit("/", 1)[-1])
        return walk_files(tree, base)

    monkeypatch.setattr(plan_module, "_walk", recording_walk)
    monkeypatch.setattr(plan_module, "walk_files", recording_walk_files)
    single = plan_for("k8s-dev", service="harbor")
    assert walked == ["harbor"]  # no other template directory is listed
    assert [d.descriptor for d in single.plan.decisions if not d.subject] == \
        ["harbor", "services-fluxcd", "services-sources"]
    outputs = set(single.plan.outputs())
    assert outputs == {
        "services/fluxcd/harbor.yaml", "services/fluxcd/kustomization.yaml", "services/sources/kustomization.yaml",
        "services/sources/opencenter-harbor.yaml", "services/harbor/certificate.yaml",
        "services/harbor/kustomization.yaml", "services/harbor/networkpolicy.yaml",
        "services/harbor/override-values.yaml",
    }
    assert set(single.replaced) == {
        "services/harbor", "services/fluxcd/harbor.yaml", "services/sources/opencenter-harbor.yaml",
        "services/harbor/certificate.yaml", "services/fluxcd/kustomization.yaml",
        "services/sources/kustomization.yaml",
    }
    full = {f.output: f.members for f in plan_for("k8s-dev").files}
    for planned in single.files:
        if planned.members is not None:
            assert planned.members == full[planned.output]


def test_single_service_of_a_disabled_unit_plans_only_aggregates() -> None:
    single = plan_for("k8s-dev", service="longhorn")
    assert set(single.plan.outputs()) == {"services/fluxcd/kustomization.yaml", "services/sources/kustomization.yaml"}
    assert "services/longhorn" in single.replaced
    assert not next(d for d in single.plan.decisions if d.descriptor == "longhorn").enabled


def test_single_managed_service() -> None:
    single = plan_for("k8s-qa", service="alert-proxy")
    assert {o.split("/")[0] for o in single.plan.outputs()} == {"managed-services"}


@pytest.mark.parametrize(("service", "message"), [
    ("nope", "unknown service 'nope'"),
    ("services-fluxcd", "unknown service"),
    ("customer-managed", "config-dependent output names"),
])
def test_single_service_usage_errors(service: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        plan_for("k8s-dev", service=service)
    assert info.value.code == "USAGE"
    assert message in info.value.message


# ------------------------------------------------------------------------------------ bad plans

def test_two_descriptors_rendering_one_output_is_refused(descriptor_copy: Path) -> None:
    (descriptor_copy / "harbor-twin.yaml").write_text(
        "name: harbor-twin\nlayer: services\nfiles:\n"
        "  - template: services/fluxcd/harbor.yaml\n    output: services/fluxcd/harbor.yaml\n")
    with pytest.raises(InputError) as info:
        plan_for("k8s-dev", descriptor_root=descriptor_copy)
    assert info.value.code == "DESCRIPTOR-INVALID"
    assert "services/fluxcd/harbor.yaml is rendered twice" in info.value.message


def test_root_files_may_not_land_in_an_aggregate_directory(descriptor_copy: Path, template_copy: Path) -> None:
    (template_copy / "extras").mkdir()
    (template_copy / "extras" / "x.yaml").write_text("kind: ConfigMap\n")
    (descriptor_copy / "extras.yaml").write_text(
        "name: extras\nlayer: services\nroots:\n  - path: extras\n    output: services/fluxcd\n")
    with pytest.raises(InputError) as info:
        plan_for("k8s-dev", descriptor_root=descriptor_copy, template_root=template_copy)
    assert "lands directly in aggregate directory services/fluxcd/" in info.value.message


def test_missing_template_is_a_descriptor_error(descriptor_copy: Path, template_copy: Path) -> None:
    (template_copy / "services" / "harbor" / "certificate.yaml").unlink()
    with pytest.raises(InputError) as info:
        plan_for("k8s-dev", descriptor_root=descriptor_copy, template_root=template_copy)
    assert info.value.code == "DESCRIPTOR-INVALID"
    assert "template 'services/harbor/certificate.yaml' does not exist" in info.value.message
    assert info.value.location is not None
    assert info.value.location.file.endswith("harbor.yaml")
    assert info.value.location.line > 1


def test_symlinks_in_the_template_root_are_refused(template_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: ConfigMap\n")
    (template_copy / "services" / "calico" / "extra.yaml").symlink_to(outside)
    with pytest.raises(InputError) as info:
        plan_for("k8s-dev", template_root=template_copy)
    assert info.value.code == "FILE-SYMLINK"


def test_symlinked_declared_template_is_refused(template_copy: Path) -> None:
    target = template_copy / "services" / "sources" / "opencenter-calico.yaml"
    real = template_copy / "elsewhere.yaml"
    target.rename(real)
    target.symlink_to(real)
    with pytest.raises(InputError) as info:
        plan_for("k8s-dev", template_root=template_copy)
    assert info.value.code == "FILE-SYMLINK"


@pytest.mark.parametrize("name", ["../../../etc/evil", "nested/name", "..", "a b"])
def test_config_values_cannot_move_templated_outputs(name: str) -> None:
    config = load_config(config_path("k8s-dev"))
    data = copy.deepcopy(config.data)
    data["opencenter"]["gitops"]["overlay_units"]["customer_managed"]["repository_name"] = name
    bad = dataclasses.replace(config, data=data)
    with pytest.raises(InputError) as info:
        plan_render(load_descriptors(), bad)
    assert info.value.code == "PATH-ESCAPE"
    assert info.value.location is not None
    assert info.value.location.file.endswith("customer-managed.yaml")


def test_for_each_field_must_be_a_list_of_mappings() -> None:
    config = load_config(config_path("k8s-dev"))
    data = copy.deepcopy(config.data)
    data["opencenter"]["gitops"]["overlay_units"]["customer_managed"]["kustomizations"] = ["policies"]
    with pytest.raises(InputError) as info:
        plan_render(load_descriptors(), dataclasses.replace(config, data=data))
    assert "is not a list of mappings" in info.value.message


def test_missing_output_value_is_a_template_error() -> None:
    config = load_config(config_path("k8s-dev"))
    data = copy.deepcopy(config.data)
    del data["opencenter"]["gitops"]["overlay_units"]["customer_managed"]["repository_name"]
    with pytest.raises(InputError) as info:
        plan_render(load_descriptors(), dataclasses.replace(config, data=data))
    assert info.value.code == "TEMPLATE-ERROR"
    assert "repository_name" in info.value.message
