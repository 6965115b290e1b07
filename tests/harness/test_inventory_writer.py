"""The inventory writer: scalars read back as written, and a written inventory loads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.inventory import parse_inventory
from harness.inventory_writer import Entry, bump_minor, inventory_text, quote
from harness.yamlio import load_documents


@given(st.text(min_size=1, max_size=40))
def test_quoted_scalars_read_back_as_the_same_string(text: str) -> None:
    docs = load_documents(f"key: {quote(text)}\n", "t.yaml")
    assert docs == [{"key": text}]


def test_written_inventory_loads_and_draft_rules_are_refused_until_reviewed() -> None:
    rule: dict[str, object] = {"id": "r1", "kind": "yaml_remove", "path": "/a.yaml", "match_kind": "v1/ConfigMap",
            "pointers": ["/data/x~1y", "/spec/0"], "rationale": "", "approved_by": ""}
    text = inventory_text(version="1.0.0", fixture="fx", path_only_budget=None, defaults=[],
                          clusters={"dev": [Entry(rule, ("DRAFT", "data.x: '1' → '2'"))], "prod": []})
    assert "# DRAFT" in text
    assert "prod" not in text
    with pytest.raises(InputError, match="rationale: must not be empty"):
        parse_inventory(text, "draft.yaml")
    long = "word " * 40
    rule.update(rationale=long.strip(), approved_by="owner: platform")
    inventory = parse_inventory(inventory_text(version="1.0.0", fixture="fx", path_only_budget=0, defaults=[],
                                               clusters={"dev": [Entry(rule)]}), "ok.yaml")
    loaded = inventory.rule("r1")
    assert loaded.rationale == long.strip()
    assert loaded.approved_by == "owner: platform"
    assert [p.text for p in loaded.pointers] == ["/data/x~1y", "/spec/0"]
    assert bump_minor("1.4.2-rc.1") == "1.5.0"
