"""The periodic report: one self-contained HTML file (inline CSS, charts as base64 PNG)
with the period's figures and charts, in Arabic (right to left) or English.

The words come from labels.py; the browser shapes and orders the Arabic text, which is
why chart images carry only English/neutral labels and the Arabic goes in captions.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from balagh.readmodel import statistics as query
from balagh.readmodel.period import Period

from . import charts
from .labels import name, text
from .render import COLUMNS, cell

GROUP_TITLES = (("day", "by_day"), ("queue", "by_queue"), ("category", "by_category"),
                ("emirate", "by_emirate"), ("language", "by_language"))

# Logical properties (start/end): the same style sheet lays tables out right to left
# for Arabic and left to right for English.
CSS = """
body { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Segoe UI", Tahoma,
       "DejaVu Sans", Arial, sans-serif; margin: 2rem auto; max-width: 75rem; color: #222;
       padding: 0 1rem; line-height: 1.5; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; }
p.meta, p.note { color: #555; margin: 0.3rem 0; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: start; }
th { background: #f3f5f7; font-weight: 600; vertical-align: bottom; }
td.num { text-align: end; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; background: #fafafa; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.95rem; }
.wide { overflow-x: auto; }
"""


@dataclass
class PackData:
    """Everything the page shows, computed once."""

    period: Period
    service_level_seconds: int
    groups: dict[str, query.Stats]  # by -> stats
    per_queue: dict[str, dict[str, int]]

    @property
    def total(self) -> query.Stats:
        return self.groups["day"]


def collect(database: Path, period: Period, *, service_level_seconds: int = 20,
            questions: list[str] | None = None) -> PackData:
    report = query.compute_many(database, period, [by for by, _ in GROUP_TITLES],
                                service_level_seconds=service_level_seconds,
                                questions=questions)
    return PackData(period, service_level_seconds, report.stats, report.per_day_and_queue)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _figure(png: bytes, caption: str) -> str:
    return f"<figure>{_img(png, caption)}<figcaption>{escape(caption)}</figcaption></figure>"


def _chart_images(data: PackData, language: str) -> list[str]:
    by_day, by_queue = data.groups["day"], data.groups["queue"]
    days = [row.key for row in by_day.rows]
    out = []
    figure, (ax,) = charts.new_figure(9, 3.6)
    charts.calls_per_day(ax, days, data.per_queue)
    out.append(_figure(charts.png_bytes(figure), text("chart_calls", language)))
    figure, (ax,) = charts.new_figure(9, 3.0)
    charts.service_level_per_day(ax, by_day)
    out.append(_figure(charts.png_bytes(figure), text("chart_sl", language)))
    figure, (ax,) = charts.new_figure(9, 0.9 + 0.42 * max(1, len(by_queue.rows)))
    charts.wait_per_queue(ax, by_queue)
    out.append(_figure(charts.png_bytes(figure), text("chart_wait", language)))
    return out


def _num(value: str) -> str:
    # Numbers keep their own left-to-right order inside right-to-left text.
    return f'<td class="num"><bdi>{escape(value)}</bdi></td>'


def _group_table(stats: query.Stats, language: str) -> str:
    sl = stats.service_level_seconds
    head = "".join(f"<th>{escape(text(col, language))}</th>" for col, _ in COLUMNS)
    rows = []
    for row in [*stats.rows, stats.total]:
        values = row.as_dict(sl)
        css = ' class="total"' if row is stats.total else ""
        label = row.key if stats.by == "day" and row is not stats.total else name(row.key,
                                                                                   language)
        rows.append(f"<tr{css}><td><bdi>{escape(label)}</bdi></td>"
                    + "".join(_num(cell(col, values[col])) for col, _ in COLUMNS) + "</tr>")
    return (f'<div class="wide"><table><thead><tr><th></th>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _summary(data: PackData, language: str) -> str:
    values = data.total.total.as_dict(data.service_level_seconds)
    rows = "".join(f"<tr><th>{escape(text(col, language))}</th>{_num(cell(col, values[col]))}"
                   "</tr>" for col, _ in COLUMNS)
    return f"<table><tbody>{rows}</tbody></table>"


def _give_ups(data: PackData, language: str) -> str:
    total = data.total
    hung_up = total.total.hung_up_in_ivr
    rows = "".join(
        f"<tr><td>{escape(name(q, language))}</td>{_num(str(total.total.gave_up_in[q]))}"
        f"{_num(f'{total.total.gave_up_in[q] / hung_up:.1%}')}</tr>"
        for q in total.questions)
    return (f'<p class="note">{escape(text("give_ups_note", language))}</p>'
            f"<table><thead><tr><th>{escape(text('question', language))}</th>"
            f"<th>{escape(text('callers', language))}</th>"
            f"<th>{escape(text('share', language))}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def render(data: PackData, language: str, generated: datetime | None = None) -> str:
    """The whole page as one string."""
    generated = generated or datetime.now(UTC)
    direction = "rtl" if language == "ar" else "ltr"
    title = f"{text('title', language)} {data.period.label}"
    stamp = generated.strftime("%Y-%m-%d %H:%M")
    parts = [
        f'<!DOCTYPE html>\n<html lang="{language}" dir="{direction}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(text('title', language))} <bdi>{escape(data.period.label)}</bdi></h1>",
        f'<p class="meta">{escape(text("period", language))}: <bdi dir="ltr">'
        f"{escape(data.period.shown)}</bdi> (UTC) · {escape(text('generated', language))}: "
        f'<bdi dir="ltr">{escape(stamp)} UTC</bdi></p>',
    ]
    if data.total.empty:
        parts.append(f"<p><strong>{escape(text('no_calls', language))}</strong></p>")
        parts.append("</body></html>")
        return "\n".join(parts)
    parts += [
        f"<h2>{escape(text('summary', language))}</h2>",
        _summary(data, language),
        f'<p class="note">{escape(text("sl_note", language, seconds=data.service_level_seconds))}'
        f" {escape(text('times_note', language))}</p>",
        f"<h2>{escape(text('give_ups', language))}</h2>",
        _give_ups(data, language),
        f"<h2>{escape(text('charts', language))}</h2>",
        *_chart_images(data, language),
        f'<p class="note">{escape(text("charts_note", language))}</p>',
    ]
    for by, title_key in GROUP_TITLES:
        parts.append(f"<h2>{escape(text(title_key, language))}</h2>")
        parts.append(_group_table(data.groups[by], language))
    parts.append("</body></html>")
    return "\n".join(parts)
