"""Run ``kubectl kustomize`` on directories: timeout, one-line errors, a per-run content-hash cache.

A build costs ~0.19 s, almost all process start, so a run never builds the same inputs twice: results are
keyed by :func:`harness.build_cache.input_digest` (every file the build reads, ``../sources`` included,
named relative to the build directory, plus the wrapper kustomization), the display name and the position
under the report root, so identical trees of different clusters build once; independent builds run
concurrently on a small thread pool. With ``persistent=True`` results also survive the process in the
private build cache (:class:`harness.build_cache.BuildCache`), keyed by the same digest and the tool.

Builds load files from outside the kustomization directory (``--load-restrictor LoadRestrictionsNone``),
as kustomize-controller does. A :class:`BuildPlan` with a wrapper kustomization (a generated one, or one
with Flux's additions) is built from a private temp directory whose kustomization names the user's files
by relative paths: nothing is written into, or copied out of, the user's tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError

from harness.build_cache import BuildCache, input_digest
from harness.errors import InputError
from harness.kustomize_refs import rebase
from harness.tools import find_tool, tool_env
from harness.yamlio import yaml_error

DEFAULT_TIMEOUT = 60.0
DEFAULT_JOBS = 2
_MAX_ERROR = 300
_AGE_SECRET = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]+")
_local = threading.local()


class _OutputConstructor(SafeConstructor):
    """YAML 1.1 safe constructor that reads a plain ``=`` as the string it is to Kubernetes.

    kustomize (go-yaml) writes ``matchType: =`` unquoted; YAML 1.1 resolvers tag a lone ``=`` as the
    "value" type, which the stock safe constructor rejects.
    """


_OutputConstructor.add_constructor("tag:yaml.org,2002:value", SafeConstructor.construct_yaml_str)


def load_output(text: str, name: str) -> list[dict[str, Any]]:
    """Parse ``kubectl kustomize`` output (YAML 1.1 scalars, C loader); non-mapping documents dropped."""
    loader: YAML | None = getattr(_local, "loader", None)
    if loader is None:
        loader = YAML(typ="safe", pure=False)
        loader.Constructor = _OutputConstructor
        loader.version = (1, 1)
        _local.loader = loader
    try:
        return [d for d in loader.load_all(text) if isinstance(d, dict)]
    except YAMLError as exc:
        raise yaml_error(exc, name) from None


def holds_secret_values(output: str) -> bool:
    """Whether build output holds a Secret value the fixture policy would refuse in its source
    (:func:`harness.secrets.generators.holds_secret_values`), or cannot be read to tell: such output is never
    kept in the build cache, so no secret value is copied out of the repository (it is built every time)."""
    if "Secret" not in output:
        return False
    from harness.secrets.generators import holds_secret_values as refused

    try:
        return refused(load_output(output, "build output"))
    except InputError:
        return True


@dataclass(frozen=True)
class BuildPlan:
    """One build: the directory, and a wrapper kustomization (JSON, absolute paths) when it is not built as is."""

    directory: Path
    wrapper: str | None = None
    generated: bool = False
    stubbed: bool = False

    @property
    def key(self) -> str:
        """Identity of the build apart from file contents."""
        return f"{self.directory}\0{self.wrapper or ''}"

    def wrapper_data(self) -> dict[str, Any] | None:
        """The wrapper kustomization as data (None when the directory is built as it is)."""
        return None if self.wrapper is None else dict(json.loads(self.wrapper))


def relative_wrapper(plan: BuildPlan, wrapper_dir: Path) -> dict[str, Any]:
    """The wrapper kustomization with every absolute local path made relative to ``wrapper_dir``."""
    def fn(entry: str) -> str:
        return os.path.relpath(entry, wrapper_dir) if os.path.isabs(entry) else entry

    return rebase(plan.wrapper_data() or {}, fn)


@dataclass
class BuildResult:
    """The outcome of one build: the parsed objects on success, a one-line error otherwise.

    Output that does not parse as YAML counts as a failed build (its error names the line).
    """

    directory: Path
    ok: bool
    output: str = ""
    error: str = ""
    seconds: float = 0.0
    objects: list[dict[str, Any]] = field(default_factory=list, repr=False)
    timed_out: bool = False

    def documents(self) -> list[dict[str, Any]]:
        """The built objects (a copy of the list)."""
        return list(self.objects)


def content_hash(directory: Path) -> str:
    """SHA-256 over the sorted relative paths and bytes of every file under ``directory``."""
    digest = hashlib.sha256()
    if not directory.is_dir():
        return "missing"
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(directory).as_posix()
            digest.update(os.fsencode(rel) + b"\0")  # any name, undecodable bytes too
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                digest.update(b"link:" + os.fsencode(os.readlink(path)))
            elif stat.S_ISREG(mode):
                digest.update(path.read_bytes())
            else:  # a FIFO or device is never opened (kustomize refuses it itself)
                digest.update(b"special:" + str(stat.S_IFMT(mode)).encode())
            digest.update(b"\0")
    return digest.hexdigest()


def one_line_error(stderr: str, directory: Path, display: str = "", root: Path | None = None) -> str:
    """kustomize's nested error chain as one short line: the build directory shown as ``display``, other
    paths under ``root`` (the overlay) shown relative to it."""
    text = " ".join(stderr.split())
    text = re.sub(r"^(Error|error):\s*", "", text)
    shown = display or directory.name
    pairs: list[tuple[Path | str, str]] = [(directory.resolve(), shown)]
    if root is not None:
        pairs.append((root.resolve(), "."))
    for base, label in pairs:
        text = text.replace(str(base) + "/", (label.rstrip("/") + "/") if label not in ("", ".") else "")
        text = text.replace(str(base), label or ".")
    text = _AGE_SECRET.sub("[REDACTED]", text)
    if not text:
        return "kustomize failed without a message"
    if len(text) > _MAX_ERROR:
        text = text[:100] + " ... " + text[-(_MAX_ERROR - 105):]
    return text


def _located(result: BuildResult, plan: BuildPlan) -> BuildResult:
    """A (possibly shared) result as the result of ``plan``'s directory."""
    return result if result.directory == plan.directory else replace(result, directory=plan.directory)


def _unwrap(text: str, build_dir: Path, directory: Path, root: Path | None) -> str:
    """Error text of a wrapper build with the wrapper's relative paths turned back into absolute ones."""
    for base in [directory, *([root] if root is not None else [])]:
        rel = os.path.relpath(base, build_dir)
        text = re.sub(r"(?<![\w./-])" + re.escape(rel) + r"(?=[/'\"\s:]|$)", str(base), text)
    return text.replace(str(build_dir) + "/", "").replace(str(build_dir), directory.as_posix())


class KustomizeBuilder:
    """Builds kustomize directories with ``kubectl kustomize``; one instance per run (its cache scope)."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, jobs: int = DEFAULT_JOBS,
                 persistent: bool = False) -> None:
        self.timeout = timeout
        self.jobs = max(1, jobs)
        self.persistent = persistent
        self._disk: BuildCache | None = None
        self._kubectl: Path | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], Future[BuildResult]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.builds = 0
        self.cache_hits = 0
        self.disk_hits = 0
        self.build_seconds = 0.0

    def __enter__(self) -> KustomizeBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker pool (the cache stays readable)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def kubectl(self) -> Path:
        """The kubectl binary (TOOL-MISSING InputError naming the install command when absent)."""
        if self._kubectl is None:
            self._kubectl = find_tool("kubectl")
            if self.persistent:
                self._disk = BuildCache.for_tool(self._kubectl)
        return self._kubectl

    def build(self, directory: Path, *, display: str = "", root: Path | None = None) -> BuildResult:
        """Build one directory (cached); errors name it ``display`` and other paths relative to ``root``."""
        plan = BuildPlan(directory.resolve())
        return _located(self._submit(plan, display, root, pooled=False).result(), plan)

    def build_many(self, directories: Iterable[Path], *, displays: dict[Path, str] | None = None,
                   root: Path | None = None) -> dict[Path, BuildResult]:
        """Build several directories concurrently; results keyed by the paths given."""
        displays = displays or {}
        unique = list(dict.fromkeys(directories))
        plans = {d: BuildPlan(d.resolve()) for d in unique}
        results = self.build_plans(list(plans.values()), displays={plans[d]: displays.get(d, "") for d in unique},
                                   root=root)
        return {d: results[plans[d]] for d in unique}

    def build_plans(self, plans: Iterable[BuildPlan], *, displays: dict[BuildPlan, str] | None = None,
                    root: Path | None = None) -> dict[BuildPlan, BuildResult]:
        """Build several plans concurrently; results keyed by plan."""
        displays = displays or {}
        unique = list(dict.fromkeys(plans))
        futures = {p: self._submit(p, displays.get(p, ""), root, pooled=len(unique) > 1) for p in unique}
        return {p: _located(f.result(), p) for p, f in futures.items()}

    # -- hooks a subclass may replace (harness.policy.builder shares inputs and parses across a run) --------

    def _digest(self, plan: BuildPlan) -> str | None:
        """The content digest of everything the build reads (None: the directory is gone)."""
        return input_digest(plan.directory, plan.wrapper_data()) if plan.directory.is_dir() else None

    def _parse(self, output: str, name: str) -> list[dict[str, Any]]:
        """The objects of a build's output (raises InputError when it does not parse)."""
        return load_output(output, f"kustomize output of {name}")

    def _tool_env(self) -> dict[str, str]:
        """The environment kubectl runs with."""
        return tool_env()

    def _from_entry(self, directory: Path, entry: dict[str, Any], display: str) -> BuildResult | None:
        """A result from a persistent cache entry (None when the entry does not make sense: a miss)."""
        ok, output, error = entry.get("ok"), entry.get("output"), entry.get("error")
        if not isinstance(ok, bool) or not isinstance(output, str) or not isinstance(error, str):
            return None
        if not ok:
            return BuildResult(directory, ok=False, error=error)
        try:
            objects = self._parse(output, display or directory.name)
        except InputError:
            return None
        return BuildResult(directory, ok=True, output=output, objects=objects)

    # -- building ------------------------------------------------------------------------------------------

    def _submit(self, plan: BuildPlan, display: str, root: Path | None, *, pooled: bool) -> Future[BuildResult]:
        kubectl = self.kubectl()  # resolve (or fail with TOOL-MISSING) before any thread starts
        digest = self._digest(plan)
        where = os.path.relpath(plan.directory, root) if root is not None else ""
        # identical inputs build identically wherever they sit; errors name the display and root-relative paths
        key: tuple[str, ...] = (("content", digest, display, where) if digest is not None
                                else ("path", plan.key, content_hash(plan.directory)))
        with self._lock:
            existing = self._cache.get(key)
            if existing is not None:
                self.cache_hits += 1
                return existing
            future: Future[BuildResult]
            if pooled:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="kustomize")
                future = self._pool.submit(self._cached_run, kubectl, plan, display, root, key)
            else:
                future = Future()
            self._cache[key] = future
        if not pooled:
            try:
                future.set_result(self._cached_run(kubectl, plan, display, root, key))
            except BaseException as exc:
                future.set_exception(exc)
        return future

    def _cached_run(self, kubectl: Path, plan: BuildPlan, display: str, root: Path | None,
                    key: tuple[str, ...]) -> BuildResult:
        """A build from the persistent cache when it has one for ``key``, else a real one (then stored)."""
        disk = self._disk if key[0] == "content" else None
        disk_key = hashlib.sha256("\0".join(key).encode("utf-8", "surrogateescape")).hexdigest() if disk else ""
        if disk is not None:
            entry = disk.get(disk_key)
            if entry is not None:
                result = self._from_entry(plan.directory, entry, display)
                if result is not None:
                    with self._lock:
                        self.disk_hits += 1
                    return result
        result = self._run(kubectl, plan, display, root)
        if disk is not None and not result.timed_out and not holds_secret_values(result.output):
            disk.put(disk_key, {"ok": result.ok, "output": result.output, "error": result.error})
        return result

    def _run(self, kubectl: Path, plan: BuildPlan, display: str, root: Path | None) -> BuildResult:
        directory = plan.directory
        if not directory.is_dir():
            return BuildResult(directory, ok=False, error=f"{display or directory.name}: directory does not exist")
        if plan.wrapper is None:
            return self._kustomize(kubectl, directory, directory, display, root)
        with tempfile.TemporaryDirectory(prefix="overlay-parity-build-") as tmp:
            wrapper_dir = Path(tmp).resolve() / "build"
            wrapper_dir.mkdir()
            text = json.dumps(relative_wrapper(plan, wrapper_dir), indent=1)
            (wrapper_dir / "kustomization.yaml").write_text(text, encoding="utf-8")
            result = self._kustomize(kubectl, wrapper_dir, directory, display, root)
        return result

    def _kustomize(self, kubectl: Path, build_dir: Path, directory: Path, display: str,
                   root: Path | None) -> BuildResult:
        start = time.perf_counter()
        try:
            proc = subprocess.run([str(kubectl), "kustomize", "--load-restrictor", "LoadRestrictionsNone",
                                   str(build_dir)], capture_output=True, text=True,
                                  timeout=self.timeout, env=self._tool_env(), cwd=build_dir, check=False)
        except subprocess.TimeoutExpired:
            return self._done(BuildResult(directory, ok=False, error=f"kubectl kustomize timed out after "
                                          f"{self.timeout:.0f}s (remote resources?)", timed_out=True), start)
        except OSError as exc:
            raise InputError("TOOL-MISSING", f"cannot run kubectl ({type(exc).__name__})", file=str(kubectl),
                             hint="reinstall it: run `bash scripts/quickstart.sh`") from None
        if proc.returncode != 0:
            stderr = proc.stderr
            if build_dir != directory:
                stderr = _unwrap(stderr, build_dir, directory, root)
            error = one_line_error(stderr, directory, display, root)
            return self._done(BuildResult(directory, ok=False, error=error), start)
        try:
            objects = self._parse(proc.stdout, display or directory.name)
        except InputError as exc:
            return self._done(BuildResult(directory, ok=False, error=f"output does not parse: {exc.one_line()}"),
                              start)
        return self._done(BuildResult(directory, ok=True, output=proc.stdout, objects=objects), start)

    def _done(self, result: BuildResult, start: float) -> BuildResult:
        result.seconds = time.perf_counter() - start
        with self._lock:
            self.builds += 1
            self.build_seconds += result.seconds
        return result

    def stats(self) -> dict[str, Any]:
        """Counters for reports: builds run, cache hits, summed build seconds."""
        return {"builds": self.builds, "cache_hits": self.cache_hits, "disk_cache_hits": self.disk_hits,
                "build_seconds": round(self.build_seconds, 3)}
