"""keep_up: the one reconnect loop under every ARI and AMI consumer."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from balagh.supervised import Backoff, MarkUp, describe, keep_up


def test_backoff_grows_to_its_cap():
    delays = Backoff(first=0.05, factor=2.0, cap=0.3).delays()
    assert [next(delays) for _ in range(5)] == [0.05, 0.1, 0.2, 0.3, 0.3]


class Sessions:
    """A scripted connection: each start records the loop time, then fails or drops."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.starts: list[float] = []
        self.done = asyncio.Event()

    async def __call__(self, mark_up: MarkUp) -> None:
        self.starts.append(asyncio.get_running_loop().time())
        if len(self.starts) >= len(self.script):
            self.done.set()
            await asyncio.Event().wait()  # stays up until cancelled
        step = self.script[len(self.starts) - 1]
        if step == "fail":
            raise ConnectionRefusedError("no PBX")
        mark_up()  # "up", then the connection drops (the session returns)


async def retry_delays(sessions: Sessions, backoff: Backoff) -> list[tuple[str, float]]:
    """Run keep_up until the script is done; the (event, retry_in) it logged."""
    with capture_logs() as logs:
        task = asyncio.create_task(keep_up("test", sessions, backoff))
        await asyncio.wait_for(sessions.done.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return [(entry["event"], entry["retry_in"]) for entry in logs if "retry_in" in entry]


async def test_failures_back_off_and_a_drop_after_being_up_retries_at_once():
    backoff = Backoff(first=0.02, factor=3.0, cap=1.0)
    logged = await retry_delays(Sessions(["fail", "fail", "up", "fail", "final"]), backoff)
    assert logged == [("connection.failed", 0.02), ("connection.failed", 0.06),
                      ("connection.lost", 0.02), ("connection.failed", 0.06)]
    assert sum(delay for _, delay in logged) < 1  # it did not wait for the cap


async def test_cancelling_stops_it():
    sessions = Sessions(["final"])
    task = asyncio.create_task(keep_up("test", sessions))
    await asyncio.wait_for(sessions.done.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_refusal_inside_task_groups_is_described_by_the_refusal():
    refused = ConnectionRefusedError(111, "Connect call failed")
    group = ExceptionGroup("unhandled errors in a TaskGroup",
                           [ExceptionGroup("inner", [refused])])
    assert describe(group) == f"ConnectionRefusedError: {refused}"
