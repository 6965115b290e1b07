"""Which clusters a run checks: every cluster with a config in the fixture, or the requested ones, then this
shard's share.

- Selection (:func:`select_clusters`): an unknown name is a one-line ``USAGE`` error naming the known ones;
  a missing fixture root or oracle overlay directory is ``FILE-MISSING``.
- Sharding (:func:`shard_clusters`): ``I/N`` takes every N-th cluster of the sorted list starting at the
  I-th, so shards are deterministic, disjoint, and their union is the whole selection.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.errors import InputError
from harness.project_config import ProjectConfig
from harness.report import split_shard


def parse_shard(spec: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4); shards are 1-based. Anything else is a USAGE error."""
    shard = split_shard(spec)
    if shard is None:
        raise InputError("USAGE", f"bad shard {spec!r}", hint="use I/N with 1 <= I <= N, e.g. --shard 1/4")
    return shard


def shard_clusters(clusters: Iterable[str], index: int, total: int) -> list[str]:
    """This shard's deterministic share: sorted clusters at positions ``index-1, index-1+total, ...``."""
    return [c for position, c in enumerate(sorted(set(clusters))) if position % total == index - 1]


def is_first_shard(shard: str | None) -> bool:
    """Whether checks that are not per cluster (coverage, secrets) belong to this shard (shard 1 or none)."""
    return not shard or parse_shard(shard)[0] == 1


def select_clusters(project: ProjectConfig, requested: Iterable[str] | None = None, shard: str | None = None, *,
                    require_overlays: bool = True) -> list[str]:
    """The clusters to check: the requested ones (validated) or all, then this shard's share, sorted.

    Raises FILE-MISSING for a missing fixture root (and, with ``require_overlays``, for a selected cluster
    without an oracle overlay directory), USAGE for an unknown cluster or a bad shard.
    """
    if not project.fixture.is_dir():
        raise InputError("FILE-MISSING", "fixture directory does not exist", file=str(project.fixture),
                         hint=f"pass --fixture DIR or set `fixture` in {project.settings_file}")
    selected = sorted(project.select_clusters(requested or ()))
    if shard:
        selected = shard_clusters(selected, *parse_shard(shard))
    if require_overlays:
        for cluster in selected:
            overlay = project.overlays / cluster
            if not overlay.is_dir():
                raise InputError("FILE-MISSING", "oracle overlay directory does not exist", file=str(overlay),
                                 hint=f"check in applications/overlays/{cluster}/ (or --update to create it), "
                                 "or select other clusters with --cluster")
    return selected
