"""Who may monitor: finding a supervisor by phone, queues, and the lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from balagh.supervise import PinAttempt, Supervisor, SupervisorTable, locked_until, phone_keys

AMINA = Supervisor("Amina", frozenset({"201", "PJSIP/sup1"}), "scrypt$x",
                   frozenset({"child-protection", "women-protection"}))
OMAR = Supervisor("Omar", frozenset({"+97141234567", "PJSIP/sup-omar"}), "scrypt$y", None)
TABLE = SupervisorTable((AMINA, OMAR), lockout_attempts=5, lockout_minutes=15)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("caller", "channel", "keys"), [
    ("201", "PJSIP/sup1-0000002a", ["201", "PJSIP/sup1"]),
    (None, "PJSIP/sup-omar-0000002b", ["PJSIP/sup-omar"]),
    ("", "Local/201@balagh-monitor-00000001;1", ["Local/201@balagh-monitor"]),
    ("  202 ", "", ["202"]),
    (None, "PJSIP/sup1", ["PJSIP/sup1"]),
    ("PJSIP/sup1", "PJSIP/sup1-00000001", ["PJSIP/sup1"]),
    (None, "", []),
])
def test_phone_keys(caller: str | None, channel: str, keys: list[str]) -> None:
    assert phone_keys(caller, channel) == keys


def test_find_by_number_or_by_channel_name() -> None:
    assert TABLE.find("201") is AMINA
    assert TABLE.find("+97141234567") is OMAR
    assert TABLE.find(*phone_keys(None, "PJSIP/sup1-0000002a")) is AMINA
    assert TABLE.find(*phone_keys("999", "PJSIP/sup-omar-0000002b")) is OMAR
    assert TABLE.find(*phone_keys("201", "PJSIP/sup-omar-0000002b")) is AMINA  # number first


def test_find_matches_exactly_or_not_at_all() -> None:
    assert TABLE.find("20") is None
    assert TABLE.find("2010") is None
    assert TABLE.find("PJSIP/sup") is None
    assert TABLE.find("PJSIP/sup1-0000002a") is None  # a channel name needs phone_keys
    assert TABLE.find("pjsip/sup1") is None
    assert TABLE.find(None, "") is None
    assert TABLE.find() is None
    assert SupervisorTable().find("201") is None


def test_get_by_name() -> None:
    assert TABLE.get("Omar") is OMAR
    assert TABLE.get("omar") is None
    assert TABLE.names == ("Amina", "Omar")


def test_may_monitor_only_their_queues() -> None:
    assert AMINA.may_monitor("child-protection")
    assert not AMINA.may_monitor("general")
    assert not AMINA.may_monitor(None)  # no queue known: only for an all-queues supervisor
    assert OMAR.may_monitor("general") and OMAR.may_monitor(None)


def test_the_hash_is_not_in_the_repr() -> None:
    assert "scrypt" not in repr(AMINA) and "scrypt" not in repr(TABLE)


# --- lockout -------------------------------------------------------------------------------

def wrong(minutes_ago: float) -> PinAttempt:
    return PinAttempt(NOW - timedelta(minutes=minutes_ago), ok=False)


def right(minutes_ago: float) -> PinAttempt:
    return PinAttempt(NOW - timedelta(minutes=minutes_ago), ok=True)


def test_four_wrong_pins_do_not_lock_five_do() -> None:
    attempts = [wrong(m) for m in (1, 2, 3, 4)]
    assert locked_until(attempts, TABLE, NOW) is None
    attempts = [wrong(0.5), *attempts]
    assert locked_until(attempts, TABLE, NOW) == NOW + timedelta(minutes=14.5)


def test_the_order_of_attempts_does_not_matter() -> None:
    attempts = [wrong(m) for m in (3, 0.5, 4, 1, 2)]
    assert locked_until(attempts, TABLE, NOW) == NOW + timedelta(minutes=14.5)


def test_a_right_pin_resets_the_count() -> None:
    assert locked_until([wrong(1), wrong(2), right(3), wrong(4), wrong(5), wrong(6)],
                        TABLE, NOW) is None
    # ... but five wrong ones after it lock again
    attempts = [wrong(m) for m in (1, 2, 3, 4, 5)] + [right(6)]
    assert locked_until(attempts, TABLE, NOW) == NOW + timedelta(minutes=14)


def test_a_lock_runs_out() -> None:
    attempts = [wrong(m) for m in (15, 16, 17, 18, 19)]
    assert locked_until(attempts, TABLE, NOW) is None  # the newest is exactly 15 minutes old
    attempts = [wrong(m) for m in (14.9, 16, 17, 18, 19)]
    assert locked_until(attempts, TABLE, NOW) is not None
    assert locked_until(attempts, TABLE, NOW + timedelta(minutes=0.2)) is None


def test_the_table_sets_the_threshold_and_the_length() -> None:
    strict = SupervisorTable((AMINA,), lockout_attempts=2, lockout_minutes=60)
    assert locked_until([wrong(30), wrong(50)], strict, NOW) == NOW + timedelta(minutes=30)
    assert locked_until([wrong(30)], strict, NOW) is None


def test_naive_times_are_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    attempts = [PinAttempt(naive - timedelta(minutes=m), ok=False) for m in (1, 2, 3, 4, 5)]
    assert locked_until(attempts, TABLE, NOW) == NOW + timedelta(minutes=14)
