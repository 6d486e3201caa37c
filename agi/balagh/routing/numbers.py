"""Phone numbers in one spelling (E.164), so a list entry matches the caller ID Asterisk gives.

The same UAE number arrives as "04 123 4567" (national), "0097141234567" (international
dialling prefix), "97141234567" (a trunk that drops the '+') or "+97141234567". Lists,
prefixes and callers are all normalised here before they are compared.
"""

from __future__ import annotations

import re

__all__ = ["COUNTRY_CODE", "is_e164", "normalise_number"]

COUNTRY_CODE = "971"  # the United Arab Emirates

# Separators people and trunks put in numbers; they carry no meaning.
_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_E164 = re.compile(r"\+[1-9][0-9]{0,14}")


def normalise_number(raw: str | None) -> str | None:
    """The number as E.164 ("+97141234567"); None when there is no usable number.

    A caller ID without digits ("anonymous", "", None) is a withheld number. Digits that are
    not a UAE national or international number (a short code such as 800700) come back as
    they are, so an exact list entry still matches them.
    """
    if raw is None:
        return None
    text = _SEPARATORS.sub("", raw)
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif text.startswith(COUNTRY_CODE):
        digits = text
    elif text.startswith("0"):
        digits = COUNTRY_CODE + text[1:]  # national format: the trunk 0 stands for +971
    else:
        return text if text.isdigit() else None
    if not digits.isdigit():
        return None
    if digits.startswith(COUNTRY_CODE + "0"):
        digits = COUNTRY_CODE + digits[4:]  # "+971 (0)4 ..." keeps a trunk 0 that must go
    return "+" + digits


def is_e164(number: str) -> bool:
    return _E164.fullmatch(number) is not None
