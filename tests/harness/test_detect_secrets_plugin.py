"""The detect-secrets plugin, through the real detect-secrets CLI (``--all-files``: no git repository)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.detect_secrets_plugin import FixtureKeyDetector
from tests.harness.secret_corpus import Key, assert_no_leak, b64, generate

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "harness" / "detect_secrets_plugin.py"
DETECT_SECRETS = Path(sys.executable).parent / "detect-secrets"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def scan(directory: Path, *plugin_args: str) -> dict[str, list[dict[str, Any]]]:
    assert DETECT_SECRETS.exists(), "detect-secrets is a dev dependency: run scripts/setup.sh"
    proc = subprocess.run([str(DETECT_SECRETS), "scan", "--all-files", *plugin_args, "."], cwd=directory,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results: dict[str, list[dict[str, Any]]] = json.loads(proc.stdout)["results"]
    return results


def test_plugin_loads_and_finds_base64_keys_in_secret_data_that_private_key_detector_misses(
        corpus: list[Key], tmp_path: Path) -> None:
    keys = [k for k in corpus if k.real]
    data = "".join(f"  {k.name}: {b64(k.text)}\n" for k in keys)
    (tmp_path / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo\ntype: Opaque\ndata:\n{data}")
    (tmp_path / "plain.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n")
    ours = scan(tmp_path, "-p", str(PLUGIN))
    theirs = scan(tmp_path)
    mine = [r for r in ours.get("secret.yaml", []) if r["type"] == FixtureKeyDetector.secret_type]
    assert sorted(r["line_number"] for r in mine) == list(range(7, 7 + len(keys)))
    assert not [r for r in theirs.get("secret.yaml", []) if r["type"] == "Private Key"]
    assert "plain.yaml" not in ours
    # the baseline stores hashes only
    assert_no_leak(json.dumps(ours), corpus)


def test_plugin_finds_literal_keys_like_private_key_detector(corpus: list[Key], tmp_path: Path) -> None:
    key = next(k for k in corpus if k.name == "pkcs8-ec")
    (tmp_path / "key.pem").write_text(key.text)
    ours = scan(tmp_path, "-p", str(PLUGIN))
    types = {r["type"] for r in ours["key.pem"]}
    assert {"Private Key", FixtureKeyDetector.secret_type} <= types


def test_analyze_string(corpus: list[Key]) -> None:
    plugin = FixtureKeyDetector()
    key = next(k for k in corpus if k.name == "age")
    line = f"  identity: {b64(b64(key.text))}"
    assert list(plugin.analyze_string(line)) == [b64(b64(key.text))]
    assert list(plugin.analyze_string(f"key: {key.text}")) == [key.text]
    assert list(plugin.analyze_string("identity: " + b64("PLACEHOLDER-identity"))) == []
    assert list(plugin.analyze_string("-----BEGIN AGE ENCRYPTED FILE-----")) == []
