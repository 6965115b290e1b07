"""``ReferenceRenderer.batch()``: renders inside one batch read the descriptors and template tree and run the
coverage gate once, render exactly what renders outside a batch produce, and repeat a coverage error for
every render; outside a batch every render reads its inputs afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.renderer_api import BatchRenderer, batch_of
from renderer.api import ReferenceRenderer

from .conftest import CLUSTERS, config_path


def orphan(template_copy: Path) -> Path:
    """A template no descriptor declares (the coverage gate refuses to render)."""
    stray = template_copy / "orphan.yaml"
    stray.write_text("a: 1\n", encoding="utf-8")
    return stray


def test_a_batch_renders_the_same_bytes(template_copy: Path, descriptor_copy: Path) -> None:
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    assert isinstance(renderer, BatchRenderer)
    alone = {c: renderer.render_files(config_path(c)).files for c in CLUSTERS}
    with batch_of(renderer):
        together = {c: renderer.render_files(config_path(c)).files for c in CLUSTERS}
    assert together == alone


def test_inside_a_batch_the_inputs_are_read_once(template_copy: Path, descriptor_copy: Path) -> None:
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    with renderer.batch():
        renderer.render_files(config_path("k8s-dev"))
        stray = orphan(template_copy)
        renderer.render_files(config_path("k8s-qa"))  # the batch promised unchanged templates
    with pytest.raises(InputError) as info:
        renderer.render_files(config_path("k8s-qa"))  # outside the batch: read afresh, refused
    assert "COVERAGE-UNDECLARED" in info.value.one_line()
    stray.unlink()
    renderer.render_files(config_path("k8s-qa"))


def test_a_coverage_error_is_raised_for_every_render_of_the_batch(template_copy: Path,
                                                                   descriptor_copy: Path) -> None:
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    orphan(template_copy)
    lines = []
    with renderer.batch():
        for cluster in CLUSTERS:
            with pytest.raises(InputError) as info:
                renderer.render_files(config_path(cluster))
            lines.append(info.value.one_line())
    assert len(set(lines)) == 1
    assert "orphan.yaml" in lines[0]


def test_batches_nest_and_end(template_copy: Path, descriptor_copy: Path) -> None:
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    with renderer.batch():
        with renderer.batch():
            renderer.render_files(config_path("k8s-dev"))
        stray = orphan(template_copy)
        renderer.render_files(config_path("k8s-dev"))  # still the outer batch
    with pytest.raises(InputError):
        renderer.render_files(config_path("k8s-dev"))
    stray.unlink()
