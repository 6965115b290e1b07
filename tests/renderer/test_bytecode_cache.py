"""The Jinja2 bytecode cache (renderer.bytecode_cache): compiled templates are reused across processes, never
when the source, the environment or the Jinja2/Python version differ, and never from a directory others can
write; a cache problem never fails a render."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from harness.cache_dir import CACHE_ENV, cache_root
from renderer.bytecode_cache import SafeBytecodeCache, bytecode_cache, fingerprint
from renderer.render import template_environment

from .conftest import CLUSTERS, ROOT, config_path

RENDER_ALL = """
import json, sys
from pathlib import Path
from renderer.api import RENDERER
from renderer.render import template_environment
files = {c: {k: v.decode() for k, v in RENDERER.render_files(Path(c)).files.items()} for c in sys.argv[1:]}
env = template_environment(RENDERER.template_root)
print(json.dumps({"cache": type(env.bytecode_cache).__name__, "files": files}))
"""


def environment(**options: object) -> jinja2.Environment:
    """A plain Jinja2 environment (YAML templates, never HTML: no autoescaping)."""
    return jinja2.Environment(**options)  # type: ignore[arg-type]  # noqa: S701


def fresh_environment(root: Path) -> jinja2.Environment:
    """A new environment for ``root``, as a new process would build it (the per-process one is cached)."""
    env: jinja2.Environment = template_environment.__wrapped__(root.resolve())
    return env


def render_in_child(cache: Path) -> dict[str, object]:
    env = dict(os.environ, **{CACHE_ENV: str(cache), "SOURCE_DATE_EPOCH": "1735689600"})
    proc = subprocess.run([sys.executable, "-c", RENDER_ALL, *map(str, map(config_path, CLUSTERS))], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True, timeout=300)
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_processes_share_compiled_templates_and_render_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = render_in_child(cache)  # compiles and stores
    [folder] = [entry for entry in cache.iterdir() if entry.name.startswith("jinja-")]  # beside other caches
    stored = sorted(folder.iterdir())
    assert stored
    assert (cache.stat().st_mode & 0o777, folder.stat().st_mode & 0o777) == (0o700, 0o700)
    second = render_in_child(cache)  # loads
    assert first == second
    assert first["cache"] == "SafeBytecodeCache"
    assert sorted(folder.iterdir()) == stored


def test_an_edited_template_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    root = tmp_path / "templates"
    root.mkdir()
    (root / "t.yaml").write_text("a: {{ x }}\n")
    assert fresh_environment(root).get_template("t.yaml").render(x=1) == "a: 1\n"
    assert fresh_environment(root).get_template("t.yaml").render(x=1) == "a: 1\n"  # from the cache
    (root / "t.yaml").write_text("b: {{ x }}\n")
    assert fresh_environment(root).get_template("t.yaml").render(x=1) == "b: 1\n"


def test_corrupt_cache_files_are_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    root = tmp_path / "templates"
    root.mkdir()
    (root / "t.yaml").write_text("a: {{ x }}\n")
    fresh_environment(root).get_template("t.yaml")
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert files
    for path in files:
        path.write_bytes(path.read_bytes()[:20] + b"garbage")
    assert fresh_environment(root).get_template("t.yaml").render(x=2) == "a: 2\n"


def test_the_fingerprint_covers_what_shapes_compiled_code() -> None:
    base = dict(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    reference = fingerprint(environment(**base))
    assert fingerprint(environment(**base)) == reference
    assert fingerprint(environment(**dict(base, trim_blocks=False))) != reference
    assert fingerprint(environment(**dict(base, variable_start_string="[["))) != reference
    assert fingerprint(environment(**dict(base, autoescape=True))) != reference
    with_filter = environment(**base)
    with_filter.filters["mine"] = str
    assert fingerprint(with_filter) != reference
    with_context_filter = environment(**base)
    with_context_filter.filters["mine"] = jinja2.pass_context(lambda context, value: value)
    assert fingerprint(with_context_filter) != fingerprint(with_filter)
    assert fingerprint(ImmutableSandboxedEnvironment(**base)) != reference


@pytest.mark.parametrize("value", ["", "0", "off", "OFF"])
def test_the_cache_can_be_switched_off(value: str) -> None:
    assert cache_root({CACHE_ENV: value, "HOME": "/root"}) is None
    assert bytecode_cache(environment(), {CACHE_ENV: value}) is None


def test_the_default_location() -> None:
    assert cache_root({"XDG_CACHE_HOME": "/x/cache", "HOME": "/h"}) == Path("/x/cache/overlay-parity")
    assert cache_root({"HOME": "/h"}) == Path("/h/.cache/overlay-parity")
    assert cache_root({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) == Path("/h/.cache/overlay-parity")
    assert cache_root({}) is None


def test_directories_others_can_write_or_links_are_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert bytecode_cache(environment(), {CACHE_ENV: str(shared)}) is None
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert bytecode_cache(environment(), {CACHE_ENV: str(link)}) is None
    own = bytecode_cache(environment(), {CACHE_ENV: str(tmp_path / "own")})
    assert isinstance(own, SafeBytecodeCache)


def test_an_unusable_cache_location_never_fails_a_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    root = tmp_path / "templates"
    root.mkdir()
    (root / "t.yaml").write_text("a: {{ x }}\n")
    env = fresh_environment(root)
    assert env.bytecode_cache is None
    assert env.get_template("t.yaml").render(x=3) == "a: 3\n"
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    env = fresh_environment(root)
    assert env.bytecode_cache is not None
    cache.chmod(0o500)
    for folder in cache.iterdir():
        folder.chmod(0o500)  # read-only: storing fails (for anyone but root), loading finds nothing
    assert env.get_template("t.yaml").render(x=4) == "a: 4\n"


def test_the_cache_directory_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_FILES compiled templates (every template root adds its own), the first store of a process
    empties the directory; below it, nothing is removed."""
    import renderer.bytecode_cache as module

    monkeypatch.setattr(module, "MAX_FILES", 3)
    folder = tmp_path / "jinja"
    folder.mkdir()
    for index in range(3):
        (folder / f"__jinja2_old{index}.cache").write_bytes(b"x")
    env = environment(loader=jinja2.DictLoader({"t": "{{ 1 + 1 }}"}), bytecode_cache=SafeBytecodeCache(str(folder)))
    assert env.get_template("t").render() == "2"
    assert len(list(folder.iterdir())) == 4  # three old ones and the new one: at the bound, kept
    (folder / "__jinja2_old3.cache").write_bytes(b"x")
    again = environment(loader=jinja2.DictLoader({"u": "{{ 2 + 2 }}"}), bytecode_cache=SafeBytecodeCache(str(folder)))
    assert again.get_template("u").render() == "4"
    assert [path.name.startswith("__jinja2_old") for path in folder.iterdir()] == [False]  # emptied, then stored
