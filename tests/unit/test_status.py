"""Report statuses: a domain word whose stored text must never change."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from balagh.readmodel.reader import reader_of
from balagh.status import ENDED_STATUSES, ROUTED_STATUSES, ReportStatus
from balagh.store import Report, ReportStore

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_stored_texts_are_unchanged() -> None:
    # Reports already in databases (and the e2e tests) read these exact words.
    assert {status.name: str(status) for status in ReportStatus} == {
        "IN_IVR": "in_ivr",
        "ROUTED": "routed",
        "HUNG_UP_IN_IVR": "hung_up_in_ivr",
        "FALLBACK": "fallback",
    }


def test_which_status_stamps_which_time() -> None:
    assert ROUTED_STATUSES == {ReportStatus.ROUTED, ReportStatus.FALLBACK}
    assert ENDED_STATUSES == {ReportStatus.HUNG_UP_IN_IVR}
    assert [s for s in ReportStatus if s.is_routed] == [ReportStatus.ROUTED, ReportStatus.FALLBACK]
    assert [s for s in ReportStatus if s.is_ended] == [ReportStatus.HUNG_UP_IN_IVR]


@pytest.mark.both_engines
async def test_status_reads_back_as_the_enum(store: ReportStore) -> None:
    store.calls.start_report(call_id="c", reference="1234566", channel="x", caller=None,
                             hotline=None,
                             started_at=T0)
    await store.writer.flush()
    report = await store.queries.get_report("c")
    assert report is not None and report.status is ReportStatus.IN_IVR


async def test_unknown_status_text_is_read_back_as_it_is(store: ReportStore) -> None:
    store.calls.start_report(call_id="c", reference="1234566", channel="x", caller=None,
                             hotline=None,
                             started_at=T0)
    await store.writer.flush()
    with sqlite3.connect(store.path) as conn:  # e.g. written by a newer Balagh
        conn.execute("UPDATE reports SET status = 'on_hold'")
    report = await store.queries.get_report("c")
    assert report is not None and report.status == "on_hold"
    assert [r.status for r in await reader_of(store).list_reports()] == ["on_hold"]


@pytest.mark.both_engines
async def test_reports_are_read_only_values(store: ReportStore) -> None:
    store.calls.start_report(call_id="c", reference="1234566", channel="x", caller=None,
                             hotline=None,
                             started_at=T0)
    store.calls.record_answer(call_id="c", question="age", value="child", key="1", attempt=1, at=T0)
    await store.writer.flush()
    report = await store.queries.get_report("c")
    assert isinstance(report, Report)
    with pytest.raises(AttributeError):
        report.status = ReportStatus.ROUTED  # type: ignore[misc]
    assert report.answer_log[0].question == "age"
    listed = (await reader_of(store).list_reports())[0]
    assert listed.answers == {"age": "child"} and listed.answer_log == ()
