"""An agent's console page without a PBX: the role tied to a queue member, the desk fed by
app_queue's events, the report before answer, the after-call disposition kept in
console.sqlite3 and counted per queue, the pause with a reason, and what an agent may not
reach. The real ringing call is tests/e2e/test_agent_screen.py."""

from __future__ import annotations

import re
import sqlite3
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from balagh.config import ConsoleSettings, Settings
from balagh.console.access import ConsoleUser, access_for
from balagh.console.accounts import AccountError, Accounts
from balagh.console.agent_desk import RINGING, TALKING, WRAP_UP, AgentDesk
from balagh.console.feed import Feed
from balagh.console.web import create_app
from balagh.readmodel.dispositions import by_queue, disposition_counts
from balagh.readmodel.period import days_period
from balagh.stats import render
from balagh.status import ReportStatus
from balagh.store import ReportStore
from balagh.supervise.model import SupervisorTable
from balagh.texts import CONSOLE, NAMES

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "a long enough password"
MEMBER = "PJSIP/agent1"


def event(kind: str, call_id: str, member: str = MEMBER,
          queue: str = "balagh-child-protection",
          **more: str) -> dict[str, str]:
    return {"Event": kind, "Uniqueid": call_id, "Interface": member, "Queue": queue, **more}


# ------------------------------------------------------------------ the desk


def test_the_desk_follows_a_call_from_ringing_to_the_after_call_form() -> None:
    desk = AgentDesk()
    assert desk.apply(event("AgentCalled", "c1"), 1.0)
    assert desk.current("pjsip/AGENT1").state == RINGING  # as configured, any case
    assert desk.current(MEMBER).queue == "child-protection"  # the routing queue
    assert desk.current("PJSIP/agent2") is None and not desk.took(MEMBER, "c1")
    desk.apply(event("AgentConnect", "c1"), 2.0)
    assert desk.current(MEMBER).state == TALKING and desk.took(MEMBER, "c1")
    desk.apply(event("AgentComplete", "c1", Reason="caller"), 3.0)
    assert desk.current(MEMBER) is None
    assert desk.after_call(MEMBER).state == WRAP_UP
    # The next call rings while the form is open: both are shown.
    desk.apply(event("AgentCalled", "c2"), 4.0)
    assert desk.current(MEMBER).call_id == "c2" and desk.after_call(MEMBER).call_id == "c1"
    desk.done(MEMBER, "c1")
    assert desk.after_call(MEMBER) is None and desk.current(MEMBER).call_id == "c2"


def test_an_unanswered_ring_or_a_caller_giving_up_clears_the_desk() -> None:
    desk = AgentDesk()
    desk.apply(event("AgentCalled", "c1"), 1.0)
    desk.apply(event("AgentRingNoAnswer", "c1"), 2.0)
    assert desk.current(MEMBER) is None and not desk.took(MEMBER, "c1")
    desk.apply(event("AgentCalled", "c2"), 3.0)
    desk.apply(event("AgentCalled", "c2", member="PJSIP/agent2"), 3.0)
    desk.apply({"Event": "QueueCallerAbandon", "Uniqueid": "c2", "Queue": "general"}, 4.0)
    assert desk.current(MEMBER) is None and desk.current("PJSIP/agent2") is None
    # A late event of an older call leaves a newer one alone.
    desk.apply(event("AgentCalled", "c3"), 5.0)
    assert not desk.apply(event("AgentComplete", "c1"), 6.0)
    assert desk.current(MEMBER).call_id == "c3"


# ------------------------------------------------------------------ accounts and roles


def test_an_agent_account_names_its_queue_member(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "console.sqlite3")
    with pytest.raises(AccountError, match="queue member"):
        accounts.add("noura", PASSWORD, "agent", None)
    with pytest.raises(AccountError, match="only an agent"):
        accounts.add("amina", PASSWORD, "supervisor", "Amina", MEMBER)
    with pytest.raises(AccountError, match="not a queue member"):
        accounts.add("noura", PASSWORD, "agent", None, "agent1; rm")
    accounts.add("noura", PASSWORD, "agent", None, MEMBER)
    outcome = accounts.login("noura", PASSWORD, None)
    assert not isinstance(outcome, str)
    assert outcome[1].user == ConsoleUser("noura", "agent", None, MEMBER)
    access = access_for(outcome[1].user, SupervisorTable(supervisors=()))
    assert not access.may_see("child-protection") and not access.may_monitor("general")


def test_a_console_database_from_before_the_agent_role_gains_the_column(
        tmp_path: Path) -> None:
    path = tmp_path / "console.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, password TEXT NOT NULL,"
                   " role TEXT NOT NULL, supervisor TEXT, created_at TEXT NOT NULL,"
                   " changed_at TEXT NOT NULL)")
        db.execute("INSERT INTO users VALUES ('root', 'scrypt$x', 'admin', NULL, 'a', 'a')")
    accounts = Accounts(path)
    assert accounts.user("root") == ConsoleUser("root", "admin", None, None)
    accounts.add("noura", PASSWORD, "agent", None, MEMBER)
    assert accounts.user("noura") == ConsoleUser("noura", "agent", None, MEMBER)


# ------------------------------------------------------------------ the page


class FakeAmi:
    """The console's AMI session as the agent's routes use it, answering as Asterisk 20
    with the shipped balagh-agent-pause context: an Originate into it pauses the member
    and tells QueueMemberPause; QueueStatus lists the member. Every Originate kept."""

    def __init__(self) -> None:
        import asyncio

        self.originated: list[dict[str, str]] = []
        self.paused: dict[str, str] = {}
        self.listeners: list[tuple[Any, asyncio.Queue[dict[str, str]]]] = []
        self.connected = asyncio.Event()
        self.connected.set()

    def listen(self, accept: Any) -> Any:
        import asyncio

        queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.listeners.append((accept, queue))
        return queue

    def unlisten(self, queue: Any) -> None:
        self.listeners = [(a, q) for a, q in self.listeners if q is not queue]

    async def originate(self, fields: dict[str, str], timeout: float) -> dict[str, str]:
        self.originated.append(fields)
        variables = dict(item.split("=", 1) for item in fields["Variable"].split(","))
        member, pausing = variables["BALAGH_PAUSE_MEMBER"], "/pause@" in fields["Channel"]
        if pausing:
            self.paused[member] = variables["BALAGH_PAUSE_REASON"]
        else:
            self.paused.pop(member, None)
        told = {"Event": "QueueMemberPause", "Queue": "balagh-child-protection",
                "Interface": member, "Paused": "1" if pausing else "0",
                "PausedReason": self.paused.get(member, "")}
        for accept, queue in self.listeners:
            if accept(told):
                queue.put_nowait(told)
        return {"Event": "OriginateResponse", "Response": "Success"}

    async def action_list(self, action: dict[str, Any], timeout: float = 10.0) -> list[Any]:
        member = action["Member"]
        return [{"Event": "QueueMember", "Queue": "balagh-child-protection",
                 "Name": "Agent 1", "Location": member, "StateInterface": member,
                 "Paused": "1" if member in self.paused else "0",
                 "PausedReason": self.paused.get(member, "")},
                {"Event": "QueueStatusComplete"}]


class DeskFeed(Feed):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, ["danger"])
        self.ami = FakeAmi()  # type: ignore[assignment]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    """One report in danger for child protection, call id call-7000001."""
    settings = Settings(data_dir=tmp_path, supervisors_file=tmp_path / "supervisors.yaml",
                        console=ConsoleSettings(note_max_chars=40))
    store = await ReportStore.open(settings.database)
    now = datetime.now(UTC).replace(microsecond=0)
    call_id = "call-7000001"
    store.calls.start_report(call_id=call_id, reference="7000001", channel="PJSIP/x-1",
                             caller="+97165559876", hotline="800700", started_at=now,
                             caller_hash="h1")
    for question, value in (("danger", "yes"), ("age", "child"), ("gender", "female"),
                            ("condition", "none")):
        store.calls.record_answer(call_id=call_id, question=question, value=value, key="1",
                                  attempt=1, at=now)
    store.calls.record_decision(call_id=call_id, rule="child", queue="child-protection",
                                priority=10, at=now, danger=True)
    store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=now)
    store.calls.queue_joined(call_id=call_id, queue="child-protection", at=now)
    store.calls.start_report(call_id="call-earlier", reference="7000000", channel="PJSIP/x-0",
                             caller="+97165559876", hotline="800700",
                             started_at=now - timedelta(days=3), caller_hash="h1")
    await store.writer.flush()
    await store.close()
    return settings


def login(client: TestClient, name: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = client.post("/login", data={"csrf": token.group(1), "name": name,
                                         "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/agent").text)
    assert found
    return found.group(1)


@pytest.fixture
def agent_web(settings: Settings) -> tuple[TestClient, DeskFeed, Accounts]:
    accounts = Accounts(settings.console_database)
    accounts.add("noura", PASSWORD, "agent", None, MEMBER)
    accounts.add("root", PASSWORD, "admin", None)
    feed = DeskFeed(settings)
    app = create_app(settings, accounts=accounts, feed=feed)
    return TestClient(app, base_url="https://testserver"), feed, accounts


def desk_of(client: TestClient) -> AgentDesk:
    desk: AgentDesk = client.app.state.console.desk  # type: ignore[attr-defined]
    return desk


def facts(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-fact="([a-z_]+)"><dt>[^<]*</dt><dd>(?:<bdi dir="ltr">)?([^<]*)',
                      page)


def test_the_ringing_calls_report_shows_before_answer_then_the_form_after(
        agent_web: tuple[TestClient, DeskFeed, Accounts]) -> None:
    client, _feed, accounts = agent_web
    csrf = login(client, "noura")
    assert client.get("/agent/state").json() == {"desk": "-|-"}
    assert CONSOLE["desk_free"]["ar"] in client.get("/agent").text
    desk = desk_of(client)
    desk.apply(event("AgentCalled", "call-7000001"), 1.0)
    ringing = client.get("/agent?lang=en").text
    assert 'data-state="ringing"' in ringing and "disposition-form" not in ringing
    shown = dict(facts(ringing))
    assert facts(ringing)[0] == ("danger", "yes")  # danger first
    assert shown["queue"] == NAMES["child-protection"]["en"]
    assert shown["age"] == "child" and shown["gender"] == "female"
    assert shown["repeat_calls"] == "2" and shown["consent"] == "no"
    assert shown["reference"] == "7000001" and shown["caller"] == "+9716****9876"
    desk.apply(event("AgentConnect", "call-7000001"), 2.0)
    assert 'data-state="talking"' in client.get("/agent").text
    desk.apply(event("AgentComplete", "call-7000001"), 3.0)
    after = client.get("/agent").text
    assert 'id="disposition-form"' in after and 'value="call-7000001"' in after
    # A note over the bound: refused, and what was typed comes back in the form.
    too_long = client.post("/agent/disposition", data={
        "csrf": csrf, "call_id": "call-7000001", "disposition": "genuine", "note": "x" * 41})
    assert too_long.status_code == 400 and "x" * 41 in too_long.text
    assert CONSOLE["note_too_long"]["en"] in too_long.text  # the page kept ?lang=en
    unknown = client.post("/agent/disposition", data={
        "csrf": csrf, "call_id": "call-7000001", "disposition": "lovely", "note": "n"})
    assert unknown.status_code == 400
    saved = client.post("/agent/disposition", data={
        "csrf": csrf, "call_id": "call-7000001", "disposition": "genuine",
        "note": "mother called back"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/agent?saved=1"
    assert desk.after_call(MEMBER) is None
    assert "disposition-saved" in {row.action for row in accounts.audit_rows(user="noura")}


def test_a_disposition_survives_a_restart_and_is_counted_per_queue(
        agent_web: tuple[TestClient, DeskFeed, Accounts], settings: Settings) -> None:
    client, _feed, _accounts = agent_web
    csrf = login(client, "noura")
    desk = desk_of(client)
    for kind in ("AgentCalled", "AgentConnect", "AgentComplete"):
        desk.apply(event(kind, "call-7000001"), 1.0)
    client.post("/agent/disposition", data={"csrf": csrf, "call_id": "call-7000001",
                                            "disposition": "silent", "note": ""})
    # A new console process: a new app over the same files.
    again = create_app(settings, feed=DeskFeed(settings))
    kept = again.state.console.dispositions.get("call-7000001")
    assert kept is not None and kept.disposition == "silent" and kept.queue == "child-protection"
    assert kept.reference == "7000001" and kept.member == MEMBER and kept.note is None
    today = datetime.now(UTC).date()
    period = days_period(today - timedelta(days=1), today + timedelta(days=1), UTC)
    table = by_queue(disposition_counts(settings.console_database, period))
    assert table == {"child-protection": {"silent": 1}}
    shown = render.dispositions(table, settings.console.dispositions, "csv").splitlines()
    assert shown[0].startswith("queue,genuine,silent,prank")
    assert shown[1].startswith("child-protection,0,1,0") and shown[-1].startswith("total,0,1")
    before = days_period(today - timedelta(days=9), today - timedelta(days=8), UTC)
    assert not disposition_counts(settings.console_database, before)


def test_an_agent_describes_only_calls_that_rang_their_member(
        agent_web: tuple[TestClient, DeskFeed, Accounts]) -> None:
    client, _feed, _accounts = agent_web
    csrf = login(client, "noura")
    desk = desk_of(client)
    for kind in ("AgentCalled", "AgentConnect", "AgentComplete"):
        desk.apply(event(kind, "call-7000001", member="PJSIP/agent2"), 1.0)
    assert "7000001" not in client.get("/agent").text
    refused = client.post("/agent/disposition", data={
        "csrf": csrf, "call_id": "call-7000001", "disposition": "prank", "note": ""})
    assert refused.status_code == 403
    assert client.app.state.console.dispositions.get("call-7000001") is None  # type: ignore[attr-defined]


def test_an_agent_reaches_no_board_report_or_statistics_and_staff_no_agent_page(
        agent_web: tuple[TestClient, DeskFeed, Accounts]) -> None:
    client, _feed, _accounts = agent_web
    login(client, "noura")
    for path in ("/", "/live", "/reports", "/reports/7000001", "/reports.csv", "/stats"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/agent", path
    for path in ("/api/state", "/events"):
        assert client.get(path).status_code == 403
    assert client.post("/monitor", data={"reference": "7000001"},
                       headers={"X-CSRF-Token": "x"}).status_code == 403
    client.cookies.clear()
    login_admin = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', login_admin.text)
    assert token
    client.post("/login", data={"csrf": token.group(1), "name": "root", "password": PASSWORD})
    assert client.get("/agent", follow_redirects=False).headers["location"] == "/"
    assert client.get("/agent/state").status_code == 403


def test_an_agent_pauses_their_own_member_with_a_reason_and_comes_back(
        agent_web: tuple[TestClient, DeskFeed, Accounts]) -> None:
    client, feed, accounts = agent_web
    csrf = login(client, "noura")
    odd = client.post("/agent/pause", data={"csrf": csrf, "reason": "nap",
                                            "Interface": "PJSIP/agent2"})
    ami: FakeAmi = feed.ami  # type: ignore[assignment]
    assert odd.status_code == 400 and ami.originated == []
    done = client.post("/agent/pause", data={"csrf": csrf, "reason": "break",
                                             "Interface": "PJSIP/agent2"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert ami.originated == [{
        "Channel": "Local/pause@balagh-agent-pause/n", "Context": "balagh-agent-pause",
        "Exten": "done", "Priority": "1", "Timeout": "5000",
        "Variable": f"BALAGH_PAUSE_MEMBER={MEMBER},BALAGH_PAUSE_REASON=break"}]
    page = client.get("/agent?lang=en").text
    assert 'id="paused"' in page and NAMES["break"]["en"] in page
    client.post("/agent/unpause", data={"csrf": csrf})
    assert ami.originated[-1]["Channel"] == "Local/unpause@balagh-agent-pause/n"
    assert 'id="pause-form"' in client.get("/agent").text
    assert {"paused", "unpaused"} <= {row.action for row in accounts.audit_rows(user="noura")}


def test_the_dispositions_and_pause_reasons_are_ids_checked_at_load(tmp_path: Path) -> None:
    from balagh.config import load_settings
    from balagh.config.yamlsrc import ConfigError

    good = tmp_path / "good.yaml"
    good.write_text("console:\n  dispositions: [genuine, hoax]\n  pause_reasons: [lunch]\n")
    loaded = load_settings(good, {})
    assert loaded.console.dispositions == ("genuine", "hoax")
    assert loaded.console.pause_reasons == ("lunch",)
    bad = tmp_path / "bad.yaml"
    bad.write_text("console:\n  dispositions: [Genuine Call]\n")
    with pytest.raises(ConfigError, match=r"dispositions.*ids \(a-z, 0-9, -\)"):
        load_settings(bad, {})


def test_every_shipped_disposition_and_pause_reason_has_its_words() -> None:
    from balagh.config import load_settings

    shipped = load_settings(Path(__file__).parents[2] / "config" / "balagh.yaml", {})
    for word in (*shipped.console.dispositions, *shipped.console.pause_reasons):
        assert NAMES[word]["ar"] and NAMES[word]["en"], word


async def test_the_report_pack_counts_dispositions_per_queue(settings: Settings) -> None:
    from balagh.console.dispositions import Disposition, DispositionBook, now_iso
    from balagh.stats import pack

    book = DispositionBook(settings.console_database, settings.console.dispositions, 40)
    for call_id, disposition in (("c1", "prank"), ("c2", "prank"), ("c3", "genuine")):
        book.save(Disposition(call_id, None, "child-protection", MEMBER, "noura",
                              disposition, None, now_iso()))
    today = datetime.now(UTC).date()
    data = pack.collect(settings.database, days_period(today, today, UTC),
                        console_database=settings.console_database,
                        disposition_order=settings.console.dispositions)
    page = pack.render(data, "en")
    table = page.split("Agents&#39; dispositions after the call, per queue")[1]
    assert "<th>genuine report</th><th>silent call</th><th>prank</th>" in table
    row = table.split("</tr>")[1]
    assert "Child protection" in row
    assert [int(v) for v in re.findall(r">(\d+)<", row)][:3] == [1, 0, 2]


async def test_redact_empties_old_notes_and_purge_deletes_old_dispositions(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from balagh.cli.reports import apply_retention
    from balagh.console.dispositions import Disposition, DispositionBook, now_iso
    from balagh.store.timestamps import iso

    book = DispositionBook(settings.console_database, settings.console.dispositions, 40)
    old = iso(datetime.now(UTC) - timedelta(days=3))
    book.save(Disposition("old", None, "general", MEMBER, "noura", "genuine",
                          "she lives near the school", old))
    book.save(Disposition("new", None, "general", MEMBER, "noura", "genuine", "fresh",
                          now_iso()))
    assert await apply_retention(settings, "redact", 2, dry_run=False, yes=True) == 0
    assert "emptied the notes of 1 agent disposition(s)" in capsys.readouterr().out
    kept = book.get("old")
    assert kept is not None and kept.note is None and kept.disposition == "genuine"
    assert (book.get("new") or kept).note == "fresh"
    assert await apply_retention(settings, "purge", 2, dry_run=False, yes=True) == 0
    assert book.get("old") is None and book.get("new") is not None
