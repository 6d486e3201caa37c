"""The report's word catalogue: every word in both languages, every column named."""

from __future__ import annotations

import pytest

from balagh.stats.labels import LANGUAGES, NAMES, TEXT, name, text
from balagh.stats.pack import GROUP_TITLES
from balagh.stats.render import COLUMNS

from .shipped import REPO


@pytest.mark.parametrize("catalogue", [TEXT, NAMES])
def test_every_entry_has_every_language(catalogue):
    for key, words in catalogue.items():
        assert set(words) == set(LANGUAGES), key


def test_every_column_and_section_has_a_heading():
    for column, _ in COLUMNS:
        assert text(column, "ar") and text(column, "en")
    for _, title in GROUP_TITLES:
        assert text(title, "ar")


def test_the_shipped_queues_rules_and_questions_have_names():
    import yaml

    routing = yaml.safe_load((REPO / "config" / "routing.yaml").read_text(encoding="utf-8"))
    ivr = yaml.safe_load((REPO / "config" / "ivr.yaml").read_text(encoding="utf-8"))
    ids = {*routing["queues"], *(rule["name"] for rule in routing["rules"]),
           *(question["id"] for question in ivr["questions"])}
    emirates = next(q for q in ivr["questions"] if q["id"] == "emirate")["options"].values()
    assert {*ids, *emirates} - set(NAMES) == set()


def test_unknown_ids_are_shown_as_they_are():
    assert name("night-line", "ar") == "night-line"
    assert name("dubai", "ar") == "دبي"
    assert text("sl_note", "en", seconds=30).endswith("within 30 seconds.")
