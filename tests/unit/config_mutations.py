"""Broken config files, made from the shipped ones: the mutation kinds the fuzz suite uses.

Each kind is a function (text bytes, hypothesis draw) -> bytes; `mutated` draws one to
three of them in a row. They follow what goes wrong in real files and what an attacker
tries: a flipped byte, a lost or doubled line, a value of the wrong type, an unknown
key, a huge or negative number, unicode, YAML aliases, an example uncommented.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import strategies as st

Mutation = Callable[[bytes, st.DrawFn], bytes]

# Values of every YAML type, and the edges: what a swapped value may become.
SWAPS = (
    "[]", "{}", "null", "~", "true", "no", "0", "-1", "1e999", "-.inf", ".nan", "0x7fffffff",
    "99999999999999999999999", "-99999999999999999999999", "3.5", "'x'", "\"\"",
    "2026-13-45", "12:30", "[1, [2, [3]]]", "{a: {b: {c: d}}}", "!!binary AAAA",
    "!!python/object/apply:os.system ['true']", "*undefined", "&a [*a]",
    "\"\\u202e\\u0000\"", "ق١٢٣", "'Child-Protection'", "1st", "x", "' '",
    "'http://[::1'", "'not a url'", "\"+971\"", "| \n  block", "!!set {a, b}",
)
KEYS = ("extra", "queue", "attempts", "timeout", "wait", "url", "port", "<<", "? [a]",
        "\"\\t\"", "0", "true", "null", "ключ", "'a: b'", "'#'")


def _lines(text: bytes) -> list[bytes]:
    return text.split(b"\n")


def flip_bytes(text: bytes, draw: st.DrawFn) -> bytes:
    data = bytearray(text)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if data:
            data[at] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def delete_line(text: bytes, draw: st.DrawFn) -> bytes:
    lines = _lines(text)
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"\n".join(lines)


def duplicate_line(text: bytes, draw: st.DrawFn) -> bytes:
    lines = _lines(text)
    at = draw(st.integers(0, len(lines) - 1))
    lines.insert(at, lines[at])
    return b"\n".join(lines)


_VALUE = re.compile(rb"^(\s*(?:- )?[^#:\n]+:\s+)([^#\n]+)", re.MULTILINE)


def swap_value(text: bytes, draw: st.DrawFn) -> bytes:
    """One `key: value` gets a value of another type (or an edge of its own)."""
    found = list(_VALUE.finditer(text))
    if not found:
        return text
    match = draw(st.sampled_from(found))
    value = draw(st.sampled_from(SWAPS)).encode()
    return text[:match.start(2)] + value + text[match.end(2):]


def random_key(text: bytes, draw: st.DrawFn) -> bytes:
    """A key nobody expects, at the indentation of a line already there."""
    lines = _lines(text)
    at = draw(st.integers(0, len(lines) - 1))
    indent = re.match(rb"\s*(- )?", lines[at])
    prefix = b" " * len(indent.group(0)) if indent else b""
    key = draw(st.sampled_from(KEYS) | st.text(min_size=1, max_size=12)).encode("utf-8",
                                                                            "surrogatepass")
    value = draw(st.sampled_from(SWAPS)).encode()
    lines.insert(at, prefix + key + b": " + value)
    return b"\n".join(lines)


_NUMBER = re.compile(rb"(?<![\w.])\d+(?![\w.])")


def huge_number(text: bytes, draw: st.DrawFn) -> bytes:
    found = list(_NUMBER.finditer(text))
    if not found:
        return text
    match = draw(st.sampled_from(found))
    number = draw(st.sampled_from(("9" * 23, "-1", "0", "1" + "0" * 400, "4294967296",
                                   "-9223372036854775809", "1_000_000_000")))
    return text[:match.start()] + number.encode() + text[match.end():]


def unicode_text(text: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, len(text)))
    inserted = draw(st.text(min_size=1, max_size=20)).encode("utf-8", "surrogatepass")
    return text[:at] + inserted + text[at:]


def aliases(text: bytes, draw: st.DrawFn) -> bytes:
    """An anchor on one value and an alias to it elsewhere (the anchor may hold itself)."""
    found = list(_VALUE.finditer(text))
    if not found:
        return text
    first = draw(st.sampled_from(found))
    anchor, closing = draw(st.sampled_from(((b"&a ", b""), (b"&a [*a, ", b"]"),
                                            (b"&a {k: *a, z: ", b"}"))))
    value = first.group(2).rstrip()
    text = (text[:first.start(2)] + anchor + value + closing
            + text[first.start(2) + len(value):])
    others = [match for match in _VALUE.finditer(text) if match.start() != first.start()]
    if others:
        second = draw(st.sampled_from(others))
        text = text[:second.start(2)] + b"*a" + text[second.end(2):]
    return text


def uncomment(text: bytes, draw: st.DrawFn) -> bytes:
    """Commented examples switched on, as an admin would: the shipped files are full of them."""
    commented = [i for i, line in enumerate(_lines(text)) if line.lstrip().startswith(b"# ")]
    if not commented:
        return text
    lines = _lines(text)
    start = draw(st.sampled_from(commented))
    for i in range(start, min(start + draw(st.integers(1, 12)), len(lines))):
        lines[i] = lines[i].replace(b"# ", b"", 1)
    return b"\n".join(lines)


def truncate(text: bytes, draw: st.DrawFn) -> bytes:
    return text[:draw(st.integers(0, len(text)))]


KINDS: dict[str, Mutation] = {
    "flip_bytes": flip_bytes, "delete_line": delete_line, "duplicate_line": duplicate_line,
    "swap_value": swap_value, "random_key": random_key, "huge_number": huge_number,
    "unicode": unicode_text, "aliases": aliases, "uncomment": uncomment, "truncate": truncate,
}


@st.composite
def mutated(draw: st.DrawFn, text: bytes) -> tuple[tuple[str, ...], bytes]:
    """(the kinds applied, the broken file's bytes)."""
    names = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3))
    for name in names:
        text = KINDS[name](text, draw)
    return tuple(names), text
