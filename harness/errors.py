"""Bad input as a value: one line naming the file, the line, what is wrong and how to fix it."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is (1-based line and column; 0 means unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = self.file
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


class InputError(Exception):
    """Bad input (config, descriptor, inventory, fixture, usage): CLI exit code 2.

    The message must never contain secret values; callers pass only structural facts
    (key paths, field names, fingerprints).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str | Path | None = None,
        line: int = 0,
        column: int = 0,
        hint: str = "",
    ) -> None:
        self.code = code
        self.message = message
        self.location = Location(str(file), line, column) if file is not None else None
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Render as ``file:line:col: CODE: message (fix: hint)`` on a single line.

        Whitespace runs become one space; other unprintable characters a file name or key may carry
        (terminal escapes, bidi overrides, NUL) are shown escaped (``\\x1b``), never emitted raw.
        """
        prefix = f"{self.location}: " if self.location else ""
        hint = f" (fix: {self.hint})" if self.hint else ""
        text = " ".join(f"{prefix}{self.code}: {self.message}{hint}".split())
        if text.isprintable():
            return text
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class InputErrors(InputError):
    """Several independent bad-input problems found in one pass (e.g. every trust-policy violation)."""

    def __init__(self, errors: list[InputError]) -> None:
        if not errors:
            raise ValueError("InputErrors needs at least one error")
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(
            first.code,
            first.message,
            file=first.location.file if first.location else None,
            line=first.location.line if first.location else 0,
            column=first.location.column if first.location else 0,
            hint=first.hint,
        )

    def lines(self) -> list[str]:
        """One line per problem."""
        return [e.one_line() for e in self.errors]


# errno -> (code, what is wrong, how to fix it) for an OSError met while reading or listing a user-supplied path.
_OS_ERRORS: dict[int, tuple[str, str, str]] = {
    errno.ENOENT: ("FILE-MISSING", "does not exist", "check the path"),
    errno.ENOTDIR: ("FILE-MISSING", "a part of the path is not a directory", "check the path"),
    errno.EISDIR: ("FILE-SPECIAL", "is a directory, not a file", "name a regular file"),
    errno.ELOOP: ("FILE-SYMLINK", "symlink loop (or a symlink where none is allowed)",
                  "replace the link with a regular file or directory"),
    errno.EACCES: ("FILE-UNREADABLE", "permission denied", "grant read (and, for a directory, search) permission"),
    errno.EPERM: ("FILE-UNREADABLE", "operation not permitted", "grant read permission"),
    errno.ENAMETOOLONG: ("FILE-UNREADABLE", "file name too long", "shorten the path"),
    errno.ENXIO: ("FILE-SPECIAL", "is not a regular file (no such device)", "name a regular file"),
}


def os_error(exc: OSError, file: str | Path, *, action: str = "read") -> InputError:
    """An ``OSError`` met on a user-supplied path as a one-line InputError (never its raw text: the OS message
    is reduced to ``strerror``, which holds no file content)."""
    code, what, hint = _OS_ERRORS.get(exc.errno or 0, (
        "FILE-UNREADABLE", f"cannot {action} ({exc.strerror or type(exc).__name__})",
        "check the file and the disk it is on"))
    return InputError(code, what, file=file, hint=hint)
