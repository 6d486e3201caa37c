"""The hotline's place in balagh.yaml: `timezone` (one zone for routing and for every time
shown) and `country_code` (what a national number means), checked with file:line:key."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from balagh.config import ConfigError, load_settings
from balagh.hotline.load import HotlineFiles, load_routing
from balagh.privacy import mask_number
from balagh.routing import make_facts, normalise_number
from balagh.routing.load import load_table

from .shipped import CONFIG_DIR


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balagh.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _routing_copy(tmp_path: Path, zone_line: str | None) -> Path:
    """The shipped routing.yaml naming `zone_line` first (or no zone)."""
    lines = (CONFIG_DIR / "routing.yaml").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("timezone:")]
    if zone_line:
        kept.insert(0, zone_line)
    path = tmp_path / "routing.yaml"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    shutil.copy(CONFIG_DIR / "ivr.yaml", tmp_path / "ivr.yaml")
    return path


def test_defaults_are_dubai_and_971(tmp_path):
    routing = _routing_copy(tmp_path, None)
    settings = load_settings(_config(tmp_path, f"routing_file: {routing}\n"), {})
    assert settings.timezone is None and settings.zone == ZoneInfo("Asia/Dubai")
    assert settings.country_code == "971"


def test_the_zone_comes_from_routing_yaml_when_balagh_yaml_names_none(tmp_path):
    routing = _routing_copy(tmp_path, "timezone: Europe/London")
    settings = load_settings(_config(tmp_path, f"routing_file: {routing}\n"), {})
    assert settings.timezone == "Europe/London" and settings.zone == ZoneInfo("Europe/London")


def test_yaml_and_environment_set_both(tmp_path):
    path = _config(tmp_path, 'timezone: Asia/Riyadh\ncountry_code: "966"\n')
    settings = load_settings(path, {})
    assert (settings.timezone, settings.country_code) == ("Asia/Riyadh", "966")
    settings = load_settings(path, {"BALAGH_TIMEZONE": "Europe/London",
                                    "BALAGH_COUNTRY_CODE": "44"})
    assert (settings.timezone, settings.country_code) == ("Europe/London", "44")


@pytest.mark.parametrize(("text", "message"), [
    ("timezone: Asia/Dubia\n", "unknown time zone 'Asia/Dubia'"),
    ("timezone: 4\n", "must be a time zone name"),
    ('country_code: "+971"\n', "country calling code"),
    ('country_code: "999"\n', "country calling code"),
])
def test_a_bad_value_names_file_line_and_key(tmp_path, text, message):
    path = _config(tmp_path, "hotline: \"800700\"\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert str(caught.value).startswith(f"{path}:2: ") and message in str(caught.value)


def test_a_bad_value_in_the_environment_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match=r"BALAGH_TIMEZONE.*unknown time zone"):
        load_settings(_config(tmp_path, ""), {"BALAGH_TIMEZONE": "Mars/Olympus"})


def test_routing_in_another_zone_than_balagh_yaml_is_refused_at_its_line(tmp_path):
    routing = _routing_copy(tmp_path, "timezone: Europe/London")
    line = routing.read_text().splitlines().index("timezone: Europe/London") + 1
    settings = load_settings(_config(tmp_path, f"timezone: Asia/Dubai\n"
                                               f"routing_file: {routing}\n"
                                               f"ivr_file: {tmp_path / 'ivr.yaml'}\n"), {})
    with pytest.raises(ConfigError) as caught:
        load_routing(HotlineFiles.of(settings))
    assert str(caught.value).startswith(f"{routing}:{line}: timezone: Europe/London differs "
                                        "from the hotline's time zone Asia/Dubai")


def test_routing_without_a_zone_takes_the_hotlines(tmp_path):
    routing = _routing_copy(tmp_path, None)
    settings = load_settings(_config(tmp_path, f"timezone: Asia/Riyadh\n"
                                               f"routing_file: {routing}\n"
                                               f"ivr_file: {tmp_path / 'ivr.yaml'}\n"), {})
    table = load_routing(HotlineFiles.of(settings)).table
    assert table.timezone == "Asia/Riyadh" and table.zone == ZoneInfo("Asia/Riyadh")


# --- the country code ---------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("0501234567", "971", "+971501234567"),
    ("050 123 4567", "971", "+971501234567"),
    ("07700 900123", "44", "+447700900123"),
    ("020 7123 4567", "44", "+442071234567"),
    ("0501234567", "966", "+966501234567"),
    ("+971501234567", "44", "+971501234567"),   # international stays itself anywhere
    ("00447700900123", "971", "+447700900123"),
    ("06", "971", "+9716"),                     # a prefix (locations.yaml), not a number
])
def test_a_national_number_is_in_the_configured_country(raw, country, expected):
    assert normalise_number(raw, country) == expected


def test_routing_reads_lists_and_callers_in_the_configured_country(tmp_path):
    routing = tmp_path / "routing.yaml"
    routing.write_text("queues: [general, repeat]\n"
                       "lists: {known: [\"07700 900123\"]}\n"
                       "rules:\n"
                       "  - {name: known, when: {caller: {list: known}}, queue: repeat}\n"
                       "default: general\n", encoding="utf-8")
    table = load_table(routing, country_code="44")
    assert table.country_code == "44" and table.lists["known"] == {"+447700900123"}
    facts = make_facts({}, table.zone, caller="07700900123", country_code="44")
    assert facts.caller == "+447700900123"


@pytest.mark.parametrize(("number", "masked"), [
    ("+971501234567", "+9715****4567"),
    ("+447700900123", "+447****0123"),
    ("+12125550100", "+12****0100"),
    ("0501234567", "05****4567"),          # national, as a trunk gives it
    ("00971501234567", "009715****4567"),  # international with 00
    ("971501234567", "97****4567"),        # digits only: no country told
    ("+97161231234", "+9716****1234"),     # a landline: three hidden
    ("+971501234", "+97****1234"),         # at least three hidden
    ("+9715012", "****12"),                # short
])
def test_masking_keeps_the_country_code_whatever_its_length(number, masked):
    assert mask_number(number) == masked
