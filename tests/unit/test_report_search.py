"""Finding reports: each filter of `balagh reports`, alone and together, over real SQLite."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from balagh.readmodel.reader import reader_of
from balagh.readmodel.search import ReportSearch
from balagh.status import ReportStatus
from balagh.store import ReportStore

pytestmark = pytest.mark.both_engines  # on SQLite and on PostgreSQL (conftest.py)

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
EVERY = ReportSearch(limit=None)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def add(store: ReportStore, ref: str, started: datetime, *, caller_hash: str | None = None,
        queue: str | None = None, joined: str | None = None, danger: bool = False,
        emirate: str | None = None, language: str | None = None,
        status: ReportStatus = ReportStatus.ROUTED, outcome: str | None = None) -> None:
    call_id = f"c{ref}"
    store.calls.start_report(call_id=call_id, reference=ref, channel="PJSIP/x", caller=None,
                             hotline="800700", started_at=started, caller_hash=caller_hash)
    store.calls.record_answer(call_id=call_id, question="danger", value="yes" if danger else "no",
                              key="1" if danger else "2", attempt=1, at=started)
    if language:
        store.calls.set_language(call_id=call_id, language=language, at=started)
    if emirate:
        store.calls.set_location(call_id=call_id, emirate=emirate, source="answer", at=started)
    if queue:
        store.calls.record_decision(call_id=call_id, rule="r", queue=queue, priority=0, at=started)
    store.calls.set_status(call_id=call_id, status=status, at=started)
    if joined:
        store.calls.queue_joined(call_id=call_id, queue=joined, at=started)
    if outcome == "answered":
        store.calls.queue_answered(call_id=call_id, queue=joined or queue or "general", agent="A",
                                   wait_seconds=3, at=started)
    elif outcome == "abandoned":
        store.calls.queue_abandoned(call_id=call_id, queue=joined or queue or "general",
                                    wait_seconds=3, at=started)


@pytest.fixture
async def reports(store: ReportStore) -> ReportStore:
    add(store, "101", day(0), caller_hash="h1", queue="child-protection", danger=True,
        emirate="sharjah", language="ar", outcome="answered")
    add(store, "102", day(1), caller_hash="h2", queue="women-protection", joined="general",
        emirate="dubai", language="en", outcome="abandoned")
    add(store, "103", day(2), caller_hash="h1", status=ReportStatus.HUNG_UP_IN_IVR,
        language="ar")
    add(store, "104", day(40), caller_hash="h1", queue="general", language="en")
    add(store, "105", day(41), queue="general", danger=True, emirate="dubai")
    await store.writer.flush()
    assert store.writer.write_errors == 0
    return store


async def refs(store: ReportStore, **filters) -> list[str]:
    return [r.reference for r in await reader_of(store).search_reports(replace(EVERY, **filters))]


async def test_no_filter_lists_everything_newest_first(reports):
    assert await refs(reports) == ["105", "104", "103", "102", "101"]
    assert await refs(reports, limit=2) == ["105", "104"]
    assert [r.reference for r in await reader_of(reports).list_reports(3)] == ["105", "104", "103"]


async def test_since_is_inclusive_and_until_exclusive(reports):
    assert await refs(reports, since=day(1), until=day(2)) == ["102"]
    assert await refs(reports, since=day(40)) == ["105", "104"]
    assert await refs(reports, until=day(0)) == []


async def test_queue_matches_the_routed_or_the_last_waited_in(reports):
    assert await refs(reports, queue="general") == ["105", "104", "102"]
    assert await refs(reports, queue="women-protection") == ["102"]


async def test_status_outcome_emirate_language(reports):
    assert await refs(reports, status="hung_up_in_ivr") == ["103"]
    assert await refs(reports, outcome="answered") == ["101"]
    assert await refs(reports, outcome="abandoned") == ["102"]
    assert await refs(reports, emirate="dubai") == ["105", "102"]
    assert await refs(reports, language="ar") == ["103", "101"]


async def test_danger_yes_and_no(reports):
    assert await refs(reports, danger=True) == ["105", "101"]
    assert await refs(reports, danger=False) == ["104", "103", "102"]


async def test_repeat_callers_within_the_days_before(reports):
    # h1 called on day 0, 2 and 40: day 2 is a repeat within 30 days, day 40 is not
    # (day 2 is 38 days before); within 40 days, both later calls are repeats.
    assert await refs(reports, repeat_days=30) == ["103"]
    assert await refs(reports, repeat_days=40) == ["104", "103"]
    assert await refs(reports, repeat_days=1) == []


async def test_filters_combine_and_answers_come_with_each_report(reports):
    found = await reader_of(reports).search_reports(replace(EVERY, language="ar", danger=True))
    assert [r.reference for r in found] == ["101"]
    assert found[0].answers == {"danger": "yes"}


def test_the_filters_are_parameters_and_described_for_the_audit():
    search = ReportSearch(since=T0, queue="x' OR 1=1 --", danger=False, repeat_days=7,
                          limit=5)
    sql, params = search.selection("reports.reference")
    assert "x' OR" not in sql and params[-1] == 5
    assert search.described() == {"since": "2026-11-01T08:00:00.000Z",
                                  "queue": "x' OR 1=1 --", "danger": False, "repeat_days": 7}


async def test_a_viewer_finds_only_the_reports_of_the_queues_they_may_see(reports):
    # 101 routed to child-protection; 102 routed to women-protection, waited in general;
    # 104 and 105 general; 103 never routed. None: every queue.
    reader = reader_of(reports)

    async def visible(queues, **filters):
        found = await reader.search_visible(replace(EVERY, **filters), queues)
        return [r.reference for r in found]

    assert await visible(None) == ["105", "104", "103", "102", "101"]
    assert await visible(frozenset({"child-protection"})) == ["101"]
    assert await visible(frozenset({"general", "child-protection"})) == [
        "105", "104", "102", "101"]
    assert await visible(frozenset({"general", "child-protection"}), limit=2) == [
        "105", "104"]
    assert await visible(frozenset({"child-protection"}), queue="general") == []
    assert await visible(frozenset()) == []
