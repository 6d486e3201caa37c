"""Reports in SQLite: schema and migrations, the single writer, queries."""

from .reports import (
    ENDED_STATUSES,
    FALLBACK,
    HUNG_UP_IN_IVR,
    IN_IVR,
    ROUTED,
    ROUTED_STATUSES,
    ReportStore,
)

__all__ = [
    "ENDED_STATUSES",
    "FALLBACK",
    "HUNG_UP_IN_IVR",
    "IN_IVR",
    "ROUTED",
    "ROUTED_STATUSES",
    "ReportStore",
]
