"""The one home of the test-tree builders: small overlay trees, inventory rules and throw-away projects.

Every suite writes its trees with these (``tests/harness``, ``tests/harness/policy``, ``tests/integration``,
``tests/hardening``, ``tests/bad_inputs``, ``tests/hooks``); what a tree contains stays with the suite
that asserts on it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

# The ``.sops.yaml`` of the small overlay trees (a fixed, throw-away age recipient).
SOPS_YAML = """\
creation_rules:
  - path_regex: .*/secrets/.*\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
"""


def dedent(text: str) -> str:
    """Dedent a (YAML) literal and drop its leading newline."""
    return textwrap.dedent(text).lstrip("\n")


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Create ``root`` with ``files`` (relative POSIX path -> text, written as UTF-8, or bytes); return it."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file; the anchor must exist (so a test cannot silently test
    nothing)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"anchor {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def kustomization(*resources: str) -> str:
    """A kustomize ``Kustomization`` (``kustomization.yaml``) listing ``resources`` in block style."""
    return ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
            + "".join(f"  - {resource}\n" for resource in resources))


def inventory_rule(rule_id: str, kind: str, path: str, *, rationale: str, **extra: object) -> str:
    """One canonicalization rule as a YAML flow-mapping list item (``- {id: '…', …}``); list values in
    ``extra`` become flow sequences, everything else a single-quoted scalar."""
    fields: dict[str, object] = {"id": rule_id, "kind": kind, "path": path, **extra,
                                 "rationale": rationale, "approved_by": "parity-oracle-owner"}
    parts = []
    for key, value in fields.items():
        if isinstance(value, list):
            parts.append(f"{key}: [" + ", ".join(f"'{v}'" for v in value) + "]")
        else:
            parts.append(f"{key}: '{value}'")
    return "- {" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class ProjectLayout:
    """Where a throw-away overlay-parity project keeps its fixture (cluster configs and overlays) and its
    inventory; subclasses name the two locations (relative to ``root``) and the default cluster."""

    FIXTURE_DIR: ClassVar[str]
    INVENTORY_FILE: ClassVar[str]
    DEFAULT_CLUSTER: ClassVar[str]

    root: Path

    @property
    def fixture(self) -> Path:
        return self.root / self.FIXTURE_DIR

    @property
    def overlays(self) -> Path:
        return self.fixture / "applications" / "overlays"

    @property
    def inventory(self) -> Path:
        return self.root / self.INVENTORY_FILE

    def config(self, cluster: str | None = None) -> Path:
        """``<fixture>/.<cluster>-config.yaml``."""
        return self.fixture / f".{self.DEFAULT_CLUSTER if cluster is None else cluster}-config.yaml"

    def overlay(self, cluster: str | None = None) -> Path:
        """``<fixture>/applications/overlays/<cluster>``."""
        return self.overlays / (self.DEFAULT_CLUSTER if cluster is None else cluster)
