"""SARIF that code scanning anchors, on a copy of the bundled fixture with planted differences.

The project is a copy of the bundled fixture, inventory, templates and descriptors (never testdata/
itself), with planted problems: a changed key in a multi-document fixture file of k8s-dev, a deleted
fixture file of k8s-qa (rendered, not in the fixture), an extra fixture file in k8s-prod (not rendered);
for coverage a template no descriptor owns, for policy a Flux Kustomization without ``prune: true``.
Every URI of every result and related location of ``check``, ``coverage`` and ``policy`` must resolve to
a file that exists, at a line the file has.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[2]
FIXTURE = "testdata/relaypoint-logistics-shared"
INVENTORY = "canonicalization/relaypoint-logistics-shared.yaml"
OVERLAYS = f"{FIXTURE}/applications/overlays"
HARBOR = "services/fluxcd/harbor.yaml"
LONGHORN = "services/fluxcd/longhorn.yaml"
EXTRA = "services/fluxcd/extra.yaml"
# Not renderer/: a directory of that name in the project root would shadow the `renderer` package that the
# project's `renderer = "renderer.api:RENDERER"` names.
TEMPLATES = "render/templates"
DESCRIPTORS = "render/descriptors"
STRAY = f"{TEMPLATES}/services/stray.yaml"


def _copy_project(root: Path) -> Path:
    shutil.copytree(REPO / FIXTURE, root / FIXTURE)
    shutil.copytree(REPO / "renderer" / "templates", root / TEMPLATES)
    shutil.copytree(REPO / "renderer" / "descriptors", root / DESCRIPTORS)
    (root / "canonicalization").mkdir()
    shutil.copy2(REPO / INVENTORY, root / INVENTORY)
    (root / "pyproject.toml").write_text(
        "[tool.overlay-parity]\n"
        f'fixture = "{FIXTURE}"\n'
        f'inventory = "{INVENTORY}"\n'
        'renderer = "renderer.api:RENDERER"\n'
        f'template_root = "{TEMPLATES}"\n'
        f'descriptor_root = "{DESCRIPTORS}"\n', encoding="utf-8")
    return root


def _plant(root: Path) -> int:
    """Plant the differences; return the line of the changed key in k8s-dev's harbor.yaml."""
    harbor = root / OVERLAYS / "k8s-dev" / HARBOR
    lines = harbor.read_text(encoding="utf-8").splitlines(keepends=True)
    second = [n for n, line in enumerate(lines) if line.startswith("---")][1]
    changed = next(n for n in range(second, len(lines)) if lines[n].strip() == "timeout: 10m")
    lines[changed] = lines[changed].replace("10m", "11m")
    harbor.write_text("".join(lines), encoding="utf-8")
    (root / OVERLAYS / "k8s-qa" / LONGHORN).unlink()
    (root / OVERLAYS / "k8s-prod" / EXTRA).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                                                      encoding="utf-8")
    return changed + 1


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = _copy_project(tmp_path_factory.mktemp("anchors") / "repo")
    return root, _plant(root)


def _run(root: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, dict[str, Any]]:
    monkeypatch.chdir(root)
    out = root.parent / f"{argv[0]}-{len(list(root.parent.glob('*.sarif')))}.sarif"
    code = main([*argv, "--sarif", str(out)])
    return code, json.loads(out.read_text(encoding="utf-8"))


def _places(log: dict[str, Any]) -> list[tuple[str, int]]:
    places = []
    for result in log["runs"][0]["results"]:
        for location in [*result["locations"], *result.get("relatedLocations", [])]:
            physical = location["physicalLocation"]
            places.append((unquote(physical["artifactLocation"]["uri"]), physical["region"]["startLine"]))
    return places


def _assert_resolve(root: Path, log: dict[str, Any]) -> None:
    places = _places(log)
    assert places
    for uri, line in places:
        path = root / uri
        assert path.is_file(), uri
        assert not Path(uri).is_absolute()
        assert 1 <= line <= max(1, len(path.read_bytes().splitlines())), (uri, line)


def test_check_results_anchor_at_existing_files(planted: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    root, key_line = planted
    code, log = _run(root, monkeypatch, "check")
    assert code == 1
    _assert_resolve(root, log)
    results = {(r["ruleId"], r["properties"]["cluster"]): r for r in log["runs"][0]["results"]}
    assert set(results) == {("PARITY-CONTENT", "k8s-dev"), ("PARITY-UNEXPECTED", "k8s-qa"),
                            ("PARITY-MISSING", "k8s-prod")}

    content = results[("PARITY-CONTENT", "k8s-dev")]
    physical = content["locations"][0]["physicalLocation"]
    assert unquote(physical["artifactLocation"]["uri"]) == f"{OVERLAYS}/k8s-dev/{HARBOR}"
    assert physical["region"]["startLine"] == key_line  # the line of the differing key
    related = {(unquote(r["physicalLocation"]["artifactLocation"]["uri"]), r["message"]["text"])
               for r in content.get("relatedLocations", [])}
    assert (f"{TEMPLATES}/{HARBOR}", "the template that renders the file") in related

    unexpected = results[("PARITY-UNEXPECTED", "k8s-qa")]["locations"][0]["physicalLocation"]
    assert unquote(unexpected["artifactLocation"]["uri"]) == f"{TEMPLATES}/{LONGHORN}"
    missing = results[("PARITY-MISSING", "k8s-prod")]["locations"][0]["physicalLocation"]
    assert unquote(missing["artifactLocation"]["uri"]) == f"{OVERLAYS}/k8s-prod/{EXTRA}"

    again = _run(root, monkeypatch, "check")[1]
    prints = sorted(r["partialFingerprints"]["overlayParity/v1"] for r in log["runs"][0]["results"])
    assert prints == sorted(r["partialFingerprints"]["overlayParity/v1"] for r in again["runs"][0]["results"])
    assert len(set(prints)) == len(prints)


def test_coverage_results_anchor_at_templates_and_descriptors(planted: tuple[Path, int],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = planted
    (root / STRAY).write_text("stray: true\n", encoding="utf-8")  # the renderer refuses to render with it
    try:
        code, log = _run(root, monkeypatch, "coverage")
        _assert_resolve(root, log)
    finally:
        (root / STRAY).unlink()
    assert code == 1
    uris = [unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in log["runs"][0]["results"]]
    assert STRAY in uris


@pytest.mark.parametrize("repo_root", [("--repo-root", "."), ()], ids=["repo-root", "project-root"])
def test_policy_on_an_overlay_anchors_at_its_files(planted: tuple[Path, int], monkeypatch: pytest.MonkeyPatch,
                                                   repo_root: tuple[str, ...]) -> None:
    root, _ = planted
    harbor = root / OVERLAYS / "k8s-dev" / HARBOR
    original = harbor.read_text(encoding="utf-8")
    harbor.write_text(original.replace("prune: true", "prune: false", 1), encoding="utf-8")
    try:
        code, log = _run(root, monkeypatch, "policy", f"{OVERLAYS}/k8s-dev", *repo_root)
    finally:
        harbor.write_text(original, encoding="utf-8")
    assert code == 1
    _assert_resolve(root, log)
    prune = [r for r in log["runs"][0]["results"] if r["ruleId"] == "POLICY-PRUNE"]
    assert prune
    physical = prune[0]["locations"][0]["physicalLocation"]
    assert unquote(physical["artifactLocation"]["uri"]) == f"{OVERLAYS}/k8s-dev/{HARBOR}"
    assert original.splitlines()[physical["region"]["startLine"] - 1].strip() == "prune: true"  # the planted key


def test_policy_on_a_render_anchors_at_templates(planted: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = planted
    template = root / TEMPLATES / HARBOR
    original = template.read_text(encoding="utf-8")
    template.write_text(original.replace("prune: true", "prune: false", 1), encoding="utf-8")
    try:
        code, log = _run(root, monkeypatch, "policy", "--cluster", "k8s-dev")
    finally:
        template.write_text(original, encoding="utf-8")
    assert code == 1
    _assert_resolve(root, log)
    prune = [r for r in log["runs"][0]["results"] if r["ruleId"] == "POLICY-PRUNE"]
    assert [unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in prune] == \
        [f"{TEMPLATES}/{HARBOR}"]  # the rendered file lived in a temporary directory: its template is the source
