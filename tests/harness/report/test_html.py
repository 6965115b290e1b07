"""The HTML fleet report: self-contained, a status grid, side-by-side redacted diffs; checked in real chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from harness.report.html_report import html_report, split_diff_line, write_html
from tests.harness.report.samples import HOSTILE, MASK, fleet

WINDOW = (1280, 1600)


class Structure(HTMLParser):
    """Collects start tags with their attributes and checks that non-void elements close in order."""

    VOID: ClassVar[set[str]] = {"meta", "br", "img", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1:] == [tag], f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    assert parser.stack == []
    return parser


def test_document_is_self_contained_and_well_nested() -> None:
    text = html_report(fleet(hostile=True), title="overlay-parity check")
    structure = parse(text)
    for tag, attrs in structure.tags:
        assert tag not in {"script", "link", "img", "iframe", "object"}, tag
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, attrs)
    assert not re.search(r"url\(|@import|https?://", text)
    csp = [a for t, a in structure.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp
    assert "default-src 'none'" in (csp[0].get("content") or "")


def test_grid_cells_carry_status_and_link_to_findings() -> None:
    structure = parse(html_report(fleet()))
    cells = [(a.get("data-check"), a.get("data-status")) for t, a in structure.tags
             if t == "td" and "cell" in (a.get("class") or "") and a.get("data-check")]
    assert cells == [("parity", "fail"), ("policy", "pass"), ("parity", "fail"), ("policy", "warn"),
                     ("parity", "pass"), ("policy", "not-run")]
    links = [a["href"] for t, a in structure.tags if t == "a" and a.get("href")]
    targets = {a.get("id") for t, a in structure.tags if a.get("id")}
    assert links
    assert all(link[1:] in targets for link in links if link)


def test_side_by_side_diff_and_redaction() -> None:
    assert split_diff_line("spec.ref.tag: 'v1.2.0' → 'v1.3.0'") == ("spec.ref.tag: 'v1.2.0'", "spec.ref.tag: 'v1.3.0'")
    assert split_diff_line("spec.interval: added '5m'") == (None, "spec.interval: '5m'")
    assert split_diff_line("a.b: removed 1") == ("a.b: 1", None)
    assert split_diff_line("-old") == ("old", None)
    assert split_diff_line("+new") == (None, "new")
    assert split_diff_line("@@ -1 +1 @@") == ("@@ -1 +1 @@", "@@ -1 +1 @@")
    text = html_report(fleet())
    assert '<div class="old">spec.ref.tag: &#x27;v1.2.0&#x27;</div><div class="new">spec.ref.tag: &#x27;v1.3.0&#x27;' \
        in text
    assert MASK.replace("<", "&lt;").replace(">", "&gt;") in text


def test_code_spans_of_our_own_advice_render_as_code() -> None:
    text = html_report(fleet())
    assert "<code>overlay-parity check --update</code>" in text
    assert "`" not in text.split("<h2>How to fix or approve</h2>")[1]


def test_hostile_names_are_escaped() -> None:
    text = html_report(fleet(hostile=True))
    assert HOSTILE not in text
    assert "\x1b" not in text
    assert "<b>@bob" not in text
    assert "evil\\n|name\\x1b[31m\\xff&lt;b&gt;@bob`x`.yaml" in text
    text.encode("utf-8")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is missing: run scripts/setup.sh (it installs Debian's chromium)"
    return found


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "fleet.html"
    write_html(fleet(), page, title="overlay-parity check")
    dom = browse(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    structure = parse(dom.stdout.replace("<!DOCTYPE html>", ""))
    rows = [a.get("data-cluster") for t, a in structure.tags if t == "tr" and a.get("data-cluster")]
    assert rows == ["k8s-dev", "k8s-prod", "k8s-qa"]
    statuses = [a.get("data-status") for t, a in structure.tags if t == "td" and a.get("data-check")]
    assert statuses == ["fail", "pass", "fail", "warn", "pass", "not-run"]
    known = [a for t, a in structure.tags if t == "div" and a.get("data-code") == "PARITY-CONTENT"]
    assert [a.get("data-cluster") for a in known] == ["k8s-dev"]
    visible = " ".join(structure.text)
    assert "testdata/fx/applications/overlays/k8s-dev/services/fluxcd/harbor.yaml:12" in visible
    assert "fixture (checked in)" in visible
    assert "spec.ref.tag: 'v1.3.0'" in visible

    shot = tmp_path / "fleet.png"
    run = browse(page, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == WINDOW
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes
