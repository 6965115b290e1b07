"""Execute a plan atomically: the overlay is always either the complete old tree or the complete new one.

Steps, all under an exclusive ``fcntl.flock`` on ``.<overlay>.render.lock`` next to the overlay (the
holder deletes that file when it is done):

1. recover from an interrupted earlier render (restore ``.<overlay>.render-old`` if the overlay is
   missing, delete leftover ``.<overlay>.render-new-*`` directories);
2. refuse symlinks and special files anywhere in the existing overlay;
3. build a sibling temp dir ``.<overlay>.render-new-XXXX``: render every planned file into it (Jinja2,
   StrictUndefined, no autoescape, loader confined to the template root, symlinks refused), then copy
   every path the plan does not replace byte-for-byte (``shutil.copy2``: ``flux-system/``, stray
   files, and in a single-service render every other service);
4. swap the two directories with ``renameat2(RENAME_EXCHANGE)`` (fallback: two renames, repaired by
   step 1 if interrupted in between) and delete the old tree.

Any failure before the swap deletes the temp dir and leaves the overlay byte-identical. Template
problems are ``TEMPLATE-ERROR`` naming the template file and line; disk problems are ``RENDER-FAILED``.

Templates also see ``rendered_at``: the render time (UTC ISO-8601, ``SOURCE_DATE_EPOCH`` when set), taken
once per render; the root kustomization and the alert-proxy secretGenerator carry it as the
``opencenter.io/rendered-at`` annotation.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import datetime
import errno
import fcntl
import functools
import json
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from harness.digest_store import DigestStore, digest
from harness.errors import InputError
from harness.redact import redact_text
from harness.yamlfast import reads_as_string
from harness.yamlio import decode_text, load_documents
from renderer.bytecode_cache import bytecode_cache
from renderer.code_version import renderer_code_stamp
from renderer.descriptors import check_output_path
from renderer.output_memo import OutputMemo
from renderer.plan import PlannedFile, RenderPlan
from renderer.templatetree import strict_walk
from renderer.validation import ValidOutputs

DEFAULT_LOCK_TIMEOUT = 60.0
_LOCK_POLL = 0.05
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_YAML_SUFFIXES = (".yaml", ".yml")
_local = threading.local()


# ------------------------------------------------------------------------------------- Jinja2 setup

def _safe_template_path(root: Path, name: str) -> Path:
    """``root/name`` if ``name`` is a clean relative path with no symlink on the way; else refuse."""
    return Path(_safe_template_file(str(root), name)[0])


def _safe_template_file(root: str, name: str) -> tuple[str, os.stat_result]:
    """``root/name`` and its ``lstat`` if ``name`` is a clean relative path to a regular file with no symlink
    on the way; else refuse (one ``lstat`` per path segment, no ``pathlib``: a render reads ~300 of them)."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise jinja2.TemplateNotFound(name)
    path = root
    info = None
    for part in parts:
        path = f"{path}/{part}"
        try:
            info = os.lstat(path)
        except (OSError, ValueError):
            raise jinja2.TemplateNotFound(name) from None
        if stat.S_ISLNK(info.st_mode):
            raise InputError("FILE-SYMLINK", "template path goes through a symlink", file=path,
                             hint="templates must be regular files inside the template root")
    if info is None or not stat.S_ISREG(info.st_mode):
        raise jinja2.TemplateNotFound(name)
    return path, info


class RootLoader(jinja2.BaseLoader):
    """Load templates only from regular files inside one root directory (no symlinks, no escapes)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._root = str(self.root)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        """Source text, file name (for tracebacks) and an up-to-date check."""
        where, info = _safe_template_file(self._root, template)
        with open(where, "rb") as handle:
            data = handle.read()
        mtime = info.st_mtime_ns

        def uptodate() -> bool:
            """Still the same regular file (one ``lstat``: a symlink put in its place is never up to date)."""
            try:
                info = os.lstat(where)
            except OSError:
                return False
            return not stat.S_ISLNK(info.st_mode) and info.st_mtime_ns == mtime

        return decode_text(data, where), where, uptodate


def _quote(value: Any) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML) for any config string."""
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def _yaml12() -> YAML:
    loader: YAML | None = getattr(_local, "yaml12", None)
    if loader is None:
        loader = YAML(typ="safe", pure=False)
        _local.yaml12 = loader
    return loader


# A lower-case letter, then letters, digits, ".", "_", "/" or "-": never an indicator, a number, a timestamp or
# ".inf"/".nan" (those start with a digit, a sign or "."), so under YAML 1.1 and 1.2 only these words are
# not strings (bool and null; YAML 1.1 also spells them capitalised, which this pattern cannot match).
_SIMPLE_PLAIN = re.compile(r"[a-z][a-z0-9._/-]*")
_PLAIN_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


@functools.lru_cache(maxsize=4096)
def plain_is_safe(text: str) -> bool:
    """Whether ``text`` written as a plain YAML scalar reads back as the same string under YAML 1.1
    (Kubernetes) and 1.2 (kustomize) rules: no ``yes``/``on``/``no``, numbers, nulls, ``: ``, ``#``..."""
    if _SIMPLE_PLAIN.fullmatch(text):  # most config values: names, hosts, versions, paths
        return text not in _PLAIN_WORDS
    if not _may_be_plain(text):
        return False
    if reads_as_string(f"k: {text}\n", "k", text, ((1, 1), (1, 2))):
        return True  # the C parser is sure (harness.yamlfast); otherwise the exact loaders decide
    return exact_plain_is_safe(text)


def _may_be_plain(text: str) -> bool:
    """Not empty, no surrounding whitespace, no line break or tab: what no plain scalar can keep."""
    return bool(text) and text == text.strip() and not any(c in text for c in "\n\r\t")


def exact_plain_is_safe(text: str) -> bool:
    """:func:`plain_is_safe` decided by the exact loaders (the reference for its fast path)."""
    if not _may_be_plain(text):
        return False
    document = f"k: {text}\n"
    try:
        readings: list[Any] = [*load_documents(document, "<scalar>"), _yaml12().load(document)]
    except (InputError, YAMLError):
        return False
    return all(isinstance(doc, dict) and list(doc) == ["k"] and type(doc["k"]) is str and doc["k"] == text
               for doc in readings) and len(readings) == 2


def scalar(value: Any) -> str:
    """A config value as a YAML scalar: plain when that is unambiguous, double-quoted otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    return text if plain_is_safe(text) else _quote(text)


def _b64encode(value: Any) -> str:
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


@functools.lru_cache(maxsize=8)
def template_environment(root: Path) -> jinja2.Environment:
    """The Jinja2 environment for one template root (sandboxed, StrictUndefined, autoescape off).

    One per process and root: each template is compiled (or loaded from the bytecode cache) once, and
    recompiled only when its file changes (Jinja2's up-to-date check).
    """
    env = ImmutableSandboxedEnvironment(
        loader=RootLoader(root),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["quote"] = _quote
    env.filters["scalar"] = scalar
    env.filters["b64encode"] = _b64encode
    env.bytecode_cache = bytecode_cache(env)  # compiled templates outlive the process (renderer.bytecode_cache)
    return env


# ------------------------------------------------------------------------------------------ errors

def _secret_strings(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _secret_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secret_strings(v)]
    return [value] if isinstance(value, str) else []


def _template_line(tb: TracebackType | None, root: Path) -> tuple[str, int]:
    """The innermost traceback frame that belongs to a template file under ``root``."""
    found = ("", 0)
    prefix = str(root) + os.sep
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(prefix):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _template_error(exc: Exception, planned: PlannedFile, plan: RenderPlan) -> InputError:
    """A one-line TEMPLATE-ERROR at the template file and line; config secrets are masked."""
    root = plan.template_root
    default = str(root / planned.template)
    hidden = _secret_strings(plan.context.get("secrets", {}))
    if isinstance(exc, jinja2.TemplateSyntaxError):
        file = exc.filename or default
        return InputError("TEMPLATE-ERROR", f"syntax error: {redact_text(exc.message or '', hidden)}",
                          file=file, line=exc.lineno or 0, hint="fix the Jinja2 syntax")
    file, line = _template_line(exc.__traceback__, root)
    if isinstance(exc, jinja2.UndefinedError):
        message = f"undefined variable: {redact_text(exc.message or '', hidden)} (rendering {planned.output})"
        hint = "set the value in the cluster config or guard it in the template"
    elif isinstance(exc, jinja2.TemplateNotFound):
        message = f"template not found: {exc.name}"
        hint = "templates are regular files inside the template root"
    elif isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {redact_text(exc.message or '', hidden)} (rendering {planned.output})"
        hint = "fix the template"
    else:  # an error inside a filter/test: its text may quote values, show the type only
        message = f"{type(exc).__name__} while rendering {planned.output}"
        hint = "check the values this template line uses"
    return InputError("TEMPLATE-ERROR", message, file=file or default, line=line, hint=hint)


# --------------------------------------------------------------------------------------- rendering

class HasOutput:
    """``has_output(relative)`` of the template context: whether this descriptor plans ``relative`` (relative
    to the current output's directory)."""

    def __init__(self, outputs: frozenset[str], current: str) -> None:
        self._outputs = outputs
        self._current = current
        self.memo_key = (outputs, current)  # what every answer depends on (renderer.output_memo)

    def __call__(self, relative: str) -> bool:
        """True when the descriptor renders ``relative`` next to the current output."""
        return str(PurePosixPath(self._current).parent / relative) in self._outputs


def rendered_at(environ: Mapping[str, str] | None = None) -> str:
    """The render time as UTC ISO-8601 (``2025-01-31T12:00:00Z``) for ``opencenter.io/rendered-at``.

    ``SOURCE_DATE_EPOCH`` (reproducible builds: integer seconds since the epoch) wins over the clock; a
    malformed value is ``RENDER-FAILED`` rather than a silent fallback to now.
    """
    value = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        try:
            if not value.isascii() or not value.isdigit():
                raise ValueError(value)
            moment = datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
        except (ValueError, OverflowError, OSError):
            raise InputError("RENDER-FAILED", "SOURCE_DATE_EPOCH is not a non-negative integer number of seconds "
                             "within the supported date range",
                             hint="set SOURCE_DATE_EPOCH to seconds since 1970-01-01 UTC, or unset it") from None
    else:
        moment = datetime.datetime.now(tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def file_context(plan: RenderPlan, planned: PlannedFile, *, stamp: str | None = None) -> dict[str, Any]:
    """The template context of one planned file (shared context plus per-file names).

    ``rendered_at`` is ``stamp`` (one value per render, see :func:`rendered_at`) or the time now. It is an
    execution-time value, deliberately not part of the plan, so the plan stays a pure function of its inputs.
    """
    return dict(
        plan.context,
        rendered_at=stamp if stamp is not None else rendered_at(),
        descriptor=planned.owner,
        service=plan.units.get(planned.owner, ""),
        svc=plan.options.get(planned.owner, {}),
        item=planned.item,
        members=list(planned.members or ()),
        output=planned.output,
        has_output=HasOutput(plan.outputs_by_owner.get(planned.owner, frozenset()), planned.output),
    )


def render_file(plan: RenderPlan, planned: PlannedFile, *, stamp: str | None = None,
                memo: OutputMemo | None = None, env: jinja2.Environment | None = None) -> bytes:
    """The bytes of one planned output (rendered, or copied for ``render: false``); ``stamp``: see
    :func:`file_context`; ``memo``: outputs rendered before in the same batch (:mod:`renderer.output_memo`);
    ``env``: the plan's template environment when the caller has it already."""
    env = env if env is not None else template_environment(plan.template_root)
    key = None
    try:
        if planned.mode == "copy":
            return _safe_template_path(plan.template_root, planned.template).read_bytes()
        context = file_context(plan, planned, stamp=stamp)
        if memo is not None:
            key = memo.key(env, planned.template, context, plan.context)
            known = memo.get(key, env) if key is not None else None
            if known is not None:
                return known
        text = env.get_template(planned.template).render(context)
    except InputError:
        raise
    except jinja2.TemplateNotFound as exc:
        raise _template_error(exc, planned, plan) from None
    except Exception as exc:  # any failure inside a template is the template's problem
        raise _template_error(exc, planned, plan) from None
    if planned.output.endswith(_YAML_SUFFIXES):
        problem = yaml_problem(text, plan.plan.cluster)
        if problem is not None:
            line, message = problem
            raise InputError("TEMPLATE-ERROR", f"renders invalid YAML into {planned.output} (output line {line}): "
                             f"{message}", file=str(plan.template_root / planned.template),
                             hint="fix the template so its output parses")
    data = text.encode("utf-8")
    if memo is not None and key is not None:
        memo.put(key, data, env)
    return data


_VALID_OUTPUTS = ValidOutputs()
KNOWN_VALID = DigestStore("valid-outputs", renderer_code_stamp)
"""Validation keys found valid by earlier processes (:mod:`harness.digest_store`), by digest."""


def yaml_problem(text: str, cluster: str = "") -> tuple[int, str] | None:
    """``(line, problem)`` if ``text`` is not valid YAML (syntax, duplicate keys...), else None.

    A text is parsed unless one that differs from it only by the cluster's name was valid before
    (:class:`renderer.validation.ValidOutputs`), in this process or, by the digest of that key, in an
    earlier one of the same code (:data:`KNOWN_VALID`): the same template renders the same structure for
    every cluster and every run, so a fleet parses each template's output a few times, not once per
    cluster and run. Errors always come from parsing ``text`` itself (an invalid text is never remembered).
    """
    key = _VALID_OUTPUTS.key(text, cluster)
    if key in _VALID_OUTPUTS:
        return None
    known = digest(key.encode("utf-8", "surrogatepass"))
    if known in KNOWN_VALID:
        _VALID_OUTPUTS.add(key)
        return None
    try:
        load_documents(text, "<output>")
    except InputError as exc:
        return (exc.location.line if exc.location else 0), exc.message
    _VALID_OUTPUTS.add(key)
    KNOWN_VALID.add(known)
    return None


def _write_bytes(path: Path, data: bytes) -> None:
    """Create ``path`` exclusively (never following a symlink) and write ``data``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _target(root: Path, relative: str, created: set[Path]) -> Path:
    """``root/relative`` for a re-checked overlay-relative path; missing parents are created inside
    ``root`` (a directory this render made itself, so it holds no symlink to follow)."""
    check_output_path(relative, what="output", file=str(root), line=0)
    target = root.joinpath(*relative.split("/"))
    parent = target.parent
    if parent not in created:
        parent.mkdir(parents=True, exist_ok=True)
        created.update(parent.parents)
        created.add(parent)
    return target


def _render_into(new: Path, plan: RenderPlan) -> None:
    created: set[Path] = {new}
    stamp = rendered_at()  # one render time for every file of this render
    for planned in plan.files:
        _write_bytes(_target(new, planned.output, created), render_file(plan, planned, stamp=stamp))
    KNOWN_VALID.flush()


def render_bytes(plan: RenderPlan, memo: OutputMemo | None = None) -> dict[str, bytes]:
    """Every planned output's bytes by overlay-relative path, in plan order, without touching the disk.

    The in-memory twin of :func:`execute` for a whole-cluster plan: the same templates, the same single
    ``rendered_at`` stamp, the same output-path checks and YAML validation (``TEMPLATE-ERROR``). ``memo``
    shares outputs with the other renders of a batch.
    """
    stamp = rendered_at()
    env = template_environment(plan.template_root)
    if memo is not None:
        memo.for_cluster(plan.plan.cluster)
    files: dict[str, bytes] = {}
    for planned in plan.files:
        check_output_path(planned.output, what="output", file=str(plan.template_root), line=0)
        files[planned.output] = render_file(plan, planned, stamp=stamp, memo=memo, env=env)
    KNOWN_VALID.flush()
    if memo is not None:
        memo.flush()
    return files


# ------------------------------------------------------------------------------------- tree copying

def _is_replaced(relative: str, replaced: tuple[str, ...]) -> bool:
    return any(relative == r or relative.startswith(r + "/") for r in replaced)


def scan_tree(root: Path) -> None:
    """Refuse symlinks and special files anywhere under an existing overlay, and any part of it that cannot be
    read (RENDER-FAILED: a render must be able to keep every file it does not replace)."""
    try:
        _scan(root)
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) else str(root)
        raise InputError("RENDER-FAILED", f"cannot read the existing overlay: {exc.strerror or type(exc).__name__}; "
                         "the previous overlay is untouched", file=where,
                         hint="make every file and directory of the overlay (flux-system/ too) readable, or "
                         "render as a user who can read them") from None


def _scan(root: Path) -> None:
    for folder, dirs, files in strict_walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise InputError("FILE-SYMLINK", "symlink in the overlay tree", file=str(path),
                                 hint="overlay trees must not contain symlinks; replace it with a regular file")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise InputError("RENDER-FAILED", "special file (not a regular file or directory) in the overlay",
                                 file=str(path), hint="remove it; overlays hold regular files only")


def _copy_through(old: Path, new: Path, replaced: tuple[str, ...]) -> None:
    """Copy every path of ``old`` the plan does not replace into ``new`` (copy2; directories keep stat)."""
    directories: list[tuple[Path, Path]] = []
    for folder, dirs, files in strict_walk(old):
        here = Path(folder)
        relative_dir = here.relative_to(old).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        dirs[:] = sorted(d for d in dirs if not _is_replaced(prefix + d, replaced))
        for name in dirs:
            target = new / (prefix + name)
            target.mkdir(exist_ok=True)
            directories.append((here / name, target))
        for name in sorted(files):
            relative = prefix + name
            if _is_replaced(relative, replaced):
                continue
            target = new / relative
            if target.exists() or target.is_symlink():
                raise InputError("RENDER-FAILED", f"{relative} is both rendered and kept from the old tree",
                                 file=str(old / relative), hint="report this: the plan's replaced paths are wrong")
            shutil.copy2(here / name, target, follow_symlinks=False)
    for source, target in reversed(directories):
        shutil.copystat(source, target, follow_symlinks=False)


# -------------------------------------------------------------------------------------------- swap

@functools.lru_cache(maxsize=1)
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(first: Path, second: Path) -> bool:
    """Atomically exchange two directory entries (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False when the platform or file system does not support it; raises OSError otherwise.
    """
    function = _renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _old_dir(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.render-old"


def _new_prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.render-new-"


def _make_new_dir(out_dir: Path) -> Path:
    """A fresh sibling ``.<overlay>.render-new-XXXX`` directory (mode from the umask, like ``mkdir``)."""
    for _ in range(100):
        candidate = out_dir.parent / (_new_prefix(out_dir) + secrets.token_hex(4))
        try:
            os.mkdir(candidate, 0o777)
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError("RENDER-FAILED", f"cannot create a temp dir next to the overlay: {exc.strerror}",
                             file=str(out_dir.parent), hint="check permissions and free space") from None
        return candidate
    raise InputError("RENDER-FAILED", "cannot create a unique temp dir next to the overlay",
                     file=str(out_dir.parent), hint="remove stale .render-new-* directories")


def remove_tree(path: Path) -> None:
    """Delete a tree this renderer made or has fully copied; a directory whose mode forbids deleting its
    entries (kept from the old tree by ``copystat``) is made writable for the owner first. Raises OSError
    when something still cannot be deleted (the next render's :func:`recover` retries)."""

    def retry(function: Callable[..., Any], failed: str, _: Any) -> None:
        parent = os.path.dirname(failed)
        for folder in (parent, failed):
            with contextlib.suppress(OSError):
                if os.path.isdir(folder) and not os.path.islink(folder):
                    os.chmod(folder, 0o700)
        function(failed)

    shutil.rmtree(path, onerror=retry)


def _discard(path: Path) -> None:
    """:func:`remove_tree` on a failure path: a leftover is removed by the next render's :func:`recover`,
    and the original error is what the user must see."""
    with contextlib.suppress(OSError):
        remove_tree(path)


def _swap(new: Path, out_dir: Path) -> None:
    """Put ``new`` in place of ``out_dir``; the previous tree is deleted afterwards."""
    if not out_dir.exists():
        os.rename(new, out_dir)
        return
    if exchange(new, out_dir):
        _discard(new)  # ``new`` now holds the old tree, every file of which was read into the new one
        return
    old = _old_dir(out_dir)
    os.rename(out_dir, old)
    try:
        os.rename(new, out_dir)
    except OSError:
        os.rename(old, out_dir)
        raise
    _discard(old)


def recover(out_dir: Path) -> None:
    """Repair what an interrupted render left behind (call with the render lock held)."""
    old = _old_dir(out_dir)
    if old.is_symlink():
        raise InputError("FILE-SYMLINK", "leftover render directory is a symlink", file=str(old),
                         hint="remove it by hand")
    if old.exists():
        if not out_dir.exists():
            os.rename(old, out_dir)  # interrupted between the two renames: restore the previous tree
        else:
            remove_tree(old)
    prefix = _new_prefix(out_dir)
    for entry in out_dir.parent.iterdir():
        if entry.name.startswith(prefix) and entry.is_dir() and not entry.is_symlink():
            remove_tree(entry)


# -------------------------------------------------------------------------------------------- lock

def _open_lock(lock: Path) -> int:
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("FILE-SYMLINK", "render lock file is a symlink", file=str(lock),
                             hint="remove the symlink") from None
        raise InputError("RENDER-FAILED", f"cannot open the render lock: {exc.strerror}", file=str(lock),
                         hint="check permissions of the overlay's parent directory") from None


def _is_current(fd: int, lock: Path) -> bool:
    """Whether the locked file is still the one at ``lock`` (a releasing holder unlinks it)."""
    try:
        current = os.stat(lock, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino)


@contextlib.contextmanager
def render_lock(out_dir: Path, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold an exclusive flock on ``.<overlay>.render.lock``; RENDER-LOCKED after ``timeout`` seconds.

    The holder deletes the lock file before releasing it, so no lock file is left next to the overlay;
    a waiter that wins the flock on a file that was deleted meanwhile starts over on the new one.
    """
    lock = out_dir.parent / f".{out_dir.name}.render.lock"
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        fd = _open_lock(lock)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise InputError("RENDER-LOCKED", f"another render of {out_dir.name} holds the lock "
                                 f"for more than {timeout:g}s", file=str(lock),
                                 hint="wait for it to finish, or stop the other render") from None
            time.sleep(_LOCK_POLL)
            continue
        if _is_current(fd, lock):
            break
        os.close(fd)  # locked a file its previous holder already deleted: retry on the current one
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)  # closing releases the flock


# ------------------------------------------------------------------------------------------ render

def _check_output_dir(out_dir: Path) -> None:
    if out_dir.is_symlink():
        raise InputError("FILE-SYMLINK", "the output directory is a symlink", file=str(out_dir),
                         hint="render into a real directory")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("USAGE", "the output exists and is not a directory", file=str(out_dir),
                         hint="point --out at an overlay directory")


class Terminated(SystemExit):
    """SIGTERM (or SIGHUP) arrived during a render: unwinds like Ctrl-C (the temp dir and the lock are
    removed on the way out), then ends the process with status 128 + the signal number."""


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """While a render runs, SIGTERM and SIGHUP raise :class:`Terminated` instead of ending the process on
    the spot (SIGINT already raises KeyboardInterrupt). Only the main thread can set handlers; elsewhere,
    and for signals someone else handles already, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    installed: dict[signal.Signals, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        raise Terminated(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            installed[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for number, previous in installed.items():
            signal.signal(number, previous)


def execute(plan: RenderPlan, out_dir: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
    """Render ``plan`` into ``out_dir`` atomically (see the module docstring)."""
    out_dir = Path(os.path.abspath(out_dir))
    if out_dir.name in ("", ".", "..") or out_dir.parent == out_dir:
        raise InputError("USAGE", "the output must be a named directory", file=str(out_dir),
                         hint="e.g. --out applications/overlays/k8s-dev")
    _check_output_dir(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # mkdir(exist_ok=True) reports a parent that exists as a file as "File exists": say what is wrong
        problem = "it exists and is not a directory" if isinstance(exc, FileExistsError) else exc.strerror
        raise InputError("RENDER-FAILED", f"cannot create the output's parent: {problem}",
                         file=str(out_dir.parent), hint="check the path and permissions") from None
    with _terminate_raises(), render_lock(out_dir, lock_timeout):
        try:
            recover(out_dir)
        except OSError as exc:
            raise InputError("RENDER-FAILED", f"cannot clean up an interrupted render: {exc.strerror}",
                             file=str(out_dir), hint="inspect the .render-old/.render-new directories") from None
        _check_output_dir(out_dir)
        existed = out_dir.exists()
        if plan.service is not None and not existed:
            raise InputError("USAGE", f"cannot render service '{plan.service}' alone: the overlay does not exist",
                             file=str(out_dir), hint="render the whole cluster first")
        if existed:
            scan_tree(out_dir)
        new = _make_new_dir(out_dir)
        try:
            _render_into(new, plan)
            if existed:
                _copy_through(out_dir, new, plan.replaced)
                shutil.copystat(out_dir, new, follow_symlinks=False)
                scan_tree(new)  # nothing slipped in between the first scan and the copy
            _swap(new, out_dir)
        except InputError:
            _discard(new)
            raise
        except OSError as exc:
            _discard(new)
            where = exc.filename if isinstance(exc.filename, str) else str(out_dir)
            raise InputError("RENDER-FAILED", f"{exc.strerror or type(exc).__name__}; the previous overlay is "
                             "untouched", file=where, hint="fix the file system problem and render again") from None
        except BaseException:
            _discard(new)
            raise
