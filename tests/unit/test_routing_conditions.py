"""Each condition kind a rule can test, alone and combined, through YAML and decide()."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from balagh.routing import DEFAULT_RULE, Location, QueueState, Table, decide
from balagh.routing.conditions import (
    All,
    Answer,
    AnyOf,
    Calendar,
    CallerWithheld,
    Days,
    Holiday,
    Not,
    QueueTest,
    TimeWindow,
    shadows,
)
from balagh.routing.decide import match
from balagh.routing.facts import Facts
from balagh.routing.load import load_table

from .routing_facts import facts_of
from .shipped import FIXTURES, VALUES

FULL = load_table(FIXTURES / "routing" / "good" / "full-form.yaml", VALUES)

# 2026-12-04 is a Friday; 2026-12-02 is in the fixture's 'uae' calendar.
FRI_NIGHT = datetime(2026, 12, 4, 23, 30)
STAFFED = QueueState(logged_in=2, available=1, callers=0, longest_wait=0)
EMPTY = QueueState(logged_in=0, available=0, callers=3, longest_wait=40)


def routes(tmp_path: Path, rules: str, head: str = "") -> Table:
    """A table with queues a (the rule's) and general, from a YAML snippet."""
    path = tmp_path / "routing.yaml"
    path.write_text(textwrap.dedent(head) + "queues: [qa, qb, general]\nrules:\n"
                    + textwrap.indent(textwrap.dedent(rules), "  ") + "default: general\n")
    return load_table(path, VALUES)


def rule_of(table: Table, answers: dict[str, str] | None = None, **context: object) -> str:
    return decide(facts_of(answers or {}, table, **context), table).rule  # type: ignore[arg-type]


# --- answers -------------------------------------------------------------------------------------

def test_shorthand_and_full_form_answers_are_the_same(tmp_path):
    short = routes(tmp_path,
                   "- {name: r, when: {age: [adult, elderly], gender: female}, queue: qa}\n")
    full = routes(tmp_path, """\
        - name: r
          when: {answer: {age: [adult, elderly], gender: female}}
          queue: qa
        """)
    assert short.rules[0].when == full.rules[0].when
    for table in (short, full):
        assert rule_of(table, {"age": "elderly", "gender": "female"}) == "r"
        assert rule_of(table, {"age": "child", "gender": "female"}) == DEFAULT_RULE
        assert rule_of(table, {"gender": "female"}) == DEFAULT_RULE


def test_shorthand_mixes_with_condition_keywords(tmp_path):
    table = routes(tmp_path, """\
        - name: r
          when: {age: adult, caller: withheld}
          queue: qa
        """)
    assert rule_of(table, {"age": "adult"}) == "r"
    assert rule_of(table, {"age": "adult"}, caller="+97141234567") == DEFAULT_RULE


# --- caller --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("caller", "rule"), [
    ("+971559999999", "blocked"),            # list 'blocked'
    ("055 999 9999", "blocked"),             # the same number, national spelling
    ("0097155 999 9999", "blocked"),
])
def test_caller_in_a_list_in_any_spelling(caller, rule):
    assert rule_of(FULL, {"age": "child"}, caller=caller) == rule


@pytest.mark.parametrize(("caller", "expected"), [
    ("06 555 1234", True),                   # prefix +9716
    ("04 123 4567", True),                   # list repeat-callers ("04 123 4567" in the YAML)
    ("+97165551234", True),                  # also in the list as 0097165551234
    ("+971501112222", True),                 # the one number
    (None, True),                            # withheld
    ("anonymous", True),
    ("+97141111111", False),
    ("050 111 2222", True),                  # the number again, national spelling
    ("+971509999999", False),
])
def test_caller_prefix_list_number_withheld(caller, expected):
    night = {"age": "adult", "gender": "female", "emirate": "sharjah"}
    empty = {"women-protection": EMPTY}
    decision = decide(facts_of(night, FULL, caller=caller, now=FRI_NIGHT, queues=empty), FULL)
    assert (decision.rule == "women-at-night") is expected


def test_caller_prefix_written_nationally(tmp_path):
    table = routes(tmp_path,
                   "- {name: r, when: {caller: {prefix: [\"06\", \"+9717\"]}}, queue: qa}\n")
    assert rule_of(table, caller="+97165551234") == "r"
    assert rule_of(table, caller="07 222 3333") == "r"
    assert rule_of(table, caller="+97145551234") == DEFAULT_RULE
    assert rule_of(table) == DEFAULT_RULE     # withheld: no prefix


# --- clock ---------------------------------------------------------------------------------------

def clock_table(tmp_path: Path) -> Table:
    return routes(tmp_path, """\
        - name: holiday
          when: {holiday: uae}
          queue: qa
        - name: night
          when: {time: {from: "22:00", to: "06:00"}, not: {holiday: uae}}
          queue: qb
        - name: office
          when: {time: {from: "08:00", to: "15:00"}, days: [sun-thu], not: {holiday: uae}}
          queue: qa
        """, head="""\
        timezone: Asia/Dubai
        calendars:
          uae: [2026-12-02, {date: 2026-12-03, name: National Day holiday}]
        """)


@pytest.mark.parametrize(("now", "rule"), [
    (datetime(2026, 12, 2, 12, 0), "holiday"),
    (datetime(2026, 12, 3, 23, 0), "holiday"),
    (datetime(2026, 12, 4, 22, 0), "night"),       # 'from' is included
    (datetime(2026, 12, 5, 5, 59), "night"),       # wraps midnight
    (datetime(2026, 12, 5, 6, 0), DEFAULT_RULE),   # 'to' is excluded
    (datetime(2026, 12, 6, 8, 0), "office"),       # Sunday
    (datetime(2026, 12, 10, 14, 59), "office"),    # Thursday
    (datetime(2026, 12, 11, 9, 0), DEFAULT_RULE),  # Friday
    (datetime(2026, 12, 7, 15, 0), DEFAULT_RULE),
    (None, DEFAULT_RULE),                          # no clock: no clock condition matches
])
def test_time_days_and_holidays(tmp_path, now, rule):
    assert rule_of(clock_table(tmp_path), now=now) == rule


def test_an_aware_time_is_read_in_the_tables_zone(tmp_path):
    table = clock_table(tmp_path)
    # 18:30 UTC is 22:30 in Dubai (UTC+4): night, not the afternoon.
    assert rule_of(table, now=datetime(2026, 12, 4, 18, 30, tzinfo=UTC)) == "night"
    # 20:30 UTC on 1 December is 00:30 on 2 December in Dubai: National Day.
    assert rule_of(table, now=datetime(2026, 12, 1, 20, 30, tzinfo=UTC)) == "holiday"


def test_day_names_and_ranges(tmp_path):
    table = routes(tmp_path, "- {name: r, when: {days: [Friday, sat-mon]}, queue: qa}\n")
    assert table.rules[0].when == Days(frozenset({4, 5, 6, 0}))
    assert table.rules[0].line == 3


def test_time_window_bounds():
    facts = Facts(answers={}, now=datetime(2026, 1, 1, 6, 0))
    assert TimeWindow(time(22), time(6)).value(facts) is False
    assert TimeWindow(time(6), time(7)).value(facts) is True
    assert TimeWindow(time(0), time(6)).value(facts) is False
    assert TimeWindow(time(22), time(6)).value(Facts(answers={})) is None


# --- location ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("location", "rule"), [
    (Location("sharjah", "geolocation"), "geolocated-child"),
    (Location("sharjah", "number-prefix"), "geolocated-child"),
    (Location("sharjah", "answer"), "child"),
    (None, "child"),                               # from the answers: no emirate answered
])
def test_location_source(location, rule):
    assert rule_of(FULL, {"age": "child"}, location=location) == rule


def test_location_emirate(tmp_path):
    table = routes(tmp_path, "- {name: north, when: {location: {emirate: [sharjah, ajman]}}, "
                   "queue: qa}\n")
    assert rule_of(table, {"emirate": "ajman"}) == "north"          # the answer is the location
    assert rule_of(table, {"emirate": "dubai"}) == DEFAULT_RULE
    assert rule_of(table, location=Location("sharjah", "number-prefix")) == "north"
    assert rule_of(table, location=Location(None, "unknown")) == DEFAULT_RULE


# --- live queue state ----------------------------------------------------------------------------

def queue_table(tmp_path: Path) -> Table:
    return routes(tmp_path, """\
        - name: nobody
          when: {queue: {name: qa, no_agents: true}}
          queue: qb
        - name: all-busy
          when: {queue: {name: qa, none_available: true}}
          queue: qb
        - name: crowded
          when: {queue: {name: qb, callers_waiting_at_least: 5, longest_wait_at_least: 120}}
          queue: qa
        - name: staffed
          when: {not: {queue: {name: qa, no_agents: true}}, age: child}
          queue: qa
        """)


@pytest.mark.parametrize(("queues", "rule"), [
    ({"qa": QueueState(0, 0, 0, 0)}, "nobody"),
    ({"qa": QueueState(3, 0, 4, 10)}, "all-busy"),
    ({"qa": STAFFED, "qb": QueueState(1, 0, 5, 120)}, "crowded"),
    ({"qa": STAFFED, "qb": QueueState(1, 0, 5, 119.5)}, "staffed"),
    ({"qa": STAFFED, "qb": QueueState(1, 0, 4, 300)}, "staffed"),
    ({}, DEFAULT_RULE),                            # unknown state matches nothing...
    ({"qb": QueueState(0, 0, 9, 999)}, "crowded"),
])
def test_queue_state(tmp_path, queues, rule):
    assert rule_of(queue_table(tmp_path), {"age": "child"}, queues=queues) == rule


def test_unknown_queue_state_does_not_match_even_under_not(tmp_path):
    # ...not even through `not`: "not (a has no agents)" is unknown when a's state is.
    table = queue_table(tmp_path)
    assert match(facts_of({"age": "child"}, table, queues={"qb": STAFFED}), table) is None
    assert rule_of(table, {"age": "child"}, queues={"qa": STAFFED}) == "staffed"


# --- all / any / not: three-valued -------------------------------------------------------------

T, F, U = CallerWithheld(), Not(CallerWithheld()), Holiday(Calendar("c", {}))
NO_CLOCK = Facts(answers={})  # withheld caller, no time: T true, F false, U unknown


@pytest.mark.parametrize(("condition", "value"), [
    (All(()), True),
    (All((T, T)), True),
    (All((T, F)), False),
    (All((U, F)), False),
    (All((T, U)), None),
    (AnyOf((F, T)), True),
    (AnyOf((U, T)), True),
    (AnyOf((F, U)), None),
    (AnyOf((F, F)), False),
    (Not(U), None),
    (Not(Not(T)), True),
    (All((T, AnyOf((F, Not(F))), Not(All((T, F))))), True),
])
def test_combinators(condition, value):
    assert condition.value(NO_CLOCK) is value


def test_nested_yaml_combinators(tmp_path):
    table = routes(tmp_path, """\
        - name: r
          when:
            all:
              - any:
                  - {age: child}
                  - all: [{age: adult}, {not: {gender: male}}]
              - not: {any: [{condition: psychiatric}, {caller: withheld}]}
          queue: qa
        """)
    caller = "+97141234567"
    assert rule_of(table, {"age": "child"}, caller=caller) == "r"
    assert rule_of(table, {"age": "adult", "gender": "female"}, caller=caller) == "r"
    assert rule_of(table, {"age": "adult", "gender": "male"}, caller=caller) == DEFAULT_RULE
    assert rule_of(table, {"age": "child", "condition": "psychiatric"}, caller=caller) == (
        DEFAULT_RULE)
    assert rule_of(table, {"age": "child"}) == DEFAULT_RULE  # withheld


# --- shadowing, as far as it can be proven -------------------------------------------------------

def answer(question: str, *values: str) -> Answer:
    return Answer(question, frozenset(values))


def test_shadows_is_conservative():
    night = TimeWindow(time(22), time(6))
    child = answer("age", "child")
    assert shadows(All((night,)), All((child, night)))
    assert shadows(answer("age", "child", "adult"), All((child, CallerWithheld())))
    assert shadows(Days(frozenset({4, 5})), Days(frozenset({4})))
    assert not shadows(All((child, night)), All((night,)))
    assert not shadows(TimeWindow(time(21), time(7)), night)  # true, but not proven: allowed
    assert not shadows(AnyOf((child,)), child)


def test_holiday_calendar_entries():
    uae = FULL.calendars["uae"]
    assert dict(uae.days) == {date(2026, 12, 2): "", date(2026, 12, 3): "National Day holiday"}
    assert FULL.lists["repeat-callers"] == frozenset({"+971501234567", "+97141234567",
                                                       "+97165551234"})
    assert QueueTest("a", "no_agents", 1) in {QueueTest("a", "no_agents", 1)}
