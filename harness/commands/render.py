"""``overlay-parity render``: render one cluster config, or every config of a fixture, into overlay trees.

    overlay-parity render --config .k8s-dev-config.yaml --out applications/overlays/k8s-dev
                          [--service NAME] [--diagnostics PLAN.json] [--renderer SPEC]
    overlay-parity render --all [--fixture DIR] --out-root DIR [--diagnostics DIR] [--renderer SPEC]

The renderer comes from ``--renderer`` or ``[tool.overlay-parity] renderer`` (``module:ATTR`` or a
command template) and is loaded through :func:`harness.renderers.renderer_for`; this module never
imports the reference renderer. One summary line is printed per cluster; bad input exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.errors import InputError, InputErrors
from harness.project_config import load_project_config
from harness.renderer_api import Plan, Renderer, cluster_name
from harness.renderers import renderer_for
from harness.safe_read import require_regular

CONFIG_GLOB = ".*-config.yaml"


def register(subparsers: Any) -> None:
    """Add the ``render`` sub-command."""
    parser = subparsers.add_parser(
        "render",
        help=one_line_help("render"),
        description="Render one .<cluster>-config.yaml into one overlay directory (atomically), or with --all "
                    "every config of a fixture into <out-root>/<cluster>.",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="the .<cluster>-config.yaml to render")
    parser.add_argument("--out", type=Path, metavar="DIR", help="the overlay directory to (re)write")
    parser.add_argument("--service", metavar="NAME",
                        help="render only this service and the aggregates it belongs to (overlay must exist)")
    parser.add_argument("--diagnostics", type=Path, metavar="PATH",
                        help="write the plan (decisions and actions) as JSON; with --all, a directory")
    parser.add_argument("--renderer", metavar="SPEC",
                        help="module:ATTR or a command template (default: [tool.overlay-parity] renderer)")
    parser.add_argument("--all", action="store_true", help="render every .<cluster>-config.yaml of --fixture")
    parser.add_argument("--fixture", type=Path, metavar="DIR",
                        help="with --all: the fixture holding the configs (default from pyproject)")
    parser.add_argument("--out-root", type=Path, metavar="DIR", help="with --all: overlays go to DIR/<cluster>")
    parser.set_defaults(func=run)


def _usage(message: str, hint: str) -> InputError:
    return InputError("USAGE", message, hint=hint)


def summary(plan: Plan, out_dir: Path, *, service: str | None, spec: str) -> str:
    """One line describing what a render did."""
    cluster = plan.cluster or "?"
    if not plan.actions and not plan.decisions:
        return f"{cluster}: rendered into {out_dir} with `{spec}` (no diagnostics)"
    units = [d for d in plan.decisions if not d.subject]
    enabled = sum(1 for d in units if d.enabled)
    if service:
        return (f"{cluster}: rendered service {service}: {len(plan.actions)} file(s) incl. aggregates "
                f"into {out_dir}")
    return (f"{cluster}: rendered {len(plan.actions)} file(s) from {enabled} of {len(units)} descriptor(s) "
            f"into {out_dir}")


def _write_diagnostics(plan: Plan, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.to_json() + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError("USAGE", f"cannot write diagnostics: {exc.strerror}", file=str(path),
                         hint="choose a writable --diagnostics path") from None


def _render_one(renderer: Renderer, config: Path, out_dir: Path, *, service: str | None,
                diagnostics: Path | None, spec: str) -> None:
    require_regular(config, missing="cluster config does not exist", hint="check --config")
    plan = renderer.render(config, out_dir, service=service)
    if diagnostics is not None:
        _write_diagnostics(plan, diagnostics)
    print(summary(plan, out_dir, service=service, spec=spec))


def run(args: argparse.Namespace) -> int:
    """Execute ``render``; returns the exit code (bad input raises InputError -> exit 2)."""
    project = load_project_config()
    spec: str = args.renderer or project.renderer
    if args.all:
        if args.config or args.out or args.service:
            raise _usage("--all renders every config; do not combine it with --config, --out or --service",
                         "use --all --out-root DIR, or --config FILE --out DIR")
        if args.out_root is None:
            raise _usage("--all needs --out-root", "e.g. --all --out-root out/")
        fixture: Path = args.fixture or project.fixture
        if not fixture.is_dir():
            raise InputError("FILE-MISSING", "fixture directory does not exist", file=str(fixture),
                             hint="pass --fixture DIR")
        configs = sorted(fixture.glob(CONFIG_GLOB))
        if not configs:
            raise InputError("FILE-MISSING", "no .<cluster>-config.yaml in the fixture", file=str(fixture),
                             hint="a fixture holds one .<cluster>-config.yaml per cluster")
        renderer = renderer_for(project, spec)
        errors: list[InputError] = []
        for config in configs:
            try:
                cluster = cluster_name(config)
                diagnostics = args.diagnostics / f"{cluster}.json" if args.diagnostics else None
                _render_one(renderer, config, args.out_root / cluster, service=None, diagnostics=diagnostics,
                            spec=spec)
            except InputErrors as failure:
                errors.extend(failure.errors)
            except InputError as failure:
                errors.append(failure)
            sys.stdout.flush()
        if errors:
            raise InputErrors(errors)
        return 0
    if args.fixture or args.out_root:
        raise _usage("--fixture and --out-root only go with --all", "add --all, or use --config FILE --out DIR")
    if args.config is None or args.out is None:
        raise _usage("render needs --config FILE and --out DIR (or --all)",
                     "e.g. render --config .k8s-dev-config.yaml --out applications/overlays/k8s-dev")
    renderer = renderer_for(project, spec)
    _render_one(renderer, args.config, args.out, service=args.service, diagnostics=args.diagnostics, spec=spec)
    return 0
