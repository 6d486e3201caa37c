"""Live queue state from AMI QueueSummary events."""

from __future__ import annotations

from balagh.ami.client import AmiSession
from balagh.ami.queues import QueueMonitor, parse_summary
from balagh.config import AmiSettings
from balagh.routing import QueueState


def test_summary_events_become_states_by_routing_name():
    events = [
        {"Response": "Success", "EventList": "start"},
        {"Event": "QueueSummary", "Queue": "balagh-general", "LoggedIn": "3", "Available": "1",
         "Callers": "4", "HoldTime": "20", "TalkTime": "90", "LongestHoldTime": "130"},
        {"Event": "QueueSummary", "Queue": "sales", "LoggedIn": "9", "Available": "9",
         "Callers": "0", "LongestHoldTime": "0"},  # not ours
        {"Event": "QueueSummaryComplete", "EventList": "Complete"},
    ]
    assert parse_summary(events) == {"general": QueueState(logged_in=3, available=1, callers=4,
                                                           longest_wait=130.0)}


def test_no_snapshot_before_the_first_poll_or_when_stale():
    monitor = QueueMonitor(AmiSession(AmiSettings()), max_age=10.0)
    assert monitor.snapshot() == {}
