"""Bad input under ``pytest --parity`` (pytester, in a subprocess): a usage error (exit 4) with the one line
for a bad selection, and for bad files a failing item whose whole report is the one line -- never a
traceback -- while the fixture stays byte-identical."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.hardening.support import ONE_LINE, Project, make_project, parse_line, snapshot

pytest_plugins = ("pytester",)

SELECT = ("-k", "parity or inventory", "-p", "no:cacheprovider", "-p", "no:randomly")


@pytest.fixture
def parity_project(pytester: pytest.Pytester, pristine: Path) -> Project:
    """A project (see tests/hardening/support.py) laid out in the pytester directory."""
    project = make_project(pytester.path / "repo", pristine=pristine)
    for entry in project.root.iterdir():
        shutil.move(str(entry), pytester.path / entry.name)
    project.root.rmdir()
    return Project(pytester.path)


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, str]:
    result = pytester.runpytest_subprocess("--parity", *SELECT, *args, timeout=300)
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text, text
    return result, text


def one_line_usage_error(result: pytest.RunResult, code: str) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, errors
    line = re.sub(r"^ERROR: ", "", errors[0])
    assert ONE_LINE.match(line), line
    assert parse_line(line).code == code
    return line


def failed_item_lines(text: str, item: str) -> list[str]:
    """The report section of a failed item: exactly its error line(s)."""
    match = re.search(rf"_+ {re.escape(item)} _+\n(?P<body>.*?)(?=\n_{{3,}} |\n=+ )", text, re.S)
    assert match, text
    return [line for line in match.group("body").splitlines() if line.strip()]


def test_unknown_cluster_is_a_usage_error(parity_project: Project, pytester: pytest.Pytester) -> None:
    result, _ = run(pytester, "--parity-cluster", "k8s-nope")
    line = one_line_usage_error(result, "USAGE")
    assert "k8s-nope" in line


def test_missing_fixture_directory_is_a_usage_error(parity_project: Project, pytester: pytest.Pytester) -> None:
    result, _ = run(pytester, "--parity-fixture", str(pytester.path / "no-such-fixture"))
    line = one_line_usage_error(result, "FILE-MISSING")
    assert "no-such-fixture" in line


def test_bad_inventory_fails_each_item_with_the_one_line(parity_project: Project, pytester: pytest.Pytester) -> None:
    parity_project.inventory.write_text("version: 1.0.0\nfixture: x\nowner: me\n", encoding="utf-8")
    before = snapshot(parity_project.fixture)
    result, text = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for item in ("parity[k8s-dev]", "inventory"):
        [line] = failed_item_lines(text, item)
        error = parse_line(line)
        assert (error.file, error.line, error.code) == ("inventory.yaml", 3, "INVENTORY-INVALID")
    assert snapshot(parity_project.fixture) == before


def test_fixture_symlink_out_of_the_tree_fails_the_item(parity_project: Project, pytester: pytest.Pytester,
                                                        tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: 1\n", encoding="utf-8")
    os.symlink(outside, parity_project.overlay() / "services" / "harbor" / "linked.yaml")
    before = snapshot(parity_project.fixture)
    result, text = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    [line] = failed_item_lines(text, "parity[k8s-dev]")
    error = parse_line(line)
    assert error.code == "FILE-SYMLINK", error
    assert error.file.endswith("services/harbor/linked.yaml"), error
    assert snapshot(parity_project.fixture) == before


def test_broken_config_is_a_render_error_finding(parity_project: Project, pytester: pytest.Pytester) -> None:
    config = parity_project.config()
    config.write_text(config.read_text(encoding="utf-8").replace("    region: iad3\n", "    region: [iad3\n"),
                      encoding="utf-8")
    before = snapshot(parity_project.fixture)
    result, text = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = failed_item_lines(text, "parity[k8s-dev]")
    assert "PARITY-RENDER-ERROR" in lines[0], lines
    assert "YAML-INVALID" in lines[0], lines
    assert snapshot(parity_project.fixture) == before


def test_fixture_file_over_max_file_bytes_fails_the_item(pytester: pytest.Pytester, pristine: Path) -> None:
    project = make_project(pytester.path / "repo", pristine=pristine, max_file_bytes=4096)
    for entry in project.root.iterdir():
        shutil.move(str(entry), pytester.path / entry.name)
    project = Project(pytester.path)
    huge = project.overlay() / "services" / "harbor" / "override-values.yaml"
    huge.write_text("values: [" + ", ".join(["1"] * 3000) + "]\n", encoding="utf-8")
    result, text = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    [line] = failed_item_lines(text, "parity[k8s-dev]")
    assert parse_line(line).code == "FILE-TOO-LARGE"
