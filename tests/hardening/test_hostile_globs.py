"""Inventory globs are regular expressions the user writes: they must never backtrack catastrophically
(issue 18 class 3). Each glob matches as a reference segment matcher does, including many ``*`` in one
segment and many ``**`` in one pattern, and the classic catastrophic shapes finish (a subprocess with a
timeout guards against a hang; no timing is asserted)."""

from __future__ import annotations

import fnmatch
import subprocess
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from harness.globs import compile_all, compile_pattern
from tests.hardening.support import PYTHON, ROOT, env, examples

NAME = st.text(st.sampled_from(list("ab")), min_size=1, max_size=5)
PATH = st.lists(NAME, min_size=1, max_size=6).map("/".join)
SEG_PATTERN = st.text(st.sampled_from(["a", "b", "*", "?"]), min_size=1, max_size=6).filter(lambda s: "**" not in s)
PATTERN = st.builds(
    lambda lead, segs, trail: lead + "/".join(segs) + trail,
    st.sampled_from(["", "/"]),
    st.lists(st.one_of(SEG_PATTERN, st.just("**")), min_size=1, max_size=5),
    st.sampled_from(["", "/"]),
).filter(lambda p: p.strip("/") != "")


def reference(pattern: str, path: str) -> bool:
    """The documented semantics, segment by segment (exponential, fine for tiny inputs)."""
    anchored = pattern.startswith("/")
    directory = pattern.endswith("/")
    parts = pattern.strip("/").split("/")
    parts = [p for i, p in enumerate(parts) if not (p == "**" and i and parts[i - 1] == "**")]
    if len(parts) > 1:
        anchored = True
    if parts[-1] == "**":  # "a/**/" is "a/**": everything below a
        directory = False
    if not anchored:
        parts = ["**", *parts]
    segs = path.split("/")

    def exact(pi: int, si: int, end: int) -> bool:
        if pi == len(parts):
            return si == end
        part = parts[pi]
        if part == "**":
            trailing = pi == len(parts) - 1
            if trailing:
                return end - si >= 1
            return any(exact(pi + 1, k, end) for k in range(si, end + 1))
        return si < end and fnmatch.fnmatchcase(segs[si], part) and exact(pi + 1, si + 1, end)

    ends = range(1, len(segs)) if directory else range(1, len(segs) + 1)
    return any(exact(0, 0, end) for end in ends)


@examples(4.0)
@given(PATTERN, PATH)
def test_globs_match_as_the_reference_does(pattern: str, path: str) -> None:
    assert compile_pattern(pattern).match(path) == reference(pattern, path), (pattern, path)


@examples(1.0)
@given(st.lists(PATTERN, min_size=1, max_size=4), PATH)
def test_a_glob_set_agrees_with_each_glob(patterns: list[str], path: str) -> None:
    globs = compile_all(patterns)
    assert globs.any_match(path) == any(compile_pattern(p).match(path) for p in patterns)
    assert globs.matches(path) == [p for p in patterns if compile_pattern(p).match(path)]


CATASTROPHIC = [
    ("*a" * 30 + "b", "a" * 250),
    ("*a*a*a*a*a*a*a*a*c", "services/" + "a" * 240),
    ("**/a/**/a/**/a/**/a/**/a/**/b", "/".join(["a"] * 300)),
    ("**/*a*a*a*/**/*a*a*a*/**/x", "/".join(["a" * 40] * 60)),
    ("a/**/**/**/**/**/**/**/**/b", "a/" + "/".join(["x"] * 300)),
    ("*?*?*?*?*?*?*?*?*?*?*?*?!", "q" * 250),
]


def test_catastrophic_globs_finish() -> None:
    script = textwrap.dedent(f"""
        from harness.globs import compile_all, compile_pattern
        cases = {CATASTROPHIC!r}
        for pattern, path in cases:
            assert not compile_pattern(pattern).match(path), pattern
        assert not compile_all([p for p, _ in cases]).matches(cases[0][1])
        print("ok")
        """)
    proc = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
