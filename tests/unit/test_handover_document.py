"""The report document: its fields, idempotency key, danger alert, and its JSON Schema."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

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
from balagh.handover.signature import sign, verify

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


def test_sign_and_verify() -> None:
    body = b'{"event":"routed"}'
    header = sign(body, "s3cret")
    assert header.startswith("sha256=") and len(header) == 7 + 64
    # The HMAC-SHA256 of this body with this key, computed independently.
    assert header == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert verify(body, "s3cret", header)
    assert not verify(body + b" ", "s3cret", header)
    assert not verify(body, "other", header)
    assert not verify(body, "s3cret", None)
    assert not verify(body, "s3cret", header.removeprefix("sha256="))
    assert not verify(body, "s3cret", "sha256=zz")
    assert not verify(body, "s3cret", "sha256=" + "é" * 64)


def test_the_units_guide_checks_signatures_as_balagh_signs() -> None:
    from .shipped import REPO

    text = (REPO / "docs" / "units.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(code.splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    check = namespace["signed_by_balagh"]
    body = serialise(report_document("routed", REPORT, at=AT)).encode("utf-8")
    assert check(body, sign(body, "s3cret"), "s3cret")
    assert not check(body, sign(body, "s3cret"), "other")
    assert not check(body + b" ", sign(body, "s3cret"), "s3cret")
    assert not check(body, None, "s3cret")
