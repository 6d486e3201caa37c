"""Wrong passwords are counted per client address and user name, atomically: parallel
tries each count, and a stranger's tries from elsewhere never lock the real user out."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from balagh.console.accounts import Accounts

from .test_console import PASSWORD

ATTEMPTS = 3
PARALLEL = 12
ATTACKER, USER_DESK = "203.0.113.9", "198.51.100.7"


def _accounts(tmp_path: Path) -> Accounts:
    accounts = Accounts(tmp_path / "console.sqlite3", lockout_attempts=ATTEMPTS,
                        lockout_minutes=10, busy_timeout_seconds=30)
    accounts.add("amina", PASSWORD, "supervisor", "Amina")
    return accounts


def _parallel_wrong_tries(accounts: Accounts, remote: str) -> list[str]:
    """PARALLEL wrong passwords let go at the same moment from one address."""
    start = threading.Barrier(PARALLEL)

    def attempt(_index: int) -> str:
        start.wait()
        outcome = accounts.login("amina", "not the password", remote)
        assert isinstance(outcome, str)
        return outcome

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(attempt, range(PARALLEL)))


def test_parallel_wrong_passwords_each_count(tmp_path: Path) -> None:
    accounts = _accounts(tmp_path)
    outcomes = _parallel_wrong_tries(accounts, ATTACKER)
    # only ATTEMPTS passwords were even checked; the rest were refused unchecked
    assert sorted(outcomes) == ["locked"] * (PARALLEL - ATTEMPTS) + ["wrong"] * ATTEMPTS
    actions = [row.action for row in accounts.audit_rows(user="amina")]
    assert actions.count("login-failed") == ATTEMPTS
    assert actions.count("login-locked") == PARALLEL - ATTEMPTS  # every refusal audited
    assert accounts.login("amina", PASSWORD, ATTACKER) == "locked"  # even the right one


def test_a_strangers_wrong_tries_do_not_lock_the_user_out(tmp_path: Path) -> None:
    accounts = _accounts(tmp_path)
    _parallel_wrong_tries(accounts, ATTACKER)
    outcome = accounts.login("amina", PASSWORD, USER_DESK)
    assert not isinstance(outcome, str)
    locked = [row for row in accounts.audit_rows(user="amina") if row.action == "login-locked"]
    assert {row.remote for row in locked} == {ATTACKER}
    assert locked[0].detail["tries"] > ATTEMPTS and "until" in locked[0].detail


def test_the_refusal_ends_with_the_window_and_a_success_clears_the_count(
        tmp_path: Path) -> None:
    accounts = _accounts(tmp_path)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    for _ in range(ATTEMPTS):
        assert accounts.login("amina", "wrong", USER_DESK, now) == "wrong"
    assert accounts.login("amina", PASSWORD, USER_DESK, now) == "locked"
    later = now + timedelta(minutes=11)
    assert not isinstance(accounts.login("amina", PASSWORD, USER_DESK, later), str)
    for _ in range(ATTEMPTS - 1):  # the success cleared the count: a full allowance again
        assert accounts.login("amina", "wrong", USER_DESK, later) == "wrong"
    assert not isinstance(accounts.login("amina", PASSWORD, USER_DESK, later), str)
