"""Reports in SQLite: schema and migrations, the single writer, the call path's writes,
typed queries and retention, composed by ReportStore."""

from .queries import Answer, Delivery, MonitorEvent, Report, TableLoad
from .reports import ReportStore

__all__ = ["Answer", "Delivery", "MonitorEvent", "Report", "ReportStore", "TableLoad"]
