"""The FastAGI server on an ephemeral loopback port, spoken to over raw TCP sockets:
a whole route session as Asterisk runs it, and peers that are not Asterisk at all.
Whatever a peer sends, it gets a clean end and a log line, and the server goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import structlog

from balagh.fastagi.route import RouteService
from balagh.fastagi.server import FastAgiServer, serve
from balagh.handover.summary import HandoverSettings
from balagh.ivr.entry import CallerSetup
from balagh.ivr.menu import Menu, load_menu
from balagh.ivr.routed import NO_HANDOVER
from balagh.routing import Table
from balagh.routing.load import load_table
from balagh.status import ReportStatus
from balagh.store.reports import ReportStore

from .fakes import FixedClock, call_store
from .shipped import IVR_FILE, ROUTING_FILE

T0 = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
UNIQUEID = "1700000000.42"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu(IVR_FILE)


@pytest.fixture(scope="module")
def table(menu: Menu) -> Table:
    return load_table(ROUTING_FILE, menu.answer_values())


@pytest.fixture
async def server(menu, table, store) -> AsyncIterator[tuple[FastAgiServer, int]]:
    app = FastAgiServer(header_seconds=0.3, session_seconds=2)
    setup = CallerSetup(menu, table, NO_HANDOVER)
    app.add_route("route", RouteService(lambda: setup, call_store(store),
                                        clock=FixedClock(T0)).handle)
    listening = await serve(app, "127.0.0.1", 0)  # an ephemeral port: never 4573
    port = listening.sockets[0].getsockname()[1]
    yield app, port
    listening.close()
    await listening.wait_closed()


def headers(uniqueid: str = UNIQUEID, script: str = "route") -> bytes:
    lines = {"agi_network": "yes", "agi_network_script": script,
             "agi_request": f"agi://127.0.0.1:4573/{script}",
             "agi_channel": "Local/800701@balagh-softphone-00000001;2", "agi_language": "ar",
             "agi_type": "Local", "agi_uniqueid": uniqueid, "agi_version": "20.0.0",
             "agi_callerid": "+97165551234", "agi_calleridname": "Caller",
             "agi_dnid": "unknown", "agi_context": "balagh-route", "agi_extension": "s",
             "agi_priority": "4", "agi_enhanced": "0.0", "agi_accountcode": "",
             "agi_threadid": "140"}
    return "".join(f"{key}: {value}\n" for key, value in lines.items()).encode() + b"\n"


def unquote(arg: str) -> str:
    """One double-quoted AGI argument, escapes undone (as res_agi reads it)."""
    assert arg.startswith('"') and arg.endswith('"'), arg
    out, escaped = [], False
    for ch in arg[1:-1]:
        if escaped or ch != "\\":
            out.append(ch)
            escaped = False
        else:
            escaped = True
    return "".join(out)


async def fake_asterisk(port: int, variables: dict[str, str], *, hang_up_after: int | None = None,
                        uniqueid: str = UNIQUEID) -> tuple[dict[str, str], list[str]]:
    """Run an AGI session as Asterisk would: answer GET FULL VARIABLE from `variables`,
    record SET VARIABLE. hang_up_after=N: the caller hangs up at the N-th command."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(headers(uniqueid))
    await writer.drain()
    set_variables: dict[str, str] = {}
    commands: list[str] = []
    while line := await asyncio.wait_for(reader.readline(), 5):
        command = line.decode().rstrip("\n")
        commands.append(command)
        if hang_up_after is not None and len(commands) >= hang_up_after:
            writer.write(b"HANGUP\n511 Command Not Permitted on a dead channel or intercepted\n")
        elif command.startswith("GET FULL VARIABLE "):
            name = unquote(command.removeprefix("GET FULL VARIABLE "))[2:-1]
            value = variables.get(name)
            writer.write(f"200 result=1 ({value})\n".encode() if value is not None
                         else b"200 result=0\n")
        elif command.startswith("SET VARIABLE "):
            name, _, value = command.removeprefix("SET VARIABLE ").partition(" ")
            set_variables[name] = unquote(value)
            writer.write(b"200 result=1\n")
        else:
            writer.write(b"510 Invalid or unknown command\n")
        await writer.drain()
    writer.close()
    return set_variables, commands


async def stored(store: ReportStore, uniqueid: str = UNIQUEID):
    await store.writer.flush()
    return await store.queries.get_report(uniqueid)


async def test_a_route_session_sets_the_queue_variables_and_writes_the_report(server, store):
    _, port = server
    answers = {"BALAGH_HOTLINE": "800701", "BALAGH_LANGUAGE": "1", "BALAGH_DANGER": "1",
               "BALAGH_AGE": "1", "BALAGH_GENDER": "2", "BALAGH_EMIRATE": "3",
               "BALAGH_CONDITION": "0"}
    variables, _ = await fake_asterisk(port, answers)
    assert variables["BALAGH_QUEUE"] == "child-protection"
    assert variables["BALAGH_PRIO"] == "10"
    assert variables["BALAGH_RULE"] == "child"
    assert variables["BALAGH_OVERFLOW"] == "queue:general"
    assert variables["BALAGH_ERROR"] == ""
    assert variables["CHANNEL(language)"] == "ar"
    assert variables["BALAGH_WHISPER_general"].startswith("ar/balagh/w-report&")
    reference = variables["BALAGH_REFERENCE"]
    assert variables["BALAGH_READBACK"].startswith("balagh/reference&balagh/digit-")
    assert "ref " + reference in variables["__BALAGH_SUMMARY"]
    report = await stored(store)
    assert report is not None
    assert (report.reference, report.status, report.queue, report.priority) == (
        reference, ReportStatus.ROUTED, "child-protection", 10)
    assert (report.caller, report.hotline, report.language) == ("+97165551234", "800701", "ar")
    assert report.answers == {"language": "ar", "danger": "yes", "age": "child",
                              "gender": "female", "emirate": "sharjah", "condition": "none"}


async def test_invalid_variables_are_reported_and_the_caller_still_gets_a_queue(server, store):
    _, port = server
    variables, _ = await fake_asterisk(port, {"BALAGH_AGE": "7", "BALAGH_GENDER": "female"})
    assert variables["BALAGH_QUEUE"] == "general"
    assert "BALAGH_AGE='7'" in variables["BALAGH_ERROR"]
    assert "BALAGH_LANGUAGE: missing" in variables["BALAGH_ERROR"]
    report = await stored(store)
    assert report.status == ReportStatus.ROUTED
    assert "BALAGH_AGE='7'" in report.status_detail


async def test_caller_hanging_up_during_the_session_closes_the_report(server, store):
    _, port = server
    variables, _ = await fake_asterisk(port, {"BALAGH_AGE": "1"}, hang_up_after=3)
    assert variables == {}
    report = await stored(store)
    assert report is not None and report.status == ReportStatus.HUNG_UP_IN_IVR


async def test_a_route_bug_still_hands_the_caller_the_general_line(server, store, monkeypatch):
    def broken_decide(facts, table):
        raise KeyError("no such rule")

    monkeypatch.setattr("balagh.ivr.routed.decide", broken_decide)
    _, port = server
    variables, _ = await fake_asterisk(port, {"BALAGH_AGE": "1"})
    assert variables["BALAGH_QUEUE"] == "general"
    assert variables["BALAGH_ERROR"] == "internal error: KeyError"
    report = await stored(store)
    assert report.status == ReportStatus.FALLBACK


async def raw_session(port: int, payload: bytes, *, close: bool = True,
                      wait: float = 3) -> bytes:
    """Send `payload`, optionally close our side, and read until the server ends it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    if close:
        writer.write_eof()
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


@pytest.mark.parametrize(("payload", "close", "logged"), [
    (b"GET / HTTP/1.1\r\nHost: balagh\r\n\r\n", False, "fastagi.bad_session"),
    (b"\x00\xff\xfe garbage \x80\n\n", False, "fastagi.bad_session"),
    (b"agi_network: yes\nagi_network_script: route\n", True, "fastagi.bad_session"),
    (b"", True, "fastagi.bad_session"),
    (b"", False, "fastagi.bad_session"),  # connects and says nothing: the header timeout
    (headers(script="shell"), False, "fastagi.no_route"),
    (b"agi_network_script: route\n\n", False, "fastagi.bad_session"),
    (b"x" * 70_000, False, "fastagi.bad_session"),
], ids=["http", "binary", "early-hang-up", "connect-and-close", "silent", "unknown-script",
        "missing-headers", "endless-line"])
async def test_malformed_sessions_end_cleanly_with_a_log_line(server, store, payload, close,
                                                               logged):
    _, port = server
    with structlog.testing.capture_logs() as logs:
        answer = await raw_session(port, payload, close=close)
    assert answer == b""  # nothing sent back: the server just closed the socket
    assert logged in [entry["event"] for entry in logs]
    # The server is still there for the next caller.
    variables, _ = await fake_asterisk(port, {"BALAGH_AGE": "1"}, uniqueid="after.1")
    assert variables["BALAGH_QUEUE"] == "child-protection"


async def test_a_peer_that_stops_answering_commands_times_out(menu, table, store):
    app = FastAgiServer(header_seconds=1, session_seconds=0.5)
    setup = CallerSetup(menu, table, NO_HANDOVER)
    app.add_route("route", RouteService(lambda: setup, call_store(store)).handle)
    listening = await serve(app, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        with structlog.testing.capture_logs() as logs:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(headers("mute.1"))
            first = await asyncio.wait_for(reader.readline(), 2)  # and never answer it
            assert first.startswith(b"GET FULL VARIABLE")
            assert await asyncio.wait_for(reader.read(), 3) == b""
            writer.close()
        assert "fastagi.session_timeout" in [entry["event"] for entry in logs]
    finally:
        listening.close()
        await listening.wait_closed()


async def test_routes_must_be_coroutines():
    app = FastAgiServer()

    def plain(request):  # panoramisk would wrap it with asyncio.coroutine, gone in 3.11
        return None

    with pytest.raises(TypeError, match="async def"):
        app.add_route("plain", plain)


async def test_only_loopback_addresses_are_served():
    app = FastAgiServer()
    with pytest.raises(ValueError, match="loopback"):
        await serve(app, "0.0.0.0", 0)


async def test_each_session_is_served_by_the_hotline_of_its_moment(menu, table, store):
    """A reload (here: the agents' language) reaches the next FastAGI call, as on the ARI
    path; the service once took its menu and handover for good at start."""
    setups = [CallerSetup(menu, table, HandoverSettings(agent_language="ar")),
              CallerSetup(menu, table, HandoverSettings(agent_language="en"))]
    app = FastAgiServer(header_seconds=1, session_seconds=2)
    app.add_route("route", RouteService(lambda: setups[0], call_store(store)).handle)
    listening = await serve(app, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        before, _ = await fake_asterisk(port, {"BALAGH_AGE": "1"}, uniqueid="reload.1")
        setups.pop(0)  # the hotline was reloaded between the two calls
        after, _ = await fake_asterisk(port, {"BALAGH_AGE": "1"}, uniqueid="reload.2")
    finally:
        listening.close()
        await listening.wait_closed()
    assert before["BALAGH_WHISPER_general"].startswith("ar/balagh/w-report&")
    assert after["BALAGH_WHISPER_general"].startswith("en/balagh/w-report&")


@pytest.mark.parametrize(("danger", "stored_answer", "summary_says"), [
    ("2", "yes", True),    # asked by the dialplan, kept
    ("1", None, False),    # a caller in danger is never asked: a stray answer is not kept
])
async def test_the_dialplans_consent_answer_is_kept_where_the_app_would_ask(
        table, store, tmp_path, danger, stored_answer, summary_says):
    shipped = IVR_FILE.read_text(encoding="utf-8")
    at = shipped.index("# consent:")
    (tmp_path / "ivr.yaml").write_text(shipped[:at] + "".join(
        line.removeprefix("# ") for line in shipped[at:].splitlines(True)), encoding="utf-8")
    setup = CallerSetup(load_menu(tmp_path / "ivr.yaml"), table, NO_HANDOVER)
    app = FastAgiServer(header_seconds=0.3, session_seconds=2)
    app.add_route("route", RouteService(lambda: setup, call_store(store),
                                        clock=FixedClock(T0)).handle)
    listening = await serve(app, "127.0.0.1", 0)
    try:
        answers = {"BALAGH_LANGUAGE": "1", "BALAGH_DANGER": danger, "BALAGH_AGE": "2",
                   "BALAGH_GENDER": "2", "BALAGH_EMIRATE": "2", "BALAGH_CONDITION": "0",
                   "BALAGH_CONTACT_SAFE": "1"}
        variables, _ = await fake_asterisk(listening.sockets[0].getsockname()[1], answers)
    finally:
        listening.close()
        await listening.wait_closed()
    assert variables["BALAGH_ERROR"] == ""
    assert ("contact ok" in variables["__BALAGH_SUMMARY"]) is summary_says
    report = await stored(store)
    assert report is not None and report.answers.get("contact_safe") == stored_answer
