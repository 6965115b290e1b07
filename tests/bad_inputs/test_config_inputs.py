"""Bad cluster configs given to ``overlay-parity render``: exit 2, one located line with a fix, no traceback,
and the existing overlay (with its flux-system/) and its parent directory byte-identical afterwards."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from tests.hardening.support import Project, assert_bad_input, snapshot
from tests.support.trees import replace_once


def render_bad(project: Project, *, code: str, line: int | None = None, column: int | None = None,
               contains: str = "") -> None:
    """Render k8s-dev with its (broken) config; assert the bad-input contract and an untouched output."""
    before = snapshot(project.overlays)
    proc = project.render()
    assert_bad_input(proc, file=project.config(), code=code, line=line, column=column, contains=contains)
    assert snapshot(project.overlays) == before


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def insert_line(path: Path, after: int, text: str) -> int:
    """Insert ``text`` as a new line after 1-based line ``after``; returns its line number."""
    lines = lines_of(path)
    lines.insert(after, text + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return after + 1


def test_malformed_yaml(project: Project) -> None:
    line = insert_line(project.config(), 8, "    zone: [iad3, : }")
    render_bad(project, code="YAML-INVALID", line=line)


def test_duplicate_keys(project: Project) -> None:
    line = insert_line(project.config(), 8, "    region: ord1")
    render_bad(project, code="YAML-DUPLICATE-KEY", line=line, contains="'region'")


def _billion_laughs(levels: int = 10) -> str:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    cap = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def test_yaml_alias_bomb_is_bounded_in_time_and_memory(project: Project) -> None:
    project.config().write_text(_billion_laughs(), encoding="utf-8")  # 10**10 nodes if expanded
    before = snapshot(project.overlays)
    started = time.monotonic()
    proc = project.cli("render", "--config", project.config(), "--out", project.overlay(), timeout=60,
                       preexec=_limit_memory)
    elapsed = time.monotonic() - started
    assert_bad_input(proc, file=project.config(), code="YAML-ALIAS-BOMB")
    assert elapsed < 30, f"alias bomb took {elapsed:.1f}s"
    assert snapshot(project.overlays) == before


@pytest.mark.parametrize("scalar", ["+_", "0o_"])
def test_plain_scalar_that_looks_like_a_number(project: Project, scalar: str) -> None:
    """ruamel's int constructor raised IndexError on these (an INTERNAL error, exit 3, before the fix)."""
    insert_line(project.config(), 8, f"    zone: {scalar}")
    before = snapshot(project.overlays)
    [error] = assert_bad_input(project.render(), file=project.config(), code="YAML-INVALID")
    assert "quote" in error.hint
    assert snapshot(project.overlays) == before


def test_tab_indented_file(project: Project) -> None:
    config = project.config()
    replace_once(config, "    region: iad3\n", "\tregion: iad3\n")
    [error] = assert_bad_input(project.render(), file=config, code="YAML-INVALID", line=8)
    assert "tabs" in error.hint


def test_non_utf8_bytes(project: Project) -> None:
    config = project.config()
    data = config.read_bytes().replace(b"region: iad3", b"region: \xe9ad3", 1)
    config.write_bytes(data)
    render_bad(project, code="FILE-NOT-UTF8", line=8, column=13)


def test_binary_file_where_yaml_is_expected(project: Project) -> None:
    project.config().write_bytes(Path("/bin/true").read_bytes()[:4096])
    render_bad(project, code="FILE-BINARY")


def test_binary_without_nul_bytes(project: Project) -> None:
    project.config().write_bytes(bytes(range(0x80, 0x100)) * 8)
    render_bad(project, code="FILE-NOT-UTF8", line=1, column=1)


@pytest.mark.parametrize("text", ["", "# only a comment\n---\n...\n"], ids=["empty", "comment-and-null-doc"])
def test_empty_config(project: Project, text: str) -> None:
    project.config().write_text(text, encoding="utf-8")
    render_bad(project, code="CONFIG-INVALID", contains="empty")


@pytest.mark.parametrize("text", ["- opencenter\n- secrets\n", "just a string\n"], ids=["list", "str"])
def test_config_with_the_wrong_top_level_type(project: Project, text: str) -> None:
    project.config().write_text(text, encoding="utf-8")
    render_bad(project, code="CONFIG-INVALID", line=1, contains="top level must be a mapping")


def test_config_larger_than_the_size_limit(project: Project) -> None:
    config = project.config()
    config.write_text(config.read_text(encoding="utf-8") + ("# padding " + "x" * 100 + "\n") * 11_000,
                      encoding="utf-8")
    [error] = assert_bad_input(project.render(), file=config, code="FILE-TOO-LARGE")
    assert "max_file_bytes" in error.hint or "split" in error.hint


def test_schema_violation_names_the_key_line(project: Project) -> None:
    replace_once(project.config(), "    region: iad3\n", "    region: iad3\n    colour: blue\n")
    render_bad(project, code="CONFIG-INVALID", line=9, contains="'colour'")


def test_missing_config_file(project: Project) -> None:
    project.config().unlink()
    render_bad(project, code="FILE-MISSING")


def test_config_that_is_a_symlink_out_of_the_tree(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(project.config().read_bytes())
    project.config().unlink()
    project.config().symlink_to(outside)
    render_bad(project, code="FILE-SYMLINK")


def test_config_that_is_a_directory(project: Project) -> None:
    project.config().unlink()
    project.config().mkdir()
    before = snapshot(project.overlays)
    proc = project.render()
    [error] = assert_bad_input(proc, file=project.config())
    assert error.code in ("FILE-MISSING", "FILE-SPECIAL", "USAGE")
    assert snapshot(project.overlays) == before


def test_every_error_line_of_a_schema_pass_is_well_formed(project: Project) -> None:
    replace_once(project.config(), "    region: iad3\n", "    region: 7\n    colour: blue\n")
    replace_once(project.config(), "      branch: main\n", "      branch: [main]\n")
    before = snapshot(project.overlays)
    parsed = assert_bad_input(project.render(), file=project.config(), code="CONFIG-INVALID", lines=3)
    assert [p.line for p in parsed] == sorted(p.line for p in parsed)
    assert snapshot(project.overlays) == before


@pytest.mark.parametrize("edit", [
    ("    region: iad3\n", "    region: [iad3\n"),
    ("    region: iad3\n", "    region: iad3\n    region: ord1\n"),
    ("ssh://git@github.com/", "http://github.com/"),
], ids=["yaml", "duplicate-key", "trust-policy"])
def test_no_output_tree_is_created_for_a_fresh_out(project: Project, edit: tuple[str, str]) -> None:
    config = project.config()
    replace_once(config, *edit)
    fresh = project.root / "out" / "k8s-dev"
    proc = project.cli("render", "--config", config, "--out", fresh)
    assert_bad_input(proc, file=config, lines=None)
    assert not fresh.exists()
    assert not (project.root / "out").exists() or list((project.root / "out").iterdir()) == []
