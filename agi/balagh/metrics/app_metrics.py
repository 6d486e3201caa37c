"""`balagh run`'s metrics, put together: the registry, what feeds it, its listener.

The tasks poll and listen on the process's one AMI session and read the store; each is
cancelled with the app. Nothing here is on a call's path: a call never waits on a metric.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from balagh.ami.client import AmiSession
from balagh.ari.app import AriApplication
from balagh.ari.router import StasisRouter
from balagh.metrics.collector import AppCollector, AppState
from balagh.metrics.queue_events import QueueCounters
from balagh.metrics.queue_status import QueueStatusPoller
from balagh.metrics.server import MetricsServer
from balagh.metrics.store_sample import StoreSampler
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION
from balagh.store.queries import Queries


class ReportFacts:
    """What the metrics read of a caller's report: in danger, and when the call began."""

    def __init__(self, queries: Queries) -> None:
        self.queries = queries

    async def in_danger(self, call_id: str) -> bool | None:
        report = await self.queries.get_report(call_id)
        if report is None:
            return None  # not written yet, or a call that is not Balagh's
        return report.answers.get(DANGER_QUESTION) == DANGER_ANSWER

    async def started_at(self, call_id: str) -> datetime | None:
        report = await self.queries.get_report(call_id)
        return None if report is None else datetime.fromisoformat(report.started_at)


class AppMetrics:
    def __init__(self, ami: AmiSession, queries: Queries, spool_file: Path, *,
                 queues: Callable[[], Collection[str]], callers_in_menu: Callable[[], int],
                 max_loop_stall: Callable[[], float],
                 heartbeat_age: Callable[[], float | None]) -> None:
        facts = ReportFacts(queries)
        self.ami = ami
        self.registry = CollectorRegistry()
        self.queue_status = QueueStatusPoller(ami, facts.in_danger)
        self.store = StoreSampler(queries, spool_file)
        self.counters = QueueCounters(self.registry, queues, facts.started_at)
        self.registry.register(AppCollector(AppState(
            queues=queues, callers_in_menu=callers_in_menu, queue_status=self.queue_status,
            ami_up=ami.connected.is_set,
            store=self.store, max_loop_stall=max_loop_stall, heartbeat_age=heartbeat_age)))

    async def serve(self, listen: str) -> None:
        """Listen and feed the figures until cancelled; a port it cannot have is an
        OSError for the caller to log (the hotline goes on without metrics)."""
        server = MetricsServer(listen, self.registry)
        try:
            await asyncio.gather(self.queue_status.run(), self.store.run(),
                                 self.counters.run(self.ami))
        finally:
            await asyncio.to_thread(server.stop)


def menu_count(application: AriApplication | None) -> Callable[[], int]:
    """Callers in the app's menu: its calls that no feature's entry claims (telling and
    supervision snoops, supervisors' own calls are not callers). Read from the scrape's
    thread: the calls are copied in one step before they are looked at."""
    def count() -> int:
        if application is None:
            return 0
        router = application.handler
        calls = list(application.calls.values())
        if not isinstance(router, StasisRouter):
            return len(calls)
        entries = router.entries
        return sum(1 for call in calls
                   if not any(entry.matches(call.info.args) for entry in entries))

    return count
