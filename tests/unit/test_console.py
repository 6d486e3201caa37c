"""The console's pure parts and its web layer without a PBX: password hashes, sessions,
lockout, CSRF, roles, and the board built from AMI events and reports."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from balagh.config import Settings
from balagh.console import board
from balagh.console.access import ConsoleUser, access_for, dial_phone
from balagh.console.accounts import Accounts
from balagh.console.csrf import new_token, token_ok
from balagh.console.feed import Feed
from balagh.console.passwords import hash_password, password_problem, verify_password
from balagh.console.web import create_app
from balagh.status import ReportStatus
from balagh.store import ReportStore
from balagh.store.queries import Report
from balagh.supervise.model import Supervisor, SupervisorTable
from balagh.supervise.pins import hash_pin
from balagh.texts import CONSOLE, NAMES

with warnings.catch_warnings():  # Starlette's note about a future httpx: not ours to act on
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "a long enough password"

# ------------------------------------------------------------------ passwords


def test_a_password_is_kept_as_a_salted_scrypt_hash() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and PASSWORD not in first and first != second
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "!", first)
    assert not verify_password("x" * 10_000, first)  # bounded work per attempt


@pytest.mark.parametrize("password", ["short", " padded password ", "x" * 201])
def test_weak_or_odd_passwords_are_refused(password: str) -> None:
    assert password_problem(password)


def test_csrf_tokens_compare_exactly() -> None:
    token = new_token()
    assert token_ok(token, token) and len(token) >= 40
    assert not token_ok(token, token[:-1] + "x")
    assert not token_ok(token, None) and not token_ok(None, token) and not token_ok("", "")
    assert new_token() != token


# ------------------------------------------------------------------ accounts


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    accounts = Accounts(tmp_path / "console.sqlite3", lockout_attempts=3, lockout_minutes=10)
    accounts.add("amina", PASSWORD, "supervisor", "Amina")
    return accounts


def test_login_gives_a_session_whose_cookie_is_not_stored(accounts: Accounts,
                                                          tmp_path: Path) -> None:
    outcome = accounts.login("amina", PASSWORD, "127.0.0.1")
    assert not isinstance(outcome, str)
    token, session = outcome
    assert session.user == ConsoleUser("amina", "supervisor", "Amina")
    assert accounts.session(token) == session
    assert token.encode() not in (tmp_path / "console.sqlite3").read_bytes()
    accounts.logout(token)
    assert accounts.session(token) is None
    assert [row.action for row in accounts.audit_rows()][:2] == ["login-ok", "user-added"]


def test_wrong_passwords_lock_the_user_out_for_a_while(accounts: Accounts) -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert accounts.login("nobody", PASSWORD, None, now) == "wrong"
    for _ in range(3):
        assert accounts.login("amina", "wrong password", None, now) == "wrong"
    assert accounts.login("amina", PASSWORD, None, now) == "locked"  # even the right one
    later = now + timedelta(minutes=11)
    assert not isinstance(accounts.login("amina", PASSWORD, None, later), str)
    actions = [row.action for row in accounts.audit_rows(user="amina")]
    assert actions.count("login-failed") == 3 and "login-locked" in actions


def test_sessions_expire_and_a_new_password_ends_them(accounts: Accounts) -> None:
    now = datetime.now(UTC)
    outcome = accounts.login("amina", PASSWORD, None, now)
    assert not isinstance(outcome, str)
    token = outcome[0]
    assert accounts.session(token, now + timedelta(minutes=accounts.session_minutes + 1)) is None
    assert accounts.session(token, now) is not None
    accounts.set_password("amina", PASSWORD + " two")
    assert accounts.session(token, now) is None


# ------------------------------------------------------------------ roles

TABLE = SupervisorTable(supervisors=(
    Supervisor("Amina", frozenset({"201", "Local/201@balagh-test-desk"}), hash_pin("4321"),
               frozenset({"child-protection"})),
    Supervisor("Chief", frozenset({"PJSIP/sup9"}), hash_pin("4321"), None),
))


def test_a_supervisor_sees_and_monitors_their_queues_only() -> None:
    access = access_for(ConsoleUser("amina", "supervisor", "Amina"), TABLE)
    assert access.may_see("child-protection") and not access.may_see("general")
    assert access.may_monitor("child-protection") and not access.may_monitor("general")
    assert not access.may_see(None)  # a caller still in the menu has no queue yet
    items = [{"queue": "child-protection"}, {"queue": "general"}, {"queue": None}]
    assert access.visible(items, "queue") == [{"queue": "child-protection"}]


def test_an_admin_sees_everything_and_monitors_only_with_a_phone() -> None:
    admin = access_for(ConsoleUser("root", "admin", None), TABLE)
    assert admin.may_see("general") and admin.may_see(None) and not admin.may_monitor("general")
    chief = access_for(ConsoleUser("chief", "admin", "Chief"), TABLE)
    assert chief.may_monitor("general")


def test_a_supervisor_account_without_its_entry_sees_nothing() -> None:
    gone = access_for(ConsoleUser("omar", "supervisor", "Omar"), TABLE)
    assert not gone.may_see("general") and not gone.may_monitor("general")


def test_the_phone_rung_is_a_dial_string() -> None:
    assert dial_phone(TABLE.supervisors[0]) == "Local/201@balagh-test-desk/n"
    assert dial_phone(TABLE.supervisors[1]) == "PJSIP/sup9"
    assert dial_phone(Supervisor("X", frozenset({"201"}), "h", None)) is None


# ------------------------------------------------------------------ the board

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp()


def report(reference: str, **fields: Any) -> Report:
    base = Report(id=int(reference), call_id=f"call-{reference}", reference=reference,
                  channel=f"PJSIP/x-{reference}", caller="+97165551234", hotline="800700",
                  language="en", status=ReportStatus.IN_IVR, status_detail=None, rule=None,
                  queue=None, priority=None, started_at="2026-11-25T08:59:00.000Z",
                  routed_at=None, ended_at=None, updated_at="2026-11-25T08:59:00.000Z",
                  location=None, location_source=None, queue_outcome=None, joined_queue=None,
                  answered_by=None, answered_at=None, wait_seconds=None, talk_seconds=None)
    return replace(base, **fields)


IN_MENU = report("1001", answers={"language": "en", "danger": "yes"})
WAITING = report("1002", status=ReportStatus.ROUTED, queue="general", joined_queue="general",
                 rule="adult-danger", routed_at="2026-11-25T08:59:30.000Z",
                 answers={"danger": "yes", "age": "adult", "gender": "male"})
TALKING = report("1003", status=ReportStatus.ROUTED, queue="child-protection",
                 joined_queue="child-protection", queue_outcome="answered",
                 answered_by="Agent 1001", answered_at="2026-11-25T08:59:50.000Z",
                 wait_seconds=3, answers={"danger": "no", "age": "child"})
ENDED = report("1004", status=ReportStatus.HUNG_UP_IN_IVR, ended_at="2026-11-25T08:59:10Z")
STALE = report("1005")  # its channel is gone (a crash): not live

QUEUE_STATUS = [
    {"Event": "QueueParams", "Queue": "balagh-general", "Calls": "1"},
    {"Event": "QueueMember", "Queue": "balagh-general", "Status": "1", "Paused": "1",
     "InCall": "0"},
    {"Event": "QueueEntry", "Queue": "balagh-general", "Uniqueid": "call-1002", "Wait": "40",
     "Position": "1"},
    {"Event": "QueueParams", "Queue": "balagh-child-protection", "Calls": "0"},
    {"Event": "QueueMember", "Queue": "balagh-child-protection", "Status": "2",
     "Paused": "0", "InCall": "1"},
    {"Event": "QueueMember", "Queue": "balagh-child-protection", "Status": "1",
     "Paused": "0", "InCall": "0"},
    {"Event": "QueueParams", "Queue": "other-queue", "Calls": "3"},  # not Balagh's
]
QUESTIONS = ["language", "danger", "age", "gender", "emirate", "condition"]


def snapshot() -> dict[str, Any]:
    return board.build(queue_events=QUEUE_STATUS,
                       live_ids={"call-1001", "call-1002", "call-1003", "call-1004"},
                       reports=[IN_MENU, WAITING, TALKING, ENDED, STALE], questions=QUESTIONS,
                       today=board.Today(answered={"general": 4}, abandoned={"general": 1},
                                         service_level={"general": 0.75}, calls=9,
                                         per_hour=[0] * 9 + [9] + [0] * 14),
                       now=NOW)


def test_the_board_counts_waiting_callers_in_danger_and_agents() -> None:
    queues = {q["name"]: q for q in snapshot()["queues"]}
    assert set(queues) == {"general", "child-protection"}
    general = queues["general"]
    assert (general["waiting"], general["danger_waiting"], general["paused"]) == (1, 1, 1)
    assert general["longest_since"] == NOW - 40 == general["oldest_danger_since"]
    assert general["oldest_danger_reference"] == "1002"
    assert (general["answered_today"], general["abandoned_today"],
            general["service_level_today"]) == (4, 1, 0.75)
    child = queues["child-protection"]
    assert (child["waiting"], child["talking"], child["available"]) == (0, 1, 1)


def test_live_calls_are_those_still_up_with_their_state_and_masked_number() -> None:
    calls = {c["reference"]: c for c in snapshot()["calls"]}
    assert set(calls) == {"1001", "1002", "1003"}  # not ended, not stale
    assert calls["1001"]["state"] == "ivr" and calls["1001"]["question"] == "age"
    assert calls["1002"]["state"] == "waiting" and calls["1002"]["danger"]
    assert calls["1003"]["state"] == "talking" and calls["1003"]["agent"] == "Agent 1001"
    assert all(c["caller"] != "+97165551234" and c["caller"].endswith("1234")
               for c in calls.values())
    first = snapshot()["calls"][0]
    assert first["danger"]  # callers in danger first
    assert snapshot()["ivr"] == {"callers": 1, "by_question": {"age": 1}}


def test_without_ami_the_reports_alone_say_what_is_live() -> None:
    built = board.build(queue_events=[], live_ids=None, reports=[IN_MENU, STALE, ENDED],
                        questions=QUESTIONS, today=board.Today(), now=NOW, pbx_up=False)
    assert built["pbx"] == "down" and {c["reference"] for c in built["calls"]} == {"1001",
                                                                                    "1005"}


def test_each_user_gets_only_their_queues_and_calls() -> None:
    amina = access_for(ConsoleUser("amina", "supervisor", "Amina"), TABLE)
    mine = board.for_user(snapshot(), amina)
    assert [q["name"] for q in mine["queues"]] == ["child-protection"]
    assert [c["reference"] for c in mine["calls"]] == ["1003"]
    assert mine["calls"][0]["monitor"] is True and mine["ivr"]["callers"] == 0
    admin = board.for_user(snapshot(), access_for(ConsoleUser("root", "admin", None), TABLE))
    assert len(admin["calls"]) == 3 and not any(c["monitor"] for c in admin["calls"])


# ------------------------------------------------------------------ the web layer


class StillFeed(Feed):
    """The board without AMI or a database: a fixed snapshot, rings remembered."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, QUESTIONS)
        self.snapshot = snapshot()
        self.rung: list[tuple[str, str, str]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def ring(self, phone: str, reference: str, mode: Any) -> None:
        self.rung.append((phone, reference, mode.value))


@pytest.fixture
def web(tmp_path: Path) -> tuple[TestClient, StillFeed, Accounts]:
    supervisors = tmp_path / "supervisors.yaml"
    from balagh.supervise.load import save_supervisors

    save_supervisors(TABLE, supervisors)
    settings = Settings(data_dir=tmp_path, supervisors_file=supervisors)
    accounts = Accounts(settings.console_database)
    accounts.add("amina", PASSWORD, "supervisor", "Amina")
    accounts.add("root", PASSWORD, "admin", None)
    feed = StillFeed(settings)
    return TestClient(create_app(settings, accounts=accounts, feed=feed),
                      base_url="https://testserver"), feed, accounts


def login(client: TestClient, name: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = client.post("/login", data={"csrf": token.group(1), "name": name,
                                         "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def test_pages_need_a_session_and_posts_a_csrf_token(web) -> None:
    client, feed, accounts = web
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/state").status_code == 401
    assert client.post("/login", data={"name": "amina", "password": PASSWORD}).status_code == 403
    csrf = login(client, "amina")
    assert client.post("/monitor", data={"reference": "1003"}).status_code == 403
    assert client.post("/monitor", data={"reference": "1003", "csrf": "x"}).status_code == 403
    assert feed.rung == []
    done = client.post("/monitor", data={"reference": "1003", "mode": "whisper"},
                       headers={"X-CSRF-Token": csrf})
    assert done.status_code == 202
    assert feed.rung == [("Local/201@balagh-test-desk/n", "1003", "whisper")]
    actions = [row.action for row in accounts.audit_rows(user="amina")]
    assert {"csrf-refused", "monitor-requested", "login-ok"} <= set(actions)


def test_a_supervisor_cannot_monitor_another_queue_by_a_forged_request(web) -> None:
    client, feed, accounts = web
    csrf = login(client, "amina")
    state = client.get("/api/state").json()
    assert [c["reference"] for c in state["calls"]] == ["1003"]
    refused = client.post("/monitor", data={"reference": "1002", "mode": "listen"},
                          headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and feed.rung == []
    assert accounts.audit_rows(user="amina")[0].action == "monitor-refused"


def test_pages_are_right_to_left_in_arabic(web) -> None:
    client, _feed, _accounts = web
    login(client, "root")
    arabic = client.get("/?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in arabic and "لوحة المتابعة" in arabic
    assert '<html lang="en" dir="ltr">' in client.get("/live?lang=en").text
    assert client.get("/").headers["content-security-policy"].startswith("default-src 'self'")


# ------------------------------------------------------------------ reports and statistics


@pytest.fixture
async def reported(tmp_path: Path, store: ReportStore) -> Settings:
    """Two answered reports today: one child protection (Amina's), one general; in the
    store's engine (the SQLite file the settings name, or the server of database_url)."""
    from balagh.supervise.load import save_supervisors

    settings = Settings(data_dir=tmp_path, supervisors_file=tmp_path / "supervisors.yaml",
                        database_url=store.engine.url if store.engine is not None else None)
    save_supervisors(TABLE, settings.supervisors_file)
    if store.engine is None:  # the file the settings name, not the fixture's
        store = await ReportStore.open(settings.database)
    now = datetime.now(UTC).replace(microsecond=0)
    for reference, queue in (("7000001", "child-protection"), ("7000002", "general")):
        call_id = f"call-{reference}"
        store.calls.start_report(call_id=call_id, reference=reference, channel="PJSIP/x-1",
                                 caller="+97165559876", hotline="800700", started_at=now)
        store.calls.record_answer(call_id=call_id, question="danger", value="yes", key="1",
                                  attempt=1, at=now)
        store.calls.record_decision(call_id=call_id, rule=f"{queue}-rule", queue=queue, priority=10,
                                    at=now, danger=True)
        store.calls.set_status(call_id=call_id, status=ReportStatus.ROUTED, at=now)
        store.calls.queue_joined(call_id=call_id, queue=queue, at=now)
        store.calls.queue_answered(call_id=call_id, queue=queue, agent="Agent", wait_seconds=4,
                                   at=now + timedelta(seconds=4))
        store.calls.queue_completed(call_id=call_id, talk_seconds=30,
                                    at=now + timedelta(seconds=34))
    await store.writer.flush()
    if store.engine is None:
        await store.close()
    return settings


@pytest.mark.both_engines
def test_reports_timeline_csv_and_stats_are_filtered_by_role(reported: Settings) -> None:
    accounts = Accounts(reported.console_database)
    accounts.add("amina", PASSWORD, "supervisor", "Amina")
    accounts.add("root", PASSWORD, "admin", None)
    client = TestClient(create_app(reported, accounts=accounts, feed=StillFeed(reported)),
                        base_url="https://testserver")
    login(client, "amina")
    listing = client.get("/reports").text
    assert "7000001" in listing and "7000002" not in listing and "+97165559876" not in listing
    one = client.get("/reports/7000001")
    assert one.status_code == 200 and 'id="timeline"' in one.text and "agent_answer" in one.text
    # Never asked the consent question: the page says it is not safe to contact them.
    facts = one.text[one.text.find('id="facts"'):one.text.find("</table>")]
    assert f"<th>{CONSOLE['consent']['ar']}</th>" in facts
    # ... and no unit has said anything of it yet (the follow-up's column, last)
    assert facts.endswith(f"<td>{NAMES['no']['ar']}</td><td>-</td></tr>\n</tbody>")
    assert client.get("/reports/7000002").status_code == 404  # another queue's: not shown
    assert client.get("/reports", params={"ref": "7000001"},
                      follow_redirects=False).headers["location"] == "/reports/7000001"
    exported = client.get("/reports.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "7000001" in exported.text and "7000002" not in exported.text
    assert "+9716****9876" in exported.text
    figures = client.get("/stats").text
    shown = figures.split('id="stats"')[1]
    assert "حماية الطفل" in shown and "general" not in shown and "الخط العام" not in shown
    client.cookies.clear()
    login(client, "root")
    assert "7000002" in client.get("/reports", params={"queue": "general"}).text
    assert "<svg" in client.get("/stats", params={"by": "queue"}).text
    actions = {row.action for row in accounts.audit_rows(limit=50)}
    assert {"reports-searched", "report-viewed", "reports-exported", "stats-viewed"} <= actions
