"""Caller numbers in one spelling, where a call comes from, and locations.yaml."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from balagh.config.yamlsrc import ConfigError
from balagh.ivr.menu import load_menu
from balagh.routing import Location, emirate_at, locate, normalise_number
from balagh.routing.load import load_locations
from balagh.routing.location import EMIRATE_QUESTION, emirate_of_number

from .shipped import IVR_FILE, LOCATIONS_FILE

EMIRATES = load_menu(IVR_FILE).answer_values()[EMIRATE_QUESTION]
PREFIXES = load_locations(LOCATIONS_FILE, EMIRATES)


# --- numbers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "04 123 4567", "0097141234567", "+97141234567", "97141234567", "+971 (0)4 123 4567",
    "04-123-4567", "+971 4 123 4567", "00971 4 123 4567",
])
def test_one_dubai_landline_in_every_spelling(raw):
    assert normalise_number(raw) == "+97141234567"


@pytest.mark.parametrize(("raw", "expected"), [
    ("050 123 4567", "+971501234567"),
    ("0501234567", "+971501234567"),
    ("+1 (212) 555-0100", "+12125550100"),
    ("0012125550100", "+12125550100"),
    ("800700", "800700"),        # a short code stays as it is, so an exact entry still matches
    (None, None),
    ("", None),
    ("anonymous", None),         # Asterisk's withheld caller ID
    ("Restricted", None),
    ("+", None),
])
def test_normalise_number(raw, expected):
    assert normalise_number(raw) == expected


# --- locate: answer, then geolocation, then number prefix ---------------------------------------

def test_the_callers_answer_comes_first():
    assert locate({"emirate": "ajman"}, "+97141234567", "dubai", PREFIXES) == Location(
        "ajman", "answer")


def test_geolocation_comes_before_the_number():
    assert locate({"age": "adult"}, "+97141234567", "fujairah", PREFIXES) == Location(
        "fujairah", "geolocation")


def test_the_number_prefix_comes_last():
    assert locate({}, "06 555 1234", None, PREFIXES) == Location("sharjah", "number-prefix")
    assert locate({}, "03 123 4567", None, PREFIXES) == Location("abu-dhabi", "number-prefix")
    assert str(locate({}, "07 222 3333", None, PREFIXES)) == "ras-al-khaimah (number-prefix)"


@pytest.mark.parametrize("caller", [None, "anonymous", "050 123 4567", "+12125550100", "800700"])
def test_no_answer_no_geolocation_no_landline_is_unknown(caller):
    # Mobile numbers are not tied to an emirate; withheld and foreign numbers have none.
    location = locate({"emirate": ""}, caller, None, PREFIXES)
    assert location == Location(None, "unknown")
    assert str(location) == "unknown"


def test_the_longest_prefix_wins():
    prefixes = {"+9716": "sharjah", "+97167": "ajman", "+971674": "umm-al-quwain"}
    assert emirate_of_number("06 555 1234", prefixes) == "sharjah"
    assert emirate_of_number("06 755 1234", prefixes) == "ajman"
    assert emirate_of_number("06 745 1234", prefixes) == "umm-al-quwain"
    assert emirate_of_number("06 745 1234", {}) is None


# --- emirate_at: approximate boxes for RFC 6442 geolocation --------------------------------------

@pytest.mark.parametrize(("lat", "lon", "emirate"), [
    (24.4539, 54.3773, "abu-dhabi"),       # Abu Dhabi city
    (24.2075, 55.7447, "abu-dhabi"),       # Al Ain
    (25.2048, 55.2708, "dubai"),
    (25.3463, 55.4209, "sharjah"),
    (25.4052, 55.5136, "ajman"),
    (25.5647, 55.5552, "umm-al-quwain"),
    (25.8007, 55.9762, "ras-al-khaimah"),
    (25.1288, 56.3265, "fujairah"),
    (25.2854, 51.5310, None),              # Doha
    (23.5880, 58.3829, None),              # Muscat
    (math.nan, 55.0, None),
])
def test_emirate_at(lat, lon, emirate):
    assert emirate_at(lat, lon) == emirate


# --- locations.yaml ------------------------------------------------------------------------------

def test_shipped_prefixes_are_uae_landline_area_codes():
    assert dict(PREFIXES) == {"+9712": "abu-dhabi", "+9713": "abu-dhabi", "+9714": "dubai",
                              "+9716": "sharjah", "+9717": "ras-al-khaimah", "+9719": "fujairah"}
    assert set(PREFIXES.values()) <= EMIRATES
    assert not any(prefix.startswith("+9715") for prefix in PREFIXES)  # mobiles: no location


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "locations.yaml"
    path.write_text(text)
    return load_locations(path, EMIRATES)


def test_prefixes_in_any_spelling(tmp_path):
    assert dict(_load(tmp_path, 'prefixes:\n  "06": sharjah\n  "009717": ras-al-khaimah\n')) == {
        "+9716": "sharjah", "+9717": "ras-al-khaimah"}
    assert dict(_load(tmp_path, "prefixes:\n")) == {}


@pytest.mark.parametrize(("text", "line", "key", "message"), [
    ('prefixes:\n  "+9714": dubai\n  +9716: sharjah\n', 3, "prefixes.+9716",
     "put the number prefix in quotes"),
    ('prefixes:\n  "+9714": dubay\n', 2, "prefixes.+9714", "unknown emirate 'dubay'"),
    ('prefixes:\n  "+9714": dubai\n  "04": dubai\n', 3, "prefixes.04",
     "the same prefix as '+9714' (line 2)"),
    ('prefix:\n  "+9714": dubai\n', 1, "prefix", "unknown key (known: prefixes)"),
    ('prefixes:\n  "Dubai": dubai\n', 2, "prefixes.Dubai", "not a number prefix"),
    ('prefixes: ["+9714"]\n', 1, "prefixes", "must map number prefixes to emirates"),
])
def test_bad_locations_file(tmp_path, text, line, key, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert message in caught.value.message
