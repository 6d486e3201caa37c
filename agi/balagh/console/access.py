"""Roles: an admin sees and monitors every queue; a supervisor only the queues their
supervisors.yaml entry allows (the same rule as on the phone: Supervisor.may_monitor);
an agent sees no queue at all, only the calls that ring their own queue member
(`member`, e.g. PJSIP/agent1) on their own page (agent_routes.py).

Pure: the caller gives the user and the supervisors table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from balagh.supervise.model import Supervisor, SupervisorTable

ROLES = ("supervisor", "admin", "agent")

T = TypeVar("T")


@dataclass(frozen=True)
class ConsoleUser:
    name: str
    role: str                 # supervisor | admin | agent
    supervisor: str | None    # their name in supervisors.yaml: phones, queues, the audit
    member: str | None = None  # an agent's queue member interface (PJSIP/agent1)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"


@dataclass(frozen=True)
class Access:
    """What one user may see: `queues` None for every queue."""

    user: ConsoleUser
    queues: frozenset[str] | None
    supervisor: Supervisor | None

    def may_see(self, queue: str | None) -> bool:
        if self.queues is None:
            return True
        return queue is not None and queue in self.queues

    def may_monitor(self, queue: str | None) -> bool:
        """Seeing is not enough: ringing a phone needs a supervisor entry (phones) that
        may monitor the queue as well."""
        return self.supervisor is not None and self.may_see(queue) and \
            self.supervisor.may_monitor(queue)

    def visible(self, items: Iterable[T], queue_of: str) -> list[T]:
        """The items (dicts or objects) whose `queue_of` field is a queue this user sees."""
        return [item for item in items if self.may_see(
            item.get(queue_of) if isinstance(item, dict) else getattr(item, queue_of))]


def access_for(user: ConsoleUser, table: SupervisorTable) -> Access:
    if user.is_agent:  # their own calls only: never a queue's reports or the wallboard
        return Access(user, frozenset(), None)
    supervisor = table.get(user.supervisor) if user.supervisor else None
    if user.is_admin:
        return Access(user, None, supervisor)
    if supervisor is None:  # a supervisor account whose entry is gone sees nothing
        return Access(user, frozenset(), None)
    return Access(user, supervisor.queues, supervisor)


def member_problem(member: str) -> str | None:
    """Why `member` is not a queue member interface (TECH/resource), or None."""
    tech, _, resource = member.partition("/")
    if not tech.isalpha() or not resource or len(member) > 80 or any(
            c.isspace() or c in ",;|&" for c in member):
        return f"not a queue member interface (e.g. PJSIP/agent1): {member!r}"
    return None


def dial_phone(supervisor: Supervisor) -> str | None:
    """The phone the console rings: the first that is a dial string (TECH/endpoint)."""
    for phone in sorted(supervisor.phones):
        if "/" in phone:
            return phone if phone.upper().startswith("PJSIP/") or phone.endswith("/n") \
                else f"{phone}/n" if phone.upper().startswith("LOCAL/") else phone
    return None


__all__ = ["ROLES", "Access", "ConsoleUser", "access_for", "dial_phone", "member_problem"]
