"""The document a unit receives for one event of one report (schema balagh.report-event).

Pure: no I/O but reading the schema file on demand. The JSON Schema of version 1 is
report-event.v1.schema.json beside this module (shipped in the package); a change that
would break a receiver is a new version with its own schema file, never an edit of v1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = "balagh.report-event"
SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name(f"report-event.v{SCHEMA_VERSION}.schema.json")

# The events of a report, in the order they can happen (abandoned and answered exclude
# each other; ended follows either).
EVENTS = ("routed", "answered", "abandoned", "ended")

DANGER_ALERT = "caller in danger hung up before anyone answered"

# What sends a delivery ahead of its endpoint's others, most urgent first, as JSON paths
# into the document (the store orders by them): the danger alert, then any event of a
# report whose caller said they are in danger. Neither absent, null nor false counts.
URGENT_PATHS = ("$.alert", "$.report.danger")

# The document's own fields: an event's details may not overwrite them.
_ENVELOPE = frozenset({"schema", "version", "event", "id", "at", "report", "alert"})


def idempotency_key(reference: object, event: str) -> str:
    """REFERENCE:EVENT: an event happens once per report, so this names it for good."""
    return f"{reference}:{event}"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, as the store writes times; naive is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def report_document(event: str, report: Mapping[str, object], *, at: datetime,
                    details: Mapping[str, object] | None = None) -> dict[str, object]:
    """The document for `event` of `report` (the handover summary's fields, with at least
    `reference`), with the event's `details` (e.g. agent and wait_seconds when answered).

    Raises ValueError for an unknown event, a report without a reference or details that
    would overwrite the document's own fields."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r} (known: {', '.join(EVENTS)})")
    reference = report.get("reference")
    if not isinstance(reference, str) or not reference:
        raise ValueError(f"the report has no reference: {reference!r}")
    extra = dict(details or {})
    clash = sorted(_ENVELOPE & extra.keys())
    if clash:
        raise ValueError(f"details may not set the document's own fields: {', '.join(clash)}")
    document: dict[str, object] = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "event": event,
        "id": idempotency_key(reference, event),
        "at": iso_utc(at),
        "report": dict(report),
    }
    document.update(extra)
    if event == "abandoned" and report.get("danger") is True:
        document["alert"] = DANGER_ALERT
    return document


def is_urgent(document: Mapping[str, object]) -> bool:
    """Whether the document goes ahead of its endpoint's others (see URGENT_PATHS)."""
    report = document.get("report")
    danger = report.get("danger") if isinstance(report, Mapping) else None
    return document.get("alert") not in (None, False) or danger not in (None, False)


def serialise(document: Mapping[str, object]) -> str:
    """The document as the text that is stored, signed and sent (UTF-8 when encoded).

    Values JSON does not know (a datetime, a status word) become their text."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_text)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return iso_utc(value)
    return str(value)


def schema() -> dict[str, Any]:
    """The JSON Schema of this version's documents."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded
