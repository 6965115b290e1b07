from __future__ import annotations

import pytest

from harness.errors import InputError
from harness.tools import INSTALL_HINT, find_tool, tool_env


def test_project_tools_are_installed() -> None:
    for name in ("kubectl", "sops", "age", "age-keygen"):
        assert find_tool(name).is_file()


def test_missing_tool_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERLAY_PARITY_KUBECTL", "/nonexistent/kubectl")
    with pytest.raises(InputError) as info:
        find_tool("kubectl")
    assert info.value.code == "TOOL-MISSING"
    assert INSTALL_HINT in info.value.one_line()


def test_sops_version_check_disabled() -> None:
    assert tool_env()["SOPS_DISABLE_VERSION_CHECK"] == "1"
