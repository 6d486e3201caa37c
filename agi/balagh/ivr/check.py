"""`balagh ivr check`: walk every path through the menu and the routing table.

Every key of every question, the danger key, and running out of attempts (by
silence or wrong keys, with or without a default) is followed to its end. A path
must end in a queue the routing table knows and, when queues.conf is given, one
that Asterisk actually serves (balagh-NAME). A question reached again on the same
path is a loop: the caller would never get through. The consent question (asked
after the route is known) is walked where it is asked: its danger key routes the call
again, which must end in a queue too. Pure: no I/O but the loaders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from balagh.ami.queue_names import asterisk_queue, routing_queue
from balagh.config.asterisk_conf import SECTION, read_lines
from balagh.config.values import queue_name_problem
from balagh.config.yamlsrc import ConfigError
from balagh.consent import CONSENT_QUESTION
from balagh.ivr.menu import Menu, Question
from balagh.routing import DANGER_ANSWER, DANGER_QUESTION, Table, decide, make_facts

MAX_PROBLEMS = 200  # enough to see the pattern; a broken menu can have thousands


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CheckResult:
    paths: int = 0
    endings: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    failed: int = 0  # every failed path; `problems` keeps only the first MAX_PROBLEMS
    consent_asked: int = 0  # paths on which the consent question is asked

    @property
    def ok(self) -> bool:
        return not self.problems


def served_queues(queues_conf: Path) -> set[str]:
    """Routing queue names that queues.conf serves as balagh-NAME (templates excluded).

    Files it includes (#include, #tryinclude) are read too. A balagh- queue whose NAME
    the dialplan's pattern cannot match is a ConfigError."""
    served = set()
    for line in read_lines(queues_conf):  # follows #include: FreePBX keeps queues elsewhere
        match = SECTION.match(line.text)
        if not match or "!" in (match.group(3) or ""):
            continue
        name = routing_queue(match.group(1).strip())
        if name and (problem := queue_name_problem(name)):
            raise ConfigError(line.path, line.number, match.group(1).strip(), problem)
        if name:
            served.add(name)
    return served


def check_menu(menu: Menu, table: Table, served: set[str] | None = None) -> CheckResult:
    result = CheckResult()
    if menu.consent is not None:
        for name in sorted(menu.consent.not_for_queues - set(table.queues)):
            _problem(result, ("consent", "not_for_queues"),
                     f"'{name}' is not a queue of the routing table")
    _walk(menu, table, served, menu.questions[0], {}, (), result)
    return result


def _walk(menu: Menu, table: Table, served: set[str] | None, question: Question | None,
          answers: Mapping[str, str], steps: tuple[str, ...], result: CheckResult) -> None:
    if question is None:
        queue = _end(table, served, answers, steps, result)
        if queue is not None:
            _consent(menu, table, served, queue, answers, steps, result)
        return
    if any(step.startswith(f"{question.id}=") for step in steps):
        result.paths += 1
        _problem(result, (*steps, f"{question.id} again"),
                 f"loop: '{question.id}' is asked again on this path, so the caller never "
                 "reaches a queue")
        return
    for key, value in question.options.items():
        _walk(menu, table, served, menu.next_question(question, key),
              {**answers, question.id: value}, (*steps, f"{question.id}={key}"), result)
    if menu.danger_key is not None:
        _end(table, served, {**answers, DANGER_QUESTION: DANGER_ANSWER},
             (*steps, f"{question.id}={menu.danger_key}(danger key)"), result)
    failed = f"{question.id}=no valid key x{question.attempts}"
    if question.default is not None:
        _walk(menu, table, served, menu.next_question(question, None),
              {**answers, question.id: question.default},
              (*steps, f"{failed} -> default {question.default}"), result)
    else:
        _end(table, served, answers, (*steps, f"{failed} -> person"), result)


def _consent(menu: Menu, table: Table, served: set[str] | None, queue: str,
             answers: Mapping[str, str], steps: tuple[str, ...], result: CheckResult) -> None:
    """Every question answered (or defaulted), not in danger: the consent question, if this
    queue's callers are asked. Yes, no or no key keep the route; the danger key routes again.
    (A withheld number is never asked: the path without it is the one just ended.)"""
    consent = menu.consent
    if consent is None or answers.get(DANGER_QUESTION) == DANGER_ANSWER \
            or queue in consent.not_for_queues:
        return
    result.consent_asked += 1
    if menu.danger_key is not None:
        _end(table, served, {**answers, DANGER_QUESTION: DANGER_ANSWER},
             (*steps, f"{CONSENT_QUESTION}={menu.danger_key}(danger key)"), result)


def _end(table: Table, served: set[str] | None, answers: Mapping[str, str],
         steps: tuple[str, ...], result: CheckResult) -> str | None:
    """Route the path's answers; the queue it ends in when that queue is sound."""
    result.paths += 1
    try:
        decision = decide(make_facts(answers, table.zone), table)
    except Exception as exc:  # decide() is total by contract; say so if it is not
        _problem(result, steps, f"routing failed: {type(exc).__name__}: {exc}")
        return None
    if decision.queue not in table.queues:
        _problem(result, steps, f"ends in '{decision.queue}', not a queue of the routing table")
    elif served is not None and decision.queue not in served:
        _problem(result, steps, f"ends in '{decision.queue}' (rule {decision.rule}), but "
                 f"queues.conf has no queue {asterisk_queue(decision.queue)}")
    else:
        result.endings[decision.queue] += 1
        return decision.queue
    return None


def _problem(result: CheckResult, steps: tuple[str, ...], message: str) -> None:
    result.failed += 1
    if len(result.problems) < MAX_PROBLEMS:
        result.problems.append(Problem(" > ".join(steps), message))
