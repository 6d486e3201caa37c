"""The app's gauges, computed at each scrape from what the app already holds: nothing here
does I/O or waits on the event loop (it runs on the scrape's thread)."""

from __future__ import annotations

import platform
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from importlib import metadata

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from balagh.metrics.queue_status import AGENT_STATES, QueueStatusPoller
from balagh.metrics.store_sample import StoreSampler


def build_info() -> GaugeMetricFamily:
    family = GaugeMetricFamily("balagh_build_info", "Balagh's version and Python's; always 1.",
                               labels=["version", "python"])
    try:
        version = metadata.version("balagh")
    except metadata.PackageNotFoundError:
        version = "unknown"
    family.add_metric([version, platform.python_version()], 1)
    return family


class BuildInfo(Collector):
    """The console's only figure of its own (its process's are prometheus-client's)."""

    def collect(self) -> Iterator[Metric]:
        yield build_info()


@dataclass(frozen=True)
class AppState:
    """Where each figure is read from (callables, so tests and the app give their own)."""

    queues: Callable[[], Collection[str]]  # the loaded hotline's queue names
    callers_in_menu: Callable[[], int]
    queue_status: QueueStatusPoller
    store: StoreSampler
    max_loop_stall: Callable[[], float]
    heartbeat_age: Callable[[], float | None]  # None: ARI not connected (or not used)
    ami_up: Callable[[], bool] = lambda: True


class AppCollector(Collector):
    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        yield build_info()
        yield _gauge("balagh_callers_in_menu",
                     "Callers the app is serving in the menu (answered, not yet queued).",
                     self.state.callers_in_menu())
        yield _gauge("balagh_ami_up", "1 while the app is logged in to AMI (queue figures "
                     "need it), else 0.", 1 if self.state.ami_up() else 0)
        yield from self._queues()
        sample = self.state.store.last
        if sample is not None:
            yield _gauge("balagh_outbox_pending",
                         "Deliveries to the units waiting to be sent or retried "
                         "(counted up to 1000).", sample.outbox_pending)
            yield _gauge("balagh_outbox_failed",
                         "Deliveries given up after their retries (balagh outbox retry).",
                         sample.outbox_failed)
            yield _gauge("balagh_spool_writes",
                         "Report writes waiting in the spool for the database.",
                         sample.spool_depth)
        yield _gauge("balagh_event_loop_max_stall_seconds",
                     "Longest the app's event loop was kept from running since it started.",
                     self.state.max_loop_stall())
        age = self.state.heartbeat_age()
        if age is not None:
            yield _gauge("balagh_heartbeat_age_seconds",
                         "Seconds since the app's ARI heartbeat was last echoed back.", age)

    def _queues(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("balagh_queue_callers", "Callers waiting in a queue.",
                                    labels=["queue"])
        danger = GaugeMetricFamily("balagh_queue_callers_in_danger",
                                   "Callers waiting in a queue who said they are in danger.",
                                   labels=["queue"])
        longest = GaugeMetricFamily("balagh_queue_longest_wait_seconds",
                                    "How long the longest-waiting caller of a queue has waited.",
                                    labels=["queue"])
        longest_danger = GaugeMetricFamily(
            "balagh_queue_longest_danger_wait_seconds",
            "How long the longest-waiting caller in danger of a queue has waited.",
            labels=["queue"])
        agents = GaugeMetricFamily("balagh_queue_agents",
                                   "Agents logged in to a queue, by state.",
                                   labels=["queue", "state"])
        figures, in_danger = self.state.queue_status.snapshot()
        known = self.state.queues()
        for name in sorted(figures):
            if name not in known:  # a queue of the PBX the hotline does not route to
                continue
            queue = figures[name]
            waits = [w.wait_seconds for w in queue.waiting]
            danger_waits = [w.wait_seconds for w in queue.waiting if in_danger.get(w.call_id)]
            waiting.add_metric([name], len(waits))
            danger.add_metric([name], len(danger_waits))
            longest.add_metric([name], max(waits, default=0.0))
            longest_danger.add_metric([name], max(danger_waits, default=0.0))
            for state in AGENT_STATES:
                agents.add_metric([name, state], queue.agents[state])
        yield from (waiting, danger, longest, longest_danger, agents)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
