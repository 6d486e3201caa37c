"""`balagh stats` and `balagh report-pack` on the hand-made database: output, charts, pages."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from balagh.cli import main

from .stats_data import make_database

PERIOD = ["--since", "2026-11-01", "--until", "2026-11-02"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))  # settings.database is this one
    # The hand-made calls are placed in UTC days; these tests are about the figures (the
    # hotline's own days: test_localtime_days.py).
    monkeypatch.setenv("BALAGH_TIMEZONE", "UTC")
    return make_database(tmp_path / "balagh.sqlite3")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_table(database, capsys):
    status, out, _ = _run(capsys, "stats", *PERIOD, "--by", "queue")
    assert status == 0
    lines = out.splitlines()
    assert "SL = answered within 20 s" in lines[0]
    header = lines[2].split()
    assert header[:3] == ["queue", "calls", "answered"]
    total = next(line for line in lines if line.startswith("total")).split()
    # calls, answered, abandoned, ivr hang-ups, SL, wait avg, wait p95, danger
    assert total[1:9] == ["8", "3", "1", "3", "50.0%", "26.2", "50", "2"]
    assert "hung up in the IVR, by the question being asked:" in out
    give_ups = next(line for line in lines[lines.index("hung up in the IVR, by the question "
                                                        "being asked:"):]
                    if line.startswith("total")).split()
    assert give_ups[1:] == ["1", "2"]  # menu order: language, then age


def test_csv(database, capsys):
    status, out, _ = _run(capsys, "stats", *PERIOD, "--by", "day", "--format", "csv",
                          "--service-level-seconds", "30")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [row["day"] for row in rows] == ["2026-11-01", "2026-11-02", "total"]
    assert rows[0]["calls"] == "4" and rows[0]["gave_up_in:age"] == "1"
    assert float(rows[2]["service_level"]) == 0.75  # within 30 s: 5, 20 and 30
    assert rows[2]["to_queue_typed_ahead_p50"] == "8.0"


def test_json(database, capsys):
    status, out, _ = _run(capsys, "stats", *PERIOD, "--by", "category", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["by"] == "category" and data["service_level_seconds"] == 20
    assert data["period"] == {"label": "2026-11-01..2026-11-02",
                              "start": "2026-11-01T00:00:00.000Z",
                              "end": "2026-11-03T00:00:00.000Z"}
    assert {row["key"]: row["calls"] for row in data["rows"]} == {
        "(not routed)": 3, "adult-female": 2, "child": 2, "default": 1}
    assert data["total"]["danger_wait_p95"] == 20
    assert data["total"]["gave_up_in"] == {"age": 2, "language": 1}


def test_an_empty_period_says_so(database, capsys):
    status, out, err = _run(capsys, "stats", "--month", "2025-01")
    assert status == 0 and out == "" and "no calls in 2025-01" in err
    status, out, _ = _run(capsys, "stats", "--month", "2025-01", "--by", "queue",
                          "--format", "json")
    assert status == 0 and json.loads(out)["total"]["service_level"] is None


def test_bad_period_and_missing_database(tmp_path, capsys, monkeypatch):
    status, _, err = _run(capsys, "stats", "--month", "2026-13")
    assert status == 2 and "not a month" in err
    status, _, err = _run(capsys, "stats", "--database", str(tmp_path / "none.sqlite3"))
    assert status == 2 and "no report database" in err


def test_plot_writes_a_png_with_agg(database, tmp_path, capsys):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from balagh.readmodel.period import parse_range
    from balagh.readmodel.statistics import compute_many
    from balagh.stats import charts

    png = tmp_path / "stats.png"
    status, _, err = _run(capsys, "stats", *PERIOD, "--plot", str(png))
    assert status == 0 and f"wrote {png}" in err
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    report = compute_many(database, parse_range("2026-11-01", "2026-11-02"), ["day", "queue"])
    figure = charts.overview(report.stats["day"], report.stats["queue"],
                             report.per_day_and_queue)
    assert isinstance(figure.canvas, FigureCanvasAgg) and len(figure.axes) == 3


def test_plot_of_an_empty_period(database, tmp_path, capsys):
    png = tmp_path / "empty.png"
    status, _, _ = _run(capsys, "stats", "--month", "2025-01", "--plot", str(png))
    assert status == 0 and png.read_bytes().startswith(PNG_SIGNATURE)


def test_report_pack_in_arabic_is_right_to_left(database, tmp_path, capsys):
    page = tmp_path / "report-ar.html"
    status, _, err = _run(capsys, "report-pack", *PERIOD, "--language", "ar", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    assert status == 0 and "8 calls" in err
    assert '<html lang="ar" dir="rtl">' in html
    assert "تقرير الخط الساخن" in html and "حماية الطفل" in html  # title, a queue's name
    assert "<bdi>50.0%</bdi>" in html  # the service level
    assert html.count('src="data:image/svg+xml;base64,') == 3
    assert "<link" not in html and "<script" not in html  # nothing to fetch


def _chart_texts(html: str) -> str:
    """The text inside the pack's charts (SVG whose text stays text)."""
    import base64
    import re

    return "".join(base64.b64decode(found).decode("utf-8") for found in
                   re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html))


@pytest.mark.parametrize(("language", "queue", "legend"), [
    ("ar", "حماية الطفل", "المكالمات"), ("en", "Child protection", "calls")])
def test_report_pack_charts_speak_the_page_language(database, tmp_path, capsys, language,
                                                    queue, legend):
    page = tmp_path / f"report-{language}.html"
    status, _, _ = _run(capsys, "report-pack", *PERIOD, "--language", language,
                        "-o", str(page))
    charts = _chart_texts(page.read_text(encoding="utf-8"))
    assert status == 0 and queue in charts and legend in charts  # legend, axis
    assert "child-protection" not in charts  # ids never, names always
    if language == "ar":
        assert "(لم يوجَّه)" in charts and "(not routed)" not in charts


def test_report_pack_prints_on_a4_with_days_on_one_line(database, tmp_path, capsys):
    page = tmp_path / "report-ar.html"
    _run(capsys, "report-pack", *PERIOD, "--language", "ar", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    assert "@page { size: A4" in html and "@media print" in html
    assert '<td class="key"><bdi>2026-11-01</bdi></td>' in html  # a day's cell: nowrap


def test_report_pack_in_english(database, tmp_path, capsys):
    page = tmp_path / "report-en.html"
    status, _, _ = _run(capsys, "report-pack", *PERIOD, "--language", "en", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    assert status == 0 and '<html lang="en" dir="ltr">' in html
    assert "Where callers hang up in the menu" in html
    assert "<td>Age</td><td class=\"num\"><bdi>2</bdi></td>" in html
    assert "Child protection" in html and "2026-11-01 – 2026-11-02" in html


def test_report_pack_of_an_empty_period(database, tmp_path, capsys):
    page = tmp_path / "empty.html"
    status, _, err = _run(capsys, "report-pack", "--week", "2025-W02", "--language", "en",
                          "-o", str(page))
    assert status == 0 and "no calls in this period" in err
    assert "No calls in this period." in page.read_text(encoding="utf-8")
