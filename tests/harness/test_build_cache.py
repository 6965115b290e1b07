"""The persistent kustomize build cache: keys that follow every input, safe directories, damaged entries."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from harness.build_cache import BuildCache, input_digest
from harness.cache_dir import private_dir
from harness.kustomize import KustomizeBuilder
from harness.tools import find_tool
from tests.support.trees import replace_once as edit
from tests.support.trees import write_tree as write

APP = {
    "app/kustomization.yaml": "resources: [cm.yaml, ../shared]\n",
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {mode: a}\n",
    "shared/kustomization.yaml": "resources: [sa.yaml]\n",
    "shared/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: shared}\n",
}


def test_digest_follows_every_input(tmp_path: Path) -> None:
    write(tmp_path / "a", APP)
    write(tmp_path / "b", APP)
    first = input_digest(tmp_path / "a/app")
    assert first is not None
    assert input_digest(tmp_path / "b/app") == first  # identical trees elsewhere: one key
    edit(tmp_path / "b/shared/sa.yaml", "name: shared", "name: other")
    assert input_digest(tmp_path / "b/app") != first  # a file outside the directory, reached by ../shared
    edit(tmp_path / "a/app/cm.yaml", "mode: a", "mode: b")
    assert input_digest(tmp_path / "a/app") != first
    assert input_digest(tmp_path / "a/app", {"resources": [str(tmp_path / "a/app")], "namespace": "x"}) != \
        input_digest(tmp_path / "a/app", {"resources": [str(tmp_path / "a/app")], "namespace": "y"})
    write(tmp_path / "c", {"app/kustomization.yaml": "resources:\n  - https://github.com/example/repo//deploy\n"})
    assert input_digest(tmp_path / "c/app") is None  # remote input: never cached


@pytest.fixture
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(root))
    return root


def test_results_survive_the_process_and_invalidate_on_change(tmp_path: Path, cache_env: Path) -> None:
    write(tmp_path / "repo", APP)
    app = tmp_path / "repo/app"
    with KustomizeBuilder(persistent=True) as builder:
        first = builder.build(app, display="app")
        assert first.ok, first.error
        assert (builder.builds, builder.disk_hits) == (1, 0)
    with KustomizeBuilder(persistent=True) as builder:
        again = builder.build(app, display="app")
        assert (builder.builds, builder.disk_hits) == (0, 1)
        assert again.documents() == first.documents()
        edit(tmp_path / "repo/shared/sa.yaml", "name: shared", "name: renamed")
        changed = builder.build(app, display="app")
        assert builder.builds == 1
        assert sorted(o["metadata"]["name"] for o in changed.documents()) == ["app", "renamed"]


PLAIN_VALUE = "hunter2-real-looking-value-9f3a"


@pytest.mark.parametrize(("literal", "kept"), [
    (PLAIN_VALUE, False),  # a real value: never copied into the cache
    ("PLACEHOLDER-fixture-value", True),  # the fixture policy's placeholder: kept
])
def test_builds_holding_secret_values_are_not_kept(tmp_path: Path, cache_env: Path, literal: str, kept: bool) -> None:
    write(tmp_path / "repo", {"app/kustomization.yaml": "secretGenerator:\n  - name: creds\n    literals:\n"
                                                        f"      - password={literal}\n"})
    with KustomizeBuilder(persistent=True) as builder:
        assert builder.build(tmp_path / "repo/app", display="app").ok
    stored = b"".join(path.read_bytes() for path in cache_env.rglob("*.json"))
    assert bool(stored) is kept
    assert PLAIN_VALUE.encode() not in stored
    with KustomizeBuilder(persistent=True) as builder:
        assert builder.build(tmp_path / "repo/app", display="app").ok
        assert (builder.builds, builder.disk_hits) == ((0, 1) if kept else (1, 0))


def test_secret_values_in_build_output() -> None:
    from harness.kustomize import holds_secret_values

    secret = "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\n{}\n"
    assert not holds_secret_values("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    assert holds_secret_values(secret.format("stringData: {password: hunter2}"))
    assert holds_secret_values(secret.format("data: {password: aHVudGVyMg==}"))  # base64 of a real value
    assert not holds_secret_values(secret.format("stringData: {password: PLACEHOLDER-x}"))
    assert holds_secret_values("kind: Secret\n: : not yaml [\n")  # unreadable: not kept
    assert holds_secret_values("apiVersion: v1\nkind: List\nitems:\n- " + secret.format(
        "stringData: {password: hunter2}").replace("\n", "\n  "))
    values = base64.b64encode(b"replicas: 2\nadminPassword: PLACEHOLDER-admin\n").decode()
    assert not holds_secret_values(secret.format(f"data: {{values.yaml: {values}}}"))  # a values file, as allowed
    real = base64.b64encode(b"replicas: 2\nadminPassword: hunter2\n").decode()
    assert holds_secret_values(secret.format(f"data: {{values.yaml: {real}}}"))  # a credential key in it
    assert holds_secret_values(secret.format(f"data: {{notes.txt: {values}}}"))  # plain text: whole value


def test_failures_are_cached_with_their_message(tmp_path: Path, cache_env: Path) -> None:
    write(tmp_path / "repo", {**APP, "app/kustomization.yaml": "resources: [cm.yaml, gone.yaml]\n"})
    with KustomizeBuilder(persistent=True) as builder:
        failed = builder.build(tmp_path / "repo/app", display="app", root=tmp_path / "repo")
    with KustomizeBuilder(persistent=True) as builder:
        cached = builder.build(tmp_path / "repo/app", display="app", root=tmp_path / "repo")
        assert builder.disk_hits == 1
    assert not cached.ok
    assert cached.error == failed.error
    assert "gone.yaml" in cached.error


def test_identical_trees_build_once_per_run(tmp_path: Path) -> None:
    write(tmp_path / "one", APP)
    write(tmp_path / "two", APP)
    with KustomizeBuilder() as builder:
        results = builder.build_many([tmp_path / "one/app", tmp_path / "two/app"],
                                     displays={tmp_path / "one/app": "app", tmp_path / "two/app": "app"})
        assert builder.builds == 1
    assert results[tmp_path / "two/app"].directory == tmp_path / "two/app"
    assert results[tmp_path / "one/app"].documents() == results[tmp_path / "two/app"].documents()


def test_damaged_entries_are_misses_and_removed(tmp_path: Path, cache_env: Path) -> None:
    write(tmp_path / "repo", APP)
    with KustomizeBuilder(persistent=True) as builder:
        builder.build(tmp_path / "repo/app")
    [entry] = list(cache_env.glob("kustomize-*/*.json"))
    data = json.loads(entry.read_text())
    data["payload"]["output"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: forged}\n"
    entry.write_text(json.dumps(data))  # checksum no longer matches
    with KustomizeBuilder(persistent=True) as builder:
        result = builder.build(tmp_path / "repo/app")
        assert (builder.builds, builder.disk_hits) == (1, 0)
    assert "forged" not in result.output
    entry.write_text("{not json")
    cache = BuildCache(entry.parent)
    assert cache.get(entry.stem) is None
    assert not entry.exists()


@pytest.mark.parametrize("value", ["off", "", "0", "OFF"])
def test_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", value)
    assert BuildCache.for_tool(find_tool("kubectl")) is None


def test_unsafe_directories_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)  # noqa: S103 - writable by others on purpose: someone could plant entries
    assert not private_dir(shared)
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(shared))
    assert BuildCache.for_tool(find_tool("kubectl")) is None
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert not private_dir(link)  # a symlink is never the cache directory
    fine = tmp_path / "fine"
    assert private_dir(fine)
    assert oct(fine.stat().st_mode & 0o777) == "0o700"
