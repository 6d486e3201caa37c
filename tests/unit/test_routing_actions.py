"""What a matched rule does: queue, priority, announcement, wait, overflow chain; warnings."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from balagh.routing import (
    DEFAULT_RULE,
    Decision,
    Location,
    OverflowStep,
    QueueState,
    Rule,
    Table,
    decide,
)
from balagh.routing.load import load_table

from .routing_facts import facts_of
from .shipped import FIXTURES, ROUTING_FILE, VALUES

FULL = load_table(FIXTURES / "routing" / "good" / "full-form.yaml", VALUES)
SPEC = re.compile(r"[A-Za-z0-9+_.:|-]*")


def routes(tmp_path: Path, text: str) -> Table:
    path = tmp_path / "routing.yaml"
    path.write_text(textwrap.dedent(text))
    return load_table(path, VALUES)


# --- queue, priority, announce, wait, overflow ----------------------------------------------------

def test_women_at_night_on_the_full_fixture():
    facts = facts_of({"age": "adult", "gender": "female", "danger": "yes"}, FULL,
                     caller="+97165551234", now=datetime(2026, 12, 4, 23, 0),
                     location=Location("ajman", "geolocation"),
                     queues={"women-protection": QueueState(0, 0, 1, 20)})
    decision = decide(facts, FULL)
    assert decision == Decision(
        rule="women-at-night", queue="social-welfare", priority=10, announce="night-service",
        wait=60, overflow=(OverflowStep("number", "+97165555555", 30),
                           OverflowStep("queue", "general", None)))
    assert decision.overflow_spec() == "number:+97165555555:30|queue:general"


def test_overflow_steps_take_the_tables_wait_and_end_at_the_default():
    decision = decide(facts_of({"age": "elderly"}, FULL,
                               queues={"general": QueueState(4, 0, 7, 150)}), FULL)
    assert decision.rule == "busy-general"
    assert decision.wait == 120                               # the table's wait: 120
    assert decision.overflow == (
        OverflowStep("queue", "mental-health", 45),
        OverflowStep("number", "+97165555556", None),          # written "06 555 5556"
        OverflowStep("queue", "general", None),                # written, without a wait
    )
    assert decision.overflow_spec() == (
        "queue:mental-health:45|number:+97165555556|queue:general")


def test_a_unit_without_overflow_still_ends_at_the_general_line():
    decision = decide(facts_of({"age": "child"}, FULL, caller="+97141234567"), FULL)
    assert decision == Decision("child", "child-protection", 0, None, 120,
                                (OverflowStep("queue", "general", None),))


def test_a_rule_to_the_default_queue_and_the_default_have_no_chain():
    blocked = decide(facts_of({"danger": "yes"}, FULL, caller="+971559999999"), FULL)
    assert blocked == Decision("blocked", "general", 10)        # danger lifts -5 to 10
    assert blocked.overflow_spec() == ""
    assert (decide(facts_of({}, FULL, caller="+97141234567"), FULL)
            == Decision(DEFAULT_RULE, "general", 0))


def test_announcement_and_prompts_used():
    decision = decide(facts_of({"age": "child"}, FULL,
                               location=Location("dubai", "geolocation")), FULL)
    assert (decision.rule, decision.announce) == ("geolocated-child", "connecting-child")
    assert FULL.prompts_used() == ["night-service", "connecting-child"]


def test_hand_made_rule_defaults():
    table = Table(queues=("a", "general"), rules=(Rule("r", {"age": "child"}, "a"),),
                  default_queue="general")
    assert decide(facts_of({"age": "child"}, table), table) == Decision(
        "r", "a", 0, None, 90, (OverflowStep("queue", "general", None),))
    assert table.prompts_used() == []
    assert table.timezone == "Asia/Dubai" and table.warnings == ()


@pytest.mark.parametrize(("steps", "spec"), [
    ((), ""),
    ((OverflowStep("queue", "general"),), "queue:general"),
    ((OverflowStep("queue", "social-welfare", 60), OverflowStep("number", "+97165555555"),
      OverflowStep("queue", "general")),
     "queue:social-welfare:60|number:+97165555555|queue:general"),
])
def test_overflow_spec(steps, spec):
    decision = Decision("r", "a", 0, wait=90 if steps else 0, overflow=steps)
    assert decision.overflow_spec() == spec
    assert SPEC.fullmatch(spec)


def test_overflow_spec_refuses_what_the_dialplan_cannot_split():
    with pytest.raises(ValueError, match="cannot split"):
        Decision("r", "a", 0, overflow=(OverflowStep("queue", "a,b"),)).overflow_spec()


def test_rule_wait_and_announce_from_yaml(tmp_path):
    table = routes(tmp_path, """\
        queues: [qa, qb, general]
        wait: 45
        rules:
          - name: r
            when: {age: child}
            queue: qa
            announce: please-hold
            overflow: [{queue: qb}]
        default: general
        """)
    decision = decide(facts_of({"age": "child"}, table), table)
    assert (decision.announce, decision.wait) == ("please-hold", 45)
    assert decision.overflow_spec() == "queue:qb:45|queue:general"


# --- warnings ------------------------------------------------------------------------------------

def test_shipped_table_and_good_fixtures_have_no_warnings():
    assert load_table(ROUTING_FILE, VALUES).warnings == ()
    for path in sorted((FIXTURES / "routing" / "good").glob("*.yaml")):
        assert load_table(path, VALUES).warnings == (), path.name


WARNED = """\
queues: [qa, qb, unused, general]       # line 1
lists:
  nobody: []                          # line 3
calendars:
  uae: [2026-12-02]
rules:
  - name: night                       # line 7
    when: {time: {from: "22:00", to: "06:00"}}
    queue: qa
    overflow:
      - {queue: qb}
      - {queue: qa}                    # line 12: back to its own queue
  - name: weekend
    when: {days: [fri, sat], any: [{caller: {list: nobody}}, {age: child}]}
    queue: qb
  - name: to-empty
    when: {queue: {name: qa, no_agents: true}, age: adult}
    queue: qa                          # line 18
  - name: after-holiday
    when: {holiday: uae}
    queue: qb
  - name: clock-after-holiday-rule
    when: {days: [sun]}
    queue: qb
default: general
"""


def test_warnings_name_line_and_key(tmp_path):
    table = routes(tmp_path, WARNED)
    found = [(warning.line, warning.key, warning.message) for warning in table.warnings]
    assert found == [
        (1, "queues[2]", "queue 'unused' is listed but no rule, overflow step or default "
                         "sends calls to it"),
        (3, "lists.nobody", "list 'nobody' has no numbers: a caller condition on it never "
                            "matches"),
        (12, "rules[0].overflow[1].queue", "goes back to queue 'qa', where the caller has "
                                           "already waited"),
        (8, "rules[0].when", "tests only the clock (time, days): on a public holiday it follows "
                             "the working-week timetable; add 'not: {holiday: NAME}' if the "
                             "unit is closed on holidays"),
        (18, "rules[2].queue", "sends calls to 'qa' exactly when it has no agent logged in"),
    ]
    assert str(table.warnings[0]) == (f"{tmp_path / 'routing.yaml'}:1: queues[2]: queue "
                                      "'unused' is listed but no rule, overflow step or default "
                                      "sends calls to it")
    # Warnings never change routing.
    noon = facts_of({"age": "child"}, table, now=datetime(2026, 12, 4, 12))
    assert decide(noon, table).queue == "qb"
