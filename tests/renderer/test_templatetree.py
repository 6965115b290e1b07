"""The template-root snapshot (renderer.templatetree): planning from one listing answers exactly what asking
the file system path by path answers, errors included; the coverage gate sees every change of the tree."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError
from renderer.api import ReferenceRenderer, coverage_gate
from renderer.config import load_config
from renderer.descriptors import load_descriptors
from renderer.plan import _Planner, _walk, build_context, plan_render
from renderer.templatetree import snapshot, walk_files

from .conftest import TEMPLATES, config_path


def answer(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except InputError as exc:
        return "error", exc.one_line()


def planners(template_root: Path) -> tuple[_Planner, _Planner]:
    """A planner answering from a snapshot and one asking the file system, over the same root."""
    config = load_config(config_path("k8s-dev"))
    descriptors = load_descriptors()
    root = template_root.resolve()
    tree = snapshot(root)
    assert tree.complete
    return (_Planner(descriptors, config, root, build_context(config), tree),
            _Planner(descriptors, config, root, build_context(config), None))


@pytest.fixture
def odd_tree(template_copy: Path, tmp_path: Path) -> Path:
    """The template copy with a symlinked file, a symlinked directory, a FIFO and a nested directory."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text("a: 1\n")
    (template_copy / "services" / "calico" / "linked.yaml").symlink_to(outside / "x.yaml")
    (template_copy / "services" / "harbor" / "linked-dir").symlink_to(outside, target_is_directory=True)
    os.mkfifo(template_copy / "services" / "keycloak" / "pipe")
    (template_copy / "services" / "cert-manager" / "deep" / "er").mkdir(parents=True)
    (template_copy / "services" / "cert-manager" / "deep" / "er" / "file.yaml").write_text("a: 1\n")
    return template_copy


RELATIVE = ["services/calico", "services/calico/linked.yaml", "services/harbor/linked-dir",
            "services/harbor/linked-dir/x.yaml", "services/keycloak/pipe", "services/cert-manager/deep",
            "services/cert-manager/deep/er/file.yaml", "services/none", "services/calico/kustomization.yaml",
            "services/calico/kustomization.yaml/below", "kustomization.yaml", "services"]


@pytest.mark.parametrize("relative", RELATIVE)
@pytest.mark.parametrize("directory", [True, False])
def test_template_paths_answer_like_the_file_system(odd_tree: Path, relative: str, directory: bool) -> None:
    fast, slow = planners(odd_tree)
    descriptor = next(iter(load_descriptors()))
    assert answer(lambda: fast.template_path(descriptor, relative, 7, directory=directory)) == \
        answer(lambda: slow.template_path(descriptor, relative, 7, directory=directory))


@pytest.mark.parametrize("base", ["services/calico", "services/harbor", "services/keycloak", "services/cert-manager",
                                  "services", "managed-services"])
def test_root_listings_answer_like_os_walk(odd_tree: Path, base: str) -> None:
    tree = snapshot(odd_tree)
    assert answer(lambda: walk_files(tree, base)) == answer(lambda: _walk(odd_tree.resolve() / base))


def test_root_listing_of_the_packaged_templates_is_os_walk() -> None:
    tree = snapshot(TEMPLATES)
    for base in sorted(tree.listing):
        if base:
            assert walk_files(tree, base) == _walk(TEMPLATES.resolve() / base)


def test_a_symlink_in_another_unit_does_not_break_a_single_service_plan(template_copy: Path,
                                                                        tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("a: 1\n")
    (template_copy / "services" / "calico" / "linked.yaml").symlink_to(tmp_path / "x.yaml")
    renderer = ReferenceRenderer(template_root=template_copy, check_coverage=False)
    assert renderer.plan(config_path("k8s-dev"), service="harbor").files
    with pytest.raises(InputError) as info:
        renderer.plan(config_path("k8s-dev"))
    assert info.value.code == "FILE-SYMLINK"
    assert info.value.location is not None
    assert info.value.location.file == str(template_copy.resolve() / "services" / "calico" / "linked.yaml")


def test_the_coverage_gate_sees_a_new_undeclared_template(template_copy: Path, descriptor_copy: Path) -> None:
    coverage_gate(template_copy, descriptor_copy)
    coverage_gate(template_copy, descriptor_copy, templates=snapshot(template_copy))  # cached verdict
    (template_copy / "services" / "harbor" / "stray").mkdir()
    (template_copy / "services" / "harbor" / "stray" / "extra.yaml").write_text("a: 1\n")
    (template_copy / "orphan.yaml").write_text("a: 1\n")
    with pytest.raises(InputError) as info:
        coverage_gate(template_copy, descriptor_copy, templates=snapshot(template_copy))
    assert "COVERAGE-UNDECLARED" in str(info.value)
    (template_copy / "orphan.yaml").unlink()
    (template_copy / "services" / "harbor" / "stray" / "extra.yaml").unlink()
    (template_copy / "services" / "harbor" / "stray").rmdir()
    coverage_gate(template_copy, descriptor_copy)


def test_the_coverage_gate_sees_a_descriptor_edit(template_copy: Path, descriptor_copy: Path) -> None:
    coverage_gate(template_copy, descriptor_copy)
    harbor = descriptor_copy / "harbor.yaml"
    text = harbor.read_text(encoding="utf-8")
    dropped = ("  - template: services/harbor/certificate.yaml\n    output: services/harbor/certificate.yaml\n"
               "    when: {field: opencenter.services.harbor.certificate.enabled, op: \"true\"}\n")
    assert dropped in text
    harbor.write_text(text.replace(dropped, ""), encoding="utf-8")  # certificate.yaml is now owned by no one
    with pytest.raises(InputError) as info:
        coverage_gate(template_copy, descriptor_copy)
    assert "COVERAGE-UNDECLARED" in str(info.value)


def calico_walk_errors(template_copy: Path) -> list[InputError]:
    """The error each root walk (from a snapshot, from the file system) raises over services/calico."""
    walks: list[Callable[[], list[str]]] = [lambda: walk_files(snapshot(template_copy.resolve()), "services/calico"),
                                            lambda: _walk(template_copy.resolve() / "services" / "calico")]
    errors: list[InputError] = []
    for walk in walks:
        with pytest.raises(InputError) as info:
            walk()
        errors.append(info.value)
    return errors


def test_a_special_file_in_the_template_root_is_file_special_not_a_symlink(template_copy: Path) -> None:
    fifo = template_copy / "services" / "calico" / "pipe.yaml"
    os.mkfifo(fifo)
    for error in calico_walk_errors(template_copy):
        assert error.code == "FILE-SPECIAL"
        assert error.location is not None
        assert error.location.file.endswith("pipe.yaml")
    with pytest.raises(InputError) as planned:
        plan_render(load_descriptors(), load_config(config_path("k8s-dev")), template_root=template_copy)
    assert planned.value.code == "FILE-SPECIAL"


@pytest.mark.parametrize("name", ["kustomization.yaml", "extra.yml", "values.JSON", "Kustomization"])
def test_a_directory_named_like_a_manifest_in_a_root_is_refused(template_copy: Path, name: str) -> None:
    folder = template_copy / "services" / "calico" / name
    folder.unlink(missing_ok=True)
    folder.mkdir()
    (folder / "inside.yaml").write_text("a: 1\n", encoding="utf-8")
    for error in calico_walk_errors(template_copy):
        assert error.code == "FILE-SPECIAL"
        assert "is a directory" in error.one_line()
        assert error.location is not None
        assert error.location.file.endswith(name)


def test_an_ordinary_subdirectory_of_a_root_is_walked(template_copy: Path) -> None:
    folder = template_copy / "services" / "calico" / "crds.d"
    folder.mkdir()
    (folder / "inside.yaml").write_text("a: 1\n", encoding="utf-8")
    assert "crds.d/inside.yaml" in walk_files(snapshot(template_copy.resolve()), "services/calico")
