"""The stable error and finding codes, each with a one-line meaning.

Every code a module emits must be listed here; a test checks that the README table matches
this registry, so the documentation cannot drift from the code.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # Bad input (exit 2)
    "USAGE": "The command line is wrong (unknown option, missing argument, unknown cluster).",
    "INTERNAL": "An unexpected internal error; the one-line message names the exception type only.",
    "FILE-MISSING": "A file or directory the command needs does not exist.",
    "FILE-TOO-LARGE": "A file is larger than `max_file_bytes`.",
    "FILE-NOT-UTF8": "A text file is not valid UTF-8.",
    "FILE-BINARY": "A binary file was found where YAML or text is expected.",
    "FILE-SYMLINK": "A path is a symlink (or escapes its root); overlay trees must not contain symlinks.",
    "PATH-ESCAPE": "A path contains `..`, is absolute, or otherwise escapes its root.",
    "FILE-SPECIAL": "A path in an overlay tree is not a regular file or directory (FIFO, socket, device), or a "
                    "path given as a file is not a regular file (a directory, FIFO, device).",
    "FILE-UNREADABLE": "A file or directory cannot be read or listed (permission denied, name too long, I/O error).",
    "YAML-INVALID": "A YAML file does not parse (syntax, tabs, bad indentation).",
    "YAML-DUPLICATE-KEY": "A YAML mapping has the same key twice.",
    "YAML-TOO-DEEP": "A YAML document nests mappings/sequences deeper than 100 levels (harness/nesting.py).",
    "YAML-ALIAS-BOMB": "A YAML file expands to more nodes than allowed (alias bomb).",
    "PROJECT-CONFIG-INVALID": "The overlay-parity settings (overlay-parity.toml, .overlay-parity.toml or "
                              "[tool.overlay-parity]) are malformed, or two settings files share a directory.",
    "CONFIG-INVALID": "A cluster config does not match its JSON Schema.",
    "CONFIG-TRUST-POLICY": "A cluster config violates the repository/secret/SOPS trust policy.",
    "DESCRIPTOR-INVALID": "A descriptor is malformed (unknown key, operator, field path or aggregate target).",
    "TEMPLATE-ERROR": "A template failed to render (undefined variable, syntax error).",
    "RENDER-FAILED": "Rendering failed; the previous overlay tree was left untouched.",
    "RENDER-LOCKED": "Another render of the same overlay holds the lock.",
    "RENDERER-INVALID": "The configured renderer cannot be loaded or its command failed.",
    "INVENTORY-INVALID": "A canonicalization inventory is malformed (schema, glob, pointer, version).",
    "INVENTORY-CONFLICT": "Two canonicalization rules conflict for the same path.",
    "INVENTORY-VERSION": "Inventory rules changed without a `version` bump.",
    "INVENTORY-SECURITY-HIDDEN": "A canonicalization rule would hide a security-relevant object or `.sops.yaml` from "
                                 "parity and carries no `security_waiver`.",
    "REPORT-INVALID": "A JSON report given to `merge-reports` is malformed, or the reports are not one whole "
                      "shard matrix (a shard missing or given twice, mixed N).",
    "REPORT-UNWRITABLE": "A report file (`--json`, `--junit`, `--sarif`, `--markdown`, `--html`, "
                         "`$GITHUB_STEP_SUMMARY`) cannot be written: no permission, or a directory in its place.",
    "TOOL-MISSING": "An external tool (kubectl, sops, age) is not installed.",
    # Parity findings (exit 1)
    "PARITY-MISSING": "A renderer-owned fixture file is not produced by the renderer.",
    "PARITY-UNEXPECTED": "The renderer produces a file the fixture does not have.",
    "PARITY-CONTENT": "A rendered file differs from its fixture file.",
    "PARITY-PARSE": "A file fails to parse as YAML on the rendered or fixture side.",
    "PARITY-STALE-RULE": "A canonicalization rule matched nothing in a full run.",
    "PARITY-PATH-ONLY-BUDGET": "The inventory has more `path_only` rules than its `path_only_budget`.",
    "PARITY-RENDER-ERROR": "The renderer failed for a cluster during a parity check.",
    "PARITY-NOT-RUN": "A cluster of the fixture is covered by none of the reports `merge-reports` merged.",
    "PARITY-REORDERED": "Documents are matched by identity and equal, but in another order than in the fixture "
                        "(a note).",
    "PARITY-SECURITY-WAIVER": "A `security_waiver` is in force: a rule may hide a security-relevant object (a note).",
    # Coverage findings
    "COVERAGE-UNDECLARED": "A template file has no descriptor owner.",
    "COVERAGE-DUPLICATE": "A template file is owned by two or more descriptors.",
    "COVERAGE-MISSING-TEMPLATE": "A descriptor declares a template or root that does not exist.",
    "COVERAGE-DEAD-EXCLUDE": "A descriptor exclude pattern excludes nothing.",
    "COVERAGE-OUTPUT-COLLISION": "Two templates can render to the same output path.",
    # Secret findings
    "SECRET-PRIVATE-KEY": "Private-key material (PEM, OpenSSH, PGP, age) found, literal or encoded.",
    "SECRET-REAL-KEY": "Material that parses as a real private key, even if labelled a placeholder.",
    "SECRET-NOT-PLACEHOLDER": "A fixture Secret value is neither `PLACEHOLDER-...` nor SOPS-encrypted.",
    "SECRET-UNSCANNABLE": "A fixture file that may hold secrets cannot be checked (unparseable Secret, oversize).",
    "SECRET-NO-FIXTURES": "Warning: no file matched the fixture globs, so the Secret-value policy checked nothing.",
    "SECRET-ALLOWED": "Warning: a real private key accepted by an allowlist entry (still reported, never silent).",
    "SECRET-STALE-ALLOW": "A secret allowlist entry matches no finding: delete it.",
    "SECRET-ALLOWLIST-INVALID": "The secret allowlist file is malformed (schema, glob, missing rationale or approver).",
    # Policy findings
    "POLICY-LIFECYCLE": "The overlay does not build for its lifecycle claim (bootstrap-complete or renderer-parity).",
    "POLICY-FLUX-PATH": "A Flux Kustomization points at a path that is missing or does not build.",
    "POLICY-FLUX-SOURCE": "A Flux sourceRef names a source that is not defined.",
    "POLICY-FLUX-DEPENDS": "A Flux dependsOn names a missing Kustomization or forms a cycle.",
    "POLICY-UNPINNED-SOURCE": "A Flux source is not pinned (a branch, no ref, OCI `latest` or no tag/semver/digest).",
    "POLICY-SUBSTITUTION": "A `${var}` has no value in the Flux Kustomization's postBuild substitution.",
    "POLICY-PRUNE": "A Flux Kustomization does not set `prune: true`.",
    "POLICY-DECRYPTION": "A Flux Kustomization applies SOPS-encrypted paths without `decryption.provider: sops`.",
    "POLICY-DRIFT-DETECTION": "A HelmRelease turns drift detection off.",
    "POLICY-SECURITY-DROPPED": "A security-relevant file (Kyverno policy, NetworkPolicy, .sops.yaml) vanished.",
    "POLICY-SOPS": "The generated .sops.yaml does not encrypt what its rules promise.",
    "POLICY-SCHEMA": "A manifest fails schema validation (Kubernetes schema or Flux structure).",
}


# Codes that are only ever notes: reported, never failing the gate (exit 0).
NOTE_CODES = frozenset({"PARITY-REORDERED", "PARITY-SECURITY-WAIVER"})


def describe(code: str) -> str:
    """The registered meaning of ``code``; raises KeyError for unregistered codes."""
    return CODES[code]
