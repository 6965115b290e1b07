"""Canonical YAML text: equal data gives equal text, keys sorted, secret values masked."""

from __future__ import annotations

from harness.canonical_yaml import canonical_yaml
from harness.scalars import load_as_kustomize


def test_equal_data_gives_equal_text_whatever_the_spelling() -> None:
    one = load_as_kustomize("b: 0x1F\na: [x, y]\n---\nkind: ConfigMap\n", "one")
    two = load_as_kustomize("# comment\na:\n  - 'x'\n  - \"y\"\nb: 31\n---\n{kind: ConfigMap}\n", "two")
    assert canonical_yaml(one) == canonical_yaml(two)
    assert canonical_yaml(one).splitlines()[0] == "a:"
    assert "---" in canonical_yaml(one)


def test_secret_values_are_masked() -> None:
    docs = load_as_kustomize("kind: Secret\nstringData:\n  token: hunter2-canary\nmetadata:\n  name: s\n", "s")
    text = canonical_yaml(docs)
    assert "hunter2-canary" not in text
    assert "token: <redacted sha256:" in text
    assert "name: s" in text
