"""The unit's follow-up of a report, pure: the statuses a unit may give, which step may follow
which, and the request body (followup-status.v1.schema.json beside this module says the
same to the units; a unit test keeps the two in step).

Statuses, fixed here (their words in texts.py's NAMES):
  received     the unit has the report
  in_progress  it is working on it (may be sent again, each time with news)
  resolved     done: what the caller needed happened (the SMS sender listens for this)
  closed       ended without that (not theirs, unreachable, refused...): a reason is required

Transitions: `received` only first; `resolved` and `closed` are final, so leaving one (to
reopen, in_progress) or moving between them needs a reason; the same final status twice
is refused, as is `received` twice.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CLOSED", "IN_PROGRESS", "MAX_BODY_BYTES", "MAX_REASON", "RECEIVED", "RESOLVED",
           "SCHEMA_FILE", "STATUSES", "BadBody", "Update", "parse_update", "refusal"]

RECEIVED, IN_PROGRESS, RESOLVED, CLOSED = "received", "in_progress", "resolved", "closed"
STATUSES = (RECEIVED, IN_PROGRESS, RESOLVED, CLOSED)
FINAL = frozenset({RESOLVED, CLOSED})
MAX_REASON = 280  # characters: a short reason, not a case file
MAX_BODY_BYTES = 2048  # a real body is under 400 bytes; larger is refused (413) unread
SCHEMA_FILE = Path(__file__).with_name("followup-status.v1.schema.json")
_KEYS = ("status", "reason")


class BadBody(ValueError):
    """The body is not a status update; `field` names what is wrong ("body" for all of it)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Update:
    status: str
    reason: str | None


def parse_update(body: bytes) -> Update:
    """The update in `body` (UTF-8 JSON), or BadBody naming the field."""
    try:
        value: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadBody("body", "must be a JSON object in UTF-8") from None
    if not isinstance(value, dict):
        raise BadBody("body", "must be a JSON object")
    for key in value:
        if key not in _KEYS:
            raise BadBody(str(key)[:40], f"unknown field (known: {', '.join(_KEYS)})")
    status = value.get("status")
    if status not in STATUSES:
        raise BadBody("status", f"must be one of {', '.join(STATUSES)}")
    reason = value.get("reason")
    if reason is not None:
        if not isinstance(reason, str):
            raise BadBody("reason", "must be a string")
        reason = reason.strip()
        if len(reason) > MAX_REASON:
            raise BadBody("reason", f"longer than {MAX_REASON} characters")
        if any(unicodedata.category(ch) == "Cc" for ch in reason):
            raise BadBody("reason", "must be one line without control characters")
    if status == CLOSED and not reason:
        raise BadBody("reason", "required when the status is closed")
    return Update(status=str(status), reason=reason or None)


def refusal(current: str | None, update: Update) -> str | None:
    """Why `update` may not follow the report's `current` status (None: it may)."""
    if current is None:
        return None
    if update.status == RECEIVED:
        return f"the report is already {current}: received comes first only"
    if current in FINAL and update.status == current:
        return f"the report is already {current}"
    if current in FINAL and not update.reason:
        return f"the report is {current}: a reason is required to change that"
    return None
