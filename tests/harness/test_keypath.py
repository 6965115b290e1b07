"""One key-path-to-text function for findings, diffs and schema messages."""

from __future__ import annotations

from harness.keypath import key_path_text


def test_quoted_paths_name_exactly_one_path() -> None:
    assert key_path_text(("spec", "dependsOn", 0, "name")) == "spec.dependsOn[0].name"
    assert key_path_text(("metadata", "annotations", "a.b/c")) == 'metadata.annotations["a.b/c"]'
    assert key_path_text(("data", 'we"ird\n')) == 'data["we\\"ird\\n"]'
    assert key_path_text(("items", 0, "1")) == 'items[0]["1"]'  # a key that looks like an index is quoted
    assert key_path_text(("data", "größe")) == 'data["größe"]'
    assert key_path_text((), empty="(document)") == "(document)"


def test_plain_paths_for_schema_messages() -> None:
    assert key_path_text(("clusters", "k8s-dev", 0, "pointers", 1), quote=False) == "clusters.k8s-dev[0].pointers[1]"
    assert key_path_text((), quote=False, empty="(top level)") == "(top level)"
    assert key_path_text(("a.b", "c"), quote=False) == "a.b.c"
