"""What must not leave the process in clear: secrets in error texts, callers' numbers.

Shared by the logs, the store (status_detail) and `balagh reports`, so one rule
decides what is scrubbed wherever text is written.
"""

from __future__ import annotations

import re

import phonenumbers

WITHHELD = "withheld"
REDACTED = "[redacted]"
PLACE_HIDDEN = "[place]"

# ARI accepts its credentials in a request URL (api_key=user:password) and HTTP
# libraries' errors quote the URL; clients put passwords, tokens or signatures in query
# strings, URL user-info or Authorization headers. Scrubbed wherever a line comes from.
_QUERY_SECRET = re.compile(
    r"((?:api_key|apikey|password|passwd|secret|token|access_token|signature|sig)=)"
    r"[^&\s'\"]+", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@'\"]+@", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact_text(text: str) -> str:
    """`text` with anything shaped like a credential replaced by [redacted]."""
    text = _QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    return _AUTH_HEADER.sub(rf"\1 {REDACTED}", text)


def mask_number(number: str | None) -> str:
    """'+971501234567' -> '+9715****4567': the country code (as long as the numbering plan
    says: +1, +44, +971) and the first digit of the network stay readable, the subscriber
    does not. A number as a trunk gives it keeps as little: '0501234567' -> '05****4567',
    '00971501234567' -> '009715****4567'. At least three digits are always hidden (a
    landline's subscriber number is seven); short numbers keep their last two digits only."""
    if not number:
        return WITHHELD
    if len(number) <= 8:
        return "****" + number[-2:]
    head = _readable_head(number)
    hidden = len(number) - len(head) - 4
    if hidden < 3:
        head = head[:max(0, len(head) - (3 - hidden))]
    return head + "****" + number[-4:]


def _readable_head(number: str) -> str:
    """The international prefix ('+' or '00') with the country code and one more digit;
    a national number's trunk '0' with one more digit; else the first two characters."""
    for prefix in ("+", "00"):
        if number.startswith(prefix):
            rest = number[len(prefix):]
            try:
                country = phonenumbers.parse("+" + rest, None).country_code
            except phonenumbers.NumberParseException:
                country = None
            if country:
                return number[:len(prefix) + len(str(country)) + 1]
            return number[:len(prefix) + 1]
    return number[:2]


# A phone number in free text: '+' and 7 to 15 digits, maybe grouped by spaces, dots or
# dashes as people write them (+971 50 123 4567), or 9 to 15 bare digits (a local mobile
# number), not part of a longer word or number. Asterisk's ids (1765090000.42), dates and
# Balagh's 7-digit references are not numbers of people and stay readable.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.+])(?:\+\d(?:[ .-]?\d){6,14}|\d{9,15})(?![\w]|\.\d)")
_GROUPING = re.compile(r"[ .-]")


def mask_numbers_in_text(text: str) -> str:
    """Every phone-number-shaped run of digits in `text` masked (mask_number)."""
    return _NUMBER_IN_TEXT.sub(lambda found: mask_number(_GROUPING.sub("", found.group())),
                               text)


def error_kind(exc: BaseException) -> str:
    """What went wrong, without the message (which can quote URLs with credentials or a
    caller's data): the exception's type and, for an HTTP error, the status code."""
    kind = type(exc).__name__
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return f"{kind} {status}"
    return kind


__all__ = ["PLACE_HIDDEN", "REDACTED", "WITHHELD", "error_kind", "mask_number",
           "mask_numbers_in_text", "redact_text"]
