"""House rules that keep the architecture honest, checked on the source tree itself."""

from __future__ import annotations

import ast
import re
import runpy
from pathlib import Path

import pytest

from harness.codes import CODES

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_ALLOWED = {"harness/cli.py", "harness/pytest_plugin.py", "harness/hooks.py"}


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _python_files("harness"), ids=lambda p: str(p.relative_to(ROOT)))
def test_harness_never_imports_renderer(path: Path) -> None:
    offenders = {name for name in _imports(path) if name == "renderer" or name.startswith("renderer.")}
    assert not offenders, f"{path.relative_to(ROOT)} imports {offenders}; use harness.renderer_api"


def _calls(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "print":
                found.append(("print", node.lineno))
            elif isinstance(func, ast.Attribute) and func.attr == "exit" and isinstance(func.value, ast.Name) \
                    and func.value.id == "sys":
                found.append(("sys.exit", node.lineno))
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in _python_files("harness") + _python_files("renderer")
     if str(p.relative_to(ROOT)) not in OUTPUT_ALLOWED and "commands" not in p.parts],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_library_code_neither_prints_nor_exits(path: Path) -> None:
    assert _calls(path) == [], f"{path.relative_to(ROOT)}: only the CLI, plugin and hooks may print or exit"


def test_every_emitted_code_is_registered() -> None:
    pattern = re.compile(r'"((?:PARITY|COVERAGE|SECRET|POLICY|CONFIG|DESCRIPTOR|TEMPLATE|RENDER|RENDERER|INVENTORY|'
                         r'FILE|PATH|YAML|TOOL|REPORT)-[A-Z0-9-]+)"')
    used: set[str] = set()
    for path in _python_files("harness") + _python_files("renderer"):
        used.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert used - set(CODES) == set(), "register these codes in harness/codes.py"


def test_readme_code_table_matches_the_registry() -> None:
    namespace = runpy.run_path(str(ROOT / "scripts" / "codes_table.py"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert namespace["readme_table"](readme) == namespace["table"](), "run `python scripts/codes_table.py --write`"
