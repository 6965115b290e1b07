"""pytest plugin: ``pytest --parity`` (collection is added as the parity engine lands)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--parity`` options."""
    group = parser.getgroup("overlay-parity")
    group.addoption("--parity", action="store_true", default=False, help="run overlay parity checks")
