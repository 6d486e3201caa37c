"""The report document: its fields, idempotency key, danger alert, and its JSON Schema."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest

from balagh.handover.document import (
    DANGER_ALERT,
    EVENTS,
    SCHEMA_FILE,
    SCHEMA_VERSION,
    report_document,
    schema,
    serialise,
)
from balagh.handover.signature import REPLAY_WINDOW, Signed, sign, sign_body, verified, verify

from .handover_receiver import guide_receiver

AT = datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=UTC)
REPORT: dict[str, object] = {"reference": "3356375", "queue": "child-protection",
                             "danger": False, "language": "ar", "about": "child",
                             "location": "Dubai"}
DETAILS: dict[str, dict[str, object] | None] = {
    "routed": None,
    "answered": {"agent": "Layla", "wait_seconds": 42},
    "abandoned": {"wait_seconds": 17},
    "ended": {"talk_seconds": 300},
}


def validator() -> jsonschema.protocols.Validator:
    document_schema = schema()
    jsonschema.Draft202012Validator.check_schema(document_schema)
    return jsonschema.Draft202012Validator(
        document_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_document() -> None:
    document = report_document("answered", REPORT, at=AT, details=DETAILS["answered"])
    assert document == {
        "schema": "balagh.report-event", "version": 1, "event": "answered",
        "id": "3356375:answered", "at": "2026-03-01T09:30:05.123Z",
        "report": REPORT, "agent": "Layla", "wait_seconds": 42,
    }
    assert document["report"] is not REPORT  # a copy: the caller may change theirs


def test_the_id_is_the_same_whenever_the_event_is_built() -> None:
    first = report_document("routed", REPORT, at=AT)
    again = report_document("routed", {**REPORT, "danger": True}, at=AT + timedelta(hours=1))
    assert first["id"] == again["id"] == "3356375:routed"


def test_at_is_utc_whatever_the_clock_zone() -> None:
    dubai = timezone(timedelta(hours=4))
    document = report_document("ended", REPORT, at=datetime(2026, 3, 1, 13, 30, tzinfo=dubai))
    assert document["at"] == "2026-03-01T09:30:00.000Z"


def test_abandoned_in_danger_carries_the_alert() -> None:
    danger = {**REPORT, "danger": True}
    document = report_document("abandoned", danger, at=AT, details={"wait_seconds": 9})
    assert document["alert"] == DANGER_ALERT == ("caller in danger hung up before anyone "
                                                 "answered")
    assert "alert" not in report_document("abandoned", REPORT, at=AT)
    assert "alert" not in report_document("ended", danger, at=AT)
    validator().validate(json.loads(serialise(document)))


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("danger", [False, True])
def test_every_document_validates_against_the_schema(event: str, danger: bool) -> None:
    report = {**REPORT, "danger": danger, "started_at": AT, "answers": {"age": "child"}}
    document = report_document(event, report, at=AT, details=DETAILS[event])
    validator().validate(json.loads(serialise(document)))


def test_the_schema_catches_a_broken_document() -> None:
    document = json.loads(serialise(report_document("routed", REPORT, at=AT)))
    check = validator()
    for broken in ({**document, "version": 2}, {**document, "event": "lost"},
                   {**document, "report": {"queue": "x"}}, {**document, "alert": "x"},
                   {**document, "at": "yesterday"}):
        assert not check.is_valid(broken), broken
    danger = json.loads(serialise(report_document(
        "abandoned", {**REPORT, "danger": True}, at=AT)))
    del danger["alert"]
    assert not check.is_valid(danger)


def test_the_schema_file_is_this_version() -> None:
    assert SCHEMA_FILE.name == f"report-event.v{SCHEMA_VERSION}.schema.json"
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema()["properties"]["version"] == {"const": SCHEMA_VERSION}


@pytest.mark.parametrize(("event", "report", "details", "message"), [
    ("opened", REPORT, None, "unknown event"),
    ("routed", {"queue": "x"}, None, "no reference"),
    ("routed", {"reference": ""}, None, "no reference"),
    ("answered", REPORT, {"event": "ended"}, "document's own fields: event"),
    ("abandoned", REPORT, {"alert": "x"}, "document's own fields: alert"),
])
def test_refused(event: str, report: dict[str, object], details: dict[str, object] | None,
                 message: str) -> None:
    with pytest.raises(ValueError, match=message):
        report_document(event, report, at=AT, details=details)


def test_serialised_once_as_utf8_text() -> None:
    body = serialise(report_document("routed", {**REPORT, "location": "دبي"}, at=AT))
    assert "دبي" in body and "\n" not in body
    assert json.loads(body)["report"]["location"] == "دبي"


NOW = 1_767_225_600  # the receiver's clock in these tests


def test_the_signature_covers_the_time_the_id_and_the_body() -> None:
    body = b'{"event":"routed"}'
    header = sign(body, "s3cret", delivery_id="3356375:routed", timestamp=NOW)
    # The HMAC-SHA256 of "<t>.<id>." and the body with this key, computed independently.
    mac = hmac.new(b"s3cret", f"{NOW}.3356375:routed.".encode() + body,
                   hashlib.sha256).hexdigest()
    assert header == f"t={NOW},id=3356375:routed,v1={mac}"
    assert verified(body, "s3cret", header, now=NOW) == Signed(NOW, "3356375:routed")
    assert verify(body, "s3cret", header, now=NOW + REPLAY_WINDOW)  # at the window's edges
    assert verify(body, "s3cret", header, now=NOW - REPLAY_WINDOW)
    assert not verify(body + b" ", "s3cret", header, now=NOW)
    assert not verify(body, "other", header, now=NOW)
    assert not verify(body, "s3cret", None, now=NOW)
    assert not verify(body, "s3cret", "sha256=" + mac, now=NOW)
    assert not verify(body, "s3cret", sign_body(body, "s3cret"), now=NOW)  # the old header


def test_a_replay_outside_the_window_or_under_another_id_fails() -> None:
    body = b'{"event":"abandoned"}'
    header = sign(body, "s3cret", delivery_id="3356375:abandoned", timestamp=NOW)
    assert not verify(body, "s3cret", header, now=NOW + REPLAY_WINDOW + 1)  # replayed late
    assert not verify(body, "s3cret", header, now=NOW - REPLAY_WINDOW - 1)  # from the future
    # The same signature under another id or another time: the HMAC no longer matches.
    assert not verify(body, "s3cret", header.replace("id=3356375:", "id=3356376:"), now=NOW)
    assert not verify(body, "s3cret", header.replace(f"t={NOW}", f"t={NOW + 60}"),
                      now=NOW + 60)
    for broken in (header + ",t=1", header.replace(f"t={NOW}", "t=-5"), "t=,id=,v1=",
                   header.replace("v1=", "v2="), header[:-1] + "é", "x" * 600, "garbage"):
        assert not verify(body, "s3cret", broken, now=NOW), broken
    with pytest.raises(ValueError):
        sign(body, "s3cret", delivery_id="a,v1=forged", timestamp=NOW)


def test_the_units_guide_receiver_checks_signature_time_and_id() -> None:
    take = guide_receiver()
    body = serialise(report_document("abandoned", {**REPORT, "danger": True}, at=AT,
                                     details={"wait_seconds": 5})).encode("utf-8")
    now = int(time.time())
    header = sign(body, "s3cret", delivery_id="3356375:abandoned", timestamp=now)
    taken: dict[str, bytes] = {}
    assert take(body, header, "s3cret", taken) == 200
    assert taken == {"3356375:abandoned": body}
    assert take(body, header, "s3cret", taken) == 200  # a replay in the window: not kept twice
    assert len(taken) == 1
    stale = sign(body, "s3cret", delivery_id="3356375:abandoned", timestamp=now - 301)
    assert take(body, stale, "s3cret", {}) == 401
    moved = header.replace("id=3356375:abandoned", "id=3356375:abandoned2")
    assert take(body, moved, "s3cret", {}) == 401
    assert take(body, header, "other", {}) == 401
    assert take(body + b" ", header, "s3cret", {}) == 401
    for broken in (None, "", "t=x,id=a,v1=b", "v1=" + "0" * 64, sign_body(body, "s3cret")):
        assert take(body, broken, "s3cret", {}) == 401
