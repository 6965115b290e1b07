"""Load the renderer a project names: ``package.module:ATTRIBUTE`` (imported; the project root is on the
import path, so a renderer module in the repository needs no ``PYTHONPATH``) or a command template
(:class:`harness.command_renderer.CommandRenderer`, run from the project root).

A renderer that can read its templates and descriptors from other directories
(:class:`harness.renderer_api.RootedRenderer`, as the reference renderer can) gets the project's
``template_root`` and ``descriptor_root``, so that coverage and rendering read the same tree.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from harness.errors import InputError
from harness.project_config import ProjectConfig
from harness.renderer_api import Renderer, RootedRenderer


def renderer_for(project: ProjectConfig, spec: str | None = None) -> Renderer:
    """The renderer ``spec`` (default: the project's ``renderer``) with the project's root, timeout and
    template and descriptor roots; RENDERER-INVALID when it cannot be loaded."""
    if not project.renderer_timeout > 0:
        raise InputError("PROJECT-CONFIG-INVALID", "renderer_timeout must be a positive number of seconds",
                         file=str(project.source) if project.source else None,
                         hint=f"set renderer_timeout = 600 (or remove it) in {project.settings_file}")
    rooted = _roots_set(project)
    return load_renderer(spec or project.renderer, root=project.root, timeout=project.renderer_timeout,
                         template_root=project.template_root if rooted else None,
                         descriptor_root=project.descriptor_root if rooted else None)


def coverage_roots(project: ProjectConfig) -> tuple[Path, Path]:
    """The template and descriptor trees the coverage check reads: the project's when it names them (or the
    default directories exist), else the trees of the renderer it renders with (the reference renderer's
    packaged templates in a GitOps repository that has none of its own), so coverage and rendering read the
    same tree. PROJECT-CONFIG-INVALID when neither names them (a command renderer)."""
    if _roots_set(project):
        return project.template_root, project.descriptor_root
    renderer = renderer_for(project)
    roots = getattr(renderer, "template_root", None), getattr(renderer, "descriptor_root", None)
    if isinstance(roots[0], Path) and isinstance(roots[1], Path):
        return roots[0], roots[1]
    raise InputError("PROJECT-CONFIG-INVALID",
                     f"coverage needs the renderer's template and descriptor trees: {project.template_root} "
                     f"does not exist and the renderer {project.renderer!r} does not name its own",
                     file=str(project.source) if project.source else None,
                     hint=f"set template_root and descriptor_root in {project.settings_file}")


def _roots_set(project: ProjectConfig) -> bool:
    """Whether the project names template and descriptor roots: set in its settings (not the defaults), or
    the default directories exist. Otherwise a renderer keeps its own (the reference renderer's packaged
    templates)."""
    for name in ("template_root", "descriptor_root"):
        path: Path = getattr(project, name)
        default = (project.root / getattr(ProjectConfig, name)).resolve()
        if path.resolve() == default and not path.is_dir():
            return False
    return True


def load_renderer(spec: str, *, root: Path | None = None, timeout: float | None = None,
                  template_root: Path | None = None, descriptor_root: Path | None = None) -> Renderer:
    """Resolve ``module:attribute`` (an object with ``render``) or a command template (run in ``root``;
    ``timeout``: :data:`harness.command_renderer.DEFAULT_TIMEOUT` when None)."""
    if ":" in spec and " " not in spec and "/" not in spec:
        renderer = _import(spec, root)
        if isinstance(renderer, RootedRenderer) and template_root is not None and descriptor_root is not None:
            renderer = renderer.with_roots(template_root, descriptor_root)
        return renderer
    from harness.command_renderer import DEFAULT_TIMEOUT, CommandRenderer  # only for a command: subprocess

    return CommandRenderer(spec, timeout=DEFAULT_TIMEOUT if timeout is None else timeout, cwd=root)


def _import(spec: str, root: Path | None) -> Renderer:
    module_name, _, attribute = spec.partition(":")
    if root is not None and str(root) not in sys.path:
        sys.path.append(str(root))  # after site-packages: an installed renderer wins over a same-named folder
    try:
        module = importlib.import_module(module_name)
        renderer = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise InputError("RENDERER-INVALID", f"cannot load renderer {spec!r}: {type(exc).__name__}",
                         hint="set `renderer` in the project settings to module:attribute or a command") from None
    except Exception as exc:  # the renderer module itself failed while importing
        raise InputError("RENDERER-INVALID", f"importing renderer {spec!r} failed: {type(exc).__name__}",
                         hint="run `python -c 'import MODULE'` from the project root to see why") from None
    if not isinstance(renderer, Renderer):
        raise InputError("RENDERER-INVALID", f"{spec!r} has no render(config_path, out_dir, service=...)",
                         hint="point `renderer` at an object implementing harness.renderer_api.Renderer")
    return renderer
