"""The report flags on the real CLI: --markdown, --html, --github-summary, --sarif, --junit, --json.

Runs ``overlay-parity`` in process on the generated project (tests/integration/fake_project.py) with one
planted difference, and on the commands that share the report options.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

import pytest
from lxml import etree

from harness.cli import main
from tests.integration.fake_project import FakeProject, make_project

APP = "services/fluxcd/app.yaml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProject:
    made = make_project(tmp_path / "project")
    text = (made.overlay("k8s-b") / APP).read_text(encoding="utf-8")
    made.set_rendered("k8s-b", APP, text.replace("interval: 5m", "interval: 7m").replace(
        "    kustomize.toolkit.fluxcd.io/reconcile: enabled\n", "").replace("  annotations:\n", ""))
    monkeypatch.chdir(made.root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return made


def test_check_writes_every_format(project: FakeProject, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["check", "--json", str(out / "r.json"), "--junit", str(out / "r.xml"), "--sarif", str(out / "r.sarif"),
                 "--markdown", str(out / "r.md"), "--html", str(out / "r.html")])
    assert code == 1, capsys.readouterr()
    fixture_file = f"{project.FIXTURE_DIR}/applications/overlays/k8s-b/{APP}"
    markdown = (out / "r.md").read_text(encoding="utf-8")
    assert markdown.startswith("## overlay-parity check\n")
    assert "❌ **overlay-parity check: FAILED**: 1 of 4 checks failed, 1 finding(s) (PARITY-CONTENT: 1)" in markdown
    assert "| k8s-b | ❌ fail (1) |" in markdown
    assert f"- **{fixture_file}" in markdown
    assert "spec.interval: '5m' → '7m'" in markdown
    html = (out / "r.html").read_text(encoding="utf-8")
    assert '<table id="grid">' in html
    assert 'data-code="PARITY-CONTENT" data-cluster="k8s-b"' in html
    sarif = json.loads((out / "r.sarif").read_text(encoding="utf-8"))
    result = sarif["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == fixture_file
    for place in [result["locations"][0], *result.get("relatedLocations", [])]:
        assert (project.root / unquote(place["physicalLocation"]["artifactLocation"]["uri"])).is_file()
    case = etree.parse(str(out / "r.xml")).find(".//testcase[@name='parity[k8s-b]']")
    assert case is not None
    assert case.get("file") == fixture_file
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == "1.1.0"
    finding = data["results"][1]["findings"][0]
    assert finding["file"] == fixture_file
    assert ("canonicalization/fake-fixture.yaml", "inventory-rule") in {(r["file"], r["role"]) for r in
                                                                         finding["related"]}


def test_github_summary_appends_or_refuses_before_the_run(project: FakeProject, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "r.json"
    assert main(["check", "--github-summary", "--json", str(report)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.match(r"^USAGE: --github-summary needs \$GITHUB_STEP_SUMMARY", err), err
    assert not report.exists()  # refused before the run
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", "--github-summary"]) == 1
    assert main(["check", "--github-summary", "--cluster", "k8s-a"]) == 0
    text = summary.read_text(encoding="utf-8")
    assert text.count("## overlay-parity check\n") == 2
    assert "✅ **overlay-parity check: PASSED**" in text


def test_an_unwritable_report_is_one_line_exit_2(project: FakeProject, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").mkdir()
    assert main(["check", "--markdown", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{tmp_path / 'taken'}: REPORT-UNWRITABLE: cannot write the report")
    assert len(err.splitlines()) == 1


def test_the_other_commands_take_the_same_report_flags(project: FakeProject, tmp_path: Path) -> None:
    shards = []
    for index in (1, 2):
        shards.append(tmp_path / f"shard-{index}.json")
        main(["check", "--shard", f"{index}/2", "--json", str(shards[-1])])
    assert main(["merge-reports", str(tmp_path / "merged.json"), *map(str, shards), "--markdown",
                 str(tmp_path / "merged.md"), "--html", str(tmp_path / "merged.html")]) == 1
    assert "overlay-parity merge-reports: FAILED" in (tmp_path / "merged.md").read_text(encoding="utf-8")
    assert '<table id="grid">' in (tmp_path / "merged.html").read_text(encoding="utf-8")
    assert main(["scan-secrets", "--markdown", str(tmp_path / "secrets.md"), "--html",
                 str(tmp_path / "secrets.html")]) == 0
    assert "overlay-parity scan-secrets: PASSED" in (tmp_path / "secrets.md").read_text(encoding="utf-8")


def test_a_hostile_file_name_is_escaped_in_every_face(project: FakeProject, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18 item 5: a fixture file named with a newline, an escape sequence and a byte that is not UTF-8."""
    directory = os.fsencode(project.overlay("k8s-a") / "services" / "app")
    with open(directory + b"/evil\n\x1b[31mred\xff.yaml", "wb") as handle:
        handle.write(b"a: 1\n")
    out = tmp_path / "out"
    assert main(["check", "--cluster", "k8s-a", "--json", str(out / "r.json"), "--junit", str(out / "r.xml"),
                 "--sarif", str(out / "r.sarif"), "--markdown", str(out / "r.md"), "--html",
                 str(out / "r.html")]) == 1
    stdout = capsys.readouterr().out
    shown = "services/app/evil\\n\\x1b[31mred\\xff.yaml"
    assert f"PARITY-MISSING {shown}: renderer-owned fixture file is not rendered" in stdout
    assert "\x1b" not in stdout
    for name in ("r.json", "r.sarif", "r.md", "r.html", "r.xml"):
        text = (out / name).read_bytes().decode("utf-8")  # strict: valid UTF-8
        assert "\x1b" not in text
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert data["results"][0]["findings"][0]["path"] == "services/app/evil\n\\x1b[31mred\\xff.yaml"
    etree.parse(str(out / "r.xml"), etree.XMLParser(recover=False))
    uri = json.loads((out / "r.sarif").read_text(encoding="utf-8"))["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("services/app/evil%0A%1B%5B31mred%FF.yaml")
    assert os.path.exists(os.fsencode(project.root) + b"/" + unquote_to_bytes(uri))
    assert "evil\\\\n\\\\x1b\\[31mred\\\\xff.yaml" in (out / "r.md").read_text(encoding="utf-8")
    assert "evil\\n\\x1b[31mred\\xff.yaml" in (out / "r.html").read_text(encoding="utf-8")
