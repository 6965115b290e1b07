"""Issue 18 class 2: the file system. Every input path that is not a readable regular file -- a FIFO, a
device, a directory, a symlink loop, a name too long, a parent that is a file, a file without read
permission (run as root without capabilities, so modes bind) -- is one located line (exit 2), never a
hang (a FIFO or /dev/zero read forever), never INTERNAL, and nothing is written."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.hostile import Outcome, assert_one_line, assert_sane, run
from tests.hardening.support import Project, snapshot

Make = Callable[[Path], Path]


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def char_device(path: Path) -> Path:
    """A real character device node (a copy of /dev/zero) at ``path``."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("cannot create device nodes here")
    return path


def directory(path: Path) -> Path:
    path.mkdir()
    (path / "inside.yaml").write_text("a: 1\n", encoding="utf-8")
    return path


def loop(path: Path) -> Path:
    other = path.with_name(path.name + ".loop")
    os.symlink(other.name, path)
    os.symlink(path.name, other)
    return path


def unreadable(path: Path) -> Path:
    path.write_text("a: 1\n", encoding="utf-8")
    path.chmod(0)
    return path


IN_PLACE: dict[str, Make] = {"fifo": fifo, "char-device": char_device, "directory": directory, "symlink-loop": loop,
                             "unreadable": unreadable}


def replace(path: Path, kind: str) -> Path:
    """Put a ``kind`` where the regular file ``path`` was."""
    path.unlink()
    return IN_PLACE[kind](path)


def named(root: Path, kind: str) -> str:
    """A path to give on the command line for ``kind`` (created under ``root`` where needed)."""
    if kind == "dev-zero":
        return "/dev/zero"
    if kind == "dev-null":
        return "/dev/null"
    if kind == "name-too-long":
        return str(root / ("n" * 300 + ".yaml"))
    if kind == "parent-is-a-file":
        (root / "plain.yaml").write_text("a: 1\n", encoding="utf-8")
        return str(root / "plain.yaml" / "below.yaml")
    return str(IN_PLACE[kind](root / f"given-{kind}.yaml"))


GIVEN = ["fifo", "dev-zero", "dev-null", "directory", "symlink-loop", "name-too-long", "parent-is-a-file", "unreadable"]
ROLES: dict[str, Callable[[Project, str], list[str | os.PathLike[str]]]] = {
    "check --inventory": lambda p, x: ["check", "--inventory", x],
    "render --config": lambda p, x: ["render", "--config", x, "--out", p.overlay()],
    "merge-reports IN": lambda p, x: ["merge-reports", p.root / "merged.json", x],
}
CODES = ("FILE-SPECIAL", "FILE-MISSING", "FILE-SYMLINK", "FILE-UNREADABLE", "YAML-INVALID", "REPORT-INVALID",
         "INVENTORY-INVALID", "CONFIG-INVALID")


def expect_one_line(outcome: Outcome, *, file: str | Path, cwd: Path) -> None:
    error = assert_one_line(outcome, codes=CODES, cwd=cwd)
    shown = Path(error.file) if Path(error.file).is_absolute() else cwd / error.file
    assert shown in (Path(file), Path(os.path.abspath(file))), (error, str(file))


@pytest.mark.parametrize("kind", GIVEN)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_given_path_that_is_no_regular_file(project: Project, role: str, kind: str) -> None:
    (project.root / "given").mkdir()
    target = named(project.root / "given", kind)
    before = snapshot(project.overlay())
    outcome = run(ROLES[role](project, target), cwd=project.root, unprivileged=kind == "unreadable")
    expect_one_line(outcome, file=target, cwd=project.root)
    assert snapshot(project.overlay()) == before
    assert not (project.root / "merged.json").exists()


IN_PLACE_ROLES: dict[str, Callable[[Project], tuple[Path, list[str | os.PathLike[str]]]]] = {
    "cluster config (check)": lambda p: (p.config(), ["check"]),
    "cluster config (render)": lambda p: (p.config(), ["render", "--config", p.config(), "--out", p.overlay()]),
    "inventory (check)": lambda p: (p.inventory, ["check"]),
    "descriptor (render)": lambda p: (p.descriptors / "harbor.yaml",
                                      ["render", "--config", p.config(), "--out", p.overlay()]),
    "descriptor (coverage)": lambda p: (p.descriptors / "harbor.yaml", ["coverage"]),
    "template (render)": lambda p: (p.templates / "services" / "harbor" / "kustomization.yaml",
                                    ["render", "--config", p.config(), "--out", p.overlay()]),
}


PENDING_IN_PLACE: dict[tuple[str, str], pytest.MarkDecorator] = {}


@pytest.mark.parametrize(("role", "kind"), [
    pytest.param(role, kind, marks=[PENDING_IN_PLACE[role, kind]] if (role, kind) in PENDING_IN_PLACE else [])
    for role in sorted(IN_PLACE_ROLES) for kind in sorted(IN_PLACE)])
def test_an_input_file_replaced_by_something_else(local_project: Project, role: str, kind: str) -> None:
    target, args = IN_PLACE_ROLES[role](local_project)
    replace(target, kind)
    before = snapshot(local_project.overlay())
    outcome = run(args, cwd=local_project.root, unprivileged=kind == "unreadable")
    if role.endswith("(check)") and role.startswith("cluster config"):
        # check reports a config it cannot read as the cluster's render error, or refuses it as bad input
        assert_sane(outcome)
        assert outcome.returncode in (1, 2), outcome.output
        assert target.name in outcome.output
        if outcome.returncode == 1:
            assert "PARITY-RENDER-ERROR" in outcome.stdout
    elif role == "descriptor (coverage)" and kind == "directory":
        # a directory in the descriptor root is no descriptor: its templates are reported as undeclared
        assert_sane(outcome)
        assert outcome.returncode == 1, outcome.output
        assert "COVERAGE-UNDECLARED" in outcome.output
    else:
        error = assert_one_line(outcome, cwd=local_project.root)
        assert target.name in error.file or target.name in error.message, error
    assert snapshot(local_project.overlay()) == before


@pytest.mark.parametrize("kind", ["fifo", "char-device", "directory", "unreadable"])
def test_project_settings_file_replaced_by_something_else(project: Project, kind: str) -> None:
    replace(project.root / "pyproject.toml", kind)
    outcome = run(["check"], cwd=project.root, unprivileged=kind == "unreadable")
    assert_sane(outcome)
    assert outcome.returncode == 2, outcome.output


@pytest.mark.parametrize("kind", ["fifo", "char-device"])
def test_scan_secrets_given_a_special_file(project: Project, kind: str) -> None:
    target = IN_PLACE[kind](project.root / "special.yaml")
    outcome = run(["scan-secrets", target], cwd=project.root)
    assert_one_line(outcome, codes=("FILE-SPECIAL",), file=target, cwd=project.root)


def test_scan_secrets_walk_skips_a_fifo_without_blocking(project: Project) -> None:
    fifo(project.overlay() / "services" / "harbor" / "pipe.yaml")
    outcome = run(["scan-secrets", project.overlay()], cwd=project.root)
    assert_sane(outcome)


@pytest.mark.parametrize("what", ["directory", "file"])
def test_unreadable_entry_in_the_oracle_tree(project: Project, what: str) -> None:
    target = project.overlay() / "services" / "harbor"
    if what == "file":
        target = target / "kustomization.yaml"
    mode = stat.S_IMODE(target.stat().st_mode)
    target.chmod(0)
    try:
        outcome = run(["check"], cwd=project.root, unprivileged=True)
    finally:
        target.chmod(mode)
    error = assert_one_line(outcome, cwd=project.root)
    assert "services/harbor" in error.file, error


def test_symlink_loop_in_the_oracle_tree(project: Project) -> None:
    loop(project.overlay() / "services" / "harbor" / "looping.yaml")
    before = snapshot(project.overlay())
    outcome = run(["check"], cwd=project.root)
    assert_one_line(outcome, codes=("FILE-SYMLINK",), cwd=project.root)
    assert snapshot(project.overlay()) == before


def test_symlink_loop_directory_in_the_template_root(local_project: Project) -> None:
    loop(local_project.templates / "services" / "harbor" / "looping")
    outcome = run(["coverage"], cwd=local_project.root)
    assert_one_line(outcome, codes=("FILE-SYMLINK",), cwd=local_project.root)


def test_json_report_path_is_a_directory(project: Project) -> None:
    (project.root / "out.json").mkdir()
    outcome = run(["check", "--json", "out.json"], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode == 2, outcome.output
    assert "out.json" in outcome.stderr


def test_render_output_name_too_long(project: Project) -> None:
    out = project.root / ("o" * 300)
    outcome = run(["render", "--config", project.config(), "--out", out], cwd=project.root)
    assert_one_line(outcome, cwd=project.root)


def test_broken_pipe_exits_quietly(project: Project) -> None:
    import subprocess

    from tests.hardening.support import CLI, env

    command = " ".join(f"'{part}'" for part in CLI) + " check -v | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=project.root, env=env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert "Traceback" not in proc.stderr
    assert "BrokenPipe" not in proc.stderr
    assert "INTERNAL" not in proc.stderr
    assert proc.stderr.strip() == "", proc.stderr
    assert len(proc.stdout.splitlines()) == 1


@pytest.mark.parametrize("kind", ["fifo", "char-device"])
def test_special_file_in_an_overlay_under_policy(project: Project, kind: str) -> None:
    IN_PLACE[kind](project.overlay() / "services" / "harbor" / "special.yaml")
    outcome = run(["policy", project.overlay(), "--repo-root", project.root], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode in (1, 2), outcome.output


@pytest.mark.parametrize("kind", ["fifo", "char-device"])
def test_special_sourceignore_under_policy(project: Project, kind: str) -> None:
    IN_PLACE[kind](project.root / ".sourceignore")
    outcome = run(["policy", project.overlay(), "--repo-root", project.root], cwd=project.root)
    assert_sane(outcome)
    assert outcome.returncode in (1, 2), outcome.output


pytest_plugins = ("pytester",)


@pytest.mark.parametrize("kind", ["fifo", "char-device", "directory", "symlink-loop"])
def test_inventory_replaced_under_pytest_parity(pytester: pytest.Pytester, pristine: Path, kind: str) -> None:
    from tests.hardening.support import make_project

    project = make_project(pytester.path, pristine=pristine)
    replace(project.inventory, kind)
    result = pytester.runpytest_subprocess("--parity", "-p", "no:cacheprovider", "-p", "no:randomly", timeout=300)
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text
    assert "INTERNAL" not in text
    assert "inventory.yaml" in text
    assert any(code in text for code in ("FILE-SPECIAL", "FILE-SYMLINK")), text[-1500:]
    assert result.ret in (pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.USAGE_ERROR), text[-1500:]
