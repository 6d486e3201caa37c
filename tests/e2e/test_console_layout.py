"""The wallboard holds its layout and Arabic reads right, in a real browser (chromium).

The moment it matters: two callers in danger waiting in child protection, with long
references, and a queue with a long name. At the usual wall-screen sizes (1366x768,
1920x1080) and the 1400 px where it broke, in both languages: no element of a tile lies
outside its tile, no two tiles overlap, the figures that matter are shown whole, and
numbers and references keep their left-to-right order inside right-to-left text (read
from the DOM: the first character of an isolated number is drawn left of its last). With
AMI down, the configured queues still have their tiles, saying the live state is
unavailable, and the report filters are choices.

The board is the real one (`board.build` from AMI-shaped events and reports), served by
the real console app over HTTP (uvicorn on a loopback port); no PBX is needed.
Screenshots: BALAGH_SCREENSHOTS=docs/images writes the ones docs/supervisors.md shows.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from balagh.config import ConsoleSettings, Settings
from balagh.console import board
from balagh.console.accounts import Accounts
from balagh.console.choices import configured_choices
from balagh.console.feed import Feed
from balagh.console.web import create_app
from balagh.status import ReportStatus
from balagh.store.queries import Report

from .console_browser import browser_login, free_port, new_browser, poll

PASSWORD = "a long enough password"
SIZES = ((1366, 768), (1400, 900), (1920, 1080))
LONG_QUEUE = "northern-emirates-night-line-overflow"
DANGER_REFERENCES = ("9563404", "9563417")


def _report(reference: str, **fields: Any) -> Report:
    base = Report(id=int(reference), call_id=f"call-{reference}", reference=reference,
                  channel=f"PJSIP/x-{reference}", caller="+97165559876", hotline="800700",
                  language="ar", status=ReportStatus.ROUTED, status_detail=None,
                  rule="child", queue="child-protection", priority=10,
                  started_at="2026-11-25T08:57:00.000Z", routed_at="2026-11-25T08:58:00.000Z",
                  ended_at=None, updated_at="2026-11-25T08:58:00.000Z", location="sharjah",
                  location_source="answer", queue_outcome=None,
                  joined_queue="child-protection", answered_by=None, answered_at=None,
                  wait_seconds=None, talk_seconds=None,
                  answers={"danger": "yes", "age": "child", "gender": "female"})
    return replace(base, **fields)


def _member(queue: str, status: str, paused: str = "0") -> dict[str, str]:
    return {"Event": "QueueMember", "Queue": f"balagh-{queue}", "Status": status,
            "Paused": paused, "InCall": "0"}


def seeded_snapshot(queues: tuple[str, ...], now: float, *, pbx_up: bool) -> dict[str, Any]:
    """Two callers in danger waiting in child protection (75 s and 30 s), agents busy."""
    reports = [_report(reference) for reference in DANGER_REFERENCES]
    events = [
        {"Event": "QueueEntry", "Queue": "balagh-child-protection",
         "Uniqueid": f"call-{DANGER_REFERENCES[0]}", "Wait": "75"},
        {"Event": "QueueEntry", "Queue": "balagh-child-protection",
         "Uniqueid": f"call-{DANGER_REFERENCES[1]}", "Wait": "30"},
        _member("child-protection", "2"), _member("child-protection", "1"),
        _member("child-protection", "1", paused="1"),
        {"Event": "QueueParams", "Queue": f"balagh-{LONG_QUEUE}"},
        _member(LONG_QUEUE, "1"), *(_member(queue, "1") for queue in queues),
    ] if pbx_up else []
    today = board.Today(answered={"child-protection": 128}, abandoned={"child-protection": 7},
                        service_level={"child-protection": 0.947, "general": 1.0},
                        calls=1234, to_queue_p50=12.5, to_queue_p95=41.0,
                        per_hour=[3, 1, 0, 0, 2, 9, 40, 88, 120, 131] + [0] * 14)
    return board.build(queue_events=events,
                       live_ids={f"call-{r}" for r in DANGER_REFERENCES} if pbx_up else None,
                       reports=reports, questions=[], today=today, now=now, queues=queues,
                       pbx_up=pbx_up)


class SeededFeed(Feed):
    """The board from a seeded snapshot, no AMI or database behind it."""

    def __init__(self, settings: Settings, snapshot: dict[str, Any]) -> None:
        super().__init__(settings, [])
        self.snapshot = snapshot

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class ConsoleThread:
    """The console app served by uvicorn on a loopback port, in a thread of this process."""

    def __init__(self, settings: Settings, feed: Feed, accounts: Accounts) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings, accounts=accounts, feed=feed),
                                host="127.0.0.1", port=self.port, log_config=None,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ConsoleThread:
        self.thread.start()
        poll(lambda: self.server.started, 20, "the console to listen")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _console(tmp_path: Path, *, pbx_up: bool) -> ConsoleThread:
    # Plain HTTP on loopback in the tests: cookies without the Secure flag.
    settings = Settings(data_dir=tmp_path, console=ConsoleSettings(secure_cookies=False))
    accounts = Accounts(settings.console_database)
    accounts.add("admin", PASSWORD, "admin", None)
    queues = configured_choices(settings).queues
    snapshot = seeded_snapshot(queues, time.time(), pbx_up=pbx_up)
    return ConsoleThread(settings, SeededFeed(settings, snapshot), accounts)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = new_browser()
    yield driver
    driver.quit()


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


# Every tile's children inside it; no two tiles overlapping; the figures that matter
# shown whole (not cut by an ellipsis). Returns the problems found, none when all is well.
LAYOUT_PROBLEMS = """
const problems = [];
const tiles = [...document.querySelectorAll('.queue, .strip .tile')];
const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 &&
                         a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
for (const tile of tiles) {
  const box = tile.getBoundingClientRect();
  for (const child of tile.querySelectorAll('*')) {
    const r = child.getBoundingClientRect();
    if (r.width && r.height && !inside(r, box))
      problems.push(tile.id + ': ' + (child.dataset.figure || child.className || child.tagName) +
                    ' outside its tile');
  }
}
for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) {
  const a = tiles[i].getBoundingClientRect(), b = tiles[j].getBoundingClientRect();
  if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
    problems.push(tiles[i].id + ' overlaps ' + tiles[j].id);
}
for (const value of document.querySelectorAll('#queue-child-protection .value')) {
  if (value.scrollWidth > value.clientWidth + 1)
    problems.push(value.parentNode.dataset.figure + ' cut: ' + value.textContent);
}
return problems;
"""

# The visual order of an isolated run: its first character drawn left of its last (what
# left-to-right means on screen), its direction ltr and isolated from the text around it.
DRAWN_LEFT_TO_RIGHT = """
const node = arguments[0];
const text = node.firstChild;
const style = getComputedStyle(node);
const at = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                    return r.getBoundingClientRect(); };
return {text: text.data, direction: style.direction, bidi: style.unicodeBidi,
        first: at(0).left, last: at(text.data.length - 1).left};
"""


# Where the unit after an isolated number is drawn.
DRAWN_UNIT = """
const unit = arguments[0].nextSibling;
const r = document.createRange(); r.selectNodeContents(unit);
return {text: unit.data, x: r.getBoundingClientRect().left};
"""


def _reads_left_to_right(driver: Any, node: Any) -> str:
    drawn = driver.execute_script(DRAWN_LEFT_TO_RIGHT, node)
    assert drawn["direction"] == "ltr" and drawn["bidi"] == "isolate", drawn
    assert drawn["first"] < drawn["last"], drawn
    return str(drawn["text"])


def _shot(driver: Any, tmp_path: Path, name: str, *, docs: bool = True) -> None:
    """Into BALAGH_SCREENSHOTS when it names a folder and the docs show this one."""
    folder = Path(os.environ.get("BALAGH_SCREENSHOTS") or tmp_path) if docs else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / name))


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_wallboard_holds_with_two_callers_in_danger_at_wall_screen_sizes(
        browser: Any, tmp_path: Path, lang: str) -> None:
    from selenium.webdriver.common.by import By

    with _console(tmp_path, pbx_up=True) as console:
        browser_login(browser, console.url, "admin", PASSWORD, lang)
        for width, height in SIZES:
            _viewport(browser, width, height)
            browser.get(f"{console.url}/?lang={lang}")
            poll(lambda: browser.execute_script(
                "const q = document.getElementById('queue-child-protection');"
                "return !!q && q.dataset.danger === '2' && q.classList.contains('danger');"),
                10, "child protection's tile, two callers in danger")
            if width == 1366:
                _shot(browser, tmp_path, f"wallboard-{lang}.png")
            else:
                _shot(browser, tmp_path, f"wallboard-{lang}-{width}.png", docs=False)
            assert browser.execute_script(LAYOUT_PROBLEMS) == [], (lang, width)
            tile = browser.find_element(By.ID, "queue-child-protection")
            note = tile.find_element(By.CSS_SELECTOR, "[data-figure=oldest_danger] .note")
            assert _reads_left_to_right(browser, note) == f"#{DANGER_REFERENCES[0]}"
            age = tile.find_element(By.CSS_SELECTOR, "[data-figure=oldest_danger] .value")
            assert _reads_left_to_right(browser, age).startswith("1:1")  # 75 s and ticking
            level = tile.find_element(By.CSS_SELECTOR, "[data-figure=service_level] .value")
            assert _reads_left_to_right(browser, level) == "95%"
            # answer to queue "p50 / p95": each number isolated, its unit after it and p50
            # first, both in the page's reading direction
            numbers = browser.find_elements(By.CSS_SELECTOR, "#to-queue bdi")
            assert [_reads_left_to_right(browser, n) for n in numbers] == ["12.5", "41"]
            first, second = (n.rect["x"] for n in numbers)
            unit = browser.execute_script(DRAWN_UNIT, numbers[0])
            if lang == "ar":  # read right to left: "12.5" then "ث", then "41"
                assert first > second and unit["text"] == " ث" and unit["x"] < first
            else:
                assert first < second and unit["text"] == " s" and unit["x"] > first
        assert browser.execute_script("return document.documentElement.dir") == (
            "rtl" if lang == "ar" else "ltr")


def test_the_live_list_keeps_masked_numbers_and_references_in_order(
        browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    with _console(tmp_path, pbx_up=True) as console:
        browser_login(browser, console.url, "admin", PASSWORD, "ar")
        _viewport(browser, 1366, 768)
        browser.get(f"{console.url}/live?lang=ar")
        row = poll(lambda: browser.find_element(By.ID, f"call-{DANGER_REFERENCES[0]}"), 10,
                   "the first caller in danger's row")
        cells = row.find_elements(By.CSS_SELECTOR, "td bdi")
        shown = [_reads_left_to_right(browser, cell) for cell in cells]
        assert DANGER_REFERENCES[0] in shown and "+9716****9876" in shown
        assert "حماية الطفل" in row.text and "child-protection" not in row.text


def test_with_ami_down_the_configured_queues_have_tiles_and_filters_are_choices(
        browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    with _console(tmp_path, pbx_up=False) as console:
        browser_login(browser, console.url, "admin", PASSWORD, "en")
        _viewport(browser, 1366, 768)
        browser.get(f"{console.url}/?lang=en")
        queues = configured_choices(Settings(data_dir=tmp_path)).queues
        poll(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".queue.stale")) == len(queues),
             10, "a tile per configured queue")
        notes = browser.find_elements(By.CSS_SELECTOR, ".queue .unavailable")
        assert {note.text for note in notes} == {"live state unavailable"}
        assert browser.execute_script(LAYOUT_PROBLEMS) == []
        browser.get(f"{console.url}/reports?lang=en")
        for field in ("queue", "emirate", "language", "outcome", "danger"):
            assert browser.find_element(By.NAME, field).tag_name == "select", field
        emirates = browser.find_elements(By.CSS_SELECTOR, "select[name=emirate] option")
        assert "Dubai" in [option.text for option in emirates]


def test_a_day_never_wraps_in_the_statistics_table(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from unit.stats_data import make_database

    make_database(tmp_path / "balagh.sqlite3")  # two days: 2026-11-01 and -02
    with _console(tmp_path, pbx_up=False) as console:
        browser_login(browser, console.url, "admin", PASSWORD, "ar")
        _viewport(browser, 1366, 768)
        browser.get(f"{console.url}/stats?lang=ar&by=day&since=2026-11-01&until=2026-11-02")
        assert browser.find_element(By.CSS_SELECTOR, "#stats th").text == "اليوم"
        day = browser.find_element(By.CSS_SELECTOR, "#stats tbody td bdi")
        assert re.fullmatch(r"2026-1[01]-\d\d", _reads_left_to_right(browser, day))
        assert browser.execute_script("return arguments[0].getClientRects().length", day) == 1
        total = browser.find_element(By.ID, "total")
        assert total.find_element(By.TAG_NAME, "td").text == "المجموع"
        _shot(browser, tmp_path, "stats-ar.png")
