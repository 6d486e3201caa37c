"""Where a report stands: the call's status, as the IVR flow sets it and the store keeps it.

A domain word, not a storage detail: the flow decides it, the store writes its
text (`str(status)` is the value kept in the database), the CLI shows it.
"""

from __future__ import annotations

from enum import StrEnum


class ReportStatus(StrEnum):
    IN_IVR = "in_ivr"                  # the caller is still answering questions
    ROUTED = "routed"                  # handed to a queue by the decision
    HUNG_UP_IN_IVR = "hung_up_in_ivr"  # the caller left before reaching a queue
    FALLBACK = "fallback"              # an internal error sent the caller to the general line

    @property
    def is_routed(self) -> bool:
        """The caller went on to a queue (stamps `routed_at` the first time)."""
        return self in ROUTED_STATUSES

    @property
    def is_ended(self) -> bool:
        """The call ended in the IVR (stamps `ended_at` the first time)."""
        return self in ENDED_STATUSES


ROUTED_STATUSES = frozenset({ReportStatus.ROUTED, ReportStatus.FALLBACK})
ENDED_STATUSES = frozenset({ReportStatus.HUNG_UP_IN_IVR})

__all__ = ["ENDED_STATUSES", "ROUTED_STATUSES", "ReportStatus"]
