"""explain(): the matching rule, why each rule above it did not match, and the decision."""

from __future__ import annotations

from datetime import datetime

import pytest

from balagh.routing import Location, QueueState, decide, explain
from balagh.routing.load import load_table

from .routing_facts import facts_of
from .shipped import FIXTURES, ROUTING_FILE, VALUES

SHIPPED = load_table(ROUTING_FILE, VALUES)
FULL = load_table(FIXTURES / "routing" / "good" / "full-form.yaml", VALUES)
LINE = {rule.name: rule.line for rule in SHIPPED.rules}


def test_shipped_table_adult_woman_in_danger_on_national_day():
    facts = facts_of({"language": "ar", "danger": "yes", "age": "adult", "gender": "female"},
                     SHIPPED, caller="06 555 1234", now=datetime(2026, 12, 2, 3, 0),
                     location=Location("sharjah", "number-prefix"))
    told = explain(facts, SHIPPED)
    assert told.text() == f"""\
answers:  age=adult danger=yes gender=female language=ar
caller:   +97165551234
location: sharjah (number-prefix)
time:     Wed 2026-12-02 03:00 Asia/Dubai, National Day (uae)
queues:   unknown (live queue conditions cannot match)

rules, top to bottom:
  no      child (line {LINE['child']}): age is adult, not child
  no      disability (line {LINE['disability']}): condition was not answered (needs disability)
  no      psychiatric (line {LINE['psychiatric']}): condition was not answered (needs psychiatric)
  no      unable-to-self-care (line {LINE['unable-to-self-care']}): condition was not answered \
(needs unable-to-self-care)
  no      elderly (line {LINE['elderly']}): age is adult, not elderly
  MATCH   adult-female (line {LINE['adult-female']}): age is adult; gender is female

decision: rule adult-female -> queue women-protection, priority 10
  announce: -
  path:     women-protection (90 s) -> general (until answered)
  overflow spec: queue:general"""
    assert told.decision == decide(facts_of(told.facts.answers, SHIPPED), SHIPPED)
    assert told.matched is not None and told.matched.rule == "adult-female"


def test_shipped_table_default_route():
    told = explain(facts_of({"age": "adult", "gender": "male", "condition": "none"}, SHIPPED),
                   SHIPPED)
    lines = told.text().splitlines()
    assert lines[1:5] == [
        "caller:   withheld",
        "location: unknown",
        "time:     unknown (time, day and holiday conditions cannot match)",
        "queues:   unknown (live queue conditions cannot match)",
    ]
    assert lines[-7:] == [
        f"  no      adult-female (line {LINE['adult-female']}): gender is male, not female",
        "  no rule matched: the default queue general",
        "",
        "decision: rule default -> queue general, priority 0",
        "  announce: -",
        "  path:     general (until answered)",
        "  overflow spec: (none)",
    ]
    assert told.matched is None and len(told.verdicts) == len(SHIPPED.rules)


def reasons(answers: dict[str, str], **context: object) -> dict[str, tuple[str, str]]:
    told = explain(facts_of(answers, FULL, **context), FULL)  # type: ignore[arg-type]
    return {verdict.rule: (verdict.outcome, verdict.reason) for verdict in told.verdicts}


WOMAN = {"age": "adult", "gender": "female", "emirate": "sharjah"}
NIGHT = datetime(2026, 12, 4, 23, 30)  # a Friday
EMPTY = {"women-protection": QueueState(0, 0, 0, 0)}


@pytest.mark.parametrize(("answers", "context", "rule", "expected"), [
    (WOMAN, {"caller": "+97141234567"}, "blocked",
     ("no", "caller +97141234567 is not in list blocked")),
    (WOMAN, {"caller": "+97141234567", "now": datetime(2026, 12, 9, 14, 5)}, "women-at-night",
     ("no", "time 14:05 is not between 22:00 and 06:00")),
    (WOMAN, {"caller": "+97141234567", "now": datetime(2026, 12, 2, 23, 5)}, "women-at-night",
     ("no", "2026-12-02 is a holiday in calendar uae")),
    (WOMAN, {"caller": "+97141234567", "now": datetime(2026, 12, 9, 23, 5)}, "women-at-night",
     ("no", "day is Wed, not Fri or Sat")),
    (WOMAN, {"caller": "+97141234567"}, "women-at-night",
     ("unknown", "the date is unknown (holiday in calendar uae?)")),
    (WOMAN, {"caller": "04 222 2222", "now": NIGHT, "queues": EMPTY}, "women-at-night",
     ("no", "none of: caller +97142222222 does not start with +9716 / caller +97142222222 "
            "is not in list repeat-callers / caller +97142222222 is not +971501112222 / "
            "caller +97142222222 is not withheld")),
    ({**WOMAN, "emirate": "dubai"}, {"now": NIGHT, "queues": EMPTY}, "women-at-night",
     ("no", "location is dubai (from answer), not ajman or sharjah")),
    (WOMAN, {"now": NIGHT}, "women-at-night",
     ("unknown", "queue women-protection: live state unknown")),
    (WOMAN, {"now": NIGHT, "queues": {"women-protection": QueueState(2, 0, 0, 0)}},
     "women-at-night", ("no", "queue women-protection has 2 agents logged in")),
    (WOMAN, {"now": NIGHT, "queues": EMPTY}, "women-at-night",
     ("match", "age is adult; gender is female; the caller's number is withheld; 2026-12-04 "
               "is not a holiday in calendar uae; time 23:30 is between 22:00 and 06:00; day "
               "is Fri; location is sharjah (from answer); queue women-protection has no agent "
               "logged in")),
    ({"age": "elderly"}, {"queues": {"general": QueueState(1, 0, 6, 100)}}, "busy-general",
     ("no", "queue general's longest wait is 100 s, less than 120 s")),
    ({"age": "elderly"}, {"queues": {"general": QueueState(1, 0, 4, 100)}}, "busy-general",
     ("no", "queue general has 4 callers waiting, fewer than 5")),
    ({"age": "child"}, {"location": Location("ajman", "answer")}, "geolocated-child",
     ("no", "location source is answer, not geolocation or number-prefix")),
    ({"gender": "female"}, {}, "child", ("no", "age was not answered (needs child)")),
])
def test_why_a_rule_did_not_match(answers, context, rule, expected):
    assert reasons(answers, **context)[rule] == expected


def test_explain_shows_the_overflow_path():
    facts = facts_of({"age": "elderly"}, FULL, queues={"general": QueueState(1, 0, 9, 200)})
    told = explain(facts, FULL)
    assert told.text().splitlines()[-4:] == [
        "decision: rule busy-general -> queue social-welfare, priority 0",
        "  announce: -",
        "  path:     social-welfare (120 s) -> mental-health (45 s) -> number +97165555556 "
        "-> general (until answered)",
        "  overflow spec: queue:mental-health:45|number:+97165555556|queue:general",
    ]
    told = explain(facts_of(WOMAN, FULL, now=NIGHT, queues=EMPTY), FULL)
    assert "  announce: night-service" in told.text()
    assert "social-welfare (60 s) -> number +97165555555 (30 s) -> general" in told.text()
