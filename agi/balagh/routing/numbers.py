"""Phone numbers in one spelling (E.164), so a list entry matches the caller ID Asterisk gives.

The same UAE number arrives as "04 123 4567" (national), "0097141234567" (international
dialling prefix), "97141234567" (a trunk that drops the '+') or "+97141234567". Lists,
prefixes and callers are all normalised here before they are compared. The hotline's
country (balagh.yaml `country_code`) says what a national number is; phonenumbers (the
country's own numbering plan, maintained upstream) turns full numbers into E.164.
"""

from __future__ import annotations

import re

import phonenumbers

__all__ = ["DEFAULT_COUNTRY_CODE", "is_e164", "normalise_number"]

DEFAULT_COUNTRY_CODE = "971"  # the United Arab Emirates

# Separators people and trunks put in numbers; they carry no meaning.
_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_E164 = re.compile(r"\+[1-9][0-9]{0,14}")


def normalise_number(raw: str | None, country_code: str = DEFAULT_COUNTRY_CODE) -> str | None:
    """The number as E.164 ("+97141234567"); None when there is no usable number.

    A national number (a leading trunk 0) is in `country_code`'s country. A caller ID
    without digits ("anonymous", "", None) is a withheld number. Digits that are not a
    national or international number (a short code such as 800700) come back as they
    are, so an exact list entry still matches them; so does a number's prefix ("+9714",
    locations.yaml), too short for the numbering plan, with a trunk 0 after the country
    code dropped.
    """
    if raw is None:
        return None
    text = _SEPARATORS.sub("", raw)
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif text.startswith(country_code):
        digits = text  # a trunk that drops the '+'
    elif text.startswith("0"):
        return _national(text, country_code)
    else:
        return text if text.isdigit() else None
    if not digits.isdigit():
        return None
    return _international(digits, country_code)


def _international(digits: str, country_code: str) -> str:
    whole = _possible("+" + digits, None)
    if whole is not None:
        return whole
    if digits.startswith(country_code + "0"):  # "+971 (0)4": the trunk 0 must go
        digits = country_code + digits[len(country_code) + 1:]
    return "+" + digits


def _national(text: str, country_code: str) -> str | None:
    if not text.isdigit():
        return None
    region = phonenumbers.region_code_for_country_code(int(country_code))
    whole = _possible(text, region)
    # A prefix ("06") is too short for the plan: the trunk 0 stands for the country code.
    return whole if whole is not None else "+" + country_code + text[1:]


def _possible(text: str, region: str | None) -> str | None:
    """E.164 when the numbering plan takes `text` as a whole number, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(number: str) -> bool:
    return _E164.fullmatch(number) is not None
