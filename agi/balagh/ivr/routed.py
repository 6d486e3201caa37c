"""Routing a call once its answers are in: shared by the ARI call flow and the FastAGI route.

Both paths locate the caller, decide by the same table, build the same handover summary,
put the same variables on the channel for dialplan/extensions_balagh.conf's balagh-queue
and tell the units the same "routed" event; only how the answers were collected differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog

from balagh.handover.summary import (
    HandoverSettings,
    HandoverSummary,
    agent_variables,
    summarise,
)
from balagh.ivr.geolocation import geolocated_emirate
from balagh.ivr.port import CallPort
from balagh.ivr.record import CallRecord
from balagh.routing import (
    DEFAULT_COUNTRY_CODE,
    Decision,
    Location,
    QueueState,
    Table,
    decide,
    locate,
    make_facts,
)

log = structlog.get_logger(__name__)

NO_HANDOVER = HandoverSettings()


@dataclass(frozen=True)
class RoutingContext:
    """What routing may know besides the answers: live queues and the number-prefix table."""

    queues: Callable[[], Mapping[str, QueueState]] = dict
    prefixes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Routed:
    location: Location
    decision: Decision
    summary: HandoverSummary


async def locate_caller(call: CallPort, record: CallRecord, context: RoutingContext,
                        country_code: str = DEFAULT_COUNTRY_CODE) -> Location:
    """Where the caller is: their answer, else the SIP geolocation, else the number prefix."""
    geo_emirate = await geolocated_emirate(call)
    location = locate(record.answers, call.info.caller, geo_emirate, context.prefixes,
                      country_code)
    record.location(location)
    log.info("call.located", emirate=location.emirate, source=location.source)
    return location


async def route(call: CallPort, record: CallRecord, table: Table,
                context: RoutingContext) -> Routed:
    """Locate, decide and summarise a call from the answers in `record`."""
    location = await locate_caller(call, record, context, table.country_code)
    facts = make_facts(record.answers, table.zone, caller=call.info.caller, location=location,
                       now=record.clock(), queues=context.queues(),
                       country_code=table.country_code)
    decision = decide(facts, table)
    summary = summarise(record.reference, record.answers, decision, location,
                        await record.repeat_calls())
    return Routed(location, decision, summary)


def queue_variables(decision: Decision, reference: str, summary: HandoverSummary | None,
                    handover: HandoverSettings = NO_HANDOVER) -> dict[str, str]:
    """What balagh-queue needs on the channel, and what the answering agent hears before
    the caller (BALAGH_WHISPER_<queue>)."""
    variables = {
        "BALAGH_QUEUE": decision.queue,
        "BALAGH_PRIO": str(decision.priority),
        "BALAGH_REFERENCE": reference,
        "BALAGH_RULE": decision.rule,
        "BALAGH_OVERFLOW": decision.overflow_spec(),
    }
    if decision.wait:
        variables["BALAGH_QUEUE_WAIT"] = str(decision.wait)
    if summary is not None:
        # Per queue of the chain (BALAGH_WHISPER_<queue>, BALAGH_ACCEPT_<queue>): the
        # dialplan picks the one of the queue the caller waits in.
        variables.update(agent_variables(summary, decision, handover))
        # Inherited ("__") by the agent's channel app_queue rings: phones that show channel
        # variables show the report as it rings.
        variables["__BALAGH_SUMMARY"] = summary.text()
    return variables


def publish_routed(handover: HandoverSettings, routed: Routed) -> None:
    """The units' "routed" event (the outbox never waits and never raises)."""
    if handover.outbox is not None:
        handover.outbox.publish("routed", {**routed.summary.fields(),
                                           "rule": routed.decision.rule},
                                queue=routed.decision.queue)
