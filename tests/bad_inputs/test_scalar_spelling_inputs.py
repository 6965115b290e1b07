"""Issue 18 class 8 end to end: an oracle file that spells a scalar differently from the rendered file passes
``overlay-parity check`` exactly when the real ``kubectl kustomize`` reads both files as the same objects,
and is a PARITY-CONTENT finding otherwise (in-process, tests/harness/test_scalars_kustomize.py holds the
comparator to the same rule over a large table)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.tools import find_tool, tool_env
from tests.hardening.hostile import assert_findings, assert_sane, run
from tests.hardening.support import Project

# (oracle file, the rendered text, the oracle's spelling of the same field)
SPELLINGS = [
    ("services/harbor/networkpolicy.yaml", "port: 8080", spelling) for spelling in
    ["port: 0x1F90", "port: 0o17620", "port: 017620", "port: 8_080", "port: +8080", 'port: "8080"', "port: 8080.0",
     "port: 8.08e3", "port: !!int 8080", "port: 2:14:40"]
] + [
    ("customer-managed/fluxcd/apps.yaml", "prune: true", spelling) for spelling in
    ["prune: True", "prune: TRUE", "prune: yes", "prune: on", "prune: y", 'prune: "true"', "prune: !!bool true"]
]


def kustomize_output(directory: Path, name: str, text: str) -> str:
    directory.mkdir(parents=True)
    (directory / name).write_text(text, encoding="utf-8")
    (directory / "kustomization.yaml").write_text(f"resources:\n  - {name}\n", encoding="utf-8")
    kubectl = find_tool("kubectl")
    proc = subprocess.run([str(kubectl), "kustomize", str(directory)], capture_output=True, text=True, timeout=120,
                          env=tool_env(), check=False)
    return proc.stdout if proc.returncode == 0 else f"error: {proc.returncode}"


@pytest.mark.parametrize(("rel", "rendered", "spelling"), SPELLINGS, ids=[s for _, _, s in SPELLINGS])
def test_check_agrees_with_kustomize_on_a_respelled_scalar(project: Project, tmp_path: Path, rel: str,
                                                           rendered: str, spelling: str) -> None:
    path = project.overlay() / rel
    original = path.read_text(encoding="utf-8")
    assert rendered in original
    respelled = original.replace(rendered, spelling, 1)
    name = Path(rel).name
    same = kustomize_output(tmp_path / "a", name, original) == kustomize_output(tmp_path / "b", name, respelled)
    path.write_text(respelled, encoding="utf-8")
    outcome = run(["check"], cwd=project.root)
    assert_sane(outcome)
    if same:
        assert outcome.returncode == 0, f"kustomize reads {spelling!r} as {rendered!r}:\n{outcome.stdout[-1500:]}"
    else:
        assert_findings(outcome, "PARITY-CONTENT")
        assert rel in outcome.stdout
