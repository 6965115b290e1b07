"""``overlay-parity policy``: policy gates on rendered clusters, or on any overlay directories given.

Without DIR, every configured cluster (or each ``--cluster``) is rendered into a temp dir with the
configured renderer, then checked; the fixture overlay is the reference for the security-files policy and
the SOPS proof renders the cluster again with a generated age recipient. With DIR arguments, those
overlay directories are checked as they are (cluster name = directory name), so a team can point the
gates at an existing repository without our renderer. Exit 0 clean, 1 findings, 2 bad input / missing tool.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from harness.anchors import ParityPlaces, anchor_parity, anchor_rendered
from harness.errors import InputError
from harness.findings import Finding
from harness.options import NO_REPORTS, ReportOutputs
from harness.policy import (
    PolicyOptions,
    PolicyResult,
    check_overlay,
    select_policies,
    sops_enabled_in_config,
)
from harness.policy.builder import PolicyBuilder
from harness.policy.lifecycle import seed_bootstrap
from harness.policy.pipeline import check_overlays
from harness.progress import ProgressLine
from harness.project_config import ProjectConfig, load_project_config
from harness.renderers import renderer_for
from harness.report import CheckResult, Report
from harness.report.text import result_text, summary_text
from harness.tools import find_tool


def _result(result: PolicyResult) -> CheckResult:
    notes = dict(result.notes, lifecycle_claim=result.lifecycle_claim, policy_seconds=result.policy_seconds)
    return CheckResult(name=f"policy[{result.cluster}]", check="policy", cluster=result.cluster,
                       findings=result.findings, seconds=result.seconds, notes=notes)


def _clusters(project: ProjectConfig, requested: Sequence[str]) -> list[str]:
    if not project.fixture.is_dir():
        raise InputError("FILE-MISSING", "fixture directory does not exist", file=str(project.fixture),
                         hint="pass --fixture DIR, set `fixture` in overlay-parity.toml, or give overlay DIRs")
    return project.select_clusters(requested)


def _anchored(result: CheckResult, anchor: Callable[[list[Finding], ParityPlaces], list[Finding]],
              places: ParityPlaces) -> CheckResult:
    """The result with its findings anchored at repository files (a render lives in a temporary directory)."""
    result.findings = anchor(result.findings, places)
    return result


def policy(dirs: Sequence[Path] = (), *, clusters: Sequence[str] = (), policies: Sequence[str] = (),
           disabled_conventions: Sequence[str] = (), repo_root: Path | None = None, fixture: Path | None = None,
           outputs: ReportOutputs = NO_REPORTS, verbose: bool = False, quiet: bool = False) -> int:
    """Run the policies over ``dirs`` (or the rendered configured clusters) and print each result as it is
    done (``quiet``: the failing findings only), then the summary. On a terminal, a run that lasts shows one
    updating progress line on stderr (:mod:`harness.progress`)."""
    project = load_project_config(Path.cwd()).with_overrides(fixture=fixture)
    options = PolicyOptions.from_project(project, policies=tuple(policies),
                                         disabled_conventions=frozenset(disabled_conventions))
    select_policies(options.policies)
    find_tool("kubectl")  # fail before any rendering when the main tool is missing
    report = Report()
    if dirs and clusters:
        raise InputError("USAGE", "--cluster selects configured clusters; with DIR the cluster name is the "
                                  "directory name", hint="drop --cluster or drop DIR")
    for directory in dirs:  # every DIR before the first result is printed
        if not directory.is_dir():
            raise InputError("FILE-MISSING", "overlay directory does not exist", file=str(directory),
                             hint="pass an applications/overlays/<cluster> directory")
    selected = [] if dirs else _clusters(project, clusters)
    line = ProgressLine(sys.stderr, len(dirs) or len(selected))

    def done(result: CheckResult) -> None:
        report.results.append(result)
        report.clusters_run.add(result.cluster)
        line.clear()
        text = result_text(result, verbose=verbose, quiet=quiet)
        if text:
            print("\n".join(text))
            sys.stdout.flush()
        line.advance()

    with PolicyBuilder(timeout=options.build_timeout, jobs=options.jobs, persistent=True) as builder:
        if dirs:
            for directory, result in zip(dirs, check_overlays(dirs, repo_root=repo_root, options=options,
                                                              builder=builder), strict=True):
                places = ParityPlaces.of(project.root, directory, project.config_for(result.cluster), None, (), ())
                done(_anchored(_result(result), anchor_parity, places))
        else:
            renderer = renderer_for(project)
            for cluster in selected:
                config = project.config_for(cluster)
                oracle = project.overlays / cluster
                with tempfile.TemporaryDirectory(prefix=f"overlay-parity-policy-{cluster}-") as tmp:
                    out = Path(tmp) / "applications" / "overlays" / cluster
                    out.mkdir(parents=True)
                    seed_bootstrap(oracle, out)
                    plan = renderer.render(config, out)
                    cluster_options = replace(options, fixture_dir=oracle if oracle.is_dir() else None,
                                              sops_enabled=sops_enabled_in_config(config), renderer=renderer,
                                              config_path=config)
                    result = check_overlay(out, cluster=cluster, options=cluster_options, builder=builder)
                builder.forget(Path(tmp))  # the rendered tree is gone; its path may come back
                places = ParityPlaces.of(project.root, oracle, config, project.template_root,
                                         [(a.output, a.template) for a in plan.actions], ())
                done(_anchored(_result(result), anchor_rendered, places))
    line.clear()
    print(summary_text(report))
    outputs.write(report, tool="overlay-parity policy")
    return report.exit_code()
