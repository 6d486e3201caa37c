"""The console's pages, rendered on the server from templates/ by Jinja2 with autoescape
on: every value a page shows (a query key or value, a report's answer, a user name) is
escaped by the engine, never by hand.

The wallboard and the live list are filled in by static/console.js from the event
stream; the rest (login, reports, statistics) are plain HTML forms and tables. Arabic
pages are <html lang="ar" dir="rtl">, English ones lang="en" dir="ltr".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from balagh import texts
from balagh.readmodel.search import QUEUE_OUTCOMES
from balagh.templating import environment
from balagh.texts import LANGUAGES, console_labels

from .choices import Choices

# Every word of every page and of the script's JSON, from the one catalogue.
LABELS: dict[str, dict[str, str]] = {lang: console_labels(lang) for lang in LANGUAGES}


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"]).get(key, LABELS["en"].get(key, key))


_ENV = environment(Path(__file__).parent / "templates")
# Filters that are always the same choices; queue, emirate and language come from the
# configuration (choices.py).
FIXED_CHOICES = {"outcome": QUEUE_OUTCOMES, "danger": ("yes", "no"),
                 "by": ("day", "queue", "category", "emirate", "language")}
# How macros.html shows a cell, by its column: a stored id by its name; a number, phone,
# time or reference isolated left to right; a count of seconds with its unit.
_ENV.globals["id_columns"] = ("status", "queue", "outcome", "emirate", "category", "language",
                              "danger", "age", "gender", "condition", "question", "answer",
                              "consent", "followup_status")
_ENV.globals["ltr_columns"] = ("reference", "started", "caller", "agent", "day", "calls",
                               "answered", "abandoned", "service_level_period")
_ENV.globals["seconds_columns"] = ("wait", "wait_avg")


def render(template: str, lang: str, title: str, *, user: str | None = None,
           csrf: str | None = None, page: str = "", script: bool = False,
           **values: Any) -> str:
    """One page: `template` inside base.html, in `lang` (right to left in Arabic)."""
    other = "en" if lang == "ar" else "ar"
    return _ENV.get_template(template).render(
        lang=lang, direction="rtl" if lang == "ar" else "ltr", title=title, user=user,
        csrf=csrf, page=page, script=script, t=partial(label, lang),
        n=partial(_name, lang), other=other,
        other_name=texts.name(other, other),
        labels=LABELS.get(lang, LABELS["en"]), **values)


def _name(lang: str, key: object) -> str:
    return texts.name(str(key), lang if lang in LANGUAGES else "en")


def login_page(lang: str, token: str, error: str | None = None) -> str:
    return render("login.html", lang, label(lang, "login"), page="login", token=token,
                  error=error)


def wallboard_page(lang: str, user: str, csrf: str) -> str:
    return render("wallboard.html", lang, label(lang, "wallboard"), user=user, csrf=csrf,
                  page="wallboard", script=True)


LIVE_COLUMNS = ("reference", "state", "queue", "category", "danger", "age", "gender",
                "emirate", "caller", "wait", "agent", "actions")


def live_columns(several_nodes: bool) -> tuple[str, ...]:
    """The live list's columns: with several nodes (`nodes:`) each call's node after its
    queue; a one-box site's list is as it always was."""
    if not several_nodes:
        return LIVE_COLUMNS
    at = LIVE_COLUMNS.index("queue") + 1
    return (*LIVE_COLUMNS[:at], "node", *LIVE_COLUMNS[at:])


def live_page(lang: str, user: str, csrf: str, *, several_nodes: bool = False) -> str:
    return render("live.html", lang, label(lang, "live"), user=user, csrf=csrf, page="live",
                  script=True, columns=live_columns(several_nodes))


def message_page(lang: str, title: str, message: str, *, user: str, csrf: str) -> str:
    return render("message.html", lang, title, user=user, csrf=csrf, message=message)


REPORT_COLUMNS = ("reference", "started", "status", "queue", "outcome", "wait", "caller",
                  "emirate")


def reports_page(lang: str, *, user: str, csrf: str, params: Mapping[str, str],
                 queues: Sequence[str], csv_query: str, rows: Sequence[Sequence[object]],
                 choices: Choices | None = None) -> str:
    """The search form and up to a page of reports; each row starts with its reference."""
    configured = choices or Choices()
    return render("reports.html", lang, label(lang, "reports"), user=user, csrf=csrf,
                  page="reports", params=params, queues=queues, csv_query=csv_query,
                  columns=REPORT_COLUMNS, rows=rows,
                  choices={**FIXED_CHOICES, "emirate": configured.emirates,
                           "language": configured.languages})


def report_page(lang: str, *, user: str, csrf: str, reference: str,
                facts: Sequence[tuple[str, object]], answers: Sequence[tuple[str, str | None]],
                timeline: str) -> str:
    return render("report.html", lang, reference, user=user, csrf=csrf, page="reports",
                  reference=reference, facts=facts, answers=answers, timeline=timeline)


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    name: str
    value: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    first: str
    last: str


def bar_chart(values: Sequence[tuple[str, float]], width: int = 640,
              height: int = 160) -> Chart | None:
    """The bars of a small inline SVG chart (drawn by stats.html), or None for no data."""
    if not values:
        return None
    top = max((v for _, v in values), default=0) or 1
    step = width / len(values)
    bars = []
    for index, (name, value) in enumerate(values):
        h = (height - 20) * value / top
        bars.append(Bar(f"{index * step + 1:.1f}", f"{height - 15 - h:.1f}",
                        f"{max(step - 2, 1):.1f}", f"{h:.1f}", name, value))
    return Chart(width, height, bars, values[0][0], values[-1][0])


def stats_page(lang: str, *, user: str, csrf: str, filters: Mapping[str, str],
               chart: Chart | None, columns: Sequence[str], rows: Sequence[Sequence[object]],
               total: Sequence[object] | None) -> str:
    return render("stats.html", lang, label(lang, "stats"), user=user, csrf=csrf,
                  page="stats", choices=FIXED_CHOICES, filters=filters, chart=chart,
                  columns=columns, rows=rows, total=total)


__all__ = ["LABELS", "LANGUAGES", "LIVE_COLUMNS", "REPORT_COLUMNS", "bar_chart", "label",
           "live_columns", "live_page", "login_page", "message_page", "render", "report_page",
           "reports_page", "stats_page", "wallboard_page"]
