"""How a routing queue NAME is called in Asterisk: app_queue's queue balagh-NAME.

The prefix keeps Balagh's queues apart on a shared PBX, and `general` alone is
queues.conf's reserved settings section. The dialplan (balagh-queue context) and
config/asterisk/queues.conf follow the same rule.
"""

from __future__ import annotations

ASTERISK_QUEUE_PREFIX = "balagh-"


def asterisk_queue(name: str) -> str:
    return f"{ASTERISK_QUEUE_PREFIX}{name}"


def routing_queue(asterisk_name: str) -> str | None:
    """'balagh-general' -> 'general'; a queue that is not Balagh's -> None."""
    if asterisk_name.startswith(ASTERISK_QUEUE_PREFIX):
        return asterisk_name.removeprefix(ASTERISK_QUEUE_PREFIX) or None
    return None
