"""The bench's pure parts: percentiles, ARI events into call timelines, the rate search,
caller key timing and py-spy stacks (bench/*.py, run by `make bench`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from callers import caller_language, menu_seconds, press_delay
from figures import percentile, ratio, summarise, verdict
from procstat import parse_cpu, taskprocessor_warnings
from profile_stacks import inclusive, parse, self_time, short
from ratesearch import RateSearch
from timeline import Timeline, ari_time, sound_name, timelines

T0 = "2026-11-25T19:00:00.000+0000"


def at(seconds: float) -> str:
    whole, frac = divmod(round(seconds * 1000), 1000)
    return f"2026-11-25T19:00:{whole:02d}.{frac:03d}+0000"


# -- figures ----------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0], 99) == 3.0
    assert percentile([5, 1, 3], 0) == 1


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary_and_text() -> None:
    summary = summarise([0.010, 0.020, 0.030, 0.040])
    assert summary is not None
    assert (summary.count, summary.min, summary.median, summary.max) == (4, 0.01, 0.02, 0.04)
    assert summary.text("ms", 1000, 0) == \
        "min 10 / median 20 / p95 40 / p99 40 / max 40 ms (n=4)"
    assert summarise([]) is None


def test_ratio_and_verdict() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None
    assert ratio(1.0, 0.0) is None
    assert verdict(1.4, 1.5) == "met"
    assert verdict(1.5, 1.5) == "not met"
    assert verdict(0.8, 0.8, below=False) == "met"
    assert verdict(None, 1) == "not measured"


# -- timelines ----------------------------------------------------------------------


def test_ari_time_and_sound_names() -> None:
    assert ari_time(at(1.5)) - ari_time(T0) == pytest.approx(1.5)
    assert sound_name("sound:balagh/ask-age") == "ask-age"
    assert sound_name("balagh/invalid&balagh/ask-age") == "ask-age"


def balagh_call() -> list[dict[str, object]]:
    """A Balagh call: two prompts, a key cuts each; the last leads to BALAGH_QUEUE."""
    ch = {"id": "c1-h", "state": "Up"}
    target = {"target_uri": "channel:c1-h"}
    return [
        {"type": "ChannelCreated", "timestamp": at(0), "channel": {"id": "c1-h"}},
        {"type": "ChannelStateChange", "timestamp": at(0.1), "channel": ch},
        {"type": "PlaybackStarted", "timestamp": at(0.2),
         "playback": {"id": "p1", "media_uri": "sound:balagh/ask-language", **target}},
        {"type": "ChannelDtmfReceived", "timestamp": at(0.5), "digit": "1", "channel": ch},
        {"type": "PlaybackFinished", "timestamp": at(0.51),
         "playback": {"id": "p1", **target}},
        {"type": "PlaybackStarted", "timestamp": at(1.0),
         "playback": {"id": "p2", "media_uri": "sound:balagh/ask-danger", **target}},
        {"type": "ChannelDtmfReceived", "timestamp": at(1.3), "digit": "2", "channel": ch},
        {"type": "PlaybackFinished", "timestamp": at(1.32),
         "playback": {"id": "p2", **target}},
        {"type": "ChannelVarset", "timestamp": at(1.35), "variable": "BALAGH_QUEUE",
         "value": "general", "channel": ch},
        {"type": "ChannelDialplan", "timestamp": at(2.0), "dialplan_app": "Queue",
         "dialplan_app_data": "balagh-general,t,,", "channel": ch},
        {"type": "ChannelDtmfReceived", "timestamp": at(3.0), "digit": "5", "channel": ch},
        {"type": "ChannelDestroyed", "timestamp": at(4.0), "channel": ch},
    ]


def test_balagh_timeline() -> None:
    found = timelines(balagh_call(), ["c1-h", "other"])
    line = found["c1-h"]
    assert [name for _, name in line.prompts] == ["ask-language", "ask-danger"]
    assert line.queue == "general"
    assert line.answer_to_queue() == pytest.approx(1.9)
    # A key after the join (a caller still pressing in the queue) is not the last key.
    assert line.last_key_to_queue() == pytest.approx(0.7)
    latencies = line.digit_to_action()
    assert latencies[:2] == [pytest.approx(0.01), pytest.approx(0.02)]
    assert found["other"].answered is None
    assert line.longest_key_gap() == pytest.approx(1.7)
    assert Timeline("x").longest_key_gap() is None


def test_last_key_waits_for_the_variable_when_nothing_plays() -> None:
    line = Timeline("c")
    for event in balagh_call()[:5]:
        line.feed(event)
    line.feed({"type": "ChannelDtmfReceived", "timestamp": at(0.8), "digit": "2"})
    line.feed({"type": "ChannelVarset", "timestamp": at(0.85), "variable": "BALAGH_QUEUE",
               "value": "general"})
    assert line.digit_to_action() == [pytest.approx(0.01), pytest.approx(0.05)]


def test_native_timeline_prompts_from_read() -> None:
    line = Timeline("n")
    line.feed({"type": "ChannelStateChange", "timestamp": at(0), "channel": {"state": "Up"}})
    line.feed({"type": "ChannelDialplan", "timestamp": at(0.01), "dialplan_app": "Read",
               "dialplan_app_data": "BKEY,balagh/ask-language,1,,1,5"})
    line.feed({"type": "ChannelDialplan", "timestamp": at(9), "dialplan_app": "Read",
               "dialplan_app_data": "BKEY,balagh/invalid&balagh/ask-language,1,,1,5"})
    line.feed({"type": "ChannelDialplan", "timestamp": at(12), "dialplan_app": "Queue",
               "dialplan_app_data": "balagh-women-protection,t,,,90"})
    assert [name for _, name in line.prompts] == ["ask-language", "ask-language"]
    assert line.queue == "women-protection"
    assert line.answer_to_queue() == pytest.approx(12)
    assert line.last_key_to_queue() is None


# -- rate search --------------------------------------------------------------------


def test_rate_search_doubles_then_bisects() -> None:
    search = RateSearch(start=2, factor=2, max_steps=10, resolution=0.15)
    limit = 11.0
    while (rate := search.next_rate()) is not None:
        search.record(rate, rate <= limit)
    assert search.tried[:4] == [(2, True), (4, True), (8, True), (16, False)]
    assert search.best is not None and 8 <= search.best <= limit
    assert search.lowest_failed is not None
    assert search.lowest_failed <= search.best * 1.15


def test_rate_search_goes_down_when_the_start_fails() -> None:
    search = RateSearch(start=4, factor=2, max_steps=3)
    search.record(4, False)
    assert search.next_rate() == 2
    search.record(2, True)
    assert search.next_rate() == pytest.approx(2.83)
    search.record(2.83, True)
    assert search.next_rate() is None  # max_steps
    assert search.best == 2.83


# -- callers ------------------------------------------------------------------------

LENGTHS = {"ar": {"ask-age": 9.0, "ask-danger": 6.0}, "en": {"ask-age": 6.0}}


def test_press_delay_by_mode() -> None:
    spoken = ["1", "2", "3"]
    assert press_delay("barge", "ask-age", "2", spoken, "ar", LENGTHS) == 0.3
    assert press_delay("end", "ask-age", "2", spoken, "ar", LENGTHS) == 9.0
    assert press_delay("option", "ask-age", "1", spoken, "ar", LENGTHS) == 3.0
    assert press_delay("option", "ask-age", "2", spoken, "en", LENGTHS) == 4.0
    assert press_delay("silent", "ask-age", "2", spoken, "en", LENGTHS) is None
    assert menu_seconds(["ask-age", "ask-danger"], "ar", LENGTHS) == 15.0


def test_caller_language_from_the_first_key() -> None:
    keys = {"1": "ar", "2": "en"}
    assert caller_language(["2", "1"], keys, "ar") == "en"
    assert caller_language([], keys, "ar") == "ar"


# -- /proc, the Asterisk log, py-spy ---------------------------------------------------


def test_parse_cpu_counts_after_the_command_name() -> None:
    stat = "1234 (python3 -m x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0"
    assert parse_cpu(stat, 100) == 3.0


def test_taskprocessor_warnings() -> None:
    lines = ["[2026-11-25 19:32:19.202] WARNING[22967][C-000003de] taskprocessor.c: "
             "Taskprocessor 'stasis/m:ari:application/balagh-bench-00000064' queue reached "
             "500 scheduled tasks (high water mark: 500).",
             "[2026-11-25 19:00:00.000] WARNING[12]: taskprocessor.c:1234 "
             "taskprocessor_push: The 'stasis/m:x' task processor queue reached 500 "
             "scheduled tasks.", "NOTICE something else"]
    assert taskprocessor_warnings(lines) == lines[:2]
    assert taskprocessor_warnings(lines, ignore="balagh-bench") == lines[1:2]


def test_py_spy_stacks() -> None:
    text = ("main (balagh/__main__.py:3);ask (/x/agi/balagh/ivr/ask.py:40);"
            "select (/usr/lib/python3.11/selectors.py:9) 7\n"
            "main (balagh/__main__.py:3);write (/v/site-packages/aiosqlite/core.py:5) 3\n")
    stacks = parse(text)
    assert [count for _, count in stacks] == [7, 3]
    assert self_time(stacks).most_common(1) == [("select (selectors.py)", 7)]
    assert inclusive(stacks)["main (balagh/__main__.py)"] == 10
    assert short("not a frame") == "not a frame"
