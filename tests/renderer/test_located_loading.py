"""The renderer's fast YAML paths (the C parser, through :mod:`harness.yamlio` and :mod:`harness.yamlfast`):
config loading, descriptor loading and plain_is_safe give exactly what the reference loaders give, and fall
back to them whenever unsure."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import yamlio
from harness.errors import InputError, InputErrors
from harness.yamlfast import LocatedMap, reads_as_string
from harness.yamlio import line_of, load_located, load_roundtrip, read_text
from renderer.config import cluster_from_filename, config_from_text, load_config
from renderer.config_model import ClusterConfig
from renderer.descriptors import DESCRIPTOR_ROOT, load_descriptor, parse_descriptor
from renderer.render import exact_plain_is_safe, plain_is_safe

from .conftest import CLUSTERS, config_path

DESCRIPTOR_FILES = sorted(DESCRIPTOR_ROOT.glob("*.yaml"))

Outcome = tuple[str, Any]


def outcome(load: Callable[[], Any]) -> Outcome:
    """What a loader gives: its value, or the one-line text of every error it raised."""
    try:
        return "ok", load()
    except InputErrors as exc:
        return "errors", [e.one_line() for e in exc.errors]
    except InputError as exc:
        return "error", exc.one_line()


def config_outcome(load: Callable[[], ClusterConfig]) -> Outcome:
    kind, value = outcome(load)
    return (kind, (value, dict(value.lines))) if kind == "ok" else (kind, value)


def reference_config(path: Path) -> Outcome:
    text = read_text(path)
    cluster = cluster_from_filename(path)
    assert cluster is not None
    return config_outcome(lambda: config_from_text(path, cluster, text, load=load_roundtrip))


def lc_dump(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """The line/column data the renderer reads of every container (where it starts, where each key or item
    starts), by key path."""
    if not isinstance(node, dict | list):
        return {}
    located: Any = node  # a dict or list subclass with .lc
    lc = located.lc
    children = list(node.items() if isinstance(node, dict) else enumerate(node))
    where = lc.key if isinstance(node, dict) else lc.item
    found = {path: (lc.line, lc.col, {key: tuple(where(key)) for key, _ in children})}
    for key, value in children:
        found.update(lc_dump(value, (*path, key)))
    return found


def no_roundtrip_parse(*_: Any, **__: Any) -> Any:
    raise AssertionError("the round-trip loader was asked")


# ------------------------------------------------------------------------------------------ configs

@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_bundled_config_takes_the_fast_path(cluster: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "load_roundtrip", no_roundtrip_parse)
    assert load_config(config_path(cluster)).lines  # the C parser answered: no round-trip parse


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_fast_config_equals_the_round_trip_config(cluster: str) -> None:
    path = config_path(cluster)
    fast = load_config(path)
    assert config_outcome(lambda: fast) == reference_config(path)
    raw = load_roundtrip(read_text(path), str(path))
    assert dict(fast.lines) == {p: line_of(raw, p) for p in fast.lines}
    assert fast.lines  # every key path has its line


@pytest.mark.parametrize(("old", "new"), [
    ("    tag: v1.4.2", "    tag: &tag v1.4.2"),                        # an anchor
    ("  services:\n", "  services: !!map\n"),                            # an explicit tag
    ("    region: iad3", "    region: |-\n      iad3"),                   # a block scalar
    ("    region: iad3", "    region: 'iad3'"),                          # quoting
    ("    env: dev", "    env: dev   # a comment"),                      # a comment
])
def test_configs_off_the_plain_path_load_exactly_as_before(copy_config: Callable[..., Path], old: str,
                                                           new: str) -> None:
    path = copy_config("k8s-dev", (old, new))
    assert config_outcome(lambda: load_config(path)) == reference_config(path)


def test_an_anchored_boolean_keeps_its_round_trip_reading(copy_config: Callable[..., Path]) -> None:
    # ruamel's round-trip loader reads an anchored boolean as an integer (a schema error): the fast path
    # must not quietly accept it.
    text = config_path("k8s-dev").read_text(encoding="utf-8")
    anchor_at = next(n for n, line in enumerate(text.splitlines(), 1) if "enabled: true" in line)
    path = copy_config("k8s-dev", ("enabled: true", "enabled: &on true"))
    result = outcome(lambda: load_config(path))
    assert result == reference_config(path)
    assert result[0] == "errors"
    assert any(f":{anchor_at}:" in line and "must be a boolean" in line for line in result[1])


def _mutations(text: str, count: int, seed: int) -> list[str]:
    """Deterministic small edits of a config: deleted, duplicated or re-indented lines, inserted characters."""
    rng = random.Random(seed)
    lines = text.splitlines(keepends=True)
    inserts = [":", "- ", '"', "'", "\t", "#", "{", "]", "? ", "&a ", "*a", "!", "%", "0o", "yes", "~", " 1.5",
               "\u2028", "\\", "- - ", "x: y", "<<: ", "2024-01-01", "0755", "1_000", "\r", "\x07", "\ufeff",
               "\u00a0", "...", "---", " \t", "\\t", "|", ">-"]
    found: list[str] = []
    for _ in range(count):
        edited = list(lines)
        index = rng.randrange(len(edited))
        kind = rng.randrange(4)
        if kind == 0:
            del edited[index]
        elif kind == 1:
            edited.insert(index, edited[index])
        elif kind == 2:
            edited[index] = " " * rng.choice([1, 2, 3, 4]) + edited[index]
        else:
            line = edited[index]
            at = rng.randrange(len(line) + 1)
            edited[index] = line[:at] + rng.choice(inserts) + line[at:]
        found.append("".join(edited))
    return found


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_mutated_configs_load_exactly_as_the_round_trip_path(cluster: str, tmp_path: Path) -> None:
    text = config_path(cluster).read_text(encoding="utf-8")
    path = tmp_path / config_path(cluster).name
    kinds: set[str] = set()
    for mutated in _mutations(text, 60, seed=CLUSTERS.index(cluster)):
        path.write_text(mutated, encoding="utf-8")
        result = config_outcome(lambda: load_config(path))
        assert result == reference_config(path), mutated
        kinds.add(result[0])
    assert {"ok", "errors"} <= kinds  # the edits reach both the happy path and located errors


# -------------------------------------------------------------------------------------- descriptors

@pytest.mark.parametrize("path", DESCRIPTOR_FILES, ids=lambda p: p.stem)
def test_fast_descriptor_data_is_the_round_trip_data(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = read_text(path)
    fast = load_located(text, str(path), block_scalars_as_str=False)
    slow = load_roundtrip(text, str(path))
    assert isinstance(fast, LocatedMap)  # the C parser answered
    assert fast == slow
    assert lc_dump(fast) == lc_dump(slow)
    with monkeypatch.context() as patch:
        patch.setattr(yamlio, "load_roundtrip", no_roundtrip_parse)
        loaded = load_descriptor(path)
    assert loaded == parse_descriptor(slow, file=path)


def test_a_block_scalar_condition_value_keeps_its_round_trip_type(tmp_path: Path) -> None:
    # Conditions compare string values by type: a block scalar stays the round-trip loader's str subclass.
    source = next(p for p in DESCRIPTOR_FILES if "enabled_when:" not in p.read_text(encoding="utf-8"))
    copy = tmp_path / source.name
    copy.write_text(source.read_text(encoding="utf-8") + "enabled_when:\n  field: opencenter.meta.name\n"
                    "  op: equals\n  value: |-\n    x\n", encoding="utf-8")
    reference = parse_descriptor(load_roundtrip(copy.read_text(encoding="utf-8"), str(copy)), file=copy)
    loaded = load_descriptor(copy)
    assert loaded == reference
    assert loaded.enabled_when is not None
    assert reference.enabled_when is not None
    assert type(loaded.enabled_when.value) is type(reference.enabled_when.value) is not str


@pytest.mark.parametrize("path", DESCRIPTOR_FILES[:6], ids=lambda p: p.stem)
def test_mutated_descriptors_load_exactly_as_the_round_trip_path(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    for mutated in _mutations(path.read_text(encoding="utf-8"), 40, seed=len(path.stem)):
        copy.write_text(mutated, encoding="utf-8")

        def reference(text: str = mutated) -> Any:
            return parse_descriptor(load_roundtrip(text, str(copy)), file=copy)

        assert outcome(lambda: load_descriptor(copy)) == outcome(reference), mutated


# ------------------------------------------------------------------------------------ plain scalars

SCALARS = [
    "k8s-dev", "relaypoint.example.com", "v1.4.2", "1.4", "1", "-1", "0x1F", "0o17", "0755", "1_000", "1e3", ".inf",
    "yes", "no", "on", "off", "y", "n", "true", "False", "null", "~", "=", "<<", "2024-01-01", "12:30:00",
    "a: b", "a #b", "#a", "- a", "-a", "? a", ":a", "a:", "@a", "`a", "!a", "&a", "*a", "%a", "|a", ">a", "'a'",
    '"a"', "[a]", "{a}", "a,b", "a b", "a\u00a0b", "ünïcödé", "a\u2028b", "\ufeffa", "ssh://git@h/o/r.git",
    "PLACEHOLDER-X", "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", "a'b", 'a"b', "a\\b", "--- a", "...", "---",
]


@pytest.mark.parametrize("text", SCALARS)
def test_plain_is_safe_matches_the_exact_loaders(text: str) -> None:
    plain_is_safe.cache_clear()
    assert plain_is_safe(text) is exact_plain_is_safe(text)
    if reads_as_string(f"k: {text}\n", "k", text, ((1, 1), (1, 2))):
        assert exact_plain_is_safe(text)  # the fast path only ever says yes when the exact loaders agree


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.sampled_from(["y", "n", "yes", "no", "true", "false", "on", "off", "null", "Yes", "NO", "True", "OFF", "Null",
                     "nan", "inf", "e3", "x1", "n/a", "a_b", "k8s-dev-0100", "us-east-1", "v1.2", "a..b", "a//b"]),
    st.text(alphabet="aeilnorstuyfxbe019._/-:#' YNTO", min_size=1, max_size=8)))
def test_plain_is_safe_matches_the_exact_loaders_on_names(text: str) -> None:
    """The shortcut for name-like values (a lower-case letter, then letters, digits, '.', '_', '/', '-') and
    everything near it (capitals, ':', '#', quotes, spaces) agree with the exact loaders."""
    plain_is_safe.cache_clear()
    assert plain_is_safe(text) is exact_plain_is_safe(text)


def test_fast_reads_leave_no_cyclic_garbage_behind() -> None:
    """A parser left in a reference cycle waits for the collector (which the CLI runs rarely), holding its
    buffers."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(20):
            reads_as_string("k: v\n", "k", "v", ((1, 1), (1, 2)))
            load_located("a: [1, {b: c}]\n", "g.yaml")
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
