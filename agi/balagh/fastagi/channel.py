"""One FastAGI session as the IVR's call port (balagh.ivr.port.CallPort).

So the shared routing steps (balagh.ivr.routed) run on it unchanged: geolocation reads
GEOLOC_PROFILE() with GET FULL VARIABLE, the decision goes out with SET VARIABLE.
Every command has a time limit; a hang-up (HANGUP, 511, the socket closing) is CallGone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog

from balagh.ari.app import WITHHELD
from balagh.fastagi.protocol import Reply, parse_reply, quoted
from balagh.ivr.port import CallGone, CallInfo

log = structlog.get_logger(__name__)

COMMAND_SECONDS = 5.0  # Asterisk answers a GET/SET at once; longer means it is stuck
MAX_REPLY_LINES = 50   # a 520 usage message is a few lines


class AgiError(Exception):
    """Asterisk refused a command (510 unknown, 520 usage)."""


def call_info(headers: Mapping[str, str], hotline: str | None = None) -> CallInfo:
    """What the session knows about its call, from the agi_* headers."""
    caller = headers.get("agi_callerid", "").strip()
    if not hotline:
        dnid = headers.get("agi_dnid", "")
        hotline = dnid if dnid and dnid.lower() not in WITHHELD else None
    return CallInfo(call_id=headers["agi_uniqueid"], channel=headers.get("agi_channel", ""),
                    caller=None if caller.lower() in WITHHELD else caller,
                    hotline=hotline, args=("fastagi", headers.get("agi_network_script", "")))


class AgiCall:
    """The commands the route needs, over one session's stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 info: CallInfo, *, command_seconds: float = COMMAND_SECONDS) -> None:
        self.reader = reader
        self.writer = writer
        self.info = info
        self.command_seconds = command_seconds
        self.hung_up = False

    async def command(self, command: str) -> Reply:
        if self.writer.is_closing():
            raise CallGone("the AGI session is closed")
        self.writer.write(command.encode("utf-8") + b"\n")
        try:
            async with asyncio.timeout(self.command_seconds):
                await self.writer.drain()
                return await self._reply(command)
        except (ConnectionError, TimeoutError) as exc:
            raise CallGone(f"AGI session lost during {command.split()[0]}: "
                           f"{type(exc).__name__}") from None
        except ValueError:  # a reply line longer than the stream's limit
            raise AgiError(f"{command.split()[0]}: reply too long") from None

    async def _reply(self, command: str) -> Reply:
        for _ in range(MAX_REPLY_LINES):
            raw = await self.reader.readline()
            if not raw:
                raise CallGone("Asterisk closed the AGI session")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "HANGUP":  # told once, asynchronously; the reply still follows
                self.hung_up = True
                continue
            reply = parse_reply(line)
            if reply is None or reply.code == 100 or line.startswith("520-"):
                continue  # "Trying...", the lines of a usage message
            if reply.code == 511:
                raise CallGone("the channel hung up")
            if reply.code != 200:
                raise AgiError(f"{command.split()[0]}: {line[:120]}")
            return reply
        raise AgiError(f"{command.split()[0]}: no reply among {MAX_REPLY_LINES} lines")

    # -- the call port -------------------------------------------------------

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET FULL VARIABLE {quoted('${' + name + '}')}")
        return reply.data if reply.result == "1" else None

    async def get_variables(self, names: Sequence[str]) -> dict[str, str | None]:
        return {name: await self.get_variable(name) for name in names}

    async def set_variables(self, variables: dict[str, str]) -> None:
        for name, value in variables.items():
            await self.command(f"SET VARIABLE {name} {quoted(value)}")

    async def set_language(self, language: str) -> None:
        await self.set_variables({"CHANNEL(language)": language})

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def play(self, sounds: Sequence[str], *, interruptible: bool = True) -> None:
        # The route itself plays nothing (the dialplan does, with BALAGH_READBACK);
        # here for the port's sake.
        for sound in sounds:
            await self.command(f"STREAM FILE balagh/{sound} {quoted('')}")

    def has_digits(self) -> bool:
        return False

    async def get_digit(self, timeout: float) -> str | None:
        reply = await self.command(f"WAIT FOR DIGIT {int(timeout * 1000)}")
        return chr(int(reply.result)) if reply.result.isdigit() and reply.result != "0" \
            else None

    async def wait_for_digit(self, timeout: float) -> bool:
        return False

    async def continue_in_dialplan(self) -> None:
        """Nothing to send: the dialplan goes on when the session ends."""

    async def tell_while_waiting(self, sounds: Sequence[str], language: str) -> None:
        """Nothing over AGI: the dialplan plays BALAGH_READBACK itself (dialplan-sites.md)."""
