"""The IVR figures: Balagh and the native dialplan side by side, on the sandbox PBX.

Phases: typed-ahead callers one at a time; first-time and silent callers; 1/50/200
simultaneous callers who press each key as its prompt starts; the highest new-call
rate held for a step with no failed call and no taskprocessor warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callers import menu_seconds, prompt_lengths
from children import die_with_parent
from figures import Summary, ratio, summarise, verdict
from loadgen import APP, Bench, CallRun, CallSpec
from procstat import LogWatch, cpu_seconds, rss_kib, taskprocessor_warnings
from profile_stacks import top_frames
from ratesearch import RateSearch

from balagh.config import CONFIG_DIR, Settings
from balagh.ivr.flow import TYPING_PAUSE_SECONDS
from balagh.ivr.menu import load_menu
from balagh.pbx.sandbox import Sandbox

QUICK = os.environ.get("BENCH_QUICK") == "1"  # development: small steps, short rate steps
# Development: only some phases, e.g. BENCH_PHASES=ahead,simultaneous
PHASES = set(os.environ.get("BENCH_PHASES", "ahead,first,simultaneous,rates").split(","))
SYSTEMS = {"balagh": "balagh-inbound", "native": "bench-native"}
EN_WOMAN = ["2", "2", "2", "2", "1", "0"]  # English, no danger, adult, female, Abu Dhabi
AR_WOMAN = ["1", *EN_WOMAN[1:]]
EXPECTED_QUEUE = "women-protection"
AHEAD_CALLS = 5 if QUICK else 10
CONCURRENCY = tuple(int(n) for n in os.environ.get(
    "BENCH_CALLERS", "1,10,20" if QUICK else "1,50,200").split(","))
RAMP_PER_SECOND = 25.0     # simultaneous callers are started this fast
PRESCAN_SECONDS = 8 if QUICK else 10
RATE_SECONDS = 15 if QUICK else 60
CONFIRM_STEPS = 4  # 60 s steps: down by 1.25 from the pre-scan until one holds, then between


@dataclass
class Profile:
    process: subprocess.Popen[bytes]
    out: Path


@dataclass
class Row:
    figure: str
    balagh: str
    native: str = "-"
    ratio: str = "-"
    target: str = "-"
    verdict: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _s(summary: Summary | None, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
    return "-" if summary is None else summary.text(unit, scale, digits)


def _ratio(a: Summary | None, b: Summary | None) -> str:
    value = ratio(a.median if a else None, b.median if b else None)
    return "-" if value is None else f"{value:.2f} (medians)"


def _routed(runs: Sequence[CallRun]) -> list[CallRun]:
    return [run for run in runs if run.ok and run.timeline.queue == EXPECTED_QUEUE]


def _values(runs: Sequence[CallRun], what: str) -> list[float]:
    values = (getattr(run.timeline, what)() for run in runs)
    return [v for v in values if v is not None]


class IvrBench:
    def __init__(self, settings: Settings, sandbox: Sandbox, app_pid: int,
                 profile_dir: Path) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self.app_pid = app_pid
        self.profile_dir = profile_dir
        self.menu = load_menu(CONFIG_DIR / "ivr.yaml")
        self.lengths = prompt_lengths(settings.sounds_dir, self.menu.languages)
        self.log = LogWatch(sandbox.root / "var/log/asterisk/messages.log")
        self.out = Results()

    def row(self, *args: str) -> None:
        self.out.rows.append(Row(*args))
        print("|", " | ".join(args), "|", flush=True)

    async def run(self) -> Results:
        async with Bench(self.settings, self.menu, self.lengths) as bench:
            await self._phases([("ahead", self.typed_ahead(bench)),
                                ("first", self.first_time(bench)),
                                *(("simultaneous", self.simultaneous(bench, callers))
                                  for callers in CONCURRENCY)])
        # After that bench has gone: its app watches every channel (subscribeAll), and
        # Asterisk would go on turning every rate step's events into JSON for it.
        await self._phases([("rates", self.rates_lightly_watched())])
        return self.out

    async def _phases(self, phases: list[tuple[str, Coroutine[Any, Any, None]]]) -> None:
        for name, phase in phases:
            if name not in PHASES:
                phase.close()
                continue
            # One phase going wrong must not lose the others' figures.
            try:
                await phase
            except Exception as exc:
                self.out.notes.append(f"The {name} phase failed: {exc!r}")
                print(f"phase {name} failed: {exc!r}", flush=True)

    # -- phases --------------------------------------------------------------------

    async def typed_ahead(self, bench: Bench) -> None:
        found: dict[str, list[CallRun]] = {}
        for system, context in SYSTEMS.items():
            found[system] = [await bench.place(CallSpec(context, EN_WOMAN, "ahead", 20))
                             for _ in range(AHEAD_CALLS)]
        a, n = (summarise(_values(_routed(found[s]), "answer_to_queue")) for s in SYSTEMS)
        self.row(f"typed-ahead caller, answer to queue join ({AHEAD_CALLS} calls one at a "
                 f"time, routed {len(_routed(found['balagh']))} / "
                 f"{len(_routed(found['native']))})", _s(a), _s(n), _ratio(a, n),
                 "< 1.5 s (max)", verdict(a.max if a else None, 1.5))

    async def first_time(self, bench: Bench) -> None:
        """First-time callers (at their option; every prompt to its end) and silent ones,
        all at once: a dozen calls is no load, and it takes the longest call's time."""
        kinds = {"ar-option": (AR_WOMAN, "option", 3), "en-option": (EN_WOMAN, "option", 3),
                 "ar-end": (AR_WOMAN, "end", 2), "silent": ([], "silent", 2)}
        plans = [(system, kind, CallSpec(context, keys, mode, 240))
                 for system, context in SYSTEMS.items()
                 for kind, (keys, mode, count) in kinds.items() for _ in range(count)]
        runs = await asyncio.gather(*(bench.place(spec) for _, _, spec in plans))
        by: dict[tuple[str, str], list[CallRun]] = {}
        for (system, kind, _), run in zip(plans, runs, strict=True):
            by.setdefault((system, kind), []).append(run)
        heard = menu_seconds([q.prompt for q in self.menu.questions], "ar", self.lengths)
        labels = {
            "ar-option": ("first-time caller in Arabic, pressing at their option, answer to "
                          "queue join", "median < 30 s", 30.0),
            "en-option": ("first-time caller in English, pressing at their option, answer "
                          "to queue join", "median < 30 s", 30.0),
            "ar-end": (f"whole Arabic menu heard to the end (prompts alone {heard:.1f} s), "
                       "answer to queue join", "median < 45 s", 45.0),
            "silent": ("caller who presses nothing, answer to reaching a queue",
                       "median < 30 s", 30.0),
        }
        for kind, (label, target, limit) in labels.items():
            done = {s: [r for r in by[(s, kind)] if r.ok] for s in SYSTEMS}
            a, n = (summarise(_values(done[s], "answer_to_queue")) for s in SYSTEMS)
            queues = sorted({r.timeline.queue or "-" for r in done["balagh"]})
            self.row(f"{label} ({len(done['balagh'])}/{len(by[('balagh', kind)])} calls, "
                     f"queue {', '.join(queues)})", _s(a), _s(n), _ratio(a, n), target,
                     verdict(a.median if a else None, limit))

    async def simultaneous(self, bench: Bench, callers: int) -> None:
        """`callers` Arabic callers at once, each key pressed as its prompt starts."""
        found: dict[str, list[CallRun]] = {}
        memory = ""
        for system, context in SYSTEMS.items():
            await bench.listening()
            spec = CallSpec(context, AR_WOMAN, "barge", 120)
            rss_before, cpu_before = rss_kib(self.app_pid), cpu_seconds(self.app_pid)
            peak = {"active": 0, "rss": rss_before}
            sampler = asyncio.create_task(self._sample(bench, peak))
            profiler = (self._profile(f"{callers}-callers")
                        if system == "balagh" and callers == max(CONCURRENCY) else None)
            found[system] = await bench.burst([spec] * callers, RAMP_PER_SECOND)
            sampler.cancel()
            if system == "balagh":
                cpu = cpu_seconds(self.app_pid) - cpu_before
                per_call = (peak["rss"] - rss_before) / max(1, peak["active"])
                memory = (f"app RSS {rss_before / 1024:.0f} -> {peak['rss'] / 1024:.0f} MiB at "
                          f"{peak['active']} concurrent calls: {per_call:.0f} KiB per call; "
                          f"app CPU {cpu * 1000 / max(1, callers):.0f} ms per call")
                self.row(f"memory and CPU, {callers} simultaneous callers", memory, "-", "-",
                         "< 200 KB per concurrent call" if callers >= 50 else "-",
                         verdict(per_call, 200) if callers >= 50 else "")
            if profiler is not None:
                self._profile_done(profiler, f"{callers} simultaneous callers")
        warnings = taskprocessor_warnings(self.log.new_lines(), ignore=APP)
        a, n = (_routed(found[s]) for s in SYSTEMS)
        la, ln = (summarise(_values(r, "last_key_to_queue")) for r in (a, n))
        self.row(f"last key to queue join, {callers} simultaneous callers (routed "
                 f"{len(a)}/{callers} Balagh, {len(n)}/{callers} native; taskprocessor "
                 f"warnings {len(warnings)})", _s(la), _s(ln), _ratio(la, ln),
                 "< 1.5 s for every caller (max)",
                 verdict(la.max if la and len(a) == callers else None, 1.5))
        digit = summarise([v for run in a for v in run.timeline.digit_to_action()])
        self.row(f"digit to the app's next ARI action, {callers} simultaneous callers",
                 _s(digit, "ms", 1000, 0), "-", "-",
                 "p99 < 50 ms at 200" if callers == 200 else "-",
                 verdict(digit.p99 * 1000 if digit else None, 50) if callers == 200 else "")

    async def _sample(self, bench: Bench, peak: dict[str, int]) -> None:
        while True:
            await asyncio.sleep(0.25)
            if bench.active >= peak["active"]:
                peak["active"] = bench.active
                peak["rss"] = max(peak["rss"], rss_kib(self.app_pid))

    def _profile(self, name: str, seconds: int = 20) -> Profile | None:
        """py-spy on the app for `seconds` (sampling from outside: the app runs as is)."""
        spy = Path(sys.executable).parent / "py-spy"
        if not spy.exists():
            return None
        out = self.profile_dir / f"py-spy-{name}.txt"
        process = subprocess.Popen([str(spy), "record", "-p", str(self.app_pid), "-d",
                                    str(seconds), "-r", "100", "-f", "raw", "-o", str(out),
                                    "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   preexec_fn=die_with_parent)
        return Profile(process, out)

    def _profile_done(self, profile: Profile, what: str) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            profile.process.wait(60)
        if profile.out.exists():
            self.out.notes.append(top_frames(profile.out.read_text(), what))

    async def rates_lightly_watched(self) -> None:
        """The rate search, with the hotline legs watched only for their queue join."""
        async with Bench(self.settings, self.menu, self.lengths, light=True) as bench:
            await self.rates(bench)
        self.out.notes.append(
            "Rate steps watch the hotline legs lightly (bench/loadgen.py, light): not over "
            "ARI, a call counts as routed at AMI's QueueCallerJoin and as answered at its "
            "caller half's StasisStart, so answer to queue there includes AMI's delivery.")

    async def rates(self, bench: Bench) -> None:
        best: dict[str, float | None] = {}
        self.bench_limited: set[str] = set()
        for system, context in SYSTEMS.items():
            spec = CallSpec(context, EN_WOMAN, "ahead", 15)
            # A short pre-scan brackets the rate; full-length steps then confirm it.
            scan = RateSearch(start=4.0, factor=2.0, max_steps=5, resolution=0.3)
            while (rate := scan.next_rate()) is not None:
                scan.record(rate, (await self._rate_step(bench, spec, rate,
                                                         PRESCAN_SECONDS))[0])
            # A longer step is harder to hold: start a little under the pre-scan's best.
            start = round(0.8 * (scan.best or 1.25), 2)
            confirm = RateSearch(start=start, factor=1.25, max_steps=CONFIRM_STEPS,
                                 resolution=0.1)
            detail = ""
            while (rate := confirm.next_rate()) is not None:
                profile = (self._profile("rate") if system == "balagh" and not confirm.tried
                           else None)
                ok, detail_now = await self._rate_step(bench, spec, rate, RATE_SECONDS)
                if profile is not None:
                    self._profile_done(profile, f"typed-ahead callers at {rate:g}/s")
                confirm.record(rate, ok)
                if ok and rate == confirm.best:
                    detail = detail_now
            best[system] = confirm.best
            tried = ", ".join(f"{r:g}/s {'ok' if ok else 'failed'}" for r, ok in scan.tried)
            held = ", ".join(f"{r:g}/s {'ok' if ok else 'failed'}" for r, ok in confirm.tried)
            self.out.notes.append(f"Rate search, {system}: {PRESCAN_SECONDS} s pre-scan "
                                  f"{tried}; {RATE_SECONDS} s steps {held}. {detail}")
        value = ratio(best["balagh"], best["native"])

        def held(system: str) -> str:
            # A step the bench itself could not follow says nothing of the IVR's limit.
            limited = SYSTEMS[system] in self.bench_limited
            return (f"{'>= ' if limited else ''}{best[system] or 0:g} calls/s"
                    f"{' (the bench was the limit above)' if limited else ''}")

        # A rate the bench could not follow above is a floor: the ratio is then only a
        # bound, and says nothing when it falls on the target's side of that bound.
        judged = verdict(value, 0.8, below=False)
        if value is not None and (
                (SYSTEMS["native"] in self.bench_limited and value >= 0.8)
                or (SYSTEMS["balagh"] in self.bench_limited and value < 0.8)):
            judged = "not measured (the bench was the limit)"
        self.row(f"highest new-call rate held {RATE_SECONDS} s, typed-ahead callers, no "
                 "failed call, no taskprocessor warning",
                 held("balagh"), held("native"),
                 "-" if value is None else f"{value:.2f}", "ratio >= 0.8", judged)

    def _other_cpu(self) -> tuple[float, float]:
        """CPU seconds so far of Asterisk and of this load process."""
        asterisk = 0.0
        for pid_file in ("run/asterisk/asterisk.pid", "var/run/asterisk/asterisk.pid"):
            with contextlib.suppress(OSError, ValueError):
                asterisk = cpu_seconds(int((self.sandbox.root / pid_file).read_text()))
                break
        return asterisk, cpu_seconds(os.getpid())

    async def _rate_step(self, bench: Bench, spec: CallSpec, rate: float,
                         seconds: float) -> tuple[bool, str]:
        await bench.listening()
        self.log.new_lines()
        lost_before = bench.ws_lost
        cpu_before = cpu_seconds(self.app_pid)
        others_before = self._other_cpu()
        started = time.monotonic()
        runs = await bench.steady(spec, rate, seconds)
        await asyncio.sleep(1)
        lines = self.log.new_lines()
        warnings = taskprocessor_warnings(lines, ignore=APP)
        # The bench's own app falling behind is a limit of the load process, not of the IVR;
        # the step cannot count as held (its calls were not seen), and the note says why.
        observer = len(taskprocessor_warnings(lines)) - len(warnings)
        observer += bench.ws_lost - lost_before
        routed = _routed(runs)
        errors = Counter(run.error or f"queue {run.timeline.queue}" for run in runs
                         if run not in routed)
        ok = len(routed) == len(runs) and not warnings and not observer
        if observer:
            self.bench_limited.add(spec.context)
        times = _values(routed, "answer_to_queue")
        # Keys sent 0.2 s apart reach the hotline further apart when Asterisk is loaded;
        # past the menu's typing pause, a typed-ahead caller hears prompts again.
        gaps = _values(runs, "longest_key_gap")
        slow = sum(gap > TYPING_PAUSE_SECONDS for gap in gaps)
        cpu = (cpu_seconds(self.app_pid) - cpu_before) / max(1, len(runs))
        wall = time.monotonic() - started
        asterisk, loader = (
            (after - before) / wall * 100
            for before, after in zip(others_before, self._other_cpu(), strict=True))
        app_cpu = (f", app CPU {cpu * 1000:.0f} ms per call"
                   if spec.context == SYSTEMS["balagh"] else "")
        detail = (f"At {rate:g}/s: {len(routed)}/{len(runs)} routed in "
                  f"{time.monotonic() - started:.0f} s, answer to queue median "
                  f"{statistics.median(times) if times else 0:.2f} s, max "
                  f"{max(times) if times else 0:.2f} s"
                  + (f", {slow} calls with keys over {TYPING_PAUSE_SECONDS} s apart"
                     if gaps else "")  # the keys as received are not watched lightly
                  + f"{app_cpu}, Asterisk {asterisk:.0f}% "
                  f"CPU, the bench's load process {loader:.0f}%, taskprocessor warnings "
                  f"{len(warnings)}"
                  + (f", failed: {dict(errors)}" if errors else "")
                  + (f", THE BENCH'S OWN websocket fell behind ({observer}x)" if observer
                     else "") + ".")
        print(f"  rate {spec.context} {rate:g}/s x {seconds:g}s: "
              f"{'ok' if ok else 'FAILED'} - {detail}", flush=True)
        return ok, detail
