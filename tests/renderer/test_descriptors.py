"""Descriptor loading: the packaged set is complete and valid; every malformed descriptor fails closed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import InputError
from renderer.descriptors import (
    DescriptorSet,
    excluded,
    load_descriptor,
    load_descriptor_files,
    load_descriptors,
)

from .conftest import DESCRIPTORS

SERVICES = (
    "calico", "cert-manager", "etcd-backup", "external-snapshotter", "gateway", "gateway-api", "harbor", "headlamp",
    "kafka-cluster", "keycloak", "kube-prometheus-stack", "kyverno", "loki", "longhorn", "metallb", "mimir", "olm",
    "openstack-ccm", "openstack-csi", "opentelemetry-kube-stack", "postgres-operator", "rbac-manager",
    "sealed-secrets", "tempo", "velero", "vsphere-csi", "weave-gitops",
)
AGGREGATES = ("services-sources", "services-fluxcd", "managed-services-sources", "managed-services-fluxcd",
              "customer-managed-sources", "customer-managed-fluxcd")

GOOD = """\
name: harbor
layer: services
service: harbor
roots:
  - path: services/harbor
    output: services/harbor
    excludes: [certificate.yaml]
files:
  - template: services/fluxcd/harbor.yaml
    output: services/fluxcd/harbor.yaml
  - template: services/harbor/certificate.yaml
    output: services/harbor/certificate.yaml
    when: {field: opencenter.services.harbor.certificate.enabled, op: "true"}
aggregate_targets: [services-fluxcd]
"""
AGGREGATE = """\
name: services-fluxcd
layer: services
aggregate: {directory: services/fluxcd}
files:
  - template: services/fluxcd/kustomization.yaml
    output: services/fluxcd/kustomization.yaml
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_one(tmp_path: Path, text: str, name: str = "harbor") -> None:
    load_descriptor(write(tmp_path / "d", name, text))


def load_set(tmp_path: Path, *texts: tuple[str, str]) -> DescriptorSet:
    folder = tmp_path / "set"
    for name, text in texts:
        write(folder, name, text)
    return load_descriptors(folder)


# ------------------------------------------------------------------------------------ packaged set

def test_packaged_descriptors_cover_every_unit() -> None:
    descriptors = load_descriptors()
    names = set(descriptors.names())
    assert set(SERVICES) <= names
    assert set(AGGREGATES) <= names
    assert {"root", "sops", "customer-managed", "alert-proxy"} <= names
    assert len(names) == len(SERVICES) + len(AGGREGATES) + 4
    for service in SERVICES:
        descriptor = descriptors.for_unit(service)
        assert descriptor is not None
        assert descriptor.service == service
        assert descriptor.layer == "services"
        assert set(descriptor.aggregate_targets) == {"services-sources", "services-fluxcd"}
    alert_proxy = descriptors.for_unit("alert-proxy")
    assert alert_proxy is not None
    assert alert_proxy.managed_service == "alert-proxy"
    assert alert_proxy.layer == "managed-services"
    for name in AGGREGATES:
        aggregate = descriptors.get(name)
        assert aggregate is not None
        assert aggregate.aggregate is not None
        assert descriptors.contributors(name)


def test_packaged_descriptor_files_match_names() -> None:
    for path in sorted(DESCRIPTORS.glob("*.yaml")):
        assert load_descriptor(path).name == path.stem


def test_planning_order_is_layer_then_contributors_then_name() -> None:
    names = load_descriptors().names()
    assert names[:2] == ["root", "sops"]
    assert names.index("services-fluxcd") > names.index("weave-gitops")
    assert names.index("alert-proxy") < names.index("managed-services-fluxcd")
    assert names[-3:] == ["customer-managed", "customer-managed-fluxcd", "customer-managed-sources"]


def test_loading_is_cached_and_notices_changes(tmp_path: Path) -> None:
    first = load_set(tmp_path, ("harbor", GOOD), ("services-fluxcd", AGGREGATE))
    assert load_descriptors(tmp_path / "set") is first
    path = tmp_path / "set" / "harbor.yaml"
    path.write_text(GOOD.replace("[certificate.yaml]", "[certificate.yaml, notes.md]"), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    second = load_descriptors(tmp_path / "set")
    assert second is not first
    harbor = second.get("harbor")
    assert harbor is not None
    assert harbor.roots[0].excludes == ("certificate.yaml", "notes.md")


def test_good_descriptor_model(tmp_path: Path) -> None:
    descriptors = load_set(tmp_path, ("harbor", GOOD), ("services-fluxcd", AGGREGATE))
    harbor = descriptors.get("harbor")
    assert harbor is not None
    assert harbor.enablement_field == "opencenter.services.harbor.enabled"
    assert harbor.roots[0].path == "services/harbor"
    assert harbor.roots[0].line == 5
    assert harbor.files[1].when is not None
    assert harbor.files[1].when.field.endswith("certificate.enabled")
    assert harbor.files[1].line == 11


# ----------------------------------------------------------------------------------- fail-closed

@pytest.mark.parametrize(("text", "message", "line"), [
    (GOOD + "colour: blue\n", "unknown key 'colour'", 15),
    (GOOD.replace("    excludes:", "    exclude:"), "unknown key 'exclude'", 7),
    (GOOD.replace("    when: {", "    if: {"), "unknown key 'if'", 13),
    (GOOD.replace('op: "true"', "op: truthy"), "unknown operator 'truthy'", 13),
    (GOOD.replace('op: "true"', 'op: "true", any: []'), "unknown key 'any'", 13),
    (GOOD.replace("opencenter.services.harbor.certificate.enabled", "opencenter.meta.regoin"), "unknown field", 13),
    (GOOD.replace("opencenter.services.harbor.certificate.enabled", "opencenter.gitops.overlay_units.sop.enabled"),
     "unknown field", 13),
    (GOOD.replace("certificate.enabled, op", "Certificate..enabled, op"), "ill-formed field path", 13),
    (GOOD.replace("name: harbor", "name: habor"), "differs from the file name", 1),
    (GOOD.replace("name: harbor", "name: Harbor_1"), "not a DNS-1123 label", 1),
    (GOOD.replace("layer: services", "layer: platform"), "unknown layer 'platform'", 2),
    (GOOD.replace("service: harbor", "service: harbour"), "unknown service 'harbour'", 3),
    (GOOD.replace("service: harbor", "managed_service: harbor"), "needs layer managed-services", 3),
    (GOOD.replace("service: harbor", "service: harbor\nmanaged_service: alert-proxy"), "both", 4),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: ../harbor.yaml"), "contains '..'", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services/../../x.yaml"), "contains '..'", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: /etc/harbor.yaml"), "is absolute", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: C:/x.yaml"), "is absolute", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: flux-system/gotk-sync.yaml"),
     "outside the renderer-owned paths", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services//harbor.yaml"), "empty or '.'", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services/fluxcd/har bor.yaml"),
     "unsafe segment", 10),
    (GOOD.replace("    output: services/harbor\n", "    output: ../services/harbor\n"), "contains '..'", 6),
    (GOOD.replace("    output: services/harbor\n", "    output: flux-system\n"), "outside the renderer-owned", 6),
    (GOOD.replace("  - path: services/harbor", "  - path: ../../etc"), "contains '..'", 5),
    (GOOD.replace("template: services/fluxcd/harbor.yaml", "template: /etc/passwd"), "is absolute", 9),
    (GOOD.replace("    output: services/harbor\n", "    output: services/{{ cluster_name }}\n"),
     "may not be templated", 6),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services/fluxcd/{{ secrets.x }}.yaml"),
     "unknown variable(s) secrets", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services/fluxcd/{{ item.name }}.yaml"),
     "unknown variable(s) item", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services/fluxcd/{{ cluster_name }.yaml"),
     "template syntax error", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml", "output: '{{ cluster_name }}/x.yaml'"),
     "must start with a literal directory", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml",
                  "output: services/fluxcd/{{ cluster_name }}.yaml\n    for_each: opencenter.services.harbor.x"),
     "must use 'item'", 10),
    (GOOD.replace("output: services/fluxcd/harbor.yaml",
                  "output: services/fluxcd/{{ item.name }}.yaml\n    for_each: opencenter.galaxy"),
     "for_each: unknown field", 11),
    (GOOD.replace("excludes: [certificate.yaml]", "excludes: ['!certificate.yaml']"), "negated exclude", 7),
    (GOOD.replace("excludes: [certificate.yaml]", "excludes: ['../x']"), "contains '..'", 7),
    (GOOD.replace("excludes: [certificate.yaml]", "excludes: [3]"), "non-empty string", 7),
    (GOOD.replace("    when: {", "    render: maybe\n    when: {"), "render must be true or false", 13),
    (GOOD.replace("aggregate_targets: [services-fluxcd]", "aggregate_targets: services-fluxcd"),
     "must be a list", 14),
    (GOOD.replace("aggregate_targets: [services-fluxcd]", "aggregate_targets: [services-fluxcd, services-fluxcd]"),
     "listed twice", 14),
    (GOOD.replace("roots:\n", "roots:\n  - services/harbor\n"), "must be a mapping", 5),
    ("name: harbor\nlayer: services\nservice: harbor\n", "declares no roots and no files", 1),
    ("- name: harbor\n", "must be a mapping", 1),
    (GOOD.replace("name: harbor\n", ""), "missing 'name'", 1),
    (GOOD.replace("layer: services\n", "layer: 7\n"), "'layer' must be a non-empty string", 2),
    (GOOD + "name: again\n", "duplicate key 'name'", 15),
])
def test_malformed_descriptor_is_rejected_with_file_and_line(tmp_path: Path, text: str, message: str,
                                                             line: int) -> None:
    with pytest.raises(InputError) as info:
        load_one(tmp_path, text)
    error = info.value
    assert message in error.message
    assert error.code in ("DESCRIPTOR-INVALID", "YAML-DUPLICATE-KEY")
    assert error.location is not None
    assert error.location.file.endswith("harbor.yaml")
    assert error.location.line == line, error.one_line()


@pytest.mark.parametrize(("texts", "message"), [
    ((("harbor", GOOD.replace("[services-fluxcd]", "[services-fluxcd, services-nope]")),
      ("services-fluxcd", AGGREGATE)), "unknown aggregate target 'services-nope'"),
    ((("harbor", GOOD), ("services-fluxcd", AGGREGATE),
      ("other", GOOD.replace("name: harbor", "name: other").replace("service: harbor\n", "")
       .replace("[services-fluxcd]", "[harbor]"))),
     "not an aggregate 'harbor'"),
    ((("harbor", GOOD.replace("output: services/fluxcd/harbor.yaml", "output: services/harbor/flux.yaml")),
      ("services-fluxcd", AGGREGATE)), "contributes no file directly in services/fluxcd/"),
    ((("harbor", GOOD), ("services-fluxcd", AGGREGATE),
      ("harbor2", GOOD.replace("name: harbor", "name: harbor2"))), "unit 'harbor' is rendered by both"),
    ((("services-fluxcd", AGGREGATE + "service: harbor\n"),), "an aggregate has no service"),
    ((("services-fluxcd", AGGREGATE.replace("files:", "roots: [{path: x, output: services/x}]\nfiles:")),),
     "renders plain `files` only"),
    ((("services-fluxcd", AGGREGATE.replace("{directory: services/fluxcd}", "{directory: flux-system}")),),
     "outside the renderer-owned paths"),
    ((("services-fluxcd", AGGREGATE.replace("{directory: services/fluxcd}", "{dir: services/fluxcd}")),),
     "unknown key 'dir'"),
])
def test_cross_descriptor_problems(tmp_path: Path, texts: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(InputError) as info:
        load_set(tmp_path, *texts)
    assert info.value.code == "DESCRIPTOR-INVALID"
    assert message in info.value.message
    assert info.value.location is not None
    assert info.value.location.file.endswith(".yaml")
    assert info.value.location.line >= 1


def test_aggregate_target_error_points_at_the_targets_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_set(tmp_path, ("harbor", GOOD.replace("[services-fluxcd]", "[services-nope]")),
                 ("services-fluxcd", AGGREGATE))
    assert info.value.location is not None
    assert info.value.location.line == 14


def test_duplicate_names_across_directories(tmp_path: Path) -> None:
    first = write(tmp_path / "a", "harbor", GOOD)
    second = write(tmp_path / "b", "harbor", GOOD)
    aggregate = write(tmp_path / "a", "services-fluxcd", AGGREGATE)
    with pytest.raises(InputError) as info:
        load_descriptor_files([first, second, aggregate], root=tmp_path)
    assert info.value.code == "DESCRIPTOR-INVALID"
    assert "duplicate descriptor name 'harbor'" in info.value.message


def test_unexpected_entries_in_descriptor_directory(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    write(folder, "services-fluxcd", AGGREGATE)
    (folder / "README.md").write_text("notes\n")
    with pytest.raises(InputError, match="unexpected entry"):
        load_descriptors(folder)
    (folder / "README.md").unlink()
    (folder / "link.yaml").symlink_to(folder / "services-fluxcd.yaml")
    with pytest.raises(InputError) as info:
        load_descriptors(folder)
    assert info.value.code == "FILE-SYMLINK"
    with pytest.raises(InputError) as missing:
        load_descriptors(tmp_path / "nowhere")
    assert missing.value.code == "FILE-MISSING"


@pytest.mark.parametrize(("relative", "patterns", "result"), [
    ("certificate.yaml", ["certificate.yaml"], True),
    ("sub/certificate.yaml", ["certificate.yaml"], True),
    ("sub/certificate.yaml", ["/certificate.yaml"], False),
    ("10-operator/patch-subscription.yaml", ["10-operator/patch-subscription.yaml"], True),
    ("x/10-operator/patch-subscription.yaml", ["10-operator/patch-subscription.yaml"], False),
    ("policies/a.yaml", ["policies/"], True),
    ("policies", ["policies/"], False),
    ("a/b/c.yaml", ["a/**/c.yaml"], True),
    ("a/c.yaml", ["a/**/c.yaml"], True),
    ("a/b/c.yaml", ["*.yaml"], True),
    ("a/b/c.yml", ["*.yaml"], False),
    ("notes.md", ["note?.md"], True),
    ("deep/tree/file", ["deep"], True),
])
def test_gitignore_style_excludes(relative: str, patterns: list[str], result: bool) -> None:
    assert excluded(relative, patterns) is result
