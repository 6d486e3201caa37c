"""Per-agent figures equal what AMI reported: a scripted set of calls on the sandbox PBX.

The test collects the agents' AMI events itself (its own AMI session), while it rings an
agent who answers (child protection's 1001), lets a call ring out on a member that never
answers, and pauses and unpauses an agent with a reason; then `balagh stats --by agent`
(the app's figures, from what it stored) must say the same as those events, counted here.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings

from .conftest import AppProcess, balagh
from .legs import CHILD_IN_DANGER, answered_call, originate, until

QUEUE = "balagh-child-protection"
STATIC_MEMBER = "Local/1001@balagh-agents/n"
ANSWERING = "Sandbox child-protection agent"
# A member whose phone rings and is never answered: the test caller context never answers.
SILENT_MEMBER = "Local/11@balagh-test-listener/n"  # _X. needs two digits
SILENT = "Ring-out agent"
KINDS = ("AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
         "QueueMemberPause")
PAUSE_SLACK = 1  # seconds: the app and the test each time the events as they read them


def figures(settings: Settings) -> dict[str, dict[str, int]]:
    today = datetime.now(settings.zone).date().isoformat()
    done = balagh(settings, "stats", "--since", today, "--by", "agent", "--format", "json")
    assert done.returncode == 0, done.stderr
    return {row["agent"]: row for row in json.loads(done.stdout)["rows"]}


def delta(after: dict[str, dict[str, int]], before: dict[str, dict[str, int]],
          agent: str) -> dict[str, int]:
    empty = dict.fromkeys(("offered", "answered", "missed", "talk_seconds", "pause_seconds",
                           "wrapup_seconds"), 0)
    now, then = after.get(agent, empty), before.get(agent, empty)
    return {key: now[key] - then[key] for key in empty}


@pytest.fixture
async def silent_member(ami: AmiSession) -> AsyncIterator[None]:
    """Child protection rings only the silent member (its agent paused meanwhile)."""
    added = await ami.action({"Action": "QueueAdd", "Queue": QUEUE, "Interface": SILENT_MEMBER,
                              "MemberName": SILENT, "Paused": "true"}, as_list=False)
    assert added.get("Response") == "Success", added
    try:
        yield
    finally:
        await ami.action({"Action": "QueueRemove", "Queue": QUEUE, "Interface": SILENT_MEMBER})
        await ami.action({"Action": "QueuePause", "Queue": QUEUE, "Interface": STATIC_MEMBER,
                          "Paused": "false"})


async def test_stats_by_agent_equal_what_ami_reported(
        settings: Settings, running_app: AppProcess, ami: AmiSession,
        silent_member: None) -> None:
    before = await asyncio.to_thread(figures, settings)
    seen = ami.listen(lambda e: e.get("Event") in KINDS and e.get("Queue") == QUEUE)
    loop = asyncio.get_running_loop()
    pause_at: dict[str, float] = {}
    paused_for: Counter[str] = Counter()
    counted: dict[str, Counter[str]] = {ANSWERING: Counter(), SILENT: Counter()}

    def count(events: list[dict[str, str]]) -> None:
        for event in events:
            agent, kind = event.get("MemberName", ""), event["Event"]
            if agent not in counted:
                continue
            if kind == "QueueMemberPause":
                if event.get("Paused") == "1":
                    pause_at.setdefault(agent, loop.time())
                elif agent in pause_at:
                    paused_for[agent] += round(loop.time() - pause_at.pop(agent))
                continue
            counted[agent][kind] += 1
            if kind == "AgentComplete":
                counted[agent]["talk"] += int(event.get("TalkTime", "0"))

    def drain() -> None:
        while not seen.empty():
            count([seen.get_nowait()])

    try:
        # 1. A caller in danger, answered by the agent, who talks for a moment.
        async with answered_call(ami, settings, CHILD_IN_DANGER):
            await asyncio.sleep(2)  # the call's talk time
        await wait_for_event(seen, lambda e: count([e]) or e["Event"] == "AgentComplete", 30)
        drain()
        # 2. The agent pauses with a reason; the silent member takes the next call, which
        # rings out once (AgentRingNoAnswer), and the caller gives up.
        pause = {"Action": "QueuePause", "Queue": QUEUE, "Interface": STATIC_MEMBER}
        assert (await ami.action({**pause, "Paused": "true", "Reason": "e2e-break"})
                ).get("Response") == "Success"
        await ami.action({"Action": "QueuePause", "Queue": QUEUE, "Interface": SILENT_MEMBER,
                          "Paused": "false"})
        caller = await originate(ami, f"Local/{settings.hotline}@balagh-inbound/n",
                                 "balagh-test-caller", CHILD_IN_DANGER)
        await wait_for_event(seen, lambda e: count([e]) or e["Event"] == "AgentRingNoAnswer",
                             60)
        await ami.action({"Action": "Hangup", "Channel": caller.channel})
        await ami.action({"Action": "QueuePause", "Queue": QUEUE, "Interface": SILENT_MEMBER,
                          "Paused": "true"})
        # 3. The agent comes back.
        assert (await ami.action({**pause, "Paused": "false"})).get("Response") == "Success"
        await wait_for_event(seen, lambda e: count([e]) or (
            e["Event"] == "QueueMemberPause" and e.get("MemberName") == ANSWERING
            and e.get("Paused") == "0"), 10)
        drain()
    finally:
        ami.unlisten(seen)

    expected = {agent: {"offered": kinds["AgentCalled"], "answered": kinds["AgentConnect"],
                        "missed": kinds["AgentRingNoAnswer"], "talk_seconds": kinds["talk"],
                        "wrapup_seconds": kinds["AgentComplete"] * settings.wrapup_seconds}
                for agent, kinds in counted.items()}
    assert expected[ANSWERING]["answered"] == 1 and expected[SILENT]["missed"] >= 1

    def stored() -> dict[str, dict[str, int]] | None:
        after = figures(settings)
        changes = {agent: delta(after, before, agent) for agent in counted}
        same = all({k: v for k, v in changes[agent].items() if k != "pause_seconds"}
                   == expected[agent] for agent in counted)
        return changes if same else None

    changes = await until(stored, timeout=15, what="stats --by agent equal to AMI's events")
    print(f"\nAMI: {expected}, paused {dict(paused_for)}; stats --by agent: {changes}")
    assert abs(changes[ANSWERING]["pause_seconds"] - paused_for[ANSWERING]) <= PAUSE_SLACK
