"""Bad descriptors and templates in a project's own template/descriptor roots, given to ``render`` (through
``renderer = "local_renderer:RENDERER"``, a ReferenceRenderer over the copies) and to ``coverage``.

Each: exit 2, one line naming the descriptor/template file and line, a fix, no traceback, and the
existing overlay (with flux-system/) plus its parent directory byte-identical afterwards."""

from __future__ import annotations

import os
from pathlib import Path

from tests.hardening.support import Project, assert_bad_input, snapshot
from tests.support.trees import replace_once

HARBOR = "harbor.yaml"  # descriptor lines: 15 = fluxcd output, 18 = certificate `when`
FLUX_OUTPUT = "    output: services/fluxcd/harbor.yaml\n"
WHEN = '    when: {field: opencenter.services.harbor.certificate.enabled, op: "true"}\n'


def line_of(path: Path, text: str) -> int:
    content = path.read_text(encoding="utf-8")
    assert text in content, text
    return content[: content.index(text)].count("\n") + 1


def render_bad(project: Project, file: Path, line: int | None, code: str, contains: str = "") -> None:
    before = snapshot(project.overlays)
    proc = project.render()
    assert_bad_input(proc, code=code, file=file, line=line, contains=contains, cwd=project.root)
    assert snapshot(project.overlays) == before


def edit_descriptor(project: Project, old: str, new: str) -> tuple[Path, int]:
    descriptor = project.descriptors / HARBOR
    line = line_of(descriptor, old)
    replace_once(descriptor, old, new)
    return descriptor, line


def test_descriptor_with_an_unknown_operator(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, WHEN, WHEN.replace('op: "true"', "op: greater_than"))
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "unknown operator")


def test_descriptor_with_an_unknown_field_path(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, WHEN, WHEN.replace(
        "opencenter.services.harbor.certificate.enabled", "opencenter.meta.no_such_field"))
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "unknown field")


def test_descriptor_with_an_ill_formed_field_path(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, WHEN, WHEN.replace(
        "opencenter.services.harbor.certificate.enabled", "opencenter..services"))
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "field path")


def test_descriptor_condition_with_a_combinator(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, WHEN, "    when: {any: [{field: opencenter.meta.region, "
                                                            "op: exists}]}\n")
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "unknown key")


def test_descriptor_with_an_unknown_key(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, "layer: services\n", "layer: services\npriority: 3\n")
    render_bad(local_project, descriptor, line + 1, "DESCRIPTOR-INVALID", "unknown key 'priority'")


def test_descriptor_output_with_dotdot(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, FLUX_OUTPUT,
                                       "    output: services/fluxcd/../../flux-system/harbor.yaml\n")
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "'..'")


def test_descriptor_output_with_an_absolute_path(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, FLUX_OUTPUT, "    output: /etc/cron.d/harbor.yaml\n")
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "absolute")


def test_descriptor_output_outside_the_owned_paths(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, FLUX_OUTPUT, "    output: flux-system/harbor.yaml\n")
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "renderer-owned")


def test_descriptor_with_an_unknown_aggregate_target(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, "aggregate_targets: [services-sources, services-fluxcd]",
                                       "aggregate_targets: [services-sources, services-everything]")
    render_bad(local_project, descriptor, line, "DESCRIPTOR-INVALID", "services-everything")


def test_descriptor_that_is_not_yaml(local_project: Project) -> None:
    descriptor, line = edit_descriptor(local_project, "layer: services\n", "layer: [services\n")
    proc = local_project.render()
    [error] = assert_bad_input(proc, file=descriptor, code="YAML-INVALID")
    assert error.line >= line


def test_template_referencing_an_undefined_variable(local_project: Project) -> None:
    template = local_project.templates / "services" / "harbor" / "override-values.yaml"
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(1, "undefined_here: {{ svc.no_such_option_anywhere }}\n")
    template.write_text("".join(lines), encoding="utf-8")
    render_bad(local_project, template, 2, "TEMPLATE-ERROR", "no_such_option_anywhere")


def test_template_with_a_jinja_syntax_error(local_project: Project) -> None:
    template = local_project.templates / "services" / "harbor" / "override-values.yaml"
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(1, "broken: {{ svc.replicas \n")
    template.write_text("".join(lines), encoding="utf-8")
    before = snapshot(local_project.overlays)
    [error] = assert_bad_input(local_project.render(), file=template, code="TEMPLATE-ERROR")
    assert error.line >= 2
    assert snapshot(local_project.overlays) == before


def _escaping_symlink(project: Project, tmp_path: Path) -> Path:
    outside = tmp_path / "outside-secret.yaml"
    outside.write_text("stolen: true\n", encoding="utf-8")
    link = project.templates / "services" / "harbor" / "escape.yaml"
    os.symlink(outside, link)
    return link


def test_template_root_containing_a_symlink_that_escapes_it(local_project: Project, tmp_path: Path) -> None:
    link = _escaping_symlink(local_project, tmp_path)
    render_bad(local_project, link, None, "FILE-SYMLINK")


def test_template_root_symlink_through_coverage(local_project: Project, tmp_path: Path) -> None:
    link = _escaping_symlink(local_project, tmp_path)
    proc = local_project.cli("coverage")
    [error] = assert_bad_input(proc, code="FILE-SYMLINK")
    assert error.file.endswith("services/harbor/escape.yaml"), error
    assert str(link.relative_to(local_project.root)) in error.file


def test_symlinked_template_directory(local_project: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "extra.yaml").write_text("a: 1\n", encoding="utf-8")
    link = local_project.templates / "services" / "harbor" / "extra"
    os.symlink(elsewhere, link, target_is_directory=True)
    render_bad(local_project, link, None, "FILE-SYMLINK")


def test_template_error_creates_no_fresh_output_tree(local_project: Project) -> None:
    template = local_project.templates / "services" / "harbor" / "override-values.yaml"
    template.write_text(template.read_text(encoding="utf-8") + "late: {{ svc.not_there }}\n", encoding="utf-8")
    fresh = local_project.root / "out" / "k8s-dev"
    proc = local_project.cli("render", "--config", local_project.config(), "--out", fresh)
    assert_bad_input(proc, code="TEMPLATE-ERROR", file=template, cwd=local_project.root)
    assert not fresh.exists()
    assert list(fresh.parent.iterdir()) == []  # no temp dir, no lock file
