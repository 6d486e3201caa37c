"""Every load of the live hotline reaches its recorder as one ReloadAttempt, each field
said once, with the same values routing_reloads has always been given."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from balagh.hotline import APPLIED, REFUSED, HotlineFiles, LiveHotline
from balagh.vocabulary import ReloadAttempt

from .shipped import CONFIG_DIR, IVR_FILE

T0 = datetime(2026, 12, 7, 10, tzinfo=UTC)


class Attempts:
    """A recorder that keeps what it is handed."""

    def __init__(self) -> None:
        self.seen: list[ReloadAttempt] = []

    def record_reload(self, attempt: ReloadAttempt) -> None:
        self.seen.append(attempt)


async def test_each_load_is_one_attempt_with_the_tables_file_hash_and_outcome(
        tmp_path: Path) -> None:
    for name in ("routing.yaml", "locations.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    routing = tmp_path / "routing.yaml"
    recorder = Attempts()
    live = LiveHotline(HotlineFiles(ivr=IVR_FILE, routing=routing,
                                    handover=tmp_path / "handover.yaml",
                                    supervisors=tmp_path / "supervisors.yaml"),
                       {}, recorder, clock=lambda: T0)
    started = live.sha256
    routing.write_text(routing.read_text().replace("queue: child-protection",
                                                   "queue: child-protecton"))
    assert await live.reload("sighup") == REFUSED
    assert recorder.seen[0] == ReloadAttempt(file=str(routing), sha256=started,
                                             trigger="startup", outcome=APPLIED,
                                             rules=len(live.current.table.rules), error=None,
                                             at=T0)
    refused = recorder.seen[1]
    assert (refused.file, refused.trigger, refused.outcome, refused.rules, refused.at) == \
        (str(routing), "sighup", REFUSED, None, T0)
    assert refused.sha256 is not None and refused.sha256 != started
    assert refused.error is not None and "child-protecton" in refused.error
    assert len(recorder.seen) == 2
