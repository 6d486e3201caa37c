"""Handing reports over to the units' own systems: each report event as a signed JSON
document, POSTed through an outbox in the report database.

- `load`      (load.py): config/handover.yaml, endpoints per queue, secrets by name.
- `document`  (document.py): the document (schema balagh.report-event, version 1).
- `signature` (signature.py): the HMAC-SHA256 signature header.
- `outbox`    (outbox.py): publish (call path: enqueue only) and the delivery worker.
"""
