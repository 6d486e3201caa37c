"""Every word of the periodic report in Arabic and English: one catalogue, one place to edit.

Names Balagh stores as ids (queues, rules, emirates, questions) are shown through
NAMES; an id the catalogue does not know is shown as it is.
"""

from __future__ import annotations

LANGUAGES = ("ar", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Hotline report", "ar": "تقرير الخط الساخن"},
    "period": {"en": "Period", "ar": "الفترة"},
    "generated": {"en": "Generated", "ar": "تاريخ الإعداد"},
    "summary": {"en": "Summary", "ar": "ملخص"},
    "no_calls": {"en": "No calls in this period.", "ar": "لا توجد مكالمات في هذه الفترة."},
    "sl_note": {"en": "Service level: share of callers who waited in a queue and were answered "
                      "within {seconds} seconds.",
                "ar": "مستوى الخدمة: نسبة المتصلين الذين انتظروا في الطابور وتم الرد عليهم "
                      "خلال {seconds} ثانية."},
    "times_note": {"en": "Waits and times are in seconds.",
                   "ar": "أوقات الانتظار والأوقات بالثواني."},
    "give_ups": {"en": "Where callers hang up in the menu",
                 "ar": "أين يغلق المتصلون الخط في القائمة"},
    "give_ups_note": {"en": "Callers who hung up before reaching a queue, by the question "
                            "being asked: the prompt to look at first.",
                      "ar": "المتصلون الذين أغلقوا الخط قبل الوصول إلى الطابور، حسب السؤال "
                            "المطروح: السؤال الذي يجب مراجعته أولاً."},
    "question": {"en": "Question", "ar": "السؤال"},
    "callers": {"en": "Callers", "ar": "المتصلون"},
    "share": {"en": "Share", "ar": "النسبة"},
    "charts": {"en": "Charts", "ar": "رسوم بيانية"},
    "chart_calls": {"en": "Calls per day, by queue", "ar": "المكالمات يومياً حسب الطابور"},
    "chart_sl": {"en": "Service level per day", "ar": "مستوى الخدمة يومياً"},
    "chart_wait": {"en": "Wait in the queue (box: 25-75 %, whiskers: 5-95 %)",
                   "ar": "مدة الانتظار في الطابور (الصندوق: 25-75 %، الخطوط: 5-95 %)"},
    "charts_note": {"en": "Chart labels are in English; queue names as configured.",
                    "ar": "عناوين الرسوم البيانية بالإنجليزية؛ أسماء الطوابير كما في الإعدادات."},
    "by_day": {"en": "By day", "ar": "حسب اليوم"},
    "by_queue": {"en": "By queue", "ar": "حسب الطابور"},
    "by_category": {"en": "By category (routing rule)", "ar": "حسب الفئة (قاعدة التوجيه)"},
    "by_emirate": {"en": "By emirate", "ar": "حسب الإمارة"},
    "by_language": {"en": "By language", "ar": "حسب اللغة"},
    # table headings
    "key": {"en": "", "ar": ""},
    "calls": {"en": "Calls", "ar": "المكالمات"},
    "answered": {"en": "Answered", "ar": "تم الرد"},
    "abandoned_in_queue": {"en": "Abandoned in queue", "ar": "انقطع في الطابور"},
    "abandoned_in_ivr": {"en": "Hung up in menu", "ar": "أغلق في القائمة"},
    "service_level": {"en": "Service level", "ar": "مستوى الخدمة"},
    "wait_avg": {"en": "Wait avg", "ar": "متوسط الانتظار"},
    "wait_p95": {"en": "Wait p95", "ar": "الانتظار (95 %)"},
    "danger_calls": {"en": "Danger calls", "ar": "مكالمات خطر"},
    "danger_wait_avg": {"en": "Danger wait avg", "ar": "متوسط انتظار الخطر"},
    "danger_wait_p95": {"en": "Danger wait p95", "ar": "انتظار الخطر (95 %)"},
    "to_queue_typed_ahead_p50": {"en": "To queue, typed ahead p50",
                                 "ar": "حتى الطابور، ضغط مسبق (50 %)"},
    "to_queue_typed_ahead_p95": {"en": "To queue, typed ahead p95",
                                 "ar": "حتى الطابور، ضغط مسبق (95 %)"},
    "to_queue_not_typed_ahead_p50": {"en": "To queue, not typed ahead p50",
                                     "ar": "حتى الطابور، دون ضغط مسبق (50 %)"},
    "to_queue_not_typed_ahead_p95": {"en": "To queue, not typed ahead p95",
                                     "ar": "حتى الطابور، دون ضغط مسبق (95 %)"},
}

NAMES: dict[str, dict[str, str]] = {
    "total": {"en": "Total", "ar": "المجموع"},
    "(not routed)": {"en": "(not routed)", "ar": "(لم يوجَّه)"},
    "(unknown)": {"en": "(unknown)", "ar": "(غير معروف)"},
    # queues and routing rules
    "child-protection": {"en": "Child protection", "ar": "حماية الطفل"},
    "women-protection": {"en": "Women protection", "ar": "حماية المرأة"},
    "elderly-care": {"en": "Elderly care", "ar": "رعاية كبار المواطنين"},
    "disability-support": {"en": "Disability support", "ar": "دعم أصحاب الهمم"},
    "mental-health": {"en": "Mental health", "ar": "الصحة النفسية"},
    "social-welfare": {"en": "Social welfare", "ar": "الرعاية الاجتماعية"},
    "general": {"en": "General line", "ar": "الخط العام"},
    "child": {"en": "Child", "ar": "طفل"},
    "disability": {"en": "Disability", "ar": "إعاقة"},
    "psychiatric": {"en": "Psychiatric", "ar": "نفسية"},
    "unable-to-self-care": {"en": "Unable to self-care", "ar": "غير قادر على رعاية نفسه"},
    "elderly": {"en": "Elderly", "ar": "كبار المواطنين"},
    "adult-female": {"en": "Adult woman", "ar": "امرأة بالغة"},
    "default": {"en": "Other (default)", "ar": "أخرى (افتراضي)"},
    "fallback": {"en": "Fallback (error)", "ar": "تحويل احتياطي (خطأ)"},
    # emirates
    "abu-dhabi": {"en": "Abu Dhabi", "ar": "أبوظبي"},
    "dubai": {"en": "Dubai", "ar": "دبي"},
    "sharjah": {"en": "Sharjah", "ar": "الشارقة"},
    "ajman": {"en": "Ajman", "ar": "عجمان"},
    "umm-al-quwain": {"en": "Umm Al Quwain", "ar": "أم القيوين"},
    "ras-al-khaimah": {"en": "Ras Al Khaimah", "ar": "رأس الخيمة"},
    "fujairah": {"en": "Fujairah", "ar": "الفجيرة"},
    # languages and questions
    "ar": {"en": "Arabic", "ar": "العربية"},
    "en": {"en": "English", "ar": "الإنجليزية"},
    "language": {"en": "Language", "ar": "اللغة"},
    "danger": {"en": "Danger", "ar": "الخطر"},
    "age": {"en": "Age", "ar": "العمر"},
    "gender": {"en": "Gender", "ar": "الجنس"},
    "emirate": {"en": "Emirate", "ar": "الإمارة"},
    "condition": {"en": "Condition", "ar": "الحالة"},
}


def text(key: str, language: str, **values: object) -> str:
    return TEXT[key][language].format(**values)


def name(key: str, language: str) -> str:
    return NAMES.get(key, {}).get(language, key)
