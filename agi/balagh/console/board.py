"""The wallboard and the live calls, as one JSON-ready snapshot (pure).

Built from what AMI says now (QueueStatus: QueueParams, QueueMember and QueueEntry
events; CoreShowChannels: which channels are up) and what the report store holds (every
answer is written as it is given, so a call still in the menu is visible, and on which
question). A snapshot is rebuilt whole each time: nothing drifts after a missed event
or a reconnect, and a browser that (re)connects gets the full state at once.

Several Asterisk nodes (`nodes:` in balagh.yaml) are one board: each queue's figures are
summed over the nodes with each node's share beside them (`by_node`), every call names
the node whose AMI lists its channel, and callers in danger come first across all nodes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from balagh.ami.queue_names import routing_queue
from balagh.privacy import mask_number
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION
from balagh.status import ReportStatus
from balagh.store.callbacks import PURPOSES
from balagh.store.queries import Report

from .access import Access

# QueueMember Status (AST_DEVICE_*): 1 not in use, 2 in use, 3 busy, 6 ringing,
# 7 ring in use, 8 on hold.
_TALKING_STATUSES = {"2", "3", "7", "8"}
_AVAILABLE_STATUSES = {"1"}
_RINGING_STATUSES = {"6"}
_GONE_STATUSES = {"4", "5"}  # invalid, unavailable (a phone not registered)
# An agent in several queues shows the state that matters most (talking in one queue
# while idle in another is talking).
AGENT_STATES = ("talking", "ringing", "wrapup", "paused", "free", "unavailable")


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class QueueFigures:
    name: str
    waiting: int = 0
    longest_since: float | None = None      # epoch: when the longest-waiting caller joined
    danger_waiting: int = 0
    oldest_danger_since: float | None = None
    oldest_danger_reference: str | None = None
    available: int = 0
    talking: int = 0
    paused: int = 0
    logged_in: int = 0
    answered_today: int = 0
    abandoned_today: int = 0
    service_level_today: float | None = None
    oldest_danger_node: str | None = None
    by_node: dict[str, dict[str, int]] = field(default_factory=dict)

    def share(self, node: str) -> dict[str, int]:
        """This node's part of the queue (its own app_queue's callers and agents)."""
        return self.by_node.setdefault(node, {"waiting": 0, "danger_waiting": 0,
                                              "available": 0, "talking": 0, "logged_in": 0})


@dataclass(frozen=True)
class NodeReading:
    """What one node's AMI said on this rebuild. `up` False: it could not be read, and
    `live_ids` is None (which calls it holds is not known)."""

    name: str
    up: bool
    queue_events: Sequence[Mapping[str, str]] = ()
    live_ids: set[str] | None = None


@dataclass(frozen=True)
class Today:
    """Today's figures by queue, from balagh.stats (the same numbers as `balagh stats`)."""

    answered: Mapping[str, int] = field(default_factory=dict)
    abandoned: Mapping[str, int] = field(default_factory=dict)
    service_level: Mapping[str, float | None] = field(default_factory=dict)
    calls: int = 0
    to_queue_p50: float | None = None   # seconds from answer to the queue
    to_queue_p95: float | None = None
    per_hour: Sequence[int] = ()


def current_question(report: Report, questions: Sequence[str]) -> str | None:
    """The question a caller in the menu is on: the first in menu order not yet answered."""
    for question in questions:
        if report.answers.get(question) is None:
            return question
    return None


def call_state(report: Report) -> str:
    if report.queue_outcome == "answered":
        return "talking"
    if report.status in (ReportStatus.ROUTED, ReportStatus.FALLBACK):
        return "waiting"
    return "ivr"


def live_call(report: Report, questions: Sequence[str], now: float,
              node: str | None = None) -> dict[str, Any]:
    state = call_state(report)
    answers = report.answers
    since = _epoch(report.answered_at if state == "talking" else
                   report.routed_at if state == "waiting" else report.started_at)
    return {
        "reference": report.reference,
        "state": state,
        "queue": report.joined_queue or report.queue,
        "category": report.rule,
        "danger": answers.get(DANGER_QUESTION) == DANGER_ANSWER,
        "age": answers.get("age"),
        "gender": answers.get("gender"),
        "emirate": report.location or answers.get("emirate"),
        "language": report.language,
        "caller": mask_number(report.caller),
        "started": _epoch(report.started_at),
        "since": since if since is not None else now,
        "wait": report.wait_seconds,
        "agent": report.answered_by,
        "question": current_question(report, questions) if state == "ivr" else None,
        "node": node,
    }


def member_state(event: Mapping[str, str], now: float,
                 wrapup_seconds: int = 0) -> tuple[str, float | None]:
    """One QueueMember's state and since when (epoch; None if AMI does not say).
    Wrap-up: the member's own Wrapuptime, else the queues' (`wrapup_seconds`, balagh.yaml),
    after LastCall."""
    status = event.get("Status")
    last_call = _int(event.get("LastCall"))
    if event.get("Paused") == "1":
        return "paused", _int(event.get("LastPause")) or None
    if status in _RINGING_STATUSES:
        return "ringing", None
    if event.get("InCall") == "1" or status in _TALKING_STATUSES:
        return "talking", None
    seconds = _int(event.get("Wrapuptime")) or wrapup_seconds
    if last_call and now < last_call + seconds:
        return "wrapup", float(last_call)
    if status in _GONE_STATUSES:
        return "unavailable", None
    return "free", float(last_call) if last_call else None


def agent_rows(queue_events: Iterable[Mapping[str, str]], now: float,
               wrapup_seconds: int = 0) -> list[dict[str, Any]]:
    """Each agent of Balagh's queues once (by member name): their state, since when,
    the pause reason, and the queues they are in (for filtering per supervisor)."""
    agents: dict[str, dict[str, Any]] = {}
    for event in queue_events:
        queue = routing_queue(str(event.get("Queue", "")))
        if event.get("Event") != "QueueMember" or queue is None:
            continue
        name = str(event.get("Name") or event.get("MemberName") or event.get("Location") or "")
        if not name:
            continue
        state, since = member_state(event, now, wrapup_seconds)
        row = agents.setdefault(name, {"agent": name, "state": state, "since": since,
                                       "reason": None, "queues": []})
        row["queues"].append(queue)
        if AGENT_STATES.index(state) < AGENT_STATES.index(row["state"]):
            row["state"], row["since"] = state, since
        if state == "paused":
            row["reason"] = event.get("PausedReason") or row["reason"]
    for row in agents.values():
        if row["state"] != "paused":
            row["reason"] = None
    return [agents[name] for name in sorted(agents)]


def build(*, queue_events: Iterable[Mapping[str, str]] = (), live_ids: set[str] | None = None,
          reports: Iterable[Report], questions: Sequence[str], today: Today, now: float,
          queues: Iterable[str] = (), pbx_up: bool = True,
          nodes: Sequence[NodeReading] | None = None,
          wrapup_seconds: int = 0,
          callbacks: Sequence[Mapping[str, Any]] | None = None,
          survey_calls: Sequence[Mapping[str, Any]] | None = None,
          survey_on: bool = False,
          down_since: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The whole snapshot. One box: `queue_events` and `live_ids`, the uniqueids of the
    channels up now (None when AMI is down: then the reports alone say which calls are in
    progress). Several: one NodeReading per node instead (`nodes`). `callbacks`: the
    app's pending and failed callbacks (None: not known now); `survey_calls` the same for
    the satisfaction calls, shown only when `survey_on` (reachback.yaml's `survey:`).
    `down_since`: since when each node now down has been (nodes_down_since), for the
    wallboard's banner."""
    if nodes is None:
        nodes = [NodeReading("", pbx_up, list(queue_events), live_ids)]
    figures, entries = _queue_figures(nodes, queues)
    by_call = _live_calls(reports, nodes, questions, now)
    _count_waiting(figures, entries, by_call, now)
    live = list(by_call.values())
    for name, row in figures.items():
        row.answered_today = today.answered.get(name, 0)
        row.abandoned_today = today.abandoned.get(name, 0)
        row.service_level_today = today.service_level.get(name)
    in_ivr = [call for call in live if call["state"] == "ivr"]
    live.sort(key=lambda call: (not call["danger"], call["started"] or now))
    up = [node.up for node in nodes]
    return {
        "at": now,
        # "partial": some nodes' AMI answers, some not (their calls are shown, node unknown).
        "pbx": "up" if all(up) else "down" if not any(up) else "partial",
        "nodes": [{"name": node.name, "pbx": "up" if node.up else "down"} for node in nodes],
        # each node down now: since when (epoch), kept apart so `nodes` stays as it was
        "down_since": {node.name: (down_since or {}).get(node.name, now)
                       for node in nodes if not node.up},
        "queues": [vars(figures[name]) for name in sorted(figures)],
        "agents": agent_rows([event for node in nodes for event in node.queue_events], now,
                             wrapup_seconds),
        "ivr": {"callers": len(in_ivr),
                "by_question": dict(Counter(call["question"] or "-" for call in in_ivr))},
        "calls": live,
        "callbacks": None if callbacks is None else [dict(row) for row in callbacks],
        "survey_on": survey_on,
        "survey_calls": None if survey_calls is None else [dict(row) for row in survey_calls],
        "today": {"calls": today.calls, "to_queue_p50": today.to_queue_p50,
                  "to_queue_p95": today.to_queue_p95, "per_hour": list(today.per_hour)},
    }


def nodes_down_since(before: Mapping[str, float], readings: Sequence[NodeReading],
                     now: float) -> dict[str, float]:
    """Since when each node that is down now has been down: the time it was first found
    down on a rebuild, kept while it stays down, forgotten when it is read again."""
    return {node.name: before.get(node.name, now) for node in readings if not node.up}


Entry = tuple[str, str, Mapping[str, str]]   # queue, node, QueueEntry event


def _queue_figures(nodes: Sequence[NodeReading], queues: Iterable[str],
                   ) -> tuple[dict[str, QueueFigures], list[Entry]]:
    """Each queue's agents from its QueueMember events, on every node; its waiting
    callers' entries."""
    figures: dict[str, QueueFigures] = {name: QueueFigures(name) for name in queues}
    entries: list[Entry] = []
    for node in nodes:
        for event in node.queue_events:
            name = routing_queue(str(event.get("Queue", "")))
            if name is None:
                continue
            row = figures.setdefault(name, QueueFigures(name))
            kind = event.get("Event")
            if kind == "QueueMember":
                _count_member(row, event, node.name)
            elif kind == "QueueEntry":
                entries.append((name, node.name, event))
    return figures, entries


def _count_member(row: QueueFigures, event: Mapping[str, str], node: str) -> None:
    share = row.share(node)
    row.logged_in += 1
    share["logged_in"] += 1
    if event.get("Paused") == "1":
        row.paused += 1
    elif event.get("InCall") == "1" or event.get("Status") in _TALKING_STATUSES:
        row.talking += 1
        share["talking"] += 1
    elif event.get("Status") in _AVAILABLE_STATUSES:
        row.available += 1
        share["available"] += 1


def _live_calls(reports: Iterable[Report], nodes: Sequence[NodeReading],
                questions: Sequence[str], now: float) -> dict[str, dict[str, Any]]:
    """The calls still in progress (in the menu, waiting or talking), by call id, each
    with the node whose channels hold it. A call no readable node holds is over, unless
    some node could not be read: then it may be there, and is kept (its node unknown)."""
    where = {call_id: node.name for node in nodes if node.live_ids is not None
             for call_id in node.live_ids}
    some_unread = any(node.live_ids is None for node in nodes)
    live: dict[str, dict[str, Any]] = {}
    for report in reports:
        if report.ended_at or report.talk_seconds is not None or \
                report.queue_outcome == "abandoned":
            continue
        node = where.get(report.call_id)
        if node is None and not some_unread:
            continue
        live[report.call_id] = live_call(report, questions, now, node)
    return live


def _count_waiting(figures: dict[str, QueueFigures], entries: list[Entry],
                   by_call: Mapping[str, dict[str, Any]], now: float) -> None:
    """Waiting callers per queue (and node), the longest wait, and the oldest caller in
    danger across the nodes."""
    for name, node, entry in entries:
        row = figures[name]
        share = row.share(node)
        row.waiting += 1
        share["waiting"] += 1
        since = now - _int(entry.get("Wait"))
        row.longest_since = since if row.longest_since is None else min(row.longest_since, since)
        entered = by_call.get(str(entry.get("Uniqueid", "")))
        if entered is not None:
            entered["since"] = since  # AMI's wait is the queue's own clock
            entered["node"] = node
            if entered["danger"]:
                row.danger_waiting += 1
                share["danger_waiting"] += 1
                if row.oldest_danger_since is None or since < row.oldest_danger_since:
                    row.oldest_danger_since = since
                    row.oldest_danger_reference = entered["reference"]
                    row.oldest_danger_node = node


PLACED = tuple(purpose.table for purpose in PURPOSES)  # the snapshot's keys: callbacks, ...


def for_user(snapshot: Mapping[str, Any], access: Access) -> dict[str, Any]:
    """What one user's browser gets: only the queues (and their calls) they may see.
    Calls still in the menu have no queue yet: only those who see every queue see them."""
    calls = [dict(call, monitor=call["state"] == "talking" and access.may_monitor(call["queue"]))
             for call in access.visible(snapshot["calls"], "queue")]
    in_ivr = [call for call in calls if call["state"] == "ivr"]
    return {
        **snapshot,
        "queues": access.visible(snapshot["queues"], "name"),
        # an agent shows to those who see one of their queues, with only those queues
        "agents": [dict(agent, queues=seen) for agent in snapshot.get("agents", [])
                   if (seen := [queue for queue in agent["queues"] if access.may_see(queue)])],
        "calls": calls,
        # the calls the app places, each purpose's rows of the queues this user sees
        **{key: None if snapshot.get(key) is None else access.visible(snapshot[key], "queue")
           for key in PLACED},
        "ivr": {"callers": len(in_ivr),
                "by_question": dict(Counter(call["question"] or "-" for call in in_ivr))},
        "user": {"name": access.user.name, "role": access.user.role},
    }


__all__ = ["AGENT_STATES", "PLACED", "NodeReading", "QueueFigures", "Today", "agent_rows", "build",
           "call_state", "current_question", "for_user", "live_call", "member_state",
           "nodes_down_since"]
