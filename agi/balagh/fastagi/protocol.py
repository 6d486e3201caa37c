"""The AGI wire format: the session's headers, reply lines, quoted arguments. Pure.

panoramisk's own parser turns an empty line (the peer gone) into a ValueError and reads
headers until a blank line that may never come; these functions never raise on garbage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEADER_BYTES = 64 * 1024  # the stream limit: headers (under 1 KiB from Asterisk), reply lines
MAX_HEADERS = 100

_REPLY = re.compile(r"(?P<code>\d{3})(?P<sep>[ -])(?P<rest>.*)")
_RESULT = re.compile(r"result=(?P<result>\S*)\s*(?:\((?P<data>.*)\))?\s*$")


class BadSession(Exception):
    """What the peer sent is not an AGI session (wrong headers, garbage)."""


def parse_headers(block: bytes) -> dict[str, str]:
    """The agi_* headers of a session, from the bytes before the blank line."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSession("headers are not UTF-8 text") from None
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name.startswith("agi_") or not name.isidentifier():
            raise BadSession(f"not an AGI header: {line[:60]!r}")
        headers[name] = value.strip()
        if len(headers) > MAX_HEADERS:
            raise BadSession("too many headers")
    for required in ("agi_network_script", "agi_uniqueid", "agi_channel"):
        if not headers.get(required):
            raise BadSession(f"no {required} header")
    return headers


def script_name(headers: dict[str, str]) -> str:
    """'route' from agi_network_script 'route' or 'route?x=1' (arguments are ignored)."""
    return headers.get("agi_network_script", "").split("?", 1)[0].strip("/")


@dataclass(frozen=True)
class Reply:
    code: int
    result: str = ""
    data: str | None = None  # the text in parentheses, e.g. a variable's value
    line: str = ""


def parse_reply(line: str) -> Reply | None:
    """One reply line ('200 result=1 (child)'); None for a line that is not one."""
    match = _REPLY.fullmatch(line.rstrip("\r\n"))
    if match is None:
        return None
    code = int(match["code"])
    result = _RESULT.match(match["rest"]) if code == 200 else None
    if result is None:
        return Reply(code, line=line)
    return Reply(code, result["result"], result["data"], line)


def quoted(value: str) -> str:
    """One AGI argument: in double quotes, with '\\' and '"' escaped as res_agi reads them.
    Line breaks would end the command early; they become spaces."""
    flat = value.replace("\r", " ").replace("\n", " ")
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'
