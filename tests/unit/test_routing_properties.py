"""Properties of decide() over random calls: answers, callers, times, locations, queue states."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from balagh.routing import (
    DEFAULT_RULE,
    Facts,
    Location,
    QueueState,
    Table,
    decide,
    explain,
)
from balagh.routing.decide import match
from balagh.routing.load import load_table
from balagh.routing.location import SOURCES

from .routing_facts import facts_of
from .shipped import FIXTURES, ROUTING_FILE, VALUES

SHIPPED = load_table(ROUTING_FILE, VALUES)
GOOD = FIXTURES / "routing" / "good"
TABLES = [SHIPPED, *(load_table(path, VALUES) for path in sorted(GOOD.glob("*.yaml")))]
SPEC = re.compile(r"[A-Za-z0-9+_.:|-]*")
ALL_QUEUES = sorted({queue for table in TABLES for queue in table.queues})


def _answers() -> st.SearchStrategy[dict[str, str]]:
    per_question = {
        question: st.one_of(st.none(), st.sampled_from(sorted(values)), st.text(max_size=6))
        for question, values in VALUES.items()
    }
    return st.fixed_dictionaries(per_question).map(
        lambda given: {key: value for key, value in given.items() if value is not None})


CALLERS = st.one_of(
    st.none(),
    st.sampled_from(["anonymous", "", "04 123 4567", "+971501234567", "0097165551234",
                     "+971559999999", "06 555 1234", "050 111 2222", "800700", "+12125550100"]),
    st.from_regex(r"\+?(00)?(971)?0?[1-9][0-9]{6,9}", fullmatch=True),
    st.text(max_size=12),
)

NAIVE = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31))
AWARE = st.builds(lambda when, hours: when.replace(tzinfo=timezone(timedelta(hours=hours))),
                  NAIVE, st.integers(-12, 14))
NOW = st.one_of(st.none(), NAIVE, AWARE, NAIVE.map(lambda when: when.replace(tzinfo=UTC)))
LOCATION = st.one_of(st.none(), st.builds(
    Location, st.one_of(st.none(), st.sampled_from(sorted(VALUES["emirate"]))),
    st.sampled_from(SOURCES)))
STATE = st.builds(QueueState, st.integers(0, 5), st.integers(0, 5), st.integers(0, 20),
                  st.floats(0, 900, allow_nan=False))
QUEUES = st.dictionaries(st.sampled_from(ALL_QUEUES), STATE, max_size=4)
CALL = st.fixed_dictionaries({"answers": _answers(), "caller": CALLERS, "now": NOW,
                              "location": LOCATION, "queues": QUEUES})
TABLE = st.sampled_from(TABLES)


def _decide(table: Table, call: dict) -> object:
    return decide(_facts(table, call), table)


def _facts(table: Table, call: dict) -> Facts:
    return facts_of(call["answers"], table, caller=call["caller"], now=call["now"],
                    location=call["location"], queues=call["queues"])


@settings(max_examples=300)
@given(TABLE, CALL)
def test_total_every_call_gets_a_queue_of_the_table(table, call):
    decision = _decide(table, call)
    assert decision.queue in table.queues
    assert decision.rule in {DEFAULT_RULE, *(rule.name for rule in table.rules)}
    rule = match(_facts(table, call), table)
    assert decision.rule == (rule.name if rule else DEFAULT_RULE)
    # The chain is served to the end: it finishes at the default queue, or is empty there.
    if decision.queue == table.default_queue:
        assert decision.overflow == () and decision.wait == 0
    else:
        assert decision.overflow[-1].target == table.default_queue
        assert decision.overflow[-1].wait is None and decision.wait > 0
        assert all(step.kind == "number" or step.target in table.queues
                   for step in decision.overflow)
    assert SPEC.fullmatch(decision.overflow_spec())


@given(TABLE, CALL)
def test_deterministic(table, call):
    reordered = {**call, "answers": dict(reversed(list(call["answers"].items())))}
    assert _decide(table, call) == _decide(table, call) == _decide(table, reordered)


@settings(max_examples=300)
@given(CALL)
def test_on_the_shipped_table_every_danger_call_is_priority_10_or_more(call):
    call = {**call, "answers": {**call["answers"], "danger": "yes"}}
    assert _decide(SHIPPED, call).priority >= SHIPPED.danger_priority == 10


@given(CALL)
def test_the_shipped_table_routes_on_answers_alone(call):
    # Callers, times, places and queue states change nothing in today's routes.
    assert _decide(SHIPPED, call) == decide(facts_of(call["answers"], SHIPPED), SHIPPED)


@settings(max_examples=300)
@given(TABLE, CALL)
def test_explain_decides_exactly_like_decide(table, call):
    told = explain(_facts(table, call), table)
    decision = _decide(table, call)
    assert told.decision == decision
    assert all(verdict.outcome != "match" for verdict in told.verdicts[:-1])
    if decision.rule == DEFAULT_RULE:
        assert told.matched is None and len(told.verdicts) == len(table.rules)
    else:
        assert told.matched is not None and told.matched.rule == decision.rule
    assert told.text()  # renders for any input
