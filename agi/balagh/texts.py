"""Every word Balagh shows people, in Arabic and English: the one catalogue the console, the
statistics and the report pack read (a test keeps Arabic out of every other module).

NAMES are the words for the ids Balagh stores (queues, routing rules, answers, emirates,
questions, languages): one word per id wherever it is shown. English names of common
nouns are lower case, as the console shows them in a cell; `heading` capitalises them
where a name begins a row. An id the catalogue does not know is shown as it is.
CONSOLE holds the console's page labels, REPORT the report pack's sentences and headings.
"""

from __future__ import annotations

LANGUAGES = ("ar", "en")

Words = dict[str, dict[str, str]]  # key -> language -> word

NAMES: Words = {
    # queues (the names the agent hears in the summary: sounds/prompts.yaml)
    "child-protection": {"en": "Child protection", "ar": "حماية الطفل"},
    "women-protection": {"en": "Women's protection", "ar": "حماية المرأة"},
    "elderly-care": {"en": "Elderly care", "ar": "رعاية كبار السن"},
    "disability-support": {"en": "Disability support", "ar": "دعم ذوي الإعاقة"},
    "mental-health": {"en": "Mental health", "ar": "الصحة النفسية"},
    "social-welfare": {"en": "Social welfare", "ar": "الرعاية الاجتماعية"},
    "general": {"en": "General line", "ar": "الخط العام"},
    # routing rules (categories) and answers
    "child": {"en": "child", "ar": "طفل"},
    "adult": {"en": "adult", "ar": "بالغ"},
    "elderly": {"en": "elderly", "ar": "كبير السن"},
    "male": {"en": "male", "ar": "ذكر"},
    "female": {"en": "female", "ar": "أنثى"},
    "disability": {"en": "disability", "ar": "إعاقة"},
    "psychiatric": {"en": "psychiatric", "ar": "نفسية"},
    "unable-to-self-care": {"en": "unable to self-care", "ar": "غير قادر على رعاية نفسه"},
    "adult-female": {"en": "adult woman", "ar": "امرأة بالغة"},
    "default": {"en": "other (default)", "ar": "أخرى (افتراضي)"},
    "fallback": {"en": "fallback (error)", "ar": "تحويل احتياطي (خطأ)"},
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
    "language": {"en": "language", "ar": "اللغة"},
    "danger": {"en": "danger", "ar": "الخطر"},
    "age": {"en": "age", "ar": "العمر"},
    "gender": {"en": "gender", "ar": "الجنس"},
    "emirate": {"en": "emirate", "ar": "الإمارة"},
    "condition": {"en": "condition", "ar": "الحالة"},
    "contact_safe": {"en": "safe to text or call back", "ar": "آمن مراسلته أو الاتصال به"},
    # answers with no word above (danger, condition)
    "yes": {"en": "yes", "ar": "نعم"},
    "no": {"en": "no", "ar": "لا"},
    "none": {"en": "none", "ar": "لا شيء"},
    # a report's status (balagh.status.ReportStatus; "fallback" is the rule's word above)
    "in_ivr": {"en": "in the menu", "ar": "في القائمة"},
    "routed": {"en": "routed", "ar": "وُجِّه"},
    "hung_up_in_ivr": {"en": "hung up in the menu", "ar": "أغلق في القائمة"},
    # the unit's follow-up of a report (reachback/followup.py's STATUSES; "none": not yet)
    "received": {"en": "received by the unit", "ar": "استلمته الجهة"},
    "in_progress": {"en": "in progress", "ar": "قيد المتابعة"},
    "followup_none": {"en": "no word from the unit yet", "ar": "لم تُبلغ الجهة بشيء بعد"},
    # the satisfaction call's questions, by their prompt (sounds/prompts.yaml)
    "survey-satisfied": {"en": "satisfied (1 not at all, 5 very)",
                         "ar": "الرضا (1 غير راضٍ، 5 راضٍ جدًّا)"},
    "survey-again": {"en": "would call again (1 yes, 2 no)",
                     "ar": "سيتصل مرة أخرى (1 نعم، 2 لا)"},
    "resolved": {"en": "resolved", "ar": "تم الحل"},
    "closed": {"en": "closed without resolution", "ar": "أُغلق دون حل"},
    "followup_status": {"en": "unit's follow-up", "ar": "متابعة الجهة"},
    # a report's outcome in the queue (readmodel.search.QUEUE_OUTCOMES)
    "answered": {"en": "answered", "ar": "أُجيب"},
    "abandoned": {"en": "abandoned", "ar": "تُرك"},
    # the rows statistics add
    "total": {"en": "total", "ar": "المجموع"},
    "(not routed)": {"en": "(not routed)", "ar": "(لم يوجَّه)"},
    "(unknown)": {"en": "(unknown)", "ar": "(غير معروف)"},
    # an agent's dispositions and pause reasons (console.dispositions, console.pause_reasons)
    "genuine": {"en": "genuine report", "ar": "بلاغ حقيقي"},
    "silent": {"en": "silent call", "ar": "مكالمة صامتة"},
    "prank": {"en": "prank", "ar": "مزاح"},
    "testing": {"en": "testing the line", "ar": "تجربة الخط"},
    "abusive": {"en": "abusive", "ar": "مسيء"},
    "wrong-number": {"en": "wrong number", "ar": "رقم خاطئ"},
    "information": {"en": "asking for information", "ar": "طلب معلومات"},
    "break": {"en": "break", "ar": "استراحة"},
    "wrap-up": {"en": "finishing the last call", "ar": "إنهاء المكالمة السابقة"},
    "training": {"en": "training", "ar": "تدريب"},
    "meeting": {"en": "meeting", "ar": "اجتماع"},
}

# The console's labels; where a key is also a name (a column "danger", "age"), the
# console shows its label.
CONSOLE: Words = {
    "title": {"en": "Balagh console", "ar": "لوحة بلاغ"},
    "wallboard": {"en": "Wallboard", "ar": "لوحة المتابعة"},
    "live": {"en": "Live calls", "ar": "المكالمات الجارية"},
    "reports": {"en": "Reports", "ar": "البلاغات"},
    "stats": {"en": "Statistics", "ar": "الإحصاءات"},
    "logout": {"en": "Log out", "ar": "خروج"},
    "login": {"en": "Log in", "ar": "دخول"},
    "user": {"en": "User name", "ar": "اسم المستخدم"},
    "password": {"en": "Password", "ar": "كلمة المرور"},
    "login_wrong": {"en": "Wrong user name or password.",
                    "ar": "اسم المستخدم أو كلمة المرور غير صحيحة."},
    "login_locked": {"en": "Too many wrong passwords: try again later.",
                     "ar": "محاولات خاطئة كثيرة: حاول لاحقاً."},
    # the wallboard
    "waiting": {"en": "waiting", "ar": "في الانتظار"},
    "longest": {"en": "longest wait", "ar": "أطول انتظار"},
    "danger_waiting": {"en": "in danger waiting", "ar": "في خطر ينتظرون"},
    "oldest_danger": {"en": "oldest in danger", "ar": "أقدم حالة خطر"},
    "available": {"en": "available", "ar": "متاحون"},
    "talking": {"en": "talking", "ar": "في مكالمة"},
    "paused": {"en": "paused", "ar": "متوقفون"},
    "answered_today": {"en": "answered today", "ar": "أجيبت اليوم"},
    "abandoned_today": {"en": "abandoned today", "ar": "تُركت اليوم"},
    "service_level": {"en": "service level today", "ar": "مستوى الخدمة اليوم"},
    "live_unavailable": {"en": "live state unavailable", "ar": "الحالة المباشرة غير متاحة"},
    "in_ivr": {"en": "callers in the menu", "ar": "متصلون في القائمة"},
    "on_question": {"en": "on question", "ar": "عند السؤال"},
    "to_queue": {"en": "answer to queue today (p50 / p95)",
                 "ar": "من الرد إلى الطابور اليوم (الوسيط / ٩٥٪)"},
    "per_hour": {"en": "calls per hour today", "ar": "المكالمات في الساعة اليوم"},
    "calls_today": {"en": "calls today", "ar": "مكالمات اليوم"},
    "pbx_down": {"en": "Asterisk is not reachable: figures are stale",
                 "ar": "تعذر الوصول إلى أستريسك: الأرقام قديمة"},
    # the wallboard's agents (board.agent_rows)
    "agents": {"en": "Agents", "ar": "الموظفون"},
    "agent_for": {"en": "for", "ar": "منذ"},
    "pause_reason": {"en": "pause reason", "ar": "سبب التوقف"},
    "agent_queues": {"en": "queues", "ar": "الطوابير"},
    "no_agents": {"en": "No agents logged in.", "ar": "لا موظفين مسجلين."},
    "agent_free": {"en": "free", "ar": "متاح"},
    "agent_ringing": {"en": "ringing", "ar": "يرن"},
    "agent_talking": {"en": "talking", "ar": "في مكالمة"},
    "agent_wrapup": {"en": "wrap-up", "ar": "إنهاء المكالمة"},
    "agent_paused": {"en": "paused", "ar": "متوقف"},
    "agent_unavailable": {"en": "unavailable", "ar": "غير متاح"},
    # the live list's columns, actions and states
    "reference": {"en": "reference", "ar": "المرجع"},
    "state": {"en": "state", "ar": "الحالة"},
    "queue": {"en": "queue", "ar": "الطابور"},
    "category": {"en": "category", "ar": "الفئة"},
    "danger": {"en": "danger", "ar": "خطر"},
    "age": {"en": "age group", "ar": "الفئة العمرية"},
    "gender": {"en": "gender", "ar": "الجنس"},
    "emirate": {"en": "emirate", "ar": "الإمارة"},
    "caller": {"en": "caller", "ar": "المتصل"},
    "wait": {"en": "wait", "ar": "الانتظار"},
    "agent": {"en": "agent", "ar": "الموظف"},
    "question": {"en": "question", "ar": "السؤال"},
    "consent": {"en": "safe to text or call back", "ar": "آمن مراسلته أو الاتصال به"},
    "actions": {"en": "monitor", "ar": "المراقبة"},
    "listen": {"en": "Listen", "ar": "استماع"},
    "whisper": {"en": "Whisper", "ar": "همس"},
    "barge": {"en": "Barge", "ar": "مشاركة"},
    "ringing": {"en": "Ringing your phone…", "ar": "جارٍ الاتصال بهاتفك…"},
    "refused": {"en": "Refused", "ar": "مرفوض"},
    "no_calls": {"en": "No calls now.", "ar": "لا مكالمات الآن."},
    "state_ivr": {"en": "in menu", "ar": "في القائمة"},
    "state_waiting": {"en": "waiting", "ar": "ينتظر"},
    "state_talking": {"en": "talking", "ar": "في مكالمة"},
    # the wallboard's callbacks (reachback's callbacks to abandoned callers in danger)
    "callbacks": {"en": "callbacks", "ar": "معاودة الاتصال"},
    "callbacks_unavailable": {"en": "callbacks: off or the app cannot be asked",
                              "ar": "معاودة الاتصال: معطلة أو تعذر سؤال التطبيق"},
    "no_callbacks": {"en": "No callbacks pending or failed.",
                     "ar": "لا اتصالات معادة معلقة أو فاشلة."},
    "attempt": {"en": "attempts", "ar": "المحاولات"},
    "next_attempt": {"en": "next attempt", "ar": "المحاولة التالية"},
    "cancel": {"en": "Cancel", "ar": "إلغاء"},
    "cancelled": {"en": "Cancelled", "ar": "أُلغي"},
    "callback_pending": {"en": "pending", "ar": "معلق"},
    "callback_failed": {"en": "failed", "ar": "فشل"},
    "callback_no-answer": {"en": "no answer", "ar": "لم يُجب"},
    "callback_interrupted": {"en": "interrupted", "ar": "انقطع"},
    "last_outcome": {"en": "last outcome", "ar": "آخر نتيجة"},
    # the wallboard's satisfaction calls (reachback's survey after a resolved report)
    "survey_calls": {"en": "Satisfaction calls", "ar": "اتصالات قياس الرضا"},
    "survey_calls_unavailable": {"en": "satisfaction calls: the app cannot be asked",
                                 "ar": "اتصالات قياس الرضا: تعذر سؤال التطبيق"},
    "no_survey_calls": {"en": "No satisfaction calls pending or failed.",
                        "ar": "لا اتصالات قياس رضا معلقة أو فاشلة."},
    # reports and statistics pages
    "search": {"en": "Search", "ar": "بحث"},
    "since": {"en": "since", "ar": "من"},
    "until": {"en": "until", "ar": "إلى"},
    "outcome": {"en": "outcome", "ar": "النتيجة"},
    "language": {"en": "language", "ar": "اللغة"},
    "any": {"en": "any", "ar": "الكل"},
    "csv": {"en": "CSV export", "ar": "تصدير CSV"},
    "timeline": {"en": "Timeline", "ar": "التسلسل الزمني"},
    "answers": {"en": "Answers", "ar": "الإجابات"},
    "not_found": {"en": "No such report.", "ar": "لا يوجد بلاغ بهذا الرقم."},
    "by": {"en": "one row per", "ar": "صف لكل"},
    "day": {"en": "day", "ar": "اليوم"},
    "service_level_period": {"en": "service level", "ar": "مستوى الخدمة"},
    "wait_avg": {"en": "average wait", "ar": "متوسط الانتظار"},
    "seconds_short": {"en": "s", "ar": "ث"},
    "calls": {"en": "calls", "ar": "مكالمات"},
    "answered": {"en": "answered", "ar": "أجيبت"},
    "abandoned": {"en": "abandoned", "ar": "تُركت"},
    "started": {"en": "started", "ar": "البداية"},
    "status": {"en": "status", "ar": "الحالة"},
    # an agent's page (console/agent_routes.py, templates/agent.html)
    "agent_page": {"en": "My calls", "ar": "مكالماتي"},
    "desk_free": {"en": "No call is ringing you.", "ar": "لا مكالمة ترن لديك."},
    "desk_ringing": {"en": "A call is ringing you", "ar": "مكالمة ترن لديك"},
    "desk_talking": {"en": "In the call", "ar": "في المكالمة"},
    "agent_wrap_up": {"en": "The call has ended: how was it?", "ar": "انتهت المكالمة: ما نوعها؟"},
    "agent_member": {"en": "Your line", "ar": "خطك"},
    "agent_no_report": {"en": "No report was found for this call.",
                        "ar": "لم يُعثر على بلاغ لهذه المكالمة."},
    "repeat_calls": {"en": "Calls from this number in 30 days",
                     "ar": "مكالمات هذا الرقم في 30 يوماً"},
    "location_source": {"en": "how the place is known", "ar": "مصدر المكان"},
    "disposition": {"en": "Disposition", "ar": "نوع المكالمة"},
    "note": {"en": "Note", "ar": "ملاحظة"},
    "save": {"en": "Save", "ar": "حفظ"},
    "disposition_saved": {"en": "Saved.", "ar": "حُفظ."},
    "disposition_unknown": {"en": "Choose a disposition from the list.",
                            "ar": "اختر نوع المكالمة من القائمة."},
    "note_too_long": {"en": "The note is too long: shorten it and save again.",
                      "ar": "الملاحظة طويلة: اختصرها واحفظ مرة أخرى."},
    "not_your_call": {"en": "This call did not ring your line.",
                      "ar": "هذه المكالمة لم ترن على خطك."},
    "pause": {"en": "Pause", "ar": "إيقاف مؤقت"},
    "desk_pause_reason": {"en": "Reason", "ar": "السبب"},
    "unpause": {"en": "Come back", "ar": "العودة"},
    "desk_paused": {"en": "You are paused", "ar": "أنت متوقف مؤقتاً"},
    "pause_failed": {"en": "The phone system did not take the change: try again.",
                     "ar": "لم يقبل نظام الهاتف التغيير: حاول مرة أخرى."},
    "pause_reason_unknown": {"en": "Choose a reason from the list.",
                             "ar": "اختر سبباً من القائمة."},
    "dispositions": {"en": "Dispositions", "ar": "أنواع المكالمات"},
    # several Asterisk nodes (`nodes:`): the wallboard's banner for a node down, the
    # figures it leaves out, each call's node ({node}, {time}, {age}, {nodes}: filled in
    # by console.js as isolated text)
    "node": {"en": "node", "ar": "العقدة"},
    "node_down": {"en": "Node {node} cannot be reached since {time} ({age}): its calls "
                        "and figures are not known.",
                  "ar": "تعذر الوصول إلى العقدة {node} منذ {time} ({age}): مكالماتها "
                        "وأرقامها غير معروفة."},
    "node_figures_unknown": {"en": "Not known on {nodes}: these live figures count the "
                                   "other nodes only",
                             "ar": "غير معروفة على {nodes}: هذه الأرقام المباشرة تحسب العقد "
                                   "الأخرى فقط"},
    "node_agents_unknown": {"en": "The agents on {nodes} are not known.",
                            "ar": "الموظفون على {nodes} غير معروفين."},
    "node_unknown": {"en": "not known", "ar": "غير معروفة"},
}

REPORT: Words = {
    "title": {"en": "Hotline report", "ar": "تقرير الخط الساخن"},
    "period": {"en": "Period", "ar": "الفترة"},
    "generated": {"en": "Generated", "ar": "تاريخ الإعداد"},
    "summary": {"en": "Summary", "ar": "ملخص"},
    "dispositions": {"en": "Agents' dispositions after the call, per queue",
                     "ar": "تصنيف الموظفين للمكالمات بعد انتهائها، لكل طابور"},
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
    "charts_note": {"en": "Days on the axes are month-day; waits are in seconds.",
                    "ar": "الأيام على المحاور بصيغة الشهر-اليوم؛ أوقات الانتظار بالثواني."},
    # inside the charts (legends and axes, in the page's language)
    "axis_calls": {"en": "calls", "ar": "المكالمات"},
    "axis_sl": {"en": "service level %", "ar": "مستوى الخدمة %"},
    "answered_within": {"en": "answered within {seconds} s", "ar": "أُجيب خلال {seconds} ث"},
    "target": {"en": "target {percent} %", "ar": "الهدف {percent} %"},
    "axis_wait": {"en": "wait in the queue, seconds (box 25-75 %, whiskers 5-95 %, "
                        "triangle: mean)",
                  "ar": "الانتظار في الطابور بالثواني (الصندوق 25-75 %، الخطوط 5-95 %، "
                        "المثلث: المتوسط)"},
    "no_waits": {"en": "no queue waits", "ar": "لا انتظار في الطوابير"},
    "by_day": {"en": "By day", "ar": "حسب اليوم"},
    "by_queue": {"en": "By queue", "ar": "حسب الطابور"},
    "by_category": {"en": "By category (routing rule)", "ar": "حسب الفئة (قاعدة التوجيه)"},
    "by_emirate": {"en": "By emirate", "ar": "حسب الإمارة"},
    "by_language": {"en": "By language", "ar": "حسب اللغة"},
    # the units' follow-up (readmodel/followups.py)
    "followup": {"en": "The units' follow-up", "ar": "متابعة الجهات المختصة"},
    "followup_note": {"en": "Reports routed in the period by the unit's latest status, and "
                            "the time from the call to the unit's first \"resolved\" "
                            "(median and 90th percentile, in hours:minutes), for those "
                            "resolved.",
                      "ar": "البلاغات الموجَّهة في الفترة حسب آخر حالة أبلغت بها الجهة، والمدة من "
                            "المكالمة حتى أول \"تم الحل\" (الوسيط والمئين 90، بالساعات:الدقائق) "
                            "للبلاغات التي حُلَّت."},
    "followup_status": {"en": "Status", "ar": "الحالة"},
    "reports": {"en": "Reports", "ar": "البلاغات"},
    "queue": {"en": "Queue", "ar": "الطابور"},
    "unit": {"en": "Unit", "ar": "الجهة"},
    "resolved": {"en": "Resolved", "ar": "تم حلها"},
    "median_seconds": {"en": "Median", "ar": "الوسيط"},
    "p90_seconds": {"en": "90th percentile", "ar": "المئين 90"},
    # the satisfaction calls (readmodel/survey.py)
    "survey": {"en": "Satisfaction calls", "ar": "مكالمات قياس الرضا"},
    "survey_note": {"en": "Answers to the satisfaction call after a unit resolved a report, "
                          "per unit, month and question (the answers as configured; "
                          "\"unanswered\": no key pressed).",
                    "ar": "إجابات مكالمة قياس الرضا بعد أن حلّت الجهة البلاغ، حسب الجهة والشهر "
                          "والسؤال (الإجابات كما في الإعدادات؛ \"بلا إجابة\": لم يُضغط أي زر)."},
    "survey_month": {"en": "Month", "ar": "الشهر"},
    "survey_question": {"en": "Question", "ar": "السؤال"},
    "survey_answer": {"en": "Answer", "ar": "الإجابة"},
    "survey_unanswered": {"en": "unanswered", "ar": "بلا إجابة"},
    # reaching callers back (readmodel/contact_counts.py)
    "reachback": {"en": "Reaching callers back", "ar": "التواصل مع المتصلين لاحقًا"},
    "reachback_note": {"en": "The consent question's answers (callers asked: never a withheld "
                             "number), and the texts to callers queued in the period: sent to "
                             "Kannel, delivered or failed by their delivery reports, withheld "
                             "when the caller had not said it is safe.",
                       "ar": "إجابات سؤال الموافقة (لمن سُئل فقط، ولا يُسأل صاحب رقم محجوب)، "
                             "والرسائل النصية إلى المتصلين في الفترة: ما أُرسل، وما وصل أو لم يصل "
                             "حسب تقارير التسليم، وما حُجب لأن المتصل لم يقل إن التواصل آمن."},
    "consent_yes": {"en": "Safe to text or call back: yes", "ar": "التواصل آمن: نعم"},
    "consent_no": {"en": "Safe to text or call back: no", "ar": "التواصل آمن: لا"},
    "texts_sent": {"en": "Texts sent", "ar": "رسائل أُرسلت"},
    "texts_delivered": {"en": "Texts delivered", "ar": "رسائل وصلت"},
    "texts_failed": {"en": "Texts failed", "ar": "رسائل لم تصل"},
    "texts_withheld": {"en": "Texts withheld (no consent)", "ar": "رسائل حُجبت (بلا موافقة)"},
    "by_agent": {"en": "By agent (times in hours:minutes)",
                 "ar": "حسب الموظف (الأوقات بالساعات:الدقائق)"},
    # the agents' table headings (stats/agent_table.py's COLUMNS)
    "offered": {"en": "Offered", "ar": "عُرضت"},
    "missed": {"en": "Missed", "ar": "فاتت"},
    "talk_seconds": {"en": "Talk", "ar": "المحادثة"},
    "pause_seconds": {"en": "Paused", "ar": "التوقف"},
    "wrapup_seconds": {"en": "Wrap-up", "ar": "إنهاء المكالمة"},
    # table headings (stats/render.py's COLUMNS)
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

CATALOGUES: dict[str, Words] = {"names": NAMES, "console": CONSOLE, "report": REPORT}


def name(key: str, language: str) -> str:
    """The word for a stored id, or the id as it is when the catalogue does not know it."""
    return NAMES.get(key, {}).get(language, key)


def heading(key: str, language: str) -> str:
    """The name as it begins a row or a line: 'child' -> 'Child' (Arabic has no case)."""
    word = name(key, language)
    return word[:1].upper() + word[1:]


def report_text(key: str, language: str, **values: object) -> str:
    return REPORT[key][language].format(**values)


def console_labels(language: str) -> dict[str, str]:
    """Every word a console page or its script shows: names, and labels over them."""
    return {**{key: words[language] for key, words in NAMES.items()},
            **{key: words[language] for key, words in CONSOLE.items()}}


__all__ = ["CATALOGUES", "CONSOLE", "LANGUAGES", "NAMES", "REPORT", "Words", "console_labels",
           "heading", "name", "report_text"]
