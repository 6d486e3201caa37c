"""The unit's follow-up, pure: the body (each problem names its field), the transitions,
and the JSON Schema shipped to the units saying the same as the code."""

from __future__ import annotations

import json

import jsonschema
import pytest

from balagh.reachback.followup import (
    CLOSED,
    IN_PROGRESS,
    MAX_REASON,
    RECEIVED,
    RESOLVED,
    SCHEMA_FILE,
    STATUSES,
    BadBody,
    Update,
    parse_update,
    refusal,
)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_good_body_is_an_update() -> None:
    assert parse_update(body(status="resolved", reason=" the family was visited "))\
        == Update(RESOLVED, "the family was visited")
    assert parse_update(body(status="received")) == Update(RECEIVED, None)
    assert parse_update(body(status="in_progress", reason="")) == Update(IN_PROGRESS, None)
    assert parse_update("{\"status\": \"closed\", \"reason\": \"ليس من اختصاصنا\"}"
                        .encode()).reason == "ليس من اختصاصنا"


@pytest.mark.parametrize(("raw", "field"), [
    (b"", "body"),
    (b"\xff\xfe", "body"),
    (b"[1, 2]", "body"),
    (b"{\"status\": \"resolved\",", "body"),
    (body(), "status"),
    (body(status="done"), "status"),
    (body(status=["resolved"]), "status"),
    (body(status="resolved", reason=7), "reason"),
    (body(status="resolved", reason="x" * (MAX_REASON + 1)), "reason"),
    (body(status="resolved", reason="line\nbreak"), "reason"),
    (body(status="closed"), "reason"),
    (body(status="closed", reason="   "), "reason"),
    (body(status="resolved", caller="+971501234567"), "caller"),
])
def test_a_bad_body_names_its_field(raw: bytes, field: str) -> None:
    with pytest.raises(BadBody) as caught:
        parse_update(raw)
    assert caught.value.field == field


@pytest.mark.parametrize(("current", "status", "reason", "refused"), [
    (None, RECEIVED, None, False),
    (None, RESOLVED, None, False),          # a unit that only says the end
    (RECEIVED, IN_PROGRESS, None, False),
    (IN_PROGRESS, IN_PROGRESS, "visited", False),  # news, again
    (IN_PROGRESS, RESOLVED, None, False),
    (RECEIVED, RECEIVED, None, True),
    (IN_PROGRESS, RECEIVED, None, True),
    (RESOLVED, RESOLVED, "again", True),
    (CLOSED, CLOSED, "again", True),
    (RESOLVED, IN_PROGRESS, None, True),     # reopening needs a reason
    (RESOLVED, IN_PROGRESS, "the caller rang again", False),
    (RESOLVED, CLOSED, None, True),
    (CLOSED, RESOLVED, None, True),
    (CLOSED, RESOLVED, "found after all", False),
])
def test_transitions(current: str | None, status: str, reason: str | None,
                     refused: bool) -> None:
    assert (refusal(current, Update(status, reason)) is not None) is refused


def test_the_schema_says_what_the_code_does() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = [{"status": s} for s in STATUSES if s != CLOSED] + [
        {"status": CLOSED, "reason": "not ours"},
        {"status": RESOLVED, "reason": "x" * MAX_REASON}]
    bad = [{}, {"status": "done"}, {"status": CLOSED}, {"status": RESOLVED, "reason": 1},
           {"status": RESOLVED, "reason": "x" * (MAX_REASON + 1)},
           {"status": RESOLVED, "reason": "a\tb"}, {"status": RESOLVED, "extra": 1}]
    for value in good:
        assert validator.is_valid(value), value
        parse_update(json.dumps(value).encode())
    for value in bad:
        assert not validator.is_valid(value), value
        with pytest.raises(BadBody):
            parse_update(json.dumps(value).encode())
