"""``overlay-parity policy``: policy gates on rendered clusters, or on any overlay directories given.

Without DIR, every configured cluster (or each ``--cluster``) is rendered into a temp dir with the
configured renderer, then checked; the fixture overlay is the reference for the security-files policy and
the SOPS proof renders the cluster again with a generated age recipient. With DIR arguments, those
overlay directories are checked as they are (cluster name = directory name), so a team can point the
gates at an existing repository without our renderer. Exit 0 clean, 1 findings, 2 bad input / missing tool.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.errors import InputError
from harness.kustomize import KustomizeBuilder
from harness.policy import (
    CONVENTIONS,
    POLICIES,
    PolicyOptions,
    PolicyResult,
    check_overlay,
    select_policies,
    sops_enabled_in_config,
)
from harness.policy.lifecycle import seed_bootstrap
from harness.project_config import ProjectConfig, load_project_config
from harness.renderers import renderer_for
from harness.report import CheckResult, Report, format_text, write_json
from harness.tools import find_tool


def register(subparsers: Any) -> None:
    """Add the ``policy`` sub-command."""
    parser = subparsers.add_parser(
        "policy", help=one_line_help("policy"),
        description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dirs", nargs="*", type=Path, metavar="DIR",
                        help="overlay directories to check as they are (default: render the configured clusters)")
    parser.add_argument("--cluster", action="append", default=[], metavar="C",
                        help="check only this configured cluster (repeatable)")
    parser.add_argument("--policy", action="append", default=[], metavar="NAME",
                        help=f"run only this policy (repeatable): {', '.join(POLICIES)}")
    parser.add_argument("--no-convention", action="append", default=[], metavar="NAME",
                        help=f"turn one convention off (repeatable): {', '.join(CONVENTIONS)}")
    parser.add_argument("--repo-root", type=Path, default=None,
                        help="repository root for Flux spec.path (default: DIR/../../..)")
    parser.add_argument("--fixture", type=Path, default=None, help="fixture directory (overrides pyproject)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write a JSON report")
    parser.add_argument("-v", "--verbose", action="store_true", help="show warnings and notes too")
    parser.set_defaults(func=run)


def _result(result: PolicyResult) -> CheckResult:
    notes = dict(result.notes, lifecycle_claim=result.lifecycle_claim, policy_seconds=result.policy_seconds)
    return CheckResult(name=f"policy[{result.cluster}]", check="policy", cluster=result.cluster,
                       findings=result.findings, seconds=result.seconds, notes=notes)


def _clusters(project: ProjectConfig, requested: list[str]) -> list[str]:
    if not project.fixture.is_dir():
        raise InputError("FILE-MISSING", "fixture directory does not exist", file=str(project.fixture),
                         hint="pass --fixture DIR, set `fixture` in [tool.overlay-parity], or give overlay DIRs")
    return project.select_clusters(requested)


def run(args: argparse.Namespace) -> int:
    """Run the policies and print the report; returns the exit code."""
    project = load_project_config(Path.cwd()).with_overrides(fixture=args.fixture)
    options = PolicyOptions.from_project(project, policies=tuple(args.policy),
                                         disabled_conventions=frozenset(args.no_convention))
    select_policies(options.policies)
    find_tool("kubectl")  # fail before any rendering when the main tool is missing
    report = Report()
    with KustomizeBuilder(timeout=options.build_timeout, jobs=options.jobs) as builder:
        if args.dirs:
            if args.cluster:
                raise InputError("USAGE", "--cluster selects configured clusters; with DIR the cluster name is the "
                                          "directory name", hint="drop --cluster or drop DIR")
            for directory in args.dirs:
                if not directory.is_dir():
                    raise InputError("FILE-MISSING", "overlay directory does not exist", file=str(directory),
                                     hint="pass an applications/overlays/<cluster> directory")
                result = check_overlay(directory, repo_root=args.repo_root, options=options, builder=builder)
                report.results.append(_result(result))
                report.clusters_run.add(result.cluster)
        else:
            clusters = _clusters(project, args.cluster)
            renderer = renderer_for(project)
            for cluster in clusters:
                config = project.config_for(cluster)
                fixture = project.overlays / cluster
                with tempfile.TemporaryDirectory(prefix=f"overlay-parity-policy-{cluster}-") as tmp:
                    out = Path(tmp) / "applications" / "overlays" / cluster
                    out.mkdir(parents=True)
                    seed_bootstrap(fixture, out)
                    renderer.render(config, out)
                    cluster_options = replace(options, fixture_dir=fixture if fixture.is_dir() else None,
                                              sops_enabled=sops_enabled_in_config(config), renderer=renderer,
                                              config_path=config)
                    result = check_overlay(out, cluster=cluster, options=cluster_options, builder=builder)
                report.results.append(_result(result))
                report.clusters_run.add(cluster)
    print(format_text(report, verbose=args.verbose), end="")
    if args.json is not None:
        write_json(report, args.json)
    return report.exit_code()
