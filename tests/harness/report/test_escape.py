"""Hostile file names (any bytes: control characters, newlines, invalid UTF-8) in every face of a report.

One escaping function per target format (harness/report/escape.py); each face is fed a finding whose
path, file, message, cluster and diff carry the name, and must stay well-formed and single-line.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote_to_bytes

import jsonschema
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from harness.findings import Finding, Location
from harness.report import CheckResult, Report, format_finding, format_text, junit_xml
from harness.report import escape as esc
from harness.report.html_report import html_report
from harness.report.json_report import report_json, report_schema
from harness.report.markdown import markdown_report
from harness.report.sarif import to_sarif

NAMES = st.binary(min_size=1, max_size=40).map(lambda raw: raw.decode("utf-8", "surrogateescape"))
RAW_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e]")
XSD = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("junit.xsd"))))
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


def hostile_report(name: str) -> Report:
    finding = Finding(code="PARITY-CONTENT", message=f"{name} differs", check="parity", cluster=f"c{name}",
                      path=name, line=2, hint=f"fix {name}", owner=name, rules=(name,),
                      diff=(f"{name}: 'a' → 'b'",), file=f"testdata/{name}",
                      related=(Location(f"templates/{name}", 1, "template"),))
    return Report(results=[CheckResult(f"parity[{name}]", "parity", f"c{name}", [finding], 0.1),
                           CheckResult("coverage", "coverage", "", [])])


def test_escape_functions_on_known_characters() -> None:
    name = "a\nb\tc\x1b\x7f\x85\u202e\udcff\ud800é"
    assert esc.terminal(name) == "a\\nb\\tc\\x1b\\x7f\\x85\\u202e\\xff\\ud800é"
    assert esc.json_text(name) == "a\nb\tc\\x1b\\x7f\\x85\\u202e\\xff\\ud800é"
    assert esc.xml_text(name) == "a\nb\tc\\x1b\x7f\x85\u202e\\xff\\ud800é"
    assert esc.uri_path("dir/a b\udcff") == "dir/a%20b%FF"
    assert esc.markdown_inline("a|b*c_<d>@e") == "a\\|b\\*c\\_&lt;d&gt;@&#8203;e"
    assert esc.html_text("<a href='x'>") == "&lt;a href=&#x27;x&#x27;&gt;"
    assert esc.code_fence(["x ``` y", "````"]) == "`````"
    assert esc.terminal("plain/path-1.yaml") == "plain/path-1.yaml"


@given(NAMES)
def test_terminal_text_is_one_printable_line_per_row(name: str) -> None:
    block = format_finding(hostile_report(name).findings()[0])
    assert len(block.splitlines()) == 4  # head, context, the diff line, the fix: nothing a name added
    assert not RAW_UNSAFE.search(block.replace("\n", ""))
    text = format_text(hostile_report(name), verbose=True)
    assert not RAW_UNSAFE.search(text.replace("\n", ""))
    text.encode("utf-8")


@given(NAMES)
def test_json_is_strict_utf8_and_valid(name: str) -> None:
    text = report_json(hostile_report(name))
    data = json.loads(text.encode("utf-8").decode("utf-8", "strict"))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    assert data["results"][0]["findings"][0]["path"] == esc.json_text(name)


@given(NAMES)
def test_junit_stays_well_formed_and_valid(name: str) -> None:
    root = etree.fromstring(junit_xml(hostile_report(name)).encode("utf-8"), STRICT)
    XSD.assertValid(root)
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == esc.terminal(f"parity[{name}]")


@given(NAMES)
def test_sarif_uris_keep_the_bytes_and_messages_one_line(name: str) -> None:
    log = json.loads(json.dumps(to_sarif(hostile_report(name).findings(), "t"), ensure_ascii=False)
                     .encode("utf-8").decode("utf-8", "strict"))
    result = log["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert re.fullmatch(r"[A-Za-z0-9_.~/%-]*", uri)
    expected = ("testdata/" + name).replace("\\", "/").encode("utf-8", "surrogateescape")
    assert unquote_to_bytes(uri) == b"/".join(part for part in expected.split(b"/") if part not in (b"", b"."))
    assert "\n" not in result["message"]["text"]
    assert not RAW_UNSAFE.search(result["message"]["text"])


@given(NAMES)
def test_markdown_keeps_lines_and_cells(name: str) -> None:
    text = markdown_report(hostile_report(name))
    assert not RAW_UNSAFE.search(text.replace("\n", ""))
    items = [line for line in text.splitlines() if line.startswith("- **testdata/")]
    assert len(items) == 1  # the finding is one list item whatever its name
    for row in (line for line in text.splitlines() if line.startswith("| c")):
        assert len(re.findall(r"(?<!\\)\|", row)) == 3  # | cluster | parity |
    text.encode("utf-8")


class _Nesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack.pop() == tag


@given(NAMES)
def test_html_stays_well_nested(name: str) -> None:
    text = html_report(hostile_report(name))
    assert not RAW_UNSAFE.search(text.replace("\n", ""))
    parser = _Nesting()
    parser.feed(text)
    assert parser.stack == []
    assert esc.html_text(name) in text
