"""``overlay-parity render``: render one cluster config, or every config of a fixture, into overlay trees.

The renderer comes from ``renderer`` (``--renderer``) or ``[tool.overlay-parity] renderer`` (``module:ATTR`` or a
command template) and is loaded through :func:`harness.renderers.renderer_for`; this module never
imports the reference renderer. One summary line is printed per cluster; bad input exits 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import InputError, InputErrors
from harness.project_config import load_project_config
from harness.renderer_api import Plan, Renderer, cluster_name
from harness.renderers import renderer_for
from harness.safe_read import require_regular

CONFIG_GLOB = ".*-config.yaml"


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
    """The plan as JSON, written like a report file (a device or FIFO in place, never replaced or waited on)."""
    from harness.report.output import write_report_file

    try:
        write_report_file(path, plan.to_json() + "\n")
    except InputError as error:
        raise InputError("USAGE", f"cannot write diagnostics: {error.message}", file=str(path),
                         hint="choose a writable --diagnostics path") from None


def _render_one(renderer: Renderer, config: Path, out_dir: Path, *, service: str | None,
                diagnostics: Path | None, spec: str) -> None:
    require_regular(config, missing="cluster config does not exist", hint="check --config")
    plan = renderer.render(config, out_dir, service=service)
    if diagnostics is not None:
        _write_diagnostics(plan, diagnostics)
    print(summary(plan, out_dir, service=service, spec=spec))


def render(*, config: Path | None = None, out: Path | None = None, service: str | None = None,
           diagnostics: Path | None = None, renderer: str | None = None, all_configs: bool = False,
           fixture: Path | None = None, out_root: Path | None = None) -> int:
    """Render one config into ``out``, or with ``all_configs`` every config of the fixture into
    ``out_root/<cluster>``; returns 0 (bad input raises InputError -> exit 2)."""
    project = load_project_config()
    spec: str = renderer or project.renderer
    if all_configs:
        if config or out or service:
            raise _usage("--all renders every config; do not combine it with --config, --out or --service",
                         "use --all --out-root DIR, or --config FILE --out DIR")
        if out_root is None:
            raise _usage("--all needs --out-root", "e.g. --all --out-root out/")
        root: Path = fixture or project.fixture
        if not root.is_dir():
            raise InputError("FILE-MISSING", "fixture directory does not exist", file=str(root),
                             hint="pass --fixture DIR")
        configs = sorted(root.glob(CONFIG_GLOB))
        if not configs:
            raise InputError("FILE-MISSING", "no .<cluster>-config.yaml in the fixture", file=str(root),
                             hint="a fixture holds one .<cluster>-config.yaml per cluster")
        loaded = renderer_for(project, spec)
        errors: list[InputError] = []
        for each in configs:
            try:
                cluster = cluster_name(each)
                _render_one(loaded, each, out_root / cluster, service=None,
                            diagnostics=diagnostics / f"{cluster}.json" if diagnostics else None, spec=spec)
            except InputErrors as failure:
                errors.extend(failure.errors)
            except InputError as failure:
                errors.append(failure)
            sys.stdout.flush()
        if errors:
            raise InputErrors(errors)
        return 0
    if fixture or out_root:
        raise _usage("--fixture and --out-root only go with --all", "add --all, or use --config FILE --out DIR")
    if config is None or out is None:
        raise _usage("render needs --config FILE and --out DIR (or --all)",
                     "e.g. render --config .k8s-dev-config.yaml --out applications/overlays/k8s-dev")
    _render_one(renderer_for(project, spec), config, out, service=service, diagnostics=diagnostics, spec=spec)
    return 0
