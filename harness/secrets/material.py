"""Find private-key material in a text: every family's marker, literal or below layers of encoding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from harness.fingerprints import digest, fingerprint
from harness.secrets import base64runs, decoders
from harness.secrets.keys import family_of, marker_re
from harness.secrets.prefilter import MAX_LAYERS


@dataclass(frozen=True)
class KeyMatch:
    """Private-key material found in a text. ``start``/``end`` delimit, in the scanned text, the literal
    marker or the outermost encoded run that holds it; ``fingerprint`` (shown) and ``digest`` (whole, for
    allowlists) are those of the key material."""

    label: str
    real: bool
    layer: str
    start: int
    end: int
    fingerprint: str
    digest: str = ""


def parses_as_key(label: str, material: str) -> bool:
    """Whether ``material`` labelled ``label`` is a real private key (by the family the label names)."""
    match = marker_re().search(material)
    return match is not None and family_of(match).is_real(label, material)


def find_key_material(text: str) -> list[KeyMatch]:
    """Every private key in ``text``, literal or encoded (up to :data:`MAX_LAYERS` deep), each once."""
    found: dict[str, KeyMatch] = {}
    for match in find_key_occurrences(text):
        found.setdefault(match.fingerprint, match)
    return list(found.values())


def find_key_occurrences(text: str) -> list[KeyMatch]:
    """Every place a private key occurs in ``text`` (the same key at several places: once per place;
    through several layers at one place: once), in the order found."""
    found: dict[tuple[str, int], KeyMatch] = {}
    for match, _ in _descend(text, 0):
        found.setdefault((match.fingerprint, match.start), match)
    return list(found.values())


def _literal(text: str) -> Iterator[tuple[KeyMatch, int]]:
    for match in marker_re().finditer(text):
        family = family_of(match)
        label, material, end = family.extent(text, match)
        yield KeyMatch(label, family.is_real(label, material), "literal", match.start(), match.end(),
                       fingerprint(material), digest(material)), end


def _descend(text: str, depth: int) -> Iterator[tuple[KeyMatch, int]]:
    """The keys in ``text`` and in the base64 below it, each with where its material ends in ``text``.
    Layers are relative to ``text``; an encoded key's span is that of its base64 (of the whole lines
    holding it, in the text :func:`find_key_material` was given)."""
    yield from _literal(text)
    if depth >= MAX_LAYERS:
        return
    for run in base64runs.runs(text, decoded=depth > 0):
        for decoded, starts in run.decodings():
            unzipped = decoders.gunzip(decoded)
            if unzipped is not None:  # gzip | base64: the key spans the whole compressed stream
                start, end, alphabet = run.origin(starts, unzipped[0], len(decoded), whole_lines=depth == 0)
                for inner, _ in _descend(unzipped[1].decode("latin-1"), depth + 1):
                    yield _outer(inner, f"{alphabet}>gzip", start, end), end
            if not base64runs.worth_descending(decoded, depth):
                continue
            for inner, inner_end in _descend(decoded.decode("latin-1"), depth + 1):
                start, end, alphabet = run.origin(starts, inner.start, inner_end, whole_lines=depth == 0)
                yield _outer(inner, alphabet, start, end), end
    for start, end, decoded in decoders.hex_runs(text):
        if base64runs.worth_descending(decoded, depth):
            for inner, _ in _descend(decoded.decode("latin-1"), depth + 1):
                yield _outer(inner, "hex", start, end), end


def _outer(inner: KeyMatch, layer: str, start: int, end: int) -> KeyMatch:
    """``inner`` (found in a decoded layer) as seen from the text the layer was decoded from."""
    return replace(inner, layer=layer if inner.layer == "literal" else f"{layer}>{inner.layer}", start=start, end=end)
