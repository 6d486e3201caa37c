"""The Stasis router: each kind of channel reaches the feature that registered its entry,
a channel no entry claims is a caller, and a supervisor's call sees a fresh hotline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from balagh.ari.call import AriCall
from balagh.ari.router import Entry, StasisRouter, first_arg_is
from balagh.ari.tell import telling_args, telling_entry
from balagh.ivr.port import CallInfo
from balagh.supervise.entry import supervision_entries
from balagh.supervise.model import SupervisorTable
from balagh.supervise.session import Supervision

from .fakes import FakeRest
from .test_supervise_session import PHONE, TABLE, Ami, Phone, audit

CALLER = CallInfo(call_id="c-1", channel="PJSIP/trunk-1", caller="0501234567",
                  hotline="800700", args=("800700",))
KINDS = {
    "tell": tuple(telling_args("c-1", "en", ["connecting"]).split(",")),
    "snoop": ("snoop", "session-1"),
    "supervise": ("supervise", "listen", "reference", "1234567"),
}


def served_by(router: StasisRouter, args: tuple[str, ...]) -> str:
    handler = router.handler_for(args)
    return next((entry.name for entry in router.entries if entry.serve is handler), "caller")


def hotline_router(store, rest: FakeRest, seen: list[str]) -> StasisRouter:
    async def caller(call: AriCall) -> None:
        seen.append(call.info.call_id)

    async def fresh() -> None:
        return None

    supervision = Supervision(table=lambda: TABLE, trail=store.audit, reports=store.queries,
                              ami=Ami(), rest=rest)
    return StasisRouter(caller, (telling_entry(rest), *supervision_entries(supervision, fresh)))


async def test_each_kind_of_channel_reaches_its_own_feature(store) -> None:
    router = hotline_router(store, FakeRest(), [])
    assert {kind: served_by(router, args) for kind, args in KINDS.items()} == \
        {kind: kind for kind in KINDS}


async def test_anything_else_is_a_caller(store) -> None:
    seen: list[str] = []
    router = hotline_router(store, FakeRest(), seen)
    for args in [("800700",), (), ("supervise", "shout", "agent", "1001"),
                 ("supervise", "listen", "agent", "not-digits"), ("telling",)]:
        assert served_by(router, args) == "caller", args
    await router(AriCall(CALLER, FakeRest()))
    assert seen == ["c-1"]


async def nothing(call: AriCall) -> None:
    return None


def test_an_entry_registered_twice_is_refused() -> None:
    router = StasisRouter(nothing, (Entry("tell", first_arg_is("tell"), nothing),))
    with pytest.raises(ValueError, match="registered twice"):
        router.register(Entry("tell", first_arg_is("tell"), nothing))


async def test_a_supervisor_call_is_served_after_the_hotline_is_refreshed(store) -> None:
    tables = [SupervisorTable(supervisors=())]  # nobody, until the refresh reads the file

    async def refresh() -> None:
        tables.append(TABLE)

    supervision = Supervision(table=lambda: tables[-1], trail=store.audit, reports=store.queries,
                              ami=Ami(),
                              rest=FakeRest())
    router = StasisRouter(nothing, supervision_entries(supervision, refresh))
    call = Phone(["9", "9", "9", "9", "#"], info=replace(PHONE))
    await router.handler_for(PHONE.args)(call)
    assert await audit(store) == [("refused", "wrong-pin")]  # known: not "unknown-phone"
