"""The secret values of a cluster config (identity, known_hosts, ``secrets``...), masked in every diff line
and in an external renderer's error text as a second line of defence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from harness.errors import InputError
from harness.redact import is_secret_path
from harness.yamlio import iter_paths, load_file


def config_secrets(config_path: Path, *, max_bytes: int) -> list[str]:
    """String values of a cluster config at secret-looking key paths (identity, known_hosts, ``secrets``...),
    removed from every diff line as a second line of defence. Unreadable configs yield nothing (the
    renderer reports them)."""
    try:
        docs = load_file(config_path, max_bytes=max_bytes)
    except InputError:
        return []
    values: set[str] = set()
    for doc in docs:
        for path, value in iter_paths(doc):
            if isinstance(value, str) and len(value) >= 4 and is_secret_path(path):
                values.add(value)
    return sorted(values)


def lazy_config_secrets(config_path: Path, *, max_bytes: int) -> Iterator[str]:
    """:func:`config_secrets`, read only when iterated: ``compare_cluster`` iterates it only for a cluster
    with findings, so a clean cluster does not parse its config a second time."""
    yield from config_secrets(config_path, max_bytes=max_bytes)
