"""Keeping the board current and handing it to every open browser.

Event-driven where Asterisk tells: any queue, agent or channel event on the console's
own AMI session marks the board stale. The report store says nothing by itself, so its
`PRAGMA data_version` (which moves when another connection commits; on PostgreSQL the
server's WAL position, store/postgres.py) is read four times a second: a new answer shows
within a quarter of a second, at the cost of one tiny query.
A stale board is rebuilt whole (board.build) and pushed; a full rebuild also runs every
few seconds, so nothing is ever left behind by a lost event. After AMI or the database
comes back, the next rebuild is again complete: a reconnect is a resync.

With several Asterisk nodes (`nodes:` in balagh.yaml) the feed holds one AMI session per
node, reads them side by side on each rebuild (a dead node is shown down, the others
as usual) and rings a supervisor through the node whose channels hold the call. On a
PostgreSQL store (`database_url`) the live calls are read from the server; it has no
data_version, so there a new answer shows with the next AMI event or full rebuild.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite
import structlog

from balagh.ami.client import AmiSession
from balagh.config import Settings, nodes_of
from balagh.config.yamlsrc import ConfigError
from balagh.reachback.survey_config import load_survey_config
from balagh.readmodel import statistics as stats_query
from balagh.readmodel.figures import Histogram
from balagh.readmodel.period import Period, today_period
from balagh.readmodel.reader import ReportReader
from balagh.readmodel.search import ReportSearch
from balagh.store.callbacks import CALLBACK, PURPOSES, SURVEY
from balagh.store.opening import connect_reader, exists, report_database
from balagh.store.queries import Report
from balagh.supervise.modes import Mode
from balagh.supervise.ring import ring_supervisor
from balagh.timeouts import within

from . import board
from .callbacks import CallbacksClient

log = structlog.get_logger(__name__)

WATCHED_EVENTS = frozenset({
    "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentConnect",
    "AgentComplete", "AgentCalled", "AgentRingNoAnswer", "QueueMemberStatus",
    "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved", "Hangup", "Newchannel",
    "BridgeEnter", "BridgeLeave"})
DB_POLL_SECONDS = 0.25
FULL_REBUILD_SECONDS = 5.0
TODAY_EVERY_SECONDS = 2.0   # today's figures (a scan of the day) at most this often
LIVE_LOOKBACK = timedelta(hours=12)
LIVE_LIMIT = 1000


def survey_configured(settings: Settings) -> bool:
    """reachback.yaml's `survey:` is on, as the app read it at its start (the wallboard's
    satisfaction calls are hidden when it is off). A file the app would refuse counts as
    on: the table then says the app cannot be asked, which is true."""
    try:
        return load_survey_config(settings.reachback_file).enabled
    except (ConfigError, OSError) as exc:
        log.warning("console.survey_config_unreadable", error=str(exc))
        return True


class Feed:
    def __init__(self, settings: Settings, questions: Sequence[str],
                 queues: Sequence[str] = ()) -> None:
        self.settings = settings
        self.questions = list(questions)
        self.queues = list(queues)
        self.nodes = nodes_of(settings)
        # One AMI session per node, by node name ('' on a one-box site).
        self.amis = {node.name: AmiSession(node.ami) for node in self.nodes}
        self.ami = self.amis[self.nodes[0].name]
        self.snapshot: dict[str, Any] = board.build(
            queue_events=[], live_ids=set(), reports=[], questions=self.questions,
            today=board.Today(), now=time.time(), queues=self.queues, pbx_up=False)
        self.version = 0
        self._changed = asyncio.Condition()
        self._stale = asyncio.Event()
        self.database = report_database(settings)  # the SQLite file, or the server
        self._db: aiosqlite.Connection | None = None
        self._data_version: int | None = None
        self._db_failing = False
        self._today = board.Today()
        self._today_at = 0.0
        self._down_since: dict[str, float] = {}  # each node down now: since when
        self._tasks: list[asyncio.Task[Any]] = []
        self.rings: set[asyncio.Task[Any]] = set()
        # the calls the app places, by purpose: asked of the app, never written here
        self.placed = {purpose.table: CallbacksClient(settings, purpose)
                       for purpose in PURPOSES}
        self.callbacks = self.placed[CALLBACK.table]
        self.survey_calls = self.placed[SURVEY.table]
        self.survey_on = survey_configured(settings)

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._tasks = []
        for name, ami in self.amis.items():
            events = ami.listen(lambda e: e.get("Event") in WATCHED_EVENTS)
            self._tasks += [asyncio.create_task(ami.run(), name=f"console-ami{name}"),
                            asyncio.create_task(self._mark_on_events(events),
                                                name=f"console-ami-ev{name}")]
        self._tasks += [asyncio.create_task(self._watch_database(), name="console-db"),
                        asyncio.create_task(self._rebuild_loop(), name="console-board")]

    async def stop(self) -> None:
        for task in [*self._tasks, *self.rings]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self.rings, return_exceptions=True)
        if self._db is not None:
            await self._db.close()
            self._db = None
        for ami in self.amis.values():
            ami.close()

    def mark_stale(self) -> None:
        """Rebuild soon (a change the watched events and the database do not show)."""
        self._stale.set()

    # ------------------------------------------------------------ subscribers

    async def next_snapshot(self, seen: int, timeout: float) -> tuple[int, dict[str, Any]]:
        """The snapshot newer than version `seen` (or the current one after `timeout`)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await within(self._changed.wait_for(lambda: self.version != seen),
                                       timeout)
            return self.version, self.snapshot

    # ----------------------------------------------------------------- inputs

    async def _mark_on_events(self, events: asyncio.Queue[dict[str, str]]) -> None:
        while True:
            await events.get()
            self._stale.set()

    async def _reader(self) -> aiosqlite.Connection | None:
        if self._db is None and exists(self.database):
            try:
                self._db = await connect_reader(self.database, busy_timeout_ms=1000)
                self._db_failing = False
            except Exception as exc:
                if not self._db_failing:  # once per outage: a server down is tried 4 times a second
                    log.warning("console.db_unavailable", error=str(exc))
                self._db_failing = True
        return self._db

    async def _watch_database(self) -> None:
        while True:
            try:
                db = await self._reader()
                if db is not None:
                    version = await ReportReader(db).data_version()
                    if version != self._data_version:
                        self._data_version = version
                        self._today_at = 0.0  # today's figures moved too
                        self._stale.set()
            except Exception as exc:  # a moved file, a lost server: open it again next time
                log.warning("console.db_poll_failed", error=str(exc))
                await self._drop_reader()
            await asyncio.sleep(DB_POLL_SECONDS)

    async def _drop_reader(self) -> None:
        if self._db is not None:
            with contextlib.suppress(Exception):
                await self._db.close()
            self._db = None

    # ---------------------------------------------------------------- rebuild

    async def _rebuild_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await within(self._stale.wait(), FULL_REBUILD_SECONDS)
            self._stale.clear()
            try:
                await self.rebuild()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("console.rebuild_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.5)

    async def rebuild(self) -> None:
        now = time.time()
        readings = list(await asyncio.gather(*(self._read_node(name, ami)
                                               for name, ami in self.amis.items())))
        self._down_since = board.nodes_down_since(self._down_since, readings, now)
        reports = await self._live_reports(now)
        if now - self._today_at >= TODAY_EVERY_SECONDS:
            self._today = await self._today_figures(now)
            self._today_at = now
        snapshot = board.build(nodes=readings, reports=reports, questions=self.questions,
                               today=self._today, now=now, queues=self.queues,
                               wrapup_seconds=self.settings.wrapup_seconds,
                               callbacks=await self.callbacks.listing(),
                               survey_calls=await self.survey_calls.listing()
                               if self.survey_on else None, survey_on=self.survey_on,
                               down_since=self._down_since)
        async with self._changed:
            self.snapshot = snapshot
            self.version += 1
            self._changed.notify_all()

    @staticmethod
    async def _read_node(name: str, ami: AmiSession) -> board.NodeReading:
        """One node's queues and live channels; a node that cannot be read is down."""
        if not ami.connected.is_set():
            return board.NodeReading(name, up=False)
        try:
            status = await ami.action_list({"Action": "QueueStatus"}, timeout=5)
            channels = await ami.action_list({"Action": "CoreShowChannels"}, timeout=5)
        except Exception as exc:
            log.warning("console.ami_read_failed", node=name,
                        error=f"{type(exc).__name__}: {exc}")
            return board.NodeReading(name, up=False)
        return board.NodeReading(
            name, up=True,
            queue_events=[{str(k): str(v) for k, v in dict(e).items()} for e in status],
            live_ids={str(e.get("Uniqueid")) for e in channels
                      if e.get("Event") == "CoreShowChannel"})

    async def _live_reports(self, now: float) -> list[Report]:
        db = await self._reader()
        if db is None:
            return []
        since = datetime.fromtimestamp(now, UTC) - LIVE_LOOKBACK
        try:
            found = await ReportReader(db).search_reports(ReportSearch(since=since,
                                                                       limit=LIVE_LIMIT))
        except Exception:
            await self._drop_reader()
            raise
        return [r for r in found if not r.ended_at and r.talk_seconds is None]

    async def _today_figures(self, now: float) -> board.Today:
        # Today is the hotline's day: it starts at local midnight, not UTC's.
        period = today_period(datetime.fromtimestamp(now, UTC), self.settings.zone)
        try:
            report = await asyncio.to_thread(stats_query.compute_many, self.database,
                                              period, ["queue"])
        except stats_query.StatsError:
            return board.Today()
        stats = report.stats["queue"]
        to_queue = Histogram()
        to_queue.merge(stats.total.to_queue_typed)
        to_queue.merge(stats.total.to_queue_not_typed)
        return board.Today(
            answered={row.key: row.answered for row in stats.rows},
            abandoned={row.key: row.abandoned for row in stats.rows},
            service_level={row.key: row.service_level(stats.service_level_seconds)
                           for row in stats.rows},
            calls=stats.total.calls,
            to_queue_p50=_seconds(to_queue.percentile(50)),
            to_queue_p95=_seconds(to_queue.percentile(95)),
            per_hour=await self._per_hour(period))

    async def _per_hour(self, period: Period) -> list[int]:
        db = await self._reader()
        if db is None:
            return [0] * 24
        return await ReportReader(db).calls_per_hour(period.start, period.end,
                                                     self.settings.zone)

    # ----------------------------------------------------------------- actions

    def node_of(self, reference: str) -> str | None:
        """The node whose channels hold the call, as the board last saw it (None: not
        known; on a one-box site always its one node, '')."""
        if len(self.amis) == 1:
            return next(iter(self.amis))
        call = next((c for c in self.snapshot["calls"] if c["reference"] == reference), None)
        node = call.get("node") if call is not None else None
        return node if node in self.amis else None

    def ring(self, phone: str, reference: str, mode: Mode) -> None:
        """Ring the supervisor's phone into the call, as `balagh monitor` does, through
        the node where the call is: the snoop must be made by that node's Asterisk (the
        answer takes up to the ring time: the browser is not kept waiting)."""
        task = asyncio.create_task(self._ring(phone, reference, mode))
        self.rings.add(task)
        task.add_done_callback(self.rings.discard)

    async def _ring(self, phone: str, reference: str, mode: Mode) -> None:
        node = self.node_of(reference)
        try:
            if node is None:
                raise LookupError("no node holds this call now")
            await ring_supervisor(self.amis[node], phone, reference, mode)
            log.info("console.rang", phone=phone, reference=reference, mode=mode.value,
                     node=node)
        except Exception as exc:
            log.warning("console.ring_failed", phone=phone, reference=reference, node=node,
                        error=f"{type(exc).__name__}: {exc}")


def _seconds(tenths: int | None) -> float | None:
    return None if tenths is None else tenths / 10


__all__ = ["Feed"]
