"""A private, self-invalidating Jinja2 bytecode cache, so each new process does not recompile every template.

Compiling the ~150 templates costs a new process (a CLI call, an xdist worker) ~150 ms; loading their
compiled code costs ~20 ms. Where the cache lives: ``$OVERLAY_PARITY_CACHE_DIR`` when set (an empty value,
``0`` or ``off`` switches the cache off), else ``$XDG_CACHE_HOME/overlay-parity``, else
``~/.cache/overlay-parity``; inside it, one ``jinja-<fingerprint>`` directory per environment.

Safe and self-invalidating:

- a cache file is only used for the same template name, file path and source text (Jinja2 keys it by
  name and path and stores a checksum of the source), and the directory's fingerprint covers everything
  else that shapes compiled code: the Jinja2 and Python versions, the environment class, its syntax and
  whitespace options, autoescaping, finalize, intercepted operators, extensions, and the names and
  calling conventions of its filters and tests;
- both directories are created mode 0700 and used only when they are real directories owned by this user
  and writable by nobody else (the files are unmarshalled code);
- files are written atomically (temp file + rename; concurrent processes are fine), and any problem
  (read-only or full disk, a corrupt file) only means compiling again: rendering never fails because of
  the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from typing import Any

import jinja2
from jinja2.bccache import Bucket

from harness.cache_dir import cache_folder, empty_past

MAX_FILES = 2048
"""Compiled templates kept per cache directory (one per template name and path: ~150 per template root);
past this, the directory is emptied before the next store (a checkout, a temporary copy or a test run with
its own template root adds a set, so the folder would otherwise grow without bound)."""


class SafeBytecodeCache(jinja2.FileSystemBytecodeCache):
    """:class:`jinja2.FileSystemBytecodeCache` that turns every load or store problem into a cache miss, and
    keeps at most :data:`MAX_FILES` files (checked at the first store of a process)."""

    _checked = False

    def load_bytecode(self, bucket: Bucket) -> None:
        """Load the bucket's code, or leave it empty (compile again) on any problem."""
        try:
            super().load_bytecode(bucket)
        except Exception:  # a truncated or foreign file: recompile
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Store the bucket's code; a file system problem just leaves it uncached."""
        if not self._checked:
            self._checked = True
            empty_past(self.directory, MAX_FILES, prefix="__jinja2_")
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)

def fingerprint(env: jinja2.Environment) -> str:
    """A digest of everything besides the template source that shapes the code Jinja2 compiles."""

    def calling(functions: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((name, repr(getattr(function, "jinja_pass_arg", None))) for name, function in functions.items())

    autoescape = env.autoescape
    parts = (
        jinja2.__version__, sys.version, sys.implementation.cache_tag,
        f"{type(env).__module__}.{type(env).__qualname__}",
        env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.optimized,
        env.is_async, getattr(env, "sandboxed", False),
        sorted(getattr(env, "intercepted_binops", ())), sorted(getattr(env, "intercepted_unops", ())),
        autoescape if isinstance(autoescape, bool) else f"{autoescape.__module__}.{autoescape.__qualname__}",
        None if env.finalize is None else f"{env.finalize.__module__}.{env.finalize.__qualname__}",
        f"{env.undefined.__module__}.{env.undefined.__qualname__}",
        sorted(env.extensions), calling(env.filters), calling(env.tests),
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:24]


def bytecode_cache(env: jinja2.Environment, environ: dict[str, str] | None = None) -> SafeBytecodeCache | None:
    """A bytecode cache for ``env`` (configure it fully first: the fingerprint reads it), or None when
    caching is off or no private directory can be made."""
    folder = cache_folder(f"jinja-{fingerprint(env)}", environ)
    if folder is None:
        return None
    return SafeBytecodeCache(str(folder))
