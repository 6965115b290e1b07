"""Issue 18 class 5: file names with control characters, newlines, markup or invalid UTF-8 are escaped in every
face -- the terminal, JSON, JUnit XML (which stays well-formed), SARIF, Markdown and HTML -- through the real
CLI on a real oracle tree, and in-process for generated names (Hypothesis) through every writer."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.findings import Finding
from harness.report import CheckResult, Report, format_text, junit_xml
from harness.report.html_report import html_report
from harness.report.json_report import report_json
from harness.report.markdown import markdown_report
from harness.report.sarif import sarif_json
from tests.hardening.hostile import assert_sane, run
from tests.hardening.support import Project, examples, make_project, snapshot

HOSTILE_NAMES: dict[str, bytes] = {
    "newline": b"evil\nPASSED: 0 finding(s).yaml",
    "carriage-return": b"over\rwrite.yaml",
    "escape-sequence": b"red\x1b[31mALERT\x1b[0m.yaml",
    "bell-and-backspace": b"bell\x07\x08.yaml",
    "invalid-utf8": b"bad\xff\xfe.yaml",
    "lone-continuation": b"cont\x80.yaml",
    "bidi-override": "rtl\u202egnp.yaml".encode(),
    "markup": b"<img src=x onerror=alert(1)>&amp;.yaml",
    "markdown": b"[link](http:x) `tick` | pipe *star*.yaml",
    "xml-cdata": b"]]><failure message='x'>.yaml",
    "del-and-nul-free-c1": "c1\u0085\u009b.yaml".encode(),
}
CONTROL = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} | {"\u202e", "\u2028", "\u2029"}
C0 = {chr(c) for c in range(0x20)}


@pytest.fixture
def project(tmp_path: Path, pristine: Path) -> Project:
    """A project whose k8s-dev overlay is a pristine render (flux-system/ too)."""
    return make_project(tmp_path / "repo", pristine=pristine)


def plant(project: Project, names: list[bytes]) -> None:
    folder = os.fsencode(project.overlay() / "services" / "harbor")
    for name in names:
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: planted\n")


def assert_no_raw_controls(text: str, where: str) -> None:
    bad = sorted({c for c in text if c in CONTROL and c not in "\n\t"})
    assert not bad, f"{where}: raw {bad!r}"


def check_outputs(root: Path) -> None:
    data = json.loads((root / "r.json").read_text(encoding="utf-8"))
    assert_no_raw_controls(json.dumps(data, ensure_ascii=False), "JSON values")
    ET.parse(root / "r.xml")  # noqa: S314 -- our own output, checked for well-formedness
    assert_no_raw_controls((root / "r.xml").read_text(encoding="utf-8"), "JUnit")
    sarif = json.loads((root / "r.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]
    assert_no_raw_controls(json.dumps(sarif, ensure_ascii=False), "SARIF values")
    markdown = (root / "r.md").read_text(encoding="utf-8")
    assert_no_raw_controls(markdown, "Markdown")
    assert "<img src=x" not in markdown
    html = (root / "r.html").read_text(encoding="utf-8")
    assert_no_raw_controls(html, "HTML")
    assert "<img src=x" not in html
    for text in (markdown, html, (root / "r.xml").read_text(encoding="utf-8")):
        assert not any(line.startswith("PASSED: 0") for line in text.splitlines())  # a name never breaks a line


OUTPUTS = ["--json", "r.json", "--junit", "r.xml", "--sarif", "r.sarif", "--markdown", "r.md", "--html", "r.html"]


@pytest.mark.parametrize("name", [pytest.param(name)
                                  for name in sorted(HOSTILE_NAMES)])
def test_hostile_file_name_in_the_oracle_tree(project: Project, name: str) -> None:
    plant(project, [HOSTILE_NAMES[name]])
    before = snapshot(project.overlay())
    outcome = run(["check", "-v", *OUTPUTS], cwd=project.root)
    assert_sane(outcome)
    if outcome.returncode == 2:  # refused as a name no overlay may hold: one located line
        assert len(outcome.stderr.splitlines()) == 1, outcome.stderr
    else:
        assert outcome.returncode == 1, outcome.output
        assert "PARITY-MISSING" in outcome.stdout
        assert not any(line.startswith("PASSED") for line in outcome.stdout.splitlines())
        check_outputs(project.root)
    assert snapshot(project.overlay()) == before


@pytest.mark.parametrize("command", ["scan-secrets", "policy"])
def test_every_hostile_name_at_once_under_scan_secrets_and_policy(project: Project, command: str) -> None:
    plant(project, list(HOSTILE_NAMES.values()))
    args: list[str | Path] = [command, project.overlay()]
    if command == "policy":
        args += ["--repo-root", project.root]
    outcome = run(args, cwd=project.root)
    assert_sane(outcome)


def test_hostile_names_in_the_template_root_under_coverage(tmp_path: Path, pristine: Path) -> None:
    project = make_project(tmp_path / "repo", pristine=pristine, local_renderer=True)
    folder = os.fsencode(project.templates / "services" / "harbor")
    for name in HOSTILE_NAMES.values():
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(b"kind: ConfigMap\n")
    outcome = run(["coverage", "--json", "c.json", "--sarif", "c.sarif"], cwd=project.root)
    assert_sane(outcome)  # the harbor root owns them all: clean, or one line refusing a name
    if outcome.returncode != 2:
        json.loads((project.root / "c.json").read_text(encoding="utf-8"))
        json.loads((project.root / "c.sarif").read_text(encoding="utf-8"))
    before = snapshot(project.overlay())
    outcome = run(["render", "--config", project.config(), "--out", project.overlay()], cwd=project.root)
    assert_sane(outcome)
    if outcome.returncode == 2:
        assert len(outcome.stderr.splitlines()) == 1, outcome.stderr
        assert snapshot(project.overlay()) == before


# ---------------------------------------------------------------------- every writer, generated names

NAME_CHARS = st.one_of(
    st.sampled_from(sorted(CONTROL)),
    st.sampled_from(list("<>&\"'`*_[]()|#!\\]]>-.")),
    st.characters(codec="utf-8", exclude_characters="/\x00"),
    st.integers(0x80, 0xFF).map(lambda b: bytes([b]).decode("utf-8", "surrogateescape")),  # undecodable bytes
)
HOSTILE_PATHS = st.lists(st.text(NAME_CHARS, min_size=1, max_size=12), min_size=1, max_size=3).map("/".join)


def faces_of(path: str, message: str) -> dict[str, str]:
    """One finding naming ``path`` (and ``message`` in its text and diff) in every output format."""
    finding = Finding(code="PARITY-MISSING", message=f"fixture file {message} is not rendered", check="parity",
                      cluster="k8s-dev", path=path, file=f"testdata/fx/{path}", line=3, hint="fix it",
                      diff=(f"- {message}",))
    report = Report(results=[CheckResult(name="parity[k8s-dev]", check="parity", cluster="k8s-dev",
                                         findings=[finding])])
    return {
        "text": format_text(report, verbose=True),
        "json": report_json(report),
        "junit": junit_xml(report),
        "sarif": sarif_json(report.findings(), "overlay-parity"),
        "markdown": markdown_report(report),
        "html": html_report(report),
    }


@examples(1.0)
@given(HOSTILE_PATHS, st.text(NAME_CHARS, max_size=20))
def test_every_writer_escapes_generated_names(path: str, message: str) -> None:
    faces = faces_of(path, message)
    for face, text in faces.items():
        text.encode("utf-8")  # no lone surrogate: every face is valid UTF-8
        # JSON and SARIF: C0 controls here, the rest in test_json_faces_escape_every_control below
        assert_no_raw_controls(text if face not in ("json", "sarif") else "".join(c for c in text if c in C0), face)
    json.loads(faces["json"])
    json.loads(faces["sarif"])
    ET.fromstring(faces["junit"].split("?>", 1)[-1])  # noqa: S314 -- our own output


@pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9b", "\u2028", "\u202e"])
def test_json_faces_escape_every_control(char: str) -> None:
    faces = faces_of(f"a{char}b.yaml", char)
    assert_no_raw_controls(faces["json"], "json")
    assert_no_raw_controls(faces["sarif"], "sarif")
