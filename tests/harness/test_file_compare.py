"""One pair of files (harness.file_compare): equal bytes, YAML as data under the pair's rules, and plain
"equal as data" answers remembered across processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import file_compare
from harness.digest_store import DigestStore
from harness.inventory import parse_inventory
from harness.rules import Rule
from harness.yamlcompare import FileComparison
from harness.yamlcompare import compare_bytes as real
from tests.harness.conftest import inventory_text, rule


def test_pairs_equal_as_data_are_remembered_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pair whose bytes differ but that compares equal (here after a yaml_remove rule) is remembered by the
    digest of both paths, both contents and the rules as written, with the rules that made a difference; a
    difference is worked out, and worded, every time; another rule definition is another question."""
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    def counting(rendered: bytes, fixture: bytes, path: str, **kwargs: Any) -> FileComparison:
        calls.append(path)
        return real(rendered, fixture, path, **kwargs)

    monkeypatch.setattr(file_compare, "compare_bytes", counting)

    def rules(pointer: str) -> tuple[Rule, ...]:
        inventory = parse_inventory(inventory_text(defaults=rule("drop-at", "yaml_remove", "services/**",
                                                                   pointers=[pointer])), "canon.yaml")
        return tuple(inventory.rules_for("k8s-dev").matching_any("services/a/x.yaml"))

    def compare(rendered: bytes, fixture_path: str, at: tuple[Rule, ...]) -> tuple[FileComparison, set[str]]:
        return file_compare.compare_contents(rendered, "services/a/x.yaml", fixture, fixture_path, at)

    rendered = b"kind: ConfigMap\nmetadata: {name: a, labels: {at: '2026'}}\n"
    fixture = b"# hand-kept\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {at: '2019'}\n"
    differing = b"kind: ConfigMap\nmetadata: {name: b, labels: {at: '2019'}}\n"
    path = "services/a/x.yaml"
    at_rules = rules("/metadata/labels/at")
    monkeypatch.setattr(file_compare, "KNOWN_EQUAL", DigestStore("equal-pairs", "test-code"))
    first, effective = compare(rendered, path, at_rules)
    assert (first.equal, effective) == (True, {"drop-at"})
    assert not compare(differing, path, at_rules)[0].equal
    file_compare.KNOWN_EQUAL.flush()
    assert len(calls) == 2
    monkeypatch.setattr(file_compare, "KNOWN_EQUAL", DigestStore("equal-pairs", "test-code"))  # a new process
    again, effective = compare(rendered, path, at_rules)
    assert (again.equal, again.parsed, effective, len(calls)) == (True, True, {"drop-at"}, 2)
    still = compare(differing, path, at_rules)[0]
    assert (still.equal, bool(still.changes), len(calls)) == (False, True, 3)
    assert (compare(rendered, path, rules("/metadata/labels/other"))[0].equal, len(calls)) == (False, 4)
    assert (compare(rendered, "services/b/x.yaml", at_rules)[0].equal, len(calls)) == (True, 5)  # another path
