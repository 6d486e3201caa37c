"""Routing: shipped routes, priorities, validation fixtures, properties of decide()."""

from __future__ import annotations

import itertools
import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balagh.config.yamlsrc import ConfigError
from balagh.ivr.menu import Menu, load_menu
from balagh.routing import (
    DEFAULT_RULE,
    Decision,
    OverflowStep,
    Rule,
    Table,
    decide,
)
from balagh.routing.conditions import All, Answer
from balagh.routing.decide import in_danger, match
from balagh.routing.load import load_table

from .routing_facts import facts_of
from .shipped import FIXTURES as SHARED_FIXTURES
from .shipped import IVR_FILE, ROUTING_FILE

FIXTURES = SHARED_FIXTURES / "routing"
GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))

# Loaded once for the module, so hypothesis tests can use them without function fixtures.
MENU: Menu = load_menu(IVR_FILE)
TABLE: Table = load_table(ROUTING_FILE, MENU.answer_values())


def expected_error(path: Path) -> dict[str, str]:
    """The `# expect-line/key/message:` header every bad fixture carries."""
    return dict(re.findall(r"^# expect-(line|key|message):[ ]?(.*)$", path.read_text(), re.M))


def answers(language="ar", danger="no", age="adult", gender="male", emirate="dubai",
            condition="none") -> dict[str, str]:
    given_ = dict(language=language, danger=danger, age=age, gender=gender, emirate=emirate,
                  condition=condition)
    return {key: value for key, value in given_.items() if value is not None}


# --- the shipped table ------------------------------------------------------------------------

def test_shipped_configs_load_together():
    assert TABLE.queues == ("child-protection", "women-protection", "elderly-care",
                            "disability-support", "mental-health", "social-welfare", "general")
    assert [rule.name for rule in TABLE.rules] == [
        "child", "disability", "psychiatric", "unable-to-self-care", "elderly", "adult-female"]
    assert TABLE.default_queue == "general"
    assert (TABLE.danger_priority, TABLE.normal_priority) == (10, 0)
    assert TABLE.source == ROUTING_FILE
    assert all(rule.line for rule in TABLE.rules)


@pytest.mark.parametrize(("call", "rule", "queue", "priority"), [
    (answers(danger="yes", age="child", gender="female", emirate="sharjah"),
     "child", "child-protection", 10),
    # A child goes to child protection whatever the condition.
    (answers(age="child", condition="psychiatric"), "child", "child-protection", 0),
    (answers(language="en", age="adult", condition="disability"),
     "disability", "disability-support", 0),
    (answers(danger="yes", age="elderly", condition="psychiatric"),
     "psychiatric", "mental-health", 10),
    (answers(age="adult", gender="female", condition="unable-to-self-care"),
     "unable-to-self-care", "social-welfare", 0),
    (answers(age="elderly", gender="female", emirate="fujairah"), "elderly", "elderly-care", 0),
    (answers(danger="yes", age="adult", gender="female", emirate="ajman"),
     "adult-female", "women-protection", 10),
    (answers(age="adult", gender="male"), DEFAULT_RULE, "general", 0),
    (answers(danger="yes", age="adult", gender="male"), DEFAULT_RULE, "general", 10),
])
def test_shipped_routes(call, rule, queue, priority):
    decision = decide(facts_of(call, TABLE), TABLE)
    assert (decision.rule, decision.queue, decision.priority) == (rule, queue, priority)
    assert decision.announce is None
    if queue == "general":
        assert (decision.wait, decision.overflow) == (0, ())
    else:
        # A unit's callers move on to the general line after the table's wait.
        assert decision.wait == 90
        assert decision.overflow == (OverflowStep("queue", "general", None),)
        assert decision.overflow_spec() == "queue:general"


@pytest.mark.parametrize(("call", "priority"), [
    ({}, 0),
    ({"language": "ar"}, 0),
    ({"danger": "yes"}, 10),
    ({"gender": "female", "condition": "none"}, 0),  # no age: not the adult-female rule
    (answers(age=None, gender="female", danger="yes"), 10),
])
def test_missing_answers_go_to_general(call, priority):
    assert decide(facts_of(call, TABLE), TABLE) == Decision(rule=DEFAULT_RULE, queue="general",
                                                            priority=priority)


def test_every_combination_of_answers_gets_a_shipped_queue():
    values = MENU.answer_values()
    ids = list(values)
    choices = [[None, *sorted(values[question])] for question in ids]
    for combo in itertools.product(*choices):
        call = {question: value for question, value in zip(ids, combo, strict=True) if value}
        decision = decide(facts_of(call, TABLE), TABLE)
        assert decision.queue in TABLE.queues
        assert decision.priority == (10 if call.get("danger") == "yes" else 0)


# --- decide / match on hand-made tables ------------------------------------------------------

def table(*rules: Rule, danger: int = 10, normal: int = 0) -> Table:
    queues = tuple(dict.fromkeys([*(rule.queue for rule in rules), "general"]))
    return Table(queues=queues, rules=rules, default_queue="general",
                 danger_priority=danger, normal_priority=normal, source=None)


def test_first_matching_rule_wins():
    first = Rule("first", {"age": "child"}, "a")
    second = Rule("second", {"age": ["child", "adult"]}, "b")
    routes = table(first, second)
    assert match(facts_of({"age": "child"}, routes), routes) is first
    assert match(facts_of({"age": "adult"}, routes), routes) is second
    assert match(facts_of({"age": "elderly"}, routes), routes) is None


def test_all_conditions_must_hold():
    rule = Rule("adult-female", {"age": "adult", "gender": "female"}, "w")
    assert rule.matches({"age": "adult", "gender": "female", "emirate": "dubai"})
    assert not rule.matches({"age": "adult", "gender": "male"})
    assert not rule.matches({"age": "adult"})  # a missing answer never matches


def test_empty_when_matches_every_call():
    assert Rule("all", {}, "q").matches({})


@pytest.mark.parametrize(("rule_priority", "danger", "expected"), [
    (None, "no", 0),
    (None, "yes", 10),
    (None, None, 0),
    (3, "no", 3),        # the rule overrides the normal priority
    (-5, None, -5),
    (3, "yes", 10),      # ...but never puts a caller in danger below the danger priority
    (50, "yes", 50),     # ...and may raise it further
])
def test_priority(rule_priority, danger, expected):
    routes = table(Rule("r", {"age": "child"}, "q", priority=rule_priority))
    call = {"age": "child"} if danger is None else {"age": "child", "danger": danger}
    assert decide(facts_of(call, routes), routes).priority == expected


def test_danger_priority_applies_to_default_route():
    routes = table(danger=7, normal=2)
    danger, safe = facts_of({"danger": "yes"}, routes), facts_of({"danger": "no"}, routes)
    assert decide(danger, routes) == Decision(DEFAULT_RULE, "general", 7)
    assert decide(safe, routes) == Decision(DEFAULT_RULE, "general", 2)
    assert in_danger({"danger": "yes"}) and not in_danger({"danger": "no"})


def test_shadows():
    wide = Rule("wide", {"age": ["adult", "elderly"]}, "q")
    narrow = Rule("narrow", {"age": "adult", "gender": "female"}, "q")
    assert wide.shadows(narrow)
    assert not narrow.shadows(wide)
    assert Rule("all", {}, "q").shadows(narrow)
    assert not Rule("g", {"gender": "male"}, "q").shadows(narrow)


def test_model_is_immutable():
    rule = Rule("child", {"age": ["child"]}, "q")
    assert rule.when == All((Answer("age", frozenset({"child"})),))
    with pytest.raises(FrozenInstanceError):
        rule.when.items = ()  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        TABLE.default_queue = "x"  # type: ignore[misc]
    assert hash(rule) == hash(Rule("child", {"age": "child"}, "q"))


# --- YAML fixtures ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.stem)
def test_good_fixture_loads(path):
    routes = load_table(path, MENU.answer_values())
    assert routes.default_queue in routes.queues
    assert decide(facts_of({}, routes), routes).queue in routes.queues


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.stem)
def test_bad_fixture_fails_at_its_line(path):
    expected = expected_error(path)
    assert set(expected) == {"line", "key", "message"}, f"{path.name}: header incomplete"
    with pytest.raises(ConfigError) as caught:
        load_table(path, MENU.answer_values())
    error = caught.value
    assert (error.line, error.key) == (int(expected["line"]), expected["key"])
    assert expected["message"] in error.message
    assert str(error).startswith(f"{path}:{expected['line']}: ")


def test_fixture_sets_are_not_empty():
    assert len(GOOD) >= 3 and len(BAD) >= 10


def test_questions_are_not_checked_without_a_menu():
    routes = load_table(FIXTURES / "bad" / "unknown-question.yaml")
    assert routes.rules[0].when == Answer("agegroup", frozenset({"child"}))


def test_good_fixture_details():
    routes = load_table(FIXTURES / "good" / "any-of-and-priority.yaml", MENU.answer_values())
    assert (routes.danger_priority, routes.normal_priority) == (20, 1)
    assert Answer("age", frozenset({"adult", "elderly"})) in routes.rules[0].when.items
    elderly = decide(facts_of({"age": "elderly"}, routes), routes)
    assert (elderly.rule, elderly.queue, elderly.priority) == ("elderly", "elderly-care", 5)
    assert decide(facts_of({"age": "elderly", "danger": "yes"}, routes), routes).priority == 20
    assert decide(facts_of({}, routes), routes) == Decision("everyone-else", "general", 1)


# --- properties of decide on the shipped table ------------------------------------------------

def _answer_strategy() -> st.SearchStrategy[dict[str, str]]:
    per_question = {
        question: st.one_of(st.none(), st.sampled_from(sorted(values)), st.text(max_size=8))
        for question, values in MENU.answer_values().items()
    }
    extra = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)
    return st.tuples(st.fixed_dictionaries(per_question), extra).map(
        lambda both: {**both[1], **{k: v for k, v in both[0].items() if v is not None}})


ANSWERS = _answer_strategy()


@given(ANSWERS)
def test_decide_is_total(call):
    decision = decide(facts_of(call, TABLE), TABLE)
    assert decision.queue in TABLE.queues
    assert decision.rule in {DEFAULT_RULE, *(rule.name for rule in TABLE.rules)}
    rule = match(facts_of(call, TABLE), TABLE)
    assert decision.rule == (rule.name if rule else DEFAULT_RULE)


@given(ANSWERS)
def test_decide_is_deterministic(call):
    reordered = dict(reversed(list(call.items())))
    assert (decide(facts_of(call, TABLE), TABLE) == decide(facts_of(call, TABLE), TABLE)
            == decide(facts_of(reordered, TABLE), TABLE))


@given(ANSWERS)
def test_danger_is_never_below_danger_priority(call):
    call = {**call, "danger": "yes"}
    assert decide(facts_of(call, TABLE), TABLE).priority >= TABLE.danger_priority == 10


# --- the shipped table's commented examples ----------------------------------------------------

def test_commented_examples_in_the_shipped_table_load_when_switched_on(tmp_path):
    text = (ROUTING_FILE).read_text()
    on = re.sub(r"^  # (?=- name:|  )", "  ", text, flags=re.M)
    on = re.sub(r"^# (?=lists:|  repeat-callers:)", "", on, flags=re.M)
    path = tmp_path / "routing.yaml"
    path.write_text(on)
    routes = load_table(path, MENU.answer_values())
    assert [rule.name for rule in routes.rules] == [
        "child", "disability", "psychiatric", "unable-to-self-care", "elderly", "women-at-night",
        "adult-female", "repeat-northern"]
    assert routes.warnings == ()
    assert routes.lists["repeat-callers"] == frozenset({"+971501234567", "+97141234567"})
