"""The file walk: which files a scan reads (fixture globs, directories given, the whole repository), and
scanning them with names shown relative to the project root."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.findings import Finding
from harness.secrets.generators import KUSTOMIZATION_NAMES, GeneratorInput, input_findings
from harness.secrets.model import CHECK, HINTS
from harness.secrets.prefilter import prefilter
from harness.secrets.reading import read_regular
from harness.secrets.scan import scan_bytes

if TYPE_CHECKING:
    from harness.globs import GlobSet
    from harness.yamlio import DocumentMemo

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                       ".pytest_cache", ".tox", ".hypothesis"})
"""Directories never walked (tool caches and environments, not fixtures); a file in one can still be named."""
_CHUNK = 1 << 20
_OVERLAP = 4096


def _display(path: Path | str, root_abs: str) -> str:
    """``path`` relative to the (absolute) root when inside it, else as given; no filesystem calls."""
    absolute = os.path.abspath(path)
    inside = root_abs.rstrip(os.sep) + os.sep
    if absolute.startswith(inside):
        return absolute[len(inside):].replace(os.sep, "/")
    return str(path)


def display_name(path: Path, root: Path) -> str:
    """How ``path`` is shown: relative to ``root`` (POSIX) when inside it, else as given."""
    return _display(path, os.path.abspath(root))


def _walk_files(directory: Path) -> Iterator[Path]:
    return map(Path, walk(str(directory)))


def walk(directory: str) -> Iterator[str]:
    """Every regular file under ``directory`` as a path string, names sorted per directory; symlinks and
    :data:`SKIP_DIRS` are skipped."""
    stack = [directory]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_file(follow_symlinks=False):
                    yield entry.path
                elif entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
                    stack.append(entry.path)


def fixture_files(root: Path, globs: Sequence[str]) -> list[Path]:
    """Files under ``root`` matching any of the gitignore-style ``globs`` (``testdata/**``), sorted.

    Only the literal leading directories of each glob are walked; :data:`SKIP_DIRS` and symlinks are
    skipped. Paths stay strings until the end (this lists every file of a fleet)."""
    from harness.globs import compile_pattern, has_magic

    starts: dict[Path, str] = {}  # walk root -> its path relative to ``root``, as a prefix
    for glob in (compile_pattern(g) for g in globs):
        parts = glob.pattern.strip("/").split("/")
        lead: list[str] = []
        if glob.anchored:
            for part in parts[:-1]:
                if has_magic(part) or part == "**":
                    break
                lead.append(part)
        starts[root.joinpath(*lead)] = "".join(f"{part}/" for part in lead)
    matches = _fixture_globs(tuple(globs)).any_match
    found: set[str] = set()
    for start, prefix in sorted(starts.items()):
        if not start.is_dir() or start.is_symlink():
            continue
        cut = len(os.path.join(str(start), ""))
        found.update(path for path in walk(str(start)) if matches(prefix + path[cut:].replace(os.sep, "/")))
    return [Path(path) for path in sorted(found, key=lambda path: path.split(os.sep))]


def is_fixture(path: Path, root: Path, globs: Sequence[str]) -> bool:
    """Whether ``path`` (inside ``root``) matches one of the fixture ``globs`` (compiled once per glob list)."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False
    return _fixture_globs(tuple(globs)).any_match(rel)


def fixture_matcher(globs: Sequence[str]) -> Callable[[str], bool]:
    """Whether a root-relative POSIX name matches one of the fixture ``globs`` (compiled once per list)."""
    return _fixture_globs(tuple(globs)).any_match


@functools.lru_cache(maxsize=16)
def _fixture_globs(globs: tuple[str, ...]) -> GlobSet[str]:
    from harness.globs import compile_all

    return compile_all(globs)


InputResult = tuple[tuple[str, str], list[Finding]]
"""One secretGenerator input checked: ((its shown path, mode), its findings)."""


def generator_input_results(directory: str, inputs: Sequence[GeneratorInput], shown: str, root_abs: str,
                            checked: set[tuple[str, str]],
                            max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[InputResult]:
    """Policy findings for the files a kustomization (in ``directory``, shown as ``shown``) turns into
    Secret data through its secretGenerators (``inputs``), reported at each input file, per input (keyed
    by shown path and mode); an input already in ``checked`` is skipped, one checked is added to it."""
    results: list[InputResult] = []
    for item in inputs:
        target = os.path.join(directory, item.path)
        key = (_display(target, root_abs), item.mode)
        if key in checked or key[0].startswith(("/", "..")) or ".." in item.path:
            continue
        checked.add(key)
        results.append((key, _input_file_findings(target, key[0], item, shown, max_file_bytes)))
    return results


def generated_secret_findings(directory: str, inputs: Sequence[GeneratorInput], shown: str, root_abs: str,
                              checked: set[tuple[str, str]],
                              max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Finding]:
    """:func:`generator_input_results` as one list: each input once per run (``checked``)."""
    return [finding for _, found in generator_input_results(directory, inputs, shown, root_abs, checked,
                                                            max_file_bytes) for finding in found]


def _input_file_findings(target: str, target_shown: str, item: GeneratorInput, shown: str,
                         max_file_bytes: int) -> list[Finding]:
    try:
        data = read_regular(target, target_shown, max_file_bytes)
        if not isinstance(data, bytes):
            return []  # not a regular file, or too large to be a generator input worth reading
        text = data.decode("utf-8")
    except (OSError, InputError, UnicodeDecodeError):
        return []
    if "\r" in text:  # read as a text file reads it: universal newlines
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    findings: list[Finding] = []
    for line, key_path, problem, value_digest in input_findings(text, item, target_shown):
        what = f"{key_path} " if key_path else ""
        findings.append(Finding(
            code="SECRET-NOT-PLACEHOLDER", check=CHECK, path=target_shown, line=line,
            message=f"becomes Secret data through secretGenerator {item.generator} ({item.mode}) in {shown}: "
                    f"{what}{problem}", hint=HINTS["SECRET-NOT-PLACEHOLDER"],
            extra={"key_path": key_path, "layer": "literal", "fingerprint": value_digest[:15],
                   "digest": value_digest, "generator": item.generator, "kustomization": shown}))
    return findings


def is_fixture_name(name: str, globs: Sequence[str]) -> bool:
    """Whether a root-relative POSIX ``name`` matches one of the fixture ``globs``."""
    return _fixture_globs(tuple(globs)).any_match(name)


def _prefilter_stream(path: Path) -> bool:
    """Pre-filter a file too large to scan whole, chunk by chunk (chunks overlap)."""
    tail = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                return False
            if prefilter(tail + chunk):
                return True
            tail = chunk[-_OVERLAP:]


def scan_file(path: Path | str, *, display: str | None = None, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
              policy: bool = True, generator_inputs_out: list[GeneratorInput] | None = None,
              memo: DocumentMemo | None = None) -> list[Finding]:
    """Scan one file (symlinks are not followed: they hold no material themselves). ``policy``: also apply
    the Secret-value policy (fixture files); key material is looked for in every file. ``memo``: see
    :func:`~harness.secrets.scan.scan_bytes`."""
    name = display or str(path)
    data = read_regular(os.fspath(path), name, max_file_bytes)
    if data is None:
        return []
    if isinstance(data, int):
        if not _prefilter_stream(Path(path)):
            return []
        return [Finding(code="SECRET-UNSCANNABLE", check=CHECK, path=name,
                        message=f"file is {data} bytes, over max_file_bytes ({max_file_bytes}), and its "
                                "pre-filter matched: it may hold key material or a Secret",
                        hint=HINTS["SECRET-UNSCANNABLE"])]
    return scan_bytes(data, name, policy=policy, generator_inputs_out=generator_inputs_out, memo=memo)


def _scan_one(file: str, shown: str, policy: bool, root_abs: str, checked: set[tuple[str, str]],
              max_file_bytes: int) -> list[Finding]:
    """One file of a walk, and (for a kustomization under the policy) the inputs of its secretGenerators."""
    inputs: list[GeneratorInput] | None = [] if policy and os.path.basename(file) in KUSTOMIZATION_NAMES else None
    found = scan_file(file, display=shown, max_file_bytes=max_file_bytes, policy=policy, generator_inputs_out=inputs)
    if inputs:
        found += generated_secret_findings(os.path.dirname(file), inputs, shown, root_abs, checked, max_file_bytes)
    return found


def scan_paths(paths: Iterable[Path], *, root: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
               fixture_globs: Sequence[str] | None = None) -> list[Finding]:
    """Scan files and directories (walked recursively, :data:`SKIP_DIRS` and symlinks skipped); names are
    shown relative to ``root`` when inside it. A missing path is a FILE-MISSING input error. Each key is
    reported once per file (its fingerprint identifies it across encodings and positions).

    Key material is looked for in every file; the Secret-value policy applies to the files matching
    ``fixture_globs`` (to every file when ``fixture_globs`` is None)."""
    findings: list[Finding] = []
    root_abs = os.path.abspath(root)
    in_fixture = _fixture_globs(tuple(fixture_globs)).any_match if fixture_globs is not None else None
    checked: set[tuple[str, str]] = set()  # (generator input, mode) already held to the policy
    for given in paths:
        path = Path(given)
        try:
            mode = os.lstat(path).st_mode  # one call: a fleet's fixture_files come through here
        except OSError:
            raise InputError("FILE-MISSING", "path does not exist", file=str(path), hint="check the path") from None
        if stat.S_ISLNK(mode):
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):  # named by the user: say so (a walk skips them)
            raise InputError("FILE-SPECIAL", "not a regular file or directory (a FIFO, device or socket): "
                             "it is never read", file=str(path), hint="name a file or a directory to scan")
        files: Iterable[Path] = _walk_files(path) if stat.S_ISDIR(mode) else [path]
        for file in files:
            shown = _display(file, root_abs)
            policy = in_fixture is None or (not os.path.isabs(shown) and in_fixture(shown))
            findings.extend(_scan_one(str(file), shown, policy, root_abs, checked, max_file_bytes))
    return sorted(findings, key=lambda f: (f.path, f.line, f.code, f.extra.get("key_path", "")))
