"""Shared helpers for the hardening and bad-input suites: the real CLI in a subprocess, one-line error
checks, tree snapshots and throw-away projects with their own ``[tool.overlay-parity]`` table."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

from hypothesis import settings

# pytester snapshots sys.modules around each test and drops what was first imported inside it; a module
# dropped that way is imported again later, and ruamel's C loader does not survive that. So everything
# these suites use in-process is imported now, at collection (before any pytester test runs).
import harness.coverage
import harness.policy
import harness.runner
import harness.secrets
import harness.update  # noqa: F401
import renderer.api  # noqa: F401
from tests.support.trees import BOOTSTRAP_FILES, ProjectLayout, write_tree

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "testdata" / "relaypoint-logistics-shared"
TEMPLATES = ROOT / "renderer" / "templates"
DESCRIPTORS = ROOT / "renderer" / "descriptors"
PYTHON = sys.executable
CLI = (PYTHON, "-m", "harness.cli")
EPOCH = "1700000000"  # SOURCE_DATE_EPOCH: renders are reproducible, so trees can be compared to snapshots

# ``file[:line[:col]]: CODE: message (fix: hint)`` -- the one-line bad-input format of harness.errors.
ONE_LINE = re.compile(
    r"^(?:(?P<file>[^:\s][^:]*?)(?::(?P<line>\d+)(?::(?P<column>\d+))?)?: )?"
    r"(?P<code>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*): (?P<message>\S.*?) \(fix: (?P<hint>\S.*)\)$"
)
# argparse usage errors: ``overlay-parity[ check]: USAGE: message (fix: see `overlay-parity --help`)``
USAGE_LINE = re.compile(r"^overlay-parity(?: [a-z-]+)?: USAGE: \S.* \(fix: see `overlay-parity.*--help`\)$")

Snapshot = dict[str, tuple[str, bytes, int, int]]


def env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: reproducible renders, no debug tracebacks."""
    values = {k: v for k, v in os.environ.items() if k not in ("OVERLAY_PARITY_DEBUG", "PYTEST_ADDOPTS")}
    values.update(SOURCE_DATE_EPOCH=EPOCH, PYTHONDONTWRITEBYTECODE="1", **extra)
    return values


class CliOptions(TypedDict, total=False):
    """The keyword options of :func:`run_cli` besides ``cwd`` (for wrappers that pass them on)."""

    timeout: float
    extra_env: Mapping[str, str] | None
    preexec: Callable[[], None] | None


def run_cli(args: Sequence[str | os.PathLike[str]], *, cwd: Path, timeout: float = 120,
            extra_env: Mapping[str, str] | None = None,
            preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m harness.cli ARGS`` in ``cwd`` (its pyproject.toml is the project config)."""
    return subprocess.run([*CLI, *map(str, args)], cwd=cwd, env=env(**(extra_env or {})), capture_output=True,
                          text=True, timeout=timeout, check=False, preexec_fn=preexec)


@dataclass(frozen=True)
class ErrorLine:
    """One parsed bad-input line."""

    file: str
    line: int
    column: int
    code: str
    message: str
    hint: str


def parse_line(text: str) -> ErrorLine:
    """Parse one ``file:line:col: CODE: message (fix: hint)`` line; AssertionError when malformed."""
    match = ONE_LINE.match(text)
    assert match, f"not a well-formed one-line error: {text!r}"
    return ErrorLine(match["file"] or "", int(match["line"] or 0), int(match["column"] or 0), match["code"],
                     match["message"], match["hint"])


def assert_bad_input(proc: subprocess.CompletedProcess[str], *, code: str | None = None,
                     file: str | os.PathLike[str] | None = None, line: int | None = None,
                     column: int | None = None, lines: int | None = 1, contains: str = "",
                     cwd: Path | None = None) -> list[ErrorLine]:
    """Exit 2, no traceback anywhere, and stderr is exactly ``lines`` well-formed error lines (each
    naming ``file`` -- as given, or relative to ``cwd`` -- with ``code``; the first at ``line``/``column``
    when given)."""
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    raw = proc.stderr.splitlines()
    assert all(text.strip() for text in raw), f"blank line on stderr: {proc.stderr!r}"
    if lines is not None:
        assert len(raw) == lines, f"expected {lines} stderr line(s), got {len(raw)}: {proc.stderr}"
    parsed = [parse_line(text) for text in raw]
    for item in parsed:
        if code is not None:
            assert item.code == code, item
        if file is not None:
            named = Path(item.file) if Path(item.file).is_absolute() or cwd is None else cwd / item.file
            assert named == Path(file), (item.file, str(file))
        assert len(item.hint) >= 5, item  # a real instruction, not a stub
    if parsed and line is not None:
        assert parsed[0].line == line, parsed[0]
    if parsed and column is not None:
        assert parsed[0].column == column, parsed[0]
    if contains:
        assert any(contains in p.message for p in parsed), (contains, parsed)
    return parsed


def snapshot(root: Path, *, dir_mtimes: bool = True) -> Snapshot:
    """Every entry under ``root`` (recursively, hidden ones too): kind, bytes, mode and mtime (of
    directories only with ``dir_mtimes``: a render lock created and removed next to an overlay touches
    its parent's mtime and nothing else)."""
    found: Snapshot = {}
    if not root.exists():
        return found
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(folder, name)
            info = path.lstat()
            if path.is_symlink():
                found[path.relative_to(root).as_posix()] = ("link", os.readlink(path).encode(), info.st_mode, 0)
            elif path.is_dir():
                found[path.relative_to(root).as_posix()] = ("dir", b"", info.st_mode,
                                                            info.st_mtime_ns if dir_mtimes else 0)
            elif not path.is_file():  # FIFO, socket, device: never opened
                found[path.relative_to(root).as_posix()] = ("special", b"", info.st_mode, info.st_mtime_ns)
            else:
                found[path.relative_to(root).as_posix()] = ("file", path.read_bytes(), info.st_mode,
                                                            info.st_mtime_ns)
    return found


def contents(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every regular file under ``root``."""
    return {k: v[1] for k, v in snapshot(root).items() if v[0] == "file"}


def add_bootstrap(overlay: Path, files: Mapping[str, bytes] = BOOTSTRAP_FILES) -> None:
    """Bootstrap-owned (flux-system/) and hand-written files, with fixed old mtimes."""
    write_tree(overlay, files)
    for relative in files:
        os.utime(overlay / relative, ns=(1_000_000_000, 1_000_000_000))


LOCAL_RENDERER = textwrap.dedent('''\
    """The reference renderer over this project's own template and descriptor copies."""
    from pathlib import Path

    from renderer.api import ReferenceRenderer

    HERE = Path(__file__).resolve().parent
    RENDERER = ReferenceRenderer(template_root=HERE / "templates", descriptor_root=HERE / "descriptors",
                                 lock_timeout=5)
    ''')

MINIMAL_INVENTORY = textwrap.dedent("""\
    version: 1.0.0
    fixture: relaypoint-logistics-shared
    defaults: []
    """)


@dataclass(frozen=True)
class Project(ProjectLayout):
    """A throw-away repository: pyproject.toml, a fixture with configs and overlays, an inventory."""

    FIXTURE_DIR = "fixture"
    INVENTORY_FILE = "inventory.yaml"
    DEFAULT_CLUSTER = "k8s-dev"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def descriptors(self) -> Path:
        return self.root / "descriptors"

    def cli(self, *args: str | os.PathLike[str], **options: Unpack[CliOptions]) -> subprocess.CompletedProcess[str]:
        return run_cli(args, cwd=self.root, **options)

    def render(self, cluster: str = "k8s-dev", *extra: str) -> subprocess.CompletedProcess[str]:
        """``render --config fixture/.<cluster>-config.yaml --out fixture/applications/overlays/<cluster>``."""
        return self.cli("render", "--config", self.config(cluster), "--out", self.overlay(cluster), *extra)


def make_project(root: Path, *, pristine: Path | None = None, clusters: Sequence[str] = ("k8s-dev",),
                 local_renderer: bool = False, max_file_bytes: int = 5 * 1024 * 1024,
                 inventory: str = MINIMAL_INVENTORY, extra_settings: str = "") -> Project:
    """Build a project under ``root``. ``pristine`` (an overlay rendered from k8s-dev) is copied in as the
    k8s-dev overlay, with flux-system/ and a README added; other clusters get an empty overlay directory.
    ``local_renderer`` copies the template and descriptor roots and renders through them."""
    project = Project(root)
    root.mkdir(parents=True, exist_ok=True)
    settings = [
        'fixture = "fixture"',
        'inventory = "inventory.yaml"',
        f"max_file_bytes = {max_file_bytes}",
    ]
    if local_renderer:
        shutil.copytree(TEMPLATES, project.templates)
        shutil.copytree(DESCRIPTORS, project.descriptors)
        (root / "local_renderer.py").write_text(LOCAL_RENDERER, encoding="utf-8")
        settings += ['renderer = "local_renderer:RENDERER"', 'template_root = "templates"',
                     'descriptor_root = "descriptors"']
    else:
        settings += ['renderer = "renderer.api:RENDERER"', f'template_root = "{TEMPLATES}"',
                     f'descriptor_root = "{DESCRIPTORS}"']
    (root / "pyproject.toml").write_text(
        "[project]\nname = \"scratch\"\nversion = \"0\"\n\n[tool.overlay-parity]\n" + "\n".join(settings)
        + "\n" + extra_settings, encoding="utf-8")
    project.inventory.write_text(inventory, encoding="utf-8")
    for cluster in clusters:
        project.config(cluster).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(FIXTURE / f".{cluster}-config.yaml", project.config(cluster))
        overlay = project.overlay(cluster)
        if pristine is not None and cluster == "k8s-dev":
            shutil.copytree(pristine, overlay, copy_function=shutil.copy2)
            add_bootstrap(overlay)
        else:
            overlay.mkdir(parents=True, exist_ok=True)
    return project


def render_pristine(out: Path, cluster: str = "k8s-dev", config: Path | None = None) -> Path:
    """Render a cluster in-process with the packaged renderer (reproducible timestamp) into ``out``."""
    from renderer.api import RENDERER

    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    try:
        RENDERER.render(config or FIXTURE / f".{cluster}-config.yaml", out)
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    return out


FUZZ_EXAMPLES_CI = 40


def examples(factor: float = 1.0) -> settings:
    """Hypothesis settings for a fuzz test: ``factor`` x 40 examples under the default ``ci`` profile (100
    examples), ``factor`` x the profile's ``max_examples`` under a bigger one (``long``: 2000)."""
    current = settings.default
    assert current is not None, "a Hypothesis settings profile is always loaded"
    base = current.max_examples
    base = FUZZ_EXAMPLES_CI if base <= 100 else base
    return settings(max_examples=max(5, int(base * factor)))
