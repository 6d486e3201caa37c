"""Whether the caller said we may text or call them back on the number they called from.

The menu's consent question (id CONSENT_QUESTION) stores its answer like any other answer.
The default is *no*: unanswered, a wrong key, a withheld number or a redacted report all
mean no contact. Every sender asks `may_contact` at the moment it would send or dial, so a
report redacted or a consent withdrawn after the call stops what is still pending.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CONSENT_QUESTION", "CONSENT_YES", "may_contact"]

CONSENT_QUESTION = "contact_safe"
CONSENT_YES = "yes"


def may_contact(answers: Mapping[str, str | None], caller: str | None) -> bool:
    """True only when the caller answered yes and their number is known (not withheld,
    not redacted). `answers` maps question id -> the answer's value; `caller` is the
    report's stored number (None when withheld)."""
    if not caller or not any(ch.isdigit() for ch in caller):
        return False
    return answers.get(CONSENT_QUESTION) == CONSENT_YES
