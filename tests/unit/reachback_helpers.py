"""What the callbacks' and the satisfaction calls' unit tests share: the hotline's zone and
a caller's number, AMI's Originate stood in for, the dialler's calls waited for, the
Originate's channel variables read back, a reachback.yaml written, and a scripted call
that can be hung up (the survey entry ends with one)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

from balagh.reachback.dialler import Dialler
from balagh.store.callbacks import Callback

from .fakes import ScriptedCall

DUBAI = ZoneInfo("Asia/Dubai")
NUMBER = "+971501234567"


class Asterisk:
    """Stands for AmiSession.originate: what was sent, and Asterisk's answer (`reason` 4:
    answered); with `release` cleared every call keeps ringing until it is set."""

    def __init__(self, reason: str = "4") -> None:
        self.sent: list[dict[str, str]] = []
        self.reason = reason
        self.release = asyncio.Event()
        self.release.set()

    async def originate(self, fields: dict[str, str], timeout: float) -> dict[str, str]:
        self.sent.append(fields)
        await self.release.wait()
        return {"Event": "OriginateResponse", "Reason": self.reason,
                "Response": "Success" if self.reason == "4" else "Failure"}


async def settle(worker: Dialler) -> None:
    """Until every call the dialler started has ended."""
    await asyncio.gather(*worker._tasks)


async def dialled_once(worker: Dialler, ami: Asterisk) -> dict[str, str]:
    """One round of the dialler that sends exactly one Originate, ended; its fields."""
    await worker.dial_due()
    await settle(worker)
    [sent] = ami.sent
    return sent


async def undialled(worker: Dialler, ami: Asterisk, row_id: int) -> Callback:
    """One round of the dialler in which nothing reaches Asterisk; the row after it."""
    await worker.dial_due()
    assert ami.sent == []
    after = await worker.rows.get(row_id)
    assert after is not None
    return after


def originate_variables(sent: dict[str, str]) -> dict[str, str]:
    """The channel variables of one Originate (`Variable: A=1,B=2`)."""
    return dict(item.split("=", 1) for item in sent["Variable"].split(","))


def write_reachback(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reachback.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class Callee(ScriptedCall):
    """The scripted call port, and hanging up (AriCall has both)."""

    async def hangup(self) -> None:
        self._enter("hangup")
        self.gone = True
