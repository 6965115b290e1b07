"""The C-composer fast paths (renderer.fastyaml) and their users: config loading, descriptor loading and
plain_is_safe give exactly what the reference loaders give, and fall back to them whenever unsure."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError, InputErrors
from harness.yamlio import line_of, load_roundtrip, read_text
from renderer import config as config_module
from renderer.config import ClusterConfig, cluster_from_filename, load_config, roundtrip_config
from renderer.descriptors import DESCRIPTOR_ROOT, load_descriptor, parse_descriptor
from renderer.fastyaml import compose_one, needs_roundtrip, plain_data, reads_as_string, roundtrip_like
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
    return config_outcome(lambda: roundtrip_config(path, cluster, text))


def lc_dump(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Every container's round-trip line/column data, by key path."""
    found: dict[tuple[Any, ...], Any] = {}
    if hasattr(node, "lc"):
        found[path] = (node.lc.line, node.lc.col, dict(node.lc.data or {}))
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        found.update(lc_dump(value, (*path, key)))
    return found


# ------------------------------------------------------------------------------------------ configs

@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_bundled_config_takes_the_fast_path(cluster: str) -> None:
    path = config_path(cluster)
    text = read_text(path)
    assert not needs_roundtrip(text)
    fast = config_module._plain_config(path, cluster, text)
    assert fast is not None  # the fast path answered: no round-trip parse on the happy path


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
def test_fast_descriptor_data_is_the_round_trip_data(path: Path) -> None:
    text = read_text(path)
    assert not needs_roundtrip(text)
    fast = roundtrip_like(compose_one(text, (1, 2)))
    slow = load_roundtrip(text, str(path))
    assert fast is not None
    assert fast == slow
    assert lc_dump(fast) == lc_dump(slow)
    assert load_descriptor(path) == parse_descriptor(slow, file=path)


@pytest.mark.parametrize("path", DESCRIPTOR_FILES[:6], ids=lambda p: p.stem)
def test_mutated_descriptors_load_exactly_as_the_round_trip_path(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    for mutated in _mutations(path.read_text(encoding="utf-8"), 40, seed=len(path.stem)):
        copy.write_text(mutated, encoding="utf-8")

        def reference(text: str = mutated) -> Any:
            return parse_descriptor(load_roundtrip(text, str(copy)), file=copy)

        assert outcome(lambda: load_descriptor(copy)) == outcome(reference), mutated


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",       # alias
    "a: 1\na: 2\n",           # duplicate key
    "1: a\n",                 # a key that is not a string
    "a: 2024-01-01\n",        # timestamp
    "a: 0o17\n",              # not a plain decimal
    "a: !!str 1\n",           # explicit tag
    "a: .inf\n",              # special float
    "<<: {b: 1}\n",           # merge key
    "? [a]\n: 1\n",           # complex key
])
def test_non_plain_documents_are_left_to_the_exact_loaders(text: str) -> None:
    assert plain_data(compose_one(text, (1, 2))) is None
    assert roundtrip_like(compose_one(text, (1, 2))) is None


def test_plain_data_reads_obvious_scalars_and_lines() -> None:
    text = "a: true\nb: FALSE\nc: ~\nd: -12\ne: 1.5\nf: '007'\ng:\n  - x\n  -\n    h: null\n"
    plain = plain_data(compose_one(text, (1, 2)))
    assert plain == ({"a": True, "b": False, "c": None, "d": -12, "e": 1.5, "f": "007",
                      "g": ["x", {"h": None}]},
                     {("a",): 1, ("b",): 2, ("c",): 3, ("d",): 4, ("e",): 5, ("f",): 6, ("g",): 7, ("g", 0): 8,
                      ("g", 1): 10, ("g", 1, "h"): 10})
    assert roundtrip_like(compose_one("a: 1.5\n", (1, 2))) is None  # round-trip floats have their own type


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


def test_composing_leaves_no_cyclic_garbage_behind() -> None:
    """The composer is its own parser and resolver; left as a cycle it waits for the collector (which the
    CLI runs rarely), holding the parser's buffers."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(20):
            compose_one("a: [1, {b: c}]\n", (1, 2))
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
