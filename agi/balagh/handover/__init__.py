"""Handing reports over to the unit: what the agent hears before the caller, and each report
event as a signed JSON document POSTed to the unit's systems through an outbox.

- `summary`   (summary.py): the handover summary, the agent's whisper, BALAGH_SUMMARY.
- `callers`   (callers.py): the caller's keyed hash, for repeat callers.
- `load`      (load.py): config/handover.yaml, endpoints per queue, secrets by name.
- `document`  (document.py): the document (schema balagh.report-event, version 1).
- `signature` (signature.py): the HMAC-SHA256 signature header.
- `outbox`    (outbox.py): publish (call path: enqueue only) and the delivery worker.
"""
