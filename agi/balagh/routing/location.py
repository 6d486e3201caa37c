"""Where the person who needs help probably is, and how we know it.

Three sources, most trusted first: the emirate the caller chose on the keypad, the
RFC 6442 geolocation the SIP INVITE carried, the landline area code of the caller's
number. The report stores both the emirate and its source, so a supervisor can tell
"the caller said Sharjah" from "the number is a 06 landline".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from balagh.routing.numbers import DEFAULT_COUNTRY_CODE, normalise_number
from balagh.vocabulary import EMIRATE_QUESTION

__all__ = [
    "EMIRATE_QUESTION",
    "SOURCES",
    "UNKNOWN",
    "Location",
    "emirate_at",
    "emirate_of_number",
    "locate",
]

Source = Literal["answer", "geolocation", "number-prefix", "unknown"]
SOURCES: tuple[Source, ...] = ("answer", "geolocation", "number-prefix", "unknown")


@dataclass(frozen=True)
class Location:
    emirate: str | None
    source: Source

    def __str__(self) -> str:
        return f"{self.emirate} ({self.source})" if self.emirate else "unknown"


UNKNOWN = Location(None, "unknown")


def locate(answers: Mapping[str, str], caller: str | None,
           geolocation_emirate: str | None, prefixes: Mapping[str, str],
           country_code: str = DEFAULT_COUNTRY_CODE) -> Location:
    """The best location we have: answer, else geolocation, else number prefix, else unknown.

    `prefixes` maps normalised number prefixes ("+9714") to emirates (locations.yaml).
    """
    answered = answers.get(EMIRATE_QUESTION)
    if answered:
        return Location(answered, "answer")
    if geolocation_emirate:
        return Location(geolocation_emirate, "geolocation")
    by_number = emirate_of_number(caller, prefixes, country_code)
    if by_number:
        return Location(by_number, "number-prefix")
    return UNKNOWN


def emirate_of_number(caller: str | None, prefixes: Mapping[str, str],
                      country_code: str = DEFAULT_COUNTRY_CODE) -> str | None:
    """The emirate of the longest prefix of the caller's number in `prefixes`."""
    number = normalise_number(caller, country_code)
    if not number or not prefixes:
        return None
    for end in range(len(number), 0, -1):
        emirate = prefixes.get(number[:end])
        if emirate is not None:
            return emirate
    return None


# Approximate bounding boxes (south, north, west, east in degrees), tried in this order:
# the small northern emirates first because their boxes overlap the larger ones'. Borders
# are not rectangles, so a point near a border may be given its neighbour; that is good
# enough to pick a unit, and the caller's own answer always wins over it (see locate()).
_BOXES: tuple[tuple[str, float, float, float, float], ...] = (
    ("ajman", 25.36, 25.47, 55.43, 55.60),
    ("umm-al-quwain", 25.47, 25.65, 55.50, 55.95),
    ("ras-al-khaimah", 25.60, 26.10, 55.75, 56.20),
    ("fujairah", 24.95, 25.65, 56.15, 56.40),
    ("sharjah", 25.20, 25.45, 55.36, 55.75),
    ("dubai", 24.60, 25.36, 54.89, 55.65),
    ("abu-dhabi", 22.60, 24.95, 51.50, 56.05),
)


def emirate_at(lat: float, lon: float) -> str | None:
    """The emirate at a WGS-84 point (e.g. from an RFC 6442 Geolocation header), or None
    outside the UAE. Approximate: see _BOXES."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    for emirate, south, north, west, east in _BOXES:
        if south <= lat <= north and west <= lon <= east:
            return emirate
    return None
