"""Report reference numbers: short, digits only, easy to read back on the phone.

A reference is random digits (never starting with 0, so nobody drops a
leading zero) followed by one Luhn check digit, which catches the usual
slips when a caller reads the number back to a call-taker: one wrong digit
or two neighbours swapped. Pure functions; uniqueness is the store's job.
"""

from __future__ import annotations

import secrets

RANDOM_DIGITS = 6
LENGTH = RANDOM_DIGITS + 1  # the usual reference: 6 random digits + check digit


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit to append to `digits`."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"not a digit string: {digits!r}")
    total = 0
    # Walk from the right; the digit next to the (future) check digit is doubled.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid(reference: str) -> bool:
    """True when `reference` is digits, does not start with 0 and its Luhn digit matches."""
    if len(reference) < 2 or not reference.isascii() or not reference.isdigit():
        return False
    if reference[0] == "0":
        return False
    return luhn_check_digit(reference[:-1]) == reference[-1]


def generate(random_digits: int = RANDOM_DIGITS) -> str:
    """A fresh reference of `random_digits` random digits plus the check digit."""
    if random_digits < 1:
        raise ValueError("a reference needs at least one random digit")
    body = str(1 + secrets.randbelow(9))
    body += "".join(str(secrets.randbelow(10)) for _ in range(random_digits - 1))
    return body + luhn_check_digit(body)


def space_size(random_digits: int = RANDOM_DIGITS) -> int:
    """How many distinct references `generate(random_digits)` can return."""
    return int(9 * 10 ** (random_digits - 1))
