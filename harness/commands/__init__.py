"""One module per ``overlay-parity`` sub-command; each has ``register(subparsers)`` and sets ``func``.

:data:`COMMANDS` is the one place a command's name, module and one-line help are written: the CLI lists
every command from it without importing any module, and each module registers its parser with
:func:`one_line_help`, so ``--help`` reads the same whichever command is loaded.
"""

from __future__ import annotations

# Command name -> (module under harness.commands, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "write overlay-parity.toml and an empty inventory for the repository here"),
    "render": ("render", "render cluster config(s) into overlay tree(s)"),
    "check": ("check", "render every cluster and compare it with its oracle overlay tree"),
    "diff": ("diff", "show the full redacted difference of one file of one cluster (rules applied)"),
    "explain": ("explain", "explain how one path of one cluster is owned, compared and canonicalized"),
    "coverage": ("coverage", "check that every template file has exactly one descriptor owner"),
    "scan-secrets": ("scan_secrets", "scan fixtures for private keys and non-placeholder Secret values"),
    "policy": ("policy", "policy gates on rendered overlays (kustomize builds, Flux wiring, SOPS proof, schemas)"),
    "propose": ("propose", "draft the inventory rules that explain today's differences (for review)"),
    "merge-reports": ("merge_reports", "merge shard JSON reports and judge stale rules on the union"),
}


def one_line_help(command: str) -> str:
    """The one-line help of ``command``."""
    return COMMANDS[command][1]
