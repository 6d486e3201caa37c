"""Texts under retention (redact empties number and words and stops a pending one; purge
deletes them with their report) and in the statistics (sent, delivered, failed, withheld)."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balagh.pbx.kannel import decode_fakesmsc
from balagh.readmodel.contact_counts import text_counts
from balagh.readmodel.period import parse_month
from balagh.store import ReportStore, maintenance

NUMBER = "+971501234567"
WORDS = "تم تسجيل طلبك"
OLD = "2024-01-05T10:00:00.000Z"


def seed_texts(path: Path) -> None:
    """Three reports of January 2024, each with a text: sent, pending, delivered; one
    withheld and one failed beside them."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for n, status in enumerate(("sent", "pending", "delivered", "withheld", "failed")):
            reference = f"R{n}"
            db.execute("INSERT INTO reports (call_id, reference, channel, caller, status,"
                       " started_at, updated_at) VALUES (?, ?, 'PJSIP/x', ?, 'ended', ?, ?)",
                       (f"c{n}", reference, NUMBER, OLD, OLD))
            sent = status in ("sent", "delivered", "failed")
            db.execute("INSERT INTO sms_outbox (key, reference, event, token, destination,"
                       " text, created_at, next_attempt_at, sent_at, status)"
                       " VALUES (?, ?, 'registered', ?, ?, ?, ?, ?, ?, ?)",
                       (f"{reference}:registered", reference, f"token{n}",
                        NUMBER if sent else None, WORDS if sent else None, OLD, OLD,
                        OLD if sent else None, status))


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    path = tmp_path / "balagh.sqlite3"
    await (await ReportStore.open(path)).close()
    seed_texts(path)
    return path


def rows(path: Path) -> list[tuple[str, str | None, str | None, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT reference, destination, text, status FROM sms_outbox"
                          " ORDER BY reference").fetchall()


def test_redact_forgets_number_and_words_and_stops_a_pending_text(database: Path) -> None:
    maintenance.redact(database, datetime.now(UTC))
    assert rows(database) == [("R0", None, None, "sent"), ("R1", None, None, "withheld"),
                              ("R2", None, None, "delivered"), ("R3", None, None, "withheld"),
                              ("R4", None, None, "failed")]


def test_purge_deletes_texts_with_their_report(database: Path) -> None:
    run = maintenance.purge(database, datetime.now(UTC))
    assert rows(database) == []
    assert run.detail["sms_outbox"] == 5


def test_statistics_count_texts_per_period(database: Path) -> None:
    assert text_counts(database, parse_month("2024-01")) == {
        "sent": 3, "delivered": 1, "failed": 1, "withheld": 1}
    assert text_counts(database, parse_month("2024-02")) == {
        "sent": 0, "delivered": 0, "failed": 0, "withheld": 0}


def test_fakesmsc_lines_decode() -> None:
    ucs2 = ("2026-12-07 12:57:46 [12352] [0] DEBUG: Got message 1: <800700 +971501234567 "
            "ucs-2 %06*%06E%00+%001%002>")
    assert decode_fakesmsc(ucs2) == ("+971501234567", "تم 12")
    assert decode_fakesmsc("x DEBUG: Got message 2: <1 2 text hello there>") == (
        "2", "hello there")
    assert decode_fakesmsc("INFO: fakesmsc starting") is None


def test_balagh_stats_prints_the_texts(database: Path) -> None:
    from balagh.readmodel.statistics import compute
    from balagh.stats import render

    stats = compute(database, parse_month("2024-01"), "queue", exact=True)
    assert "texts to callers: sent 3, delivered 1, failed 1, withheld 1" in render.table(stats)
    assert '"texts": {\n    "sent": 3,\n    "delivered": 1,\n    "failed": 1,\n' \
           '    "withheld": 1\n  }' in render.as_json(stats)


def test_the_report_pack_shows_the_texts(database: Path) -> None:
    from balagh.readmodel.period import choose
    from balagh.stats import pack

    january = pack.collect(database, choose(month="2024-01", zone=UTC))
    english, arabic = pack.render(january, "en"), pack.render(january, "ar")
    assert "<h2>Reaching callers back</h2>" in english
    for words, count in (("Texts sent", 3), ("Texts delivered", 1), ("Texts failed", 1),
                         ("Texts withheld (no consent)", 1)):
        assert f"<tr><th>{words}</th><td class=\"num\"><bdi>{count}</bdi></td></tr>" in english
    assert "التواصل مع المتصلين لاحقًا" in arabic
    # a month without a text or a consent answer has no such section
    assert "Reaching callers back" not in pack.render(
        pack.collect(database, choose(month="2024-02", zone=UTC)), "en")
