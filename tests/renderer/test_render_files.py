"""``ReferenceRenderer.render_files``: the in-memory render a check uses must be the directory render, byte
for byte, and fail the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.renderer_api import MemoryRenderer, Renderer
from renderer.api import RENDERER

from .conftest import CLUSTERS, config_path, contents


def test_reference_renderer_offers_both_faces() -> None:
    assert isinstance(RENDERER, Renderer)
    assert isinstance(RENDERER, MemoryRenderer)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_in_memory_render_is_the_directory_render(cluster: str, tmp_path: Path) -> None:
    out = tmp_path / cluster
    plan = RENDERER.render(config_path(cluster), out)
    in_memory = RENDERER.render_files(config_path(cluster))
    assert dict(in_memory.files) == contents(out)
    assert list(in_memory.files) == [a.output for a in plan.actions]  # plan order
    assert in_memory.plan == plan


def test_in_memory_render_fails_like_the_directory_render(copy_config: Callable[..., Path],
                                                          tmp_path: Path) -> None:
    broken = copy_config("k8s-dev", ("    tag: v1.4.2", "    tag: [v1.4.2]"))
    with pytest.raises(InputError) as on_disk:
        RENDERER.render(broken, tmp_path / "k8s-dev")
    with pytest.raises(InputError) as in_memory:
        RENDERER.render_files(broken)
    assert in_memory.value.one_line() == on_disk.value.one_line()
    assert not (tmp_path / "k8s-dev").exists()


def test_the_kafka_client_label_comes_from_the_config(copy_config: Callable[..., Path]) -> None:
    default = RENDERER.render_files(config_path("k8s-dev")).files["services/kafka-cluster/networkpolicy.yaml"]
    assert b'kafka.relaypoint.io/client: "true"' in default  # the bundled output is unchanged
    label = "      client_namespace_label: {key: acme.io/kafka, value: 'on'}\n"
    custom = copy_config("k8s-dev", ("      replicas: 1\n", "      replicas: 1\n" + label))
    text = RENDERER.render_files(custom).files["services/kafka-cluster/networkpolicy.yaml"]
    assert b'acme.io/kafka: "on"' in text
    assert b"relaypoint" not in text
