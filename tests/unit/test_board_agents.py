"""The wallboard's agents (console/board.py): each agent's live state from QueueStatus's
QueueMember events, and only their queues' agents for a supervisor."""

from __future__ import annotations

from balagh.console import board
from balagh.console.access import Access, ConsoleUser

NOW = 1_765_000_000.0


def member(queue: str, name: str, **fields: str) -> dict[str, str]:
    return {"Event": "QueueMember", "Queue": f"balagh-{queue}", "Name": name,
            "Status": "1", "Paused": "0", "InCall": "0", "LastCall": "0", "LastPause": "0",
            "Wrapuptime": "0", **fields}


def states(*events: dict[str, str], wrapup_seconds: int = 0,
           ) -> dict[str, tuple[str, float | None, str | None]]:
    return {row["agent"]: (row["state"], row["since"], row["reason"])
            for row in board.agent_rows(events, NOW, wrapup_seconds)}


def test_each_state_and_since_when() -> None:
    assert states(
        member("general", "free", LastCall=str(int(NOW) - 600)),
        member("general", "ringing", Status="6"),
        member("general", "talking", Status="2", InCall="1"),
        member("general", "wrapping", LastCall=str(int(NOW) - 5), Wrapuptime="30"),
        member("general", "lunch", Paused="1", PausedReason="lunch",
               LastPause=str(int(NOW) - 90)),
        member("general", "gone", Status="5"),
    ) == {"free": ("free", NOW - 600, None), "ringing": ("ringing", None, None),
          "talking": ("talking", None, None), "wrapping": ("wrapup", NOW - 5, None),
          "lunch": ("paused", NOW - 90, "lunch"), "gone": ("unavailable", None, None)}


def test_wrapup_from_the_setting_when_the_member_has_none() -> None:
    event = member("child-protection", "a", LastCall=str(int(NOW) - 5))
    assert states(event, wrapup_seconds=10)["a"][0] == "wrapup"
    assert states(event, wrapup_seconds=3)["a"][0] == "free"


def test_an_agent_in_two_queues_shows_once_with_the_state_that_matters() -> None:
    rows = board.agent_rows([member("general", "a"),
                             member("child-protection", "a", Status="2", InCall="1"),
                             {"Event": "QueueMember", "Queue": "sales", "Name": "x"}], NOW)
    assert rows == [{"agent": "a", "state": "talking", "since": None, "reason": None,
                     "queues": ["general", "child-protection"]}]


def test_a_supervisor_sees_only_their_queues_agents() -> None:
    snapshot = board.build(
        queue_events=[member("general", "g"), member("child-protection", "c"),
                      member("general", "both"), member("child-protection", "both")],
        live_ids=set(), reports=[], questions=[], today=board.Today(), now=NOW)
    access = Access(ConsoleUser("amina", "supervisor", "Amina"),
                    frozenset({"child-protection"}), None)
    seen = board.for_user(snapshot, access)["agents"]
    assert [(row["agent"], row["queues"]) for row in seen] == \
        [("both", ["child-protection"]), ("c", ["child-protection"])]
    everyone = board.for_user(snapshot, Access(ConsoleUser("root", "admin", None), None, None))
    assert [row["agent"] for row in everyone["agents"]] == ["both", "c", "g"]
