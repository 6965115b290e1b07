"""Read a user-supplied JSON file (a shard report) as data: regular files only, bounded size and depth, every
failure one located line under one error code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.nesting import DEPTH_HINT, depth_message, json_too_deep_at, too_deep
from harness.safe_read import read_regular_text

DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024


def load_json(path: Path, *, code: str, hint: str, display: str | None = None,
              max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> Any:
    """The data of the JSON file at ``path``: a regular file (see :mod:`harness.safe_read`), valid UTF-8 and JSON
    (else ``code`` with ``hint``, at the line and column of the error) nesting at most
    :data:`~harness.nesting.MAX_DEPTH` levels (else ``code``, located)."""
    name = display or str(path)
    text = read_regular_text(path, max_bytes=max_bytes, display=name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(code, f"not JSON ({exc.msg})", file=name, line=exc.lineno, column=exc.colno,
                         hint=hint) from None
    except RecursionError:
        data = None
    else:
        if too_deep(data) is None:
            return data
    line, column = json_too_deep_at(text) or (0, 0)
    raise InputError(code, depth_message(), file=name, line=line, column=column, hint=DEPTH_HINT)
