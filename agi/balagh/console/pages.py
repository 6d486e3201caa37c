"""The console's pages, rendered on the server with every value escaped.

The wallboard and the live list are filled in by static/console.js from the event
stream; the rest (login, reports, statistics) are plain HTML forms and tables. Arabic
pages are <html lang="ar" dir="rtl">, English ones lang="en" dir="ltr".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

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


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def layout(lang: str, title: str, body: str, *, user: str | None = None,
           csrf: str | None = None, page: str = "", script: bool = False) -> str:
    direction = "rtl" if lang == "ar" else "ltr"
    nav = ""
    if user is not None:
        links = "".join(
            f'<a href="{href}" class="{"here" if key == page else ""}">{e(label(lang, key))}</a>'
            for key, href in (("wallboard", "/"), ("live", "/live"), ("reports", "/reports"),
                              ("stats", "/stats")))
        other = "en" if lang == "ar" else "ar"
        nav = (f'<nav>{links}<span class="who">{e(user)}</span>'
               f'<a href="?lang={other}" id="lang">{"English" if other == "en" else "العربية"}</a>'
               f'<form method="post" action="/logout" class="inline">'
               f'<input type="hidden" name="csrf" value="{e(csrf)}">'
               f'<button id="logout">{e(label(lang, "logout"))}</button></form></nav>')
    labels = json.dumps(LABELS.get(lang, LABELS["en"]), ensure_ascii=False).replace("<", "\\u003c")
    tail = (f'<script id="labels" type="application/json">{labels}</script>'
            '<script src="/static/console.js" defer></script>') if script else ""
    return (f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="csrf-token" content="{e(csrf or "")}">'
            f'<title>{e(title)}</title><link rel="stylesheet" href="/static/console.css"></head>'
            f'<body class="{page}">{nav}<main>{body}</main>{tail}</body></html>')


def login_page(lang: str, token: str, error: str | None = None) -> str:
    problem = f'<p class="error" id="error">{e(label(lang, error))}</p>' if error else ""
    other = "en" if lang == "ar" else "ar"
    body = (f'<h1>{e(label(lang, "title"))}</h1>{problem}'
            f'<form method="post" action="/login" id="login" class="card">'
            f'<input type="hidden" name="csrf" value="{e(token)}">'
            f'<label>{e(label(lang, "user"))}<input name="name" id="name" autocomplete="username"'
            f' required></label>'
            f'<label>{e(label(lang, "password"))}<input name="password" id="password"'
            f' type="password" autocomplete="current-password" required></label>'
            f'<button type="submit" id="submit">{e(label(lang, "login"))}</button></form>'
            f'<p><a href="/login?lang={other}">{"English" if other == "en" else "العربية"}</a></p>')
    return layout(lang, label(lang, "login"), body, page="login")


def wallboard_page(lang: str, user: str, csrf: str) -> str:
    body = ('<div id="status" class="status"></div>'
            '<section id="queues" class="queues"></section>'
            '<section class="strip">'
            f'<div class="tile"><h2>{e(label(lang, "in_ivr"))}</h2><b id="ivr-count">0</b>'
            '<ul id="ivr-questions"></ul></div>'
            f'<div class="tile"><h2>{e(label(lang, "to_queue"))}</h2>'
            '<b id="to-queue" dir="ltr">-</b></div>'
            f'<div class="tile"><h2>{e(label(lang, "calls_today"))}</h2><b id="calls-today">0</b>'
            '</div>'
            f'<div class="tile wide"><h2>{e(label(lang, "per_hour"))}</h2>'
            '<svg id="per-hour" viewBox="0 0 480 120" role="img"></svg></div></section>')
    return layout(lang, label(lang, "wallboard"), body, user=user, csrf=csrf,
                  page="wallboard", script=True)


LIVE_COLUMNS = ("reference", "state", "queue", "category", "danger", "age", "gender",
                "emirate", "caller", "wait", "agent", "actions")


def live_page(lang: str, user: str, csrf: str) -> str:
    heads = "".join(f"<th>{e(label(lang, column))}</th>" for column in LIVE_COLUMNS)
    body = (f'<div id="status" class="status"></div><h1>{e(label(lang, "live"))}</h1>'
            f'<p id="notice" class="notice" role="status"></p>'
            f'<table id="calls" class="calls"><thead><tr>{heads}</tr></thead>'
            '<tbody></tbody></table>')
    return layout(lang, label(lang, "live"), body, user=user, csrf=csrf, page="live",
                  script=True)


def table(lang: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
          table_id: str = "") -> str:
    heads = "".join(f"<th>{e(label(lang, c))}</th>" for c in columns)
    cells = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                    for row in rows)
    return (f'<table id="{e(table_id)}"><thead><tr>{heads}</tr></thead>'
            f'<tbody>{cells}</tbody></table>')


def filter_form(lang: str, values: Mapping[str, str], queues: Sequence[str],
                action: str, fields: Sequence[str]) -> str:
    parts = []
    for name in fields:
        value = values.get(name, "")
        if name in ("since", "until"):
            control = f'<input type="date" name="{name}" value="{e(value)}">'
        elif name == "queue":
            options = "".join(f'<option value="{e(q)}"{" selected" if q == value else ""}>'
                              f'{e(q)}</option>' for q in queues)
            control = (f'<select name="queue"><option value="">{e(label(lang, "any"))}</option>'
                       f'{options}</select>')
        elif name in ("outcome", "danger", "by"):
            choices = {"outcome": ("answered", "abandoned"), "danger": ("yes", "no"),
                       "by": ("day", "queue", "category", "emirate", "language")}[name]
            blank = "" if name == "by" else f'<option value="">{e(label(lang, "any"))}</option>'
            options = "".join(f'<option value="{c}"{" selected" if c == value else ""}>'
                              f'{e(label(lang, c))}</option>' for c in choices)
            control = f'<select name="{name}">{blank}{options}</select>'
        else:
            control = f'<input name="{name}" value="{e(value)}" size="10">'
        parts.append(f'<label>{e(label(lang, name))} {control}</label>')
    return (f'<form method="get" action="{e(action)}" class="filters">{"".join(parts)}'
            f'<button>{e(label(lang, "search"))}</button></form>')


def bar_chart(values: Sequence[tuple[str, float]], width: int = 640, height: int = 160) -> str:
    """A small inline SVG bar chart (no script, no image file)."""
    if not values:
        return ""
    top = max((v for _, v in values), default=0) or 1
    step = width / len(values)
    bars = []
    for index, (name, value) in enumerate(values):
        h = (height - 20) * value / top
        x = index * step
        bars.append(f'<rect x="{x + 1:.1f}" y="{height - 15 - h:.1f}"'
                    f' width="{max(step - 2, 1):.1f}" height="{h:.1f}">'
                    f'<title>{e(name)}: {e(value)}</title></rect>')
    first, last = e(values[0][0]), e(values[-1][0])
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img">{"".join(bars)}'
            f'<text x="0" y="{height - 2}">{first}</text>'
            f'<text x="{width}" y="{height - 2}" text-anchor="end">{last}</text></svg>')


def page_data(data: Any) -> str:
    return e(json.dumps(data))


__all__ = ["LABELS", "LANGUAGES", "LIVE_COLUMNS", "bar_chart", "e", "filter_form", "label",
           "layout", "live_page", "login_page", "table", "wallboard_page"]
