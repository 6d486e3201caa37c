"""How many SMS parts a text takes: GSM 7-bit when every character is in the GSM default
alphabet (160 in one part, 153 per part when split; the extension table's characters
count twice), otherwise UCS-2 (70, 67 per part; a character outside the BMP counts twice).
Pure."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GSM", "UCS2", "Length", "measure"]

GSM, UCS2 = "gsm", "ucs2"

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = set("^{}\\[~]|€\f")

# (single part, per part when split) in the encoding's units
_LIMITS = {GSM: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class Length:
    encoding: str  # GSM | UCS2
    units: int     # septets (GSM) or UTF-16 code units (UCS-2)
    parts: int


def measure(text: str) -> Length:
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text):
        encoding, units = GSM, sum(2 if ch in _GSM_EXTENSION else 1 for ch in text)
    else:
        encoding, units = UCS2, sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    single, each = _LIMITS[encoding]
    parts = 1 if units <= single else -(-units // each)
    return Length(encoding, units, parts)
