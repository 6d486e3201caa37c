"""`balagh ivr check`: every path through the shipped menu ends in a queue; dead ends are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from balagh.cli import main
from balagh.ivr.check import check_menu, served_queues
from balagh.ivr.menu import load_menu
from balagh.routing.load import load_table

from .shipped import FIXTURES, IVR_FILE, QUEUES_CONF, ROUTING_FILE

IVR = IVR_FILE
ROUTING = ROUTING_FILE
DEAD = FIXTURES / "ivr" / "dead-end"


def _check(ivr: Path = IVR, queues_conf: Path | None = QUEUES_CONF):
    menu = load_menu(ivr)
    table = load_table(ROUTING, menu.answer_values())
    return check_menu(menu, table, served_queues(queues_conf) if queues_conf else None)


def test_shipped_menu_has_no_dead_end():
    result = _check()
    assert result.ok, result.problems[:3]
    # Every queue of the table is reachable, and every key, timeout and danger key is walked.
    assert set(result.endings) == set(load_table(ROUTING).queues)
    assert result.paths > 1000


def test_sandbox_queues_conf_serves_every_queue():
    assert served_queues(QUEUES_CONF) == set(load_table(ROUTING).queues)


def test_loop_is_a_dead_end_named_by_its_path():
    result = _check(DEAD / "loop.yaml")
    assert not result.ok
    first = str(result.problems[0])
    assert "gender=2 > age again" in first
    assert "loop: 'age' is asked again" in first


def test_queue_missing_from_queues_conf_is_a_dead_end():
    result = _check(queues_conf=DEAD / "queues-without-mental-health.conf")
    assert not result.ok
    messages = {problem.message for problem in result.problems}
    assert any("balagh-mental-health" in message for message in messages)
    # The path says how a caller gets there: the psychiatric key of the condition question.
    assert all("condition=2" in problem.path for problem in result.problems)


def test_cli_exit_codes(capsys: pytest.CaptureFixture[str]):
    assert main(["ivr", "check"]) == 0
    assert "every one ends in a queue" in capsys.readouterr().out
    assert main(["ivr", "check", "--ivr", str(DEAD / "loop.yaml")]) == 1
    out = capsys.readouterr().out
    assert "DEAD END" in out and "loop" in out
