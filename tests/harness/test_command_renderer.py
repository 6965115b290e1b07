"""The command renderer (harness.command_renderer): runs from the project root, refuses to recurse into
itself, has a timeout that kills the whole process tree, and treats diagnostics as optional."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.command_renderer import CHAIN_ENV, UNKNOWN_OWNER, CommandRenderer
from harness.errors import InputError
from tests.hardening.support import run_cli

WRITES_CWD = textwrap.dedent("""\
    #!{python}
    import os, pathlib, sys
    out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    (out / "kustomization.yaml").write_text("resources: []\\n")
    (out / "services").mkdir(exist_ok=True)
    (out / "services" / "cwd.txt").write_text(os.getcwd())
""")


def _project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    (root / "bin").mkdir(parents=True)
    script = root / "bin" / "render"
    script.write_text(WRITES_CWD.format(python=sys.executable))
    script.chmod(0o755)
    config = root / ".k8s-dev-config.yaml"
    config.write_text("{}\n")
    return root, config


def test_a_relative_command_runs_from_the_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, config = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    renderer = CommandRenderer("bin/render {out}", cwd=root)
    renderer.check_program()
    plan = renderer.render(config, Path("out"))  # a relative --out stays relative to the caller
    written = elsewhere / "out" / "services" / "cwd.txt"
    assert written.read_text() == str(root)
    assert plan.owner_of("services/cwd.txt") == UNKNOWN_OWNER  # no diagnostics: owner unknown
    assert plan.owner_of("kustomization.yaml") == UNKNOWN_OWNER


def test_a_missing_relative_program_names_the_project_root(tmp_path: Path) -> None:
    root, _ = _project(tmp_path)
    with pytest.raises(InputError) as info:
        CommandRenderer("bin/nothing {out}", cwd=root).check_program()
    assert info.value.code == "RENDERER-INVALID"
    assert str(root) in info.value.hint


def test_diagnostics_are_optional_and_malformed_ones_are_refused(tmp_path: Path) -> None:
    root, config = _project(tmp_path)
    script = root / "bin" / "diag"
    script.write_text(f"#!{sys.executable}\nimport pathlib, sys\n"
                      "pathlib.Path(sys.argv[2]).write_text(pathlib.Path(sys.argv[3]).read_text())\n"
                      "pathlib.Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)\n"
                      "(pathlib.Path(sys.argv[1]) / 'a.yaml').write_text('a: 1\\n')\n")
    script.chmod(0o755)
    plan = {"cluster": "k8s-dev", "actions": [{"owner": "unit-a", "template": "t", "output": "a.yaml"}]}
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(plan))
    good = CommandRenderer(f"bin/diag {{out}} {{diagnostics}} {source}", cwd=root)
    assert good.render(config, tmp_path / "o1").owner_of("a.yaml") == "unit-a"
    for broken in ("not json", "[1, 2]", '{"actions": [{"owner": "x"}]}', '{"actions": 3}'):
        source.write_text(broken)
        renderer = CommandRenderer(f"bin/diag {{out}} {{diagnostics}} {source}", cwd=root)
        with pytest.raises(InputError) as info:
            renderer.render(config, tmp_path / "o2")
        assert info.value.code == "RENDERER-INVALID"
        assert "diagnostics" in info.value.message
        assert not (tmp_path / ".o2.diagnostics.json").exists()


def test_a_timeout_kills_the_whole_process_tree(tmp_path: Path) -> None:
    root, config = _project(tmp_path)
    pid_file = tmp_path / "grandchild.pid"
    script = root / "bin" / "slow"
    script.write_text(f"#!{sys.executable}\nimport subprocess, sys, time, pathlib\n"
                      "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
                      f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\ntime.sleep(300)\n")
    script.chmod(0o755)
    with pytest.raises(InputError) as info:
        CommandRenderer("bin/slow {out}", timeout=1.5, cwd=root).render(config, tmp_path / "out")
    assert info.value.code == "RENDERER-INVALID"
    assert "timed out after 1.5s" in info.value.message
    grandchild = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        _wait_gone(grandchild)


def _wait_gone(pid: int) -> None:
    """Raise ProcessLookupError once ``pid`` is gone (a killed orphan is reaped by init shortly)."""
    for _ in range(200):
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"):
            raise ProcessLookupError(pid)  # a zombie: killed, waiting to be reaped
        subprocess.run(["sleep", "0.05"], check=True)


def test_a_renderer_that_calls_overlay_parity_with_itself_is_refused_at_once(tmp_path: Path) -> None:
    root, config = _project(tmp_path)
    script = root / "bin" / "recurse"
    script.write_text(f"#!{sys.executable}\nimport subprocess, sys\n"
                      f"sys.exit(subprocess.run([{sys.executable!r}, '-m', 'harness.cli', 'render', '--config', "
                      "sys.argv[1], '--out', sys.argv[2]]).returncode)\n")
    script.chmod(0o755)
    settings = '[tool.overlay-parity]\nfixture = "."\nrenderer = "bin/recurse {config} {out}"\n'
    (root / "pyproject.toml").write_text(settings)
    result = run_cli(["render", "--config", config, "--out", tmp_path / "out"], cwd=root, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "RENDERER-INVALID" in result.stderr
    assert "endless recursion refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_recursion_guard_keys_on_the_command_and_its_root(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    first = CommandRenderer("render-a {out}", cwd=tmp_path)
    monkeypatch.setenv(CHAIN_ENV, os.pathsep.join(["0123456789abcdef", first.identity()]))
    with pytest.raises(InputError, match="recursion"):
        first.refuse_recursion()
    CommandRenderer("render-b {out}", cwd=tmp_path).refuse_recursion()  # another command may run
    CommandRenderer("render-a {out}", cwd=tmp_path / "other").refuse_recursion()  # the same in another repo too
