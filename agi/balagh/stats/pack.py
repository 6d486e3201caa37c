"""The periodic report: one self-contained HTML file (inline CSS, charts as base64 SVG)
with the period's figures and charts, in Arabic (right to left) or English.

The page is templates/pack.html (Jinja2, autoescape on); its words come from the one
catalogue, balagh.texts, the charts' legends and axes too: the charts are SVG whose text
stays text, so the browser shapes and orders the Arabic in them as in the page.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from balagh.localtime import local
from balagh.readmodel import agents as agent_figures
from balagh.readmodel import statistics as query
from balagh.readmodel.dispositions import by_queue, disposition_counts
from balagh.readmodel.followups import NO_STATUS, FollowupFigures, followup_figures
from balagh.readmodel.period import Period
from balagh.readmodel.survey import UNANSWERED, SurveyFigures, survey_figures
from balagh.templating import environment
from balagh.texts import heading, name, report_text

from . import charts
from .agent_table import COLUMNS as AGENT_COLUMNS
from .followup import RESOLUTION_COLUMNS
from .render import COLUMNS, cell

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

GROUP_TITLES = (("day", "by_day"), ("queue", "by_queue"), ("category", "by_category"),
                ("emirate", "by_emirate"), ("language", "by_language"))

_ENV = environment(Path(__file__).parent / "templates")


@dataclass
class PackData:
    """Everything the page shows, computed once."""

    period: Period
    service_level_seconds: int
    groups: dict[str, query.Stats]  # by -> stats
    per_queue: dict[str, dict[str, int]]
    followup: FollowupFigures = field(default_factory=FollowupFigures)
    # agents' dispositions: {queue: {disposition: calls}}, and the configured list's order
    dispositions: dict[str, dict[str, int]] = field(default_factory=dict)
    disposition_order: tuple[str, ...] = ()
    agents: agent_figures.AgentStats | None = None  # None: a file from before agent_events
    survey: SurveyFigures = field(default_factory=SurveyFigures)

    @property
    def total(self) -> query.Stats:
        return self.groups["day"]


def collect(database: ReportDatabase, period: Period, *, service_level_seconds: int = 20,
            questions: list[str] | None = None, console_database: Path | None = None,
            disposition_order: tuple[str, ...] = ()) -> PackData:
    report = query.compute_many(database, period, [by for by, _ in GROUP_TITLES],
                                service_level_seconds=service_level_seconds,
                                questions=questions)
    kept = by_queue(disposition_counts(console_database, period)) if console_database else {}
    try:
        agents: agent_figures.AgentStats | None = agent_figures.compute(
            database, period, datetime.now(UTC))
    except query.StatsError:
        agents = None
    return PackData(period, service_level_seconds, report.stats, report.per_day_and_queue,
                    followup_figures(database, period), kept, disposition_order, agents,
                    survey_figures(database, period))


def _dispositions(data: PackData, language: str) -> Group | None:
    """Agents' dispositions: a row per queue, a column per disposition, a total row."""
    if not data.dispositions:
        return None
    seen = {d for row in data.dispositions.values() for d in row}
    columns = [*data.disposition_order, *sorted(seen - set(data.disposition_order))]
    rows = [Row(heading(queue, language), [str(row.get(d, 0)) for d in columns])
            for queue, row in data.dispositions.items()]
    rows.append(Row(heading("total", language),
                    [str(sum(row.get(d, 0) for row in data.dispositions.values()))
                     for d in columns], True))
    return Group("dispositions", [name(d, language) for d in columns], rows)


@dataclass(frozen=True)
class Chart:
    svg: str  # base64
    caption: str


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[str]
    total: bool = False


@dataclass(frozen=True)
class Group:
    title: str  # a REPORT key
    columns: list[str]  # REPORT keys
    rows: list[Row]


def _chart(figure: Figure, caption: str) -> Chart:
    svg = charts.svg_text(figure).encode("utf-8")
    return Chart(base64.b64encode(svg).decode("ascii"), caption)


def _charts(data: PackData, language: str) -> list[Chart]:
    by_day, by_queue = data.groups["day"], data.groups["queue"]
    days = [row.key for row in by_day.rows]
    words = charts.chart_words(language)
    out = []
    figure, (ax,) = charts.new_figure(9, 3.2)
    charts.calls_per_day(ax, days, data.per_queue, words)
    out.append(_chart(figure, report_text("chart_calls", language)))
    figure, (ax,) = charts.new_figure(9, 2.6)
    charts.service_level_per_day(ax, by_day, words)
    out.append(_chart(figure, report_text("chart_sl", language)))
    figure, (ax,) = charts.new_figure(9, 0.9 + 0.36 * max(1, len(by_queue.rows)))
    charts.wait_per_queue(ax, by_queue, words)
    out.append(_chart(figure, report_text("chart_wait", language)))
    return out


def _group(stats: query.Stats, title: str, language: str) -> Group:
    sl = stats.service_level_seconds
    rows = []
    for row in [*stats.rows, stats.total]:
        values = row.as_dict(sl)
        total = row is stats.total
        label = row.key if stats.by == "day" and not total else heading(row.key, language)
        rows.append(Row(label, [cell(col, values[col]) for col, _ in COLUMNS], total))
    return Group(title, [col for col, _ in COLUMNS], rows)


def hours_minutes(seconds: float) -> str:
    """A month's talk or a report's days to resolution, as people read it: 92:05, not
    331500 (seconds rounded to the minute)."""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _agent_cell(column: str, value: object) -> str:
    if column.endswith("_seconds") and isinstance(value, int | float):
        return hours_minutes(value)
    return str(value)


def _agents_group(stats: agent_figures.AgentStats, language: str) -> Group:
    rows = []
    for row in [*stats.rows, stats.total]:
        values = row.as_dict()
        total = row is stats.total
        rows.append(Row(heading(row.agent, language) if total else row.agent,
                        [_agent_cell(col, values[col]) for col, _ in AGENT_COLUMNS],
                        total))
    return Group("by_agent", [col for col, _ in AGENT_COLUMNS], rows)


def _summary(data: PackData) -> list[tuple[str, str]]:
    values = data.total.total.as_dict(data.service_level_seconds)
    return [(col, cell(col, values[col])) for col, _ in COLUMNS]


def _give_ups(data: PackData, language: str) -> list[tuple[str, str, str]]:
    """Each question callers hung up on: its name, how many, their share of all who did."""
    total = data.total.total
    return [(heading(q, language), str(total.gave_up_in[q]),
             f"{total.gave_up_in[q] / total.hung_up_in_ivr:.1%}")
            for q in data.total.questions]


def _reachback(data: PackData) -> list[tuple[str, str]]:
    """Consent answers and texts; none when the period has neither."""
    stats = data.total
    rows = [(f"consent_{answer}", str(stats.consent[answer])) for answer in ("yes", "no")]
    rows += [(f"texts_{kind}", str(stats.texts.get(kind, 0)))
             for kind in ("sent", "delivered", "failed", "withheld")]
    return rows if any(value != "0" for _, value in rows) else []


def _followup(data: PackData, language: str) -> tuple[list[tuple[str, str]], Group]:
    """The reports per unit status, and the time to resolved per queue and unit."""
    statuses = [(heading("followup_none" if status == NO_STATUS else status, language),
                 str(count)) for status, count in sorted(data.followup.by_status.items())]
    rows = [Row(heading(row.queue, language), [row.unit, str(row.resolved),
                                               hours_minutes(row.median_seconds),
                                               hours_minutes(row.p90_seconds)])
            for row in data.followup.resolutions]
    return statuses, Group("followup", list(RESOLUTION_COLUMNS[1:]), rows)


def _survey(data: PackData, language: str) -> Group:
    """The satisfaction calls: a row per unit, month, question and answer."""
    rows = [Row(row.unit, [row.month, heading(row.question, language),
                           report_text("survey_unanswered", language)
                           if row.answer == UNANSWERED else row.answer, str(row.calls)])
            for row in data.survey.counts]
    return Group("survey", ["survey_month", "survey_question", "survey_answer", "calls"],
                 rows)


def render(data: PackData, language: str, generated: datetime | None = None) -> str:
    """The whole page as one string."""
    generated = generated or datetime.now(UTC)
    text = partial(report_text, language=language)
    empty = data.total.empty
    return _ENV.get_template("pack.html").render(
        language=language, direction="rtl" if language == "ar" else "ltr",
        title=f"{text('title')} {data.period.label}", text=text, period=data.period,
        stamp=local(generated, data.period.zone).strftime("%Y-%m-%d %H:%M"),
        zone=str(data.period.zone), empty=empty,
        service_level_seconds=data.service_level_seconds,
        summary_rows=[] if empty else _summary(data),
        give_up_rows=[] if empty else _give_ups(data, language),
        charts=[] if empty else _charts(data, language),
        groups=[] if empty else [_group(data.groups[by], title, language)
                                 for by, title in GROUP_TITLES]
        + ([_agents_group(data.agents, language)]
           if data.agents is not None and not data.agents.empty else []),
        reachback_rows=[] if empty else _reachback(data),
        followup=None if data.followup.empty else _followup(data, language),
        survey=None if data.survey.empty else _survey(data, language),
        dispositions=None if empty else _dispositions(data, language), same=str)
