"""The console's words on its pages and in its script's JSON come from balagh.texts."""

from __future__ import annotations

import json

import pytest

from balagh.console import pages
from balagh.texts import LANGUAGES, console_labels


def _script_labels(page: str) -> dict[str, str]:
    start = page.index('<script id="labels" type="application/json">')
    body = page[page.index(">", start) + 1:page.index("</script>", start)]
    return json.loads(body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_script_gets_every_word_of_the_catalogue(language: str) -> None:
    page = pages.wallboard_page(language, "amina", "token")
    assert _script_labels(page) == console_labels(language)


def test_the_statistics_total_row_is_in_the_page_language() -> None:
    page = pages.stats_page("ar", user="root", csrf="token", filters={"by": "queue"},
                            chart=None, columns=("queue", "calls"), rows=[("general", 2)],
                            total=(2,))
    assert 'id="total"><td>المجموع</td>' in page and ">total<" not in page
    english = pages.stats_page("en", user="root", csrf="token", filters={"by": "queue"},
                               chart=None, columns=("queue", "calls"), rows=[], total=(0,))
    assert 'id="total"><td>total</td>' in english


def test_a_category_the_console_did_not_know_has_its_word_now() -> None:
    assert pages.label("ar", "default") == "أخرى (افتراضي)"
    assert pages.label("en", "adult-female") == "adult woman"
    assert pages.label("ar", "night-line") == "night-line"  # unknown: shown as it is
