"""``overlay-parity scan-secrets``: private-key material and non-placeholder Secret values in fixtures.

    overlay-parity scan-secrets [PATH ...] [--only-fixtures] [--max-file-bytes N] [--json PATH] [--sarif PATH]

Without paths, every file matching ``[tool.overlay-parity] fixture_globs`` (default ``testdata/**``) is
scanned; directories given are walked. ``--only-fixtures`` keeps only the given files that match the
fixture globs (what the pre-commit hook uses). Output: ``file:line: CODE message [sha256:xxxxxxxx]``;
the matched value itself is never printed. Exit 0 clean, 1 findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from harness.commands import one_line_help
from harness.commands.coverage import add_report_options, finish
from harness.project_config import load_project_config


def register(subparsers: Any) -> None:
    """Add the ``scan-secrets`` sub-command."""
    parser = subparsers.add_parser(
        "scan-secrets",
        help=one_line_help("scan-secrets"),
        description="Find private-key material (PEM of every type, OpenSSH, PGP, age), literal or base64-encoded "
                    "(nested), and fixture Secret values that are neither PLACEHOLDER-... nor sops ENC[...].",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: the configured fixture_globs)")
    parser.add_argument("--only-fixtures", action="store_true",
                        help="scan only the given files that match fixture_globs (pre-commit hook mode)")
    parser.add_argument("--max-file-bytes", type=int, metavar="N",
                        help="larger files are only pre-filtered (default: [tool.overlay-parity] max_file_bytes)")
    add_report_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan and report."""
    from harness.secrets import fixture_files, is_fixture, scan_paths

    config = load_project_config()
    paths: list[Path] = list(args.paths)
    if args.only_fixtures:
        paths = [p for p in paths if is_fixture(p, config.root, config.fixture_globs)]
    elif not paths:
        paths = fixture_files(config.root, config.fixture_globs)
        if not paths:
            print(f"scan-secrets: no file matches fixture_globs {list(config.fixture_globs)} under {config.root}",
                  file=sys.stderr)
    started = time.perf_counter()
    findings = scan_paths(paths, root=config.root, max_file_bytes=args.max_file_bytes or config.max_file_bytes)
    return finish(findings, args, command="scan-secrets", seconds=time.perf_counter() - started,
                  notes={"paths": len(paths), "summary": f"{len(paths)} path(s) scanned"})
