"""harness.secrets.generators.may_name_credential: the gate in front of parsing a structured secretGenerator
input is a superset of :func:`credential_key` by construction -- every credential-named key, in any case and
separator spelling, dumped as YAML or JSON, opens it."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.secrets.generators import _CREDENTIAL_ENDINGS, credential_key, may_name_credential


def _respell(ending: str) -> st.SearchStrategy[str]:
    """``ending`` in any letter case, its ``_`` as ``_``, ``-``, ``.`` or nothing."""
    parts = ending.split("_")
    cased = [st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in part)).map("".join) for part in parts]
    separators = st.lists(st.sampled_from(["_", "-", ".", ""]), min_size=len(parts) - 1, max_size=len(parts) - 1)
    return st.tuples(st.tuples(*cased), separators).map(
        lambda pair: pair[0][0] + "".join(sep + word for sep, word in zip(pair[1], pair[0][1:], strict=True)))


def dump_yaml(doc: object) -> str:
    from ruamel.yaml import YAML

    stream = io.StringIO()
    YAML(typ="safe").dump(doc, stream)
    return stream.getvalue()


@st.composite
def credential_names(draw: st.DrawFn) -> str:
    ending = draw(st.sampled_from([*_CREDENTIAL_ENDINGS, "identity", "known_hosts"]))
    prefix = "" if ending in ("identity", "known_hosts") else draw(st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12))
    return prefix + draw(_respell(ending))


@settings(max_examples=400, deadline=None)
@given(credential_names(), st.text(max_size=20), st.sampled_from(["yaml", "json", "ascii-json"]), st.integers(0, 3))
def test_every_credential_named_key_opens_the_gate(name: str, value: str, form: str, depth: int) -> None:
    if not credential_key(name):
        return  # e.g. a prefix whose lower-casing runs into the ending: not a credential key either
    doc: object = {name: value}
    for _ in range(depth):
        doc = {"nested": [doc]}
    text = json.dumps(doc, ensure_ascii=form == "ascii-json") if form != "yaml" else dump_yaml(doc)
    assert may_name_credential(text), text


def test_text_without_a_credential_key_keeps_the_gate_shut() -> None:
    assert not may_name_credential("image: app\nsecretName: x\ntoken_url: y\npasswordPolicy: z\n")
    assert may_name_credential("Known-Hosts: x\n")  # credential_key normalises '-' and '.' too
    assert credential_key("Known-Hosts")
