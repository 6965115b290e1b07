"""House rules that keep the architecture honest, checked on the source tree itself."""

from __future__ import annotations

import ast
import re
import runpy
from pathlib import Path

import pytest

from harness.codes import CODES

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_ALLOWED = {"harness/cli.py", "harness/pytest_plugin.py"}


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


# ------------------------------------------------------------------------------------------ import graph

PACKAGES = ("harness", "renderer")
MODULE_LITERAL = re.compile(r"(?:harness|renderer)(?:\.[a-z_][a-z0-9_]*)+")


def _module_files() -> dict[str, Path]:
    """Every module of the two packages by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in _python_files(package):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` denotes: itself, or the nearest enclosing module (``pkg.mod.attr`` -> ``pkg.mod``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported_modules(module: str, modules: dict[str, Path]) -> set[str]:
    """Modules of the two packages that ``module`` imports anywhere: at module level, inside functions, under
    ``TYPE_CHECKING``, relative or absolute, and by name through ``importlib.import_module("...")`` literals
    or module-name constants."""
    path = modules[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(_known(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else _known(base, modules))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and MODULE_LITERAL.fullmatch(node.value) and node.value in modules):
            targets.add(node.value)
    return {t for t in targets if t is not None and t != module}


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ``harness`` and ``renderer`` it imports (see :func:`_imported_modules`)."""
    modules = _module_files()
    return {module: _imported_modules(module, modules) for module in modules}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_import_graph_of_harness_and_renderer_has_no_cycles() -> None:
    assert import_cycles(import_graph()) == [], "break the import circle: move the shared part into its own module"


def test_the_cycle_detector_finds_circles_through_function_level_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    modules = _module_files()
    assert "harness.selection" in _imported_modules("harness.runner", modules)  # module level
    assert "harness.coverage" in _imported_modules("renderer.api", modules)  # by name, through importlib


def _contracts_allowlist() -> set[str]:
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    sentence = re.search(r"`renderer/` may import (.*?)\.\n", text, re.S)
    assert sentence, "docs/contracts.md must state which harness modules renderer/ may import"
    return set(re.findall(r"`(harness\.[a-z0-9_.]+)`", sentence.group(1)))


def test_the_documented_renderer_to_harness_allowlist_matches_the_code() -> None:
    graph = import_graph()
    used = {target for module, targets in graph.items() if module.startswith("renderer")
            for target in targets if target.startswith("harness")}
    assert used == _contracts_allowlist(), "update the renderer -> harness allowlist in docs/contracts.md"


# ------------------------------------------------------------------------------------------ faces

FACE_PACKAGES = ("harness", "renderer", "hooks")


def _all_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any level (inside functions too), absolute names only."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _face_files() -> list[Path]:
    return [p for package in FACE_PACKAGES for p in _python_files(package)]


@pytest.mark.parametrize("path", _face_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_argument_parsing_only_in_the_cli(path: Path) -> None:
    if path.relative_to(ROOT).as_posix() != "harness/cli.py":
        assert "argparse" not in _all_imports(path), f"{path.relative_to(ROOT)}: parse arguments in harness/cli.py"


@pytest.mark.parametrize("path", _python_files("harness/commands"), ids=lambda p: p.name)
def test_command_modules_do_not_import_each_other_or_the_cli(path: Path) -> None:
    own = f"harness.commands.{path.stem}"
    offenders = {name for name in _all_imports(path)
                 if (name.startswith("harness.commands.") and not name.startswith(own)) or name == "harness.cli"}
    assert offenders == set(), f"{path.name} imports {offenders}: move what they share into a library module"


@pytest.mark.parametrize("path", _face_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pytest_internals_only_in_one_module(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    names = _all_imports(path)
    assert not any(n == "_pytest" or n.startswith("_pytest.") for n in names) or rel == "harness/pytest_internals.py"
    if rel not in ("harness/pytest_plugin.py", "harness/pytest_internals.py"):
        assert "pytest" not in names, f"{rel}: only the plugin and harness/pytest_internals.py import pytest"


HOOK_MODULES = sorted(p for p in _python_files("hooks") if p.name != "__init__.py")


def test_every_hook_id_has_a_module() -> None:
    ids = re.findall(r"^- id: (\S+)$", (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"), re.M)
    assert sorted(i.replace("-", "_") for i in ids) == [p.stem for p in HOOK_MODULES]


@pytest.mark.parametrize("path", HOOK_MODULES, ids=lambda p: p.name)
def test_hook_entries_are_thin(path: Path) -> None:
    """A hook is `main(argv)` over the CLI and the library: one function, a few lines, no check logic."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in functions] == ["main"]
    assert not any(isinstance(n, ast.ClassDef) for n in tree.body)
    main = functions[0]
    assert (main.end_lineno or 0) - main.lineno <= 20, "a hook entry is a few lines: put the logic in harness/"
    harness_imports = {n for n in _all_imports(path) if n.startswith("harness")}
    assert harness_imports, "a hook calls the library or the CLI"


def test_faces_are_the_only_code_that_prints_or_exits() -> None:
    """Only the faces print or exit: the CLI and its commands, the pytest plugin, the hook entries."""
    printing = {p.relative_to(ROOT).as_posix() for p in _face_files() if _calls(p)}
    faces = {p for p in printing if p.startswith(("harness/commands/", "hooks/"))} | OUTPUT_ALLOWED
    assert printing <= faces, printing - faces
