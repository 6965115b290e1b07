"""How to act on a finding: the check family of a code, the way to fix or approve it, the facts to show.

Shared by the writers that speak to a reviewer (SARIF rule help, Markdown, HTML), so the advice is
written once. A finding's own ``hint`` stays the first, specific advice; this is the general one.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.codes import CODES
from harness.findings import Finding

# Facts from ``Finding.extra`` worth showing a reviewer, with their labels. ``fingerprint`` is the hash of
# a secret value (never the value): what a secret allowlist entry names.
FACTS = (("key_path", "key"), ("document", "document"), ("fingerprint", "fingerprint"), ("layer", "layer"),
         ("key_type", "key type"))

# Codes that judge the inventory although their prefix is PARITY.
_INVENTORY_CODES = frozenset({"PARITY-STALE-RULE", "PARITY-PATH-ONLY-BUDGET"})
_FAMILIES = (("PARITY-", "parity"), ("COVERAGE-", "coverage"), ("SECRET-", "secrets"), ("POLICY-", "policy"),
             ("INVENTORY-", "inventory"))

GUIDANCE: Mapping[str, str] = {
    "parity": "Fix the template or the cluster config so the renderer reproduces the checked-in fixture file. "
              "If the fixture is what is out of date, rewrite it with `overlay-parity check --update` "
              "(pytest: `--parity-update`) and review the diff. To approve an intended difference, add a rule "
              "with its rationale and approver to the canonicalization inventory and bump the inventory version.",
    "inventory": "Edit the canonicalization inventory: remove rules that match nothing, keep `path_only` rules "
                 "within `path_only_budget`, and bump `version` with every rule change.",
    "coverage": "Give every template file exactly one descriptor owner: list it in a descriptor's `files` or "
                "under a `roots` path, remove the extra claim, or fix the declared path.",
    "secrets": "Remove the key material from the repository and rotate the key. Fixture Secret values must be "
               "`PLACEHOLDER-...` values or SOPS-encrypted (`ENC[...]`). A reviewed exception goes into the "
               "secret allowlist.",
    "policy": "Fix the manifest the finding points at (restore the security-relevant object, point the Flux "
              "Kustomization at a path that builds, pin the source); then rerun `overlay-parity policy`.",
    "other": "Read the finding's hint; rerun the command once the input is fixed.",
}


def family(code: str) -> str:
    """The check family of a code: parity, inventory, coverage, secrets, policy or other."""
    if code in _INVENTORY_CODES:
        return "inventory"
    return next((name for prefix, name in _FAMILIES if code.startswith(prefix)), "other")


def describe(code: str, rules: Mapping[str, str] = CODES) -> str:
    """The one-line meaning of a code (the code itself when unregistered)."""
    return rules.get(code, code)


def advice(code: str) -> str:
    """The general way to fix or approve findings of ``code``."""
    return GUIDANCE[family(code)]


def context(finding: Finding) -> list[tuple[str, str]]:
    """``(label, text)`` pairs a reviewer reads under a finding (unescaped): the overlay path when the anchor
    differs, the owner, the inventory rules, the :data:`FACTS` it carries and its related places."""
    pairs: list[tuple[str, str]] = []
    if finding.path and finding.path != finding.anchor:
        pairs.append(("path in the overlay", finding.path))
    if finding.owner:
        pairs.append(("owner", finding.owner))
    if finding.rules:
        pairs.append(("inventory rules", ", ".join(finding.rules)))
    pairs += [(label, str(finding.extra[key])) for key, label in FACTS if finding.extra.get(key) not in (None, "")]
    pairs += [(place.role or "related", place.file + (f":{place.line}" if place.line > 0 else ""))
              for place in finding.related]
    return pairs
