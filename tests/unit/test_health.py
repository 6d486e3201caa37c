"""`balagh health`: the status it folds the lines into, the heartbeat watch, and each
probe against real stand-in servers (fake_asterisk.py): what is wrong is a line, not a crash."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.ari.liveness import heartbeat_variable
from balagh.cli import main
from balagh.config import AmiSettings, AriSettings, Settings
from balagh.health.ari_http import AriHttp
from balagh.health.heartbeat import watch
from balagh.health.probes import (
    NAMES,
    ami_check,
    ari_check,
    guarded,
    heartbeat_check,
    routing_check,
    run_probes,
)
from balagh.health.report import Check, Status, as_json, exit_code, overall, text_lines
from balagh.store import ReportStore

from .ari_description import running_modules
from .fake_asterisk import PASSWORD, USER, FakeAri, fake_ami

APP = "balagh"
WATCHDOG = "balagh-watchdog"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def ari() -> Iterator[FakeAri]:
    fake = FakeAri().start()
    yield fake
    fake.stop()


def ari_settings(fake: FakeAri, password: str = PASSWORD) -> AriSettings:
    return AriSettings(url=fake.url, app=APP, username=USER, password=password)


@pytest.fixture
async def settings(tmp_path: Path, ari: FakeAri) -> Settings:
    await (await ReportStore.open(tmp_path / "balagh.sqlite3")).close()
    return Settings(ari=ari_settings(ari),
                    ami=AmiSettings(port=closed_port(), username=USER, secret=PASSWORD),
                    data_dir=tmp_path, pbx_dir=tmp_path / "no-sandbox")


# ------------------------------------------------------------------ status and output


def test_the_worst_line_decides_the_status_and_exit_code() -> None:
    ok = Check("ari", Status.OK, "up")
    warn = Check("watchdog", Status.DEGRADED, "not running")
    down = Check("app", Status.DOWN, "not beating")
    assert (overall([ok]), exit_code([ok])) == (Status.OK, 0)
    assert (overall([ok, warn]), exit_code([ok, warn])) == (Status.DEGRADED, 1)
    assert (overall([warn, down, ok]), exit_code([warn, down, ok])) == (Status.DOWN, 2)


def test_one_aligned_line_per_check_then_the_verdict() -> None:
    lines = text_lines([Check("ari", Status.OK, "Asterisk 22"),
                        Check("watchdog", Status.DEGRADED, "not running")])
    assert lines == ["ari       ok    Asterisk 22",
                     "watchdog  warn  not running",
                     "health    DEGRADED (exit 1)"]


def test_json_names_each_check_with_its_details() -> None:
    document = json.loads(as_json([Check("store", Status.OK, "fine", {"spool_depth": 0}),
                                   Check("app", Status.DOWN, "silent")]))
    assert document["status"] == "down" and document["exit_code"] == 2
    assert document["checks"]["store"] == {"status": "ok", "summary": "fine", "spool_depth": 0}
    assert document["checks"]["app"]["status"] == "down"


# ------------------------------------------------------------------ heartbeat watch


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_a_heartbeat_that_changes_is_seen_at_the_first_change() -> None:
    fake_time, values = FakeTime(), iter(["p-1", "p-1", "p-2", "p-3"])

    async def read() -> str | None:
        return next(values)

    beat = await watch(read, window=2.5, poll=0.3, clock=fake_time.clock, sleep=fake_time.sleep)
    assert beat.beating and (beat.first, beat.last) == ("p-1", "p-2")
    assert beat.seconds == pytest.approx(0.6)  # stopped at the change, not the window's end


async def test_a_heartbeat_that_stands_still_is_watched_for_the_whole_window() -> None:
    fake_time = FakeTime()
    reads = 0

    async def read() -> str | None:
        nonlocal reads
        reads += 1
        return "p-7"

    beat = await watch(read, window=2.5, poll=0.3, clock=fake_time.clock, sleep=fake_time.sleep)
    assert not beat.beating and not beat.never_set
    assert beat.seconds >= 2.5 and reads == 10


async def test_a_heartbeat_never_written_and_one_that_disappears() -> None:
    fake_time = FakeTime()

    async def unset() -> str | None:
        return None

    beat = await watch(unset, window=1.0, clock=fake_time.clock, sleep=fake_time.sleep)
    assert beat.never_set and not beat.beating
    values = iter(["p-1", None, None, None, None])

    async def vanishing() -> str | None:
        return next(values)

    beat = await watch(vanishing, window=1.0, clock=fake_time.clock, sleep=fake_time.sleep)
    assert not beat.beating and not beat.never_set  # a reset variable is not a beat


# ------------------------------------------------------------------ probes, against fakes


async def test_ari_reachable_with_the_app_s_credentials(ari: FakeAri) -> None:
    settings = Settings(ari=ari_settings(ari))
    async with AriHttp(settings.ari) as client:
        check = await guarded("ari", ari_check(client, settings), 5)
    assert check.status is Status.OK and "Asterisk 22.5.2" in check.summary


async def test_ari_lacking_an_operation_the_app_sends_is_down_and_names_it(
        ari: FakeAri) -> None:
    ari.modules = running_modules(without={"res_stasis_snoop"})
    settings = Settings(ari=ari_settings(ari))
    async with AriHttp(settings.ari) as client:
        check = await guarded("ari", ari_check(client, settings), 5)
    assert check.status is Status.DOWN
    assert check.summary.endswith("does not offer what Balagh sends: res_stasis_snoop "
                                  "not loaded (channels.snoopChannelWithId)")
    assert check.data["missing"] == [
        "res_stasis_snoop not loaded (channels.snoopChannelWithId)"]


async def test_ari_refusing_the_credentials_is_down_and_says_so(ari: FakeAri) -> None:
    settings = Settings(ari=ari_settings(ari, password="wrong"))
    async with AriHttp(settings.ari) as client:
        check = await guarded("ari", ari_check(client, settings), 5)
    assert check.status is Status.DOWN and "refused the credentials (401)" in check.summary


async def test_ari_not_answering_in_time_is_a_line_not_a_hang(ari: FakeAri) -> None:
    ari.delay = 2.0
    settings = Settings(ari=ari_settings(ari))
    async with AriHttp(settings.ari, timeout=0.3) as client:
        check = await guarded("ari", ari_check(client, settings), 5)
    assert check.status is Status.DOWN and "no answer from" in check.summary
    async with AriHttp(settings.ari, timeout=5) as client:  # the probe's own bound
        check = await guarded("ari", ari_check(client, settings), 0.3)
    assert check.status is Status.DOWN and check.summary == "no answer within 0.3 s"


async def test_ari_unreachable(ari: FakeAri) -> None:
    settings = Settings(ari=AriSettings(url=f"http://127.0.0.1:{closed_port()}/"))
    async with AriHttp(settings.ari) as client:
        check = await guarded("ari", ari_check(client, settings), 5)
    assert check.status is Status.DOWN and check.summary.startswith("cannot reach")


async def test_a_beating_app_with_its_calls_in_progress(ari: FakeAri) -> None:
    ari.beating.add(heartbeat_variable(APP))
    ari.channels[APP] = ["1700000000.1", "1700000000.2"]
    async with AriHttp(ari_settings(ari)) as client:
        check = await heartbeat_check("app", client, APP, silent=Status.DOWN, held=True)
    assert check.status is Status.OK
    assert check.summary == "balagh beating; 2 call(s) in progress"
    assert check.data["channels"] == 2 and check.data["beating"] is True


async def test_a_silent_app_holding_callers_is_down(ari: FakeAri) -> None:
    ari.variables[heartbeat_variable(APP)] = "1234-abc-99"
    ari.channels[APP] = ["1700000000.3"]
    async with AriHttp(ari_settings(ari)) as client:
        check = await heartbeat_check("app", client, APP, silent=Status.DOWN, held=True,
                                      window=0.6)
    assert check.status is Status.DOWN
    assert "not beating: heartbeat unchanged" in check.summary
    assert "1 caller(s) held in it" in check.summary


async def test_a_watchdog_never_started_is_a_warning(ari: FakeAri) -> None:
    async with AriHttp(ari_settings(ari)) as client:
        check = await heartbeat_check("watchdog", client, WATCHDOG, silent=Status.DEGRADED,
                                      held=False, window=0.6)
    assert check.status is Status.DEGRADED
    assert check.summary == "balagh-watchdog not running (no heartbeat since Asterisk started)"


async def test_ami_login_accepted_refused_and_unreachable() -> None:
    async with fake_ami() as port:
        check = await guarded("ami", ami_check(AmiSettings(port=port, secret="x")), 5)
    assert check.status is Status.OK and f"127.0.0.1:{port}" in check.summary
    async with fake_ami(accept=False) as port:
        check = await guarded("ami", ami_check(AmiSettings(port=port, secret="bad")), 5)
    assert check.status is Status.DEGRADED and "failed" in check.summary
    check = await guarded("ami", ami_check(AmiSettings(port=closed_port())), 5)
    assert check.status is Status.DEGRADED and "Connect call failed" in check.summary


def test_the_routing_line_counts_rules_and_shows_the_app_s_last_load(
        settings: Settings) -> None:
    with sqlite3.connect(settings.database) as db:
        db.execute("INSERT INTO routing_reloads (at, file, trigger, outcome, rules)"
                   " VALUES ('2026-11-25T16:00:00+00:00', 'routing.yaml', 'sighup',"
                   " 'applied', 6)")
    check = routing_check(settings)
    assert check.status is Status.OK and check.data["rules"] > 0
    assert "last load: applied at 2026-11-25T16:00:00+00:00 (sighup)" in check.summary


async def test_a_broken_routing_table_is_a_degraded_line(settings: Settings,
                                                         tmp_path: Path) -> None:
    broken = tmp_path / "routing.yaml"
    broken.write_text("queues: [general]\nrules: {}\n")
    checks = await run_probes(replace(settings, routing_file=broken), only=["routing"])
    assert [(c.name, c.status) for c in checks] == [("routing", Status.DEGRADED)]
    assert "routing.yaml" in checks[0].summary


# ------------------------------------------------------------------ the command


async def test_all_well_is_exit_0_with_a_line_each(settings: Settings, ari: FakeAri) -> None:
    ari.beating.update({heartbeat_variable(APP), heartbeat_variable(WATCHDOG)})
    ari.channels[APP] = []
    async with fake_ami() as port:
        # The prompts line has its own tests (test_health_prompts.py): the shipped ones
        # are placeholders, a warning by design.
        checks = await run_probes(replace(settings, ami=replace(settings.ami, port=port)),
                                  only=[name for name in NAMES if name != "prompts"])
    assert [c.name for c in checks] == ["ari", "ami", "app", "watchdog", "store", "config",
                                        "menu", "routing"]
    assert {c.name: c.status for c in checks if c.status is not Status.OK} == {}
    assert exit_code(checks) == 0


def test_the_command_exits_2_when_asterisk_is_away(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BALAGH_ARI_URL", f"http://127.0.0.1:{closed_port()}/")
    monkeypatch.setenv("BALAGH_AMI_PORT", str(closed_port()))
    assert main(["health", "--only", "ari,ami,app,store"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ari", "DOWN"], ["ami", "warn"], ["app", "DOWN"], ["store", "warn"],
        ["health", "DOWN"]]
    assert "MISSING" in lines[3]  # no database in an empty data folder: said, not created
    assert not (tmp_path / "balagh.sqlite3").exists()
