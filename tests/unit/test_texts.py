"""The one word catalogue: every word in both languages, every column and id named, one
word per id for the console, the statistics and the report pack alike."""

from __future__ import annotations

import pytest

from balagh.console import pages
from balagh.stats.pack import GROUP_TITLES
from balagh.stats.render import COLUMNS
from balagh.texts import (
    CATALOGUES,
    CONSOLE,
    LANGUAGES,
    NAMES,
    console_labels,
    heading,
    name,
)
from balagh.texts import REPORT as TEXT
from balagh.texts import report_text as text

from .shipped import REPO


@pytest.mark.parametrize("catalogue", [TEXT, NAMES])
def test_every_entry_has_every_language(catalogue):
    for key, words in catalogue.items():
        assert set(words) == set(LANGUAGES), key


@pytest.mark.parametrize("catalogue", sorted(CATALOGUES))
def test_every_key_has_both_languages_and_a_word_in_each(catalogue):
    for key, words in CATALOGUES[catalogue].items():
        assert set(words) == {"ar", "en"}, (catalogue, key)
        assert all(word.strip() for word in words.values()), (catalogue, key)


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_console_and_the_report_show_one_word_per_id(language):
    """Where a stored id is shown as a word, the console's script and pages and the
    report pack's rows say the same word (the report begins a row with a capital)."""
    for key in set(NAMES) - set(CONSOLE):
        shown = pages.label(language, key)
        assert pages.LABELS[language][key] == shown
        assert heading(key, language) == shown[:1].upper() + shown[1:], key


def test_the_words_the_two_catalogues_disagreed_on():
    # The names the agent hears in the summary (sounds/prompts.yaml), for everyone the
    # hotline serves: not "senior citizens" (كبار المواطنين) or "people of determination".
    assert name("elderly-care", "ar") == "رعاية كبار السن"
    assert name("disability-support", "ar") == "دعم ذوي الإعاقة"
    assert name("elderly", "ar") == "كبير السن"
    assert name("women-protection", "en") == "Women's protection"
    assert heading("elderly", "en") == "Elderly" and name("elderly", "en") == "elderly"


def test_console_labels_are_names_with_the_labels_over_them():
    labels = console_labels("ar")
    assert labels["child-protection"] == "حماية الطفل"  # a name
    assert labels["age"] == "الفئة العمرية"  # the console's column, over the question's name
    assert set(labels) == set(NAMES) | set(CONSOLE)
