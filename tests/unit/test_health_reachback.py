"""`balagh health`'s lines for reaching callers back: Kannel answering (a real aiohttp
server standing in for its sendsms, or a closed port), the texts and calls counted from
rows the store itself wrote (both engines), a line only for a part that is on, and a
reachback.yaml that does not load as one warning naming where."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from balagh.cli import main
from balagh.config import Settings
from balagh.health.probes import NAMES, run_probes
from balagh.health.reachback import (
    FILE_LINE,
    PARTS,
    calls_check,
    kannel_answer,
    reachback_probes,
    shown_url,
    texts_check,
)
from balagh.health.report import Status, as_json
from balagh.reachback.sms_config import SmsConfig
from balagh.readmodel.reachback_counts import call_counts, text_counts
from balagh.store import ReportStore
from balagh.store.callbacks import CallbackRows
from balagh.store.opening import ReportDatabase
from balagh.store.timestamps import iso

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "reachback.yaml"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PASSWORD = "kannel-pw-7f3a"
SINCE = iso(NOW - timedelta(hours=24))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeKannel:
    """Kannel's sendsms stand-in: answers every request with `status`, and keeps them."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.queries: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        return web.Response(status=self.status, text="Authorization failed for sendsms")


@pytest.fixture
async def kannel(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeKannel, str]]:
    fake = FakeKannel(getattr(request, "param", 202))
    app = web.Application()
    app.router.add_get("/cgi-bin/sendsms", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield fake, f"http://127.0.0.1:{port}/cgi-bin/sendsms"
    await runner.cleanup()


def sms(url: str) -> SmsConfig:
    return SmsConfig(enabled=True, kannel_url=url, sender="800700", line="800700",
                     username="balagh", password=PASSWORD)


def database_of(store: ReportStore) -> ReportDatabase:
    return store.engine if store.engine is not None else store.path


async def seed_report(store: ReportStore, n: int) -> str:
    reference = str(1000 + n)
    store.writer.submit("seed", lambda: [(
        "INSERT INTO reports (call_id, reference, channel, caller, language, status,"
        " queue, priority, started_at, updated_at)"
        " VALUES (?, ?, 'PJSIP/x', '+971500000000', 'en', 'abandoned', 'child', 10, ?, ?)",
        (f"c{n}", reference, iso(NOW), iso(NOW)))])
    await store.writer.flush()
    return reference


# ------------------------------------------------------------------ Kannel


@pytest.mark.parametrize("kannel", [202, 403], indirect=True)
async def test_kannel_answering_even_a_refusal_is_reachable(
        kannel: tuple[FakeKannel, str], tmp_path: Path) -> None:
    fake, url = kannel
    check = await texts_check(tmp_path / "none.sqlite3", sms(url), NOW)
    assert f"Kannel at {url} answers (HTTP {fake.status})" in check.summary
    assert check.data["kannel_status"] == fake.status
    assert fake.queries == [{}]  # no credentials, no number, no text: nothing is sent


async def test_kannel_down_is_a_warning(tmp_path: Path) -> None:
    store = await ReportStore.open(tmp_path / "balagh.sqlite3")
    await store.close()
    url = f"http://127.0.0.1:{closed_port()}/cgi-bin/sendsms"
    check = await texts_check(tmp_path / "balagh.sqlite3", sms(url), NOW)
    assert check.status is Status.DEGRADED
    assert check.summary.startswith(f"Kannel at {url} cannot be reached")
    assert check.data["kannel_status"] is None


async def test_the_password_is_never_printed(kannel: tuple[FakeKannel, str],
                                             tmp_path: Path) -> None:
    _, url = kannel
    with_userinfo = url.replace("//", f"//balagh:{PASSWORD}@") + f"?password={PASSWORD}"
    check = await texts_check(tmp_path / "none.sqlite3", sms(with_userinfo), NOW)
    assert PASSWORD not in as_json([check]) and PASSWORD not in check.summary
    assert check.data["kannel_url"] == url
    assert shown_url("http://u:p@[::1]:13013/x?password=p") == "http://[::1]:13013/x"


# ------------------------------------------------------------------ the texts


@pytest.mark.both_engines
async def test_texts_waiting_retrying_and_failed_are_counted(store: ReportStore) -> None:
    texts = store.sms
    for n, created in enumerate([NOW - timedelta(minutes=15), NOW - timedelta(minutes=1),
                                 NOW - timedelta(hours=1), NOW - timedelta(days=3),
                                 NOW - timedelta(hours=2)]):
        reference = await seed_report(store, n)
        texts.queue_text(key=f"{reference}:registered", reference=reference,
                         event="registered", language="en", token=f"t{n}", at=created)
    await store.writer.flush()
    retry = NOW + timedelta(minutes=1)
    await texts.attempt_failed(1, NOW, "kannel away", retry, give_up=False)  # the oldest
    await texts.attempt_failed(3, NOW, "kannel away", NOW, give_up=True)     # failed now
    await texts.attempt_failed(4, NOW, "kannel away", NOW - timedelta(days=2),
                               give_up=True)                                  # 2 days ago
    await texts.sending(5, "+971500000000", "Your request 1004 is registered.")
    await texts.sent(5, NOW - timedelta(hours=2))
    assert await texts.delivery_report("t4", 16, "failed", NOW - timedelta(hours=1))

    counts = text_counts(database_of(store), SINCE)
    assert (counts.pending, counts.retrying, counts.failed) == (2, 1, 2)
    assert counts.oldest_pending == iso(NOW - timedelta(minutes=15))


async def test_a_text_waiting_over_ten_minutes_warns_and_fresh_ones_do_not(
        kannel: tuple[FakeKannel, str], tmp_path: Path) -> None:
    _, url = kannel
    store = await ReportStore.open(tmp_path / "balagh.sqlite3")
    reference = await seed_report(store, 1)
    store.sms.queue_text(key="k", reference=reference, event="registered", language="en",
                         token="t", at=NOW - timedelta(minutes=9))
    await store.close()

    fresh = await texts_check(tmp_path / "balagh.sqlite3", sms(url), NOW)
    assert fresh.status is Status.OK, fresh.summary
    assert "1 waiting, the oldest for 9 min; 0 failed in the last 24 h" in fresh.summary
    stale = await texts_check(tmp_path / "balagh.sqlite3", sms(url), NOW + timedelta(minutes=2))
    assert stale.status is Status.DEGRADED
    assert "the oldest for 11 min (over 10 min)" in stale.summary
    assert stale.data["oldest_pending_seconds"] == 11 * 60


async def test_a_failed_text_warns(kannel: tuple[FakeKannel, str], tmp_path: Path) -> None:
    _, url = kannel
    store = await ReportStore.open(tmp_path / "balagh.sqlite3")
    reference = await seed_report(store, 1)
    store.sms.queue_text(key="k", reference=reference, event="registered", language="en",
                         token="t", at=NOW)
    await store.writer.flush()
    await store.sms.attempt_failed(1, NOW, "refused", NOW, give_up=True)
    await store.close()
    check = await texts_check(tmp_path / "balagh.sqlite3", sms(url), NOW)
    assert check.status is Status.DEGRADED
    assert check.summary.endswith("0 waiting; 1 failed in the last 24 h")


async def test_no_database_is_said_on_the_line(kannel: tuple[FakeKannel, str],
                                               tmp_path: Path) -> None:
    _, url = kannel
    check = await texts_check(tmp_path / "none.sqlite3", sms(url), NOW)
    assert check.status is Status.DEGRADED
    assert f"texts not counted: no report database at {tmp_path / 'none.sqlite3'}" \
        in check.summary
    assert not (tmp_path / "none.sqlite3").exists()  # read-only: never created


# ------------------------------------------------------------------ the calls


async def ended(rows: CallbackRows, reference: str, outcome: str | None,
                at: datetime) -> None:
    """A call scheduled, and (outcome) its one attempt ended so, with none left."""
    rows.schedule(reference=reference, queue="child", at=at, due=at)
    await rows.flush()
    row = await rows.of_reference(reference)
    assert row is not None
    if outcome is None:
        return
    claimed = await rows.claim(row, at)
    assert claimed is not None
    await rows.finished(row.id, outcome, at, again_at=None)


async def seed_calls(store: ReportStore, rows: CallbackRows, first: int) -> None:
    await ended(rows, await seed_report(store, first), None, NOW)               # open
    await ended(rows, await seed_report(store, first + 1), "no-answer", NOW)     # failed
    await ended(rows, await seed_report(store, first + 2), "failed", NOW - timedelta(hours=3))
    await ended(rows, await seed_report(store, first + 3), "failed", NOW - timedelta(days=2))
    await ended(rows, await seed_report(store, first + 4), "answered", NOW)


@pytest.mark.both_engines
async def test_callbacks_failed_warn_survey_calls_failed_do_not(store: ReportStore) -> None:
    await seed_calls(store, store.callbacks, 10)
    await seed_calls(store, store.survey_calls, 20)
    database = database_of(store)
    for table in ("callbacks", "survey_calls"):
        counts = call_counts(database, table, SINCE)
        assert (counts.open, counts.failed) == (1, 2)

    callbacks = calls_check(database, "callbacks", NOW)
    assert callbacks.status is Status.DEGRADED
    assert callbacks.summary.startswith("1 open, 2 failed in the last 24 h")
    assert "callers in danger not reached back" in callbacks.summary
    survey = calls_check(database, "survey", NOW)
    assert survey.status is Status.OK
    assert survey.data == {"open": 1, "failed_24h": 2}
    quiet = calls_check(database, "callbacks", NOW + timedelta(days=2))
    assert (quiet.status, quiet.summary) == (Status.OK, "1 open, 0 failed in the last 24 h")


def test_a_table_name_is_never_taken_from_outside(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a table of calls"):
        call_counts(tmp_path / "x.sqlite3", "reports; DROP TABLE reports", SINCE)


# ------------------------------------------------------------------ which lines


def settings_with(tmp_path: Path, reachback: str | None) -> Settings:
    file = SHIPPED
    if reachback is not None:
        file = tmp_path / "reachback.yaml"
        file.write_text(reachback, encoding="utf-8")
    return Settings(data_dir=tmp_path, pbx_dir=tmp_path / "no-sandbox", reachback_file=file)


def turned_on(url: str) -> str:
    text = SHIPPED.read_text(encoding="utf-8")
    text = text.replace("kannel_url: http://127.0.0.1:13013/cgi-bin/sendsms",
                        f"kannel_url: {url}")
    return text.replace("enabled: false", "enabled: true")


async def test_the_shipped_default_adds_no_line(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, None)
    assert await reachback_probes(settings) == {}
    checks = await run_probes(settings, only=["config", *PARTS])
    assert [check.name for check in checks] == ["config"]


async def test_each_part_on_has_its_line_in_order(kannel: tuple[FakeKannel, str],
                                                  tmp_path: Path) -> None:
    _, url = kannel
    await (await ReportStore.open(tmp_path / "balagh.sqlite3")).close()
    settings = settings_with(tmp_path, turned_on(url))
    checks = await run_probes(settings, only=NAMES[NAMES.index("texts"):])
    assert [(c.name, c.status) for c in checks] == [
        ("texts", Status.OK), ("callbacks", Status.OK), ("survey", Status.OK)]
    only_survey = await run_probes(settings, only=["survey"])
    assert [c.name for c in only_survey] == ["survey"]


async def test_a_bad_file_is_one_warning_naming_file_line_and_key(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "sms:\n  enabled: maybe\n")
    checks = await run_probes(settings, only=PARTS)
    assert [(c.name, c.status) for c in checks] == [(FILE_LINE, Status.DEGRADED)]
    assert checks[0].summary == (f"{tmp_path / 'reachback.yaml'}:2: sms.enabled: must be "
                                 "true or false")


def test_the_command_warns_with_exit_1_when_kannel_is_away(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "reachback.yaml"
    file.write_text(turned_on(f"http://127.0.0.1:{closed_port()}/cgi-bin/sendsms"),
                    encoding="utf-8")
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BALAGH_REACHBACK_FILE", str(file))
    monkeypatch.setenv("BALAGH_KANNEL_PASSWORD", PASSWORD)
    assert main(["health", "--only", "texts", "--json"]) == 1
    out = capsys.readouterr().out
    assert PASSWORD not in out
    found = json.loads(out)
    assert found["exit_code"] == 1 and list(found["checks"]) == ["texts"]
    assert found["checks"]["texts"]["status"] == "degraded"


async def test_a_kannel_that_never_answers_is_a_line_not_a_hang() -> None:
    with socket.socket() as silent:  # listening, never accepting: connects, no answer
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/cgi-bin/sendsms"
        status, text = await kannel_answer(url, timeout=0.2)
    assert (status, text) == (None, f"Kannel at {url}: no answer within 0.2 s")
