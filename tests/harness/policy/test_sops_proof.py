"""SOPS proof with the real sops and age: round trips, field encryption, refusal, key hygiene."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.policy import PolicyOptions, check_overlay, prove_rendered_sops, prove_sops_config
from harness.policy.sops_proof import sample_paths, scrub, sops_enabled_in_config, unmatched_paths
from harness.renderer_api import Plan
from harness.yamlio import load_file
from tests.harness.policy.trees import AGE_A, AGE_B, SOPS_YAML, d, make_overlay

ROOT = Path(__file__).resolve().parents[3]
DEV_CONFIG = ROOT / "testdata/relaypoint-logistics-shared/.k8s-dev-config.yaml"
SECRET_MARK = "AGE-SECRET-KEY-"



def _no_key_material(findings: list[Finding]) -> list[Finding]:
    """Every age secret key starts with AGE-SECRET-KEY-: none may reach a finding."""
    assert not any(SECRET_MARK in json.dumps(f.to_dict()) for f in findings)
    return findings


def _prove(tmp_path: Path, text: str) -> list[Finding]:
    path = tmp_path / ".sops.yaml"
    path.write_text(text, encoding="utf-8")
    work = tmp_path / "work"
    findings = prove_sops_config(path, work, cluster="k8s-t")
    assert list(work.iterdir()) == [], "the temp dir with the key pair must be gone"
    return _no_key_material(findings)


def _errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def _rules(*rules: str) -> str:
    """A .sops.yaml from rule bodies (each a dedented YAML mapping)."""
    items = ["  - " + d(rule).rstrip().replace("\n", "\n    ") for rule in rules]
    return "creation_rules:\n" + "\n".join(items) + "\n"


def test_good_rules_round_trip_and_refuse_unmatched_paths(tmp_path: Path) -> None:
    findings = _prove(tmp_path, SOPS_YAML)
    assert findings == []


def test_real_recipients_are_never_needed(tmp_path: Path) -> None:
    # recipients nobody here holds keys for: the proof still round-trips with its own generated key
    assert AGE_A in SOPS_YAML
    assert AGE_B in SOPS_YAML
    assert _errors(_prove(tmp_path, SOPS_YAML)) == []


@pytest.mark.parametrize("regex", [r"^services/(?!tmp).*/secrets/.*\.ya?ml$", r"^services/.*/secrets/.*\.yaml\Z"],
                         ids=["lookahead", "python-only-anchor"])
def test_regex_sops_cannot_use_is_a_finding(tmp_path: Path, regex: str) -> None:
    text = _rules(f"""
        path_regex: '{regex}'
        encrypted_regex: ^(data|stringData)$
        age: {AGE_A}
    """)
    errors = _errors(_prove(tmp_path, text))
    assert errors, "sops (Go RE2) rejects this regex; Python accepts it"
    # refused when the rules are read, matched with RE2 (issue 18 item 3), before sops is ever run
    assert any("path_regex" in f.message and "RE2" in f.message for f in errors)
    assert all(f.code == "POLICY-SOPS" and f.path == ".sops.yaml" and f.cluster == "k8s-t" for f in errors)


def test_regex_anchored_at_root_never_matches(tmp_path: Path) -> None:
    text = _rules(f"""
        path_regex: ^/applications/overlays/k8s-t/services/.*/secrets/.*\\.yaml$
        encrypted_regex: ^(data|stringData)$
        age: {AGE_A}
    """)
    [finding] = _errors(_prove(tmp_path, text))
    assert "anchored at '/'" in finding.message


def test_without_encrypted_regex_metadata_gets_encrypted(tmp_path: Path) -> None:
    text = _rules(f"""
        path_regex: ^services/.*/secrets/.*\\.yaml$
        age: {AGE_A}
    """)
    [finding] = _errors(_prove(tmp_path, text))
    assert "encrypts apiVersion, kind, metadata.labels" in finding.message
    assert "kustomize and Flux must read" in finding.message


def test_partial_encrypted_regex_leaves_secret_values_in_plaintext(tmp_path: Path) -> None:
    text = _rules(f"""
        path_regex: ^services/.*/secrets/.*\\.yaml$
        encrypted_regex: ^data$
        age: {AGE_A}
    """)
    [finding] = _errors(_prove(tmp_path, text))
    assert "Secret values stay in plaintext at stringData.proof-text" in finding.message


def test_catch_all_and_shadowed_rules_are_reported_not_failed(tmp_path: Path) -> None:
    text = _rules(f"""
        encrypted_regex: ^(data|stringData)$
        age: {AGE_A}
    """, f"""
        path_regex: ^services/.*\\.yaml$
        encrypted_regex: ^(data|stringData)$
        age: {AGE_A}
    """)
    findings = _prove(tmp_path, text)
    assert _errors(findings) == []
    severities = sorted(f.severity.value for f in findings)
    assert severities == ["note", "warning"]
    assert any("shadowed" in f.message and "creation rule 1" in f.message for f in findings)


def test_broken_sops_yaml_is_a_finding(tmp_path: Path) -> None:
    [finding] = _prove(tmp_path, "creation_rules: []\n")
    assert "has no creation_rules" in finding.message
    [finding] = _prove(tmp_path, "creation_rules:\n  - path_regex: '[unclosed'\n    age: " + AGE_A + "\n")
    assert "does not compile" in finding.message


class _MiniRenderer:
    """Stand-in renderer (until renderer.api exists): writes .sops.yaml from the config's SOPS rules."""

    def __init__(self, *, keep_recipients: str | None = None, fail: bool = False) -> None:
        self.keep_recipients = keep_recipients
        self.fail = fail

    def render(self, config_path: Path, out_dir: Path, *, service: str | None = None) -> Plan:
        if self.fail:
            raise InputError("RENDER-FAILED", "boom", file=str(config_path))
        data = load_file(config_path)[0]
        rules = data["opencenter"]["gitops"]["overlay_units"]["sops"]["rules"]
        lines = ["creation_rules:"]
        for rule in rules:
            recipients = self.keep_recipients or ",".join(rule["age_recipients"])
            lines += [f"  - path_regex: {json.dumps(rule['path_regex'])}",
                      f"    encrypted_regex: {json.dumps(rule['encrypted_regex'])}",
                      f"    age: {recipients}"]
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / ".sops.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Plan(cluster=data["opencenter"]["cluster"]["name"])


def test_rendered_proof_replaces_config_recipients(tmp_path: Path) -> None:
    assert sops_enabled_in_config(DEV_CONFIG)
    findings = _no_key_material(prove_rendered_sops(_MiniRenderer(), DEV_CONFIG, tmp_path / "work"))
    assert findings == []
    assert list((tmp_path / "work").iterdir()) == []


def test_rendered_proof_catches_a_renderer_that_ignores_recipients(tmp_path: Path) -> None:
    findings = _no_key_material(prove_rendered_sops(_MiniRenderer(keep_recipients=AGE_A), DEV_CONFIG,
                                                    tmp_path / "work", cluster="k8s-dev"))
    messages = [f.message for f in _errors(findings)]
    assert sum("does not carry the configured age recipient" in m for m in messages) == 2
    assert sum("sops --decrypt with the generated key failed" in m for m in messages) == 2


def test_rendered_proof_reports_render_failures_and_sops_off(tmp_path: Path) -> None:
    [finding] = prove_rendered_sops(_MiniRenderer(fail=True), DEV_CONFIG, tmp_path / "work")
    assert "rendering with a generated age recipient failed: RENDER-FAILED" in finding.message
    off = tmp_path / ".k8s-off-config.yaml"
    text = DEV_CONFIG.read_text()
    off.write_text(text.replace("      sops:\n        enabled: true", "      sops:\n        enabled: false"))
    [finding] = prove_rendered_sops(_MiniRenderer(), off, tmp_path / "work")
    assert finding.severity is Severity.NOTE
    assert "off" in finding.message


def test_policy_face_on_an_overlay(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, sops=True)
    result = check_overlay(overlay, options=PolicyOptions(policies=("sops",)))
    assert result.findings == []
    assert result.notes["sops_proof"] == "config"
    (overlay / ".sops.yaml").unlink()
    result = check_overlay(overlay, options=PolicyOptions(policies=("sops",), sops_enabled=True))
    assert [f.message for f in result.findings] == ["SOPS is on but the overlay has no .sops.yaml"]


def test_rendered_policy_face_compares_with_the_overlay(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path, sops=True)
    shutil.copy(DEV_CONFIG, tmp_path / DEV_CONFIG.name)
    options = PolicyOptions(policies=("sops",), renderer=_MiniRenderer(), config_path=tmp_path / DEV_CONFIG.name)
    result = check_overlay(overlay, options=options)
    assert result.notes["sops_proof"] == "rendered"
    assert result.findings == []  # the test overlay has the dev config's rules (recipients aside)
    text = (overlay / ".sops.yaml").read_text()
    (overlay / ".sops.yaml").write_text(text.replace("^(data|stringData)$", "^(data|stringData|spec)$", 1))
    result = check_overlay(overlay, options=options)
    [finding] = result.findings
    assert finding.severity is Severity.WARNING
    assert "differs from the one rendered" in finding.message


def test_secret_key_never_appears_in_findings_or_errors(tmp_path: Path) -> None:
    # failure paths that carry tool stderr: sops refusing a regex, sops failing to decrypt
    findings = _prove(tmp_path, _rules(f"""
        path_regex: '^services/(?!tmp).*/secrets/.*$'
        age: {AGE_A}
    """))
    findings += prove_rendered_sops(_MiniRenderer(keep_recipients=AGE_B), DEV_CONFIG, tmp_path / "w2")
    assert len(_errors(_no_key_material(findings))) >= 3
    assert scrub("failed: AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L\n  next") == "failed: [REDACTED] next"
    with pytest.raises(InputError) as info:
        prove_rendered_sops(_MiniRenderer(), tmp_path / ".k8s-none-config.yaml", tmp_path / "work")
    assert SECRET_MARK not in info.value.one_line()


def test_sample_paths_follow_the_regex() -> None:
    assert sample_paths(r"^services/.*/secrets/.*\.ya?ml$")[0] == "services/x/secrets/x.yaml"
    assert sample_paths(r"(dev|prod)/.+\.enc\.yaml")[0] == "dev/x.enc.yaml"
    assert sample_paths(r"secrets/")[0] == "secrets/example.yaml"
    assert sample_paths(r"^services/(?!x).*/s/[a-c]+\.json$") == []  # RE2 (sops) refuses lookarounds
    assert sample_paths(r"^services/[^x].*/s/[a-c]+\.json$")[0].startswith("services/")
    assert sample_paths(r"^/abs") == []
    assert sample_paths("[bad") == []
    assert sample_paths(None) == ["policy-proof/example.yaml"]
    assert next(unmatched_paths("services/x/secrets/x.yaml")) == "services/x/policy-proof-unmatched/x.yaml"
