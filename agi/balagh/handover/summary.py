"""The handover summary: one place builds what the agent hears and what the unit's systems get.

Built once per routed call from what the caller said and what routing decided. The
whisper is a list of prompt files in the agents' language, played to the answering agent
before the caller is put through (by app_queue as Queue's announcement override, or, where
the queue's agents accept calls with a key, by the dialplan's balagh-accept-key); the same
facts go on the caller's channel (BALAGH_SUMMARY, for agent phones that show it) and
into the document pushed to the unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Protocol

from balagh.routing import DANGER_ANSWER, DANGER_QUESTION, Decision, Location
from balagh.say import say_digits
from balagh.vocabulary import CONSENT_NO, CONSENT_YES

from .agents import QueueAgents, queue_variables

NO_CONDITION = "none"
GENERAL_QUEUE = "general"  # the dialplan's line of last resort (balagh-queue,general)


class Publisher(Protocol):
    """The outbox as the call path sees it: publish never waits and never raises."""

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None: ...


@dataclass(frozen=True)
class HandoverSettings:
    """How calls are handed over: the caller-hash key (None: no repeat-caller count), the
    language the agents hear the whisper in (per queue in `agents`, else `agent_language`),
    whether they press a key to accept, and the outbox to the units' systems."""

    caller_key: bytes | None = None
    agent_language: str = "ar"
    outbox: Publisher | None = None
    agents: Mapping[str, QueueAgents] = field(default_factory=dict)


@dataclass(frozen=True)
class HandoverSummary:
    reference: str
    queue: str
    priority: int
    danger: bool
    age: str | None
    gender: str | None
    emirate: str | None
    location_source: str
    condition: str | None
    language: str | None
    repeat_calls: int | None  # this number's calls in the last 30 days, this one included
    # May we text or call back on this number ('yes' only when the caller said so and the
    # number is known; balagh.consent). Set by the consent question, after routing.
    consent: str = CONSENT_NO

    def fields(self) -> dict[str, object]:
        """The summary as the document's `report` object."""
        return asdict(self)

    def text(self) -> str:
        """One line for agent phones that display channel variables."""
        parts = [self.queue, "IN DANGER" if self.danger else "",
                 self.age or "", self.gender or "",
                 f"{self.emirate or 'location unknown'} ({self.location_source})",
                 self.condition if self.condition and self.condition != NO_CONDITION else "",
                 f"{self.repeat_calls} calls/30 days" if self.repeat_calls else "",
                 # Said only when yes, like the whisper: nothing said means no contact.
                 "contact ok" if self.consent == CONSENT_YES else "",
                 f"ref {self.reference}"]
        return "; ".join(part for part in parts if part)


def summarise(reference: str, answers: Mapping[str, str], decision: Decision,
              location: Location, repeat_calls: int | None) -> HandoverSummary:
    return HandoverSummary(
        reference=reference, queue=decision.queue, priority=decision.priority,
        danger=answers.get(DANGER_QUESTION) == DANGER_ANSWER,
        age=answers.get("age"), gender=answers.get("gender"), emirate=location.emirate,
        location_source=location.source, condition=answers.get("condition"),
        language=answers.get("language"), repeat_calls=repeat_calls)


CALLBACK_WHISPER = "w-callback"  # first in the whisper of a caller called back (reachback)


def whisper_prompts(summary: HandoverSummary) -> list[str]:
    """The prompt ids the agent hears, in order; facts not known are left out."""
    ids = ["w-report"]
    if summary.danger:
        ids.append("w-in-danger")
    ids.append(f"w-queue-{summary.queue}")
    if summary.age:
        ids.append(f"w-age-{summary.age}")
    if summary.gender:
        ids.append(f"w-gender-{summary.gender}")
    if summary.emirate:
        ids += [f"w-emirate-{summary.emirate}", f"w-location-{summary.location_source}"]
    else:
        ids.append("w-location-unknown")
    if summary.condition and summary.condition != NO_CONDITION:
        ids.append(f"w-condition-{summary.condition}")
    if summary.repeat_calls and summary.repeat_calls > 1:
        ids += ["w-repeat", *say_digits(str(summary.repeat_calls))]
    if summary.consent == CONSENT_YES:  # silence means no: the agent must not call back
        ids.append("w-contact-safe")
    ids += ["w-reference", *say_digits(summary.reference)]
    return ids


def short_whisper_prompts(summary: HandoverSummary) -> list[str]:
    """What an agent with the report on their screen must still hear of a caller in
    danger before the bridge: in danger, the age group, the emirate (or that it is not
    known). The rest is on the screen; every second here is a second the caller waits."""
    ids = ["w-in-danger"]
    if summary.age:
        ids.append(f"w-age-{summary.age}")
    ids.append(f"w-emirate-{summary.emirate}" if summary.emirate else "w-location-unknown")
    return ids


def whisper_files(summary: HandoverSummary, language: str, *, short: bool = False) -> str:
    """Queue's announcement override: the sound files joined by '&', in `language`'s folder
    (named with it, so the agent channel's own language does not matter)."""
    prompts = short_whisper_prompts(summary) if short else whisper_prompts(summary)
    return "&".join(f"{language}/balagh/{prompt}" for prompt in prompts)


def agent_variables(summary: HandoverSummary, decision: Decision,
                    settings: HandoverSettings) -> dict[str, str]:
    """What each queue the caller may wait in plays to its agents and asks of them:
    the routed queue, the overflow chain's queues and the general line."""
    queues = [decision.queue, *(step.target for step in decision.overflow
                                if step.kind == "queue"), GENERAL_QUEUE]
    languages = {rule.language for rule in settings.agents.values() if rule.language}
    everyone = {settings.agent_language, *languages}
    whisper = {language: whisper_files(summary, language) for language in everyone}
    short = {language: whisper_files(summary, language, short=True) for language in everyone} \
        if summary.danger and any(rule.screen for rule in settings.agents.values()) else None
    return queue_variables(queues, settings.agents, whisper, settings.agent_language, short)
