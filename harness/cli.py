"""``overlay-parity`` command line: every flag, its help and examples, the dispatch and the exit codes.

This is the only module that parses arguments. Each command is one entry of :data:`COMMANDS`: its help
line, description, examples, a function adding its arguments and a function calling the command, a plain
function in ``harness/commands/<name>.py`` imported only when that command runs (``overlay-parity
--help`` imports no command module). Flags shared by several commands are added by one function each
(:func:`add_project_options`, :func:`add_report_options`) and read back into the face-neutral values of
:mod:`harness.options`.

Exit codes: 0 clean, 1 findings, 2 bad input or usage (one line on stderr, never a traceback), 3 an
internal error, 130 interrupted. A closed stdout (``overlay-parity check | head -1``) is not an error:
the run goes on quietly and exits with its own code.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

from harness import restore_interrupts
from harness.errors import InputError, InputErrors
from harness.options import ProjectOptions, ReportOutputs, from_values
from harness.project_config import use_config

if TYPE_CHECKING:
    from harness.report import CheckResult

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
PROG = "overlay-parity"


# ------------------------------------------------------------------------------------------ the parser

class _Formatter(argparse.HelpFormatter):
    """Fills each paragraph of a description or epilog on its own; a paragraph of several lines (a list of
    examples) stays as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in textwrap.dedent(text).strip("\n").split("\n\n"):
            if "\n" in block:
                blocks.append("\n".join(indent + line for line in block.splitlines()))
            else:
                blocks.append(textwrap.fill(" ".join(block.split()), width, initial_indent=indent,
                                            subsequent_indent=indent))
        return "\n\n".join(blocks)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: USAGE: {message} (fix: see `{self.prog} --help`)\n")


class _Version(argparse.Action):
    """``--version``: the installed distribution's version (looked up only when asked for)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"{PROG} {version()}")
        parser.exit(EXIT_OK)


def version() -> str:
    """The version of the installed ``overlay-parity`` distribution (the package's own when not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("overlay-parity")
    except PackageNotFoundError:
        from harness import __version__

        return __version__


def add_project_options(parser: argparse.ArgumentParser) -> None:
    """``--fixture``, ``--inventory``, ``--renderer`` (overriding ``[tool.overlay-parity]``); read back with
    :func:`harness.options.from_values` (a new option: a field there with the same dest)."""
    group = parser.add_argument_group("project (default: the settings file, see --config)")
    group.add_argument("--fixture", type=Path, metavar="DIR", help="fixture root with .<cluster>-config.yaml files")
    group.add_argument("--inventory", type=Path, metavar="FILE", help="canonicalization inventory")
    group.add_argument("--renderer", metavar="CMD",
                       help="module:ATTR, or a command with {config} and {out} placeholders")


def add_report_options(parser: argparse.ArgumentParser, *, json: bool = True) -> None:
    """The report files a command can write besides its terminal output (``--json``, ``--junit``,
    ``--sarif``, ``--markdown``, ``--github-summary``, ``--html``); read back with
    :func:`harness.options.from_values` (a new format: a field there with the same dest, and its writer
    in ``ReportOutputs.write``)."""
    group = parser.add_argument_group("report files")
    if json:
        group.add_argument("--json", dest="json_path", type=Path, metavar="PATH", help="also write a JSON report")
    group.add_argument("--junit", dest="junit_path", type=Path, metavar="PATH", help="also write JUnit XML")
    group.add_argument("--sarif", dest="sarif_path", type=Path, metavar="PATH",
                       help="also write SARIF 2.1.0 for code scanning (results anchored at repository files)")
    group.add_argument("--markdown", dest="markdown_path", type=Path, metavar="PATH",
                       help="also write Markdown for a pull-request comment (under GitHub's size limit)")
    group.add_argument("--github-summary", dest="github_summary", action="store_true",
                       help="append that Markdown to $GITHUB_STEP_SUMMARY (GitHub Actions job summary)")
    group.add_argument("--html", dest="html_path", type=Path, metavar="PATH",
                       help="also write a self-contained HTML fleet report (clusters x checks, side-by-side diffs)")


def add_verbose_option(parser: argparse.ArgumentParser, help_text: str = "also show notes and warnings", *,
                       quiet: bool = False) -> None:
    """``-v/--verbose`` (and, with ``quiet``, ``-q/--quiet``: the failing findings and the summary only)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help=help_text)
    if quiet:
        group.add_argument("-q", "--quiet", action="store_true", help="print the failing findings and the summary only")


def _project(args: argparse.Namespace) -> ProjectOptions:
    return from_values(ProjectOptions, args)


def _outputs(args: argparse.Namespace) -> ReportOutputs:
    outputs = from_values(ReportOutputs, args)
    outputs.check(os.environ)  # a missing $GITHUB_STEP_SUMMARY is a usage error
    return outputs


def _cluster_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--cluster", action="append", default=[], metavar="C", help=help_text)


def _one_path_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", required=True, metavar="C", help="the cluster to render")
    parser.add_argument("path", metavar="PATH", help="overlay-relative path, rendered or fixture side "
                                                     "(e.g. services/fluxcd/harbor.yaml)")


def _print_findings(result: CheckResult, outputs: ReportOutputs) -> int:
    """The one-line shape of ``coverage``/``scan-secrets``: findings on stdout, the summary on stderr."""
    from harness.console import finding_line, findings_summary
    from harness.findings import failing
    from harness.report import Report

    for finding in result.findings:
        print(finding_line(finding))
    outputs.write(Report(results=[result]), tool=f"{PROG} {result.check}")
    print(findings_summary(result.check, result.findings, result.notes), file=sys.stderr)
    return EXIT_FINDINGS if failing(result.findings) else EXIT_OK


# ------------------------------------------------------------------------------------------ commands

def _init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", type=Path, default=None, metavar="DIR",
                        help="repository root (default: the working directory)")
    parser.add_argument("--renderer", metavar="CMD",
                        help="module:ATTR or a command with {config} and {out} (default: the built-in renderer)")
    parser.add_argument("--fixture", type=Path, metavar="DIR",
                        help="the directory with the .<cluster>-config.yaml files, when DIR holds several")


def _init(args: argparse.Namespace) -> int:
    from harness.commands.init import init

    return init(args.directory, renderer=args.renderer, fixture=args.fixture)


def _render_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="the .<cluster>-config.yaml to render")
    parser.add_argument("--out", type=Path, metavar="DIR", help="the overlay directory to (re)write")
    parser.add_argument("--service", metavar="NAME",
                        help="render only this service and the aggregates it belongs to (overlay must exist)")
    parser.add_argument("--diagnostics", type=Path, metavar="PATH",
                        help="write the plan (decisions and actions) as JSON; with --all, a directory")
    parser.add_argument("--renderer", metavar="SPEC",
                        help="module:ATTR or a command template (default: settings key renderer)")
    parser.add_argument("--all", dest="all_configs", action="store_true",
                        help="render every .<cluster>-config.yaml of --fixture")
    parser.add_argument("--fixture", type=Path, metavar="DIR",
                        help="with --all: the fixture holding the configs (default from pyproject)")
    parser.add_argument("--out-root", type=Path, metavar="DIR", help="with --all: overlays go to DIR/<cluster>")


def _render(args: argparse.Namespace) -> int:
    from harness.commands.render import render

    return render(config=args.config, out=args.out, service=args.service, diagnostics=args.diagnostics,
                  renderer=args.renderer, all_configs=args.all_configs, fixture=args.fixture, out_root=args.out_root)


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    _cluster_option(parser, "check only this cluster (repeatable; default: every cluster of the fixture)")
    parser.add_argument("--shard", metavar="I/N", help="check only this deterministic share of the clusters")
    changed = parser.add_mutually_exclusive_group()
    changed.add_argument("--changed-since", metavar="REF",
                         help="check only the clusters the changes since git REF can affect (working tree and "
                              "untracked files included)")
    changed.add_argument("--changed", nargs="+", type=Path, default=None, metavar="PATH",
                         help="check only the clusters changes to these files can affect (compared with HEAD)")
    parser.add_argument("--update", action="store_true",
                        help="rewrite differing renderer-owned fixture files from the renderer first "
                             "(never ignored or security-relevant ones)")
    parser.add_argument("--update-force", action="store_true",
                        help="with --update, also rewrite ignored and security-relevant files")
    parser.add_argument("-j", "--jobs", type=_jobs, default=0, metavar="N",
                        help="check clusters on N worker processes (default 0: one per usable core, in process "
                             "for a few clusters; 1: in process; at most 4 per core); results and their order do "
                             "not change")
    add_verbose_option(parser, "also show notes and warnings, and files excluded from parity", quiet=True)
    add_project_options(parser)
    add_report_options(parser)


def _check(args: argparse.Namespace) -> int:
    from harness.commands.check import check

    if args.update_force and not args.update:
        raise InputError("USAGE", "--update-force needs --update", hint="add --update")
    return check(_project(args), clusters=args.cluster, shard=args.shard, outputs=_outputs(args), update=args.update,
                 update_force=args.update_force, verbose=args.verbose, quiet=args.quiet,
                 changed_since=args.changed_since, changed=args.changed, jobs=args.jobs)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r} (0 means one per core)")
    return value


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    _one_path_arguments(parser)
    parser.add_argument("--unified", action="store_true",
                        help="for YAML, a unified diff of the two canonical YAML texts (keys sorted, secret values "
                             "masked, yaml_remove rules applied) instead of the YAML-path diff")
    add_project_options(parser)


def _diff(args: argparse.Namespace) -> int:
    from harness.commands.diff import diff

    return diff(_project(args), args.cluster, args.path, unified=args.unified)


def _explain_arguments(parser: argparse.ArgumentParser) -> None:
    _one_path_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the explanation as one JSON object")
    add_project_options(parser)


def _explain(args: argparse.Namespace) -> int:
    from harness.commands.explain import explain_path

    return explain_path(_project(args), args.cluster, args.path, as_json=args.json)


def _coverage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template-root", type=Path, metavar="DIR",
                        help="template directory (default: settings key template_root)")
    parser.add_argument("--descriptor-root", type=Path, metavar="DIR",
                        help="descriptor directory (default: settings key descriptor_root)")
    add_report_options(parser)


def _coverage(args: argparse.Namespace) -> int:
    from harness.commands.coverage import coverage

    return _print_findings(coverage(template_root=args.template_root, descriptor_root=args.descriptor_root),
                           _outputs(args))


def _scan_secrets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: the whole repository: git ls-files plus untracked, "
                             "not ignored files)")
    parser.add_argument("--only-fixtures", action="store_true",
                        help="accepted for old hook configurations; keys are looked for in every file given and "
                             "the Secret-value policy applies to fixture files only, with or without it")
    parser.add_argument("--max-file-bytes", type=int, metavar="N",
                        help="larger files are only pre-filtered (default: the max_file_bytes setting)")
    parser.add_argument("--baseline-out", type=Path, metavar="FILE",
                        help="write a draft secret allowlist of the findings (empty rationales: the schema refuses "
                             "it until a person writes them)")
    add_report_options(parser)


def _scan_secrets(args: argparse.Namespace) -> int:
    from harness.commands.scan_secrets import scan_secrets

    result = scan_secrets(args.paths, only_fixtures=args.only_fixtures, max_file_bytes=args.max_file_bytes,
                          baseline_out=args.baseline_out)
    return _print_findings(result, _outputs(args))


def _policy_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.policy import CONVENTIONS, POLICIES

    parser.add_argument("dirs", nargs="*", type=Path, metavar="DIR",
                        help="overlay directories to check as they are (default: render the configured clusters)")
    _cluster_option(parser, "check only this configured cluster (repeatable)")
    parser.add_argument("--policy", action="append", default=[], metavar="NAME",
                        help=f"run only this policy (repeatable): {', '.join(POLICIES)}")
    parser.add_argument("--no-convention", action="append", default=[], metavar="NAME",
                        help=f"turn one convention off (repeatable): {', '.join(CONVENTIONS)}")
    parser.add_argument("--repo-root", type=Path, default=None,
                        help="repository root Flux spec.path resolves against (default: nearest ancestor with .git)")
    parser.add_argument("--fixture", type=Path, default=None, metavar="DIR",
                        help="fixture directory (default: settings key fixture)")
    add_verbose_option(parser, "show warnings and notes too", quiet=True)
    add_report_options(parser)


def _policy(args: argparse.Namespace) -> int:
    from harness.commands.policy import policy

    return policy(args.dirs, clusters=args.cluster, policies=args.policy, disabled_conventions=args.no_convention,
                  repo_root=args.repo_root, fixture=args.fixture, outputs=_outputs(args), verbose=args.verbose,
                  quiet=args.quiet)


def _propose_arguments(parser: argparse.ArgumentParser) -> None:
    _cluster_option(parser, "draft only for this cluster (repeatable; default: every cluster)")
    parser.add_argument("--out", type=Path, metavar="DRAFT.yaml", help="where to write the draft inventory")
    parser.add_argument("--narrow", action="store_true",
                        help="say which yaml_remove pointers would replace each path_only rule, or why none can")
    add_project_options(parser)


def _propose(args: argparse.Namespace) -> int:
    from harness.commands.propose import propose_rules

    return propose_rules(_project(args), clusters=args.cluster, out=args.out, narrow_only=args.narrow)


def shard_count(text: str) -> int:
    """``--expect-shards`` value: a positive integer (else a one-line USAGE error)."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a shard count N >= 1, got {text!r}")
    return count


def _merge_reports_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT.json", help="the merged JSON report to write")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="IN.json", help="shard reports")
    parser.add_argument("--inventory", type=Path, metavar="FILE",
                        help="canonicalization inventory (default: the one named in the reports)")
    parser.add_argument("--expect-shards", type=shard_count, metavar="N",
                        help="require exactly the shards 1/N..N/N (reports without labels: N of them)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="merge an incomplete set: a missing shard is no error, uncovered clusters only a note")
    add_verbose_option(parser, quiet=True)
    add_report_options(parser, json=False)


def _merge_reports(args: argparse.Namespace) -> int:
    from harness.commands.merge_reports import merge

    return merge(args.out, args.inputs, inventory=args.inventory, expect_shards=args.expect_shards,
                 allow_partial=args.allow_partial, outputs=_outputs(args), verbose=args.verbose,
                 quiet=args.quiet)


@dataclass(frozen=True)
class Command:
    """One sub-command: its help line, what ``CMD --help`` says, its arguments and its call."""

    help: str
    description: str
    examples: tuple[str, ...]
    arguments: Callable[[argparse.ArgumentParser], None]
    call: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "init": Command(
        "write overlay-parity.toml and an empty inventory for the repository here",
        "Find the cluster configs and overlay trees under DIR, write overlay-parity.toml (fixture, inventory, "
        "renderer, template roots, fixture globs) and an empty inventory, and print the next command. Never "
        "overwrites: existing settings are a usage error; an existing inventory is kept.",
        ("overlay-parity init", "overlay-parity init path/to/gitops-repo --renderer 'mytool {config} {out}'"),
        _init_arguments, _init),
    "render": Command(
        "render cluster config(s) into overlay tree(s)",
        "Render one .<cluster>-config.yaml into one overlay directory, atomically (a failure leaves the previous "
        "tree as it was), or with --all every config of a fixture into OUT-ROOT/<cluster>. Prints one summary "
        "line per cluster.",
        ("overlay-parity render --config .k8s-dev-config.yaml --out applications/overlays/k8s-dev",
         "overlay-parity render --all --out-root /tmp/overlays --diagnostics /tmp/plans"),
        _render_arguments, _render),
    "check": Command(
        "render every cluster and compare it with its oracle overlay tree",
        "Render each cluster config and compare the renderer-owned part of its overlay with the checked-in "
        "oracle tree under the canonicalization inventory. Prints one status line per cluster as it finishes, "
        "the findings of failing clusters (secret values masked), the inventory line and a summary. Exit 0 "
        "clean, 1 findings, 2 bad input.",
        ("overlay-parity check", "overlay-parity check --cluster k8s-dev -v",
         "overlay-parity check --shard 1/4 --json shard-1.json --junit shard-1.xml",
         "overlay-parity check --cluster k8s-dev --update",
         "overlay-parity check --changed-since origin/main"),
        _check_arguments, _check),
    "diff": Command(
        "show the full redacted difference of one file of one cluster (rules applied)",
        "Render the cluster into a temporary directory and show the whole difference of one file: YAML as a "
        "YAML-path diff after the inventory's yaml_remove rules, other text as a unified diff, binary files as "
        "sizes and fingerprints; secret values are masked. PATH may name either side of an alias rule. Exit 0 "
        "when check accepts the file, 1 when check reports it, 2 bad input.",
        ("overlay-parity diff --cluster k8s-dev services/fluxcd/harbor.yaml",
         "overlay-parity diff --unified --cluster k8s-prod services/kube-prometheus-stack/override-values.yaml"),
        _diff_arguments, _diff),
    "explain": Command(
        "explain how one path of one cluster is owned, compared and canonicalized",
        "Say, for one overlay path of one cluster, who owns it (renderer or bootstrap), whether the renderer "
        "produces it and from which descriptor and template, which fixture file it is compared with, every "
        "inventory rule that concerns it (and whether it matched here), and the verdict check reaches.",
        ("overlay-parity explain --cluster k8s-dev services/fluxcd/harbor.yaml",
         "overlay-parity explain --cluster k8s-prod .sops.yaml --json"),
        _explain_arguments, _explain),
    "coverage": Command(
        "check that every template file has exactly one descriptor owner",
        "Report template files without a descriptor owner, files owned twice, declared templates or roots that "
        "do not exist, excludes that exclude nothing and outputs two templates can both render to. One line per "
        "finding (file:line: CODE message), a summary on stderr. Exit 0 clean (warnings allowed), 1 findings.",
        ("overlay-parity coverage", "overlay-parity coverage --template-root templates --sarif coverage.sarif"),
        _coverage_arguments, _coverage),
    "scan-secrets": Command(
        "scan for private keys anywhere and non-placeholder Secret values in fixtures",
        "Find private-key material (PEM of every type, OpenSSH, PGP, SSH2, PuTTY, age) in every file, literal or "
        "encoded (base64 nested, URL-safe, wrapped; hex; gzip; JSON-escaped), and fixture Secret values (also "
        "in List items, last-applied annotations and secretGenerator inputs) that are neither PLACEHOLDER-... "
        "nor sops-encrypted. Without PATH, the whole repository is scanned. Accepted findings live in the "
        "secret_allowlist file (default .overlay-parity-secrets.yaml). Output: file:line: CODE message "
        "[sha256:...]; the value itself is never printed.",
        ("overlay-parity scan-secrets", "overlay-parity scan-secrets testdata/ --json secrets.json"),
        _scan_secrets_arguments, _scan_secrets),
    "policy": Command(
        "policy gates on rendered overlays (kustomize builds, Flux wiring, SOPS proof, schemas)",
        "Without DIR, render every configured cluster (or each --cluster) into a temporary directory and run "
        "the policy gates on it: security files never vanish, every Flux Kustomization points at a path that "
        "builds, lifecycle claims are explicit, SOPS settings encrypt what they claim. With DIR, check those "
        "overlay directories as they are (cluster name = directory name).",
        ("overlay-parity policy", "overlay-parity policy --cluster k8s-dev --policy kustomize-build",
         "overlay-parity policy path/to/applications/overlays/prod --repo-root path/to"),
        _policy_arguments, _policy),
    "propose": Command(
        "draft the inventory rules that explain today's differences (for review)",
        "Compare every cluster with its oracle tree and write a draft inventory whose new rules (alias, "
        "ignore_fixture, ignore_rendered, yaml_remove; never path_only) make the check pass. Draft rules have "
        "an empty rationale and approved_by: a reviewer must write them. The current inventory is never "
        "overwritten. Exit 0 when every difference has a draft rule, 1 when some cannot be drafted narrowly.",
        ("overlay-parity propose --out canonicalization/draft.yaml", "overlay-parity propose --narrow"),
        _propose_arguments, _propose),
    "merge-reports": Command(
        "merge shard JSON reports and judge stale rules on the union",
        "Join the JSON reports of a sharded run (check --shard I/N --json) into OUT.json and judge the "
        "inventory again on the union: a rule that matched in any shard is not stale. The merge fails closed: "
        "the reports must be one whole shard matrix (bad input otherwise), and a cluster no report covers is a "
        "PARITY-NOT-RUN finding, unless --allow-partial.",
        ("overlay-parity merge-reports merged.json shard-1.json shard-2.json --expect-shards 2 --junit merged.xml",),
        _merge_reports_arguments, _merge_reports),
}


def selected_command(argv: Sequence[str]) -> str | None:
    """The command named on the command line: the first argument that is not a top-level option."""
    args = iter(argv)
    for arg in args:
        if arg == "--":
            return next(args, None)
        if arg in _VALUED_OPTIONS:
            next(args, None)
            continue
        if not arg.startswith("-"):
            return arg
    return None


_VALUED_OPTIONS = frozenset({"--config"})  # top-level options that take a value


def _examples(lines: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser. Every command is listed with its help; only ``command`` (when known) gets its
    arguments, the others are placeholders (so a policy run does not pay for the others' help and v.v.)."""
    parser = _Parser(
        prog=PROG,
        description="Parity and policy gates for GitOps overlay trees: render each cluster, compare it with the "
                    "checked-in oracle under a reviewed canonicalization inventory, check descriptor coverage, "
                    "scan for secrets and run Flux/Kustomize policy gates. Settings come from "
                    "overlay-parity.toml or [tool.overlay-parity] in pyproject.toml (overlay-parity init writes "
                    "one).",
        epilog=_examples(("overlay-parity check", "overlay-parity diff --cluster k8s-dev services/fluxcd/harbor.yaml",
                          "overlay-parity check --help"))
               + "\n\nexit codes: 0 clean, 1 findings, 2 bad input or usage")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    parser.add_argument("--config", dest="settings_file", type=Path, metavar="FILE",
                        help="settings file to use (overlay-parity.toml, .overlay-parity.toml or a pyproject.toml "
                             "with [tool.overlay-parity]) instead of looking for one from the working directory up")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, entry in COMMANDS.items():
        if name == command:
            child = sub.add_parser(name, help=entry.help, description=entry.description,
                                   epilog=_examples(entry.examples))
            entry.arguments(child)
            child.set_defaults(func=entry.call)
        else:
            sub.add_parser(name, help=entry.help, add_help=False)
    return parser


# ------------------------------------------------------------------------------------------ running

def guarded(call: Callable[[], int], *, debug: bool = False, prog: str = PROG) -> int:
    """Run ``call`` and map what it raises to an exit code, one line each on stderr: bad input 2,
    interrupted 130, anything else 3 (the exception's type only: its text may quote input)."""
    restore_interrupts()
    try:
        return call()
    except InputErrors as errors:
        for line in errors.lines():
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as error:
        print(error.one_line(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a user-supplied path the library did not check first: still one located line
        if debug:
            raise
        if exc.filename is None:
            return _internal(exc, prog)
        from harness.errors import os_error

        print(os_error(exc, str(exc.filename)).one_line(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        if debug:
            raise
        return _internal(exc, prog)


def _internal(exc: BaseException, prog: str) -> int:
    print(f"{prog}: INTERNAL: unexpected {type(exc).__name__} (fix: rerun with --debug and report it)",
          file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command, return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(selected_command(argv))
    args = parser.parse_args(argv)
    if getattr(args, "command", None) and not hasattr(args, "func"):  # argparse picked another command
        args = build_parser(args.command).parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    debug = bool(args.debug or os.environ.get("OVERLAY_PARITY_DEBUG"))
    func: Callable[[argparse.Namespace], int] = args.func

    def call() -> int:
        _outputs(args)  # refuse an unwritable report request (--github-summary outside Actions) before the run
        with use_config(args.settings_file):
            return func(args)

    return guarded(call, debug=debug)


class QuietPipe:
    """stdout (or stderr) that survives its reader going away (``| head``): from the first ``BrokenPipeError``
    on, the output goes to ``/dev/null`` and the run finishes (report files written, its own exit code)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _silence(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def write(self, text: str) -> int:
        """Write, or swallow the text once the reader is gone."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        """Flush, or drop the buffered text once the reader is gone."""
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


# Young-generation collections every 50,000 net allocations instead of CPython's 700. The harness makes few
# reference cycles but millions of short-lived containers (parsed YAML, template contexts), so with the
# defaults a 200-cluster check ran ~460 collections costing 0.23 s and 0.15 s more in the collections at
# exit, for garbage that reference counting frees anyway. Measured: peak RSS 64 -> 72 MB.
GC_THRESHOLDS = (50_000, 50, 1000)


def run() -> NoReturn:
    """Console-script wrapper: runs :func:`main` as a short-lived process.

    What exists at start-up (modules, compiled patterns) is frozen out of every collection, and so is
    everything still alive at the end, so the interpreter's final collections do not walk the whole heap.
    stdout and stderr become :class:`QuietPipe`s. Only this process-level entry point does either: :func:`main`
    called in process leaves the collector and the streams alone.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.stdout = cast(TextIO, QuietPipe(sys.stdout))
    sys.stderr = cast(TextIO, QuietPipe(sys.stderr))  # a reader gone from stderr must not change the exit code
    code = main()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    run()
