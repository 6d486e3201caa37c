"""Saying numbers with the prompt catalogue: one digit-N prompt per digit.

A reference number is read digit by digit ("three, three, zero, seven") rather
than as a number: it is what a caller copies down, and it needs only ten
recordings per language.
"""

from __future__ import annotations

DIGIT_PROMPTS: tuple[str, ...] = tuple(f"digit-{d}" for d in "0123456789")
# Played by the call flow itself, whatever ivr.yaml asks: the reference read-back
# and the goodbye before the queue.
FLOW_PROMPTS: tuple[str, ...] = ("reference", "connecting")

_DIGITS = frozenset("0123456789")


def say_digits(number: str) -> list[str]:
    """The prompt ids that read `number` aloud, one per digit."""
    if not number or not _DIGITS.issuperset(number):
        # str.isdigit() would also let through '²' or Arabic-Indic digits we have no prompt for.
        raise ValueError(f"not a string of digits 0-9: {number!r}")
    return [f"digit-{digit}" for digit in number]


__all__ = ["DIGIT_PROMPTS", "FLOW_PROMPTS", "say_digits"]
