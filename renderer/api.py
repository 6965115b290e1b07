"""The built-in reference renderer as a :class:`harness.renderer_api.Renderer`: ``renderer.api:RENDERER``.

``render(config, out)`` = load config -> load descriptors -> descriptor coverage gate -> plan -> execute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import os
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError, InputErrors
from harness.renderer_api import Plan, RenderedFiles
from renderer.config import load_config
from renderer.coverage_memo import coverage_key, known_clean, remember_clean
from renderer.descriptors import DESCRIPTOR_ROOT, TEMPLATE_ROOT, DescriptorSet, load_descriptors
from renderer.output_memo import STORE as OUTPUT_STORE
from renderer.output_memo import OutputMemo
from renderer.plan import RenderPlan, plan_render
from renderer.render import DEFAULT_LOCK_TIMEOUT, execute, render_bytes
from renderer.templatetree import TemplateTree, snapshot, strict_walk, unreadable

COVERAGE_MODULE = "harness.coverage"


def _listing(*roots: Path) -> tuple[tuple[str, int, int, int], ...]:
    """(path, kind, size, mtime) of every entry under ``roots``: the coverage verdict's cache key."""
    entries: list[tuple[str, int, int, int]] = []
    for root in roots:
        try:
            for folder, dirs, files in strict_walk(root):
                for name in sorted(dirs) + sorted(files):
                    info = os.lstat(os.path.join(folder, name))
                    entries.append((os.path.join(folder, name), info.st_mode, info.st_size, info.st_mtime_ns))
        except OSError as exc:
            raise unreadable(exc, root) from None
    return tuple(entries)


@functools.lru_cache(maxsize=8)
def _coverage_errors(template_root: Path, descriptor_root: Path, listing: Hashable) -> tuple[InputError, ...]:
    module: Any = importlib.import_module(COVERAGE_MODULE)
    findings = module.check_coverage(template_root, descriptor_root)
    return tuple(
        InputError(str(f.code), str(f.message), file=str(f.path) or None, line=int(f.line or 0),
                   hint=str(f.hint or "declare every template in exactly one descriptor"))
        for f in findings
        if str(getattr(getattr(f, "severity", "error"), "value", getattr(f, "severity", "error"))) == "error"
    )


def coverage_gate(template_root: Path, descriptor_root: Path, *, templates: TemplateTree | None = None) -> None:
    """Refuse to render when the template root and the descriptors disagree (undeclared, duplicate...).

    ACTIVATION POINT: runs ``harness.coverage.check_coverage(template_root, descriptor_root)`` only
    when that module exists (guarded by ``importlib.util.find_spec``); otherwise it is a no-op.
    Every failing (error-severity) finding becomes one line of an :class:`InputErrors`; warnings pass.
    The verdict is cached by everything the check reads: the names and kinds of every template-root entry
    (``templates``, a snapshot of that root, when the caller took one) and the descriptors' paths and bytes
    (:func:`renderer.coverage_memo.coverage_key`; paths, sizes and mtimes of both roots when the snapshot is
    incomplete); a clean verdict is also remembered across processes (:mod:`renderer.coverage_memo`).
    """
    if importlib.util.find_spec(COVERAGE_MODULE) is None:
        return
    template_root, descriptor_root = template_root.resolve(), descriptor_root.resolve()
    tree = templates if templates is not None and templates.root == template_root else snapshot(template_root)
    remembered = coverage_key(tree, descriptor_root) if tree.complete else None
    if remembered is not None and known_clean(remembered):
        return
    key: Hashable = remembered if remembered is not None else _listing(template_root, descriptor_root)
    errors = _coverage_errors(template_root, descriptor_root, key)
    if errors:
        raise InputErrors(list(errors))
    if remembered is not None:
        remember_clean(remembered)


@dataclass(frozen=True)
class _SharedInputs:
    """What every plan of a batch reads the same way: descriptors, the template tree, the coverage verdict."""

    descriptors: DescriptorSet
    templates: TemplateTree
    coverage: InputError | None
    outputs: OutputMemo | None  # rendered outputs shared by the batch's renders (None outside a batch)


# Inside ReferenceRenderer.batch(): the shared inputs per (template root, descriptor root, coverage gate on).
_batch: dict[tuple[Path, Path, bool], _SharedInputs] | None = None


@dataclass(frozen=True)
class ReferenceRenderer:
    """Descriptor-driven renderer over a template root and a descriptor directory."""

    template_root: Path = TEMPLATE_ROOT
    descriptor_root: Path = DESCRIPTOR_ROOT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    check_coverage: bool = True

    def with_roots(self, template_root: Path, descriptor_root: Path) -> ReferenceRenderer:
        """The built-in renderer reading the project's ``template_root`` and ``descriptor_root``, so coverage
        and rendering read the same tree (:class:`harness.renderer_api.RootedRenderer`). An instance made for
        other roots than the packaged ones (a repository's own ``ReferenceRenderer(template_root=...)``)
        keeps the roots it was made for."""
        if (Path(self.template_root), Path(self.descriptor_root)) != (TEMPLATE_ROOT, DESCRIPTOR_ROOT):
            return self
        return dataclasses.replace(self, template_root=Path(template_root), descriptor_root=Path(descriptor_root))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Renders inside the block read the descriptors and the template tree, and run the coverage gate, once
        (:class:`harness.renderer_api.BatchRenderer`): the caller promises not to change them meanwhile. The
        configs are read for every render. Batches nest; forked workers inherit what was read."""
        global _batch
        outer = _batch
        _batch = {} if outer is None else outer
        try:
            yield
        finally:
            _batch = outer

    def _inputs(self) -> _SharedInputs:
        key = (Path(self.template_root), Path(self.descriptor_root), self.check_coverage)
        if _batch is not None and key in _batch:
            return _batch[key]
        descriptors = load_descriptors(self.descriptor_root)
        templates = snapshot(self.template_root)  # one listing of the template root for the gate and the plan
        coverage: InputError | None = None
        if self.check_coverage:
            try:
                coverage_gate(self.template_root, self.descriptor_root, templates=templates)
            except InputError as error:
                coverage = error
        memo = OutputMemo(store=OUTPUT_STORE) if _batch is not None else None
        inputs = _SharedInputs(descriptors, templates, coverage, memo)
        if _batch is not None:
            _batch[key] = inputs
        return inputs

    def plan(self, config_path: Path, *, service: str | None = None) -> RenderPlan:
        """Load the config and descriptors and plan, without writing anything."""
        return self._planned(config_path, service)[0]

    def _planned(self, config_path: Path, service: str | None) -> tuple[RenderPlan, _SharedInputs]:
        """The plan and the shared inputs it was made from (read once for both)."""
        config = load_config(Path(config_path))
        inputs = self._inputs()
        if inputs.coverage is not None:
            raise inputs.coverage.with_traceback(None)
        planned = plan_render(inputs.descriptors, config, service=service, template_root=self.template_root,
                              templates=inputs.templates)
        return planned, inputs

    def render(self, config_path: Path, out_dir: Path, *, service: str | None = None) -> Plan:
        """Render ``config_path`` into ``out_dir`` atomically and return the executed plan."""
        planned = self.plan(config_path, service=service)
        execute(planned, Path(out_dir), lock_timeout=self.lock_timeout)
        return planned.plan

    def render_files(self, config_path: Path) -> RenderedFiles:
        """Render the whole cluster of ``config_path`` into memory (:class:`harness.renderer_api.MemoryRenderer`)."""
        planned, inputs = self._planned(config_path, None)
        return RenderedFiles(plan=planned.plan, files=render_bytes(planned, inputs.outputs))


RENDERER = ReferenceRenderer()
