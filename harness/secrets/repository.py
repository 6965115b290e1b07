"""The whole-repository scan (``scan-secrets`` without a path): which files the repository has, and scanning
them all -- over several processes when there are many (:mod:`.fanout`), with the serial scan's output.

The files: what ``git ls-files`` lists plus untracked files that are not ignored (one ``git ls-files -z
--cached --others --exclude-standard``); outside a git work tree, every file under the root minus
:data:`~harness.secrets.walk.SKIP_DIRS`, walked in the order the scan sorts them. Names stay root-relative
POSIX strings: this reads every file of a fleet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.findings import Finding
from harness.secrets.generators import KUSTOMIZATION_NAMES, GeneratorInput
from harness.secrets.model import CHECK
from harness.secrets.walk import (
    DEFAULT_MAX_FILE_BYTES,
    SKIP_DIRS,
    InputResult,
    fixture_matcher,
    generator_input_results,
    scan_file,
)

if TYPE_CHECKING:
    from harness.yamlio import DocumentMemo

MIN_FILES_PER_PROCESS = 2000
"""A repository of fewer files is scanned in one process: a fork costs more than it saves there."""
FileResult = tuple[list[Finding], list[InputResult]]
"""One file's findings, and its secretGenerator inputs' (a kustomization's), each keyed by input."""


def repository_files(root: Path) -> list[Path]:
    """Every file of the repository at ``root``: what ``git ls-files`` lists plus untracked files that are
    not ignored; outside a git work tree, every file under ``root`` (minus :data:`SKIP_DIRS`). Sorted."""
    return [root / name for name in repository_names(root)]


def repository_names(root: Path) -> list[str]:
    """:func:`repository_files` as root-relative POSIX names, sorted component by component."""
    listed = _git_files(root)
    if listed is None:
        return tree_names(os.path.abspath(root))
    names = [name for name in listed if os.path.lexists(os.path.join(root, name))]  # a deleted tracked file
    return sorted(names, key=lambda name: name.split("/"))  # is not there to scan


def tree_names(root: str) -> list[str]:
    """Every regular file under the directory ``root`` as a relative POSIX name (symlinks and
    :data:`SKIP_DIRS` skipped), sorted component by component: each directory's entries are visited in
    name order, a subdirectory's files where its name sorts."""
    names: list[str] = []
    stack = [("", iter(_entries(root)))]
    while stack:
        prefix, entries = stack[-1]
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                names.append(prefix + entry.name)
            elif entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
                stack.append((f"{prefix}{entry.name}/", iter(_entries(entry.path))))
                break
        else:
            stack.pop()
    return names


def _entries(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        return sorted(entries, key=attrgetter("name"))


def _git_files(root: Path) -> list[str] | None:
    """Repository-relative names from git, or None when ``root`` is not the top of a git work tree (or git
    is missing)."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    try:
        out = subprocess.run([git, "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({name for name in out.decode("utf-8", "surrogateescape").split("\0") if name})


def no_fixture_warning(root: Path, globs: Sequence[str]) -> Finding:
    """The loud warning of a run in which no file matched the fixture globs (no Secret was policy-checked)."""
    from harness.findings import Severity

    return Finding(code="SECRET-NO-FIXTURES", check=CHECK, path=".", severity=Severity.WARNING,
                   message=f"no file matches the fixture globs {list(globs)} under {root}: the Secret-value policy "
                           "checked nothing (key material was still looked for)",
                   hint="set `fixture` or `fixture_globs` in the overlay-parity settings to where the fixtures are")


def scan_repository(root: Path, *, fixture_globs: Sequence[str], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                    processes: int | None = None) -> tuple[list[Finding], int]:
    """Scan every file of the repository at ``root`` (:func:`repository_files`) for key material, and its
    fixture files for the Secret-value policy. Returns the findings and how many files were read; a
    ``SECRET-NO-FIXTURES`` warning when no file matched ``fixture_globs``.

    ``processes``: how many processes read the files (default: :func:`~harness.secrets.fanout.processes_for`,
    one per CPU for a large repository); the findings, their order and every error are those of the serial
    scan whatever the number."""
    in_fixture = fixture_matcher(fixture_globs)
    names = repository_names(root)
    findings = scan_names(root, names, in_fixture=in_fixture, max_file_bytes=max_file_bytes, processes=processes)
    if not any(map(in_fixture, names)):
        findings.append(no_fixture_warning(root, fixture_globs))
        findings.sort(key=_finding_order)
    return findings, len(names)


def scan_names(root: Path, names: Sequence[str], *, in_fixture: Callable[[str], bool],
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, processes: int | None = None) -> list[Finding]:
    """Scan the files ``names`` (root-relative POSIX names of regular files, in scan order) for key
    material, and those ``in_fixture`` accepts for the Secret-value policy; the findings sorted by place.
    A file gone since it was listed is skipped. ``processes``: as for :func:`scan_repository`."""
    from harness.secrets.fanout import fan_out, processes_for  # only here: the one-file hook never forks
    from harness.yamlio import DocumentMemo

    root_abs = os.path.abspath(root)
    jobs = processes_for(len(names), MIN_FILES_PER_PROCESS) if processes is None else processes
    memo = DocumentMemo()  # a fleet repeats its kustomizations: each text is parsed once per process
    if jobs > 1:
        _prepare()

    def span(start: int, stop: int) -> list[FileResult]:
        return _scan_span(names[start:stop], root_abs, in_fixture, max_file_bytes, memo)

    findings: list[Finding] = []
    checked: set[tuple[str, str]] = set()  # generator inputs held to the policy: each once, at its first reader
    for results in fan_out(span, len(names), jobs):
        for found, inputs in results:
            findings.extend(found)
            for key, more in inputs:
                if key not in checked:
                    checked.add(key)
                    findings.extend(more)
    findings.sort(key=_finding_order)
    return findings


def _finding_order(finding: Finding) -> tuple[str, int, str, str]:
    return finding.path, finding.line, finding.code, finding.extra.get("key_path", "")


def _scan_span(names: Sequence[str], root_abs: str, in_fixture: Callable[[str], bool], max_file_bytes: int,
               memo: DocumentMemo) -> list[FileResult]:
    """The files ``names`` (in order), each with what it found; files that found nothing are left out."""
    results: list[FileResult] = []
    checked: set[tuple[str, str]] = set()  # within the span; across spans the merge keeps the first
    prefix = os.path.join(root_abs, "")
    for name in names:
        policy = in_fixture(name)
        file = prefix + name  # names are relative POSIX names of regular files (the listing's)
        inputs: list[GeneratorInput] | None = [] if policy and name.rpartition("/")[2] in KUSTOMIZATION_NAMES \
            else None
        try:
            found = scan_file(file, display=name, max_file_bytes=max_file_bytes, policy=policy,
                              generator_inputs_out=inputs, memo=memo)
        except InputError:
            continue  # listed but gone (or replaced) since: nothing to read
        checked_inputs = generator_input_results(os.path.dirname(file), inputs, name, root_abs, checked,
                                                 max_file_bytes) if inputs else []
        if found or checked_inputs:
            results.append((found, checked_inputs))
    return results


def _prepare() -> None:
    """Build once, before the fork, what every worker would otherwise build for itself: the pre-filter's
    regexes."""
    from harness.secrets.prefilter import prefilter

    prefilter(b"")
