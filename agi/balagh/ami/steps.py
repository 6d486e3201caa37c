"""Steps of a call after the IVR that are not app_queue's own events: each overflow step
(the dialplan's BalaghOverflow user event) and transfers of the bridged call.

Pure apart from the call recorder's enqueue, like apply_queue_event: events of calls that are
not Balagh's match no report and leave nothing.
"""

from __future__ import annotations

from datetime import datetime

from balagh.store.calls import CallRecorder

OVERFLOW_EVENT = "BalaghOverflow"  # UserEvent(BalaghOverflow,From: ..,Reason: ..,To: ..)
TRANSFER_EVENTS = frozenset({"BlindTransfer", "AttendedTransfer"})


def is_step_event(event: dict[str, str]) -> bool:
    kind = event.get("Event")
    return kind in TRANSFER_EVENTS or (
        kind == "UserEvent" and event.get("UserEvent") == OVERFLOW_EVENT)


def apply_step_event(recorder: CallRecorder, event: dict[str, str], at: datetime) -> None:
    if not is_step_event(event):
        return
    if event.get("Event") == "UserEvent":
        _overflow(recorder, event, at)
    else:
        _transfer(recorder, event, at)


def _overflow(recorder: CallRecorder, event: dict[str, str], at: datetime) -> None:
    """`To` is the chain's step as the routing decision wrote it: kind:target[:wait]."""
    call_id = event.get("Uniqueid", "")
    to_kind, _, rest = event.get("To", "").partition(":")
    target = rest.split(":", 1)[0]
    if not call_id or not target:
        return
    recorder.overflowed(call_id=call_id, from_=event.get("From") or None, to=target,
                        to_kind=to_kind or "queue", reason=event.get("Reason") or None, at=at)


def _transfer(recorder: CallRecorder, event: dict[str, str], at: datetime) -> None:
    """Whichever channel the transfer names is the caller's gets the row: AMI's headers
    differ by transfer type and by who transferred whom."""
    call_ids = sorted({value for name, value in event.items()
                       if name.endswith("Uniqueid") and "Bridge" not in name and value})
    if event.get("Event") == "BlindTransfer":
        kind = "blind"
        exten, context = event.get("Extension"), event.get("Context")
        to = f"{exten}@{context}" if exten and context else exten
        by = event.get("TransfererChannel")
    else:
        kind = "attended"
        to = (event.get("TransferTargetChannel") or event.get("DestApp")
              or event.get("DestType"))
        by = event.get("OrigTransfererChannel")
    recorder.transferred(call_ids=call_ids, kind=kind, result=event.get("Result") or None,
                         to=to or None, by=by or None, at=at)


__all__ = ["OVERFLOW_EVENT", "TRANSFER_EVENTS", "apply_step_event", "is_step_event"]
