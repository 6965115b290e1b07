"""Policy at fleet scale, by counting work (never by timing it): per-cluster work does not grow with the fleet,
every input is read once per run, identical texts are parsed once, and the pipelined run gives the results of
one check per directory, in order. Real kubectl throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.build_cache import InputDigests
from harness.errors import InputError
from harness.kustomize import KustomizeBuilder, load_output
from harness.policy import PolicyOptions, check_overlay
from harness.policy.builder import PolicyBuilder, parse_output
from harness.policy.model import PolicyContext
from harness.policy.parsed import parses
from harness.policy.pipeline import check_overlays
from tests.harness.policy.trees import edit, make_overlay

GATES = PolicyOptions(policies=("lifecycle", "flux-paths", "conventions"))


def _fleet(root: Path, clusters: int) -> list[Path]:
    """``clusters`` overlays of the bundled layout; cluster ``i`` differs from the others in one value."""
    overlays = []
    for i in range(clusters):
        overlay = make_overlay(root, cluster=f"k8s-c{i:02d}")
        edit(overlay / "services/demo/configmap.yaml", "mode: standard", f"mode: standard-{i}")
        overlays.append(overlay)
    return overlays


def _counters(overlays: list[Path], checked: int) -> tuple[int, int, int]:
    """(directories walked, files hashed, texts parsed) to check the first ``checked`` overlays in one run."""
    before = parses()
    with PolicyBuilder(jobs=2) as builder:
        results = list(check_overlays(overlays[:checked], repo_root=None, options=GATES, builder=builder))
        assert [r.cluster for r in results] == [o.name for o in overlays[:checked]]
        return builder.inputs.walks, builder.inputs.reads, parses() - before


def test_work_per_cluster_does_not_grow_with_the_fleet(tmp_path: Path) -> None:
    small = _fleet(tmp_path / "small", 2)
    large = _fleet(tmp_path / "large", 6)
    one_small, one_large = _counters(small, 1), _counters(large, 1)
    assert one_small[:2] == one_large[:2]  # the other clusters are never walked or hashed
    assert one_small[0] > 0
    assert one_small[1] > 0
    walks_2, reads_2, _ = _counters(small, 2)
    walks_6, reads_6, _ = _counters(large, 6)
    assert (walks_6, reads_6) == (3 * walks_2, 3 * reads_2)  # linear in the clusters checked


def test_identical_texts_are_parsed_once_per_run(tmp_path: Path) -> None:
    overlays = _fleet(tmp_path, 3)
    first = _counters(overlays, 1)[2]
    assert _counters(overlays, 3)[2] <= first + 2  # only each cluster's own configmap.yaml is new text


def test_each_input_is_hashed_once_however_many_builds_read_it(tmp_path: Path) -> None:
    [overlay] = _fleet(tmp_path, 1)
    files = sum(1 for p in overlay.rglob("*") if p.is_file())
    with PolicyBuilder(jobs=2) as builder:
        result = check_overlay(overlay, options=GATES, builder=builder)
        assert result.notes["cache_hits"] > 0  # several plans read the same files
        assert builder.inputs.reads == files


def test_snapshot_until_forgotten(tmp_path: Path) -> None:
    [overlay] = _fleet(tmp_path, 1)
    digests = InputDigests()
    first = digests.digest(overlay)
    edit(overlay / "services/demo/configmap.yaml", "standard-0", "changed")
    assert digests.digest(overlay) == first  # one run judges one snapshot
    digests.forget(overlay)
    assert digests.digest(overlay) not in (first, None)
    assert digests.digest(overlay) == InputDigests().digest(overlay)


def test_fast_output_parse_equals_the_builder_parse(tmp_path: Path) -> None:
    [overlay] = _fleet(tmp_path, 1)
    with KustomizeBuilder() as builder:
        results = builder.build_many([overlay, overlay / "services/demo", overlay / "services/fluxcd"])
    for result in results.values():
        assert result.ok, result.error
        assert parse_output(result.output, "out") == load_output(result.output, "out")
    tricky = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  op: =\n  on: yes\n---\n- 1\n"
    assert parse_output(tricky, "t") == load_output(tricky, "t")


def test_pipelined_results_equal_one_check_per_directory(tmp_path: Path) -> None:
    overlays = _fleet(tmp_path, 3)
    edit(overlays[1] / "services/demo/kustomization.yaml", "resources: [configmap.yaml", "resources: [gone.yaml")
    with PolicyBuilder(jobs=2) as builder:
        piped = list(check_overlays(overlays, repo_root=None, options=GATES, builder=builder, ahead=1))
    alone = [check_overlay(o, options=GATES) for o in overlays]
    assert [r.findings for r in piped] == [r.findings for r in alone]
    assert any(f.code == "POLICY-FLUX-PATH" for f in piped[1].findings)


def test_an_error_mid_run_comes_after_the_results_before_it(tmp_path: Path) -> None:
    overlays = _fleet(tmp_path, 3)
    (overlays[1] / "services/link.yaml").symlink_to(overlays[1] / "services/demo/configmap.yaml")
    seen = []
    with PolicyBuilder(jobs=2) as builder:
        results = check_overlays(overlays, repo_root=None, options=GATES, builder=builder)
        seen.append(next(results).cluster)
        with pytest.raises(InputError) as info:
            next(results)
    assert seen == [overlays[0].name]
    assert info.value.code == "FILE-SYMLINK"


def test_exclusion_rules_and_checkouts_are_one_per_run(tmp_path: Path) -> None:
    overlays = _fleet(tmp_path, 2)
    with PolicyBuilder(jobs=2) as builder:
        contexts = [PolicyContext(o, o.name, repo_root=tmp_path, options=GATES, builder=builder) for o in overlays]
        assert contexts[0].ignore is contexts[1].ignore
        assert contexts[0].checkouts is contexts[1].checkouts
        for ctx in contexts:
            ctx.__exit__(None, None, None)
