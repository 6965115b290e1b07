"""Issue 18 item 8: two scalars compare equal exactly when the real ``kubectl kustomize`` says they are one value.

Every scalar of the table is put in one resource, and a JSON 6902 patch makes kustomize read the resource
into JSON and write it back; its output then holds each scalar as the value kustomize resolved (strings
quoted where they would read as something else). That output is read with a YAML 1.2 core reader, and
for every pair of table entries the comparator (:func:`harness.yamlcompare.compare_bytes` on two files
that differ only in that scalar) must say "equal" exactly when kustomize's values are equal.
"""

from __future__ import annotations

import io
import math
import subprocess
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor

from harness.scalars import kustomize_value
from harness.tools import find_tool, tool_env
from harness.yamlcompare import compare_bytes

TRICKY = [
    # sexagesimal (YAML 1.1 ints and floats), octal, hex, binary, signs, underscores
    "1:00", "60", '"60"', "1:30:00", "190:20:30.15", "0o17", "017", "15", "0x1F", "0X1f", "31", "-0x1F", "0b101",
    "5", "+1", "1", "1.0", "1.", "1_000", "1000", "1__0", "10", "00", "0", "09", "9", "08", "0.", "-0", "1e3",
    "1E3", "1e+3", "1000.0", ".5", "0.5", "+.5", "1_000.5", "1000.5", '"1_000"', '"017"', "'0x1F'", "0o8", "0x",
    # nulls, booleans, YAML 1.1 booleans
    "~", "null", "Null", "NULL", '""', "''", "true", "True", "TRUE", "false", "on", "On", "ON", "off", "yes", "Yes",
    "no", "NO", "y", "Y", "n", '"on"', "'yes'", '"true"', '"null"', '"~"',
    # dates and times
    "2001-12-14", '"2001-12-14"', "2001-12-14T00:00:00Z", '"2001-12-14T00:00:00Z"', "2001-12-14 00:00:00",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00", '"2001-12-14T21:59:43.1-05:00"',
    "2001-12-14 21:59:43.10 -5", "2001-1-2", "2001-01-02", "2001-02-30", "2001-12-14T21:59:43+00:00",
    "2001-12-14T21:59:43Z",
    # the YAML 1.1 value indicator, and strings that merely look special
    "=", '"="', "1e3x", "0x1G", "+", ".", "..5", "1:2:3:4", "12:30", "'12:30'", "v1.2", "1.2.3",
]
UNREPRESENTABLE = [".inf", "-.Inf", "+.INF", ".nan", ".NaN"]  # JSON has no such numbers: kustomize refuses them


def kustomize(tmp_path: Path, scalars: list[str]) -> subprocess.CompletedProcess[str]:
    body = "".join(f"  k{i}: {s}\n" for i, s in enumerate(scalars))
    (tmp_path / "values.yaml").write_text(f"apiVersion: example.com/v1\nkind: Scalars\nmetadata:\n  name: s\n"
                                          f"values:\n{body}")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [values.yaml]\npatches:\n- target: {kind: Scalars}\n"
        "  patch: '[{\"op\": \"add\", \"path\": \"/metadata/labels\", \"value\": {\"read\": \"json\"}}]'\n")
    return subprocess.run([str(find_tool("kubectl")), "kustomize", str(tmp_path)], capture_output=True, text=True,
                          env=tool_env(), timeout=120, check=False)


def json_key(value: Any) -> tuple[str, Any]:
    """A JSON value as a comparable key: numbers by value, everything else by type and value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return type(value).__name__, value
    if isinstance(value, float) and math.isnan(value):
        return "number", "nan"
    return "number", value


class OutputReader(SafeConstructor):
    """The YAML 1.2 safe constructors, with timestamps (and ruamel's YAML 1.1 leftover ``=``) as the strings they
    are in kustomize's output (a class of its own: ``add_constructor`` changes the class it is called on)."""


for _tag in ("timestamp", "value"):
    OutputReader.add_constructor(f"tag:yaml.org,2002:{_tag}", lambda _c, node: str(node.value))


@pytest.fixture(scope="module")
def kustomized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Any]]:
    proc = kustomize(tmp_path_factory.mktemp("scalars"), TRICKY)
    assert proc.returncode == 0, proc.stderr
    # YAML 1.2 core: kustomize quotes every string that would read as another type; a plain scalar that only
    # looks like a timestamp (2001-02-30, which Go refuses) is a string in its output.
    out = YAML(typ="safe", pure=True)
    out.Constructor = OutputReader
    doc = out.load(io.StringIO(proc.stdout))
    assert doc["metadata"]["labels"] == {"read": "json"}
    return {s: json_key(doc["values"][f"k{i}"]) for i, s in enumerate(TRICKY)}


def document(scalar: str) -> bytes:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\nvalue: {scalar}\n".encode()


def test_each_plain_scalar_reads_as_kustomize_reads_it(kustomized: dict[str, tuple[str, Any]]) -> None:
    wrong = {s: (kustomize_value(s), kustomized[s]) for s in TRICKY
             if s[0] not in "'\"" and json_key(kustomize_value(s)) != kustomized[s]}
    assert wrong == {}


def test_two_scalars_compare_equal_exactly_when_kustomize_says_so(kustomized: dict[str, tuple[str, Any]]) -> None:
    disagreements = []
    equal_pairs = 0
    for left, right in combinations(TRICKY, 2):
        same = kustomized[left] == kustomized[right]
        equal_pairs += same
        compared = compare_bytes(document(left), document(right), "x.yaml").equal
        if compared != same:
            disagreements.append((left, right, "comparator says equal" if compared else "comparator says differ"))
    assert disagreements == []
    assert equal_pairs > 40  # the table is built of spellings of one value: many pairs are equal


@pytest.mark.parametrize("scalar", UNREPRESENTABLE)
def test_infinities_and_nan_are_no_json_value(tmp_path: Path, scalar: str) -> None:
    assert kustomize(tmp_path, [scalar]).returncode != 0
    value = kustomize_value(scalar)
    assert isinstance(value, float)
    assert not math.isfinite(value)
    assert compare_bytes(document(scalar), document(scalar.lower()), "x.yaml").equal
    assert not compare_bytes(document(scalar), document(f'"{scalar}"'), "x.yaml").equal
