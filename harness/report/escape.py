"""Escaping of untrusted text (file names, messages that quote them) for each output format.

File names may hold control characters, newlines, bidirectional overrides or bytes that are not
UTF-8 (read with ``surrogateescape``, so byte 0xFF arrives as U+DCFF). Each writer passes every
string it did not write itself through the one function of its format here, so a hostile name can
neither break the format (a new terminal line, an ill-formed XML document, a Markdown table row) nor
hide in it. Escapes are visible and unambiguous: ``\\n``, ``\\t``, ``\\xNN`` for a control
character or an undecodable byte, ``\\uNNNN`` for other invisible or direction-changing characters.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 and C1 controls, DEL, lone surrogates (undecodable bytes), bidi/zero-width format characters,
# line/paragraph separators, and the two XML 1.0 non-characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]")
# Characters XML 1.0 cannot hold at all (tab, newline and carriage return are allowed in text).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a JSON string value may not carry raw: _UNSAFE without newline, carriage return and tab.
_JSON_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
                          "\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")


def _escape_char(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    point = ord(char)
    if 0xDC80 <= point <= 0xDCFF:  # a byte that was not UTF-8, as surrogateescape carries it
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def terminal(text: str) -> str:
    """One printable line: every control, invisible or undecodable character as a visible escape."""
    return _UNSAFE.sub(lambda m: _escape_char(m.group()), text)


def json_text(text: str) -> str:
    """For JSON written as UTF-8: undecodable bytes, lone surrogates and every control, invisible or
    direction-changing character except newline, carriage return and tab become visible escapes (as on the
    terminal), so every string is valid Unicode for strict parsers and no consumer that prints a value (a
    code-scanning UI, a log) meets a raw DEL, C1 control (0x9b is an 8-bit CSI) or bidi override. The JSON
    encoder escapes newline, carriage return and tab itself."""
    return _JSON_UNSAFE.sub(lambda m: _escape_char(m.group()), text)


def json_tree(value: Any) -> Any:
    """:func:`json_text` applied to every string (keys too) of a JSON-ready tree; any value that is not a
    JSON type (a Path, a set) becomes its escaped text."""
    if isinstance(value, str):
        return json_text(value)
    if isinstance(value, dict):
        return {json_text(str(k)): json_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_tree(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return json_text(str(value))


def xml_text(text: str) -> str:
    """For XML element text: characters XML 1.0 cannot hold become escapes; newlines and tabs stay.
    (Markup characters are escaped by the XML serializer.)"""
    return _NOT_XML.sub(lambda m: _escape_char(m.group()), text)


def xml_attr(text: str) -> str:
    """For an XML attribute such as a test case name: one line, as :func:`terminal`."""
    return terminal(text)


def uri_path(path: str) -> str:
    """A repository-relative path as a percent-encoded URI reference; undecodable bytes keep their value."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def markdown_inline(text: str) -> str:
    """For Markdown text and table cells (never at the start of a line): one line, HTML and Markdown syntax
    characters neutralised, ``@`` kept from mentioning anyone."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(terminal(text), quote=False))
    return escaped.replace("@", "@&#8203;")


def markdown_code(text: str) -> str:
    """For a line inside a fenced code block: one line, visible escapes; markup needs no escaping there."""
    return terminal(text)


def code_fence(lines: list[str]) -> str:
    """A backtick fence longer than any backtick run in ``lines``, so the content cannot close it."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    return "`" * max(3, longest + 1)


def html_text(text: str) -> str:
    """For HTML text and attribute values: visible escapes, then HTML-escaped (quotes included)."""
    return html.escape(terminal(text), quote=True)
