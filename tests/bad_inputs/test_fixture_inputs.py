"""Bad fixture trees, selections and paths given to ``check`` / ``render --all`` / ``policy`` /
``scan-secrets``: exit 2, one line naming the path, a fix, no traceback; nothing written, no scratch
directory left behind (TMPDIR is watched)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hardening.support import Project, assert_bad_input, make_project, snapshot


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The subprocess's TMPDIR: must be empty again when the command exits."""
    path = tmp_path / "scratch"
    path.mkdir()
    return path


def run_bad(project: Project, scratch: Path, *args: str | Path, code: str, file: Path | None = None,
            contains: str = "") -> None:
    before = snapshot(project.overlay()), snapshot(project.root, dir_mtimes=False)
    proc = project.cli(*args, extra_env={"TMPDIR": str(scratch)})
    [error] = assert_bad_input(proc, code=code, file=file, contains=contains, cwd=project.root)
    assert (snapshot(project.overlay()), snapshot(project.root, dir_mtimes=False)) == before
    assert list(scratch.iterdir()) == []
    assert error.message


def test_fixture_file_that_is_a_symlink_out_of_the_tree(project: Project, scratch: Path, tmp_path: Path) -> None:
    outside = tmp_path / "host-file.yaml"
    outside.write_text("kind: ConfigMap\n", encoding="utf-8")
    link = project.overlay() / "services" / "harbor" / "linked.yaml"
    os.symlink(outside, link)
    run_bad(project, scratch, "check", code="FILE-SYMLINK", file=link)


def test_fixture_directory_that_is_a_symlink_out_of_the_tree(project: Project, scratch: Path,
                                                              tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.yaml").write_text("a: 1\n", encoding="utf-8")
    link = project.overlay() / "services" / "linked-dir"
    os.symlink(elsewhere, link, target_is_directory=True)
    run_bad(project, scratch, "check", code="FILE-SYMLINK", file=link)


def test_fixture_overlay_root_that_is_a_symlink(project: Project, scratch: Path, tmp_path: Path) -> None:
    real = tmp_path / "real-overlay"
    project.overlay().rename(real)
    os.symlink(real, project.overlay(), target_is_directory=True)
    run_bad(project, scratch, "check", code="FILE-SYMLINK", file=project.overlay())


def test_fixture_file_larger_than_max_file_bytes(tmp_path: Path, pristine: Path, scratch: Path) -> None:
    project = make_project(tmp_path / "repo", pristine=pristine, max_file_bytes=4096)  # rendered files < 2 KiB
    huge = project.overlay() / "services" / "harbor" / "override-values.yaml"
    huge.write_text("# padded\n" + "values: [" + ", ".join(["1"] * 3000) + "]\n", encoding="utf-8")
    run_bad(project, scratch, "check", code="FILE-TOO-LARGE", file=huge, contains="4096")


def test_inventory_larger_than_max_file_bytes(tmp_path: Path, pristine: Path, scratch: Path) -> None:
    project = make_project(tmp_path / "repo", pristine=pristine, max_file_bytes=4096)
    project.inventory.write_text(project.inventory.read_text(encoding="utf-8") + "# " + "x" * 5000 + "\n",
                                 encoding="utf-8")
    run_bad(project, scratch, "check", code="FILE-TOO-LARGE", file=project.inventory)


def test_special_file_in_the_fixture(project: Project, scratch: Path) -> None:
    fifo = project.overlay() / "services" / "harbor" / "pipe.yaml"
    os.mkfifo(fifo)
    run_bad(project, scratch, "check", code="FILE-SPECIAL", file=fifo)


def test_missing_fixture_directory_for_check(project: Project, scratch: Path) -> None:
    missing = project.root / "no-such-fixture"
    run_bad(project, scratch, "check", "--fixture", missing, code="FILE-MISSING", file=missing)


def test_missing_fixture_directory_for_render_all(project: Project, scratch: Path) -> None:
    missing = project.root / "no-such-fixture"
    run_bad(project, scratch, "render", "--all", "--fixture", missing, "--out-root", project.overlays,
            code="FILE-MISSING", file=missing)


def test_missing_fixture_directory_for_policy(project: Project, scratch: Path) -> None:
    missing = project.root / "no-such-fixture"
    run_bad(project, scratch, "policy", "--fixture", missing, code="FILE-MISSING", file=missing)


def test_missing_oracle_overlay_for_a_cluster(project: Project, scratch: Path) -> None:
    overlay = project.overlay()
    for folder, dirs, files in os.walk(overlay, topdown=False):
        for name in files:
            os.unlink(os.path.join(folder, name))
        for name in dirs:
            os.rmdir(os.path.join(folder, name))
    overlay.rmdir()
    run_bad(project, scratch, "check", code="FILE-MISSING", file=overlay)


def test_missing_path_for_scan_secrets(project: Project, scratch: Path) -> None:
    missing = project.root / "fixture" / "no-such-dir"
    run_bad(project, scratch, "scan-secrets", missing, code="FILE-MISSING", file=missing)


def test_unknown_cluster_for_check(project: Project, scratch: Path) -> None:
    run_bad(project, scratch, "check", "--cluster", "k8s-nope", code="USAGE", file=project.fixture,
            contains="k8s-nope")


def test_unknown_cluster_for_policy(project: Project, scratch: Path) -> None:
    run_bad(project, scratch, "policy", "--cluster", "k8s-nope", code="USAGE", file=project.fixture,
            contains="k8s-nope")


def test_unknown_service_for_render(project: Project, scratch: Path) -> None:
    run_bad(project, scratch, "render", "--config", project.config(), "--out", project.overlay(),
            "--service", "no-such-service", code="USAGE", contains="no-such-service")


def test_render_output_that_is_a_file(project: Project, scratch: Path) -> None:
    target = project.root / "not-a-dir"
    target.write_text("x\n", encoding="utf-8")
    run_bad(project, scratch, "render", "--config", project.config(), "--out", target, code="USAGE", file=target)


def test_render_output_that_is_a_symlink(project: Project, scratch: Path, tmp_path: Path) -> None:
    real = tmp_path / "real-out"
    real.mkdir()
    link = project.overlays / "k8s-linked"
    os.symlink(real, link, target_is_directory=True)
    run_bad(project, scratch, "render", "--config", project.config(), "--out", link, code="FILE-SYMLINK", file=link)
    assert list(real.iterdir()) == []


def test_symlink_inside_the_existing_overlay_is_refused_by_render(project: Project, scratch: Path,
                                                                  tmp_path: Path) -> None:
    outside = tmp_path / "victim.txt"
    outside.write_text("do not touch\n", encoding="utf-8")
    link = project.overlay() / "flux-system" / "victim.txt"
    os.symlink(outside, link)
    run_bad(project, scratch, "render", "--config", project.config(), "--out", project.overlay(),
            code="FILE-SYMLINK", file=link)
    assert outside.read_text(encoding="utf-8") == "do not touch\n"
