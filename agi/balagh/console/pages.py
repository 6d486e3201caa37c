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

from jinja2 import Environment, FileSystemLoader, StrictUndefined

LANGUAGES = ("en", "ar")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Balagh console", "wallboard": "Wallboard", "live": "Live calls",
        "reports": "Reports", "stats": "Statistics", "logout": "Log out",
        "login": "Log in", "user": "User name", "password": "Password",
        "login_wrong": "Wrong user name or password.",
        "login_locked": "Too many wrong passwords: try again later.",
        "waiting": "waiting", "longest": "longest wait", "danger_waiting": "in danger waiting",
        "oldest_danger": "oldest in danger", "available": "available", "talking": "talking",
        "paused": "paused", "answered_today": "answered today",
        "abandoned_today": "abandoned today", "service_level": "service level today",
        "in_ivr": "callers in the menu", "on_question": "on question",
        "to_queue": "answer to queue today (p50 / p95)", "per_hour": "calls per hour today",
        "calls_today": "calls today", "pbx_down": "Asterisk is not reachable: figures are stale",
        "reference": "reference", "state": "state", "queue": "queue", "category": "category",
        "danger": "danger", "age": "age group", "gender": "gender", "emirate": "emirate",
        "caller": "caller", "wait": "wait", "agent": "agent", "question": "question",
        "actions": "monitor", "listen": "Listen", "whisper": "Whisper", "barge": "Barge",
        "ringing": "Ringing your phone…", "refused": "Refused", "no_calls": "No calls now.",
        "state_ivr": "in menu", "state_waiting": "waiting", "state_talking": "talking",
        "yes": "yes", "no": "no", "search": "Search", "since": "since", "until": "until",
        "outcome": "outcome", "language": "language", "any": "any", "csv": "CSV export",
        "timeline": "Timeline", "answers": "Answers", "not_found": "No such report.",
        "by": "one row per", "calls": "calls", "answered": "answered",
        "abandoned": "abandoned", "started": "started", "status": "status",
    },
    "ar": {
        "title": "لوحة بلاغ", "wallboard": "لوحة المتابعة", "live": "المكالمات الجارية",
        "reports": "البلاغات", "stats": "الإحصاءات", "logout": "خروج",
        "login": "دخول", "user": "اسم المستخدم", "password": "كلمة المرور",
        "login_wrong": "اسم المستخدم أو كلمة المرور غير صحيحة.",
        "login_locked": "محاولات خاطئة كثيرة: حاول لاحقاً.",
        "waiting": "في الانتظار", "longest": "أطول انتظار", "danger_waiting": "في خطر ينتظرون",
        "oldest_danger": "أقدم حالة خطر", "available": "متاحون", "talking": "في مكالمة",
        "paused": "متوقفون", "answered_today": "أجيبت اليوم",
        "abandoned_today": "تُركت اليوم", "service_level": "مستوى الخدمة اليوم",
        "in_ivr": "متصلون في القائمة", "on_question": "عند السؤال",
        "to_queue": "من الرد إلى الطابور اليوم (الوسيط / ٩٥٪)",
        "per_hour": "المكالمات في الساعة اليوم", "calls_today": "مكالمات اليوم",
        "pbx_down": "تعذر الوصول إلى أستريسك: الأرقام قديمة",
        "reference": "المرجع", "state": "الحالة", "queue": "الطابور", "category": "الفئة",
        "danger": "خطر", "age": "الفئة العمرية", "gender": "الجنس", "emirate": "الإمارة",
        "caller": "المتصل", "wait": "الانتظار", "agent": "الموظف", "question": "السؤال",
        "actions": "المراقبة", "listen": "استماع", "whisper": "همس", "barge": "مشاركة",
        "ringing": "جارٍ الاتصال بهاتفك…", "refused": "مرفوض", "no_calls": "لا مكالمات الآن.",
        "state_ivr": "في القائمة", "state_waiting": "ينتظر", "state_talking": "في مكالمة",
        "yes": "نعم", "no": "لا", "search": "بحث", "since": "من", "until": "إلى",
        "outcome": "النتيجة", "language": "اللغة", "any": "الكل", "csv": "تصدير CSV",
        "timeline": "التسلسل الزمني", "answers": "الإجابات",
        "not_found": "لا يوجد بلاغ بهذا الرقم.",
        "by": "صف لكل", "calls": "مكالمات", "answered": "أجيبت",
        "abandoned": "تُركت", "started": "البداية", "status": "الحالة",
    },
}


# The words of queues, answers and questions, as the wallboard shows them.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "child-protection": "Child protection", "women-protection": "Women's protection",
        "elderly-care": "Elderly care", "disability-support": "Disability support",
        "mental-health": "Mental health", "social-welfare": "Social welfare",
        "general": "General line", "child": "child", "adult": "adult", "elderly": "elderly",
        "male": "male", "female": "female", "abu-dhabi": "Abu Dhabi", "dubai": "Dubai",
        "sharjah": "Sharjah", "ajman": "Ajman", "umm-al-quwain": "Umm Al Quwain",
        "ras-al-khaimah": "Ras Al Khaimah", "fujairah": "Fujairah", "condition": "condition",
    },
    "ar": {
        "child-protection": "حماية الطفل", "women-protection": "حماية المرأة",
        "elderly-care": "رعاية كبار السن", "disability-support": "دعم ذوي الإعاقة",
        "mental-health": "الصحة النفسية", "social-welfare": "الرعاية الاجتماعية",
        "general": "الخط العام", "child": "طفل", "adult": "بالغ", "elderly": "كبير السن",
        "male": "ذكر", "female": "أنثى", "abu-dhabi": "أبوظبي", "dubai": "دبي",
        "sharjah": "الشارقة", "ajman": "عجمان", "umm-al-quwain": "أم القيوين",
        "ras-al-khaimah": "رأس الخيمة", "fujairah": "الفجيرة", "condition": "الحالة",
        "language": "اللغة", "danger": "الخطر", "age": "العمر", "gender": "الجنس",
        "emirate": "الإمارة",
    },
}
for _lang, _words in WORDS.items():
    LABELS[_lang] = {**_words, **LABELS[_lang]}


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"]).get(key, LABELS["en"].get(key, key))


_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=True, trim_blocks=True, lstrip_blocks=True,
                   undefined=StrictUndefined)
_ENV.globals["choices"] = {"outcome": ("answered", "abandoned"), "danger": ("yes", "no"),
                           "by": ("day", "queue", "category", "emirate", "language")}


def render(template: str, lang: str, title: str, *, user: str | None = None,
           csrf: str | None = None, page: str = "", script: bool = False,
           **values: Any) -> str:
    """One page: `template` inside base.html, in `lang` (right to left in Arabic)."""
    other = "en" if lang == "ar" else "ar"
    return _ENV.get_template(template).render(
        lang=lang, direction="rtl" if lang == "ar" else "ltr", title=title, user=user,
        csrf=csrf, page=page, script=script, t=partial(label, lang), other=other,
        other_name="English" if other == "en" else "العربية",
        labels=LABELS.get(lang, LABELS["en"]), **values)


def login_page(lang: str, token: str, error: str | None = None) -> str:
    return render("login.html", lang, label(lang, "login"), page="login", token=token,
                  error=error)


def wallboard_page(lang: str, user: str, csrf: str) -> str:
    return render("wallboard.html", lang, label(lang, "wallboard"), user=user, csrf=csrf,
                  page="wallboard", script=True)


LIVE_COLUMNS = ("reference", "state", "queue", "category", "danger", "age", "gender",
                "emirate", "caller", "wait", "agent", "actions")


def live_page(lang: str, user: str, csrf: str) -> str:
    return render("live.html", lang, label(lang, "live"), user=user, csrf=csrf, page="live",
                  script=True, columns=LIVE_COLUMNS)


def message_page(lang: str, title: str, message: str, *, user: str, csrf: str) -> str:
    return render("message.html", lang, title, user=user, csrf=csrf, message=message)


REPORT_COLUMNS = ("reference", "started", "status", "queue", "outcome", "wait", "caller",
                  "emirate")


def reports_page(lang: str, *, user: str, csrf: str, params: Mapping[str, str],
                 queues: Sequence[str], csv_query: str,
                 rows: Sequence[Sequence[object]]) -> str:
    """The search form and up to a page of reports; each row starts with its reference."""
    return render("reports.html", lang, label(lang, "reports"), user=user, csrf=csrf,
                  page="reports", params=params, queues=queues, csv_query=csv_query,
                  columns=REPORT_COLUMNS, rows=rows)


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
                  page="stats", filters=filters, chart=chart, columns=columns, rows=rows,
                  total=total)


__all__ = ["LABELS", "LANGUAGES", "LIVE_COLUMNS", "REPORT_COLUMNS", "bar_chart", "label",
           "live_page", "login_page", "message_page", "render", "report_page", "reports_page",
           "stats_page", "wallboard_page"]
