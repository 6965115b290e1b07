"""The output memo: keys differ whenever a render could differ (types, order, callables, included
templates), templates with computed includes are never memoized, and a batch over the bundled clusters
renders byte for byte what renders without a memo produce while reusing outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from renderer.api import ReferenceRenderer
from renderer.output_memo import OutputMemo, freeze
from renderer.render import HasOutput, render_bytes, template_environment

from .conftest import CLUSTERS, config_path


@pytest.mark.parametrize(("one", "other"), [
    (1, 1.0), (1, True), (0, False), ("1", 1), (None, "None"), ([1, 2], (1, 2)), ([1, 2], [2, 1]),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ({"a": 1}, {"a": "1"}), ({"a": [1]}, {"a": [1.0]}),
])
def test_values_that_could_render_differently_freeze_differently(one: Any, other: Any) -> None:
    assert freeze(one) != freeze(other)


def test_equal_values_freeze_equal() -> None:
    assert freeze({"a": [1, {"b": None}], "c": "x"}) == freeze({"a": [1, {"b": None}], "c": "x"})
    assert freeze(HasOutput(frozenset({"a/x.yaml"}), "a/y.yaml")) == \
        freeze(HasOutput(frozenset({"a/x.yaml"}), "a/y.yaml"))
    assert freeze(HasOutput(frozenset({"a/x.yaml"}), "a/y.yaml")) != \
        freeze(HasOutput(frozenset({"a/z.yaml"}), "a/y.yaml"))


def environment(templates: dict[str, str]) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader(templates), undefined=jinja2.StrictUndefined,
                              autoescape=False)  # noqa: S701 (YAML, as the renderer)


def test_the_key_covers_what_included_templates_read() -> None:
    env = environment({"main.yaml": "a: {{ a }}\n{% include 'part.yaml' %}", "part.yaml": "b: {{ b }}\n"})
    memo = OutputMemo()
    assert memo.reads(env, "main.yaml") == ("a", "b")
    shared: dict[str, Any] = {}
    one = memo.key(env, "main.yaml", {"a": 1, "b": 2, "c": 3}, shared)
    assert one == memo.key(env, "main.yaml", {"a": 1, "b": 2, "c": 4}, shared)  # c is never read
    assert one != memo.key(env, "main.yaml", {"a": 1, "b": 3, "c": 3}, shared)


def test_a_template_seen_once_is_not_analysed() -> None:
    env = environment({"t.yaml": "a: {{ a }}\n"})
    memo = OutputMemo()
    assert memo.key(env, "t.yaml", {"a": 1}, {}) is None  # first sight: rendered without a key
    assert memo.key(env, "t.yaml", {"a": 1}, {}) is not None


def test_a_computed_include_or_an_unknown_callable_is_never_memoized() -> None:
    env = environment({"dyn.yaml": "{% include name %}", "call.yaml": "a: {{ f() }}\n", "x.yaml": "x: 1\n"})
    memo = OutputMemo()
    assert memo.reads(env, "dyn.yaml") is None
    assert memo.key(env, "dyn.yaml", {"name": "x.yaml"}, {}) is None
    assert memo.reads(env, "call.yaml") == ("f",)
    assert memo.key(env, "call.yaml", {"f": lambda: 1}, {}) is None


def test_a_value_changed_under_the_same_shared_context_is_seen() -> None:
    env = environment({"t.yaml": "a: {{ svc.x }}\n"})
    memo = OutputMemo()
    memo.reads(env, "t.yaml")
    shared: dict[str, Any] = {}
    first = memo.key(env, "t.yaml", {"svc": {"x": 1}}, shared)
    assert first is not None
    assert first != memo.key(env, "t.yaml", {"svc": {"x": 2}}, shared)


def test_what_a_template_reads_is_kept_on_disk_by_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "templates"
    root.mkdir()
    (root / "main.yaml").write_text("a: {{ a }}\n{% include 'part.yaml' %}", encoding="utf-8")
    (root / "part.yaml").write_text("b: {{ b }}\n", encoding="utf-8")
    env = template_environment(root)
    assert OutputMemo().reads(env, "main.yaml") == ("a", "b")
    kept = sorted((tmp_path / "cache").rglob("reads-*.json"))
    assert len(kept) == 2
    (root / "part.yaml").write_text("c: {{ c }}\n", encoding="utf-8")  # an included template changes
    assert OutputMemo().reads(env, "main.yaml") == ("a", "c")
    for path in kept:
        path.write_text("{broken", encoding="utf-8")  # a damaged entry is worked out again
    assert OutputMemo().reads(env, "main.yaml") == ("a", "c")


def test_a_batch_memo_renders_what_renders_without_it_and_reuses_outputs(template_copy: Path,
                                                                        descriptor_copy: Path) -> None:
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    memo = OutputMemo()
    for _ in range(2):
        for cluster in CLUSTERS:
            plan = renderer.plan(config_path(cluster))
            assert render_bytes(plan, memo) == render_bytes(plan)
    assert memo.hits >= sum(len(renderer.plan(config_path(c)).files) for c in CLUSTERS) // 2


def test_frozen_values_read_the_same_in_every_process() -> None:
    """A frozen value's repr is the store's key text: floats by repr (0.0 and -0.0 differ, NaN equals itself),
    sets sorted whatever their insertion order."""
    assert freeze(0.0) != freeze(-0.0)
    assert freeze(float("nan")) == freeze(float("nan"))
    one = HasOutput(frozenset(["b/x.yaml", "a/x.yaml", "c/x.yaml"]), "a/y.yaml")
    other = HasOutput(frozenset(["c/x.yaml", "a/x.yaml", "b/x.yaml"]), "a/y.yaml")
    assert repr(freeze(one)) == repr(freeze(other))
    assert "frozenset" not in repr(freeze(one))


def test_outputs_outlive_the_process_but_never_their_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a store, a later process finds an output by the same template sources and values; another value,
    an edited included template, another code version or a template that reads the render time does not,
    and an output made from the config's secrets never reaches the cache directory."""
    from harness.digest_store import DigestStore

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "templates"
    root.mkdir()
    (root / "main.yaml").write_text("a: {{ a }}\n{% include 'part.yaml' %}", encoding="utf-8")
    (root / "part.yaml").write_text("b: {{ b }}\n", encoding="utf-8")
    (root / "stamp.yaml").write_text("at: {{ rendered_at }}\n", encoding="utf-8")
    (root / "secret.yaml").write_text("key: {{ secrets.key }}\n", encoding="utf-8")
    env = template_environment(root)
    context: dict[str, Any] = {"a": 1, "b": "x", "rendered_at": "2026-01-01T00:00:00Z",
                               "secrets": {"key": "PLACEHOLDER-identity"}}

    def process(code: str = "code-1") -> OutputMemo:
        return OutputMemo(store=DigestStore("outputs", code))

    first = process()
    assert first.key(env, "main.yaml", context, context) is None  # first sight, not analysed yet: no key
    key = first.key(env, "main.yaml", context, context)
    stamp_key = first.key(env, "stamp.yaml", context, context) or first.key(env, "stamp.yaml", context, context)
    secret_key = first.key(env, "secret.yaml", context, context) or first.key(env, "secret.yaml", context, context)
    assert key is not None
    assert stamp_key is not None
    assert secret_key is not None
    assert first.get(key, env) is None
    first.put(key, b"a: 1\nb: x\n", env)
    first.put(stamp_key, b"at: 2026-01-01T00:00:00Z\n", env)
    first.put(secret_key, b"key: PLACEHOLDER-identity\n", env)
    assert first.get(secret_key, env) == b"key: PLACEHOLDER-identity\n"  # within the batch
    first.flush()
    assert not any(b"PLACEHOLDER-identity" in f.read_bytes() for f in (tmp_path / "cache").rglob("*.bin"))

    second = process()
    again = second.key(env, "main.yaml", context, context)  # first sight, but analysed on disk: keyed
    assert again == key
    assert second.get(again, env) == b"a: 1\nb: x\n"
    assert second.stored_hits == 1
    other = {**context, "a": 2}
    assert second.get(second.key(env, "main.yaml", other, other), env) is None
    assert second.get(second.key(env, "stamp.yaml", context, context) or stamp_key, env) is None  # batch only
    assert second.get(second.key(env, "secret.yaml", context, context) or secret_key, env) is None
    assert process("code-2").get(key, env) is None

    (root / "part.yaml").write_text("b: '{{ b }}'\n", encoding="utf-8")  # an included template is edited
    third = process()
    edited = third.key(env, "main.yaml", context, context)
    assert edited == key  # the same names and values ...
    assert third.get(edited, env) is None  # ... but other sources


def _plain_key(value: object) -> bool:
    if isinstance(value, str | bool):
        return True
    if isinstance(value, tuple | frozenset):
        return all(_plain_key(v) for v in value)
    return False


def test_the_renderers_callables_have_keys_of_strings_and_booleans(template_copy: Path,
                                                                  descriptor_copy: Path) -> None:
    """A memo key part is looked up by the callable's memo_key as a dictionary key: its parts must be equal
    only when they answer alike (no 1 == True == 1.0), so they are strings, booleans and sets of them."""
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    from renderer.render import file_context

    seen = 0
    for cluster in CLUSTERS:
        plan = renderer.plan(config_path(cluster))
        for planned in plan.files:
            for value in file_context(plan, planned, stamp="2026-01-01T00:00:00Z").values():
                key = getattr(value, "memo_key", None)
                if key is not None and not isinstance(value, dict | list | tuple | str):
                    seen += 1
                    assert _plain_key(key), (type(value).__name__, key)
    assert seen > 0


def test_an_output_holding_secret_material_never_reaches_the_store(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever name a template reads it by, an output holding a value from a secret-looking key path of the
    cluster's context (as it is or base64-encoded) is kept for the batch only; other outputs are stored."""
    import base64

    from harness.digest_store import DigestStore

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "templates"
    root.mkdir()
    for name in ("raw.yaml", "encoded.yaml", "plain.yaml"):
        (root / name).write_text("x: {{ opencenter.db }}\n", encoding="utf-8")
    env = template_environment(root)
    password = "PLACEHOLDER-db-password-7f3e"
    context: dict[str, Any] = {"opencenter": {"db": {"password": password, "host": "db.example.internal"}}}
    memo = OutputMemo(store=DigestStore("outputs", "code-1"))
    outputs = {"raw.yaml": f"password: {password}\n".encode(),
               "encoded.yaml": b"password: " + base64.b64encode(password.encode()) + b"\n",
               "plain.yaml": b"host: db.example.internal\n"}
    keys = {}
    for name, data in outputs.items():
        keys[name] = memo.key(env, name, context, context) or memo.key(env, name, context, context)
        memo.put(keys[name], data, env)
        assert memo.get(keys[name], env) == data  # within the batch, all of them
    memo.flush()
    stored = b"".join(f.read_bytes() for f in (tmp_path / "cache").rglob("*.bin"))
    assert password.encode() not in stored
    assert base64.b64encode(password.encode()) not in stored
    later = OutputMemo(store=DigestStore("outputs", "code-1"))
    assert later.get(keys["plain.yaml"], env) == outputs["plain.yaml"]
    assert later.get(keys["raw.yaml"], env) is None
    assert later.get(keys["encoded.yaml"], env) is None


@pytest.mark.parametrize("sharded", [False, True], ids=["one-file", "a-file-per-cluster"])
def test_no_config_secret_reaches_the_cache_directory(template_copy: Path, descriptor_copy: Path,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      sharded: bool) -> None:
    """The bundled clusters rendered twice in batches (the second from the store): no secret value of any
    config is in any file of the cache directory (with shards, also not through an output one cluster
    rendered and another cluster's shard keeps)."""
    from harness.config_secrets import config_secrets
    from harness.digest_store import DigestStore, ShardedStore

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    secrets = {s for c in CLUSTERS for s in config_secrets(config_path(c), max_bytes=1 << 20)}
    assert secrets
    for _ in range(2):
        memo = OutputMemo(store=ShardedStore("outputs", "code-1") if sharded else DigestStore("outputs", "code-1"))
        for cluster in CLUSTERS:
            render_bytes(renderer.plan(config_path(cluster)), memo)
    cached = b"".join(f.read_bytes() for f in (tmp_path / "cache").rglob("*") if f.is_file())
    assert cached
    assert not [s for s in secrets if s.encode() in cached]


def test_with_a_file_per_cluster_one_cluster_reads_only_its_own(template_copy: Path, descriptor_copy: Path,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of every cluster fills each cluster's shard, outputs shared with an earlier cluster included;
    a later run of one cluster reads that one file and finds there all that one file of every output holds."""
    from harness import digest_store
    from harness.digest_store import DigestStore, ShardedStore

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    first = OutputMemo(store=ShardedStore("outputs", "code-1"))
    whole = OutputMemo(store=DigestStore("outputs-whole", "code-1"))
    for cluster in CLUSTERS:
        for memo in (first, whole):
            render_bytes(renderer.plan(config_path(cluster)), memo)
    whole.flush()
    assert first.hits > 0  # outputs shared between clusters in the batch
    assert len(list((tmp_path / "cache" / "outputs").glob("*.bin"))) == len(CLUSTERS)
    read: list[Path] = []
    records = digest_store._Records.read

    def counted(path: Path, max_bytes: int) -> digest_store._Records:
        read.append(path)
        return records(path, max_bytes)

    monkeypatch.setattr(digest_store._Records, "read", counted)
    last = CLUSTERS[-1]
    plan = renderer.plan(config_path(last))
    alone = OutputMemo(store=ShardedStore("outputs", "code-1"))
    assert render_bytes(plan, alone) == render_bytes(plan)
    assert len(read) == 1
    assert alone.stored_hits > 0
    from_one_file = OutputMemo(store=DigestStore("outputs-whole", "code-1"))
    render_bytes(plan, from_one_file)
    assert alone.stored_hits == from_one_file.stored_hits
