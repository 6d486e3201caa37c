"""Charts with matplotlib's Agg backend (files only, no display): calls per day per queue,
service level per day, wait in the queue per queue.

Their words (legends, axes, queue names) come in a `ChartWords`, in the page's language.
matplotlib cannot shape Arabic by itself, so the report pack takes its charts as SVG with
the text kept as text (`svg_text`): the browser that shows the page shapes and orders it.
`balagh stats --plot` writes a PNG with the English words and the queue ids as configured.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from balagh.readmodel.figures import Figures, Histogram
from balagh.readmodel.statistics import Stats
from balagh.store.daily import NOT_ROUTED
from balagh.texts import name, report_text

SL_TARGET = 0.8  # the contact-centre 80/20 measure: 80 % answered within the threshold


@dataclass(frozen=True)
class ChartWords:
    """Every word inside a chart, in one language."""

    name: Callable[[str], str]  # a queue id's word in the legend and on the axis
    calls: str
    service_level: str
    answered_within: str  # with {seconds}
    target: str           # with {percent}
    wait: str
    no_waits: str


def chart_words(language: str, *, names: bool = True) -> ChartWords:
    """The words from the catalogue; `names=False` keeps queue ids as configured."""
    return ChartWords(
        name=(lambda key: name(key, language)) if names else str,
        calls=report_text("axis_calls", language),
        service_level=report_text("axis_sl", language),
        answered_within=report_text("answered_within", language, seconds="{seconds}"),
        target=report_text("target", language, percent="{percent}"),
        wait=report_text("axis_wait", language),
        no_waits=report_text("no_waits", language))


ENGLISH = chart_words("en", names=False)


def new_figure(width: float, height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure on the Agg canvas: no display, no pyplot state, safe in any thread."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, 1, squeeze=False)
    return figure, [row[0] for row in axes]


def _day_ticks(ax: Axes, days: Sequence[str]) -> None:
    step = max(1, len(days) // 10)
    ax.set_xticks(range(0, len(days), step), [d[5:] for d in days[::step]])


def calls_per_day(ax: Axes, days: Sequence[str], per_queue: dict[str, dict[str, int]],
                  words: ChartWords = ENGLISH) -> None:
    """Stacked bars: each day's calls, a colour per queue (callers who hung up in the
    menu as '(not routed)', on top)."""
    bottom = [0] * len(days)
    queues = sorted(per_queue, key=lambda q: (q == NOT_ROUTED, q))
    for queue in queues:
        heights = [per_queue[queue].get(day, 0) for day in days]
        ax.bar(range(len(days)), heights, bottom=bottom, label=words.name(queue), width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    _day_ticks(ax, days)
    ax.set_ylabel(words.calls)
    if queues:
        ax.legend(fontsize="x-small", ncols=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def service_level_per_day(ax: Axes, by_day: Stats, words: ChartWords = ENGLISH) -> None:
    sl = by_day.service_level_seconds
    days = [row.key for row in by_day.rows]
    levels = [row.service_level(sl) for row in by_day.rows]
    values = [float("nan") if level is None else level * 100 for level in levels]
    ax.plot(range(len(days)), values, marker="o", markersize=3,
            label=words.answered_within.format(seconds=sl))
    ax.axhline(SL_TARGET * 100, color="grey", linestyle="--", linewidth=1,
               label=words.target.format(percent=round(SL_TARGET * 100)))
    ax.set_ylim(0, 100)
    ax.set_ylabel(words.service_level)
    _day_ticks(ax, days)
    ax.legend(fontsize="x-small", loc="lower left")


def _box(label: str, wait: Histogram) -> dict[str, object]:
    """Box-plot statistics straight from the exact histogram (no raw values needed)."""
    return {"label": label, "med": wait.percentile(50), "q1": wait.percentile(25),
            "q3": wait.percentile(75), "whislo": wait.percentile(5),
            "whishi": wait.percentile(95), "mean": wait.mean(), "fliers": []}


def wait_per_queue(ax: Axes, by_queue: Stats, words: ChartWords = ENGLISH) -> None:
    rows: list[Figures] = [row for row in by_queue.rows if row.wait.n]
    if not rows:
        ax.text(0.5, 0.5, words.no_waits, ha="center", va="center", transform=ax.transAxes)
        return
    ax.bxp([_box(words.name(row.key), row.wait) for row in rows], orientation="horizontal",
           showmeans=True, meanprops={"markersize": 4})
    ax.set_xlabel(words.wait)


def png_bytes(figure: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def svg_text(figure: Figure) -> str:
    """The figure as SVG whose text stays text, for a browser to shape (Arabic included)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "balagh"}):
        figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def overview(by_day: Stats, by_queue: Stats, per_queue: dict[str, dict[str, int]]) -> Figure:
    """The three charts in one figure, one above the other (what `balagh stats --plot` writes)."""
    figure, (calls, levels, waits) = new_figure(10, 11, rows=3)
    days = [row.key for row in by_day.rows]
    figure.suptitle(f"Balagh: {by_day.period.label}, {by_day.total.calls} calls")
    calls_per_day(calls, days, per_queue)
    calls.set_title("Calls per day, by queue")
    service_level_per_day(levels, by_day)
    levels.set_title(f"Service level per day (answered within {by_day.service_level_seconds} s)")
    wait_per_queue(waits, by_queue)
    waits.set_title("Wait in the queue, per queue")
    return figure


def write_overview(path: Path, by_day: Stats, by_queue: Stats,
                   per_queue: dict[str, dict[str, int]]) -> None:
    path.write_bytes(png_bytes(overview(by_day, by_queue, per_queue)))
