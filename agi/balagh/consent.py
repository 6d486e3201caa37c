"""Whether the caller said we may text or call them back on the number they called from.

The menu's consent question (id CONSENT_QUESTION) stores its answer like any other answer.
The default is *no*: unanswered, a wrong key, a withheld number or a redacted report all
mean no contact. Every sender asks `may_contact` at the moment it would send or dial, so a
report redacted or a consent withdrawn after the call stops what is still pending.
"""

from __future__ import annotations

from collections.abc import Mapping

from balagh.vocabulary import CONSENT_NO, CONSENT_QUESTION, CONSENT_YES

__all__ = ["CONSENT_NO", "CONSENT_QUESTION", "CONSENT_YES", "consent_word", "may_contact",
           "number_known"]



def may_contact(answers: Mapping[str, str | None], caller: str | None) -> bool:
    """True only when the caller answered yes and their number is known (not withheld,
    not redacted). `answers` maps question id -> the answer's value; `caller` is the
    report's stored number (None when withheld)."""
    if not number_known(caller):
        return False
    return answers.get(CONSENT_QUESTION) == CONSENT_YES


def number_known(caller: str | None) -> bool:
    """A number we could text or call: not withheld, not redacted (no digit left)."""
    return bool(caller) and any(ch.isdigit() for ch in caller or "")


def consent_word(answers: Mapping[str, str | None], caller: str | None) -> str:
    """'yes' or 'no', as the agent, the unit and the statistics see it (`may_contact`)."""
    return CONSENT_YES if may_contact(answers, caller) else CONSENT_NO
