"""Arabic that reads right on the console's pages: every stored id by its name (the one
catalogue, both languages), every number, phone, time and reference isolated left to right,
the statistics headed by their grouping with a total row, and filters and queue tiles
from the configuration, so that they are there with AMI down."""

from __future__ import annotations

import re

import yaml

from balagh.config import Settings
from balagh.console import pages
from balagh.console.choices import configured_choices
from balagh.readmodel.search import QUEUE_OUTCOMES
from balagh.status import ReportStatus
from balagh.store.daily import NOT_ROUTED, UNKNOWN
from balagh.texts import LANGUAGES, NAMES, name

from .shipped import IVR_FILE, LOCATIONS_FILE, ROUTING_FILE

ARABIC = re.compile("[\u0600-\u06ff]")


def _ids_the_read_model_can_produce() -> set[str]:
    """Every value a report's id column can hold with the shipped configuration."""
    routing = yaml.safe_load(ROUTING_FILE.read_text(encoding="utf-8"))
    ivr = yaml.safe_load(IVR_FILE.read_text(encoding="utf-8"))
    locations = yaml.safe_load(LOCATIONS_FILE.read_text(encoding="utf-8"))
    answers = {str(value) for question in ivr["questions"]
               for value in question["options"].values()}
    return {*routing["queues"], *(rule["name"] for rule in routing["rules"]),
            "default", "fallback",                       # the table's own categories
            *(question["id"] for question in ivr["questions"]), *answers,
            *locations["prefixes"].values(),             # emirates by number
            *(str(status) for status in ReportStatus), *QUEUE_OUTCOMES,
            NOT_ROUTED, UNKNOWN, "total", *LANGUAGES}


def test_every_id_the_read_model_can_produce_has_an_arabic_and_an_english_word() -> None:
    ids = _ids_the_read_model_can_produce()
    assert {"in_ivr", "hung_up_in_ivr", "answered", "none", "yes"} <= ids
    missing = sorted(key for key in ids if set(NAMES.get(key, {})) != {"ar", "en"})
    assert missing == []
    untranslated = sorted(key for key in ids if not ARABIC.search(name(key, "ar")))
    assert untranslated == []


REPORT_ROW = ("7000001", "2026-11-25T08:59:00Z", "routed", "child-protection", "answered", 6,
              "+9716****9876", "sharjah")


def _reports_page(lang: str) -> str:
    return pages.reports_page(lang, user="root", csrf="token", params={}, queues=[],
                              csv_query="", rows=[REPORT_ROW])


def test_the_reports_page_shows_names_and_isolates_numbers_in_arabic() -> None:
    page = _reports_page("ar")
    row = page.split('id="reports"')[1]
    for stored in ("routed", "child-protection", "answered", "sharjah"):
        assert f">{stored}<" not in row and name(stored, "ar") in row
    assert '<bdi dir="ltr" class="ltr">+9716****9876</bdi>' in row
    assert '<bdi dir="ltr" class="ltr">6</bdi> ث</span>' in row  # not "s 6"
    assert '<bdi dir="ltr">7000001</bdi>' in row
    assert '<bdi dir="ltr" class="ltr">2026-11-25T08:59:00Z</bdi>' in row
    english = _reports_page("en").split('id="reports"')[1]
    assert "Child protection" in english and '"ltr">6</bdi> s</span>' in english


def test_the_report_page_names_the_answers() -> None:
    page = pages.report_page("ar", user="root", csrf="token", reference="7000001",
                             facts=(("reference", "7000001"), ("queue", "child-protection"),
                                    ("emirate", None)),
                             answers=[("danger", "yes"), ("condition", "none")], timeline="")
    assert "<td>الخطر</td><td>نعم</td>" in page and "<td>الحالة</td><td>لا شيء</td>" in page
    assert "حماية الطفل" in page and '<h1>المرجع <bdi dir="ltr">7000001</bdi></h1>' in page


def test_statistics_are_headed_by_their_grouping_with_the_periods_service_level() -> None:
    columns = ("queue", "calls", "answered", "abandoned", "service_level_period", "wait_avg")
    page = pages.stats_page("ar", user="root", csrf="token", filters={"by": "queue"},
                            chart=None, columns=columns,
                            rows=[("general", 2, 1, 1, "50%", "12")],
                            total=(2, 1, 1, "50%", "12"))
    head = page.split('id="stats"')[1].split("</thead>")[0]
    assert "<th>الطابور</th>" in head and "صف لكل" not in head
    assert "مستوى الخدمة<" in head and "اليوم" not in head  # a period, not "today"
    assert "<td>الخط العام</td>" in page and '<bdi dir="ltr" class="ltr">12</bdi> ث' in page
    assert 'id="total"><td>المجموع</td>' in page
    by_day = pages.stats_page("en", user="root", csrf="token", filters={"by": "day"},
                              chart=None, columns=("day", "calls"),
                              rows=[("2026-11-01", 3)], total=(3,))
    assert "<th>day</th>" in by_day and '<bdi dir="ltr" class="ltr">2026-11-01</bdi>' in by_day


def test_filters_over_stored_ids_are_choices_from_the_configuration() -> None:
    choices = configured_choices(Settings())
    assert "child-protection" in choices.queues and "general" in choices.queues
    assert choices.emirates[:2] == ("dubai", "abu-dhabi") and choices.languages == ("ar", "en")
    page = pages.reports_page("ar", user="root", csrf="token", params={"emirate": "dubai"},
                              queues=list(choices.queues), csv_query="", rows=[],
                              choices=choices)
    assert '<input name="emirate"' not in page and '<input name="language"' not in page
    assert '<option value="dubai" selected>دبي</option>' in page
    assert '<option value="child-protection">حماية الطفل</option>' in page


def test_the_console_passes_the_configured_queues_to_its_board(tmp_path) -> None:
    from balagh.console.web import create_app

    settings = Settings(data_dir=tmp_path)
    app = create_app(settings)
    console = app.state.console
    assert set(console.feed.queues) == set(configured_choices(settings).queues) != set()
    assert {q["name"] for q in console.feed.snapshot["queues"]} == set(console.feed.queues)
