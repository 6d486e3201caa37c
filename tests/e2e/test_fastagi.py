"""Dialplan-only sites on the sandbox PBX: the pure-dialplan menu (800701) and a site's own
IVR (800702: the caller's leg carries the BALAGH_* answers), routed by the FastAGI route
service of `balagh run`, with the report written as for an ARI call.

The calls of one batch run at once (keys typed ahead) to keep the file quick.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest

from balagh.testcall import place_call
from balagh.testcall.result import CallResult

from .conftest import report_by_call

MENU = "800701"       # balagh-menu: the whole menu in dialplan
OWN_IVR = "800702"    # balagh-route: the answers are set by the caller's leg
ENTRY = "balagh-softphone"
READ = ("BALAGH_ERROR", "BALAGH_RULE", "BALAGH_OVERFLOW", "BALAGH_WHISPER_general")

# language, danger, age, gender, emirate, condition: the routes of config/routing.yaml
ROUTES = {
    "child-in-danger": ("1,1,1,2,3,0", "child-protection", 10, "child"),
    "child-before-disability": ("2,2,1,1,2,1", "child-protection", 0, "child"),
    "disability": ("2,2,2,1,2,1", "disability-support", 0, "disability"),
    "psychiatric": ("1,2,2,1,4,2", "mental-health", 0, "psychiatric"),
    "unable-to-self-care": ("2,2,2,1,5,3", "social-welfare", 0, "unable-to-self-care"),
    "elderly": ("1,2,3,1,6,0", "elderly-care", 0, "elderly"),
    "adult-woman-in-danger": ("2,1,2,2,7,0", "women-protection", 10, "adult-female"),
    "adult-man-general": ("1,2,2,1,1,0", "general", 0, "default"),
}


@dataclass(frozen=True)
class Placed:
    digits: str
    number: str = MENU
    variables: dict[str, str] = field(default_factory=dict)
    wait_agent: bool = False


BATCH = {
    **{name: Placed(route[0]) for name, route in ROUTES.items()},
    # The danger key (9) at the gender question of an English-speaking child's call.
    "danger-key": Placed("2,2,1,9"),
    # The same call through the ARI app, to compare the reports column by column.
    "ari-twin": Placed("1,2,2,1,4,2", number="800700"),
    # Answered by the sandbox agent: the queue's side of the report, from AMI.
    "answered": Placed("2,2,3,2,4,0", wait_agent=True),
    # A site's own IVR, with answer values and keys mixed, and with bad ones.
    "own-ivr": Placed("", OWN_IVR, {"BALAGH_LANGUAGE": "en", "BALAGH_DANGER": "yes",
                                    "BALAGH_AGE": "adult", "BALAGH_GENDER": "2",
                                    "BALAGH_EMIRATE": "dubai", "BALAGH_CONDITION": "0"}),
    "invalid": Placed("", OWN_IVR, {"BALAGH_LANGUAGE": "en", "BALAGH_DANGER": "maybe",
                                    "BALAGH_AGE": "7", "BALAGH_GENDER": "female",
                                    "BALAGH_EMIRATE": "dubai", "BALAGH_CONDITION": "none"}),
    "invalid-but-a-child": Placed("", OWN_IVR, {"BALAGH_LANGUAGE": "ar", "BALAGH_DANGER": "1",
                                                "BALAGH_AGE": "child", "BALAGH_GENDER": "2",
                                                "BALAGH_EMIRATE": "99"}),
}


@pytest.fixture(scope="module")
async def batch(settings, app) -> dict[str, CallResult]:
    """Every call of BATCH at once; each test reads its own."""
    if app.process is None or app.process.poll() is not None:
        app.start()

    async def one(placed: Placed) -> CallResult:
        return await place_call(settings, placed.number, placed.digits.split(",")
                                if placed.digits else [], ahead=True, context=ENTRY,
                                variables=placed.variables, read_variables=READ,
                                wait_agent=placed.wait_agent, timeout=60)

    started = time.monotonic()
    results = await asyncio.gather(*(one(placed) for placed in BATCH.values()))
    print(f"\n{len(BATCH)} calls at once through the dialplan: "
          f"{time.monotonic() - started:.1f} s")
    return dict(zip(BATCH, results, strict=True))


@pytest.mark.parametrize("name", list(ROUTES))
async def test_every_default_route_through_the_dialplan_menu(settings, batch, name):
    _, queue, priority, rule = ROUTES[name]
    result = batch[name]
    assert (result.queue, result.priority) == (queue, priority)
    assert result.fallback is None
    assert result.variables["BALAGH_ERROR"] is None
    assert result.variables["BALAGH_RULE"] == rule
    assert result.variables["BALAGH_WHISPER_general"]  # the agent's whisper is set
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report is not None
    assert (report["queue"], report["priority"], report["reference"]) == (
        queue, priority, result.reference)
    assert len(report["answers"]) == 6
    assert report["hotline"] == MENU and report["caller"] == "+97165551234"
    # Not waiting for an agent: the caller hung up in the queue, closed from AMI.
    closed = report_by_call(settings, result.hotline_id, wait=10,
                            where=lambda r: r["queue_outcome"] is not None)
    assert closed is not None and closed["queue_outcome"] == "abandoned"
    assert closed["joined_queue"] == queue


async def test_danger_key_routes_at_once_with_top_priority(settings, batch):
    result = batch["danger-key"]
    assert (result.queue, result.priority) == ("child-protection", 10)
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["answers"] == {"language": "en", "danger": "yes", "age": "child"}
    assert report["status_detail"] == "danger-key"
    assert report["language"] == "en"


async def test_the_report_is_written_as_for_an_ari_call(settings, batch):
    dialplan, ari = batch["psychiatric"], batch["ari-twin"]
    ours = report_by_call(settings, dialplan.hotline_id, status="routed")
    theirs = report_by_call(settings, ari.hotline_id, status="routed")
    assert ours is not None and theirs is not None
    assert set(ours) == set(theirs)
    same = ("caller", "language", "status", "rule", "queue", "priority", "location",
            "location_source", "answers")
    assert {k: ours[k] for k in same} == {k: theirs[k] for k in same}
    # The same reference numbers: one sequence, one format.
    assert len(ours["reference"]) == len(theirs["reference"]) and ours["reference"].isdigit()
    assert ours["reference"] != theirs["reference"]
    for column in ("started_at", "routed_at", "channel", "call_id"):
        assert ours[column], column


async def test_answered_call_is_closed_from_ami(settings, batch):
    result = batch["answered"]
    assert result.queue == "elderly-care" and result.agent_answered
    report = report_by_call(settings, result.hotline_id, wait=15,
                            where=lambda r: r["ended_at"] is not None)
    assert report is not None
    assert report["queue_outcome"] == "answered"
    assert report["answered_by"] == "Sandbox elderly-care agent"
    assert report["status"] == "routed"


async def test_own_ivr_answer_values_and_keys(settings, batch):
    result = batch["own-ivr"]
    assert (result.queue, result.priority) == ("women-protection", 10)
    assert result.variables["BALAGH_ERROR"] is None
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert report["answers"] == {"language": "en", "danger": "yes", "age": "adult",
                                 "gender": "female", "emirate": "dubai", "condition": "none"}
    assert report["hotline"] == OWN_IVR


async def test_invalid_variables_are_named_and_the_caller_still_gets_a_queue(settings, batch):
    result = batch["invalid"]
    assert (result.queue, result.priority) == ("general", 0)
    error = result.variables["BALAGH_ERROR"] or ""
    assert "BALAGH_DANGER='maybe'" in error and "BALAGH_AGE='7'" in error
    report = report_by_call(settings, result.hotline_id, status="routed")
    assert "BALAGH_AGE='7'" in report["status_detail"]
    assert report["answers"] == {"language": "en", "gender": "female", "emirate": "dubai",
                                 "condition": "none"}

    child = batch["invalid-but-a-child"]
    assert (child.queue, child.priority) == ("child-protection", 10)
    error = child.variables["BALAGH_ERROR"] or ""
    assert "BALAGH_EMIRATE='99'" in error and "BALAGH_CONDITION: missing" in error


async def test_route_service_down_the_dialplan_still_reaches_general(settings, batch, app):
    app.stop()
    try:
        result = await place_call(settings, MENU, "1,1,1,2,3,0".split(","), ahead=True,
                                  context=ENTRY, read_variables=READ, timeout=60)
        assert result.queue == "general"
        assert result.priority == 0
        assert result.fallback == "FAILURE"
        assert result.reference is None
    finally:
        app.start()
