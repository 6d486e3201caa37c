"""Hot reload of the routing table on the sandbox PBX: good, bad, and during a live call."""

from __future__ import annotations

import asyncio

from balagh.testcall import place_call

from .conftest import answers_after, last_report_id, reload_and_wait, wait_for

ADULT_WOMAN = ["2", "2", "2", "2", "1", "0"]  # English, no danger, adult, female, Abu Dhabi


def women_to_general(path) -> None:
    text = path.read_text()
    path.write_text(text.replace("queue: women-protection", "queue: general"))


async def test_good_reload_takes_effect_for_the_next_call(settings, table_file):
    assert (await place_call(settings, "800700", ADULT_WOMAN, ahead=True)).queue == \
        "women-protection"
    women_to_general(table_file)
    history = await asyncio.to_thread(reload_and_wait, settings, "applied")
    assert "sighup: balagh routes reload by" in history
    assert (await place_call(settings, "800700", ADULT_WOMAN, ahead=True)).queue == "general"


async def test_bad_file_is_refused_and_calls_keep_the_old_table(settings, table_file):
    table_file.write_text(table_file.read_text().replace("queue: women-protection",
                                                         "queue: womens-protection"))
    history = await asyncio.to_thread(reload_and_wait, settings, "refused")
    assert "routing.yaml:" in history and "womens-protection" in history
    result = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert result.queue == "women-protection"


async def test_call_in_progress_finishes_on_the_table_it_started_with(settings, table_file):
    # A caller answering at a person's pace; the table changes after the second answer.
    before = last_report_id(settings)
    call = asyncio.create_task(place_call(settings, "800700", ADULT_WOMAN, timeout=90))
    await asyncio.to_thread(wait_for, lambda: answers_after(settings, before) >= 2,
                            timeout=60, what="the caller's second answer")
    women_to_general(table_file)
    await asyncio.to_thread(reload_and_wait, settings, "applied")
    assert not call.done()
    assert (await call).queue == "women-protection"  # the table it started with
    assert (await place_call(settings, "800700", ADULT_WOMAN, ahead=True)).queue == "general"
