"""A supervisor's call with a scripted phone and a scripted AMI: refusals, PIN, put through."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from balagh.ivr.port import CallInfo
from balagh.readmodel.reader import reader_of
from balagh.supervise import snoop as snoop_module
from balagh.supervise.live import agent_matches
from balagh.supervise.model import Supervisor, SupervisorTable
from balagh.supervise.modes import Mode
from balagh.supervise.pins import hash_pin
from balagh.supervise.ring import live_calls
from balagh.supervise.session import Request, Supervision

from .fakes import HANGUP, FakeRest, ScriptedCall

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DUBAI = ZoneInfo("Asia/Dubai")
PIN_HASH = hash_pin("4321")
AMINA = Supervisor(name="Amina", phones=frozenset({"201"}), pin_hash=PIN_HASH,
                   queues=frozenset({"child-protection"}))
TABLE = SupervisorTable(supervisors=(AMINA,))
PHONE = CallInfo(call_id="sup-1", channel="PJSIP/desk201-00000007", caller="201",
                 hotline=None, args=("supervise", "listen", "reference", "1234567"))
AGENT = "PJSIP/1001-00000009"
CALLER = "PJSIP/trunk-00000008"


class Phone(ScriptedCall):
    hung_up = False

    async def hangup(self) -> None:
        self.hung_up = True


class Ami:
    """AMI as far as live-call lookups go: BRIDGEPEER between the caller and the agent."""

    def __init__(self, bridged: bool = True) -> None:
        self.bridged = bridged

    async def getvar(self, channel: str, variable: str) -> str | None:
        peers = {CALLER: AGENT, AGENT: CALLER} if self.bridged else {}
        if variable == "BRIDGEPEER":
            return peers.get(channel)
        return {CALLER: "call-1", AGENT: "agent-1"}.get(channel) \
            if variable == "UNIQUEID" else None

    async def action_list(self, action: dict[str, str]) -> list[dict[str, str]]:
        bridge = "b-1" if self.bridged else ""
        return [{"Event": "CoreShowChannel", "Channel": AGENT, "BridgeId": bridge,
                 "Uniqueid": "agent-1"},
                {"Event": "CoreShowChannel", "Channel": CALLER, "BridgeId": bridge}]


class SnoopChannel:
    """A snoop as it enters the app: its id, and gone once hung up."""

    def __init__(self, snoop_id: str) -> None:
        self.info = CallInfo(call_id=snoop_id, channel=f"Snoop/{snoop_id}", caller=None,
                             hotline=None, args=("snoop",))
        self.gone = asyncio.Event()

    async def wait_gone(self) -> None:
        await self.gone.wait()


def asterisk_snoops(sup: Supervision, rest: FakeRest, *, arrive: bool = True) -> None:
    """Snoops behave as Asterisk's: each enters the app (served by follow_snoop) only
    after the request that made it has been answered, and a bridge refuses one that has
    not entered yet (422 "Channel not in Stasis application")."""
    snoops: dict[str, SnoopChannel] = {}
    entered: set[str] = set()
    followers: set[asyncio.Task[None]] = set()

    def enter(snoop: SnoopChannel, session_id: str) -> None:
        entered.add(snoop.info.call_id)
        followers.add(asyncio.ensure_future(sup.follow_snoop(snoop, session_id)))

    def snooped(**params: Any) -> None:
        snoop = snoops[params["snoopId"]] = SnoopChannel(params["snoopId"])
        if arrive:
            asyncio.get_running_loop().call_soon(enter, snoop,
                                                 params["appArgs"].split(",")[-1])

    def bridged(**params: Any) -> None:
        if params["channel"] in snoops and params["channel"] not in entered:
            raise RuntimeError("422 Channel not in Stasis application")

    def hung_up(**params: Any) -> None:
        if (snoop := snoops.get(params["channelId"])) is not None:
            snoop.gone.set()

    rest.channels.hooks["snoopChannelWithId"] = snooped
    rest.bridges.hooks["addChannel"] = bridged
    rest.channels.hooks["hangup"] = hung_up


async def answered_report(store, queue: str = "child-protection") -> None:
    store.calls.start_report(call_id="call-1", reference="1234567", channel=CALLER,
                             caller="+97165551234", hotline="800700", started_at=T0)
    store.calls.queue_joined(call_id="call-1", queue=queue, at=T0)
    store.calls.queue_answered(call_id="call-1", queue=queue, agent="Agent 1001", wait_seconds=3,
                               at=T0)
    await store.writer.flush()


def supervision(store, ami: Any = None, rest: Any = None) -> Supervision:
    return Supervision(table=lambda: TABLE, trail=store.audit, reports=store.queries,
                       ami=ami or Ami(), rest=rest,
                       clock=lambda: T0)


async def audit(store) -> list[tuple[str, str | None]]:
    await store.writer.flush()
    return [(e.action, e.detail) for e in reversed(await reader_of(store).monitor_events())]


def test_requests_come_from_the_stasis_arguments():
    assert Request.from_args(("supervise", "whisper", "agent", "1001")) == \
        Request(Mode.WHISPER, "agent", "1001")
    for args in [("800700",), ("supervise", "shout", "agent", "1001"),
                 ("supervise", "listen", "room", "1"), ("supervise", "listen", "agent", "x;1")]:
        assert Request.from_args(args) is None


def test_agent_channels_are_matched_by_extension():
    assert agent_matches("PJSIP/1001-0000002a", "1001")
    assert agent_matches("Local/1001@balagh-agents-00000005;1", "1001")
    assert not agent_matches("Local/1001@balagh-agents-00000005;2", "1001")  # not bridged half
    assert not agent_matches("PJSIP/10011-0000002a", "1001")


async def test_live_calls_mask_the_caller_by_the_one_rule(store):
    # `balagh monitor --live` masks as every listing and export does (privacy.mask_number).
    for call_id, ref, caller in (("c1", "1234561", "+97165551234"), ("c2", "1234562", None)):
        store.calls.start_report(call_id=call_id, reference=ref, channel=f"PJSIP/trunk-{ref}",
                                 caller=caller, hotline="800700", started_at=T0)
        store.calls.queue_answered(call_id=call_id, queue="general", agent="1001", wait_seconds=3,
                                   at=T0)
    await store.writer.flush()

    class Ami:
        async def getvar(self, channel: str, name: str) -> str:
            return AGENT

    rows = await live_calls(Ami(), reader_of(store), DUBAI)  # type: ignore[arg-type]
    assert sorted(row.caller for row in rows) == ["+9716****1234", "withheld"]
    # and the time the agent answered in the hotline's zone
    assert {row.talking_since for row in rows} == {
        T0.astimezone(DUBAI).isoformat(timespec="seconds")}


async def test_a_phone_that_is_no_supervisor_is_refused_without_a_pin(store):
    call = Phone([], info=replace(PHONE, caller="299", channel="PJSIP/lobby-1"))
    await supervision(store).serve(call, Request.from_args(PHONE.args))
    assert call.sounds == ["sup-refused"] and call.hung_up
    assert await audit(store) == [("refused", "unknown-phone")]


async def test_a_wrong_pin_is_refused_and_five_lock_the_supervisor(store):
    for _ in range(5):
        call = Phone(["9", "9", "9", "9", "#"], info=PHONE)
        await supervision(store).serve(call, Request.from_args(PHONE.args))
        assert call.sounds[-1] == "sup-refused"
    call = Phone(["4", "3", "2", "1", "#"], info=PHONE)  # the right PIN, too late
    await supervision(store).serve(call, Request.from_args(PHONE.args))
    assert call.sounds == ["sup-locked"]
    assert (await audit(store))[-1] == ("refused", "locked")


async def test_the_right_pin_for_a_live_call_in_their_queue_is_put_through(store):
    await answered_report(store)
    rest = FakeRest()
    sup = supervision(store, rest=rest)
    asterisk_snoops(sup, rest)
    # PIN, then 5 (whisper) while listening, then the supervisor hangs up.
    call = Phone(["4", "3", "2", "1", "#", "5", HANGUP], info=PHONE)
    await sup.serve(call, Request.from_args(PHONE.args))
    snoops = rest.channels.named("snoopChannelWithId")
    assert [(s["channelId"], s["spy"], s["whisper"]) for s in snoops] == [
        ("agent-1", "both", "none"), ("agent-1", "both", "out")]  # listen, then whisper
    bridge = rest.bridges.named("createWithId")[0]["bridgeId"]
    assert [a["channel"] for a in rest.bridges.named("addChannel")] == [
        PHONE.call_id, snoops[0]["snoopId"], snoops[1]["snoopId"]]
    assert {"channelId": snoops[0]["snoopId"]} in rest.channels.named("hangup")  # replaced
    assert rest.bridges.named("destroy") == [{"bridgeId": bridge}]  # tidied at the end
    await store.writer.flush()
    events = [(e.action, e.mode) for e in reversed(await reader_of(store).monitor_events())]
    assert events == [("pin-ok", None), ("start", "listen"), ("mode", "whisper"),
                      ("end", "whisper")]


@pytest.mark.parametrize(("queue", "bridged", "reason", "prompt"), [
    ("elderly-care", True, "queue-not-allowed", "sup-not-allowed"),
    ("child-protection", False, "no-live-call", "sup-no-live-call"),
])
async def test_a_call_outside_their_queues_or_not_live_is_refused(store, queue, bridged,
                                                                 reason, prompt):
    await answered_report(store, queue)
    call = Phone(["4", "3", "2", "1", "#"], info=PHONE)
    await supervision(store, Ami(bridged)).serve(call, Request.from_args(PHONE.args))
    assert call.sounds[-1] == prompt and not call.continued
    assert (await audit(store))[-1] == ("refused", reason)


async def test_a_snoop_that_never_enters_the_app_is_refused_not_left_silent(store,
                                                                            monkeypatch):
    monkeypatch.setattr(snoop_module, "ARRIVAL_SECONDS", 0.05)
    await answered_report(store)
    rest = FakeRest()
    sup = supervision(store, rest=rest)
    asterisk_snoops(sup, rest, arrive=False)
    call = Phone(["4", "3", "2", "1", "#"], info=PHONE)
    await sup.serve(call, Request.from_args(PHONE.args))
    snoop_id = rest.channels.named("snoopChannelWithId")[0]["snoopId"]
    assert {"channelId": snoop_id} in rest.channels.named("hangup")  # not left behind
    assert call.sounds[-1] == "sup-no-live-call"
    assert (await audit(store))[-1] == ("refused", "no-live-call")
